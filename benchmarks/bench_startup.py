"""Time from start to Claude's first frame: `claude-tui` (tracked, pane + sidebar) vs `claude` alone in a PTY.

All run the pinned real CLI against the offline stub in the same isolated environment, interleaved, each in
a fresh PTY of 160x45; the clock stops when the banner's "Claude Code" text reaches the terminal (for
claude-tui: once the pane has drawn it inside the app). Target: ratio <= 1.2 (the median, over rounds of
the three runs back to back, of each round's ratio).

A third row, the floor, is the least any Textual wrapper can do (`startup_floor`: spawn first, then a
one-widget app that shows the banner's words): it tells how much of the ratio is claude-tui's own and how
much is Python, Textual and two processes sharing the machine's cores.

Printed with the load average (1 min) before and after: the target is stated at load < 1, and the ratio
grows with the load (Claude and the wrapper share two cores with everything else).

`python -m benchmarks.bench_startup [--rounds N] [--tree DIR]...`: with `--tree` (a directory holding a
`claude_tui` package: a `git worktree` or `git archive` of another commit), each round also starts that
tree's claude-tui (first on PYTHONPATH, its bytecode compiled first), interleaved with this one: a before
and after in the same rounds.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import pexpect

from benchmarks.common import compile_package, cpu_seconds, thread_cpu_seconds
from benchmarks.startup_floor import drawn_banner
from claude_tui.claude_env import DEFAULT_FILES, SCRIPTED_FLAGS, ClaudeEnvironment
from claude_tui.scenarios import load_scenario
from claude_tui.stub_api import StubServer
from tests.support.processes import find_processes

RUNS = 15


class Start(NamedTuple):
    """One start, timed to the drawn banner."""

    seconds: float
    """From spawn until the banner is on the terminal."""
    cpu: float
    """CPU seconds the spawned process used by then (for the wrappers: what they took from Claude's start);
    for claude-tui with its session owner's (which runs the program)."""
    owner_cpu: float
    """Of `cpu`, the session owner's (0 without one)."""


def time_to_banner(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> Start:
    """One start (`Start`); the process is killed afterwards (and the owner).

    Each run gets a fresh `CLAUDE_TUI_HOME`: the killed run's spool is an orphan, and a later claude-tui
    would start logging it in the background, which is not what we time.
    """
    env = {**env, "CLAUDE_TUI_HOME": tempfile.mkdtemp(prefix="home-", dir=env["BENCH_TMP"])}
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, cwd=str(cwd), dimensions=(45, 160), timeout=timeout)
    output = b""
    try:
        while not drawn_banner(output):
            left = max(0.0, start + timeout - time.perf_counter())
            try:
                output += child.read_nonblocking(65536, timeout=left)
            except pexpect.TIMEOUT:
                raise TimeoutError(f"no banner from {argv[0]} in {timeout} s") from None
        elapsed, cpu = time.perf_counter() - start, cpu_seconds(child.pid)
        owner = owner_pid(env["CLAUDE_TUI_HOME"])  # a window's program runs in the session owner
        # To the ns (`/proc/PID/stat` counts 10 ms ticks; the forked owner uses ~4 ms by the banner now).
        owner_cpu = thread_cpu_seconds(owner) if owner is not None else 0.0
        return Start(elapsed, cpu + owner_cpu, owner_cpu)
    finally:
        child.terminate(force=True)
        kill_owner(env["CLAUDE_TUI_HOME"])


def owner_pid(home: str) -> int | None:
    """The session owner of the data dir `home` (a `claude-tui` window runs its programs there), if any.

    Found in `/proc` first: asking the owner for its pid (a connection and a hello) would make a forked
    owner take its second client, which its early relay leaves to the server, so its server's imports
    would be done before the CPU is read (`owner.relay`); asked only when `/proc` does not show it.
    """
    found = owner_in_proc(home)
    if found is not None:
        return found
    from claude_tui.owner.client import OwnerClient, OwnerError, OwnerNotRunning
    from claude_tui.owner.protocol import socket_path

    path = socket_path(Path(home))
    if not path.exists():
        return None
    try:
        with OwnerClient.connect(path, timeout=10) as client:
            return client.pid
    except (OwnerNotRunning, OwnerError, OSError):
        return None


def owner_in_proc(home: str) -> int | None:
    """The owner process of the data dir `home` as `/proc` shows it: a Python process started with
    `CLAUDE_TUI_HOME=home` whose stderr is the owner's log (the window's is its terminal, Claude's a PTY)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f"CLAUDE_TUI_HOME={home}".encode() not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            program = (entry / "cmdline").read_bytes().split(b"\0", 1)[0].decode(errors="replace")
            if Path(program).name.startswith("python") and os.readlink(entry / "fd" / "2").endswith(
                "/owner/owner.log"
            ):
                return int(entry.name)
        except OSError:
            continue
    return None


def kill_owner(home: str) -> None:
    """Kill the run's session owner, so its Claude ends as it did when it was the window's own (its
    terminal closes), before the next run; a session left running would slow that run down."""
    pid = owner_pid(home)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def processes_naming(text: str) -> list[int]:
    """The processes whose command line holds `text` (a program, a temporary folder)."""
    return find_processes(lambda process: text.encode() in process.cmdline())


def wait_until_gone(program: str, timeout: float = 10) -> bool:
    """Wait until no process runs `program` (or names it in its command line); False if some still does
    after `timeout` seconds. A claude whose terminal was closed takes ~0.25 s at full CPU to exit, which
    would slow the next run down."""
    deadline = time.monotonic() + timeout
    while processes_naming(program):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Measure the three (and each `--tree`), interleaved; print a markdown table and return its rows."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_startup", description=__doc__)
    parser.add_argument("--rounds", type=int, default=RUNS)
    parser.add_argument("--tree", type=Path, action="append", default=[], help="another claude_tui tree")
    args = parser.parse_args(argv)
    rounds: int = args.rounds
    trees = [tree.resolve() for tree in args.tree]
    for tree in trees:
        if not (tree / "claude_tui" / "__init__.py").is_file():
            parser.error(f"{tree} holds no claude_tui package")
        compileall.compile_dir(tree / "claude_tui", quiet=1)
    compile_package()
    load_before = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="bench-startup-", ignore_cleanup_errors=True) as tmp,
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
        alone: list[Start] = []
        tracked: list[Start] = []
        floored: list[Start] = []
        others: list[list[Start]] = [[] for _ in trees]
        starts = [(claude, env, alone), (tui, env, tracked), (floor, env, floored)]
        starts += [
            (tui, {**env, "PYTHONPATH": str(tree)}, times) for tree, times in zip(trees, others, strict=True)
        ]
        time_to_banner(claude, env, claude_env.work_dir)  # warm the page cache for the 370 MB binary
        for _argv, tree_env, _times in starts[1:]:
            time_to_banner(tui, tree_env, claude_env.work_dir)  # and for the Python modules
        for _ in range(rounds):
            for argv, tree_env, times in starts:
                wait_until_gone(claude[0])
                times.append(time_to_banner(argv, tree_env, claude_env.work_dir))
    load = f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}"
    cases = [
        ("claude alone in a PTY", alone),
        ("claude-tui (tracked)", tracked),
        ("floor: spawn, then a one-widget Textual app", floored),
        *((f"claude-tui (tracked) of {tree}", times) for tree, times in zip(trees, others, strict=True)),
    ]
    rows = [
        {
            "case": case,
            "median_s": statistics.median(run.seconds for run in runs),
            "min_s": min(run.seconds for run in runs),
            "cpu_s": statistics.median(run.cpu for run in runs),
            "owner_cpu_s": statistics.median(run.owner_cpu for run in runs),
            "runs": rounds,
            # Each round runs the three back to back, so a round's ratio is not skewed by the machine getting
            # slower or faster between rounds (shared 2-core machines drift by 30% within minutes).
            "ratio": statistics.median(t.seconds / a.seconds for t, a in zip(runs, alone, strict=True)),
            "load": load,
        }
        for case, runs in cases
    ]
    heading = f"first frame, median of {rounds} (s) | fastest (s) | ratio to claude alone (per round)"
    print(f"| case | {heading} | its own CPU by then (s) | of which its session owner (s) | load (1 min) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        target = " (target <= 1.2 at load < 1)" if row["case"].startswith("claude-tui") else ""
        times = f"{row['median_s']:.2f} | {row['min_s']:.2f} | {row['ratio']:.2f}{target}"
        owner = f"{row['owner_cpu_s']:.2f}" if row["case"].startswith("claude-tui") else ""
        print(f"| {row['case']} | {times} | {row['cpu_s']:.2f} | {owner} | {load} |")
    return rows


if __name__ == "__main__":
    main()
