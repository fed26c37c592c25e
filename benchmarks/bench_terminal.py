"""Benchmark: terminal emulation throughput, our TerminalEmulator vs unmodified pyte vs tmux.

Three streams of 20 MB each (built in memory, written to a temp file for tmux):

* (a) ``claude``: a Claude Code session recorded from the real CLI (tests/data/streams/claude_interactive.bin,
  or claude_session.bin until that exists), repeated;
* (b) ``seq``: the lines of ``seq`` as a terminal receives them (``N\\r\\n``);
* (c) ``sgr``: colored text, a 256-color/truecolor/bold SGR sequence every few characters.

Contenders, side by side in one run, median of ``--runs`` (3) runs each, alternating so all see the same
machine load:

* ours: ``TerminalEmulator(120, 40, history=10_000)``, fed in 64 KiB chunks (a PTY read's size);
* pyte 0.8.2 ``HistoryScreen(120, 40, history=10_000)`` + ``ByteStream``, unmodified: it runs at
  ~0.1-0.5 MB/s, so it gets only the first ``--pyte-kb`` (512) KiB of each stream (MB/s is comparable,
  totals are not);
* tmux (``-x 120 -y 40``, history-limit 10000, detached): the time from telling the pane to ``cat`` the file
  until the pane has processed all of it (``stty raw``; a ``wait-for`` signal after ``cat``).

Run: ``.venv/bin/python benchmarks/bench_terminal.py [--megabytes 20] [--runs 3] [--pyte-kb 512]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STREAMS = ROOT / "tests" / "data" / "streams"
COLS, ROWS = 120, 40
CHUNK = 65536


def claude_stream(size: int) -> bytes:
    """(a) A real Claude Code session, repeated to ``size`` bytes."""
    for name in ("claude_interactive.bin", "claude_session.bin"):
        path = STREAMS / name
        if path.exists() and path.stat().st_size:
            one = path.read_bytes()
            return (one * (size // len(one) + 1))[:size]
    raise FileNotFoundError(f"no recorded Claude stream in {STREAMS}")


def seq_stream(size: int) -> bytes:
    """(b) ``seq 1 N`` as the terminal receives it, cut at ``size`` bytes."""
    out = bytearray()
    n = 1
    while len(out) < size:
        out += b"".join(b"%d\r\n" % i for i in range(n, n + 100_000))
        n += 100_000
    return bytes(out[:size])


def sgr_stream(size: int) -> bytes:
    """(c) Colored text: SGR 256-color, truecolor, bold and reset around short words, lines of ~100 cells."""
    out = bytearray()
    i = 0
    while len(out) < size:
        out += b"\x1b[38;5;%dm%s \x1b[1;48;2;%d;%d;%dmword%d\x1b[0m " % (
            i % 256,
            b"x" * (i % 7),
            i % 256,
            (i * 7) % 256,
            (i * 13) % 256,
            i % 1000,
        )
        if i % 7 == 6:
            out += b"\r\n"
        i += 1
    return bytes(out[:size])


def run_ours(data: bytes, cpu: list[float] | None = None) -> float:
    """Seconds for our emulator (10,000-line scrollback) to process ``data`` in 64 KiB reads.

    The process CPU seconds are appended to ``cpu`` when given (less sensitive to a busy machine).
    """
    from claude_tui.terminal import TerminalEmulator

    emulator = TerminalEmulator(COLS, ROWS, history=10_000)
    feed = emulator.feed
    start, start_cpu = time.perf_counter(), time.process_time()
    for pos in range(0, len(data), CHUNK):
        feed(data[pos : pos + CHUNK])
    if cpu is not None:
        cpu.append(time.process_time() - start_cpu)
    return time.perf_counter() - start


def run_pyte(data: bytes) -> float:
    """Seconds for unmodified pyte (HistoryScreen, 10,000 lines) to process ``data`` in 64 KiB reads."""
    import pyte

    screen = pyte.HistoryScreen(COLS, ROWS, history=10_000)
    stream = pyte.ByteStream(screen)
    start = time.perf_counter()
    for pos in range(0, len(data), CHUNK):
        stream.feed(data[pos : pos + CHUNK])
    return time.perf_counter() - start


def run_tmux(path: Path) -> float:
    """Seconds for a detached tmux pane to finish ``cat``-ing ``path`` (server start-up not counted)."""
    socket = path.with_name(f"tmux-{uuid.uuid4().hex[:8]}")  # in the temp dir: removed with it
    conf = path.with_suffix(".tmux.conf")
    conf.write_text("set -g history-limit 10000\nset -g status off\n")
    env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env.pop("TMUX", None)
    base = ["tmux", "-u", "-S", str(socket), "-f", str(conf)]
    signal = f"tmux -S {socket} wait-for"
    pane = f"stty raw -echo; {signal} go; cat {path}; {signal} -S done; sleep 600"
    try:
        subprocess.run(
            [*base, "new-session", "-d", "-x", str(COLS), "-y", str(ROWS), "sh", "-c", pane],
            env=env,
            check=True,
        )
        time.sleep(0.3)  # let the pane reach `wait-for go`
        start = time.perf_counter()
        subprocess.run([*base, "wait-for", "-S", "go"], env=env, check=True)
        subprocess.run([*base, "wait-for", "done"], env=env, check=True, timeout=600)
        return time.perf_counter() - start
    finally:
        subprocess.run([*base, "kill-server"], env=env, capture_output=True)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the three contenders on the three streams; print a markdown table and return its rows."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pyte-kb", type=int, default=512)
    parser.add_argument("--no-tmux", action="store_true")
    args = parser.parse_args(argv)
    size = int(args.megabytes * 1e6)
    pyte_size = args.pyte_kb * 1024
    has_tmux = not args.no_tmux and shutil.which("tmux") is not None
    builders: dict[str, Callable[[int], bytes]] = {
        "(a) claude session": claude_stream,
        "(b) seq lines": seq_stream,
        "(c) SGR-heavy text": sgr_stream,
    }
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, build in builders.items():
            data = build(size)
            path = Path(tmp, "stream.bin")
            path.write_bytes(data)
            times: dict[str, list[float]] = {"ours": [], "ours cpu": [], "pyte": [], "tmux": []}
            for _ in range(args.runs):  # alternate contenders so they share the same load
                times["ours"].append(run_ours(data, times["ours cpu"]))
                times["pyte"].append(run_pyte(data[:pyte_size]))
                if has_tmux:
                    times["tmux"].append(run_tmux(path))
            ours = len(data) / statistics.median(times["ours"]) / 1e6
            ours_cpu = len(data) / statistics.median(times["ours cpu"]) / 1e6
            pyte_rate = pyte_size / statistics.median(times["pyte"]) / 1e6
            tmux_rate = len(data) / statistics.median(times["tmux"]) / 1e6 if times["tmux"] else None
            rows.append(
                {
                    "stream": label,
                    "MB": round(len(data) / 1e6, 1),
                    "ours MB/s": round(ours, 2),
                    "ours MB/s of CPU": round(ours_cpu, 2),
                    "pyte HistoryScreen MB/s": round(pyte_rate, 3),
                    "tmux MB/s": round(tmux_rate, 1) if tmux_rate else "n/a",
                    "ours / pyte": f"{ours / pyte_rate:.0f}x",
                    "ours / tmux": f"{ours / tmux_rate:.2f}x" if tmux_rate else "n/a",
                }
            )
    print(
        f"Terminal emulation, {COLS}x{ROWS}, 10,000-line scrollback, median of {args.runs} "
        f"(pyte on the first {args.pyte_kb} KiB of each stream)\n"
    )
    print(markdown_table(rows))
    return rows


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Rows (dicts with the same keys) as a markdown table."""
    if not rows:
        return ""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "|".join(" --- " for _ in keys) + "|"]
    lines += ["| " + " | ".join(str(row.get(key, "")) for key in keys) + " |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
