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


def test_group_by_rolls_up_the_store_sessions(store_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from tests.support.synthetic import SyntheticSession

    monday = int(dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC).timestamp() * 1000)
    day = 86_400_000
    sessions = [
        SyntheticSession("a1", monday, user="alice", repository="api", cost_usd=1.5, errors=1),
        SyntheticSession("a2", monday + day, user="alice", repository="web", cost_usd=0.5, success=0),
        SyntheticSession("a3", monday + 8 * day, user="alice", repository="api", cost_usd=2.0),
        SyntheticSession("b1", monday + 2 * day, user="bob", repository="api", cost_usd=0.25, errors=3),
        SyntheticSession("n1", monday + 2 * day, cost_usd=0.1),
    ]
    log_sessions(store_uri, "claude-sessions", sessions, artifacts=False)
    monkeypatch.setenv("TZ", "UTC")  # the child's days and weeks
    out = claude_tui("export", "--tracking-uri", store_uri, "--format", "json", "--group-by", "user,week")
    assert out.returncode == 0, out.stderr
    rows = {(r["user"], r["week"]): r for r in json.loads(out.stdout)}
    assert set(rows) == {
        ("alice", "2026-W49"),
        ("alice", "2026-W50"),
        ("bob", "2026-W49"),
        ("(none)", "2026-W49"),
    }
    first = rows["alice", "2026-W49"]
    assert (first["sessions"], first["failed"], first["errors"]) == (2, 1, 1)
    assert first["cost_usd"] == pytest.approx(2.0)
    assert first["tokens"] == sum(s.input_tokens + s.output_tokens for s in sessions[:2])
    assert first["duration_seconds"] == round(sum(s.duration_seconds for s in sessions[:2]))
    assert list(json.loads(out.stdout)[0]) == [
        "user", "week", "sessions", "failed", "errors", "tool_uses", "input_tokens", "output_tokens",
        "cost_usd", "duration_seconds", "active_seconds", "tokens",
    ]  # fmt: skip
    # CSV, with the filter done by the server; one line for a key it does not know.
    out = claude_tui(
        "export", "--tracking-uri", store_uri, "--group-by", "repository",
        "--filter", "metrics.errors_encountered > 0",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    grouped = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [(r["repository"], r["sessions"], r["errors"]) for r in grouped] == [("api", "2", "4")]
    out = claude_tui("export", "--tracking-uri", store_uri, "--group-by", "team")
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == (
        "claude-tui export: --group-by: cannot group by 'team': "
        "choose from user, repository, branch, issue, day, week\n"
    )
