"""Exact stats of transcripts the real Claude Code CLI writes against the stub, and the screen parser on the
same kind of session run interactively.

Expected values come from the scenario definitions (tool blocks, Bash blocks, Read/Write/Edit paths, prompts)
and from what each command does when run (hand-annotated below: which commands fail and how, how many git
invocations a command line holds). Token totals are checked against the CLI's own accounting (its
`cost-state` record), never against this parser's output.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from claude_tui.claude_env import ClaudeEnvironment
from claude_tui.parsing import ScreenParser, SessionStats, TranscriptTail, stats_for_transcript
from claude_tui.parsing.events import ToolCall, ToolResult, UserPrompt
from claude_tui.parsing.prices import is_priced
from claude_tui.scenarios import load_scenario, scenario_prompts

pytestmark = pytest.mark.slow


@dataclass
class Expect:
    """What running a scenario does that its definition alone does not say."""

    git_operations: int
    errors: int
    last_error: str | None
    git_branches: tuple[str, ...] = ("main",)
    """Branches the transcript may carry last: the CLI caches `gitBranch` and refreshes it at times of its
    own, so after a `git checkout -b` it writes the old or the new branch depending on timing."""
    extra: dict[str, Any] = field(default_factory=dict)


EXPECT = {
    # ls build/ (no such dir), the checker exits 3, make lint (no Makefile), Read of missing.txt, and
    # `python3 app.py && false` (prints "Hello world", exits 1) fail; `echo all good` does not.
    "failing": Expect(git_operations=0, errors=5, last_error="Exit code 1 · Hello world"),
    # 2 (status && branch) + 1 (checkout) + 3 (add && commit && log) + 2 (diff; tag) + 1 (cd && git log |
    # head) + 1 (push); the push fails: the repository has no remote. The CLI 2.1.328 mostly keeps writing
    # the branch it started on (`main`) in `gitBranch` after the `git checkout -b`, but not always.
    "git_compound": Expect(
        git_operations=10,
        errors=1,
        last_error="Exit code 128 · fatal: 'origin' does not appear to be a git repository",
        git_branches=("main", "docs/guide"),
    ),
    # Two Reads, git log, Glob, Grep, wc in two messages: nothing fails; one git invocation.
    "parallel_tools": Expect(git_operations=0 + 1, errors=0, last_error=None),
    # The sub-agent's `cat nonexistent.cfg` fails.
    "subagent": Expect(
        git_operations=0, errors=1, last_error="Exit code 1 · cat: nonexistent.cfg: No such file or directory"
    ),
    # git status, git add && git commit, git log, and the reviewer's git show: 5; `cat CHANGELOG.md` fails.
    "realistic": Expect(
        git_operations=5, errors=1, last_error="Exit code 1 · cat: CHANGELOG.md: No such file or directory"
    ),
}


def tool_blocks(scenario: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(main-thread tool blocks, sub-agent tool blocks) of a scenario; a sub-agent turn is one whose `match`
    is found in the prompt of an Agent/Task block."""
    agent_prompts = [
        block["input"]["prompt"]
        for turn in scenario["turns"]
        for step in turn["steps"]
        for block in step
        if block.get("tool") in ("Agent", "Task")
    ]
    main: list[dict[str, Any]] = []
    sub: list[dict[str, Any]] = []
    for turn in scenario["turns"]:
        target = sub if any(turn["match"] in prompt for prompt in agent_prompts) else main
        target.extend(block for step in turn["steps"] for block in step if "tool" in block)
    return main, sub


def cli_totals(transcript: Path) -> tuple[int, int, int, int]:
    """The CLI's own token totals: the last `cost-state` record's per-model usage, summed."""
    totals = (0, 0, 0, 0)
    for line in transcript.read_text().splitlines():
        record = json.loads(line)
        if record.get("type") == "cost-state":
            keys = ("inputTokens", "outputTokens", "cacheReadInputTokens", "cacheCreationInputTokens")
            usage = record["modelUsage"].values()
            totals = tuple(sum(int(u.get(k) or 0) for u in usage) for k in keys)  # type: ignore[assignment]
    return totals


def last_git_branch(transcript: Path) -> str | None:
    """The `gitBranch` of the last main-thread record that has one."""
    branch = None
    for line in transcript.read_text().splitlines():
        record = json.loads(line)
        if isinstance(record.get("gitBranch"), str) and not record.get("isSidechain"):
            branch = record["gitBranch"]
    return branch


