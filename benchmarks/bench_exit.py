"""Exit and footprint: `/exit` to the shell prompt, claude-tui against claude alone (issue 19, 1 and 2).

Both run the pinned real CLI against the offline stub in the same isolated environment, interleaved, each in a
fresh PTY of 160x45. Per run: wait for the banner, then `SETTLE` seconds (what a session's first seconds
start in the background has started), then claude-tui's own processes are measured over `IDLE` seconds: the
window (the UI) and its session owner (which runs the program: claude-tui's too since the window became the
owner's client), their children (claude, loggers) not counted: their CPU (all their threads, to the
nanosecond; claude alone's own idle CPU in the same rounds is printed beside it), their memory (RSS), each
and summed (the targets are for the sum), and whether numpy, pandas, pyarrow or scipy are mapped into the
window (they come only with mlflow). Then `/exit` is
typed and the clock starts at the Enter key:
- exit: until the process is gone (what the shell waits for), target <= 4x claude alone, per round;
- in the store: from the exit until the session's run is in the sqlite store and finished, target <= 3 s.
The logger process that logs it is started while the session runs (the warm logger, after Claude's first
frame): its memory in the idle window is printed too, beside the UI's.

Printed with the load average (1 min) before and after: on a shared machine the figures move with it.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pexpect

from benchmarks.bench_startup import kill_owner, owner_pid, wait_until_gone
from benchmarks.common import thread_cpu_seconds
from benchmarks.startup_floor import drawn_banner
from claude_tui.claude_env import DEFAULT_FILES, SCRIPTED_FLAGS, ClaudeEnvironment
from claude_tui.scenarios import load_scenario
from claude_tui.stub_api import StubServer

RUNS = 5
SETTLE = 6.0
"""Seconds after the banner before the idle window: past the app's background start-up work."""
IDLE = 5.0
"""Seconds of the idle window."""
HEAVY = ("numpy", "pandas", "pyarrow", "scipy")
"""Libraries whose compiled modules show in the process's memory map when they are loaded."""
STORE_WAIT = 60.0


def rss_mb(pid: int) -> float:
    """The process's resident memory in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def warm_logger_rss_mb(parent: int) -> float:
    """The resident memory in MB of the warm logger that process `parent` started (0 when there is none)."""
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"--serve" in cmdline:
            return rss_mb(int(entry.name))
    return 0.0


def heavy_loaded(pid: int) -> list[str]:
    """Which of `HEAVY` have a compiled module mapped into the process."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return [name for name in HEAVY if f"/{name}/" in maps or f"/{name}.libs/" in maps]


