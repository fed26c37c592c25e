"""TranscriptTail and stats_for_transcript on hand-written transcripts shaped like the real CLI's."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import parsing_records as r
import pytest

from claude_tui.parsing import SessionStats, TranscriptTail, stats_for_transcript
from claude_tui.parsing.events import (
    ApiError,
    Compaction,
    SessionMeta,
    TokenUsage,
    ToolCall,
    ToolResult,
    UserPrompt,
)

# The realistic session's expected stats, worked out from its records by hand (see parsing_records.py).
EXPECTED: dict[str, Any] = {
    "tool_uses": 4,
    "tool_uses_by_name": {"Bash": 2, "Read": 1, "Write": 1},
    "subagent_tool_uses": 0,
    "commands_executed": 2,
    "git_operations": 2,  # "cd repo && git add x && git commit -m y"
    "errors_encountered": 1,  # t1 is_error true; t2 false, t3 null, t4 absent
    "permission_denials": 0,  # no record has a toolDenialKind
    "user_prompts": 2,
    "files_read": 1,
    "files_modified": 1,
    "input_tokens": 4406 + 4589 + 4658 + 5000 + 5100,  # msg_1 three records, counted once
    "output_tokens": 84 + 29 + 9 + 34 + 8,
    "cache_read_tokens": 10,
    "cache_creation_tokens": 20,
    "models": ["claude-sonnet-4-5-20250929"],
    "turns": 2,
    "active_seconds": 2.0,
    "first_prompt": "close-issue 583",
    "unpriced_models": [],
    "procedure_name": "close-issue",
    "issue_number": "583",
    "malformed_lines": 0,
    "unknown_records": 0,
    "unknown_records_by_type": {},
    "model": "claude-sonnet-4-5-20250929",
    "claude_version": "2.1.328",
    "cwd": "/work/repo",
    "git_branch": "main",
    "permission_mode": "acceptEdits",
    "session_id": r.SESSION,
    "last_error": "Exit code 2 · ls: cannot access '/nope': No such file or directory",
}
# Sonnet 4.5: $3 input, $15 output, $0.30 cache read, $3.75 cache write per million tokens.
EXPECTED_COST = (EXPECTED["input_tokens"] * 3 + EXPECTED["output_tokens"] * 15 + 10 * 0.3 + 20 * 3.75) / 1e6


def write(path: Path, records: Sequence[object], tail: str = "") -> Path:
    path.write_text("".join(r.line(rec) for rec in records) + tail, encoding="utf-8")
    return path


def test_realistic_session_every_stat(tmp_path: Path) -> None:
    stats = stats_for_transcript(write(tmp_path / "s.jsonl", r.realistic_session())).to_dict()
    cost = stats.pop("cost_usd")
    assert stats == EXPECTED
    assert cost == pytest.approx(EXPECTED_COST, abs=1e-6)


@pytest.mark.parametrize(
    ("tail", "malformed", "unknown"),
    [
        ('{"type":"assistant","message":{"id":"msg_9","usage":{"input_tok', 1, {}),  # truncated last line
        ("this is not json\n", 1, {}),
        ("[1, 2, 3]\n", 1, {}),
        ('"a string"\n', 1, {}),
        ("\n\n   \n", 0, {}),  # blank lines are not malformed
        ('{"type":"user","message":"not an object"}\n', 0, {"user (unexpected shape)": 1}),
        ('{"type":"brand-new-record","whatever":{"x":1}}\n', 0, {"brand-new-record": 1}),
        ('{"whatever":{"type":"cost-state"}}\n', 0, {"(no type)": 1}),  # a nested known type is not its type
        ('{"type":"cost-state","totalCostUSD":1}\n{"type":"mode","mode":"x"}\n', 0, {}),  # known: skipped
        ('{"type": "brand-new-record", "spaced": true}\n', 0, {"brand-new-record": 1}),
        ('{"type":"brand-new-record","broken": }\n', 1, {}),  # looks like an object, is not JSON
        (
            '{"type":"assistant","message":{"id":"m","content":[{"type":"hologram"}],"usage":{}},"extra":1}\n',
            0,
            {},
        ),
        ("\x00\x01garbage\xff\n", 1, {}),
    ],
)
def test_bad_lines_are_counted_and_skipped(
    tmp_path: Path, tail: str, malformed: int, unknown: dict[str, int]
) -> None:
    path = write(tmp_path / "s.jsonl", r.realistic_session(), tail)
    stats = stats_for_transcript(path).to_dict()
    assert stats["malformed_lines"] == malformed
    assert stats["unknown_records_by_type"] == unknown
    assert stats["unknown_records"] == sum(unknown.values())
    for key in ("tool_uses", "errors_encountered", "user_prompts", "output_tokens", "turns"):
        assert stats[key] == EXPECTED[key]


def test_spaced_json_and_crlf_lines_are_read(tmp_path: Path) -> None:
    # Not what the CLI writes, but valid JSONL: the slow path must find the same records.
    body = "".join(json.dumps(rec) + "\r\n" for rec in r.realistic_session())
    (tmp_path / "s.jsonl").write_text(body)
    stats = stats_for_transcript(tmp_path / "s.jsonl").to_dict()
    stats.pop("cost_usd")
    assert stats == EXPECTED


def test_tail_waits_for_the_newline(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    tail = TranscriptTail(path)
    assert tail.poll() == []  # no file yet
    full = r.line(r.prompt("hello"))
    path.write_text(full[:-10])
    assert tail.poll() == []
    with path.open("a") as handle:
        handle.write(full[-10:])
    events = tail.poll()
    assert [type(e) for e in events] == [SessionMeta, UserPrompt]
    assert events[1] == UserPrompt(ts=events[1].ts, text="hello")
    assert events[1].ts == pytest.approx(1795760272.531)
    assert tail.malformed_lines == 0
    assert tail.offset == len(full.encode())


def test_final_poll_reads_an_unterminated_complete_line(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(r.line(r.prompt("a")) + r.line(r.prompt("b")).rstrip("\n"))
    tail = TranscriptTail(path)
    assert sum(isinstance(e, UserPrompt) for e in tail.poll()) == 1
    assert [e.text for e in tail.poll(final=True) if isinstance(e, UserPrompt)] == ["b"]


def _fold(events: Sequence[object]) -> SessionStats:
    stats = SessionStats()
    for event in events:
        stats.apply(event)  # type: ignore[arg-type]
    return stats


def _progressive(tmp_path: Path, data: bytes, cuts: list[int]) -> dict[str, object]:
    """Write `data` in pieces ending at `cuts`, polling after each; the folded stats."""
    path = tmp_path / "progressive.jsonl"
    path.write_bytes(b"")
    tail = TranscriptTail(path)
    events = []
    start = 0
    for cut in [*cuts, len(data)]:
        with path.open("ab") as handle:
            handle.write(data[start:cut])
        start = cut
        events.extend(tail.poll())
    events.extend(tail.poll(final=True))
    stats = _fold(events)
    stats.malformed_lines = tail.malformed_lines
    return stats.to_dict()


def _session_bytes() -> bytes:
    records = r.realistic_session()
    text = "".join(r.line(rec) for rec in records)
    # Garbage and an unknown record in the middle, to show malformed counting is feeding-independent too.
    half = len(records) // 2
    text = "".join(r.line(rec) for rec in records[:half]) + "not json\n"
    text += '{"type":"future-kind","x":1}\n' + "".join(r.line(rec) for rec in records[half:])
    return text.encode()


def test_byte_by_byte_random_chunks_and_one_block_give_identical_stats(tmp_path: Path) -> None:
    data = _session_bytes()
    whole = stats_for_transcript(_write_bytes(tmp_path / "whole.jsonl", data)).to_dict()
    assert whole["malformed_lines"] == 1
    assert whole["unknown_records_by_type"] == {"future-kind": 1}
    assert whole["tool_uses"] == EXPECTED["tool_uses"]
    one_block = _progressive(tmp_path, data, [])
    byte_by_byte = _progressive(tmp_path, data, list(range(1, len(data))))
    rng = random.Random(4)
    random_cuts = sorted(rng.sample(range(1, len(data)), 40))
    random_chunks = _progressive(tmp_path, data, random_cuts)
    assert one_block == whole
    assert byte_by_byte == whole
    assert random_chunks == whole


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_repeated_usage_records_count_once_and_take_the_largest(tmp_path: Path) -> None:
    records = [
        r.prompt("x"),
        r.assistant("msg_a", r.text("one"), use=r.usage(100, 5)),
        r.assistant("msg_a", r.text("two"), use=r.usage(100, 5)),
        r.assistant("msg_a", r.tool_use("t", "Bash", command="true"), use=r.usage(100, 40)),  # final numbers
        r.assistant("msg_b", r.text("same id, other request"), use=r.usage(7, 1), request_id="req_other"),
    ]
    tail = TranscriptTail(write(tmp_path / "s.jsonl", records))
    events = tail.poll()
    usages = [e for e in events if isinstance(e, TokenUsage)]
    assert len(usages) == 3  # msg_a first, msg_a again (numbers changed), msg_b; the exact repeat is dropped
    stats = _fold(events)
    assert (stats.input_tokens, stats.output_tokens) == (107, 41)


def test_is_error_true_false_null_absent(tmp_path: Path) -> None:
    records = [
        r.prompt("x"),
        r.assistant("m", r.tool_use("a", "Bash", command="false")),
        r.result("a", "Exit code 1", True),
        r.result("b", "fine", False),
        r.result("c", "fine", None),
        r.result("d", [{"type": "text", "text": "list content"}]),
    ]
    events = TranscriptTail(write(tmp_path / "s.jsonl", records)).poll()
    results = {e.id: e for e in events if isinstance(e, ToolResult)}
    assert {k: v.is_error for k, v in results.items()} == {"a": True, "b": False, "c": False, "d": False}
    assert results["d"].preview == "list content"


def test_prompts_exclude_meta_commands_notifications_and_tool_results(tmp_path: Path) -> None:
    records = [
        r.prompt("typed one"),
        r.prompt("<command-name>/model</command-name>\n<command-args></command-args>"),
        r.prompt("<local-command-stdout>Set model</local-command-stdout>"),
        r.prompt("Caveat: the messages below...", isMeta=True),
        r.prompt("<task-notification>\n<task-id>a1</task-id>", origin={"kind": "task-notification"}),
        r.prompt("summary of the conversation", isCompactSummary=True),
        r.prompt("from the sdk", promptSource="sdk", origin=None),  # `claude -p` prompts count
        r.prompt("[Request interrupted by user]"),
        {**r.prompt("text blocks"), "message": {"role": "user", "content": [r.text("typed two")]}},
        r.result("t", "not a prompt"),
    ]
    events = TranscriptTail(write(tmp_path / "s.jsonl", records)).poll()
    assert [e.text for e in events if isinstance(e, UserPrompt)] == ["typed one", "from the sdk", "typed two"]


def test_api_errors_and_compaction(tmp_path: Path) -> None:
    records = [
        r.prompt("x"),
        {
            "type": "system",
            "subtype": "api_error",
            "level": "error",
            "error": {"status": 529, "error": {"type": "overloaded_error", "message": "Overloaded"}},
            "retryAttempt": 1,
            "timestamp": "2026-11-27T06:17:55.000Z",
        },
        {
            **r.assistant(
                "m_err",
                r.text("API Error: 500 Internal server error"),
                model="<synthetic>",
                ts="2026-11-27T06:17:56.000Z",
            ),
            "isApiErrorMessage": True,
        },
        {
            "type": "system",
            "subtype": "compact_boundary",
            "compactMetadata": {"trigger": "manual", "preTokens": 9},
        },
    ]
    events = TranscriptTail(write(tmp_path / "s.jsonl", records)).poll()
    errors = [e for e in events if isinstance(e, ApiError)]
    assert [(e.message, e.retrying) for e in errors] == [
        ("Overloaded", True),
        ("API Error: 500 Internal server error", False),
    ]
    assert next(e for e in events if isinstance(e, Compaction)).pre_tokens == 9
    stats = _fold(events)
    assert stats.errors_encountered == 2
    assert stats.last_error == "API Error: 500 Internal server error"
    assert stats.models == []  # <synthetic> is not a model


def test_subagent_files_including_ones_that_appear_later(tmp_path: Path) -> None:
    main = tmp_path / f"{r.SESSION}.jsonl"
    write(main, [r.prompt("go"), r.assistant("m1", r.tool_use("t_task", "Task", prompt="do it"))])
    tail = TranscriptTail(main)
    first = tail.poll()
    assert [e.name for e in first if isinstance(e, ToolCall)] == ["Task"]
    sub_dir = tmp_path / r.SESSION / "subagents"
    sub_dir.mkdir(parents=True)
    sub_record = r.assistant("m_sub", r.tool_use("t_sub", "Bash", command="git status"), isSidechain=True)
    sub_record["agentId"] = "a5c640"
    write(sub_dir / "agent-a5c640.jsonl", [{**r.prompt("do it"), "isSidechain": True}, sub_record])
    later = tail.poll()
    calls = [e for e in later if isinstance(e, ToolCall)]
    assert calls == [
        ToolCall(
            ts=calls[0].ts,
            id="t_sub",
            name="Bash",
            input={"command": "git status"},
            sidechain=True,
            agent_id="a5c640",
        )
    ]
    assert not [e for e in later if isinstance(e, UserPrompt)]  # the task prompt is not the person's
    stats = _fold(first + later)
    assert (stats.tool_uses, stats.subagent_tool_uses, stats.git_operations, stats.user_prompts) == (
        2,
        1,
        1,
        1,
    )


def test_inline_sidechain_records(tmp_path: Path) -> None:
    records = [
        r.prompt("go"),
        r.assistant("m1", r.tool_use("t1", "Task", prompt="sub")),
        {**r.prompt("sub"), "isSidechain": True},
        r.assistant("m2", r.tool_use("t2", "Read", file_path="/a"), isSidechain=True),
    ]
    stats = stats_for_transcript(write(tmp_path / "s.jsonl", records))
    assert (stats.tool_uses, stats.subagent_tool_uses, stats.user_prompts, stats.files_read) == (2, 1, 1, 1)


def test_truncation_and_replacement_restart_without_double_counting(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", r.realistic_session())
    tail = TranscriptTail(path)
    stats = SessionStats()
    for event in tail.poll():
        stats.apply(event)
    # Replaced by a new file (new inode) holding the same records: read again, counted once.
    replacement = write(tmp_path / "new.jsonl", r.realistic_session())
    os.replace(replacement, path)
    for event in tail.poll():
        stats.apply(event)
    assert tail.restarts == 1
    assert stats.tool_uses == EXPECTED["tool_uses"]
    assert stats.input_tokens == EXPECTED["input_tokens"]
    # Truncated in place to a shorter file: start over from byte 0.
    write(path, [r.prompt("fresh")])
    events = tail.poll()
    assert tail.restarts == 2
    assert [e.text for e in events if isinstance(e, UserPrompt)] == ["fresh"]


def test_start_offset_skips_what_was_read_before(tmp_path: Path) -> None:
    first = r.line(r.prompt("old"))
    path = tmp_path / "s.jsonl"
    path.write_text(first + r.line(r.prompt("new")))
    events = TranscriptTail(path, offset=len(first.encode())).poll()
    assert [e.text for e in events if isinstance(e, UserPrompt)] == ["new"]


def test_missing_file_gives_empty_stats(tmp_path: Path) -> None:
    stats = stats_for_transcript(tmp_path / "nope.jsonl").to_dict()
    assert stats["tool_uses"] == 0 and stats["malformed_lines"] == 0 and stats["session_id"] is None


def test_poll_never_raises_on_a_directory_or_unreadable_path(tmp_path: Path) -> None:
    tail = TranscriptTail(tmp_path)  # a directory where a file was expected
    assert tail.poll() == []
    assert tail.poll(final=True) == []


@pytest.mark.parametrize(
    ("where", "bad"),
    [
        ("prompt", b"\xff"),  # a byte that never starts UTF-8
        ("prompt", b"\xc3"),  # the first half of a two-byte character, cut off
        ("tool", b"\xed\xa0\x80"),  # an encoded surrogate (not valid UTF-8)
    ],
)
def test_one_invalid_utf8_byte_loses_one_character_not_the_record(
    tmp_path: Path, where: str, bad: bytes
) -> None:
    # Issue 13 item 13: one bad byte used to make the whole line malformed (orjson refuses invalid UTF-8),
    # losing the prompt or tool call it held. Decoded with replacement, the record is kept.
    records = [
        r.prompt("caf\u00e9 PLACEHOLDER"),
        r.assistant("m1", r.tool_use("t1", "Bash", command="echo X")),
    ]
    data = "".join(r.line(rec) for rec in records).encode()
    marker = b"PLACEHOLDER" if where == "prompt" else b"echo X"
    data = data.replace(marker, marker[:-1] + bad)
    path = _write_bytes(tmp_path / "s.jsonl", data)
    stats = stats_for_transcript(path)
    assert stats.malformed_lines == 0
    assert (stats.user_prompts, stats.tool_uses, stats.commands_executed) == (1, 1, 1)
    if where == "prompt":
        assert stats.first_prompt is not None
        assert stats.first_prompt.startswith("caf\u00e9 PLACEHOLDE\ufffd")
    # The live tail reads it the same way, fed in two pieces.
    live = tmp_path / "live.jsonl"
    live.write_bytes(data[:7])
    tail = TranscriptTail(live)
    events = tail.poll()
    with live.open("ab") as handle:
        handle.write(data[7:])
    events += tail.poll()
    assert tail.malformed_lines == 0
    assert sum(isinstance(e, UserPrompt) for e in events) == 1
    assert sum(isinstance(e, ToolCall) for e in events) == 1


def test_workflow_subagents_in_nested_folders_are_followed_also_when_they_appear_later(
    tmp_path: Path,
) -> None:
    main = tmp_path / f"{r.SESSION}.jsonl"
    write(main, [r.prompt("go"), r.assistant("m1", r.tool_use("t_wf", "Workflow", script="..."))])
    tail = TranscriptTail(main)
    first = tail.poll()
    run = tmp_path / r.SESSION / "subagents" / "workflows" / "wf_1"
    run.mkdir(parents=True)
    # The run's journal is not a transcript: its records must not count (as unknown records either).
    (run / "journal.jsonl").write_text('{"type":"launched"}\n{"type":"started","agentId":"a1"}\n')
    sub = r.assistant("m_sub", r.tool_use("t_sub", "Bash", command="git status"), isSidechain=True)
    write(run / "agent-a1.jsonl", [{**r.prompt("list"), "isSidechain": True}, sub])
    (run / "agent-a1.meta.json").write_text("{}")
    later = tail.poll()
    calls = [e for e in later if isinstance(e, ToolCall)]
    assert [(c.name, c.sidechain, c.agent_id) for c in calls] == [("Bash", True, "a1")]
    stats = _fold(first + later)
    assert (stats.tool_uses, stats.subagent_tool_uses, stats.git_operations, stats.unknown_records) == (
        2,
        1,
        1,
        0,
    )
    assert stats_for_transcript(main).to_dict()["subagent_tool_uses"] == 1