def cli_cost(transcript: Path) -> float | None:
    """The CLI's own cost of the session so far: the last `cost-state` record's `totalCostUSD`."""
    cost = None
    for line in transcript.read_text().splitlines():
        record = json.loads(line)
        if record.get("type") == "cost-state":
            cost = float(record["totalCostUSD"])
    return cost


def run_prompts(env: ClaudeEnvironment, prompts: list[str], extra: tuple[str, ...] = ()) -> str:
    """Run `claude -p` once per prompt in one session (resumed after the first); `extra` goes to each."""
    session_id = str(uuid.uuid4())
    for index, prompt in enumerate(prompts):
        argv = (
            env.argv(prompt, session_id=session_id)
            if index == 0
            else env.argv(prompt, extra=("--resume", session_id))
        )
        proc = subprocess.run(
            [*argv, *extra],
            cwd=env.work_dir,
            env=env.env(),
            capture_output=True,
            text=True,
            timeout=240,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
    return session_id


def cli_version(env: ClaudeEnvironment) -> str:
    out = subprocess.run(
        [str(env.claude_bin), "--version"], env=env.env(), capture_output=True, text=True, timeout=60
    )
    match = re.match(r"(\d+\.\d+\.\d+)", out.stdout.strip())
    assert match, out.stdout
    return match.group(1)


@pytest.mark.parametrize("name", ["failing", "git_compound", "parallel_tools", "subagent", "realistic"])
def test_every_stat_of_a_real_transcript(claude_env: Any, name: str) -> None:
    scenario = load_scenario(name)
    env: ClaudeEnvironment = claude_env(name)
    prompts = scenario_prompts(name)
    session_id = run_prompts(env, prompts)
    transcript = env.transcript_path(session_id)
    assert transcript is not None

    main, sub = tool_blocks(scenario)
    blocks = main + sub
    cwd = str(env.work_dir)

    def paths(tools: tuple[str, ...]) -> int:
        return len({b["input"]["file_path"].replace("{{cwd}}", cwd) for b in blocks if b["tool"] in tools})

    by_name: dict[str, int] = {}
    for block in blocks:
        by_name[block["tool"]] = by_name.get(block["tool"], 0) + 1
    models = sorted({r.body["model"] for r in env.stub.main_requests if isinstance(r.body, dict)})  # type: ignore[union-attr]
    totals = cli_totals(transcript)
    expect = EXPECT[name]

    stats = stats_for_transcript(transcript).to_dict()
    assert stats["tool_uses"] == len(blocks)
    assert stats["tool_uses_by_name"] == dict(sorted(by_name.items()))
    assert stats["subagent_tool_uses"] == len(sub)
    assert stats["commands_executed"] == sum(1 for b in blocks if b["tool"] == "Bash")
    assert stats["git_operations"] == expect.git_operations
    assert stats["errors_encountered"] == expect.errors
    assert stats["last_error"] == expect.last_error
    assert stats["user_prompts"] == len(prompts)
    assert stats["first_prompt"] == prompts[0]
    assert (stats["procedure_name"], stats["issue_number"]) == (None, None)
    assert stats["files_read"] == paths(("Read",))
    assert stats["files_modified"] == paths(("Write", "Edit", "MultiEdit"))
    assert (
        stats["input_tokens"],
        stats["output_tokens"],
        stats["cache_read_tokens"],
        stats["cache_creation_tokens"],
    ) == totals
    assert stats["input_tokens"] > 0
    assert sorted(stats["models"]) == models
    assert stats["turns"] == len(prompts)  # `-p` runs write no turn_duration: one end_turn per prompt
    assert stats["active_seconds"] == 0.0
    # The cost is genai-prices' for the transcript's tokens; the CLI's own figure agrees within 0.1 %.
    assert all(is_priced(m) for m in models), models
    assert stats["unpriced_models"] == []
    assert stats["cost_usd"] is not None and stats["cost_usd"] > 0
    assert stats["cost_usd"] == pytest.approx(cli_cost(transcript), rel=1e-3)
    assert stats["malformed_lines"] == 0
    assert stats["session_id"] == session_id
    assert stats["cwd"] == cwd
    assert stats["git_branch"] in expect.git_branches
    assert stats["git_branch"] == last_git_branch(transcript)
    assert stats["permission_mode"] == "acceptEdits"
    assert stats["model"] in models
    assert stats["claude_version"] == cli_version(env)


# --- the screen parser on an interactive session ---------------------------------------------------------


def _drive_interactive(
    env: ClaudeEnvironment, prompts: list[str], session_id: str, live: SessionStats | None = None
) -> list[list[str]]:
    """Run the CLI interactively in a PTY, type the prompts, and return every frame (scrollback + screen).

    With `live`, a `TranscriptTail` follows the transcript while the CLI writes it, folding into `live`.
    """
    from claude_tui.terminal import PtySession, TerminalEmulator

    cols, rows = 120, 40
    emulator = TerminalEmulator(cols=cols, rows=rows)
    pty = PtySession.spawn(
        env.argv(None, session_id=session_id), cwd=env.work_dir, env=env.env(), cols=cols, rows=rows
    )
    frames: list[list[str]] = []
    transcript: Path | None = None
    pending = list(prompts)
    turns_done = 0
    typed_at = 0.0
    deadline = time.monotonic() + 180
    tail: TranscriptTail | None = None

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = pty.read(65536)
            except EOFError:
                return
            if data:
                emulator.feed(data)
                replies = emulator.take_replies()
                if replies:
                    pty.write(replies)
                frames.append(emulator.history_lines() + emulator.display)
            else:
                time.sleep(0.02)

    try:
        while time.monotonic() < deadline:
            pump(0.3)
            screen = "\n".join(emulator.display)
            if transcript is None:
                transcript = env.transcript_path(session_id)
            if live is not None and transcript is not None:
                tail = tail or TranscriptTail(transcript)
                for event in tail.poll():
                    live.apply(event)
            finished = 0
            if transcript is not None:
                finished = transcript.read_text().count('"subtype":"turn_duration"')
            if pending and finished == turns_done and "❯" in screen and time.monotonic() - typed_at > 1:
                if "Enter to confirm" in screen or "auto mode" in screen.lower():
                    pty.write(b"\r")
                    continue
                pty.write(pending.pop(0).encode())
                pump(0.5)
                pty.write(b"\r")
                typed_at = time.monotonic()
                turns_done += 1
            elif not pending and finished >= turns_done:
                pump(1.0)  # let the last frame settle
                break
        else:
            pytest.fail("the interactive session did not finish in time:\n" + "\n".join(emulator.display))
    finally:
        pty.terminate()
    if live is not None and tail is not None:
        for event in tail.poll(final=True):
            live.apply(event)
        live.malformed_lines = tail.malformed_lines
    return frames


@pytest.mark.parametrize("name", ["git_compound", "failing", "realistic"])
def test_screen_parser_agrees_with_the_transcript_on_every_bash_line(claude_env: Any, name: str) -> None:
    env: ClaudeEnvironment = claude_env(name)
    session_id = str(uuid.uuid4())
    live = SessionStats()
    frames = _drive_interactive(env, scenario_prompts(name), session_id, live)
    parser = ScreenParser()
    screen_events = [event for frame in frames for event in parser.feed(frame)]
    screen_events += parser.flush()  # the session ended: lines still waiting to be seen complete
    transcript = env.transcript_path(session_id)
    assert transcript is not None
    tail = TranscriptTail(transcript)
    real = [e for e in tail.poll(final=True) if isinstance(e, ToolCall) and e.name == "Bash"]
    real_commands = [e.input["command"] for e in real]
    seen = [e for e in screen_events if isinstance(e, ToolCall) and e.name == "Bash"]
    assert seen, "no `● Bash(` line was drawn: " + "\n".join(frames[-1][-40:])
    # Every Bash line on screen is one real call (in order; the screen may cut a long command with "…"),
    # and none is counted twice however often it was redrawn.
    remaining = list(real_commands)
    for event in seen:
        args = event.input["command"].removesuffix("…")
        match = next(
            (c for c in remaining if c == args or c.startswith(args) or c.split("\n")[0] == args), None
        )
        assert match is not None, f"{args!r} is not a remaining real command: {remaining}"
        remaining.remove(match)
    assert len(seen) <= len(real)
    # In these scenarios every failure is on screen, as an `⎿  Error:` line or in a collapsed `· N failed`.
    stats = stats_for_transcript(transcript)
    # Followed live while the CLI wrote it (half-written lines and all), the transcript gives the same stats.
    assert live.to_dict() == stats.to_dict()
    screen_errors = sum(1 for e in screen_events if isinstance(e, ToolResult) and e.is_error)
    assert screen_errors == stats.errors_encountered == EXPECT[name].errors
    # Interactive sessions write a turn_duration record per turn: turns and active time come from those.
    assert stats.turn_durations == stats.turns >= len(scenario_prompts(name))
    if not tool_blocks(load_scenario(name))[1]:
        # Without a sub-agent there is no background-task turn: one turn per prompt.
        assert stats.turns == len(scenario_prompts(name))
    assert stats.active_seconds > 0
    prompts = [e.text for e in screen_events if isinstance(e, UserPrompt)]
    assert prompts == scenario_prompts(name)


WORKFLOW_SCRIPT = """export const meta = { name: 'summarise', description: 'Two agents', phases: ['read'] }
const files = await agent('WORKFLOW-AGENT-ONE: list the files')
const readme = await agent('WORKFLOW-AGENT-TWO: read the readme')
return [files, readme]
"""

WORKFLOW_SCENARIO = {
    "turns": [
        {
            "match": "run the workflow",
            "steps": [[{"tool": "Workflow", "input": {"script": WORKFLOW_SCRIPT}}], [{"text": "Finished."}]],
        },
        {
            "match": "WORKFLOW-AGENT-ONE",
            "steps": [
                [{"tool": "Bash", "input": {"command": "ls", "description": "List"}}],
                [{"text": "Listed."}],
            ],
        },
        {
            "match": "WORKFLOW-AGENT-TWO",
            "steps": [[{"tool": "Read", "input": {"file_path": "{{cwd}}/README.md"}}], [{"text": "Read."}]],
        },
    ]
}


def test_workflow_subagents_in_nested_folders_are_followed(claude_env: Any) -> None:
    # The pinned CLI writes the agents of a Workflow run to
    # `<session>/subagents/workflows/<run>/agent-*.jsonl` (beside the run's journal.jsonl), not to
    # `<session>/subagents/`; their tokens are in the CLI's cost-state.
    env: ClaudeEnvironment = claude_env(WORKFLOW_SCENARIO)
    session_id = run_prompts(env, ["run the workflow please"], extra=("--allowedTools", "Workflow"))
    transcript = env.transcript_path(session_id)
    assert transcript is not None
    nested = sorted(transcript.with_suffix("").glob("subagents/workflows/*/agent-*.jsonl"))
    assert len(nested) == 2
    assert (transcript.with_suffix("") / "subagents" / "workflows").is_dir()
    stats = stats_for_transcript(transcript).to_dict()
    assert stats["tool_uses_by_name"] == {"Bash": 1, "Read": 1, "Workflow": 1}
    assert stats["subagent_tool_uses"] == 2
    assert (
        stats["input_tokens"],
        stats["output_tokens"],
        stats["cache_read_tokens"],
        stats["cache_creation_tokens"],
    ) == cli_totals(transcript)
    assert stats["cost_usd"] == pytest.approx(cli_cost(transcript), rel=1e-3)
    assert stats["unknown_records"] == 0  # journal.jsonl is not read as a transcript


def test_the_cli_bills_a_compaction_that_no_transcript_record_holds(claude_env: Any) -> None:
    # What docs/parsing.md says about the sources: on a plain session the transcript's tokens and cost equal
    # the CLI's own cost-state; `/compact` makes a request whose usage is in the CLI's accounting (and its
    # telemetry) but in no transcript record, so the transcript falls short of what was billed.
    from tests.support.claude_cli import InteractiveClaude

    env: ClaudeEnvironment = claude_env("realistic")
    session_id = str(uuid.uuid4())
    with InteractiveClaude(env, session_id=session_id) as cli:  # started by `with`
        assert cli.wait_for_text("\u276f", 60), cli.screen_text()
        cli.submit(scenario_prompts("realistic")[0])
        assert cli.wait_for_turn_end(timeout=120)
        cli.submit("/compact")
        assert cli.wait_for_turn_end(timeout=120)
        cli.submit("say hi")
        assert cli.wait_for_turn_end(timeout=120)
        assert cli.exit() == 0
    transcript = env.transcript_path(session_id)
    assert transcript is not None
    assert '"compact_boundary"' in transcript.read_text()
    stats = stats_for_transcript(transcript).to_dict()
    cli_input, cli_output, _, _ = cli_totals(transcript)
    assert cli_input > stats["input_tokens"] and cli_output > stats["output_tokens"]
    assert cli_cost(transcript) > stats["cost_usd"] * 1.01
