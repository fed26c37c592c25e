"""Benchmark: sessions that outlive the window, at a laptop's scale (issue 16, item 5), tmux beside in the
same run.

Sessions run in the owner process (`claude-tui --detach`, tracked, a sqlite store of the run's own) and a
window shows them (`claude-tui attach`, in a real 120x40 pseudo-terminal this script reads as a terminal
would); tmux runs the same programs in windows of a server on its own socket with a client attached in the
same kind of PTY. Three parts:

- **idle**: 1 and then 8 sessions of a program that prints 10,000 lines (the scrollback) and sleeps; once the
  window has drawn and settled, the CPU that claude-tui's own processes (the window and the owner; tmux: its
  server and client) use over `--idle` seconds, and their resident memory. Target: with 8 sessions < 1 %
  CPU and < 150 MB more than with one.
- **attach**: with the 8 sessions running and their output taken in (the owner's CPU settled), from
  starting `claude-tui attach` to the shown session's screen on the terminal, and on to the 8th session's
  screen (`ctrl+]` sent as soon as the first is drawn, the `8` `--chord-gap` seconds after it, 0.15, as a
  person types a chord; "chord lost": the `8` reached the window before it had taken `ctrl+]` and went to
  the program). The window adds sessions 2-8 after its first frame, in order: the 8th is the last,
  so its screen on the terminal is the time until every screen can be shown. Target: all screens in < 1 s.
  `--chord-gap footer` sends the `8` once the footer shows the chord was taken instead, which it does
  `CHORD_SETTLE` (0.3 s) after `ctrl+]` (`KeysFooter`): that measures the footer's wait more than the attach.
- **echo**: a program in raw mode that answers each key with a mark of its own; from writing the key to the
  outer terminal until the mark is back on it, `--keys` times: the program alone in a PTY (the floor),
  through tmux, and through the owner and an attached window. Target: the owner adds p99 < 10 ms over the
  bare PTY.

The programs themselves are not counted. The load average is printed beside each row.

`--attach-rounds N` times the attach alone, N rounds, each tree of `--tree DIR` (a checkout of claude-tui:
the tree before a change, say; default this one) one after the other in each round, with 8 sessions in an
owner of each tree: the medians per tree, same run, same load. With `--chord-gap footer` it gives besides
the first and 8th screens when the window took the chord (the footer shows its keys `CHORD_SETTLE` after it).

`--parts echo` runs the echo part alone; with `--tree DIR` (several) it echoes through each tree's owner and
window, `--echo-rounds N` windows per tree, the trees alternating (same run, same load).

Run: `.venv/bin/python -m benchmarks.bench_owner [--idle 10] [--keys 200] [--lines 10000] [--parts echo]`,
`... --attach-rounds 5 --tree /path/to/tree-before --tree .`, or
`... --parts echo --keys 500 --echo-rounds 5 --tree /path/to/tree-before --tree .`.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.bench_sessions import PROGRAM, Terminal
from benchmarks.common import compile_package, cpu_seconds, thread_cpu_seconds
from tests.support.processes import find_processes

ECHO = """\
import os, sys, tty
tty.setraw(0)
marks = "αβγδεζηθικλμνξοπρστυφχψω"
os.write(1, b"ECHO-READY\\r\\n")
n = 0
while True:
    if not os.read(0, 1):
        break
    os.write(1, ("\\r" + marks[n % len(marks)] + "\\x1b[K").encode())
    n += 1
