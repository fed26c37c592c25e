"""The command line: help, argument splitting, and clear errors (run in-process with click's runner)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from claude_tui import cli
from claude_tui.commands import run as run_module


def run_and_list_loaded(code: str, modules: tuple[str, ...]) -> tuple[str, list[str]]:
    """Run `code` in a fresh interpreter: what it printed, and which of `modules` it had imported."""
    probe = f"\nimport sys; print('LOADED', [m for m in {modules!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", code + probe], capture_output=True, text=True, check=True
    ).stdout
    printed, _, loaded = out.rpartition("LOADED ")
    return printed, ast.literal_eval(loaded.strip())


def test_help_lists_every_command_without_importing_them() -> None:
    code = (
        "from click.testing import CliRunner; from claude_tui.cli import main;"
        "print(CliRunner().invoke(main, ['--help']).output)"
    )
    out, loaded = run_and_list_loaded(code, ("textual", "mlflow", "pyte"))
    for name in cli.SUBCOMMANDS:
        assert name in out
    assert loaded == []


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace the app launch with a recorder of the SessionConfig it would run."""
    seen: dict[str, Any] = {}

    def fake_run_session(config: Any, **kwargs: Any) -> int:
        seen["config"] = config
        return 0

    monkeypatch.setattr(run_module, "run_session", fake_run_session)
    return seen


@pytest.mark.parametrize(
    ("argv", "prompt", "claude_args"),
    [
        (["fix the bug"], "fix the bug", []),
        (["run", "fix the bug"], "fix the bug", []),
        (["fix it", "--", "--model", "opus"], "fix it", ["--model", "opus"]),
        (["--", "--model", "opus"], None, ["--model", "opus"]),
        ([], None, []),
    ],
)
def test_prompt_and_claude_args(
    captured: dict[str, Any], argv: list[str], prompt: str | None, claude_args: list[str]
) -> None:
    result = CliRunner().invoke(cli.main, argv)
    assert result.exit_code == 0, result.output
    config = captured["config"]
    assert config.prompt == prompt
    assert config.claude_args == claude_args


def test_options_reach_the_session_config(captured: dict[str, Any], tmp_path: Path) -> None:
    argv = [
        "--command", "bash", "-C", str(tmp_path), "--tag", "team=core", "--tag", "kind=a=b",
        "--issue", "123", "--procedure", "close-issue", "--experiment", "exp", "--tracking-uri", "sqlite:///x.db",
        "--alert", "errors>=3", "--no-redact", "hello",
    ]  # fmt: skip
    result = CliRunner().invoke(cli.main, argv)
    assert result.exit_code == 0, result.output
    config = captured["config"]
    assert config.command == "bash" and config.cwd == tmp_path.resolve()
    assert config.tags == {"team": "core", "kind": "a=b"}
    assert (config.issue_number, config.procedure_name) == ("123", "close-issue")
    assert (config.experiment, config.tracking_uri) == ("exp", "sqlite:///x.db")
    assert [str(a) for a in config.alerts] == ["errors>=3"]
    assert config.redact is False and config.track is True and config.prompt == "hello"


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--tag", "novalue"], "KEY=VALUE"), (["--alert", "errors>>3"], "cannot read alert")],
)
def test_bad_options_exit_2(captured: dict[str, Any], argv: list[str], message: str) -> None:
    result = CliRunner().invoke(cli.main, argv)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_program_exits_2_with_install_hint(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.main, ["--command", str(tmp_path / "claude"), "hi"])
    assert result.exit_code == 2
    assert "npm install -g @anthropic-ai/claude-code" in result.output
    assert "--command" in result.output


def test_missing_other_program_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.main, ["--command", "no-such-program-xyz"])
    assert result.exit_code == 2
    assert "no-such-program-xyz" in result.output


def test_parse_tags_rejects_empty_key() -> None:
    with pytest.raises(click.BadParameter):
        run_module.parse_tags(("=value",))


def test_spawn_path_loads_no_parser_emulator_or_ui() -> None:
    """`run_session` spawns the program from what these imports give; the rest loads after (start-up time)."""
    code = (
        "import claude_tui.launch, claude_tui.cli, claude_tui.commands.run, claude_tui.terminal.pty_session"
    )
    heavy = (
        "textual",
        "mlflow",
        "pyte",
        "claude_tui.parsing",
        "claude_tui.terminal.emulator",
        "click.testing",
        "genai_prices",
        "tree_sitter",
    )
    assert run_and_list_loaded(code, (*heavy, "claude_tui.tracking.spool"))[1] == []


def test_first_frame_path_leaves_later_parts_unloaded(tmp_path: Path) -> None:
    """What the first frame does not show (the counters' sparkline, the logging screen, the History tab's
    widgets) and a settings parser without a settings file are not imported before it."""
    code = (
        f"import os; os.environ['CLAUDE_TUI_CONFIG'] = {str(tmp_path / 'none.toml')!r}\n"
        "from claude_tui.config import load_settings; load_settings()\n"
        "import claude_tui.app"
    )
    later = (
        "tomllib",
        "textual.widgets._sparkline",
        "textual.widgets._tabbed_content",
        "claude_tui.screens.logging",
        "claude_tui.widgets.history",
        "mlflow",
        "genai_prices",
        "tree_sitter",
    )
    _, loaded = run_and_list_loaded(code, (*later, "claude_tui.widgets.sidebar"))
    assert loaded == ["claude_tui.widgets.sidebar"]  # the probe itself works


def test_unwritable_spool_ends_the_spawned_program_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The program is already running when the spool fails (disk full): it must not be left behind."""
    from claude_tui.session import TrackedSession
    from claude_tui.terminal.pty_session import PtySession

    spawned: list[PtySession] = []
    real_spawn = PtySession.spawn

    def spawn(*args: Any, **kwargs: Any) -> PtySession:
        spawned.append(real_spawn(*args, **kwargs))
        return spawned[-1]

    def full_disk(self: TrackedSession, cols: int, rows: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(PtySession, "spawn", staticmethod(spawn))
    monkeypatch.setattr(TrackedSession, "start", full_disk)
    result = CliRunner().invoke(cli.main, ["--command", "sleep", "--", "30"])
    assert result.exit_code == 2
    assert "cannot create the session record" in result.output and "No space left" in result.output
    assert len(spawned) == 1 and spawned[0].poll() is not None  # ended, not orphaned


def test_a_session_builds_its_parsers_at_the_first_poll() -> None:
    """Until Claude has drawn (about a second), the session costs no parser import (docs/startup.md)."""
    code = (
        "from pathlib import Path; from claude_tui.session import SessionConfig, TrackedSession;"
        "s = TrackedSession(SessionConfig(command='sh', cwd=Path('/'), track=False), argv=['sh']);"
        "print(s.title)"
    )
    out, loaded = run_and_list_loaded(code, ("claude_tui.parsing",))
    assert (out.strip(), loaded) == ("sh", [])
    out, loaded = run_and_list_loaded(code + "; s.poll(['x'], final=True); print(s.stats['tool_uses'])", ())
    assert out.split() == ["sh", "0"]
