"""A spool's conversations, read back as the live session read them: the run of a killed or finished session.

The transcripts and hooks are the pinned CLI's (`tests/data/hooks/`): its first process held A, then B after
/clear (and went back to A); later processes resumed A (`--resume`, `--continue`) and forked it into F.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from claude_tui.lifecycle.events import event_to_dict, parse_hook
from claude_tui.parsing import SessionStats, TranscriptTail
from claude_tui.tracking.record import SessionRecord
from claude_tui.tracking.spool import RunSpool

DATA = Path(__file__).resolve().parents[2] / "data" / "hooks"
RECORDING: dict[str, Any] = json.loads((DATA / "lifecycle.json").read_text(encoding="utf-8"))
FIRST, FORK = RECORDING["first_session_id"], RECORDING["fork_session_id"]


def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(DATA / "projects", target / "projects")
    return target


def spool_of(tmp_path: Path, process: int, *, finished: bool, session_id: str, start: str = "new",
             target: str | None = None) -> RunSpool:  # fmt: skip
    """The spool the app would have left for one recorded process (its hooks in lifecycle.jsonl)."""
    items = RECORDING["processes"][process]["items"]
    started = float(RECORDING["processes"][process]["started_at"])
    config = config_dir(tmp_path)
    meta = {
        "session_id": session_id,
        "command": "claude",
        "args": [],
        "cwd": RECORDING["work_dir"],
        "start_time": started,
        "program_started": started,
        "conversation_start": {"start": start, "target": target},
        "first_session_id": session_id if start != "resume" else None,
        "claude_config_dir": str(config),
        "pid": 0,
    }
    spool = RunSpool.create(meta, tmp_path / "spools")
    hooks = [parse_hook(item["payload"], started + item["t"]) for item in items if "payload" in item]
    # Transcript paths point where the copied config dir has them.
    spool.append_lifecycle({**event_to_dict(h), "transcript_path": None} for h in hooks if h is not None)
    ended = started + items[-1]["t"]
    if finished:
        spool.finish({"end_time": ended, "exit_code": 0, "signal": None, "killed": False})
    spool.close()
    for path in [spool.path, *spool.path.rglob("*")]:
        os.utime(path, (ended, ended))  # as a killed session's spool: last touched when it died
    return spool


def stats_of(
    tmp_path: Path, parts: list[tuple[str, float | None]], until: float | None = None
) -> dict[str, Any]:
    stats = SessionStats()
    for session_id, since in parts:
        [path] = (tmp_path / "config" / "projects").glob(f"*/{session_id}.jsonl")
        for event in TranscriptTail(path, since=since, until=until).poll(final=True):
            stats.apply(event)
    return stats.to_dict()


def cleared() -> str:
    return next(i["payload"]["session_id"] for i in RECORDING["processes"][0]["items"]
                if i.get("payload", {}).get("source") == "clear")  # fmt: skip


@pytest.mark.parametrize("finished", [True, False])
def test_every_conversation_of_the_process_is_in_its_run(tmp_path: Path, finished: bool) -> None:
    spool = spool_of(tmp_path, 0, finished=finished, session_id=FIRST)
    record = SessionRecord.from_spool(spool)
    assert record.orphan is not finished  # a killed session is logged from the same spool, the same way
    assert record.session_id == FIRST and record.session_ids == [FIRST, cleared()]
    # The first process started A and B: all of both up to its end is its own, not what the later
    # processes added to A.
    assert [c.since for c in record.lifecycle.conversations] == [None, None]  # type: ignore[union-attr]
    first = RECORDING["processes"][0]
    expected = stats_of(
        tmp_path, [(FIRST, None), (cleared(), None)], until=first["started_at"] + first["items"][-1]["t"] + 1
    )
    assert (
        expected["user_prompts"] == 6 < stats_of(tmp_path, [(FIRST, None), (cleared(), None)])["user_prompts"]
    )
    for key in ("user_prompts", "tool_uses", "commands_executed", "input_tokens", "output_tokens"):
        assert record.stats[key] == expected[key], key
    tags = record.tags()
    assert tags["claude.session_ids"] == f"{FIRST},{cleared()}"
    assert tags["claude_tui.run_key"] == FIRST and "claude.resumed_from" not in tags
    metrics = record.metrics()
    assert metrics["conversations"] == 2 and metrics["permission_requests"] == 2
    assert metrics["waiting_seconds"] > 0 and metrics["permission_denials"] == 1
    assert {p.name for p in record.transcripts} == {f"{FIRST}.jsonl", f"{cleared()}.jsonl"}
    tools = [s for s in record.span_plan() if s.span_type == "TOOL"]
    assert any("duration_ms" in s.attributes for s in tools)
    assert any("permission_wait_seconds" in s.attributes for s in tools)
    turns = [s for s in record.span_plan() if s.span_type == "CHAIN"]
    assert {t.attributes.get("session_id") for t in turns} == {FIRST, cleared()}


def test_a_resumed_conversation_counts_only_this_process_part(tmp_path: Path) -> None:
    spool = spool_of(tmp_path, 1, finished=True, session_id="ours", start="resume", target=FIRST)
    record = SessionRecord.from_spool(spool)
    started = float(RECORDING["processes"][1]["started_at"])
    assert record.session_id == FIRST and record.run_key == "ours"
    # Its own prompt only: not the earlier process's before it, nor the later `--continue`'s after its end.
    assert stats_of(tmp_path, [(FIRST, started)])["user_prompts"] == 2
    assert record.stats["user_prompts"] == 1
    tags = record.tags()
    assert tags["claude.resumed_from"] == FIRST and tags["claude_tui.run_key"] == "ours"


def test_a_fork_counts_its_new_part_only(tmp_path: Path) -> None:
    spool = spool_of(tmp_path, 3, finished=True, session_id=FORK, start="fork", target=FIRST)
    record = SessionRecord.from_spool(spool)
    assert record.session_ids == [FORK]
    assert record.stats["user_prompts"] == 1 and record.stats["tool_uses"] == 0
    assert record.tags()["claude.resumed_from"] == FIRST
