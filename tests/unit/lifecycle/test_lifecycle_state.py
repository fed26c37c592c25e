"""The lifecycle state machine, fed the hooks the pinned CLI posted and the signals that stand in for them."""

from __future__ import annotations

import pytest

from claude_tui.lifecycle.events import HookEvent, StandInSignal, TranscriptFound
from claude_tui.lifecycle.state import Lifecycle, Transition
from tests.unit.lifecycle.recorded import BASE, events, first_session_id


def replay(lifecycle: Lifecycle, made: list[HookEvent]) -> list[Transition]:
    return [t for t in (lifecycle.apply(e) for e in made) if t is not None]


def test_the_first_process_clear_permissions_agent_and_resume() -> None:
    first = first_session_id()
    made = events(0)
    lifecycle = Lifecycle(BASE, first_session_id=first)
    transitions = replay(lifecycle, made)
    lifecycle.finish(made[-1].received + 0.1)
    states = [t.state for t in transitions]
    # start, turn, /clear, turn, permission given, permission denied (waits until the next prompt),
    # the agent's turn and its background completion, /resume, turn, /exit
    assert states == [
        "idle",
        "working", "idle",
        "working", "idle",
        "working", "waiting", "working", "idle",
        "working", "waiting", "working", "idle",
        "working", "idle",
        "working", "idle",
        "ended",
    ]  # fmt: skip
    waiting = [t for t in transitions if t.state == "waiting"]
    assert [t.reason for t in waiting] == ["permission for Bash", "permission for Bash"]
    assert lifecycle.permission_requests == 2
    second = made[[e.name for e in made].index("SessionEnd") + 1].session_id
    assert lifecycle.session_ids == [first, second]
    assert [(c.source, c.since) for c in lifecycle.conversations] == [("startup", None), ("clear", None)]
    assert lifecycle.resumed_from == []
    assert lifecycle.current == first
    # Time: waiting from each PermissionRequest to the event that ended the wait.
    by_name = [(e.name, e.received) for e in made]
    asks = [t for name, t in by_name if name == "PermissionRequest"]
    ends = [next(t for name, t in by_name if t > ask and name != "PermissionRequest") for ask in asks]
    expected_wait = sum(end - ask for ask, end in zip(asks, ends, strict=True))
    assert lifecycle.seconds_in("waiting", 0) == pytest.approx(expected_wait)
    total = sum(lifecycle.seconds.values())
    assert total == pytest.approx(made[-1].received - BASE)  # up to SessionEnd: the end of the state
    # The approved call waited for its permission, then ran for what the CLI measured.
    approved = next(e for e in made if e.name == "PostToolUse" and e.tool_use_id in {
        p.tool_use_id for p in made if p.name == "PreToolUse" and p.tool_name == "Bash"
    } and lifecycle.tool_runs[e.tool_use_id].waited > 0)  # fmt: skip
    run = lifecycle.tool_runs[approved.tool_use_id or ""]
    assert run.waited == pytest.approx(approved.received - asks[0])
    assert run.duration_ms == approved.duration_ms
    # The background agent's tools are timed but never flip the state.
    agent_runs = [
        r for e in made if e.agent_id and e.tool_use_id for r in [lifecycle.tool_runs[e.tool_use_id]]
    ]
    assert agent_runs and all(r.ended is not None for r in agent_runs)


def test_resume_by_id_holds_the_conversation_from_the_start_on() -> None:
    first = first_session_id()
    lifecycle = Lifecycle(BASE, first_session_id=first, start="resume")
    replay(lifecycle, events(1))
    [conversation] = lifecycle.conversations
    assert (conversation.session_id, conversation.source, conversation.since) == (first, "resume", BASE)
    assert conversation.transcript_path and conversation.transcript_path.endswith(f"{first}.jsonl")
    assert lifecycle.resumed_from == [first]


def test_continue_learns_the_conversation_from_its_first_hook() -> None:
    lifecycle = Lifecycle(BASE, start="resume")
    assert lifecycle.conversations == []
    replay(lifecycle, events(2))
    assert lifecycle.session_ids == [first_session_id()]
    assert lifecycle.resumed_from == [first_session_id()]
    assert lifecycle.conversations[0].since == BASE


def test_a_fork_starts_a_new_conversation_with_an_earlier_history() -> None:
    lifecycle = Lifecycle(BASE, first_session_id="new", start="fork", fork_of="old")
    lifecycle.apply(HookEvent("SessionStart", "new", BASE + 1, source="resume"))
    [conversation] = lifecycle.conversations
    assert (conversation.source, conversation.since, conversation.origin) == ("fork", BASE, "old")
    assert lifecycle.resumed_from == ["old"]


