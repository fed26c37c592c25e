"""Benchmark: switching sessions (issue 16, item 5): keystroke to the other session's screen drawn, with
10,000 lines of scrollback in each, claude-tui beside tmux's `select-window` in the same run.

Each side runs two sessions of the same program (it prints ``--lines`` numbered lines, a marker line of its
own, then sleeps), in a real pseudo-terminal of 120x40 that this script reads, as a terminal would:

- **claude-tui**: the app (`benchmarks/sessions_app.py`: two `ClaudeTuiApp` sessions, not tracked) under a
  PTY; a switch is the chord ``ctrl+]`` then ``1`` or ``2``;
- **tmux**: a server on its own socket with two windows (``history-limit`` above the lines printed) and a
  client attached in a PTY; a switch is ``ctrl+b`` then ``0`` or ``1`` (``select-window``).

The time of one switch runs from writing the keys to the client's terminal until the target session's marker
has arrived on it (the screen is drawn: both write the marker line last). ``--switches`` (20) switches each,
alternating; medians and p95 printed with the load average. Target: < 50 ms (issue 16).

``--tree DIR`` (several) switches in each tree's app (a checkout of claude-tui: the tree before a change,
say), ``--rounds N`` apps per tree, the trees alternating: the same run, the same load.

Run: ``.venv/bin/python -m benchmarks.bench_sessions [--lines 10000] [--switches 20]``, or
``... --switches 40 --rounds 4 --tree /path/to/tree-before --tree .``.
"""

from __future__ import annotations

import argparse
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ptyprocess import PtyProcess

from benchmarks.common import cpu_seconds

COLS, ROWS = 120, 40
TARGET_MS = 50.0
HERE = Path(__file__).resolve().parent

PROGRAM = """\
import sys, time
name, lines = sys.argv[1], int(sys.argv[2])
out = sys.stdout
for i in range(lines):
    out.write(f"{name.lower()} scrollback line {i:6d} " + "." * 60 + "\\n")
out.write(f"MARK-{name}-END\\n")
out.flush()
time.sleep(3600)
"""


class Terminal:
    """A program in a PTY whose output this benchmark reads, as the outer terminal would."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.process = PtyProcess.spawn(argv, dimensions=(ROWS, COLS), env=env, cwd=cwd)
        self.seen = b""

    def read_until(self, marker: bytes, timeout: float) -> float | None:
        """Read until `marker` arrives (it is searched in what arrived since the last call); the time it
        arrived (perf_counter), or None after `timeout` seconds."""
        fd = self.process.fd
        deadline = time.perf_counter() + timeout
        buffer = b""
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                self.seen = buffer
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                return None
            buffer += chunk
            if marker in buffer[-(len(chunk) + len(marker)) :]:
                now = time.perf_counter()
                self.seen = buffer
                return now

    def drain(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Read until nothing arrives for `quiet` seconds."""
        fd = self.process.fd
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([fd], [], [], quiet)
            if not ready:
                return
            try:
                os.read(fd, 1 << 16)
            except OSError:
                return

    def write(self, data: bytes) -> None:
        os.write(self.process.fd, data)

    def close(self) -> None:
        if self.process.isalive():
            self.process.terminate(force=True)


def switches(
    terminal: Terminal,
    prefix: bytes,
    key: Callable[[int], bytes],
    count: int,
    footers: tuple[bytes, bytes] | None = None,
    cpu: list[float] | None = None,
    settle: float = 0.0,
) -> list[float]:
    """Milliseconds from the switch key to the target's marker, `count` times, alternating between the
    sessions. The chord's first key (`prefix`) goes first, as a person types it, and is not timed.

    `footers` (claude-tui): what its footer shows while a pane has the keyboard, and once the session keys
    work. The switch key goes once the second has arrived, and the next chord once the first is back (the
    footer is redrawn after each frame: a key sent before would go to the pane). tmux draws nothing for its
    prefix: its switch key goes after 0.1 s of quiet. With `settle`, claude-tui's switch key too waits for
    that many seconds of quiet after the footer came (a person reads the keys before typing the next: the
    footer's rebuild is then over; without it, its last frames ran with the switch). `cpu` gets the CPU
    seconds the program used in each timed switch (what the switch would take on an idle machine; clock
    ticks of 10 ms)."""
    times: list[float] = []
    for i in range(count):
        target = i % 2  # 0: the first session (A), 1: the second (B)
        terminal.drain(quiet=0.15)
        terminal.write(prefix)
        cycle = b""
        if footers is None:
            terminal.drain(quiet=0.1)
        elif terminal.read_until(footers[1], timeout=10) is None:
            raise RuntimeError(f"the chord's first key was not taken: {terminal.seen[-2000:]!r}")
        cycle += terminal.seen
        if footers is not None and settle:
            terminal.drain(quiet=settle)
        used = cpu_seconds(terminal.process.pid)
        start = time.perf_counter()
        terminal.write(key(target))
        arrived = terminal.read_until(f"MARK-{'AB'[target]}-END".encode(), timeout=10)
        if cpu is not None:
            cpu.append(cpu_seconds(terminal.process.pid) - used)
        if arrived is None:
            raise RuntimeError(f"session {'AB'[target]} was not drawn within 10 s: {terminal.seen[-3000:]!r}")
        times.append((arrived - start) * 1000)
        cycle += terminal.seen
        while footers is not None and cycle.rfind(footers[0]) < cycle.rfind(footers[1]):
            if terminal.read_until(footers[0], timeout=10) is None:
                raise RuntimeError("the footer did not come back to the pane's keys")
            cycle += terminal.seen
    return times


