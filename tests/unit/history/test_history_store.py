"""RunQuery, export and the UI-server state file against a real (temp) sqlite store of sample sessions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from claude_tui.history.export import collect_rows
from claude_tui.history.query import (
    InvalidFilterError,
    RunQuery,
    StoreUnavailableError,
    order_by_for,
)
from claude_tui.history.ui_server import ServerState, UiServer, pgid_alive
from claude_tui.tracking import schema
from tests.helpers import wait_until
from tests.support.synthetic import SAMPLE_SESSIONS, SEED_FILTERS, SyntheticSession, log_sessions

EXPERIMENT = "claude-sessions"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One sample store per module (creating a sqlite store costs ~3 s of migrations)."""
    root = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    log_sessions(uri, EXPERIMENT, SAMPLE_SESSIONS, artifact_location=str(root / "artifacts"))
    # Another kind of run in the same experiment must never show up as a session.
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None
    experiment_id = experiment.experiment_id
    client.set_terminated(client.create_run(experiment_id, run_name="not a session").info.run_id)
    return uri


def newest_first(sessions: list[SyntheticSession]) -> list[str]:
    return [s.prompt for s in sorted(sessions, key=lambda s: s.start_ms, reverse=True)]


@pytest.mark.parametrize(("expression", "matches"), SEED_FILTERS, ids=[f for f, _ in SEED_FILTERS])
def test_seed_filters_verbatim(
    store: str, expression: str, matches: Callable[[SyntheticSession], bool]
) -> None:
    page = RunQuery(store, EXPERIMENT).search(expression)
    expected = newest_first([s for s in SAMPLE_SESSIONS if matches(s)])
    assert expected, "every seed example should match some sample session"
    assert [row.name for row in page.rows] == expected
    assert page.next_page_token is None


def test_every_seed_filter_misses_something(store: str) -> None:
    # Otherwise a filter that is silently ignored would pass the test above.
    for expression, matches in SEED_FILTERS:
        if expression != 'tags.type = "claude_session"':
            assert not all(matches(s) for s in SAMPLE_SESSIONS), expression


def test_paging_covers_every_session_once(store: str) -> None:
    query = RunQuery(store, EXPERIMENT)
    names: list[str] = []
    token = None
    pages = 0
    while True:
        page = query.search("", max_results=4, page_token=token)
        names += [row.name for row in page.rows]
        pages += 1
        token = page.next_page_token
        if token is None:
            break
        assert isinstance(token, str)
    assert pages == 2
    assert names == newest_first(list(SAMPLE_SESSIONS))


@pytest.mark.parametrize(
    ("column", "key"),
    [
        ("commands", lambda s: s.commands),
        ("errors", lambda s: s.errors),
        ("cost", lambda s: s.cost_usd),
        ("duration", lambda s: s.duration_seconds),
        ("name", lambda s: s.prompt),
    ],
)
def test_sort_by_column(store: str, column: str, key: Callable[[SyntheticSession], object]) -> None:
    query = RunQuery(store, EXPERIMENT)
    rows = query.search("", order_by=order_by_for(column, descending=False)).rows
    ordered = sorted(SAMPLE_SESSIONS, key=lambda s: (key(s), -s.start_ms))
    assert [r.name for r in rows] == [s.prompt for s in ordered]


def test_invalid_filter_carries_mlflows_message(store: str) -> None:
    from mlflow import MlflowClient

    experiment = MlflowClient(store).get_experiment_by_name(EXPERIMENT)
    assert experiment is not None
    experiment_id = experiment.experiment_id
    with pytest.raises(Exception) as mlflow_error:
        MlflowClient(store).search_runs([experiment_id], "metrics.success === 1")
    with pytest.raises(InvalidFilterError) as caught:
        RunQuery(store, EXPERIMENT).search("metrics.success === 1")
    assert caught.value.expression == "metrics.success === 1"
    # MLflow prints the allowed comparators as a Python set, in hash order: the user gets them sorted, as a
    # plain list on one line (issue 18 item 6: a bad filter showed a Python set).
    mlflows_own = str(getattr(mlflow_error.value, "message", ""))
    assert "{'" in mlflows_own and caught.value.message.startswith(mlflows_own.split("{")[0].rstrip("'"))
    assert caught.value.message == "Invalid comparator '===' not one of !=, <, <=, =, >, >="


def test_invalid_key_names_the_valid_ones_in_order(store: str) -> None:
    with pytest.raises(InvalidFilterError) as caught:
        RunQuery(store, EXPERIMENT).search("foo = 1")
    message = caught.value.message
    assert "{" not in message and "'" not in message.split("are", 1)[1]
    assert message.startswith("Invalid attribute key 'foo' specified. Valid keys are artifact_uri, created,")
    assert message.endswith(", status, user_id")


