"""`claude-tui sync` and orphan recovery: killed sessions become KILLED runs; dead stores keep spools."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from claude_tui.commands.sync import sync
from claude_tui.tracking.logger import LoggingError, log_spool
from claude_tui.tracking.schema import session_filter
from claude_tui.tracking.spool import RunSpool, list_spools
from claude_tui.tracking.sync import recover_orphans_in_background, store_reachable, sync_spools

pytestmark = pytest.mark.slow

OWNER = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from claude_tui.parsing import TranscriptTail, event_to_dict
    from claude_tui.terminal.recorder import CastRecorder
    from claude_tui.tracking.spool import RunSpool

    meta = json.loads(Path(sys.argv[1]).read_text())
    meta["pid"] = os.getpid()
    spool = RunSpool.create(meta, Path(sys.argv[2]))
    recorder = CastRecorder(spool.recording_path, 120, 40, command="claude")
    recorder.output(Path(sys.argv[3]).read_bytes())
    recorder.flush()
    events = TranscriptTail(Path(sys.argv[4])).poll(final=True)
    spool.append_events(event_to_dict(e) for e in events)
    print(spool.path, flush=True)
    time.sleep(120)
    """
)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


def killed_session_spool(session: Any, root: Path, tmp_path: Path) -> RunSpool:
    """A spool whose app was SIGKILLed mid-session (a real subprocess holding the owner lock)."""
    from claude_tui.tracking.gitinfo import git_state

    meta = {
        "session_id": session.session_id,
        "argv": ["claude"],
        "command": "claude",
        "args": [],
        "cwd": str(session.env.work_dir),
        "start_time": time.time() - 5,
        "git": git_state(session.env.work_dir),
        "tags": {},
        "redact": True,
        "claude_config_dir": str(session.env.config_dir),
        "transcript_path": None,
    }
    meta_file = tmp_path / "meta-in.json"
    meta_file.write_text(json.dumps(meta))
    stream = Path(__file__).resolve().parent.parent / "data" / "streams" / "claude_session.bin"
    proc = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(meta_file), str(root), str(stream), str(session.transcript)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    path = Path(proc.stdout.readline().strip())
    spool = RunSpool.open(path)
    assert spool.is_live and not spool.is_orphan
    assert sync_spools(root, tracking_uri="sqlite:///unused-never-created.db") == []  # live: skipped
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert spool.is_orphan
    return spool


def test_killed_session_is_logged_as_killed_once(
    real_session: Callable[[str], Any], store_uri: str, tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    session = real_session("failing")
    root = tmp_path / "spools"
    spool = killed_session_spool(session, root, tmp_path)
    results = sync_spools(root, tracking_uri=store_uri)
    assert len(results) == 1 and results[0].ok, results
    assert results[0].status == "KILLED" and "orphan" in results[0].message
    assert not spool.path.exists()
    run_id, experiment_id = results[0].run_id, results[0].experiment_id
    assert run_id is not None and experiment_id is not None
    client = MlflowClient(store_uri)
    run = client.get_run(run_id)
    assert run.info.status == "KILLED"
    assert run.data.metrics["success"] == 0 and "exit_code" not in run.data.metrics
    assert run.data.metrics["errors_encountered"] == 5  # the transcript is complete: exact counts
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "transcript")}
    assert artifacts == {"transcript/raw.cast", "transcript/clean.txt"}
    summary = json.loads(Path(client.download_artifacts(run.info.run_id, "summary.json")).read_text())
    assert summary["orphan"] is True and summary["killed"] is True
    # A second sync adds nothing.
    assert sync_spools(root, tracking_uri=store_uri) == []
    assert len(client.search_runs([experiment_id], session_filter(session.session_id))) == 1


def test_unreachable_store_keeps_the_spool_then_sync_logs_it(
    real_session: Callable[[str], Any],
    make_spool: Callable[..., RunSpool],
    store_uri: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    spool = make_spool(real_session("failing"))
    dead = f"http://127.0.0.1:{closed_port()}"
    reachable = store_reachable(dead)
    assert not reachable and reachable.reason == f"unreachable: no answer from {dead} (connection refused)"
    assert store_reachable(store_uri)

    # The logger itself (as the app calls it) fails in one line and keeps the spool.
    started = time.monotonic()
    with pytest.raises(LoggingError) as failure:
        log_spool(spool, tracking_uri=dead)
    assert "\n" not in str(failure.value)
    assert time.monotonic() - started < 60
    assert spool.path.exists()

    runner = CliRunner()
    result = runner.invoke(sync, ["--tracking-uri", dead])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"FAIL {spool.session_id}: unreachable: no answer from {dead} (connection refused)"
    assert "Traceback" not in result.output
    assert [s.path for s in list_spools()] == [spool.path]

    result = runner.invoke(sync, ["--tracking-uri", store_uri])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok   {spool.session_id}: logged finished session as run ")
    assert "INFO" not in result.output  # MLflow's migration chatter is kept off the terminal
    assert list_spools() == []
    runs = MlflowClient(store_uri).search_runs(
        [r.experiment_id for r in MlflowClient(store_uri).search_experiments()],
        'tags.type = "claude_session"',
    )
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    assert runner.invoke(sync, ["--tracking-uri", store_uri]).output == "nothing to sync\n"


def test_sync_reports_bad_input_with_status_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(sync, ["--spool-root", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "no spool folder" in result.output


def test_a_store_folder_that_cannot_exist_is_one_line(
    real_session: Callable[[str], Any], make_spool: Callable[..., RunSpool]
) -> None:
    spool = make_spool(real_session("failing"))
    result = CliRunner().invoke(sync, ["--tracking-uri", "sqlite:////proc/no-such-dir/mlflow.db"])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        f"FAIL {spool.session_id}: cannot create the store's folder /proc/no-such-dir "
        "(no such file or directory)"
    )
    assert "Traceback" not in result.output and spool.path.exists()


def test_recovery_at_start_logs_orphans_in_a_detached_process(
    real_session: Callable[[str], Any], tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    from claude_tui.paths import data_dir
    from claude_tui.tracking.store import resolve_tracking_uri

    root = tmp_path / "spools"
    assert recover_orphans_in_background(root) is None  # nothing to do: nothing started
    session = real_session("failing")
    spool = killed_session_spool(session, root, tmp_path)
    proc = recover_orphans_in_background(root)
    assert proc is not None
    assert proc.wait(timeout=240) == 0, (data_dir() / "sync.log").read_text()[-2000:]
    assert not spool.path.exists()
    uri = resolve_tracking_uri(None)  # the embedded store in the test's own CLAUDE_TUI_HOME
    assert uri == f"sqlite:///{Path(os.environ['CLAUDE_TUI_HOME']) / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("claude-sessions")
    assert experiment is not None
    assert experiment.artifact_location == (data_dir() / "artifacts").as_uri()
    runs = client.search_runs([experiment.experiment_id], session_filter(session.session_id))
    assert [r.info.status for r in runs] == ["KILLED"]