"""
"""Answers each key it reads with the next Greek letter (a mark nothing else on the screen shows)."""

MARKS = "αβγδεζηθικλμνξοπρστυφχψω"
ROOT = Path(__file__).resolve().parent.parent
CHORD = b"\x1d"  # ctrl+]


def rss_mb(pid: int) -> float:
    """Resident memory of the process in MB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def load() -> float:
    return round(os.getloadavg()[0], 1)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Owner:
    """A claude-tui data dir of its own, with its owner process and the sessions `--detach` started."""

    def __init__(self, folder: Path, tree: Path = ROOT) -> None:
        self.folder = folder
        self.tree = tree
        """The claude-tui checkout the owner and the window run (on PYTHONPATH)."""
        folder.mkdir(parents=True)
        self.env = {
            **os.environ,
            "CLAUDE_TUI_HOME": str(folder / "home"),
            "CLAUDE_TUI_CONFIG": str(folder / "none.toml"),
            "TERM": "xterm-256color",
            "PYTHONPATH": str(tree),
        }
        self.store = f"sqlite:///{folder / 'mlflow.db'}"

    def detach(self, *program: str) -> None:
        """Start one session of `program` in the owner (starting the owner the first time)."""
        argv = [sys.executable, "-m", "claude_tui", "--detach", "--tracking-uri", self.store]
        argv += ["--command", sys.executable, "--", *program]
        subprocess.run(argv, env=self.env, cwd=self.folder, check=True, capture_output=True)

    def sessions(self) -> list[dict[str, Any]]:
        argv = [sys.executable, "-m", "claude_tui", "ls", "--json"]
        done = subprocess.run(argv, env=self.env, cwd=self.folder, check=True, capture_output=True, text=True)
        listed = json.loads(done.stdout)
        return list(listed["sessions"] if isinstance(listed, dict) else listed)

    def pid(self) -> int:
        """The owner process of this data dir."""
        home = f"CLAUDE_TUI_HOME={self.env['CLAUDE_TUI_HOME']}".encode()
        found = find_processes(
            lambda process: b"claude_tui.owner" in process.argv() and home in process.environ()
        )
        if not found:
            raise RuntimeError("no owner process")
        return found[0]

    def attach(self) -> Terminal:
        return Terminal([sys.executable, "-m", "claude_tui", "attach"], env=self.env, cwd=self.tree)

    def kill(self) -> None:
        """SIGKILL the owner: its programs' terminals close and they end; no logger starts."""
        try:
            os.kill(self.pid(), signal.SIGKILL)
        except (RuntimeError, ProcessLookupError):
            pass


@contextmanager
def tmux_server(folder: Path) -> Iterator[list[str]]:
    """A tmux server on its own socket (status line off, scrollback above the lines printed); yields the
    command prefix that talks to it; killed at the end."""
    base = ["tmux", "-S", str(folder / "tmux.sock"), "-f", "/dev/null"]
    subprocess.run(
        [*base, "new-session", "-d", "-x", "120", "-y", "40", ";", "set", "-g", "history-limit", "20000", ";",
         "set", "-g", "status", "off"],
        check=True,
    )  # fmt: skip
    try:
        yield base
    finally:
        subprocess.run([*base, "kill-server"], capture_output=True)


def settle(pid: int, timeout: float = 60.0) -> None:
    """Wait until process `pid` has taken in what its programs printed: its CPU time grows by less than 10 ms
    over half a second (on a loaded machine the owner emulates 8 x 10,000 lines for several seconds; an
    attach meanwhile would time that too)."""
    deadline = time.monotonic() + timeout
    used = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if now - used < 0.01:
            return
        used = now


def idle_cpu(pids: list[int], terminal: Terminal, seconds: float) -> list[float]:
    """CPU % each process used over `seconds` (the terminal's output read meanwhile), its threads' time to
    the nanosecond (`/proc/PID/stat`'s clock ticks resolve 0.1 % over 10 s)."""
    before = [thread_cpu_seconds(pid) for pid in pids]
    started = time.perf_counter()
    read_for(terminal, seconds)
    elapsed = time.perf_counter() - started
    return [100 * (thread_cpu_seconds(pid) - used) / elapsed for pid, used in zip(pids, before, strict=True)]


def usage(pids: list[int], terminal: Terminal, seconds: float) -> dict[str, Any]:
    """CPU % and resident MB of the window/client (first pid) and the owner/server (second), and their sum."""
    cpu, memory = idle_cpu(pids, terminal, seconds), [rss_mb(pid) for pid in pids]
    return {
        "cpu %": round(sum(cpu), 2),
        "cpu % window / owner": " / ".join(f"{value:.2f}" for value in cpu),
        "memory MB": round(sum(memory), 1),
        "MB window / owner": " / ".join(f"{value:.0f}" for value in memory),
    }


def start_sessions(owner: Owner, program: Path, count: int, lines: int) -> None:
    """`count` sessions of `program` in the owner, their output taken in (the owner's CPU settled)."""
    for n in range(1, count + 1):
        owner.detach(str(program), f"S{n}", str(lines))
    deadline = time.monotonic() + 60
    while len(owner.sessions()) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    settle(owner.pid())  # the programs' scrollback is in the owner's emulators


