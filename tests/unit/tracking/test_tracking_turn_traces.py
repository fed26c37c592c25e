"""MLflow-native traces (issue 17, item 2): one trace per turn, and a background sub-agent's spans under the
Agent span that launched it, on the real CLI's recorded interactive session (tests/data/streams)."""

from __future__ import annotations

from pathlib import Path

from claude_tui.parsing import TranscriptTail
from claude_tui.parsing.events import AssistantText, Event, TokenUsage, ToolCall, ToolResult
from claude_tui.tracking.record import SessionRecord, SpanSpec
from tests.unit.tracking.test_tracking_record import make_spool, session_events

INTERACTIVE = Path(__file__).resolve().parents[2] / "data" / "streams" / "claude_interactive"
AGENT = "ab9dfd621dfcf2463"
"""The reviewer sub-agent the recorded session's second prompt launched (in the background, as the CLI
always does in interactive mode)."""


def interactive_events() -> list[Event]:
    transcript = next(p for p in sorted(INTERACTIVE.rglob("*.jsonl")) if p.parent.name != "subagents")
    return TranscriptTail(transcript).poll(final=True)


def test_the_agent_calls_result_names_the_background_agent_and_its_records_carry_that_id() -> None:
    events = interactive_events()
    call = next(e for e in events if isinstance(e, ToolCall) and e.name == "Agent")
    result = next(e for e in events if isinstance(e, ToolResult) and e.id == call.id)
    assert result.launched_agent == AGENT
    sub_agent = [e for e in events if isinstance(e, (ToolCall, TokenUsage, AssistantText)) and e.sidechain]
    assert len(sub_agent) >= 4 and {e.agent_id for e in sub_agent} == {AGENT}
    # The CLI answered "launched" before the agent did anything: its work comes after the result.
    assert result.ts is not None and all(e.ts is not None and e.ts > result.ts for e in sub_agent)


def ancestors(plan: list[SpanSpec], index: int) -> list[int]:
    found = []
    parent = plan[index].parent
    while parent is not None:
        found.append(parent)
        parent = plan[parent].parent
    return found


def test_a_background_agents_spans_nest_under_its_agent_span(tmp_path: Path) -> None:
    events = interactive_events()
    record = SessionRecord.from_spool(make_spool(tmp_path, events))
    plan = record.span_plan()
    agent_span = next(i for i, s in enumerate(plan) if s.span_type == "TOOL" and s.name == "Agent")
    sub_messages = {e.message_id for e in events if isinstance(e, TokenUsage) and e.sidechain}
    sub_spans = [
        i
        for i, s in enumerate(plan)
        if s.attributes.get("agent_id") == AGENT or s.attributes.get("message_id") in sub_messages
    ]
    assert len(sub_spans) >= 4
    for index in sub_spans:  # on the code before this change they hung under the turn
        assert plan[index].parent == agent_span, (plan[index].name, plan[plan[index].parent or 0].name)
        assert plan[agent_span].start <= plan[index].start <= plan[index].end <= plan[agent_span].end  # type: ignore[operator]


def test_one_trace_per_turn_with_the_prompt_and_claudes_last_answer(tmp_path: Path) -> None:
    events = interactive_events()
    record = SessionRecord.from_spool(make_spool(tmp_path, events))
    plans = record.trace_plans()
    assert [p.key for p in plans] == ["turn 1", "turn 2"]
    assert [p.request for p in plans] == [
        "Add a farewell function to app.py, try it, and commit the change",
        "Now ask a reviewer agent to check the last commit",
    ]
    assert plans[0].response.startswith("Done: `farewell()` is in app.py")
    assert plans[1].response == "Done."  # after the agent's notification, still the second turn
    assert {p.session_id for p in plans} == {"sess-1"}
    names = [[s.name for s in p.spans if s.span_type == "TOOL"] for p in plans]
    assert names[0] == ["Bash", "Read", "Edit", "Write", "Bash", "Bash", "Bash"]
    assert "Agent" in names[1] and "Agent" not in names[0]
    for trace in plans:
        root = trace.spans[0]
        assert root.parent is None and root.span_type == "AGENT"
        assert root.outputs == {"response": trace.response}
        assert root.inputs == {"prompt": trace.request} and root.attributes["session_id"] == "sess-1"
        for index, spec in enumerate(trace.spans[1:], start=1):
            assert spec.parent is not None and spec.parent < index
            parent = trace.spans[spec.parent]
            assert parent.start <= spec.start and spec.end <= parent.end  # type: ignore[operator]
    # The sub-agent's spans are still under its Agent span inside the turn's trace.
    second = plans[1].spans
    agent_span = next(i for i, s in enumerate(second) if s.name == "Agent")
    assert sum(1 for s in second if s.attributes.get("agent_id") == AGENT) >= 1
    assert all(s.parent == agent_span for s in second if s.attributes.get("agent_id") == AGENT)
    # Every span of the session is in exactly one trace (the session span itself gives way to the turns).
    assert sum(len(p.spans) for p in plans) == len(record.span_plan()) - 1


def test_a_session_without_a_prompt_is_one_trace(tmp_path: Path) -> None:
    record = SessionRecord.from_spool(make_spool(tmp_path, [], command="bash", args=[]))
    (only,) = record.trace_plans()
    assert only.key == "session" and [s.name for s in only.spans] == ["claude_session"]


def test_synthetic_session_turns_hold_their_own_tools(tmp_path: Path) -> None:
    plans = SessionRecord.from_spool(make_spool(tmp_path, session_events())).trace_plans()
    tools = [sorted(s.attributes["tool_use_id"] for s in p.spans if s.span_type == "TOOL") for p in plans]
    assert tools == [["t1", "t2"], ["s-t1", "s-t2", "t3"]]
    assert plans[1].spans[0].attributes["api_errors"] == ["overloaded"]