def claude_tui(
    program: Path, lines: int, count: int, cpu: list[float], tree: Path = HERE.parent, settle: float = 0.0
) -> list[float]:
    """`count` switches in the app of `tree` (a claude-tui checkout: this one by default)."""
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLUMNS": str(COLS),
        "LINES": str(ROWS),
        "PYTHONPATH": str(tree),
    }
    argv = [sys.executable, "-m", "benchmarks.sessions_app", str(program), str(lines)]
    terminal = Terminal(argv, env=env, cwd=tree)
    try:
        if terminal.read_until(b"MARK-B-END", timeout=60) is None:  # the second session is shown last
            raise RuntimeError(f"claude-tui did not draw the second session: {terminal.seen[-2000:]!r}")
        terminal.drain(quiet=1.5, timeout=30)  # the sidebars' fill-in
        keys = lambda target: str(target + 1).encode()  # noqa: E731
        footers = (b"give claude-tui the keys", b"New session")
        return switches(terminal, b"\x1d", keys, count, footers=footers, cpu=cpu, settle=settle)
    finally:
        terminal.close()


def tmux(program: Path, lines: int, count: int) -> list[float]:
    socket = f"bench-sessions-{os.getpid()}"
    base = ["tmux", "-L", socket, "-f", "/dev/null"]
    run = [sys.executable, str(program)]
    try:
        subprocess.run(
            [*base, "new-session", "-d", "-x", str(COLS), "-y", str(ROWS), ";", "set", "-g", "history-limit",
             str(lines + 1000), ";", "set", "-g", "status", "off"],
            check=True,
        )  # fmt: skip
        subprocess.run([*base, "new-window", "-t", "0:0", "-k", *run, "A", str(lines)], check=True)
        subprocess.run([*base, "new-window", "-t", "0:1", *run, "B", str(lines)], check=True)
        terminal = Terminal([*base, "attach", "-t", "0"], env={**os.environ, "TERM": "xterm-256color"})
        try:
            if terminal.read_until(b"MARK-B-END", timeout=60) is None:
                raise RuntimeError("tmux did not draw the second window")
            terminal.drain(quiet=0.5)
            return switches(terminal, b"\x02", lambda target: str(target).encode(), count)
        finally:
            terminal.close()
    finally:
        subprocess.run([*base, "kill-server"], check=False, capture_output=True)


def summary(name: str, times: list[float], lines: int, cpu: list[float] | None = None) -> dict[str, Any]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "what": f"switch sessions ({name})",
        "scrollback": lines,
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(max(times), 1),
        "cpu_ms_per_switch": round(1000 * statistics.fmean(cpu), 1) if cpu else "",
        "target_ms": TARGET_MS if name.startswith("claude-tui") else "",
        "load": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000, help="scrollback lines in each session")
    parser.add_argument("--switches", type=int, default=20, help="switches measured on each side")
    parser.add_argument(
        "--tree", action="append", type=Path, help="a claude-tui checkout to switch in (several: compared)"
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=0.1,
        help="seconds of quiet after the chord's footer before the switch key (0: at once)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="apps started per tree, the trees alternating")
    args = parser.parse_args(argv)
    trees = [tree.resolve() for tree in args.tree or [HERE.parent]]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        program = Path(folder) / "prog.py"
        program.write_text(PROGRAM)
        times: list[list[float]] = [[] for _ in trees]
        cpus: list[list[float]] = [[] for _ in trees]
        for round_ in range(args.rounds):
            order = list(zip(trees, times, cpus, strict=True))
            for tree, seen, cpu in order if round_ % 2 == 0 else order[::-1]:  # neither tree always first
                seen += claude_tui(
                    program, args.lines, max(2, args.switches // args.rounds), cpu, tree, args.settle
                )
        for tree, seen, cpu in zip(trees, times, cpus, strict=True):
            name = "claude-tui" if trees == [HERE.parent] else f"claude-tui {tree}"
            rows.append(summary(name, seen, args.lines, cpu))
        if shutil.which("tmux"):
            rows.append(summary("tmux select-window", tmux(program, args.lines, args.switches), args.lines))
    print("| what | scrollback | median ms | p95 ms | max ms | CPU ms / switch | target ms | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(str(value) for value in row.values()) + " |")
    return rows


if __name__ == "__main__":
    main()
