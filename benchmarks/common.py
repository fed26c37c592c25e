"""What several benchmarks share: a process's CPU time (in clock ticks, or its threads' to the nanosecond),
and fresh bytecode before timing a start."""

from __future__ import annotations

import compileall
import os
from pathlib import Path

import claude_tui


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds the process used so far, its children not included (Linux `/proc`; 0 for
    a process that is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> float:
    """CPU time the process's threads have used so far, to the nanosecond (`/proc/PID/task/*/schedstat`;
    `/proc/PID/stat` counts in 10 ms ticks: 0.1 % of a 10 s window). Threads that ended are not counted; 0
    for a process that is gone."""
    total = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return 0.0
    for task in tasks:
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):  # a thread that ended meanwhile
            continue
    return total / 1e9


def compile_package() -> None:
    """Compile claude_tui's bytecode. An installed package has it compiled; a work tree edited since `make
    setup` may not, and with PYTHONDONTWRITEBYTECODE set every stale module is compiled again at each start
    (~12 ms for the emulator alone; 0.5 s of an attach's start), which is not what a user's start costs."""
    compileall.compile_dir(Path(claude_tui.__file__).parent, quiet=1)
