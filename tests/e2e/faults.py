"""Helpers for the black-box fault tests: cheap spools, `claude-tui` in a subprocess, broken filesystems.

The spools are what a `--command bash` session leaves (meta, a small recording, summary), so a test that is
about the store does not pay for a run of the real CLI. Every command runs as `python -m claude_tui ...` in
a child process with the test's own data dir, exactly as a user's shell would run it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from claude_tui.terminal.recorder import CastRecorder
from claude_tui.tracking.spool import RunSpool


def command_spool(
    root: Path, *, output: bytes = b"hello\r\n", finished: bool = True, **meta: Any
) -> RunSpool:
    """A finished spool of a `--command bash` session under `root` (an orphan when not `finished`)."""
    session_id = str(uuid.uuid4())
    fields: dict[str, Any] = {
        "session_id": session_id,
        "argv": ["bash"],
        "command": "bash",
        "args": [],
        "cwd": str(root),
        "start_time": time.time() - 5,
        "git": {},
        "tags": {},
        "redact": True,
        "pid": 0,
        **meta,
    }
    spool = RunSpool.create(fields, root)
    recorder = CastRecorder(spool.recording_path, 80, 24, command="bash")
    recorder.output(output)
    recorder.close()
    if finished:
        spool.finish({"end_time": time.time(), "exit_code": 0, "signal": None, "killed": False})
    spool.close()
    return spool


def claude_tui(
    *args: str, timeout: float = 240, env: dict[str, str] | None = None, umask: int = 0o022
) -> subprocess.CompletedProcess[str]:
    """Run `claude-tui ARGS...` in a child process (the test's environment, plus `env`; a usual umask)."""
    return subprocess.run(
        [sys.executable, "-m", "claude_tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        umask=umask,
    )


def start_claude_tui(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`claude_tui` without waiting: the process, its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "claude_tui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real filesystem of `size` (e.g. `3m`) mounted at `where` for the block: a disk that fills up."""
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def remount_read_only(where: Path) -> None:
    """Make a `tmpfs` read-only from now on (root included)."""
    subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[Path]:
    """`chattr +i` for the block: nobody, root included, may write the file (a read-only database)."""
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)