def attach_times(terminal: Terminal, started: float, count: int, gap: float | None) -> dict[str, Any]:
    """The window's first screen; with several sessions, the `count`th session's screen after `ctrl+]` and its
    number (ms since `started`). The number goes `gap` seconds after `ctrl+]`, as a person types a chord
    (`None`: once the footer shows the chord was taken, its time given too: `CHORD_SETTLE` after `ctrl+]`)."""
    first = terminal.read_until(b"-END", timeout=60)
    if first is None:
        raise RuntimeError(f"attach drew no session: {terminal.seen[-2000:]!r}")
    row: dict[str, Any] = {"first screen ms": round(1000 * (first - started))}
    if count > 1:
        terminal.write(CHORD)
        if gap is None:
            taken = terminal.read_until(b"New session", timeout=10)  # the footer: the chord is taken
            if taken is None:
                raise RuntimeError("the chord's first key was not taken")
            row["chord taken ms"] = round(1000 * (taken - started))
        else:
            read_for(terminal, gap)
        terminal.write(str(count).encode())
        last = terminal.read_until(f"MARK-S{count}-END".encode(), timeout=30 if gap is None else 10)
        if last is not None:
            row[f"screen {count} ms"] = round(1000 * (last - started))
        elif gap is not None:
            row["chord lost"] = 1  # the number reached the window before it had taken ctrl+]: the program's
        else:
            raise RuntimeError(f"session {count} was not drawn: {terminal.seen[-2000:]!r}")
    return row


def read_for(terminal: Terminal, seconds: float) -> None:
    """Read what the terminal gets for `seconds` (as a terminal would: the window never waits to write)."""
    deadline = time.perf_counter() + seconds
    while (left := deadline - time.perf_counter()) > 0:
        terminal.drain(quiet=left, timeout=left)


def idle_claude_tui(
    work: Path, program: Path, count: int, lines: int, seconds: float, gap: float | None
) -> dict[str, Any]:
    """`count` sessions in the owner, a window attached; with 8, the attach times too (`attach_times`)."""
    owner = Owner(work / f"owner-{count}")
    try:
        start_sessions(owner, program, count, lines)
        started = time.perf_counter()
        terminal = owner.attach()
        try:
            row = attach_times(terminal, started, count, gap)
            terminal.drain(quiet=2.0, timeout=30)  # the sidebars' fill-in
            pids = [terminal.process.pid, owner.pid()]
            return {**row, **usage(pids, terminal, seconds)}
        finally:
            terminal.close()
    finally:
        owner.kill()


CPU_AFTER = 4.0
"""Seconds after the attach's start when the window's CPU time is read (its first frame, the other sessions
added, the sidebars filled in, the switch to the 8th)."""


def attach_rounds(
    work: Path, program: Path, lines: int, rounds: int, trees: list[Path], gap: float | None
) -> list[dict[str, Any]]:
    """Attach to 8 sessions `rounds` times per tree, the trees one after the other in each round; a row of
    medians (and ranges) per tree."""
    owners = [Owner(work / f"attach-{n}", tree) for n, tree in enumerate(trees)]
    times: list[list[dict[str, Any]]] = [[] for _ in trees]
    try:
        for owner in owners:
            start_sessions(owner, program, 8, lines)
        for round_ in range(rounds):
            order = list(zip(owners, times, strict=True))
            for owner, seen in order if round_ % 2 == 0 else order[::-1]:  # neither tree always first
                settle(owner.pid())
                started = time.perf_counter()
                terminal = owner.attach()
                try:
                    row = attach_times(terminal, started, 8, gap)
                    terminal.drain(quiet=1.0, timeout=30)
                    while time.perf_counter() - started < CPU_AFTER:  # the sidebars' fill-in, 1 s in
                        terminal.drain(quiet=CPU_AFTER - (time.perf_counter() - started), timeout=CPU_AFTER)
                    used = cpu_seconds(terminal.process.pid)
                    seen.append({**row, "window CPU ms": round(1000 * used), "load": load()})
                finally:
                    terminal.close()
    finally:
        for owner in owners:
            owner.kill()
    rows = []
    for tree, seen in zip(trees, times, strict=True):
        row: dict[str, Any] = {
            "part": "attach",
            "side": f"claude-tui {tree}",
            "sessions": 8,
            "rounds": rounds,
            "8 typed": "at the footer" if gap is None else f"{1000 * gap:.0f} ms after ctrl+]",
        }
        for key in ("first screen ms", "chord taken ms", "screen 8 ms", "window CPU ms"):
            values = [entry[key] for entry in seen if key in entry]
            if not values:
                continue
            row[key] = f"{statistics.median(values):.0f} ({min(values)}-{max(values)})"
        if gap is not None:
            row["chords lost"] = sum(entry.get("chord lost", 0) for entry in seen)
        loads = [entry["load"] for entry in seen]
        row["load"] = f"{min(loads)}-{max(loads)}"
        rows.append(row)
    return rows