@pytest.mark.parametrize("bad", ["metrics.success = ", "nonsense", "params.x = 'a' OR params.y = 'b'"])
def test_other_invalid_filters(store: str, bad: str) -> None:
    with pytest.raises(InvalidFilterError):
        RunQuery(store, EXPERIMENT).search(bad)


def test_missing_experiment_is_empty_but_still_validates(store: str) -> None:
    query = RunQuery(store, "no-such-experiment")
    assert query.search("metrics.success = 1").rows == []
    for bad in ("metrics.success === 1", "nonsense", "attributes.start_time LIKE 'x'"):
        with pytest.raises(InvalidFilterError):
            query.search(bad)


def test_unreachable_server_fails_fast() -> None:
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError, match="cannot reach tracking server"):
        RunQuery("http://127.0.0.1:9", EXPERIMENT).search("")
    assert time.monotonic() - started < 10


def test_warm_opens_the_store_and_swallows_errors(store: str) -> None:
    query = RunQuery(store, EXPERIMENT)
    query.warm()
    assert query._experiment_id is not None
    RunQuery("http://127.0.0.1:9", EXPERIMENT).warm()  # an unreachable store is reported later, not here


def test_details(store: str) -> None:
    query = RunQuery(store, EXPERIMENT)
    row = query.search('params.issue_number = "77"').rows[0]
    details = query.details(row.run_id)
    session = next(s for s in SAMPLE_SESSIONS if s.issue == "77")
    assert details.params == dict(sorted(session.params().items()))
    assert details.metrics["errors_encountered"] == session.errors
    assert details.metrics["tool_uses.Read"] == 6
    assert details.tags["claude.session_id"] == session.sid
    assert details.artifacts == sorted(
        ["transcript/clean.txt", "transcript/raw.cast", f"claude/{session.sid}.jsonl", "events.jsonl",
         "summary.json", "git/changes.diff", "git/commits.txt"]
    )  # fmt: skip
    assert details.transcript == session.clean_transcript()
    assert set(details.series) == set(schema.SERIES_KEYS)
    assert details.series["commands_executed"] == [(s, v) for s, v in session.series()["commands_executed"]]
    assert details.series["commands_executed"][-1][1] == session.commands


def test_export_rows_respect_filter(store: str) -> None:
    rows = collect_rows(RunQuery(store, EXPERIMENT), "metrics.success = 0")
    expected = [s for s in SAMPLE_SESSIONS if s.success == 0]
    assert [r["run_name"] for r in rows] == newest_first(expected)
    assert all(r["tags.type"] == "claude_session" for r in rows)
    assert rows[0]["metrics.errors_encountered"] == float(expected[-1].errors)


# --- UI server state; no server starts here (tests/e2e/test_mlflow_ui_browser.py starts a real one) ---


def test_stale_state_file_is_forgotten(tmp_path: Path) -> None:
    server = UiServer("sqlite:///x.db", artifact_root=str(tmp_path / "a"), state_dir=tmp_path)
    assert server.status() is None and server.remembered() is None
    dead = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    dead.wait()
    state = ServerState(dead.pid, dead.pid, "127.0.0.1", 9, "sqlite:///x.db", "a", "l", 0.0)
    server.state_path.write_text(json.dumps(state.__dict__))
    assert server.remembered() == state
    assert server.status() is None
    assert not server.state_path.exists()


def test_stop_ends_the_whole_process_group(tmp_path: Path) -> None:
    # A stand-in "server" whose child ignores SIGTERM: stop() must still leave nothing behind.
    ignoring = tmp_path / "ignoring"  # the child made once it ignores SIGTERM
    script = (
        "import signal, subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import signal,time; signal.signal(signal.SIGTERM, "
        f'signal.SIG_IGN); open("{ignoring}", "w").close(); time.sleep(60)\'])\n'
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    wait_until(ignoring.exists, 60, "the child to ignore SIGTERM")
    server = UiServer("sqlite:///y.db", artifact_root=str(tmp_path / "a"), state_dir=tmp_path)
    state = ServerState(proc.pid, os.getpgid(proc.pid), "127.0.0.1", 9, "sqlite:///y.db", "a", "l", 0.0)
    server.state_path.write_text(json.dumps(state.__dict__))
    assert pgid_alive(state.pgid)
    started = time.monotonic()
    assert server.stop(grace=1.0) is True
    assert not pgid_alive(state.pgid)
    assert time.monotonic() - started < 5
    assert not server.state_path.exists()
    assert server.stop() is False