def finished_runs(db: Path) -> int:
    """How many finished runs the sqlite store holds (0 while it does not exist)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2) as conn:
            row = conn.execute("SELECT COUNT(*) FROM runs WHERE status = 'FINISHED'").fetchone()
            return int(row[0])
    except sqlite3.Error:  # not created yet, or being migrated
        return 0


def drain(child: pexpect.spawn, seconds: float) -> bytes:
    """Read what the process writes for `seconds` (so it never blocks on a full terminal)."""
    out = b""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            out += child.read_nonblocking(65536, timeout=min(left, 0.1))
        except pexpect.TIMEOUT:
            continue
        except pexpect.EOF:
            break
    return out


def one_run(argv: list[str], env: dict[str, str], cwd: Path, db: Path | None) -> dict[str, Any]:
    """Start, measure the idle window, `/exit`; the figures of one run."""
    env = {**env, "CLAUDE_TUI_HOME": tempfile.mkdtemp(prefix="home-", dir=env["BENCH_TMP"])}
    child = pexpect.spawn(argv[0], argv[1:], env=env, cwd=str(cwd), dimensions=(45, 160), timeout=60)
    try:
        output = b""
        deadline = time.monotonic() + 60
        while not drawn_banner(output):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no banner from {argv[0]}")
            output += drain(child, 0.1)
        drain(child, SETTLE)
        owner = owner_pid(env["CLAUDE_TUI_HOME"])  # runs the program; it starts the warm logger
        before = thread_cpu_seconds(child.pid)
        owner_before = thread_cpu_seconds(owner) if owner is not None else 0.0
        drain(child, IDLE)
        cpu = (thread_cpu_seconds(child.pid) - before) / IDLE
        owner_cpu = (thread_cpu_seconds(owner) - owner_before) / IDLE if owner is not None else 0.0
        rss, heavy = rss_mb(child.pid), heavy_loaded(child.pid)
        owner_rss = rss_mb(owner) if owner is not None else 0.0
        logger_rss = warm_logger_rss_mb(owner if owner is not None else child.pid)
        runs_before = finished_runs(db) if db is not None else 0
        child.send("/exit")
        drain(child, 1.0)  # the command menu opens; Enter then runs /exit
        start = time.perf_counter()
        child.send("\r")
        while child.isalive():
            try:
                child.read_nonblocking(65536, timeout=0.005)
            except (pexpect.TIMEOUT, pexpect.EOF):
                pass
        exited = time.perf_counter() - start
        logged = None
        if db is not None:
            gone = time.perf_counter()
            while finished_runs(db) <= runs_before and time.perf_counter() - gone < STORE_WAIT:
                time.sleep(0.02)
            logged = time.perf_counter() - gone if finished_runs(db) > runs_before else float("inf")
        return {
            "exit": exited,
            "logged": logged,
            "cpu": cpu,
            "owner_cpu": owner_cpu,
            "rss": rss,
            "heavy": heavy,
            "logger_rss": logger_rss,
            "owner_rss": owner_rss,
        }
    finally:
        child.terminate(force=True)
        kill_owner(env["CLAUDE_TUI_HOME"])


def main() -> list[dict[str, Any]]:
    """Measure both, interleaved; print a markdown table and return its rows."""
    load_before = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="bench-exit-", ignore_cleanup_errors=True) as tmp,
        StubServer(load_scenario("realistic")) as stub,
    ):
        claude_env = ClaudeEnvironment.create(Path(tmp) / "env", stub.url, files=DEFAULT_FILES)
        assert claude_env.claude_bin is not None, "run `make setup` first: the pinned CLI is missing"
        env = {**os.environ, **claude_env.env(), "BENCH_TMP": tmp}
        claude = [str(claude_env.claude_bin), *SCRIPTED_FLAGS]
        db = Path(tmp) / "mlflow.db"
        tui = [sys.executable, "-m", "claude_tui", "--tracking-uri", f"sqlite:///{db}"]
        tui += ["--command", str(claude_env.claude_bin), "--", *SCRIPTED_FLAGS]
        alone: list[dict[str, Any]] = []
        tracked: list[dict[str, Any]] = []
        for _ in range(RUNS):
            for argv, runs, store in ((claude, alone, None), (tui, tracked, db)):
                wait_until_gone(claude[0])
                runs.append(one_run(argv, env, claude_env.work_dir, store))
    load_after = os.getloadavg()[0]
    load = f"{load_before:.1f} -> {load_after:.1f}"
    ratio = statistics.median(t["exit"] / a["exit"] for t, a in zip(tracked, alone, strict=True))
    heavy = sorted({name for run in tracked for name in run["heavy"]})
    rows = [
        {
            "case": "claude alone: /exit to the shell prompt",
            "median_s": statistics.median(r["exit"] for r in alone),
            "ratio": 1.0,
            "runs": RUNS,
            "load": load,
        },
        {
            "case": "claude-tui: /exit to the shell prompt (target <= 4x)",
            "median_s": statistics.median(r["exit"] for r in tracked),
            "ratio": ratio,
            "runs": RUNS,
            "load": load,
        },
        {
            "case": "claude-tui: the run finished in the store, after the exit (target <= 3 s)",
            "median_s": statistics.median(r["logged"] for r in tracked),
            "runs": RUNS,
            "load": load,
        },
        {
            "case": "claude-tui's own processes idle (the window + its session owner): CPU % (target < 0.5)",
            "median": 100 * statistics.median(r["cpu"] + r["owner_cpu"] for r in tracked),
            "runs": RUNS,
            "load": load,
        },
        {
            "case": "of which the window (the UI process): CPU %",
            "median": 100 * statistics.median(r["cpu"] for r in tracked),
            "runs": RUNS,
            "load": load,
        },
        {
            "case": "of which the session owner (runs the program): CPU %",
            "median": 100 * statistics.median(r["owner_cpu"] for r in tracked),
            "runs": RUNS,
            "load": load,
        },
        {
            "case": "claude alone idle, its own process: CPU % (the anchor: what the program itself takes)",
            "median": 100 * statistics.median(r["cpu"] for r in alone),
            "runs": RUNS,
            "load": load,
        },
        {
            "case": "claude-tui's own processes (the window + its session owner): memory MB (target <= 80); "
            "heavy libraries in the window: " + (", ".join(heavy) or "none"),
            "median": statistics.median(r["rss"] + r["owner_rss"] for r in tracked),
            "runs": RUNS,
            "load": load,
        },
        {
            "case": "of which the window: memory MB",
            "median": statistics.median(r["rss"] for r in tracked),
            "runs": RUNS,
            "load": load,
        },
        {
            "case": "of which the session owner: memory MB",
            "median": statistics.median(r["owner_rss"] for r in tracked),
            "runs": RUNS,
            "load": load,
        },
        {
            "case": "its warm logger process (mlflow, the store open): memory MB",
            "median": statistics.median(r["logger_rss"] for r in tracked),
            "runs": RUNS,
            "load": load,
        },
    ]
    print("| case | median | ratio to claude alone (per round) | runs | load (1 min) |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        value = f"{row['median_s']:.3f} s" if "median_s" in row else f"{row['median']:.1f}"
        if "CPU" in row["case"]:
            value = f"{row['median']:.2f}"  # the target is 0.5
        ratio_cell = f"{row['ratio']:.1f}x" if "ratio" in row else ""
        print(f"| {row['case']} | {value} | {ratio_cell} | {row['runs']} | {row['load']} |")
    return rows


if __name__ == "__main__":
    main()
