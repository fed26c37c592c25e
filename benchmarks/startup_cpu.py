"""Compare the start-up CPU of claude-tui variants: a quieter A/B than `bench_startup` for small changes.

Usage: python -m benchmarks.startup_cpu [--rounds N] TREE [TREE...]

Each TREE is a directory holding a `claude_tui` package (a `git worktree` of another commit, or a copy
with one change). Each round starts `claude-tui` once per tree, interleaved (the order flips each round),
with a fake `claude` that prints the banner 0.4 s in, and reads the CPU time the claude-tui process used
until the banner was drawn. Without the real Claude starting beside it, this number moves by ~10 ms between
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
from pathlib import Path
from typing import Any

from benchmarks.bench_startup import Start, processes_naming, time_to_banner, wait_until_gone

SETTLE_TIMEOUT = 300  # a logger process under heavy load (a 2-core machine at load 30) takes a while

FAKE_CLAUDE = "#!/bin/sh\nsleep 0.4\nprintf '\\033[1mClaude\\033[19GCode\\r\\n'\nsleep 30\n"


def cpu_to_banner(tree: Path, work: Path, home: Path, store: str, claude: Path) -> Start:
    """Seconds to the drawn banner and the CPU seconds claude-tui used by then (window + owner), one start."""
    env = {**os.environ, "PYTHONPATH": str(tree), "BENCH_TMP": str(home)}
    argv = [sys.executable, "-m", "claude_tui", "--tracking-uri", store, "--command", str(claude)]
    return time_to_banner(argv, env, work, timeout=30)


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
    parser.add_argument("trees", nargs="*", type=Path, help="directories holding a claude_tui package")
    args = parser.parse_args(argv)
    trees = [tree.resolve() for tree in args.trees] or [Path(__file__).resolve().parents[1]]
    for tree in trees:
        if not (tree / "claude_tui" / "__init__.py").is_file():
            parser.error(f"{tree} holds no claude_tui package")
        compileall.compile_dir(tree / "claude_tui", quiet=1)
    results: dict[Path, list[Start]] = {tree: [] for tree in trees}
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
            for tree in trees if index % 2 == 0 else trees[::-1]:
                settle(root)
                results[tree].append(cpu_to_banner(tree, work, root, store, claude))
        settle(root)
    rows = []
    heading = "CPU by the banner, median (s) | lower quartile (s) | of which the session owner, median (s)"
    print(f"| tree | {heading} | time to banner, median (s) |")
    print("| --- | --- | --- | --- | --- |")
    for tree, runs in results.items():
        cpus = sorted(run.cpu for run in runs)
        row = {
            "tree": str(tree),
            "cpu_s": statistics.median(cpus),
            "cpu_q1_s": cpus[len(cpus) // 4],
            "owner_cpu_s": statistics.median(run.owner_cpu for run in runs),
            "median_s": statistics.median(run.seconds for run in runs),
            "runs": len(runs),
        }
        rows.append(row)
        cpu = f"{row['cpu_s']:.3f} | {row['cpu_q1_s']:.3f} | {row['owner_cpu_s']:.3f}"
        print(f"| {tree} | {cpu} | {row['median_s']:.3f} |")
    return rows


if __name__ == "__main__":
    main()
