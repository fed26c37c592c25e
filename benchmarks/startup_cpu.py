"""Compare the start-up CPU of claude-tui variants: a quieter A/B than `bench_startup` for small changes.

Usage: python -m benchmarks.startup_cpu [--rounds N] [--floor] TREE [TREE...]

Each TREE is a directory holding a `claude_tui` package (a `git worktree` of another commit, or a copy
with one change). Each round starts `claude-tui` once per tree, interleaved (the order flips each round),
with a fake `claude` that prints the banner 0.4 s in, and reads the CPU time the claude-tui process used
until the banner was drawn, and when the fake `claude` was exec'd (it notes the time first): every ms
Claude starts later is a ms later on its first frame. `--floor` adds `startup_floor.py` (spawn first, then
a one-widget Textual app) to each round, the least a Textual wrapper can do.

Without the real Claude starting beside it, the CPU figure moves by ~10 ms between
runs instead of the ~50 ms of a wall time, while it still counts everything claude-tui does before Claude's
first frame: in `bench_startup` each CPU second of ours cost ~0.8 points of the ratio (docs/startup.md).

The trees run as `python -m claude_tui` with the tree first on PYTHONPATH; their bytecode is compiled
first (see docs/startup.md on stale bytecode).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks.bench_startup import Start, processes_naming, time_to_banner, wait_until_gone

SETTLE_TIMEOUT = 300  # a logger process under heavy load (a 2-core machine at load 30) takes a while

STAMP = "CLAUDE_EXEC_STAMP"
"""The file the fake `claude` writes the wall-clock time of its start into (the environment reaches it
through claude-tui and its session owner, as the user's does)."""
FAKE_CLAUDE = (
    f'#!/bin/sh\n[ -n "${STAMP}" ] && date +%s.%N > "${STAMP}"\nsleep 0.4\n'
    "printf '\\033[1mClaude\\033[19GCode\\r\\n'\nsleep 30\n"
)
FLOOR = Path(__file__).with_name("startup_floor.py")


class Run(NamedTuple):
    """One start: `Start`, and the seconds from it to the fake Claude's exec (its first command's time)."""

    start: Start
    exec_s: float


def cpu_to_banner(tree: Path | None, work: Path, home: Path, store: str, claude: Path) -> Run:
    """Seconds to the drawn banner and the CPU seconds claude-tui used by then (window + owner), and when
    Claude was exec'd, one start (`tree` None: the floor)."""
    stamp = home / "exec-stamp"
    stamp.unlink(missing_ok=True)
    env = {**os.environ, "BENCH_TMP": str(home), STAMP: str(stamp)}
    if tree is None:
        argv = [sys.executable, str(FLOOR), str(claude)]
    else:
        env["PYTHONPATH"] = str(tree)
        argv = [sys.executable, "-m", "claude_tui", "--tracking-uri", store, "--command", str(claude)]
    began = time.time()
    start = time_to_banner(argv, env, work, timeout=30)
    return Run(start, float(stamp.read_text()) - began)


def settle(root: Path) -> None:
    """Wait until the processes an earlier start left behind have ended: each killed claude-tui hands its
    session to a logger process (`claude_tui.tracking.background`), which imports MLflow and writes into
    `root` for seconds after. It would take CPU from the next start, and removing `root` under it fails
    ("Directory not empty")."""
    if not wait_until_gone(str(root), timeout=SETTLE_TIMEOUT):
        raise TimeoutError(
            f"processes {processes_naming(str(root))} still use {root} after {SETTLE_TIMEOUT} s"
        )


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--floor", action="store_true", help="add the floor (startup_floor.py) to each round")
    parser.add_argument("trees", nargs="*", type=Path, help="directories holding a claude_tui package")
    args = parser.parse_args(argv)
    trees = [tree.resolve() for tree in args.trees] or [Path(__file__).resolve().parents[1]]
    for tree in trees:
        if not (tree / "claude_tui" / "__init__.py").is_file():
            parser.error(f"{tree} holds no claude_tui package")
        compileall.compile_dir(tree / "claude_tui", quiet=1)
    cases: list[Path | None] = [*trees, *([None] if args.floor else [])]
    results: dict[Path | None, list[Run]] = {case: [] for case in cases}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="startup-cpu-") as tmp:
        root = Path(tmp)
        claude = root / "bin" / "claude"
        claude.parent.mkdir()
        claude.write_text(FAKE_CLAUDE)
        claude.chmod(0o755)
        work = root / "work"
        work.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=work, check=True)
        store = f"sqlite:///{root / 'mlflow.db'}"
        for index in range(args.rounds):
            for case in cases if index % 2 == 0 else cases[::-1]:
                settle(root)
                results[case].append(cpu_to_banner(case, work, root, store, claude))
        settle(root)
    rows = []
    heading = "CPU by the banner, median (s) | lower quartile (s) | of which the session owner, median (s)"
    print(f"| tree | {heading} | time to banner, median (s) | Claude exec'd, median (ms) | load (1 min) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    load = f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}"
    for case, runs in results.items():
        cpus = sorted(run.start.cpu for run in runs)
        row = {
            "tree": str(case) if case is not None else "floor (startup_floor.py)",
            "cpu_s": statistics.median(cpus),
            "cpu_q1_s": cpus[len(cpus) // 4],
            "owner_cpu_s": statistics.median(run.start.owner_cpu for run in runs),
            "median_s": statistics.median(run.start.seconds for run in runs),
            "exec_ms": 1000 * statistics.median(run.exec_s for run in runs),
            "runs": len(runs),
            "load": load,
        }
        rows.append(row)
        cpu = f"{row['cpu_s']:.3f} | {row['cpu_q1_s']:.3f} | {row['owner_cpu_s']:.3f}"
        print(f"| {row['tree']} | {cpu} | {row['median_s']:.3f} | {row['exec_ms']:.0f} | {load} |")
    return rows


if __name__ == "__main__":
    main()
