"""Issue #2's Show: the real Claude Code CLI runs offline against the stub, scripted by a bundled scenario.

Non-interactive (`-p ... --output-format stream-json`) and interactive (a real pseudo-terminal) runs; the
transcript the CLI writes must hold exactly the scripted tool calls, in order, with the right error flags.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from claude_tui.claude_env import ClaudeEnvironment
from claude_tui.scenarios import load_scenario, scenario_names, scenario_prompts
from claude_tui.stub_api import fill_placeholders
from tests.support.claude_cli import InteractiveClaude, read_jsonl, tool_calls, tool_results

pytestmark = pytest.mark.slow

EnvFactory = Callable[..., ClaudeEnvironment]
FAILING_COMMAND = "cat CHANGELOG.md"
"""The one command of the realistic scenario that exits non-zero (there is no changelog)."""


def scripted_calls(scenario: dict[str, Any], prompts: list[str], cwd: str) -> tuple[list[Any], list[Any]]:
    """(main conversation, sub-agent) tool blocks the scenario scripts, in order, `{{cwd}}` filled in."""
    main_turns = [turn for prompt in prompts for turn in scenario["turns"] if turn["match"] in prompt]
    sub_turns = [turn for turn in scenario["turns"] if turn not in main_turns]

    def blocks(turns: list[dict[str, Any]]) -> list[Any]:
        return [
            {"name": block["tool"], "input": fill_placeholders(block.get("input", {}), cwd)}
            for turn in turns
            for step in turn["steps"]
            for block in step
            if "tool" in block
        ]

    return blocks(main_turns), blocks(sub_turns)


def assert_calls_match(recorded: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert [call["name"] for call in recorded] == [call["name"] for call in expected]
    for call, want in zip(recorded, expected, strict=True):
        # The CLI may add defaulted fields (Edit gets "replace_all": false); the scripted ones must be there.
        assert {key: call["input"].get(key) for key in want["input"]} == want["input"], call


def run_prompts(env: ClaudeEnvironment, prompts: list[str], session_id: str) -> list[dict[str, Any]]:
    """Run the prompts as one non-interactive session; return the stream-json events of all runs."""
    runs = env.run_session(prompts, session_id)
    assert [done.returncode for done in runs] == [0] * len(prompts), runs[-1].stderr[-2000:]
    return [json.loads(line) for done in runs for line in done.stdout.splitlines() if line.startswith("{")]


def test_non_interactive_realistic_session_writes_exactly_the_scripted_calls(claude_env: EnvFactory) -> None:
    env = claude_env("realistic")
    scenario = load_scenario("realistic")
    prompts = scenario_prompts(scenario)
    assert len(prompts) == 2
    session_id = str(uuid.uuid4())

    events = run_prompts(env, prompts, session_id)

    results = [event for event in events if event.get("type") == "result"]
    assert [r["subtype"] for r in results] == ["success", "success"]
    transcript = env.transcript_path(session_id)
    assert transcript is not None, sorted(map(str, env.projects_dir.rglob("*")))
    records = read_jsonl(transcript)
    expected_main, expected_sub = scripted_calls(scenario, prompts, str(env.work_dir))
    calls = tool_calls(records)
    assert_calls_match(calls, expected_main)
    names = {call["name"] for call in calls}
    assert {"Bash", "Read", "Write", "Edit", "Agent"} <= names

    by_id = tool_results(records)
    assert set(by_id) == {call["id"] for call in calls}, "every tool call has exactly one result"
    failing = [call for call in calls if call["input"].get("command") == FAILING_COMMAND]
    assert len(failing) == 1
    for call in calls:
        flag = by_id[call["id"]].get("is_error")
        if call is failing[0]:
            assert flag is True
            assert "Exit code 1" in str(by_id[call["id"]]["content"])
        else:
            assert flag in (False, None), call

    # The sub-agent's own calls land in its own transcript file.
    sub_files = env.subagent_transcripts(session_id)
    assert len(sub_files) == 1
    assert_calls_match(tool_calls(read_jsonl(sub_files[0])), expected_sub)

    # The commit really happened in the work dir.
    assert (env.work_dir / "test_app.py").is_file()
    assert "def farewell" in (env.work_dir / "app.py").read_text()

    # The stub saw the sub-agent's requests, and the CLI offered it the Agent tool.
    assert env.stub is not None
    first = env.stub.main_requests[0].body
    assert "Agent" in {tool["name"] for tool in first["tools"]}


@pytest.mark.parametrize("name", [n for n in scenario_names() if n != "realistic"])
def test_every_bundled_scenario_runs_as_scripted(claude_env: EnvFactory, name: str) -> None:
    env = claude_env(name)
    scenario = load_scenario(name)
    prompts = scenario_prompts(scenario)
    session_id = str(uuid.uuid4())
    run_prompts(env, prompts, session_id)
    transcript = env.transcript_path(session_id)
    assert transcript is not None
    expected_main, expected_sub = scripted_calls(scenario, prompts, str(env.work_dir))
    assert_calls_match(tool_calls(read_jsonl(transcript)), expected_main)
    sub_calls = [c for path in env.subagent_transcripts(session_id) for c in tool_calls(read_jsonl(path))]
    assert_calls_match(sub_calls, expected_sub)
    if name == "parallel_tools":
        # several tool_use blocks in one API message: they share one message.id in the transcript
        ids = [
            r["message"]["id"]
            for r in read_jsonl(transcript)
            if r.get("type") == "assistant" and r["message"]["content"][0]["type"] == "tool_use"
        ]
        assert max(ids.count(i) for i in set(ids)) >= 4


def test_interactive_session_in_a_pty(claude_env: EnvFactory) -> None:
    env = claude_env("realistic")
    scenario = load_scenario("realistic")
    prompts = scenario_prompts(scenario)
    session_id = str(uuid.uuid4())
    with InteractiveClaude(env, session_id=session_id) as claude:
        assert claude.wait_for_text("❯", timeout=60), claude.screen_text()
        assert "─" * 20 in claude.screen_text(), "the prompt box is drawn between two rules"

        claude.submit(prompts[0])
        assert claude.wait_for_text("● Bash(", timeout=60), claude.screen_text()
        assert claude.wait_for_turn_end(timeout=90), claude.screen_text()
        assert "Add farewell() and tests" in claude.screen_text()

        claude.submit(prompts[1])
        assert claude.wait_for_text("Agent(", timeout=60), claude.screen_text()
        assert claude.wait_for_turn_end(timeout=90), claude.screen_text()

        status = claude.exit()
    assert status == 0, claude.screen_text()

    transcript = env.transcript_path(session_id)
    assert transcript is not None
    expected_main, _ = scripted_calls(scenario, prompts, str(env.work_dir))
    assert_calls_match(tool_calls(read_jsonl(transcript)), expected_main)