def idle_tmux(work: Path, program: Path, count: int, lines: int, seconds: float) -> dict[str, Any]:
    folder = work / f"tmux-{count}"
    folder.mkdir()
    with tmux_server(folder) as base:
        run = [sys.executable, str(program)]
        subprocess.run([*base, "new-window", "-t", "0:0", "-k", *run, "S1", str(lines)], check=True)
        for n in range(2, count + 1):
            subprocess.run([*base, "new-window", "-t", f"0:{n - 1}", *run, f"S{n}", str(lines)], check=True)
        server = int(
            subprocess.run([*base, "display", "-p", "#{pid}"], capture_output=True, text=True).stdout
        )
        settle(server)
        started = time.perf_counter()
        terminal = Terminal([*base, "attach", "-t", "0"], env={**os.environ, "TERM": "xterm-256color"})
        try:
            first = terminal.read_until(b"-END", timeout=60)
            if first is None:
                raise RuntimeError("tmux drew no window")
            terminal.drain(quiet=1.0)
            pids = [terminal.process.pid, server]
            return {"first screen ms": round(1000 * (first - started)), **usage(pids, terminal, seconds)}
        finally:
            terminal.close()


def echo_times(terminal: Terminal, keys: int, first: int = 0) -> list[float]:
    """Milliseconds from writing a key to its mark arriving, `keys` times, one at a time (`first`: keys the
    program answered before)."""
    times = []
    for n in range(first, first + keys):
        terminal.drain(quiet=0.02, timeout=1)
        start = time.perf_counter()
        terminal.write(b"x")
        arrived = terminal.read_until(MARKS[n % len(MARKS)].encode(), timeout=10)
        if arrived is None:
            raise RuntimeError(f"key {n} was not echoed: {terminal.seen[-1000:]!r}")
        times.append(1000 * (arrived - start))
    return times


def echo_bare(program: Path, keys: int) -> list[float]:
    terminal = Terminal([sys.executable, str(program)])
    try:
        if terminal.read_until(b"ECHO-READY", timeout=30) is None:
            raise RuntimeError("the echo program did not start")
        return echo_times(terminal, keys)
    finally:
        terminal.close()


def echo_tmux(work: Path, program: Path, keys: int) -> list[float]:
    folder = work / "tmux-echo"
    folder.mkdir()
    with tmux_server(folder) as base:
        subprocess.run([*base, "new-window", "-t", "0:0", "-k", sys.executable, str(program)], check=True)
        terminal = Terminal([*base, "attach", "-t", "0"], env={**os.environ, "TERM": "xterm-256color"})
        try:
            if terminal.read_until(b"ECHO-READY", timeout=30) is None:
                raise RuntimeError("tmux drew no echo program")
            terminal.drain(quiet=0.5)
            return echo_times(terminal, keys)
        finally:
            terminal.close()


