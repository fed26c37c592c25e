"""The warm logger (issue 19, target 1): the app starts its logger process while the session runs, so that a
session's end only logs. Real processes, a real sqlite store: each spool handed to it becomes exactly one run,
the spool goes, and the process exits when its input ends; an app killed mid-session loses nothing (the
spool it handed over is logged, the live one stays an orphan for the next start, logged once)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from claude_tui.tracking.spool import list_spools
from claude_tui.tracking.spool_logger import HandedOff, SpoolLogger
from claude_tui.tracking.sync import sync_spools
from tests.helpers import session_runs, wait_until

pytestmark = pytest.mark.slow


def store_opened(db: Path) -> bool:
    """Whether MLflow has created the store's tables (what the warm-up does before any spool)."""
    if not db.exists():
        return False
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return bool(conn.execute("SELECT version_num FROM alembic_version").fetchall())
    except sqlite3.OperationalError:
        return False


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def logger_lines() -> list[dict[str, Any]]:
    """The result lines the logger processes wrote to the data dir's `logger.log`."""
    path = Path(os.environ["CLAUDE_TUI_HOME"]) / "logger.log"
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_the_warm_logger_opens_the_store_early_logs_each_spool_once_and_exits_with_its_input(
    real_session: Any, make_spool: Any, store_uri: str
) -> None:
    db = Path(store_uri.removeprefix("sqlite:///"))
    session = real_session("realistic")
    logger = SpoolLogger(store_uri, "warm")
    logger.warm()
    pid = logger.warm_pid
    assert pid is not None
    logger.warm()  # once per app
    assert logger.warm_pid == pid
    # It opens (here: creates) the store before it is handed anything.
    wait_until(lambda: store_opened(db), 120, "the warm-up to create the store")
    spools = [make_spool(session, session_id=f"warm-{n}", tracking_uri=store_uri) for n in range(2)]
    progress = lambda stage, fraction: None  # noqa: E731
    for spool in spools:
        handed = logger.log(spool, progress)
        assert handed == HandedOff(pid, store_uri)
    for n in range(2):
        wait_until(lambda n=n: session_runs(db, f"warm-{n}"), 120, f"the run of spool {n}")
    wait_until(lambda: not list_spools(spools[0].path.parent), 60, "the spools to be removed")
    logger.close()
    wait_until(lambda: gone(pid), 60, "the warm logger to exit at the end of its input")
    assert logger.warm_pid is None
    for n in range(2):
        [(_run_id, status)] = session_runs(db, f"warm-{n}")
        assert status == "FINISHED"
    handed_lines = [line for line in logger_lines() if "spool" in line]
    assert sorted(line["spool"] for line in handed_lines) == sorted(str(spool.path) for spool in spools)
    assert all(line.get("run_id") and not line.get("error") for line in handed_lines)


APP = """
import os, signal, sys, time
from pathlib import Path
from claude_tui.tracking.spool import RunSpool
from claude_tui.tracking.spool_logger import SpoolLogger
uri, root = sys.argv[1], Path(sys.argv[2])
logger = SpoolLogger(uri, "warm")
logger.warm()
live = RunSpool.create({"session_id": "live", "tracking_uri": uri, "start_time": time.time() - 5}, root)
live.append_events([{"type": "user_prompt", "ts": time.time()}])
ended = RunSpool.create({"session_id": "ended", "tracking_uri": uri, "start_time": time.time() - 5}, root)
ended.finish({"end_time": time.time(), "exit_code": 0, "signal": None, "killed": False})
logger.log(ended, lambda stage, fraction: None)
print(logger.warm_pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""
"""An app in miniature: warms its logger, hands it one finished spool, and is killed while another session
runs."""


def test_an_app_killed_with_its_logger_warm_loses_nothing_and_nothing_is_logged_twice(
    store_uri: str, tmp_path: Path
) -> None:
    db = Path(store_uri.removeprefix("sqlite:///"))
    root = tmp_path / "spool"
    app = subprocess.run(
        [sys.executable, "-c", APP, store_uri, str(root)], capture_output=True, text=True, timeout=120
    )
    assert app.returncode == -signal.SIGKILL, app.stderr
    pid = int(app.stdout.split()[0])
    # The spool handed over is logged: the app's death ended the logger's input after its line.
    wait_until(lambda: session_runs(db, "ended"), 120, "the handed-over spool's run")
    wait_until(lambda: gone(pid), 60, "the warm logger to exit")
    # The live one is the next start's: an orphan, untouched by the warm logger.
    [orphan] = list_spools(root)
    assert orphan.session_id == "live" and orphan.is_orphan
    assert session_runs(db, "live") == []
    [result] = sync_spools(root)
    assert result.ok and result.status == "KILLED", result.message
    assert [status for _, status in session_runs(db, "live")] == ["KILLED"]
    assert [status for _, status in session_runs(db, "ended")] == ["FINISHED"]
    assert list_spools(root) == []
