"""Benchmark: terminal emulation, our TerminalEmulator against tmux, in MB per CPU second.

Four streams (built in memory; written to a temp file for tmux), as a terminal receives them (``\\r\\n``):

* ``claude``: a Claude Code session recorded from the real CLI (tests/data/streams/claude_interactive.bin),
  repeated;
* ``coloured log``: log lines with a coloured level (SGR 32/33/1;31 and SGR 0), what a build or test prints;
* ``full-screen redraws``: a top/htop-like program redrawing the whole screen: a cursor move per row, several
  coloured fields per row (256-colour, truecolour, bold, reverse), erase to the end of the line;
* ``seq``: the lines of ``seq`` (``N\\r\\n``).

Contenders, at 200x50 with 10,000 lines of scrollback, median of ``--runs`` (3), alternating so they share
the machine's load:

* ours: ``TerminalEmulator(200, 50, history=10_000)`` fed in 64 KiB reads (a PTY read's size) from memory;
  the CPU seconds of the feeding (``time.process_time``);
* tmux (``-x 200 -y 50``, history-limit 10000, detached): the CPU seconds (utime + stime from
  ``/proc/PID/stat``) its server process spent while a pane ``cat``-ed the stream in raw mode. Those include
  reading the PTY (raw reads here run at ~280 MB/s, a few per cent of tmux's time), which ours, fed from
  memory, does not: that part favours ours slightly.

The target (issue 19): ours >= 0.5x tmux's MB per CPU second on every stream.

A second table (issue 13): the cost per byte of the most expensive sequences we know of (huge counts for every
CSI that takes one, long parameter lists, string floods, alternate-screen storms, ...) at 200x50 with a full
scrollback. Target: the worst below 50 us per byte.

Run: ``.venv/bin/python benchmarks/bench_terminal.py [--megabytes 20] [--runs 3] [--no-tmux]``.
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
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.common import cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
STREAMS = ROOT / "tests" / "data" / "streams"
COLS, ROWS = 200, 50
HISTORY = 10_000
CHUNK = 65536


def claude_stream(size: int) -> bytes:
    """A real Claude Code session, repeated to ``size`` bytes."""
    for name in ("claude_interactive.bin", "claude_session.bin"):
        path = STREAMS / name
        if path.exists() and path.stat().st_size:
            one = path.read_bytes()
            return (one * (size // len(one) + 1))[:size]
    raise FileNotFoundError(f"no recorded Claude stream in {STREAMS}")


def log_stream(size: int) -> bytes:
    """Log lines, the level coloured: what a build or a test run prints."""
    out = bytearray()
    i = 0
    while len(out) < size:
        level = (b"\x1b[32mINFO\x1b[0m", b"\x1b[33mWARN\x1b[0m", b"\x1b[1;31mERROR\x1b[0m")[i % 3]
        out += b"2026-11-27 06:%02d:%02d %s worker-%d processed item %d in %dms\r\n" % (
            i % 60,
            i % 59,
            level,
            i % 7,
            i,
            i % 997,
        )
        i += 1
    return bytes(out[:size])


def redraw_stream(size: int, cols: int = COLS, rows: int = ROWS) -> bytes:
    """Whole-screen redraws like top's or htop's: per row a cursor move, coloured fields, erase to the end."""
    out = bytearray()
    frame = 0
    while len(out) < size:
        out += b"\x1b[H\x1b[1;37;44m top - 06:%02d:%02d up %d days, load average: %d.%02d \x1b[K\x1b[0m" % (
            frame % 60,
            frame % 59,
            frame % 9,
            frame % 4,
            frame % 100,
        )
        for y in range(2, rows + 1):
            pid = 1000 + (y * 37 + frame) % 9000
            cpu = (y * 13 + frame * 7) % 1000
            row = b"\x1b[%d;1H\x1b[38;5;%dm%6d \x1b[0mroot      20   0 \x1b[1m%7dK\x1b[0m " % (
                y,
                (y + frame) % 256,
                pid,
                (pid * 31) % 999999,
            )
            row += b"\x1b[38;2;%d;%d;%dm%3d.%d\x1b[0m \x1b[7m S \x1b[0m " % (
                cpu % 256,
                (cpu * 3) % 256,
                (cpu * 7) % 256,
                cpu // 10,
                cpu % 10,
            )
            row += b"\x1b[36m%s\x1b[0m" % (b"process-%d --option=value " % (pid % 97)) * ((cols - 40) // 30)
            out += row + b"\x1b[K"
        frame += 1
    return bytes(out[:size])


def seq_stream(size: int) -> bytes:
    """``seq 1 N`` as the terminal receives it, cut at ``size`` bytes."""
    out = bytearray()
    n = 1
    while len(out) < size:
        out += b"".join(b"%d\r\n" % i for i in range(n, n + 100_000))
        n += 100_000
    return bytes(out[:size])


STREAM_BUILDERS: dict[str, Callable[[int], bytes]] = {
    "claude session": claude_stream,
    "coloured log": log_stream,
    "full-screen redraws": redraw_stream,
    "seq": seq_stream,
}


def run_ours(data: bytes) -> float:
    """CPU seconds for our emulator (200x50, 10,000 lines of scrollback) to take ``data`` in 64 KiB reads."""
    from claude_tui.terminal import TerminalEmulator

    emulator = TerminalEmulator(COLS, ROWS, history=HISTORY)
    feed = emulator.feed
    chunks = [data[pos : pos + CHUNK] for pos in range(0, len(data), CHUNK)]
    start = time.process_time()
    for chunk in chunks:
        feed(chunk)
    return time.process_time() - start


def run_tmux(path: Path) -> float:
    """CPU seconds the tmux server spent while a detached pane (200x50) ``cat``-ed ``path`` in raw mode."""
    socket = path.with_name(f"tmux-{uuid.uuid4().hex[:8]}")  # in the temp dir: removed with it
    conf = path.with_suffix(".tmux.conf")
    conf.write_text(f"set -g history-limit {HISTORY}\nset -g status off\n")
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
        pid = int(
            subprocess.run(
                [*base, "display-message", "-p", "#{pid}"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        time.sleep(0.3)  # let the pane reach `wait-for go`
        before = cpu_seconds(pid)
        subprocess.run([*base, "wait-for", "-S", "go"], env=env, check=True)
        subprocess.run([*base, "wait-for", "done"], env=env, check=True, timeout=600)
        # `wait-for -S done` can reach the server before it has parsed the last output: wait until idle.
        spent = cpu_seconds(pid)
        for _ in range(100):
            time.sleep(0.05)
            now = cpu_seconds(pid)
            if now == spent:
                break
            spent = now
        return spent - before
    finally:
        subprocess.run([*base, "kill-server"], env=env, capture_output=True)


# ------------------------------------------------------------------------------------------------
# the most expensive sequences (issue 13)

BIG = b"999999999"
WORST_CASES: dict[str, bytes] = {
    **{
        f"CSI {BIG.decode()} {final}": b"\x1b[" + BIG + final.encode() for final in "@ABCDEFGIJKLMPSTXZ`abdeg"
    },
    "CSI 999999999 b after a char": b"x\x1b[" + BIG + b"b",
    "CUP 999999999;999999999": b"\x1b[" + BIG + b";" + BIG + b"H",
    "DECSTBM 1;50 + CSI 999999999 S": b"\x1b[1;50r\x1b[" + BIG + b"S",
    "CSI with 5,000-digit parameter": b"\x1b[" + b"9" * 5000 + b"C",
    "CSI with 1,000 parameters (SGR)": b"\x1b["
    + b";".join(b"38;5;%d" % (i % 256) for i in range(333))
    + b"m",
    "CSI with 1,000 parameters (modes)": b"\x1b[?" + b";".join(b"1049" for _ in range(1000)) + b"h",
    "OSC title 64 KiB": b"\x1b]0;" + b"t" * 65536 + b"\x07",
    "DCS flood 64 KiB": b"\x1bP" + b"d" * 65536 + b"\x1b\\",
    "APC unterminated 200 KiB": b"\x1b_" + b"a" * 200_000,
    "alternate-screen storm": b"\x1b[?1049h\x1b[?1049l" * 100,
    "ED 2 on a full screen": b"\x1b[H" + b"x" * (COLS * ROWS) + b"\x1b[2J",
    "DECALN + ED 2": b"\x1b#8\x1b[2J",
    "RIS": b"\x1bc",
    "random bytes": bytes((i * 7919 + 13) % 256 for i in range(4096)),
    "wide chars wrapping": "界".encode() * 2000,
    "combining marks on one cell": b"a" + "\u0301".encode() * 2000,
}


def worst_sequences(repeat: int = 20) -> list[tuple[str, float]]:
    """(case, CPU microseconds per byte) of each of `WORST_CASES`, fed `repeat` times to a full emulator."""
    from claude_tui.terminal import TerminalEmulator

    results = []
    for label, sequence in WORST_CASES.items():
        emulator = TerminalEmulator(COLS, ROWS, history=HISTORY)
        emulator.feed(b"line\r\n" * (HISTORY + ROWS))  # a full scrollback: the dearest state to clear
        emulator.feed(b"\x1b[25;100H")
        start = time.process_time()
        try:
            for _ in range(repeat):
                emulator.feed(sequence)
        except Exception as exc:  # feed() must never raise: report it as the worst case there is
            results.append((f"{label} (raised {type(exc).__name__})", float("inf")))
            continue
        seconds = time.process_time() - start
        results.append((label, seconds / (len(sequence) * repeat) * 1e6))
    return sorted(results, key=lambda item: -item[1])


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run ours and tmux on the four streams and the worst sequences; print tables and return their rows."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-tmux", action="store_true")
    parser.add_argument("--streams", nargs="*", choices=list(STREAM_BUILDERS), default=list(STREAM_BUILDERS))
    args = parser.parse_args(argv)
    size = int(args.megabytes * 1e6)
    has_tmux = not args.no_tmux and shutil.which("tmux") is not None
    rows: list[dict[str, Any]] = []
    loads: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label in args.streams:
            data = STREAM_BUILDERS[label](size)
            path = Path(tmp, "stream.bin")
            path.write_bytes(data)
            ours: list[float] = []
            tmux: list[float] = []
            for _ in range(args.runs):  # alternate contenders so they share the same load
                loads.append(os.getloadavg()[0])
                ours.append(run_ours(data))
                if has_tmux:
                    tmux.append(run_tmux(path))
            ours_rate = len(data) / statistics.median(ours) / 1e6
            tmux_rate = len(data) / statistics.median(tmux) / 1e6 if tmux else None
            ratio = ours_rate / tmux_rate if tmux_rate else None
            rows.append(
                {
                    "case": f"emulator, {label}",
                    "MB": round(len(data) / 1e6, 1),
                    "ours MB/CPU-s": round(ours_rate, 1),
                    "tmux MB/CPU-s": round(tmux_rate, 1) if tmux_rate else "n/a",
                    "ours / tmux": f"{ratio:.2f}x" if ratio else "n/a",
                    "target": ">= 0.5x tmux",
                    "met": ("yes" if ratio >= 0.5 else "NO") if ratio else "n/a",
                    "load": f"{statistics.median(loads[-args.runs :]):.1f}",
                }
            )
    worst = worst_sequences()
    load = os.getloadavg()[0]
    label, cost = worst[0]
    rows.append(
        {
            "case": f"worst sequence per byte: {label}",
            "MB": "",
            "ours MB/CPU-s": f"{cost:.2f} us/byte",
            "tmux MB/CPU-s": "",
            "ours / tmux": "",
            "target": "< 50 us/byte",
            "met": "yes" if cost < 50 else "NO",
            "load": f"{load:.1f}",
        }
    )
    print(
        f"Terminal emulation {date.today().isoformat()}, {COLS}x{ROWS}, {HISTORY:,}-line scrollback, "
        f"{args.megabytes:g} MB a stream, median of {args.runs}; {os.cpu_count()} CPUs, "
        f"load average {min(loads or [load]):.1f}-{max(loads or [load]):.1f}\n"
    )
    print(markdown_table(rows))
    print("\nThe dearest sequences, CPU microseconds per byte (a full emulator, each fed 20 times):\n")
    print(markdown_table([{"sequence": name, "us/byte": f"{us:.3f}"} for name, us in worst[:8]]))
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
