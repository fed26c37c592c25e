"""Finding a tracked process's conversations on disk, for when its hooks say nothing.

Without hooks (disabled by policy, or a `claude` whose hooks never arrive) a `/clear` or `/resume` still
moves the CLI to another transcript in the project folder of its work dir. `TranscriptWatch` looks there
every few seconds for a transcript written to since the process started and claims it when the records
written since carry, in their `session_id` field, the id of a conversation the process already holds: the
interactive CLI stamps every record with the session it started in (measured on 2.1.328), so a transcript
another `claude` in the same folder writes does not match. A process whose first conversation is unknown
(`--continue` without hooks) claims the first transcript written to after its start. Stdlib only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["TranscriptWatch", "process_ids"]

TAIL_BYTES = 256 << 10
"""How much of a candidate's end is read to find whose records it holds."""


def process_ids(path: str, since: float, limit: int = TAIL_BYTES) -> tuple[str | None, set[str]]:
    """The `sessionId` of a transcript's last record stamped at or after `since`, and the `session_id`s
    (the process's first conversation) its records of that time carry. Reads at most `limit` bytes from
    the end; `(None, set())` when there are none or the file cannot be read."""
    from datetime import datetime

    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - limit))
            data = handle.read(limit)
    except OSError:
        return None, set()
    own: str | None = None
    owners: set[str] = set()
    for line in data.split(b"\n"):
        if b'"timestamp"' not in line:
            continue
        try:
            record = json.loads(line)
            stamp = datetime.fromisoformat(record["timestamp"]).timestamp()
        except (ValueError, KeyError, TypeError):
            continue
        if not isinstance(record, dict) or stamp < since:
            continue
        if isinstance(record.get("sessionId"), str):
            own = record["sessionId"]
        if isinstance(record.get("session_id"), str):
            owners.add(record["session_id"])
    return own, owners


@dataclass
class TranscriptWatch:
    """Looks for transcripts a process wrote that it did not say it wrote (see the module docstring).

    Args:
        folders: gives the project folders of the process's work dir (`claude_code.project_dirs`), asked at
            each scan: the folder of a work dir's first session appears with its first transcript.
        since: when the process started.
    """

    folders: Callable[[], Sequence[str]]
    since: float
    _sizes: dict[str, int] = field(default_factory=dict)

    def scan(self, known: Iterable[str]) -> list[tuple[str, str]]:
        """`(session_id, path)` of each transcript the process wrote since the last scan, not in `known`."""
        held = set(known)
        found: list[tuple[str, str]] = []
        for folder in self.folders():
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if not entry.name.endswith(".jsonl"):
                    continue
                session_id = entry.name[: -len(".jsonl")]
                try:
                    stat = entry.stat()
                except OSError:
                    continue
                if session_id in held or stat.st_mtime < self.since:
                    continue
                if self._sizes.get(entry.path) == stat.st_size:
                    continue  # looked at already, and unchanged
                self._sizes[entry.path] = stat.st_size
                own, owners = process_ids(entry.path, self.since)
                if own is None:
                    continue
                if (held and owners & held) or (not held and not found):
                    found.append((own if own == session_id else session_id, entry.path))
                    held.add(session_id)
        return found
