"""Benchmark: the TerminalPane inside a headless Textual app — event-loop stalls under a flood, echo latency.

1. **Stall**: ``cat`` of a 20 MB file runs in the pane (200x50) of a headless ``run_test`` app while a
   1 ms asyncio ticker measures how late it wakes up. Reported: the longest stall (target < 50 ms at a load
   average of 4, issue 19; the median over runs, and the worst run), the p99 stall, and the throughput of the
   whole path (PTY read + emulator + frames) in MB per wall second and per CPU second of our process. Two
   files: log-like text with SGR colors, and ``seq`` lines. The benchmark makes the load itself: busy-loop
   processes run from before the idle measurement to the end of the floods, as many as bring the machine to
   the target's load of 4 counting the bench and ``cat`` themselves (3 on a quiet machine, none on one already
   at 3 or more; ``--busy N`` fixes the number, ``--no-load`` is ``--busy 0``), and the 1-minute load average
   is printed beside each figure. An idle pane gives the machine's noise floor; the
   "CPU-bound" stall counts only the CPU time our thread used during the longest gap, i.e. what the stall
   would be on an otherwise idle machine (on a loaded one the OS adds waiting). Then the same floods in
   claude-tui's own window (`ClaudeTuiApp`: header, tab bar, the pane beside the sidebar, footer; its
   pane 200x50, filled in before the flood, the program counted by its shell marks), with claude-tui's
   compositor and, as the anchor, Textual's (which re-renders every widget of the window for each frame).
2. **Echo latency**: a program in raw mode echoes every byte (``stty raw -echo; cat``). ``--keys`` (200)
   keystrokes, one at a time, (a) written straight to a ``PtySession`` and read back with ``select`` (the
   floor), (b) posted as Textual key events to the app and timed until the echoed byte reaches the pane's
   recorder (key dispatch + ``send`` + PTY + loop reader). Reported: p50/p99 of both and the added p99
   (target < 10 ms). Both run side by side in one process, alternating keystrokes.

Run: ``.venv/bin/python benchmarks/bench_pane.py [--megabytes 20] [--runs 3] [--keys 200]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

COLS, ROWS = 200, 50
LOAD_TARGET = 4.0
"""The load average the stall target is stated at."""


def busy_loops_for(load: float, target: float = LOAD_TARGET) -> int:
    """How many busy loops bring a machine at `load` to `target` while a flood runs: the flood itself (the
    bench's process and `cat`) adds about one."""
    return max(0, round(target - 1 - load))


class BusyLoops:
    """`count` processes spinning on the CPU (the load the stall target is stated at), stopped on exit."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> BusyLoops:
        for _ in range(self.count):
            self.processes.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))
        # The 1-minute load average follows with a lag (it reaches 95 % of a step in 3 minutes): wait, at most
        # 90 s, until it is within the flood's own share of the target.
        deadline = time.monotonic() + 90
        while self.count and os.getloadavg()[0] < LOAD_TARGET - 1 and time.monotonic() < deadline:
            time.sleep(1)
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            process.kill()
            process.wait()


def log_text(size: int) -> bytes:
    """Log-like lines, some colored: what a build or test run prints."""
    lines = []
    total = 0
    i = 0
    while total < size:
        level = ("\x1b[32mINFO\x1b[0m", "\x1b[33mWARN\x1b[0m", "\x1b[1;31mERROR\x1b[0m")[i % 3]
        stamp = f"2026-11-27 06:{i % 60:02d}:{i % 59:02d}"
        line = f"{stamp} {level} worker-{i % 7} processed item {i} in {i % 997}ms\n"
        lines.append(line)
        total += len(line)
        i += 1
    return "".join(lines).encode()[:size]


def seq_text(size: int) -> bytes:
    """The output of ``seq``."""
    out = []
    total = 0
    i = 1
    while total < size:
        s = f"{i}\n"
        out.append(s)
        total += len(s)
        i += 1
    return "".join(out).encode()[:size]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_stall(
    path: Path | None, idle_seconds: float = 3.0, product_gc: bool = True
) -> dict[str, float]:
    """One headless app running ``cat path`` (or, for ``None``, an idle ``sleep`` for ``idle_seconds``: the
    machine's noise floor); return max/p99 stall (ms) and the seconds until ``cat`` ended.

    ``product_gc``: the garbage collector handled as ``claude-tui`` does (paused through start-up, the
    survivors frozen after the first frame: `claude_tui.terminal.collector.settle_garbage_collector`); else
    Python's default.
    """
    from textual.app import App, ComposeResult

    from claude_tui.terminal.collector import settle_garbage_collector
    from claude_tui.widgets.terminal import TerminalPane

    done = asyncio.Event()
    command = ["cat", str(path)] if path is not None else ["sleep", "600"]

    class FloodApp(App[None]):
        ENABLE_COMMAND_PALETTE = False

        def compose(self) -> ComposeResult:
            yield TerminalPane(command)

        def on_mount(self) -> None:
            if product_gc:
                self.call_after_refresh(settle_garbage_collector)

        def on_terminal_pane_exited(self, event: TerminalPane.Exited) -> None:
            done.set()

    app = FloodApp()
    gc.unfreeze()  # each run starts from the same heap: nothing frozen by an earlier run
    if product_gc:
        gc.disable()  # as `commands.run.run_session` does until the first frame
    gaps: list[float] = []
    cpu_start = time.process_time()
    cpu_gaps: list[
        float
    ] = []  # CPU time our thread used during each gap: the part the machine's load cannot add
    async with app.run_test(size=(COLS, ROWS)) as pilot:
        start = time.perf_counter()
        while not done.is_set():
            before, cpu_before = time.perf_counter(), time.thread_time()
            await asyncio.sleep(0.001)
            gaps.append(time.perf_counter() - before - 0.001)
            cpu_gaps.append(time.thread_time() - cpu_before)
            now = time.perf_counter()
            if path is None and now - start > idle_seconds:
                break
            if now - start > 300:
                raise TimeoutError("cat did not finish in 300 s")
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        if path is None:
            await app.query_one(TerminalPane).terminate(grace=1)
        await pilot.pause(0.05)
    return stall_figures(gaps, cpu_gaps, elapsed, cpu)


def stall_figures(gaps: list[float], cpu_gaps: list[float], elapsed: float, cpu: float) -> dict[str, float]:
    """One flood's figures: the longest and p99 stall (ms), the longest stall's CPU, time, CPU, load."""
    return {
        "max_ms": max(gaps) * 1000,
        "p99_ms": _percentile(gaps, 0.99) * 1000,
        "cpu_max_ms": max(cpu_gaps) * 1000,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "load": os.getloadavg()[0],
    }


async def run_stall_in_app(path: Path, tmp: Path, compositor: str = "cropped") -> dict[str, float]:
    """The flood in claude-tui's own window: `ClaudeTuiApp` (header, tab bar, the pane beside the sidebar's
    counters, footer; untracked), its pane `COLS`x`ROWS`, the collector handled as `claude-tui` does. The
    program sends a shell's prompt mark, waits for a line, sent once the counters are up, then runs
    ``cat path``.

    ``compositor``: ``cropped`` (claude-tui's `MainScreen`: a change renders the widgets it shows in) or
    ``textual`` (Textual's own compositor: each frame of the pane renders every widget of the window).
    """
    from textual._compositor import Compositor

    from claude_tui.app import ClaudeTuiApp
    from claude_tui.layout import SIDEBAR_COLUMNS
    from claude_tui.screens.main import MainScreen
    from claude_tui.session import SessionConfig, TrackedSession

    # A shell with claude-tui's integration (`--command bash`) counts by its OSC 133 marks: one mark, as its
    # prompt sends, and the session never parses the screen (a program with neither transcript nor marks
    # has its whole scrollback read once a second: see docs/terminal-pane.md).
    argv = ["sh", "-c", f"printf '\\033]133;A\\007'; read go; exec cat '{path}'"]
    session = TrackedSession(SessionConfig(command="sh", cwd=tmp, track=False), argv=argv)
    session.start(COLS, ROWS)
    app = ClaudeTuiApp(session)
    original = MainScreen.__init__
    if compositor == "textual":

        def textual_compositor(screen: MainScreen, *args: Any, **kwargs: Any) -> None:
            original(screen, *args, **kwargs)
            screen._compositor = Compositor()

        MainScreen.__init__ = textual_compositor  # type: ignore[method-assign]
    gc.unfreeze()
    gc.disable()  # as `commands.run.run_session` does; the app settles the collector after its first frame
    gaps: list[float] = []
    cpu_gaps: list[float] = []
    try:
        async with app.run_test(size=(COLS + SIDEBAR_COLUMNS, ROWS + 4)) as pilot:
            view = app.sessions[0]
            deadline = time.monotonic() + 60
            while not (view.sidebar.rows_mounted and view.snapshot is not None):
                if time.monotonic() > deadline:
                    raise TimeoutError("the window did not fill in within 60 s")
                await pilot.pause(0.05)
            await pilot.pause(0.5)
            pane_size = view.pane.size
            cpu_start = time.process_time()
            view.pane.send(b"go\n")
            start = time.perf_counter()
            while view.pane.exit_status is None:
                before, cpu_before = time.perf_counter(), time.thread_time()
                await asyncio.sleep(0.001)
                gaps.append(time.perf_counter() - before - 0.001)
                cpu_gaps.append(time.thread_time() - cpu_before)
                if time.perf_counter() - start > 300:
                    raise TimeoutError("cat did not finish in 300 s")
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
    finally:
        MainScreen.__init__ = original  # type: ignore[method-assign]
        gc.enable()
    assert (pane_size.width, pane_size.height) == (COLS, ROWS), f"the pane is {pane_size}"
    return stall_figures(gaps, cpu_gaps, elapsed, cpu)


ECHO = ["sh", "-c", "stty raw -echo; echo READY; exec cat"]
GAP = 0.03
"""Seconds between keystrokes (fast typing is ~10 keys/s): the frame a keystroke causes finishes first."""


def direct_echo_latency(keys: int) -> list[float]:
    """Seconds from writing one byte to the PTY until ``cat`` echoes it back, read directly."""
    from claude_tui.terminal.pty_session import PtySession

    session = PtySession.spawn(ECHO, cols=COLS, rows=ROWS)
    try:
        buffer = b""
        while b"READY" not in buffer:
            select.select([session.fd], [], [], 1)
            buffer += session.read()
        latencies = []
        for i in range(keys):
            byte = bytes([0x61 + i % 26])
            start = time.perf_counter()
            session.write(byte)
            got = b""
            while byte not in got:
                select.select([session.fd], [], [], 1)
                got += session.read()
            latencies.append(time.perf_counter() - start)
            time.sleep(GAP)
        return latencies
    finally:
        session.terminate(grace=1)


async def pane_echo_latency(keys: int) -> list[float]:
    """Seconds from posting a key event to the app until the pane has read the echoed byte (seen by its
    recorder, as a live session's recording sees every chunk)."""
    from textual import events
    from textual.app import App, ComposeResult

    from claude_tui.terminal.recorder import CastRecorder
    from claude_tui.widgets.terminal import TerminalPane

    seen: list[tuple[float, bytes]] = []

    class TimedRecorder(CastRecorder):
        def output(self, data: bytes) -> None:
            seen.append((time.perf_counter(), data))
            super().output(data)

    recording = tempfile.NamedTemporaryFile(suffix=".cast")  # noqa: SIM115 - closed below
    recorder = TimedRecorder(recording.name, COLS, ROWS)

    class EchoApp(App[None]):
        ENABLE_COMMAND_PALETTE = False

        def compose(self) -> ComposeResult:
            yield TerminalPane(ECHO, recorder=recorder)

        def on_mount(self) -> None:
            self.query_one(TerminalPane).focus()

    app = EchoApp()
    latencies = []
    async with app.run_test(size=(COLS, ROWS)) as pilot:
        while not any(b"READY" in data for _, data in seen):
            await asyncio.sleep(0.01)
        await pilot.pause(0.2)
        for i in range(keys):
            char = chr(0x61 + i % 26)
            seen.clear()
            start = time.perf_counter()
            app.post_message(events.Key(char, char))  # the same path as a key from the terminal driver
            while not any(char.encode() in data for _, data in seen):
                await asyncio.sleep(0)
            latencies.append(next(t for t, data in seen if char.encode() in data) - start)
            await asyncio.sleep(GAP)
        await pane_terminate(app)
    recorder.close()
    recording.close()
    return latencies


async def pane_terminate(app: Any) -> None:
    from claude_tui.widgets.terminal import TerminalPane

    await app.query_one(TerminalPane).terminate(grace=1)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run both measurements; print a markdown table and return its rows."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument(
        "--busy", type=int, help="busy loops to run (default: as many as bring the load to 4 during a flood)"
    )
    parser.add_argument("--no-load", action="store_true", help="no busy loops (--busy 0)")
    args = parser.parse_args(argv)
    size = int(args.megabytes * 1e6)
    busy = 0 if args.no_load else args.busy if args.busy is not None else busy_loops_for(os.getloadavg()[0])
    print(f"{busy} busy loops, load {os.getloadavg()[0]:.1f} before them", flush=True)
    rows: list[dict[str, Any]] = []
    with BusyLoops(busy), tempfile.TemporaryDirectory() as tmp:
        idle = [asyncio.run(run_stall(None)) for _ in range(args.runs)]
        rows.append(
            {
                "measure": f"idle pane {COLS}x{ROWS} (machine noise floor): longest loop stall",
                "value": f"{statistics.median(r['max_ms'] for r in idle):.1f} ms",
                "detail": f"worst run {max(r['max_ms'] for r in idle):.1f} ms; "
                f"p99 stall {statistics.median(r['p99_ms'] for r in idle):.1f} ms",
                "target": "baseline",
                "load": _loads(idle),
            }
        )
        for (label, build), product_gc in itertools.product(
            (("log text", log_text), ("seq lines", seq_text)), (False, True)
        ):
            path = Path(tmp, f"{label}.txt")
            if not path.exists():  # one file per text, shared by both collector policies
                path.write_bytes(build(size))
            runs = [asyncio.run(run_stall(path, product_gc=product_gc)) for _ in range(args.runs)]
            collector = (
                "claude-tui's collector (frozen after start-up)"
                if product_gc
                else "Python's default collector"
            )
            target = f"< 50 ms at load {LOAD_TARGET:g}" if product_gc else "anchor"
            rows.append(
                stall_row(
                    runs, size, f"cat {args.megabytes:g} MB of {label}, {COLS}x{ROWS}, {collector}", target
                )
            )
        # The same floods in claude-tui's window (pane beside the sidebar): its compositor, and Textual's.
        for label, compositor in itertools.product(("log text", "seq lines"), ("cropped", "textual")):
            path = Path(tmp, f"{label}.txt")
            runs = [asyncio.run(run_stall_in_app(path, Path(tmp), compositor)) for _ in range(args.runs)]
            rows.append(
                stall_row(
                    runs,
                    size,
                    f"cat {args.megabytes:g} MB of {label} in claude-tui's window "
                    + ("(its compositor)" if compositor == "cropped" else "(Textual's compositor)"),
                    f"< 50 ms at load {LOAD_TARGET:g}" if compositor == "cropped" else "anchor",
                )
            )
    direct: list[float] = []
    pane: list[float] = []
    batch = max(1, args.keys // 4)
    for _ in range(4):  # alternate so both see the same machine load
        direct += direct_echo_latency(batch)
        pane += asyncio.run(pane_echo_latency(batch))
    d50, d99 = _percentile(direct, 0.5) * 1000, _percentile(direct, 0.99) * 1000
    p50, p99 = _percentile(pane, 0.5) * 1000, _percentile(pane, 0.99) * 1000
    rows.append(
        {
            "measure": "echo latency, PTY read directly",
            "value": f"p50 {d50:.2f} ms",
            "detail": f"p99 {d99:.2f} ms ({len(direct)} keys)",
            "target": "baseline",
            "load": f"{os.getloadavg()[0]:.1f}",
        }
    )
    rows.append(
        {
            "measure": "echo latency, key event -> pane",
            "value": f"p50 {p50:.2f} ms",
            "detail": f"p99 {p99:.2f} ms; added p50 {p50 - d50:.2f} ms, added p99 {p99 - d99:.2f} ms",
            "target": "added p99 < 10 ms",
            "load": f"{os.getloadavg()[0]:.1f}",
        }
    )
    print(f"Terminal pane {date.today().isoformat()}, {os.cpu_count()} CPUs, medians of {args.runs}\n")
    print("| measure | value | detail | target | load |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['measure']} | {row['value']} | {row['detail']} | {row['target']} | {row['load']} |")
    return rows


def stall_row(runs: list[dict[str, float]], size: int, what: str, target: str) -> dict[str, Any]:
    """The table's row of a flood's `runs`: medians of the longest stall, p99 and the throughput."""
    seconds = statistics.median(r["seconds"] for r in runs)
    cpu = statistics.median(r["cpu_seconds"] for r in runs)
    return {
        "measure": f"{what}: longest loop stall",
        "value": f"{statistics.median(r['max_ms'] for r in runs):.1f} ms",
        "detail": f"worst run {max(r['max_ms'] for r in runs):.1f} ms; "
        f"p99 stall {statistics.median(r['p99_ms'] for r in runs):.1f} ms; "
        f"longest CPU-bound stall {statistics.median(r['cpu_max_ms'] for r in runs):.1f} ms; "
        f"through the pane {size / seconds / 1e6:.1f} MB/s ({seconds:.1f} s), "
        f"{size / cpu / 1e6:.1f} MB per CPU second",
        "target": target,
        "load": _loads(runs),
    }


def _loads(runs: list[dict[str, float]]) -> str:
    """The 1-minute load averages at the end of `runs`, as a range."""
    loads = [r["load"] for r in runs]
    return f"{min(loads):.1f}-{max(loads):.1f}"


if __name__ == "__main__":
    main()
