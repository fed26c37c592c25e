"""`claude-tui ui` and `history` argument handling that needs no running server (one line, exit 2)."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner

from claude_tui.cli import main


def test_ui_status_when_not_running(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ui", "status", "--tracking-uri", f"sqlite:///{tmp_path}/m.db"])
    assert (result.exit_code, result.output) == (1, "MLflow UI is not running\n")


def test_ui_stop_when_not_running(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ui", "stop", "--tracking-uri", f"sqlite:///{tmp_path}/m.db"])
    assert (result.exit_code, result.output) == (0, "MLflow UI is not running\n")


def test_ui_start_on_a_busy_port_is_one_line_exit_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            main, ["ui", "start", "--port", str(port), "--tracking-uri", f"sqlite:///{tmp_path}/m.db"]
        )
    assert result.exit_code == 2
    assert result.output == f"claude-tui ui: port {port} on 127.0.0.1 is in use\n"


def test_ui_remote_store_points_at_its_own_ui() -> None:
    result = CliRunner().invoke(main, ["ui", "status", "--tracking-uri", "http://127.0.0.1:5123/"])
    assert (result.exit_code, result.output) == (0, "http://127.0.0.1:5123\n")


def test_history_on_unreachable_store_is_one_line_exit_2() -> None:
    result = CliRunner().invoke(main, ["history", "--tracking-uri", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert result.output == "claude-tui history: cannot reach tracking server http://127.0.0.1:9\n"


def test_ui_bad_port_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["ui", "start", "--port", "70000"])
    assert result.exit_code == 2 and "70000" in result.output
