"""A pytest ended from outside (SIGTERM: `timeout`, a CI's cancel) tears down as after ctrl+c; one killed
outright (SIGKILL) leaves no PostgreSQL running either.

In the fifth session a pytest ended so left the team server's PostgreSQL running for hours: `pg_ctl` starts
the cluster detached, and with SIGTERM's default action no `finally` ran. tests/conftest.py turns the first
SIGTERM into KeyboardInterrupt, so the session's fixtures are torn down. SIGKILL runs nothing in pytest: the
cluster's `Watchdog` (tests/support/watchdog.py), a process outside pytest's process group, stops it; and
if the watchdog was killed too, the next test session does (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.support.processes import Process, find_processes
from tests.support.team_server import RECORD, PostgresCluster
from tests.support.watchdog import reap_abandoned

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SESSION = ROOT / "tests" / "data" / "terminated_session.py"


def postmasters(data: str) -> list[int]:
    """The PostgreSQL servers running on the data directory `data` (`postgres -D DATA ...`)."""

    def runs_on_data(process: Process) -> bool:
        argv = process.argv()
        return data.encode() in argv and Path(argv[0].decode(errors="replace")).name == "postgres"

    return find_processes(runs_on_data)


def start_session(ready: Path) -> subprocess.Popen[bytes]:
    """A pytest of its own running tests/data/terminated_session.py: it writes the cluster's data directory
    to `ready` once the cluster runs, then waits."""
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(SESSION)],
        cwd=ROOT,
        env={**os.environ, "CLAUDE_TUI_TEST_READY": str(ready)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def cluster_of(child: subprocess.Popen[bytes], ready: Path) -> str:
    """The data directory of the cluster `child` started, once it runs."""
    wait_until(lambda: ready.exists() or child.poll() is not None, 180, "the cluster to start")
    assert ready.exists(), child.communicate()[0].decode(errors="replace")
    data = ready.read_text()
    assert postmasters(data), "the cluster is not running"
    return data


def leave_nothing(child: subprocess.Popen[bytes], data: str) -> None:
    """The child gone; a cluster the code under test left running stopped and removed (the test fails on
    it after)."""
    if child.poll() is None:
        child.kill()
        child.wait()
    if data and postmasters(data):
        PostgresCluster(Path(data).parent).stop()
    if data:
        shutil.rmtree(Path(data).parents[1], ignore_errors=True)


def test_a_pytest_ended_with_sigterm_stops_its_postgresql(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    child = start_session(ready)
    data = ""
    try:
        data = cluster_of(child, ready)
        child.send_signal(signal.SIGTERM)
        output = child.communicate(timeout=120)[0].decode(errors="replace")
        assert child.returncode == pytest.ExitCode.INTERRUPTED, output
        assert not postmasters(data), output
        assert not Path(data).exists(), output
    finally:
        leave_nothing(child, data)


def test_a_pytest_killed_with_sigkill_leaves_no_postgresql(tmp_path: Path) -> None:
    """No handler runs: the watchdog stops the cluster (pg_ctl's immediate stop) and removes its folder.
    Fails on the code before it: the cluster ran on."""
    ready = tmp_path / "ready"
    child = start_session(ready)
    data = ""
    try:
        data = cluster_of(child, ready)
        child.kill()
        child.wait()
        wait_until(lambda: not postmasters(data), 120, "the cluster to stop")
        wait_until(lambda: not Path(data).parent.exists(), 30, "the cluster's folder to go")
    finally:
        leave_nothing(child, data)


def test_a_cluster_left_by_a_pytest_killed_with_its_watchdog_is_stopped_by_the_next_session(
    tmp_path: Path,
) -> None:
    """A kill of every process by name takes the watchdog too: the next pytest's start stops the cluster
    (`reap_abandoned_clusters`), never one whose pytest still runs."""
    ready = tmp_path / "ready"
    child = start_session(ready)
    data = ""
    try:
        data = cluster_of(child, ready)
        record = Path(data).parent / RECORD
        assert reap_abandoned([record]) == [], "reaped while its pytest runs"
        assert postmasters(data)
        watcher = json.loads(record.read_text().splitlines()[0])["watcher"][0]
        os.kill(watcher, signal.SIGKILL)
        child.kill()
        child.wait()
        wait_until(lambda: not Path(f"/proc/{watcher}").exists(), 30, "the watchdog to go")
        assert postmasters(data), "stopped by something else than the next session"
        collect = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--co", __file__]
        subprocess.run(collect, cwd=ROOT, capture_output=True, timeout=300, check=False)
        assert not postmasters(data)
        assert not Path(data).parent.exists()
    finally:
        leave_nothing(child, data)
