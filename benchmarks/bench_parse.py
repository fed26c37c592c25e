"""Benchmark: `claude-tui stats --json` vs ccusage on a large set of realistic transcripts.

The data set is built once (cached in the git-ignored `.bench/parse/`) from the REAL transcripts the CLI wrote
in `tests/data/transcripts/` (records as the CLI wrote them, re-serialised compactly like the CLI does): each
generated session is one or more copies of real sessions (sub-agent files included) with fresh session ids,
record uuids, message ids, request ids and tool-use ids, until the set holds >= 100 MB in ~500 sessions.

Every 25th session is instead a real forked pair: the CLI's `--resume <id> --fork-session` writes a new
session file that repeats the conversation it continues (same message and request ids) before the new turn.

Both tools then run side by side, alternating, three times each on the same folder (`CLAUDE_CONFIG_DIR` points
ccusage at it): wall time (median), MB/s and peak memory (the sampled RSS of the command's whole process
tree; the kernel's `ru_maxrss` is shown too). Token numbers are compared with two ground truths from the
CLI's own `cost-state` records: per session (what the CLI accounts to each session file: "sessions = CLI"
counts the sessions a tool got exactly right) and billed (each API message once, across files).

It also times the git-operation rule alone (`count_git_operations` over every Bash command of the data set,
from this tree and each `--tree`) and, when bashlex happens to be installed, bashlex's parse of the same
commands, for comparison (bashlex is not a dependency).

`--tree DIR` (repeatable) also times `claude-tui stats --json` from another source tree (a `git worktree` of
another commit: `python -m claude_tui` with DIR first on PYTHONPATH), interleaved with the others, to compare
two versions in the same run. The 1-minute load average is printed beside every row.

Run: `.venv/bin/python benchmarks/bench_parse.py [--sessions 500] [--megabytes 105] [--runs 3] [--tree DIR]`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
# Run as a script too (`python benchmarks/bench_parse.py`, as docs/parsing.md says).
sys.path.insert(0, str(ROOT))

from tests.support.claude_cli import read_jsonl  # noqa: E402 - after the path is set

SOURCE = ROOT / "tests" / "data" / "transcripts"
BENCH = ROOT / ".bench"
DATA = BENCH / "parse"
CCUSAGE_DIR = BENCH / "ccusage"
CCUSAGE_VERSION = "20.0.24"
TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")
# ccusage's names for the same totals.
CCUSAGE_FIELDS = ("inputTokens", "outputTokens", "cacheReadTokens", "cacheCreationTokens")
COST_STATE_FIELDS = ("inputTokens", "outputTokens", "cacheReadInputTokens", "cacheCreationInputTokens")


@dataclass
class SourceSession:
    """A real transcript and its sub-agent files, with the CLI's own token totals."""

    main: list[dict[str, Any]]
    subagents: dict[str, list[dict[str, Any]]]
    truth: tuple[int, int, int, int] | None
    cost: float = 0.0
    """The CLI's own `totalCostUSD` (its last cost-state record)."""


def load_sources(source: Path) -> list[SourceSession]:
    """Every main transcript under `source` with its sub-agent transcripts."""
    sessions = []
    for path in sorted(source.rglob("*.jsonl")):
        if path.parent.name == "subagents":
            continue
        main = read_jsonl(path)
        subagents = {p.name: read_jsonl(p) for p in sorted(path.with_suffix("").glob("subagents/*.jsonl"))}
        truth = None
        cost = 0.0
        for record in main:
            if record.get("type") == "cost-state" and isinstance(record.get("modelUsage"), dict):
                totals = [0, 0, 0, 0]
                for usage in record["modelUsage"].values():
                    for i, key in enumerate(COST_STATE_FIELDS):
                        totals[i] += int(usage.get(key) or 0)
                truth = (totals[0], totals[1], totals[2], totals[3])
                cost = float(record.get("totalCostUSD") or 0.0)
        if any(r.get("type") == "assistant" for r in main):
            sessions.append(SourceSession(main, subagents, truth, cost))
    return sessions


_ID_KEYS = (
    "uuid",
    "parentUuid",
    "leafUuid",
    "promptId",
    "requestRef",
    "sourceToolAssistantUUID",
    "logicalParentUuid",
)


