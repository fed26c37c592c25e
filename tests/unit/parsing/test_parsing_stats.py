"""SessionStats definitions, fed with events directly."""

from __future__ import annotations

import pytest

from claude_tui.parsing import META_KEYS, STAT_KEYS, SessionStats
from claude_tui.parsing.events import ApiError, TokenUsage, ToolCall, ToolResult, TurnEnd, UserPrompt


def fold(*events: object) -> SessionStats:
    stats = SessionStats()
    for event in events:
        stats.apply(event)  # type: ignore[arg-type]
    return stats


def test_to_dict_has_exactly_the_documented_keys() -> None:
    data = SessionStats().to_dict()
    assert list(data) == [*STAT_KEYS, *META_KEYS, "last_error"]
    assert data["cost_usd"] == 0.0  # no tokens: known to cost nothing
    assert data["first_prompt"] is None and data["last_error"] is None


def test_files_are_distinct_paths_per_tool_family() -> None:
    stats = fold(
        ToolCall(id="1", name="Read", input={"file_path": "/a"}),
        ToolCall(id="2", name="Read", input={"file_path": "/a"}),
        ToolCall(id="3", name="Read", input={"file_path": "/b"}),
        ToolCall(id="4", name="Edit", input={"file_path": "/a"}),
        ToolCall(id="5", name="MultiEdit", input={"file_path": "/c"}),
        ToolCall(id="6", name="Write", input={"file_path": "/c"}),
        ToolCall(id="7", name="NotebookEdit", input={"notebook_path": "/n.ipynb"}),
        ToolCall(id="8", name="Grep", input={"path": "/d"}),
        ToolCall(id="9", name="Read", input={}),
    )
    assert (stats.files_read, stats.files_modified) == (2, 3)
    assert stats.files_modified_paths == ["/a", "/c", "/n.ipynb"]
    assert stats.tool_uses == 9 and stats.tool_uses_by_name["Read"] == 4


def test_tool_calls_and_results_count_once_per_id() -> None:
    call = ToolCall(id="t", name="Bash", input={"command": "git status && git diff"})
    error = ToolResult(id="t", is_error=True, preview="Exit code 1\nboom")
    stats = fold(call, call, error, error)
    assert (stats.tool_uses, stats.commands_executed, stats.git_operations, stats.errors_encountered) == (
        1,
        1,
        2,
        1,
    )
    assert stats.last_error == "Exit code 1 · boom"


def test_turns_prefer_turn_duration_records_else_end_turn_messages() -> None:
    end = TokenUsage(message_id="m1", stop_reason="end_turn", input_tokens=1)
    side_end = TokenUsage(message_id="m2", stop_reason="end_turn", sidechain=True)
    tool = TokenUsage(message_id="m3", stop_reason="tool_use")
    assert fold(end, side_end, tool).turns == 1  # `claude -p`: no turn_duration records
    stats = fold(end, TurnEnd(duration=1.5), TurnEnd(duration=0.25))
    assert (stats.turns, stats.active_seconds) == (2, 1.75)


def test_cost_is_none_when_a_model_is_unknown() -> None:
    known = TokenUsage(
        message_id="a", model="claude-haiku-4-5", input_tokens=1_000_000, output_tokens=1_000_000
    )
    assert fold(known).cost_usd == pytest.approx(6.0)
    unknown = TokenUsage(message_id="b", model="claude-opus-9", input_tokens=5)
    stats = fold(known, unknown)
    assert stats.cost_usd is None
    assert stats.unpriced_models == ["claude-opus-9"]
    assert stats.to_dict()["unpriced_models"] == ["claude-opus-9"]
    assert stats.models == ["claude-haiku-4-5", "claude-opus-9"]
    # A model that used no tokens (e.g. an empty error message) does not make the cost unknown.
    assert fold(known, TokenUsage(message_id="c", model="mystery")).cost_usd == pytest.approx(6.0)


def test_usage_update_replaces_not_adds() -> None:
    first = TokenUsage(
        message_id="m", request_id="r", model="claude-haiku-4-5", input_tokens=10, output_tokens=1
    )
    final = TokenUsage(
        message_id="m", request_id="r", model="claude-haiku-4-5", input_tokens=10, output_tokens=50
    )
    stats = fold(first, final, first)
    assert (stats.input_tokens, stats.output_tokens) == (10, 50)
    assert stats.cost_usd == pytest.approx((10 * 1 + 50 * 5) / 1e6)


def test_prompts_and_params() -> None:
    stats = fold(UserPrompt(text="please fix issue #42"), UserPrompt(text="close-issue 7"))
    data = stats.to_dict()
    assert (data["user_prompts"], data["first_prompt"]) == (2, "please fix issue #42")
    assert (data["procedure_name"], data["issue_number"]) == (None, "42")


def test_api_errors_count_and_set_last_error() -> None:
    stats = fold(ToolResult(id="x", is_error=True, preview="first"), ApiError(message="Overloaded\nmore"))
    assert (stats.errors_encountered, stats.last_error) == (2, "Overloaded")


def test_last_error_is_the_latest_by_time_not_by_arrival() -> None:
    main_error = ToolResult(ts=200.0, id="m", is_error=True, preview="Exit code 1\nmain failed later")
    sub_error = ToolResult(ts=100.0, id="s", is_error=True, preview="sub failed first", sidechain=True)
    assert fold(main_error, sub_error).last_error == "Exit code 1 · main failed later"
    assert fold(sub_error, main_error).last_error == "Exit code 1 · main failed later"
    assert fold(main_error, ApiError(message="no time")).last_error == "no time"
