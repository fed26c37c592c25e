"""Reading real logged sessions back: `claude-tui export` (CSV, JSON, filters, errors) and the History pane.

The store holds a session of the real CLI logged by `tracking.logger.log_spool` plus the sample sessions.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from claude_tui.tracking.logger import log_spool
from tests.helpers import wait_for
from tests.support.synthetic import SAMPLE_SESSIONS, log_sessions


def claude_tui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claude_tui", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=dict(os.environ),
    )


@pytest.fixture
def logged_store(real_session: Callable[[str], Any], make_spool: Callable[..., Any], store_uri: str) -> Any:
    session = real_session("realistic")
    logged = log_spool(
        make_spool(session, issue_number="123", procedure_name="close-issue"), tracking_uri=store_uri
    )
    log_sessions(store_uri, "claude-sessions", SAMPLE_SESSIONS, artifacts=False)
    return store_uri, logged, session


def test_csv_and_json_hold_every_session(logged_store: Any, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    uri, logged, session = logged_store
    out = claude_tui("export", "--tracking-uri", uri, "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == len(SAMPLE_SESSIONS) + 1
    real = next(r for r in rows if r["run_id"] == logged.run_id)
    run = MlflowClient(uri).get_run(logged.run_id)
    # Every param, metric and tag of the run is a column, with the store's value.
    for key, param in run.data.params.items():
        assert real[f"params.{key}"] == param
    for key, metric in run.data.metrics.items():
        assert float(real[f"metrics.{key}"]) == metric
    for key, tag in run.data.tags.items():
        assert real[f"tags.{key}"] == tag
    assert real["params.session_id"] == session.session_id
    assert real["tags.type"] == "claude_session"

    target = tmp_path / "sessions.json"
    out = claude_tui("export", "--tracking-uri", uri, "--format", "json", "--output", str(target))
    assert out.returncode == 0 and out.stdout == ""
    assert f"Exported {len(rows)} sessions to {target}" in out.stderr
    data = json.loads(target.read_text())
    assert [r["run_id"] for r in data] == [r["run_id"] for r in rows]  # same order: newest first
    as_json = next(r for r in data if r["run_id"] == logged.run_id)
    assert as_json["metrics.commands_executed"] == run.data.metrics["commands_executed"]


def test_filter_is_passed_verbatim(logged_store: Any) -> None:
    uri, logged, _ = logged_store
    out = claude_tui(
        "export", "--tracking-uri", uri, "--format", "json", "--filter", 'params.issue_number = "123"'
    )
    assert out.returncode == 0, out.stderr
    ids = {row["run_id"] for row in json.loads(out.stdout)}
    expected_samples = sum(1 for s in SAMPLE_SESSIONS if s.issue == "123")
    assert logged.run_id in ids and len(ids) == expected_samples + 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--filter", "metrics.success === 1"], "claude-tui export: Invalid comparator '==='"),
        (["--tracking-uri", "http://127.0.0.1:9"], "claude-tui export: cannot reach tracking server"),
    ],
)
def test_errors_are_one_line_exit_2(store_uri: str, tmp_path: Path, args: list[str], message: str) -> None:
    target = tmp_path / "never.csv"
    out = claude_tui("export", "--tracking-uri", store_uri, *args, "--output", str(target))
    assert out.returncode == 2
    assert out.stderr.startswith(message) and out.stderr.count("\n") == 1
    assert "Traceback" not in out.stderr and not target.exists()


def test_unknown_format_is_a_usage_error(store_uri: str) -> None:
    out = claude_tui("export", "--tracking-uri", store_uri, "--format", "xml")
    assert out.returncode == 2 and "Traceback" not in out.stderr and "xml" in out.stderr


async def test_history_pane_reads_a_real_logged_session(logged_store: Any) -> None:
    import datetime as dt

    from textual.app import App, ComposeResult

    from claude_tui.widgets.history import HistoryPane
    from claude_tui.widgets.history_details import RunDetailsView

    uri, logged, session = logged_store

    class HistoryApp(App[None]):
        def compose(self) -> ComposeResult:
            yield HistoryPane(uri, "claude-sessions", tz=dt.UTC)

    app = HistoryApp()
    async with app.run_test(size=(150, 40)) as pilot:
        pane = app.query_one(HistoryPane)
        details = pane.query_one(RunDetailsView)

        await wait_for(pilot, lambda: pane.loaded, 20, "the History rows")
        assert pane.rows[0].run_id == logged.run_id  # logged last, started last: newest
        await wait_for(pilot, lambda: details.details is not None and pane._cast_run == logged.run_id, 20)
        assert details.details is not None
        assert details.details.params["session_id"] == session.session_id
        assert "transcript/raw.cast" in details.details.artifacts
        assert details.details.series  # the logger's series feed the chart
        replay = details.replay
        assert replay.player is not None and replay.player.events
        replay.play_to_end()
        await pilot.pause(0.2)
        shown = replay.screen_pane.emulator
        # The same bytes fed to a fresh emulator of the pane's size give the same screen: nothing was lost.
        from claude_tui.terminal.emulator import TerminalEmulator

        reference = TerminalEmulator(shown.cols, shown.rows)
        reference.feed(b"".join(data for _, data in replay.player.events))
        assert shown.display == reference.display
        assert "Resume this session with:" in "\n".join(shown.display)  # how the recorded Claude session ends
