"""A resumed or forked conversation's transcript holds an earlier process's records: `since` leaves them out.

The data: `tests/data/hooks/` (recorded by `tests/data/record_hooks.py` from the pinned CLI): conversation A
was started by one process and resumed by two more (`--resume A`, `--continue`); F was forked from A by a
fourth (`--resume A --fork-session`), which copies A's history into F with its old timestamps, after F's own
first records. Each process typed one "Go on where we were" after the first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claude_tui.parsing import SessionStats, TranscriptTail
from claude_tui.parsing.events import ToolResult, UserPrompt

DATA = Path(__file__).resolve().parents[2] / "data" / "hooks"
RECORDING: dict[str, Any] = json.loads((DATA / "lifecycle.json").read_text(encoding="utf-8"))
STARTS = [float(p["started_at"]) for p in RECORDING["processes"]]


def transcript(session_id: str) -> Path:
    [path] = DATA.glob(f"projects/*/{session_id}.jsonl")
    return path


def prompts(path: Path, since: float | None) -> list[str]:
    return [e.text for e in TranscriptTail(path, since=since).poll(final=True) if isinstance(e, UserPrompt)]


def test_a_resumed_conversation_gives_each_process_its_own_part() -> None:
    a = transcript(RECORDING["first_session_id"])
    everything = prompts(a, None)
    assert everything == ["List the files here", *["Go on where we were"] * 3]
    # Since each later process started: its prompt and the next ones', never an earlier process's.
    assert prompts(a, STARTS[1]) == ["Go on where we were"] * 2
    assert prompts(a, STARTS[2]) == ["Go on where we were"]
    assert prompts(a, STARTS[3]) == []  # the fork wrote to F, not to A


def test_a_fork_copies_the_history_but_counts_only_its_own() -> None:
    f = transcript(RECORDING["fork_session_id"])
    copied = prompts(f, None)
    assert copied[0] == "List the files here" and copied[-1] == "Go on where we were"
    assert len(copied) > 1
    assert prompts(f, STARTS[3]) == ["Go on where we were"]
    stats = SessionStats()
    for event in TranscriptTail(f, since=STARTS[3]).poll(final=True):
        stats.apply(event)
    assert (stats.user_prompts, stats.tool_uses, stats.first_prompt) == (1, 0, "Go on where we were")
    assert stats.output_tokens > 0  # the answer to it


@pytest.mark.parametrize("chunk", [None, 997, 65536])
def test_since_is_the_same_read_whole_or_line_by_line(chunk: int | None, tmp_path: Path) -> None:
    source = transcript(RECORDING["first_session_id"]).read_bytes()
    growing = tmp_path / "a.jsonl"
    growing.write_bytes(b"")
    tail = TranscriptTail(growing, since=STARTS[1])
    events = []
    step = chunk or len(source)
    for start in range(0, len(source), step):
        with growing.open("ab") as handle:
            handle.write(source[start : start + step])
        events += tail.poll()
    events += tail.poll(final=True)
    whole = TranscriptTail(transcript(RECORDING["first_session_id"]), since=STARTS[1]).poll(final=True)
    assert events == whole


def test_a_denied_permission_is_a_denial_and_an_error() -> None:
    [cleared] = [
        p["payload"]["session_id"]
        for p in RECORDING["processes"][0]["items"]
        if "payload" in p
        and p["payload"]["hook_event_name"] == "SessionStart"
        and p["payload"]["source"] == "clear"
    ]
    events = TranscriptTail(transcript(cleared)).poll(final=True)
    denied = [e for e in events if isinstance(e, ToolResult) and e.denied]
    assert len(denied) == 1 and denied[0].is_error
    stats = SessionStats()
    for event in events:
        stats.apply(event)
    assert stats.permission_denials == 1
    assert stats.to_dict()["permission_denials"] == 1


def test_until_leaves_out_what_later_processes_added() -> None:
    a = transcript(RECORDING["first_session_id"])
    ends = [p["started_at"] + p["items"][-1]["t"] for p in RECORDING["processes"]]
    assert [
        e.text for e in TranscriptTail(a, until=ends[0] + 1).poll(final=True) if isinstance(e, UserPrompt)
    ] == [
        "List the files here",
        "Go on where we were",  # the first process went back to A (/resume) before it ended
    ]
    only_second = TranscriptTail(a, since=STARTS[1], until=ends[1] + 1).poll(final=True)
    assert [e.text for e in only_second if isinstance(e, UserPrompt)] == ["Go on where we were"]
