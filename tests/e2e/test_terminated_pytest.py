"""A pytest ended from outside (SIGTERM: `timeout`, a CI's cancel) tears down as after ctrl+c.

In the fifth session a pytest ended so left the team server's PostgreSQL running for hours: `pg_ctl` starts
the cluster detached, and with SIGTERM's default action no `finally` ran. tests/conftest.py turns the first
SIGTERM into KeyboardInterrupt, so the session's fixtures are torn down.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.support.team_server import PostgresCluster

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SESSION = ROOT / "tests" / "data" / "terminated_session.py"


def postmasters(data: str) -> list[int]:
    """The PostgreSQL servers running on the data directory `data` (`postgres -D DATA ...`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if data.encode() in argv and Path(argv[0].decode(errors="replace")).name == "postgres":
            found.append(int(entry.name))
    return found


def test_a_pytest_ended_with_sigterm_stops_its_postgresql(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    child = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(SESSION)],
        cwd=ROOT,
        env={**os.environ, "CLAUDE_TUI_TEST_READY": str(ready)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    data = ""
    try:
        wait_until(lambda: ready.exists() or child.poll() is not None, 180, "the cluster to start")
        assert ready.exists(), child.communicate()[0].decode(errors="replace")
        data = ready.read_text()
        assert postmasters(data), "the cluster is not running"
        child.send_signal(signal.SIGTERM)
        output = child.communicate(timeout=120)[0].decode(errors="replace")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if data and postmasters(data):  # what the old code left behind: stopped here, then failed on below
            PostgresCluster(Path(data).parent).stop()
            shutil.rmtree(Path(data).parents[1], ignore_errors=True)
    assert child.returncode == pytest.ExitCode.INTERRUPTED, output
    assert not postmasters(data), output
    assert not Path(data).exists(), output
