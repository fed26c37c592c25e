"""`Watchdog`: undoes what a test session started detached (a PostgreSQL cluster, a server's process group, a
temp folder) if the session dies without undoing it itself, SIGKILL included.

`pg_ctl` starts PostgreSQL detached, and the team's `mlflow server` runs in a session of its own: a pytest
SIGKILLed (no handler runs: an OOM kill, a helper's suite killed by process group) left them running for
hours (tests/e2e/test_terminated_pytest.py). No signal reaches them when pytest dies: `PR_SET_PDEATHSIG`
cannot be set on the postmaster (pg_ctl's child that forks it exits at once, and `runuser`, which runs it as
`postgres` when we are root, changes credentials, which clears it). So a small process outside pytest's
process group and session watches instead: it holds the read end of a pipe only pytest writes to, and when
that closes, or its parent changes (pytest gone, it was reparented), without pytest having said `release`,
it undoes what it was told, last first: SIGKILL to a process group (if its leader is the one it was told
of), a command (`pg_ctl stop -m immediate`), a folder removed. Then it exits.

And if the watcher is killed too (a kill of every process by name): a watchdog given a `record` file writes
there who it serves and what it was told; `reap_abandoned` (tests/conftest.py, at the start of each test
session) undoes the orders of a record whose pytest and watcher are both gone.

The watcher is this file run as a script (`python watchdog.py`): it imports only the standard library.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
from pathlib import Path

__all__ = ["Watchdog", "reap_abandoned"]

POLL = 0.5
"""Seconds between the watcher's looks at its parent (beside the pipe closing)."""


def _started(pid: int) -> str | None:
    """When process `pid` started (`/proc/PID/stat` field 22, clock ticks since boot), None once gone: with
    the pid, what tells a process from a later one given the same pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


class Watchdog:
    """The pytest side: starts the watcher and tells it what to undo (see the module docstring).

    Use it as a context manager: `release()` at the end of the block, however it ends, since the block's own
    cleanup has run by then (a `finally` inside it).
    """

    def __init__(self, record: Path | None = None) -> None:
        self._record = record
        self._proc = subprocess.Popen(
            [sys.executable, "-S", __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # out of pytest's process group: a kill of the group leaves it
            close_fds=True,
        )
        if record is not None:
            pytest, watcher = os.getpid(), self._proc.pid
            header = {"pytest": [pytest, _started(pytest)], "watcher": [watcher, _started(watcher)]}
            record.write_text(json.dumps(header) + "\n")

    def _tell(self, **order: object) -> None:
        line = json.dumps(order).encode() + b"\n"
        if self._record is not None:
            with self._record.open("ab") as record:
                record.write(line)
        assert self._proc.stdin is not None
        self._proc.stdin.write(line)
        self._proc.stdin.flush()

    def kill_group(self, pid: int) -> None:
        """SIGKILL the process group `pid` leads (only while that process is the one running now)."""
        self._tell(kill_group=pid, started=_started(pid))

    def run(self, argv: list[str]) -> None:
        """Run `argv` (waited for, 60 s at most)."""
        self._tell(run=argv)

    def remove(self, folder: Path) -> None:
        """Remove `folder` and everything in it."""
        self._tell(remove=str(folder))

    def release(self) -> None:
        """Undo nothing: the watcher exits (the test session undid it all itself)."""
        if self._record is not None:
            self._record.unlink(missing_ok=True)  # its folder may be gone already
            self._record = None
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            try:
                self._tell(release=True)
                self._proc.stdin.close()
            except (BrokenPipeError, ValueError):
                pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    @property
    def pid(self) -> int:
        """The watcher's process id."""
        return self._proc.pid

    def __enter__(self) -> Watchdog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _undo(order: dict[str, object]) -> None:
    if "kill_group" in order:
        pid = int(str(order["kill_group"]))
        if order.get("started") is not None and _started(pid) == order["started"]:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
    elif "run" in order:
        argv = [str(arg) for arg in order["run"]]  # type: ignore[attr-defined]
        try:
            subprocess.run(argv, capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired):
            pass
    elif "remove" in order:
        shutil.rmtree(str(order["remove"]), ignore_errors=True)


def _running(pid_and_start: list[object]) -> bool:
    pid, started = pid_and_start
    return started is not None and _started(int(str(pid))) == started


def reap_abandoned(records: list[Path]) -> list[Path]:
    """Undo the orders of each record (`Watchdog(record=...)`) whose pytest and watcher are both gone; the
    records reaped. One whose pytest still runs, or whose watcher does, is left alone."""
    reaped = []
    for record in records:
        try:
            header, *orders = (json.loads(line) for line in record.read_text().splitlines() if line)
        except (OSError, ValueError):
            continue
        if _running(header["pytest"]) or _running(header["watcher"]):
            continue
        for order in reversed(orders):
            _undo(order)
        record.unlink(missing_ok=True)
        reaped.append(record)
    return reaped


def watch() -> None:
    """The watcher: read orders until `release` (exit) or the pipe closes or the parent changes (undo)."""
    parent = os.getppid()
    orders: list[dict[str, object]] = []
    pending = b""
    stdin = sys.stdin.fileno()
    while True:
        ready, _, _ = select.select([stdin], [], [], POLL)
        if ready:
            chunk = os.read(stdin, 65536)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                order = json.loads(line)
                if order.get("release"):
                    return
                orders.append(order)
        elif os.getppid() != parent:
            break
    for order in reversed(orders):
        _undo(order)


if __name__ == "__main__":
    watch()
