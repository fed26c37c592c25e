"""Hook payloads recorded from the pinned CLI become typed events, and events survive the spool round trip."""

from __future__ import annotations

import json

import pytest

from claude_tui.lifecycle.events import (
    HookEvent,
    StandInSignal,
    TranscriptFound,
    event_from_dict,
    event_to_dict,
    parse_hook,
)
from tests.unit.lifecycle.recorded import BASE, events, first_session_id, payloads, recording


def test_every_recorded_payload_is_a_hook_event() -> None:
    for index, _ in enumerate(recording()["processes"]):
        for payload in payloads(index):
            event = parse_hook(payload, BASE)
            assert event is not None
            assert event.name == payload["hook_event_name"]
            assert event.session_id == payload["session_id"]
            assert event.transcript_path == payload["transcript_path"]


def test_the_first_process_in_hooks() -> None:
    made = events(0)
    first = first_session_id()
    names = [e.name for e in made]
    assert names[0] == "SessionStart" and made[0].source == "startup" and made[0].session_id == first
    end = next(e for e in made if e.name == "SessionEnd")
    assert end.reason == "clear" and end.is_switch
    after_clear = made[names.index("SessionEnd") + 1]
    assert after_clear.name == "SessionStart" and after_clear.source == "clear"
    assert after_clear.session_id != first
    tool_done = next(e for e in made if e.name == "PostToolUse")
    assert tool_done.tool_name == "Bash" and tool_done.tool_use_id and tool_done.duration_ms is not None
    assert names.count("PermissionRequest") == 2
    agent_hooks = [e for e in made if e.agent_id]
    assert agent_hooks and {e.name for e in agent_hooks} == {"PreToolUse", "PostToolUse"}
    resumed = [e for e in made if e.name == "SessionStart" and e.source == "resume"]
    assert [e.session_id for e in resumed] == [first]
    assert made[-1].name == "SessionEnd" and made[-1].reason == "prompt_input_exit" and not made[-1].is_switch


@pytest.mark.parametrize("process", [1, 2])
def test_resume_and_continue_start_with_a_resume_session_start(process: int) -> None:
    made = events(process)
    assert made[0].name == "SessionStart" and made[0].source == "resume"
    assert {e.session_id for e in made} == {first_session_id()}


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "text",
        {},
        {"hook_event_name": "Stop"},
        {"session_id": "x"},
        {"hook_event_name": 3, "session_id": "x"},
    ],
)
def test_what_is_not_a_hook_payload(payload: object) -> None:
    assert parse_hook(payload, BASE) is None


def test_odd_field_types_are_kept_short_and_textual() -> None:
    event = parse_hook(
        {
            "hook_event_name": "PostToolUseFailure",
            "session_id": "s",
            "error": {"code": 1},
            "duration_ms": True,
            "tool_name": "x" * 1000,
        },
        BASE,
    )
    assert event is not None
    assert event.message == '{"code": 1}'
    assert event.duration_ms is None
    assert event.tool_name == "x" * 200


@pytest.mark.parametrize(
    "event",
    [
        HookEvent("PostToolUse", "s", BASE, tool_name="Bash", tool_use_id="t", duration_ms=12.0),
        HookEvent("SessionEnd", "s", BASE, reason="clear"),
        StandInSignal("bell", BASE),
        TranscriptFound("s", "/x/s.jsonl", BASE),
    ],
)
def test_spool_round_trip(event: object) -> None:
    line = json.dumps(event_to_dict(event))  # type: ignore[arg-type]
    assert event_from_dict(json.loads(line)) == event


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"type": "nope"},
        {"type": "hook", "name": "Stop"},
        {"type": "signal", "kind": "bell", "received": "x"},
    ],
)
def test_bad_spool_lines(data: object) -> None:
    with pytest.raises(ValueError):
        event_from_dict(data)  # type: ignore[arg-type]