class Renamer:
    """Fresh ids for one copy of a session, the same id for every mention of the same old id.

    `shift` moves every timestamp (bench_import spreads its copies over time).
    """

    def __init__(self, rng: random.Random, session_id: str, shift: timedelta | None = None) -> None:
        self.rng = rng
        self.session_id = session_id
        self.shift = shift
        self.map: dict[str, str] = {}

    def fresh(self, old: str, kind: str) -> str:
        new = self.map.get(old)
        if new is None:
            if kind == "uuid":
                new = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            else:
                new = f"{kind}_{self.rng.getrandbits(96):024x}"
            self.map[old] = new
        return new

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        record = dict(record)
        if "sessionId" in record:
            record["sessionId"] = self.session_id
        if isinstance(record.get("timestamp"), str) and self.shift:
            moment = datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00")) + self.shift
            record["timestamp"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for key in _ID_KEYS:
            if isinstance(record.get(key), str):
                record[key] = self.fresh(record[key], "uuid")
        if isinstance(record.get("requestId"), str):
            record["requestId"] = self.fresh(record["requestId"], "req")
        if isinstance(record.get("agentId"), str):
            record["agentId"] = self.fresh(record["agentId"], "agent")[6:23]
        message = record.get("message")
        if isinstance(message, dict):
            message = record["message"] = dict(message)
            if isinstance(message.get("id"), str):
                message["id"] = self.fresh(message["id"], "msg")
            content = message.get("content")
            if isinstance(content, list):
                blocks = []
                for block in content:
                    if isinstance(block, dict):
                        block = dict(block)
                        if block.get("type") == "tool_use" and isinstance(block.get("id"), str):
                            block["id"] = self.fresh(block["id"], "toolu")
                        if isinstance(block.get("tool_use_id"), str):
                            block["tool_use_id"] = self.fresh(block["tool_use_id"], "toolu")
                    blocks.append(block)
                message["content"] = blocks
        return record


def _dump(records: list[dict[str, Any]]) -> bytes:
    # Compact JSON with raw UTF-8, one record a line: what the CLI's JSON.stringify writes.
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def record_sources(dest: Path) -> Path:
    """Real transcripts of every bundled scenario: the real CLI run against the stub (cached in `dest`).

    Used when tests/data/transcripts/ holds none.
    """
    import tempfile

    from claude_tui.claude_env import DEFAULT_FILES, ClaudeEnvironment
    from claude_tui.scenarios import load_scenario, scenario_names, scenario_prompts
    from claude_tui.stub_api import StubServer

    if any(dest.rglob("*.jsonl")):
        return dest
    for name in scenario_names():
        with tempfile.TemporaryDirectory() as tmp, StubServer(load_scenario(name)) as stub:
            env = ClaudeEnvironment.create(tmp, stub.url, files=DEFAULT_FILES)
            session_id = str(uuid.UUID(int=random.Random(name).getrandbits(128), version=4))
            for index, prompt in enumerate(scenario_prompts(name)):
                resume = ("--resume", session_id)
                argv = (
                    env.argv(prompt, session_id=session_id) if index == 0 else env.argv(prompt, extra=resume)
                )
                subprocess.run(
                    argv, cwd=env.work_dir, env=env.env(), capture_output=True, timeout=300, check=True
                )
            target = dest / name
            target.mkdir(parents=True, exist_ok=True)
            for path in env.projects_dir.glob("*/*"):
                if path.is_dir():
                    shutil.copytree(path, target / path.name, dirs_exist_ok=True)
                elif path.suffix == ".jsonl":
                    shutil.copy2(path, target / path.name)
    return dest


def record_fork(dest: Path) -> tuple[SourceSession, SourceSession]:
    """A real forked pair (cached in `dest`): the realistic scenario's first prompt, then its second prompt
    with `--resume <id> --fork-session`, which writes a new session file that repeats the whole conversation
    (same message and request ids) before the new turn."""
    import tempfile

    from claude_tui.claude_env import DEFAULT_FILES, ClaudeEnvironment
    from claude_tui.scenarios import load_scenario, scenario_prompts
    from claude_tui.stub_api import StubServer

    if not any(dest.rglob("*.jsonl")):
        first, second = scenario_prompts("realistic")[:2]
        with tempfile.TemporaryDirectory() as tmp, StubServer(load_scenario("realistic")) as stub:
            env = ClaudeEnvironment.create(tmp, stub.url, files=DEFAULT_FILES)
            session_id = str(uuid.UUID(int=random.Random("fork").getrandbits(128), version=4))
            runs = [
                env.argv(first, session_id=session_id),
                env.argv(second, extra=("--resume", session_id, "--fork-session")),
            ]
            for argv in runs:
                subprocess.run(
                    argv, cwd=env.work_dir, env=env.env(), capture_output=True, timeout=300, check=True
                )
            dest.mkdir(parents=True, exist_ok=True)
            for path in env.projects_dir.glob("*/*"):
                if path.is_dir():
                    shutil.copytree(path, dest / path.name, dirs_exist_ok=True)
                elif path.suffix == ".jsonl":
                    shutil.copy2(path, dest / path.name)
    pair = sorted(load_sources(dest), key=lambda src: len(src.main))
    if len(pair) != 2:
        raise SystemExit(f"expected an original and a fork under {dest}")
    return pair[0], pair[1]


def _write_session(
    folder: Path, session_id: str, main: list[dict[str, Any]], subagents: dict[str, list[dict[str, Any]]]
) -> int:
    data = _dump(main)
    (folder / f"{session_id}.jsonl").write_bytes(data)
    written = len(data)
    for name, records in subagents.items():
        sub = folder / session_id / "subagents"
        sub.mkdir(parents=True, exist_ok=True)
        blob = _dump(records)
        (sub / name).write_bytes(blob)
        written += len(blob)
    return written


def _copy_into(
    src: SourceSession, renamer: Renamer, rng: random.Random, subagents: dict[str, list[dict[str, Any]]]
) -> tuple[list[dict[str, Any]], int]:
    """One renamed copy of a source session: its main records, adding its sub-agent files to `subagents`."""
    copy = [renamer.record(r) for r in src.main]
    size = sum(len(orjson.dumps(r)) + 1 for r in copy)
    for name, records in src.subagents.items():
        renamed = [renamer.record(r) for r in records]
        agent_ids = {r["agentId"] for r in renamed if isinstance(r.get("agentId"), str)}
        new_name = f"agent-{next(iter(agent_ids))}.jsonl" if agent_ids else f"{rng.getrandbits(32):x}-{name}"
        subagents[new_name] = renamed
        size += sum(len(orjson.dumps(r)) + 1 for r in renamed)
    return copy, size


FORK_EVERY = 25
"""Every 25th session is a real forked pair (an original and its `--fork-session` continuation)."""


def build_dataset(source: Path, sessions: int, megabytes: float, seed: int = 7) -> dict[str, Any]:
    """Build (or reuse) the data set; returns its manifest (sizes and ground-truth token totals).

    Ground truth, from the CLI's own `cost-state` records: `per_session` (what the CLI accounts to each
    session file; a fork includes the conversation it continues) and `billed` (each API message once).
    """
    sources = load_sources(source)
    if not sources:
        print(
            f"No transcripts under {source}: recording the bundled scenarios with the real CLI",
            file=sys.stderr,
        )
        source = record_sources(BENCH / "parse-sources")
        sources = load_sources(source)
    if not sources or any(src.truth is None for src in sources):
        raise SystemExit(f"no real transcripts with cost-state records under {source}")
    original, fork = record_fork(BENCH / "parse-fork")
    digest = hashlib.sha256()
    for path in sorted([*source.rglob("*.jsonl"), *(BENCH / "parse-fork").rglob("*.jsonl")]):
        digest.update(path.name.encode() + path.read_bytes())
    key = f"{digest.hexdigest()[:16]}-{sessions}-{megabytes}-{seed}-{FORK_EVERY}-cost"
    manifest_path = DATA / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("key") == key:
            return manifest
    shutil.rmtree(DATA, ignore_errors=True)
    projects = DATA / "config" / "projects"
    rng = random.Random(seed)
    target = megabytes * 1e6 / sessions
    total_bytes = 0
    per_session: dict[str, list[int]] = {}
    per_session_cost: dict[str, float] = {}
    billed = [0, 0, 0, 0]
    billed_cost = 0.0
    index = 0
    while len(per_session) < sessions:
        index += 1
        folder = projects / f"-home-user-project-{index % 12:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        if index % FORK_EVERY == 0 and len(per_session) + 2 <= sessions:
            # Both files of a fork share message and request ids, as the CLI writes them.
            shared = Renamer(rng, "")
            for src in (original, fork):
                session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                shared.session_id = session_id
                subagents: dict[str, list[dict[str, Any]]] = {}
                main, _ = _copy_into(src, shared, rng, subagents)
                total_bytes += _write_session(folder, session_id, main, subagents)
                per_session[session_id] = list(src.truth or ())
                per_session_cost[session_id] = src.cost
            billed = [a + b for a, b in zip(billed, fork.truth or (), strict=True)]
            billed_cost += fork.cost
            continue
        session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        main = []
        subagents = {}
        truth = [0, 0, 0, 0]
        cost = 0.0
        size_goal = target * rng.uniform(0.5, 1.5)
        size = 0
        while size < size_goal:
            src = rng.choice(sources)
            copy, copied = _copy_into(src, Renamer(rng, session_id), rng, subagents)
            main.extend(copy)
            size += copied
            truth = [a + b for a, b in zip(truth, src.truth or (), strict=True)]
            cost += src.cost
        total_bytes += _write_session(folder, session_id, main, subagents)
        per_session[session_id] = truth
        per_session_cost[session_id] = cost
        billed = [a + b for a, b in zip(billed, truth, strict=True)]
        billed_cost += cost
    manifest = {
        "key": key,
        "sessions": len(per_session),
        "forked_pairs": sum(1 for i in range(1, index + 1) if i % FORK_EVERY == 0),
        "bytes": total_bytes,
        "sources": len(sources),
        "per_session": per_session,
        "per_session_cost": per_session_cost,
        "billed": dict(zip(TOKEN_FIELDS, billed, strict=True)),
        "billed_cost_usd": billed_cost,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return manifest


def ensure_ccusage() -> Path:
    """The ccusage launcher, npm-installed into .bench/ccusage/ on first use."""
    binary = CCUSAGE_DIR / "node_modules" / ".bin" / "ccusage"
    if not binary.exists():
        CCUSAGE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", f"ccusage@{CCUSAGE_VERSION}"],
            cwd=CCUSAGE_DIR,
            check=True,
        )
    return binary


def _tree_rss_kib(pid: int) -> int:
    """Resident memory (KiB) of a process and all its descendants."""
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status", "rb") as handle:
                for line in handle:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", "rb") as handle:
                    stack.extend(int(child) for child in handle.read().split())
        except (OSError, ValueError):
            continue
    return total


@dataclass
class Measurement:
    """One timed run of a command."""

    seconds: float
    load: float
    """The 1-minute load average when the run started."""
    cpu_seconds: float
    """User + system CPU time of the command and its children (less sensitive to machine load)."""
    peak_rss_mib: float
    maxrss_mib: float
    stdout: bytes


def measure(argv: list[str], env: dict[str, str]) -> Measurement:
    """Run a command, timing it and sampling its process tree's RSS every 5 ms."""
    out_path = BENCH / "stdout.tmp"
    load = os.getloadavg()[0]
    with open(out_path, "wb") as out:
        start = time.perf_counter()
        # Not from the project root: `python -m` puts the working directory first on sys.path, where it would
        # shadow a --tree's PYTHONPATH.
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.PIPE, cwd=BENCH)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss_kib(proc.pid))
                done.wait(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
    stderr = proc.stderr.read() if proc.stderr else b""
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({proc.returncode}): {stderr.decode(errors='replace')[-500:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Measurement(seconds, load, cpu, peak / 1024, usage.ru_maxrss / 1024, out_path.read_bytes())


def _ours_sessions(stdout: bytes) -> dict[str, tuple[int, ...]]:
    return {s["session_id"]: tuple(s[key] for key in TOKEN_FIELDS) for s in orjson.loads(stdout)}


def _ours_costs(stdout: bytes) -> dict[str, float | None]:
    return {s["session_id"]: s["cost_usd"] for s in orjson.loads(stdout)}


def _ccusage_sessions(stdout: bytes) -> dict[str, tuple[int, ...]]:
    return {
        s["sessionId"]: tuple(int(s.get(key) or 0) for key in CCUSAGE_FIELDS)
        for s in orjson.loads(stdout)["sessions"]
    }


def _ccusage_costs(stdout: bytes) -> dict[str, float | None]:
    return {s["sessionId"]: s.get("totalCost") for s in orjson.loads(stdout)["sessions"]}


COST_TOLERANCE = 1e-3
"""A session's cost agrees with the CLI's when within 0.1 %."""


def _cost_agrees(value: float | None, truth: float) -> bool:
    return value is not None and abs(value - truth) <= COST_TOLERANCE * max(abs(truth), 1e-9)


def _ccusage_totals(stdout: bytes) -> tuple[int, ...]:
    totals = orjson.loads(stdout)["totals"]
    return tuple(int(totals.get(key) or 0) for key in CCUSAGE_FIELDS)


def bash_commands(projects: Path) -> list[str]:
    """The `command` of every Bash tool call in the data set's transcripts (sub-agents' included)."""
    commands = []
    for path in sorted(projects.rglob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            if b'"Bash"' not in line:
                continue
            message = orjson.loads(line).get("message")
            content = message.get("content") if isinstance(message, dict) else None
            for block in content if isinstance(content, list) else []:
                if (
                    isinstance(block, dict)
                    and block.get("type") == "tool_use"
                    and block.get("name") == "Bash"
                ):
                    command = (block.get("input") or {}).get("command")
                    if isinstance(command, str):
                        commands.append(command)
    return commands


def _load_gitops(tree: Path) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        f"gitops_{abs(hash(tree))}", tree / "claude_tui/parsing/gitops.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def time_git_rule(commands: list[str], trees: list[Path], runs: int = 5) -> list[dict[str, Any]]:
    """CPU microseconds per Bash command of `count_git_operations` from each tree (median of `runs`, the
    trees interleaved), and of bashlex's parse alone when it is installed (for comparison; not a dependency).
    """
    counters: dict[str, Any] = {}
    for tree in trees:
        module = _load_gitops(tree)
        module.count_git_operations("git status")  # its first call imports what it needs
        counters[f"count_git_operations ({tree})"] = module.count_git_operations
    try:
        import bashlex  # type: ignore[import-not-found]

        def bashlex_parse(command: str) -> int:
            try:
                bashlex.parse(command)
            except Exception:
                return 1
            return 0

        counters["bashlex.parse (GPL-3.0, not used)"] = bashlex_parse
    except ImportError:
        pass
    seconds: dict[str, list[float]] = {name: [] for name in counters}
    totals: dict[str, int] = {}
    for _ in range(runs):
        for name, count in counters.items():
            start = time.process_time()
            totals[name] = sum(count(command) for command in commands)
            seconds[name].append(time.process_time() - start)
    return [
        {
            "git rule": name,
            "us per command (median CPU)": round(statistics.median(values) / max(len(commands), 1) * 1e6, 1),
            "commands": len(commands),
            "with git": sum(1 for c in commands if "git" in c),
            "git operations (bashlex: parse errors)": totals[name],
            "load": round(os.getloadavg()[0], 2),
        }
        for name, values in seconds.items()
    ]


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Build the data set, run both tools side by side, print a markdown table; returns its rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--megabytes", type=float, default=105.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--source", type=Path, default=SOURCE, help="folder of real transcripts")
    parser.add_argument("--no-ccusage", action="store_true", help="only time claude-tui")
    parser.add_argument(
        "--tree",
        type=Path,
        action="append",
        default=[],
        help="also time `claude-tui stats` from this source tree (repeatable)",
    )
    args = parser.parse_args(argv)
    for tree in args.tree:
        if not (tree / "claude_tui" / "__init__.py").is_file():
            parser.error(f"{tree} holds no claude_tui package")

    manifest = build_dataset(args.source, args.sessions, args.megabytes)
    megabytes = manifest["bytes"] / 1e6
    config = DATA / "config"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "ANTHROPIC_"))}
    env["CLAUDE_CONFIG_DIR"] = str(config)
    env["CLAUDE_TUI_HOME"] = str(BENCH / "home")  # the price cache goes here, not into the user's data dir
    commands: dict[str, list[str]] = {
        "claude-tui stats --json": [
            sys.executable,
            "-m",
            "claude_tui",
            "stats",
            "--json",
            str(config / "projects"),
        ],
    }
    if not args.no_ccusage:
        commands[f"ccusage@{CCUSAGE_VERSION} claude session --json --offline"] = [
            str(ensure_ccusage()),
            "claude",
            "session",
            "--json",
            "--offline",
        ]
    envs = {name: {**env, "PYTHONPATH": str(ROOT)} for name in commands}
    for tree in args.tree:
        name = f"claude-tui stats --json ({tree.resolve()})"
        commands[name] = commands["claude-tui stats --json"]
        envs[name] = {**env, "PYTHONPATH": str(tree.resolve())}
    for name, tree_env in envs.items():
        if name.startswith("claude-tui"):
            loaded = subprocess.run(
                [sys.executable, "-c", "import claude_tui; print(claude_tui.__file__)"],
                env=tree_env,
                cwd=BENCH,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            if not loaded.startswith(tree_env["PYTHONPATH"]):
                raise SystemExit(f"{name}: loads {loaded}, not the tree on PYTHONPATH")
    runs: dict[str, list[Measurement]] = {name: [] for name in commands}
    for name, command in commands.items():
        # One untimed run each: the disk cache warm, and claude-tui's price cache filled (its first run after
        # installing or upgrading genai-prices imports it once: about 0.2 s more).
        measure(command, envs[name])
    for _ in range(args.runs):
        for name, command in commands.items():  # alternate, so all see the same machine load
            runs[name].append(measure(command, envs[name]))

    per_session = {sid: tuple(values) for sid, values in manifest["per_session"].items()}
    per_session_cost: dict[str, float] = manifest["per_session_cost"]
    billed = tuple(manifest["billed"][key] for key in TOKEN_FIELDS)
    rows: list[dict[str, Any]] = []
    for name, measurements in runs.items():
        seconds = statistics.median(m.seconds for m in measurements)
        last = measurements[-1].stdout
        ours = name.startswith("claude-tui")
        sessions = _ours_sessions(last) if ours else _ccusage_sessions(last)
        totals = (
            tuple(sum(v[i] for v in sessions.values()) for i in range(4)) if ours else _ccusage_totals(last)
        )
        agree = sum(1 for sid, truth in per_session.items() if sessions.get(sid) == truth)
        costs = _ours_costs(last) if ours else _ccusage_costs(last)
        cost_agree = sum(1 for sid, truth in per_session_cost.items() if _cost_agrees(costs.get(sid), truth))
        rows.append(
            {
                "tool": name,
                "seconds (median)": round(seconds, 3),
                "MB/s": round(megabytes / seconds, 1),
                "CPU s (median)": round(statistics.median(m.cpu_seconds for m in measurements), 3),
                "load (median)": round(statistics.median(m.load for m in measurements), 2),
                "peak RSS MiB (tree)": round(statistics.median(m.peak_rss_mib for m in measurements), 1),
                "ru_maxrss MiB": round(statistics.median(m.maxrss_mib for m in measurements), 1),
                "sessions = CLI": f"{agree}/{len(per_session)}",
                "cost = CLI (0.1 %)": f"{cost_agree}/{len(per_session_cost)}",
                **dict(zip(TOKEN_FIELDS, totals, strict=True)),
                "cost_usd": round(sum(c for c in costs.values() if isinstance(c, int | float)), 4),
            }
        )
    per_session_sum = tuple(sum(v[i] for v in per_session.values()) for i in range(4))
    rows.append(
        {
            "tool": "truth: sum of the CLI's per-session cost-state",
            **dict(zip(TOKEN_FIELDS, per_session_sum, strict=True)),
            "cost_usd": round(sum(per_session_cost.values()), 4),
        }
    )
    rows.append(
        {
            "tool": "truth: billed (each API message once)",
            **dict(zip(TOKEN_FIELDS, billed, strict=True)),
            "cost_usd": round(manifest["billed_cost_usd"], 4),
        }
    )
    git_rows = time_git_rule(bash_commands(config / "projects"), [ROOT, *(t.resolve() for t in args.tree)])
    columns = list(rows[0])
    sources, pairs = manifest["sources"], manifest["forked_pairs"]
    print(
        f"Data set: {manifest['sessions']} sessions ({pairs} forked pairs), {megabytes:.1f} MB,"
        f" from {sources} real sessions"
    )
    print()
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join(" --- " for _ in columns) + "|")
    for row in rows:
        print("| " + " | ".join(str(row.get(col, "")) for col in columns) + " |")
    print()
    git_columns = list(git_rows[0])
    print("| " + " | ".join(git_columns) + " |")
    print("|" + "|".join(" --- " for _ in git_columns) + "|")
    for row in git_rows:
        print("| " + " | ".join(str(row.get(col, "")) for col in git_columns) + " |")
    return rows + git_rows


if __name__ == "__main__":
    main()
