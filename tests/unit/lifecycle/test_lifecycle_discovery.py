"""Without hooks, a process's new conversations are found on disk by the session id its records carry."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from claude_tui.lifecycle.discovery import TranscriptWatch, process_ids

DATA = Path(__file__).resolve().parents[2] / "data" / "hooks"
RECORDING: dict[str, Any] = json.loads((DATA / "lifecycle.json").read_text(encoding="utf-8"))


def copied(tmp_path: Path) -> Path:
    [folder] = (DATA / "projects").iterdir()
    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target


def cleared_id() -> str:
    return next(
        item["payload"]["session_id"]
        for item in RECORDING["processes"][0]["items"]
        if item.get("payload", {}).get("source") == "clear"
    )


def test_records_carry_the_session_their_process_started_in() -> None:
    first = RECORDING["first_session_id"]
    start = RECORDING["processes"][0]["started_at"]
    own, owners = process_ids(str(next((DATA / "projects").glob(f"*/{cleared_id()}.jsonl"))), start)
    assert own == cleared_id() and owners == {first}


def test_the_process_finds_what_it_wrote_and_nothing_else(tmp_path: Path) -> None:
    folder = copied(tmp_path)
    # As the folder was while the first process ran: the later fork (of its conversation, by another
    # process, which stamps the records it copies with the conversation it started from) was not there.
    (folder / f"{RECORDING['fork_session_id']}.jsonl").unlink()
    first = RECORDING["first_session_id"]
    start = RECORDING["processes"][0]["started_at"]
    watch = TranscriptWatch(lambda: [str(folder)], start)
    assert watch.scan([first]) == [(cleared_id(), str(folder / f"{cleared_id()}.jsonl"))]
    assert watch.scan([first]) == []  # unchanged since: not looked at again
    # A process that started in a conversation of its own sees no other process's transcripts.
    assert TranscriptWatch(lambda: [str(folder)], start).scan(["someone-else"]) == []


def test_a_process_that_knows_no_conversation_takes_the_first_written_since_its_start(tmp_path: Path) -> None:
    folder = copied(tmp_path)
    fork_start = RECORDING["processes"][3]["started_at"]
    found = TranscriptWatch(lambda: [str(folder)], fork_start).scan([])
    assert [session_id for session_id, _ in found] == [RECORDING["fork_session_id"]]


def test_missing_folders_and_odd_files_are_no_error(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text("not json\n{}\n")
    assert TranscriptWatch(lambda: [str(tmp_path / "gone"), str(tmp_path)], 0.0).scan([]) == []
    assert process_ids(str(tmp_path / "gone.jsonl"), 0.0) == (None, set())
