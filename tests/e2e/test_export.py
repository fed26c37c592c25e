"""`claude-tui export` end to end: a real logged session plus sample ones, CSV and JSON, filters, errors."""

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

from claude_tui.history.synthetic import SAMPLE_SESSIONS, log_sessions
from claude_tui.tracking.logger import log_spool


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
    for key, value in run.data.params.items():
        assert real[f"params.{key}"] == value
    for key, value in run.data.metrics.items():
        assert float(real[f"metrics.{key}"]) == value
    for key, value in run.data.tags.items():
        assert real[f"tags.{key}"] == value
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