def test_an_in_pane_resume_of_another_conversation_counts_only_the_new_part() -> None:
    lifecycle = Lifecycle(BASE, first_session_id="a")
    lifecycle.apply(HookEvent("SessionEnd", "a", BASE + 5, reason="resume"))
    lifecycle.apply(HookEvent("UserPromptSubmit", "older", BASE + 6, transcript_path="/p/older.jsonl"))
    older = lifecycle.find("older")
    assert older is not None and (older.source, older.since, older.origin) == ("resume", BASE, "older")
    assert lifecycle.resumed_from == ["older"]


def test_a_conversation_no_hook_explains_is_read_from_the_start_of_this_process() -> None:
    lifecycle = Lifecycle(BASE, first_session_id="a")
    lifecycle.apply(HookEvent("UserPromptSubmit", "b", BASE + 1))
    lifecycle.apply(TranscriptFound("c", "/p/c.jsonl", BASE + 2))
    assert [(c.source, c.since) for c in lifecycle.conversations] == [
        ("startup", None), ("found", BASE), ("found", BASE),
    ]  # fmt: skip


def test_notifications_wait_once_and_sub_agents_ask_for_permission_too() -> None:
    lifecycle = Lifecycle(BASE, first_session_id="a")
    assert lifecycle.apply(HookEvent("UserPromptSubmit", "a", BASE + 1)) is not None
    ask = lifecycle.apply(HookEvent("PermissionRequest", "a", BASE + 2, tool_name="Write", agent_id="x"))
    assert ask is not None and ask.state == "waiting" and ask.reason == "permission for Write"
    again = lifecycle.apply(HookEvent("Notification", "a", BASE + 8, notification_type="permission_prompt"))
    assert again is None  # already waiting: no second bell
    assert lifecycle.apply(HookEvent("PostToolUse", "a", BASE + 9, agent_id="x", tool_use_id="t")) is None
    assert lifecycle.state == "waiting"
    assert lifecycle.apply(HookEvent("PostToolUse", "a", BASE + 10, tool_use_id="u")) is not None
    assert lifecycle.apply(HookEvent("Stop", "a", BASE + 11)) is not None
    quiet = lifecycle.apply(HookEvent("Notification", "a", BASE + 12, notification_type="auth_success"))
    assert quiet is None
    idle = lifecycle.apply(
        HookEvent(
            "Notification", "a", BASE + 71, notification_type="idle_prompt", message="Claude is waiting"
        )
    )
    assert idle is not None and (idle.state, idle.reason) == ("waiting", "Claude is waiting")
    question = Lifecycle(BASE, first_session_id="a")
    moved = question.apply(
        HookEvent("PreToolUse", "a", BASE + 1, tool_name="AskUserQuestion", tool_use_id="q")
    )
    assert moved is not None and (moved.state, moved.reason) == ("waiting", "Claude asks a question")


def test_without_hooks_the_bell_and_the_title_stand_in() -> None:
    lifecycle = Lifecycle(BASE, first_session_id="a")
    assert lifecycle.apply(StandInSignal("busy", BASE + 1)) is not None
    bell = lifecycle.apply(StandInSignal("bell", BASE + 2))
    assert bell is not None and bell.state == "waiting"
    assert lifecycle.apply(StandInSignal("idle", BASE + 3)) is None  # waiting programs look idle too
    assert lifecycle.apply(StandInSignal("busy", BASE + 4)) is not None
    assert lifecycle.apply(StandInSignal("idle", BASE + 5)) is not None
    assert lifecycle.seconds_in("waiting", BASE + 5) == pytest.approx(2.0)
    # Once a hook arrived, the terminal's signals change nothing.
    lifecycle.apply(HookEvent("UserPromptSubmit", "a", BASE + 6))
    assert lifecycle.apply(StandInSignal("bell", BASE + 7)) is None
    assert lifecycle.state == "working"


def test_ended_is_final_and_times_never_run_backwards() -> None:
    lifecycle = Lifecycle(BASE, first_session_id="a")
    lifecycle.apply(HookEvent("UserPromptSubmit", "a", BASE + 5))
    lifecycle.apply(HookEvent("Stop", "a", BASE + 4))  # a late clock: counted as no time
    assert lifecycle.seconds_in("working", BASE + 10) == 0.0
    lifecycle.apply(HookEvent("SessionEnd", "a", BASE + 6, reason="prompt_input_exit"))
    assert lifecycle.state == "ended"
    assert lifecycle.apply(HookEvent("UserPromptSubmit", "a", BASE + 7)) is None
    lifecycle.finish(BASE + 8)
    assert lifecycle.seconds_in("ended", BASE + 100) == 0.0
    summary = lifecycle.summary(BASE + 8)
    assert summary["state"] == "ended" and summary["conversations"][0]["session_id"] == "a"