def echo_claude_tui(
    work: Path, program: Path, keys: int, trees: list[Path], rounds: int
) -> list[list[float]]:
    """Echo times through the owner and a window, per tree: `rounds` windows attached one after the other
    (the trees alternating, neither always first), `keys / rounds` keys each."""
    owners = [Owner(work / f"owner-echo-{n}", tree) for n, tree in enumerate(trees)]
    times: list[list[float]] = [[] for _ in trees]
    try:
        for owner in owners:
            owner.detach(str(program))
        for round_ in range(rounds):
            order = list(zip(owners, times, strict=True))
            for owner, seen in order if round_ % 2 == 0 else order[::-1]:
                terminal = owner.attach()
                try:
                    if terminal.read_until(b"ECHO-READY", timeout=60) is None:
                        raise RuntimeError(f"attach drew no echo program: {terminal.seen[-2000:]!r}")
                    terminal.drain(quiet=2.0, timeout=30)
                    seen += echo_times(terminal, keys // rounds, first=len(seen))
                finally:
                    terminal.close()
    finally:
        for owner in owners:
            owner.kill()
    return times


def chord_gap(text: str) -> float | None:
    """`--chord-gap`: seconds, or 'footer' (None)."""
    return None if text == "footer" else float(text)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measured")
    parser.add_argument("--keys", type=int, default=200, help="keys echoed on each side")
    parser.add_argument("--lines", type=int, default=10_000, help="scrollback lines each session prints")
    parser.add_argument("--attach-rounds", type=int, default=0, help="time the attach alone, N rounds")
    parser.add_argument(
        "--tree",
        action="append",
        type=Path,
        help="a claude-tui checkout to attach with (attach rounds, echo)",
    )
    parser.add_argument(
        "--echo-rounds", type=int, default=1, help="echo: windows attached per tree, the trees alternating"
    )
    parser.add_argument(
        "--chord-gap",
        type=chord_gap,
        default=0.15,
        help="attach: seconds between ctrl+] and the session's number, as a person types a chord; 'footer':"
        " the number once the footer shows the chord was taken (the footer waits CHORD_SETTLE, 0.3 s)",
    )
    parser.add_argument(
        "--parts", default="idle,echo", help="which parts, comma-separated: idle (with the attach), echo"
    )
    args = parser.parse_args(argv)
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed (the anchor)")
    compile_package()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-owner-") as folder:
        work = Path(folder)
        program, echo = work / "prog.py", work / "echo.py"
        program.write_text(PROGRAM)
        echo.write_text(ECHO)
        trees = [tree.resolve() for tree in args.tree or [ROOT]]
        for tree in trees:
            compileall.compile_dir(tree / "claude_tui", quiet=1)
        if args.attach_rounds:
            rows = attach_rounds(work, program, args.lines, args.attach_rounds, trees, args.chord_gap)
            print_table(rows)
            return rows
        parts = {part.strip() for part in args.parts.split(",")}
        if "idle" in parts:
            rows += idle_rows(work, program, args.lines, args.idle, args.chord_gap)
        if "echo" in parts:
            rows += echo_rows(work, echo, args.keys, trees, args.echo_rounds)
    print_table(rows)
    return rows


def idle_rows(
    work: Path, program: Path, lines: int, seconds: float, gap: float | None
) -> list[dict[str, Any]]:
    """The idle part (with the attach): 1 and 8 sessions on each side, then 8 against 1."""
    rows: list[dict[str, Any]] = []
    idle: dict[tuple[str, int], dict[str, Any]] = {}
    for count in (1, 8):
        for side in ("claude-tui (window + owner)", "tmux"):
            if side == "tmux":
                row = idle_tmux(work, program, count, lines, seconds)
            else:
                row = idle_claude_tui(work, program, count, lines, seconds, gap)
            idle[side, count] = row
            rows.append({"part": "idle", "side": side, "sessions": count, **row, "load": load()})
    for side in ("claude-tui (window + owner)", "tmux"):
        extra = idle[side, 8]["memory MB"] - idle[side, 1]["memory MB"]
        rows.append({"part": "idle, 8 vs 1", "side": side, "memory MB": f"+{extra:.1f}",
                     "cpu %": idle[side, 8]["cpu %"], "target": "< 1 % CPU, < +150 MB" if "claude" in side
                     else "", "load": load()})  # fmt: skip
    return rows


def echo_rows(work: Path, echo: Path, keys: int, trees: list[Path], rounds: int) -> list[dict[str, Any]]:
    """The echo part: the bare PTY, tmux, and claude-tui (window + owner) of each tree, `keys` keys each."""
    bare = echo_bare(echo, keys)
    echoes = {"bare PTY": bare, "tmux": echo_tmux(work, echo, keys)}
    through = echo_claude_tui(work, echo, keys, trees, rounds)
    for tree, times in zip(trees, through, strict=True):
        name = "claude-tui (window + owner)" + (f" {tree}" if trees != [ROOT] else "")
        echoes[name] = times
    rows = []
    for side, times in echoes.items():
        p99 = percentile(times, 0.99)
        rows.append({
            "part": "echo", "side": side, "keys": len(times),
            "p50 ms": round(statistics.median(times), 2),
            "p99 ms": round(p99, 2), "p99 over bare ms": round(p99 - percentile(bare, 0.99), 2),
            "target": "< 10 over bare" if "claude" in side else "", "load": load(),
        })  # fmt: skip
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join(" --- " for _ in columns) + "|")
    for row in rows:
        print("| " + " | ".join(str(row.get(key, "")) for key in columns) + " |")


if __name__ == "__main__":
    main()
