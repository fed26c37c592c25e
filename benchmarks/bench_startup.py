"""Time from start to Claude's first frame: `claude-tui` (tracked, pane + sidebar) vs `claude` alone in a PTY.

All run the pinned real CLI against the offline stub in the same isolated environment, interleaved, each in
a fresh PTY of 160x45; the clock stops when the banner's "Claude Code" text reaches the terminal (for
claude-tui: once the pane has drawn it inside the app). Target: ratio of medians <= 1.2.

A third row, the floor, is the least any Textual wrapper can do (`startup_floor`: spawn first, then a
one-widget app that shows the banner's words): it tells how much of the ratio is claude-tui's own and how
much is Python, Textual and two processes sharing the machine's cores.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pexpect

from claude_tui.claude_env import DEFAULT_FILES, SCRIPTED_FLAGS, ClaudeEnvironment
from claude_tui.scenarios import load_scenario
from claude_tui.stub_api import StubServer

RUNS = 11
BANNER = rb"Claude(?:\x1b\[[0-9;]*m)* (?:\x1b\[[0-9;]*m)*Code"
"""The banner's words; Textual styles each word on its own, so SGR codes may sit between them."""


def time_to_banner(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> float:
    """Seconds from spawn until the banner is on the terminal; the process is killed afterwards.

    Each run gets a fresh `CLAUDE_TUI_HOME`: the killed run's spool is an orphan, and a later claude-tui
    would start logging it in the background, which is not what we time.
    """
    env = {**env, "CLAUDE_TUI_HOME": tempfile.mkdtemp(prefix="home-", dir=env["BENCH_TMP"])}
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, cwd=str(cwd), dimensions=(45, 160), timeout=timeout)
    try:
        child.expect(BANNER)
        return time.perf_counter() - start
    finally:
        child.terminate(force=True)


def main() -> list[dict[str, Any]]:
    """Measure the three, interleaved; print a markdown table and return its rows."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp,
        StubServer(load_scenario("realistic")) as stub,
    ):
        claude_env = ClaudeEnvironment.create(Path(tmp) / "env", stub.url, files=DEFAULT_FILES)
        assert claude_env.claude_bin is not None, "run `make setup` first: the pinned CLI is missing"
        env = {**os.environ, **claude_env.env(), "BENCH_TMP": tmp}
        claude = [str(claude_env.claude_bin), *SCRIPTED_FLAGS]
        floor = [sys.executable, str(Path(__file__).with_name("startup_floor.py")), *claude]
        store = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
        tui = [sys.executable, "-m", "claude_tui", "--tracking-uri", store]
        tui += ["--command", str(claude_env.claude_bin), "--", *SCRIPTED_FLAGS]
        alone: list[float] = []
        tracked: list[float] = []
        floored: list[float] = []
        time_to_banner(claude, env, claude_env.work_dir)  # warm the page cache for the 370 MB binary
        time_to_banner(tui, env, claude_env.work_dir)  # and for the Python modules
        for _ in range(RUNS):
            alone.append(time_to_banner(claude, env, claude_env.work_dir))
            tracked.append(time_to_banner(tui, env, claude_env.work_dir))
            floored.append(time_to_banner(floor, env, claude_env.work_dir))
    cases = [
        ("claude alone in a PTY", alone),
        ("claude-tui (tracked)", tracked),
        ("floor: spawn, then a one-widget Textual app", floored),
    ]
    base = statistics.median(alone)
    rows = [
        {"case": case, "median_s": statistics.median(times), "min_s": min(times), "runs": RUNS}
        for case, times in cases
    ]
    for row in rows:
        row["ratio"] = row["median_s"] / base
    print(f"| case | first frame, median of {RUNS} (s) | fastest (s) | ratio to claude alone |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        target = " (target <= 1.2)" if row["case"].startswith("claude-tui") else ""
        print(f"| {row['case']} | {row['median_s']:.2f} | {row['min_s']:.2f} | {row['ratio']:.2f}{target} |")
    return rows


if __name__ == "__main__":
    main()
