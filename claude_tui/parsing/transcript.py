"""Following a Claude Code transcript (JSONL) while the CLI writes it, and turning records into events.

`TranscriptTail(path).poll()` returns the events of the complete lines written since the last poll. It never
raises: a file that does not exist yet reads as empty, a half-written last line waits for its newline, a line
with invalid UTF-8 is decoded with replacement (each bad sequence becomes U+FFFD, the record is kept), lines
that are not JSON objects are counted in `malformed_lines` and skipped, unknown record types and fields are
ignored, and a file that was truncated or replaced (its inode changed or it shrank) is read again from the
start (`restarts` counts that; `SessionStats` drops repeated tool calls, results and usage by id). Sub-agent
transcripts (`<session>/subagents/*.jsonl`, also ones that appear later) are followed too; their events, like
those of inline `isSidechain: true` records, are marked `sidechain=True`.

Speed: a line is only parsed when a cheap bytes check says it can hold a record that matters (`user`,
`assistant`, `system`, `permission-mode`); other lines (attachments, API request snapshots, file-history
snapshots: most of a transcript's bytes) are only checked to look like a JSON object (`{...}`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from claude_tui.claude_code import SUBAGENT_DEPTH, subagent_dir
from claude_tui.parsing.events import (
    PREVIEW_CHARS,
    ApiError,
    AssistantText,
    Compaction,
    Event,
    SessionMeta,
    TokenUsage,
    ToolCall,
    ToolResult,
    TurnEnd,
    UnknownRecord,
    UserPrompt,
)

try:
    import orjson

    _loads: Callable[[bytes | str], Any] = orjson.loads
    _DecodeError: type[Exception] = orjson.JSONDecodeError
except ImportError:  # pragma: no cover - orjson is a dependency; stdlib json keeps the module usable
    import json

    _loads = json.loads
    _DecodeError = ValueError

KNOWN_RECORD_TYPES = frozenset(
    {
        # What Claude Code 2.1.328 itself knows (its transcript loader's table of record types), plus
        # `repl-mode`, which it writes. Records of these types that give no event are ignored by design.
        *("user", "assistant", "system", "attachment", "progress", "summary", "custom-title", "ai-title"),
        *("ended-by-model", "continued-in", "last-prompt", "tag", "relocated", "agent-name", "agent-color"),
        *("agent-setting", "pr-link", "frame-link", "artifact-comment-monitor", "artifact-autoreact-ledger"),
        *("bridge-session", "history-suppression", "file-history-snapshot", "file-history-delta"),
        *("attribution-snapshot", "mode", "permission-mode", "isolation-latch", "session-owner", "dev-mods"),
        *("memory-mode", "atis-latch", "tools-used", "data-flow-records", "data-flow-incomplete"),
        *("derived-from", "worktree-state", "cost-state", "queue-operation", "content-replacement"),
        *("api-request-shape", "api-request-blob", "api-request", "api-request-resumed", "fork-context-ref"),
        *("observer-ref", "resume-head-vouch", "repl-mode"),
    }
)
"""Record types the parser knows; any other becomes an `UnknownRecord` event (counted, never silent)."""

_KNOWN_TYPE_NAMES = frozenset(name.encode() for name in KNOWN_RECORD_TYPES)
_COMMON_FIRST = (
    "api-request",
    "api-request-blob",
    "atis-latch",
    "tools-used",
    "last-prompt",
    "queue-operation",
)
_KNOWN_FIRST = tuple(
    b'{"type":"' + name.encode() + b'"'
    for name in (*_COMMON_FIRST, *sorted(KNOWN_RECORD_TYPES - set(_COMMON_FIRST)))
)
"""A line of a known type in compact JSON, type first (`bytes.startswith` takes them all at once)."""
_TRAILING_TYPE_NAMES = frozenset({b"attachment", b"progress", b"user", b"assistant", b"system"})
"""Known types the CLI writes after a nested object (`{"parentUuid":...,"attachment":{...},"type":...`)."""
_TYPE_VALUE = re.compile(rb'"type"\s*:\s*"([^"\\]*)"')
RECORD_TYPE_CHARS = 80
"""An unknown record's type is cut to this many characters (a hostile file cannot make huge keys)."""

_RELEVANT = re.compile(rb'"type"\s*:\s*"(?:user|assistant|system|permission-mode)"')
# The same for compact JSON (what the CLI writes): a quarter faster to search.
_RELEVANT_COMPACT = re.compile(rb'"type":"(?:user|assistant|system|permission-mode)"')

# Content of user records that the CLI writes itself (slash commands, their output, background-task notes):
# not typed prompts.
_NOT_PROMPT_PREFIXES = (
    "<command-name>",
    "<command-message>",
    "<command-args>",
    "<local-command-stdout>",
    "<local-command-stderr>",
    "<local-command-caveat>",
    "<task-notification>",
    "<system-reminder>",
    "<bash-input>",
    "<bash-stdout>",
    "<bash-stderr>",
    "<user-memory-input>",
    "[Request interrupted",
)

BLOCK_BYTES = 32 << 20
"""Bytes read and scanned at a time; a poll reads everything available, block by block, so memory stays
bounded however large the file."""

MAX_BLOCKS_PER_POLL = 64
"""At most this many blocks per file per poll (2 GiB); the next poll goes on where this one stopped."""


def parse_timestamp(value: Any) -> float | None:
    """Seconds since the epoch of an ISO-8601 transcript timestamp (`2026-11-27T06:17:10.363Z`), or None."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def _text_of(content: Any) -> str:
    """The text of a message or tool-result content: a string, or the text blocks of a list, joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            block["text"]
            for block in content
            if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str)
        ]
        return "\n".join(parts)
    return ""


def _error_message(error: Any) -> str:
    """A one-line message from an `api_error` record's `error` (nested dicts with `message`, or a status)."""
    seen = 0
    while isinstance(error, dict) and seen < 5:
        message = error.get("message")
        if isinstance(message, str) and message:
            return message
        inner = error.get("error")
        if inner is None:
            status = error.get("status")
            return f"API error {status}" if status is not None else "API error"
        error = inner
        seen += 1
    return str(error) if error else "API error"


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class RecordReader:
    """Turns transcript records (parsed JSON objects) into events; keeps what it needs across records.

    One reader per session: it remembers the session metadata it last emitted (to emit `SessionMeta` only on
    change) and the usage emitted per API message (a message's usage is repeated on each of its records and
    is emitted again only if it changed).
    """

    def __init__(self) -> None:
        self._meta = SessionMeta()
        self._usage_seen: dict[tuple[str, str | None], tuple[int, int, int, int, int]] = {}

    def events(self, record: dict[str, Any], subagent_id: str | None = None) -> list[Event]:
        """The events of one record. `subagent_id` is set for records from a sub-agent's own file."""
        kind = record.get("type")
        if kind == "assistant":
            return self._assistant(record, subagent_id)
        if kind == "user":
            return self._user(record, subagent_id)
        if kind == "system":
            return self._system(record, subagent_id)
        if kind == "permission-mode":
            if subagent_id is not None:
                return []
            mode = record.get("permissionMode")
            return self._update_meta(None, permission_mode=mode if isinstance(mode, str) else None)
        if kind in KNOWN_RECORD_TYPES:
            return []
        name = kind[:RECORD_TYPE_CHARS] if isinstance(kind, str) and kind else "(no type)"
        return [UnknownRecord(ts=parse_timestamp(record.get("timestamp")), record_type=name)]

    @staticmethod
    def unexpected_shape(record: dict[str, Any]) -> UnknownRecord:
        """The event for a record of a known type that could not be read (a field of an unexpected type)."""
        kind = record.get("type")
        name = kind[:RECORD_TYPE_CHARS] if isinstance(kind, str) and kind else "(no type)"
        return UnknownRecord(
            ts=parse_timestamp(record.get("timestamp")), record_type=f"{name} (unexpected shape)"
        )

    # -- record kinds -------------------------------------------------------------------------------------

    def _assistant(self, record: dict[str, Any], subagent_id: str | None) -> list[Event]:
        message = record.get("message")
        if not isinstance(message, dict):
            raise ValueError("assistant record without a message object")
        ts = parse_timestamp(record.get("timestamp"))
        sidechain = subagent_id is not None or record.get("isSidechain") is True
        agent_id = (record.get("agentId") or subagent_id) if sidechain else None
        agent = agent_id if isinstance(agent_id, str) else None
        content = message.get("content")
        if record.get("isApiErrorMessage") is True:
            text = _text_of(content).strip() or "API error"
            return [ApiError(ts=ts, message=text, retrying=False)]
        events: list[Event] = []
        model = message.get("model") if isinstance(message.get("model"), str) else None
        if not sidechain and model and model != "<synthetic>":
            events.extend(self._update_meta(ts, model=model, record=record))
        elif not sidechain:
            events.extend(self._update_meta(ts, record=record))
        usage = message.get("usage")
        message_id = message.get("id")
        if isinstance(usage, dict) and isinstance(message_id, str):
            request_id = record.get("requestId") if isinstance(record.get("requestId"), str) else None
            cache_creation = usage.get("cache_creation")
            one_hour = (
                _int(cache_creation.get("ephemeral_1h_input_tokens"))
                if isinstance(cache_creation, dict)
                else 0
            )
            server_tools = usage.get("server_tool_use")
            searches = _int(server_tools.get("web_search_requests")) if isinstance(server_tools, dict) else 0
            numbers = (
                _int(usage.get("input_tokens")),
                _int(usage.get("output_tokens")),
                _int(usage.get("cache_read_input_tokens")),
                _int(usage.get("cache_creation_input_tokens")),
                searches,
            )
            key = (message_id, request_id)
            if self._usage_seen.get(key) != numbers:
                self._usage_seen[key] = numbers
                stop = message.get("stop_reason")
                events.append(
                    TokenUsage(
                        ts=ts,
                        message_id=message_id,
                        request_id=request_id,
                        model=model,
                        input_tokens=numbers[0],
                        output_tokens=numbers[1],
                        cache_read_tokens=numbers[2],
                        cache_creation_tokens=numbers[3],
                        cache_creation_1h_tokens=one_hour,
                        sidechain=sidechain,
                        agent_id=agent,
                        stop_reason=stop if isinstance(stop, str) else None,
                        web_search_requests=searches,
                    )
                )
        if isinstance(content, list):
            for block in content:
                if not isinstance(block, dict):
                    continue
                block_type = block.get("type")
                if block_type == "tool_use":
                    tool_input = block.get("input")
                    events.append(
                        ToolCall(
                            ts=ts,
                            id=str(block.get("id") or ""),
                            name=str(block.get("name") or "?"),
                            input=tool_input if isinstance(tool_input, dict) else {},
                            sidechain=sidechain,
                            agent_id=agent,
                        )
                    )
                elif block_type == "text" and isinstance(block.get("text"), str) and block["text"]:
                    text = block["text"]
                    events.append(AssistantText(ts=ts, text=text, sidechain=sidechain, agent_id=agent))
        elif isinstance(content, str) and content:
            events.append(AssistantText(ts=ts, text=content, sidechain=sidechain, agent_id=agent))
        return events

    def _user(self, record: dict[str, Any], subagent_id: str | None) -> list[Event]:
        message = record.get("message")
        if not isinstance(message, dict):
            raise ValueError("user record without a message object")
        ts = parse_timestamp(record.get("timestamp"))
        sidechain = subagent_id is not None or record.get("isSidechain") is True
        events: list[Event] = []
        if not sidechain:
            mode = record.get("permissionMode")
            events.extend(
                self._update_meta(ts, permission_mode=mode if isinstance(mode, str) else None, record=record)
            )
        content = message.get("content")
        has_tool_result = False
        result = record.get("toolUseResult")
        launched = result.get("agentId") if isinstance(result, dict) else None
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    has_tool_result = True
                    text = _text_of(block.get("content"))
                    events.append(
                        ToolResult(
                            ts=ts,
                            id=str(block.get("tool_use_id") or ""),
                            is_error=block.get("is_error") is True,
                            preview=text[:PREVIEW_CHARS],
                            sidechain=sidechain,
                            denied=isinstance(record.get("toolDenialKind"), str),
                            launched_agent=launched if isinstance(launched, str) and launched else None,
                        )
                    )
        if has_tool_result or sidechain or not _is_typed_prompt(record):
            return events
        text = _text_of(content).strip()
        if text and not text.startswith(_NOT_PROMPT_PREFIXES):
            events.append(UserPrompt(ts=ts, text=text))
        return events

    def _system(self, record: dict[str, Any], subagent_id: str | None) -> list[Event]:
        subtype = record.get("subtype")
        ts = parse_timestamp(record.get("timestamp"))
        sidechain = subagent_id is not None or record.get("isSidechain") is True
        if subtype == "turn_duration" and not sidechain:
            duration = record.get("durationMs")
            if isinstance(duration, int | float) and not isinstance(duration, bool):
                return [TurnEnd(ts=ts, duration=duration / 1000)]
            return []
        if subtype == "api_error":
            return [ApiError(ts=ts, message=_error_message(record.get("error")), retrying=True)]
        if subtype == "compact_boundary" and not sidechain:
            meta = record.get("compactMetadata")
            meta = meta if isinstance(meta, dict) else {}
            trigger = meta.get("trigger")
            pre = meta.get("preTokens")
            return [
                Compaction(
                    ts=ts,
                    trigger=trigger if isinstance(trigger, str) else None,
                    pre_tokens=pre if isinstance(pre, int) else None,
                )
            ]
        return []

    # -- metadata -----------------------------------------------------------------------------------------

    def _update_meta(
        self,
        ts: float | None,
        *,
        model: str | None = None,
        permission_mode: str | None = None,
        record: dict[str, Any] | None = None,
    ) -> list[Event]:
        meta = self._meta
        version = cwd = branch = session_id = None
        if record is not None:
            version, cwd = record.get("version"), record.get("cwd")
            branch, session_id = record.get("gitBranch"), record.get("sessionId")
        changed = (
            (model is not None and model != meta.model)
            or (permission_mode is not None and permission_mode != meta.permission_mode)
            or (isinstance(version, str) and version != meta.version)
            or (isinstance(cwd, str) and meta.cwd is None)
            or (isinstance(branch, str) and branch != meta.git_branch)
            or (isinstance(session_id, str) and session_id != meta.session_id)
        )
        if not changed:
            return []
        self._meta = SessionMeta(
            ts=ts,
            model=model or meta.model,
            version=version if isinstance(version, str) else meta.version,
            cwd=meta.cwd if meta.cwd is not None or not isinstance(cwd, str) else cwd,
            git_branch=branch if isinstance(branch, str) else meta.git_branch,
            permission_mode=permission_mode or meta.permission_mode,
            session_id=session_id if isinstance(session_id, str) else meta.session_id,
        )
        return [self._meta]


def _is_typed_prompt(record: dict[str, Any]) -> bool:
    """False for user records the CLI writes itself: meta, compaction summaries, background-task notes."""
    if record.get("isMeta") is True or record.get("isCompactSummary") is True:
        return False
    if record.get("isVisibleInTranscriptOnly") is True or record.get("promptSource") == "system":
        return False
    origin = record.get("origin")
    return not (isinstance(origin, dict) and origin.get("kind") not in (None, "human"))


class _FileFollower:
    """Reads the complete lines appended to one file since the last call."""

    def __init__(self, path: Path, offset: int = 0, subagent_id: str | None = None) -> None:
        self.path = path
        self.offset = offset
        self.subagent_id = subagent_id
        self.inode: int | None = None
        self.pending = b""
        self.restarts = 0
        self.keep = False
        """With `TranscriptTail(since=...)`: whether the last timestamped record was new enough (a record
        without a timestamp goes with the one before it)."""

    def read_block(self, final: bool = False) -> tuple[bytes, bool]:
        """The next complete lines appended since the last call, as one block of at most about `BLOCK_BYTES`
        (each line ends with a newline, except a last unterminated line when `final`), and whether more is
        waiting in the file (call again)."""
        try:
            st = os.stat(self.path)
        except OSError:
            return b"", False
        if self.inode is not None and (st.st_ino != self.inode or st.st_size < self.offset):
            # Replaced or truncated: whatever we had is gone; start over.
            self.offset = 0
            self.pending = b""
            self.restarts += 1
        self.inode = st.st_ino
        chunk = b""
        if st.st_size > self.offset:
            try:
                with open(self.path, "rb") as handle:
                    handle.seek(self.offset)
                    # Ask for what is there: read(n) allocates n bytes up front.
                    chunk = handle.read(min(BLOCK_BYTES, st.st_size - self.offset))
            except OSError:
                return b"", False
        more = self.offset + len(chunk) < st.st_size
        if not chunk and not (final and self.pending):
            return b"", False
        data = self.pending + chunk if self.pending else chunk
        self.offset += len(chunk)
        if final and not more:
            self.pending = b""
            return data, False
        cut = data.rfind(b"\n") + 1
        self.pending = data[cut:]
        return (data[:cut] if cut < len(data) else data), more


def _loads_replacing(line: bytes) -> Any:
    """`line` parsed after decoding it with replacement, or None when it is still not JSON.

    orjson refuses invalid UTF-8 anywhere in its input, so one bad byte (a tool output cut inside a
    character, a stray Latin-1 byte) would cost the whole record; decoded with U+FFFD for each bad sequence,
    the record loses one character instead. Only lines that failed to parse come here.
    """
    try:
        return _loads(line.decode("utf-8", "replace"))
    except _DecodeError:
        return None


def _is_known_line(line: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether a line that holds no record that matters is of a known type, without parsing it.

    The type is the line's first key in most records the CLI writes (`{"type":"cost-state",...`); in the
    others (attachments) it follows a nested object, and is then the line's last `"type"` key. A line where
    neither gives a known type is parsed (`RecordReader` then says what it is): a false "unknown" costs one
    parse, never a wrong count. (A record with no `type` of its own whose last nested object has
    `"type":"attachment"` would pass as known: the price of not parsing every line.)
    """
    end = len(line) if end is None else end
    if line.startswith(b'{"type"', start):
        match = _TYPE_VALUE.match(line, start + 1, end)
        return match is not None and match.group(1) in _KNOWN_TYPE_NAMES
    position = line.rfind(b'"type"', start, end)
    match = _TYPE_VALUE.match(line, position, end) if position != -1 else None
    return match is not None and match.group(1) in _TRAILING_TYPE_NAMES


def scan_block(block: bytes) -> tuple[list[bytes], int]:
    """The lines of a block to parse, and how many other lines are malformed.

    To parse: lines that may hold a record that matters, and lines whose type is not known (so that a new
    record type is counted, not skipped in silence). Other lines are only checked to look like a JSON
    object (`{...}`) of a known type. When every line looks like one (the normal case: each line starts with
    `{"` and ends with `}`), the lines that matter are found by one regex search over the whole block.
    """
    size = len(block)
    if block.endswith(b"\n"):
        size -= 1
    if size <= 0:
        return [], 0
    well_formed = block[:2] == b'{"' and block[size - 1] == 0x7D  # '}'
    # One memchr-speed pass over the newlines; at each, the line before must end with `}` and the next start
    # with `{"` (a Python step per line, not per byte: far cheaper than counting patterns over the block).
    find = block.find
    starts = [0]
    add_start = starts.append
    newline = find(b"\n", 0, size) if well_formed else -1
    while newline != -1:
        if block[newline - 1] != 0x7D or block[newline + 1] != 0x7B or block[newline + 2] != 0x22:
            well_formed = False
            break
        add_start(newline + 1)
        newline = find(b"\n", newline + 1, size)
    if not well_formed:
        return _scan_lines(block)
    lines = []
    taken = set()
    rfind = block.rfind
    line_end = -1
    relevant = _RELEVANT if block.find(b'"type": ', 0, size) != -1 else _RELEVANT_COMPACT
    for match in relevant.finditer(block, 0, size):
        position = match.start()
        if position < line_end:
            continue  # a second marker on a line already taken
        start = rfind(b"\n", 0, position) + 1
        line_end = find(b"\n", position, size)
        if line_end == -1:
            line_end = size
        lines.append(block[start:line_end])
        taken.add(start)
    if len(taken) < len(starts):
        # The other lines: parse those of a type that is not known (inline checks for the compact JSON the
        # CLI writes; `_is_known_line` for the rest).
        known_first, trailing, startswith = _KNOWN_FIRST, _TRAILING_TYPE_NAMES, block.startswith
        starts.append(size + 1)  # so that each line is block[start : next_start - 1]
        for start, next_start in pairwise(starts):
            if start in taken or startswith(known_first, start):
                continue
            position = rfind(b'"type":"', start, next_start)
            if position != -1 and block[position + 8 : find(b'"', position + 8, next_start)] in trailing:
                continue
            if not _is_known_line(block, start, next_start - 1):
                lines.append(block[start : next_start - 1])
    return lines, 0


def _scan_lines(body: bytes) -> tuple[list[bytes], int]:
    """The line-by-line path of `scan_block`, for blocks with blank or broken lines."""
    relevant = _RELEVANT.search
    lines = []
    malformed = 0
    for line in body.split(b"\n"):
        line = line.strip()
        if not line:
            continue
        if relevant(line) is not None:
            lines.append(line)
        elif not (line[:1] == b"{" and line[-1:] == b"}"):
            malformed += 1
        elif not _is_known_line(line):
            lines.append(line)
    return lines, malformed


def subagent_files(folder: str | os.PathLike[str]) -> list[str]:
    """A session's sub-agent transcripts, as paths relative to its `subagents/` folder, sorted.

    `agent-<id>.jsonl` at any depth (Claude Code 2.1.328 writes the sub-agents of a Workflow run to
    `subagents/workflows/<run id>/agent-<id>.jsonl`, beside the run's `journal.jsonl`, which is not a
    transcript), and any `*.jsonl` directly in `subagents/` (what older versions wrote). Never raises.
    """
    found: list[str] = []
    pending = [("", 0)]
    while pending:
        relative, depth = pending.pop()
        try:
            entries = list(os.scandir(os.path.join(folder, relative)))
        except OSError:
            continue
        for entry in entries:
            name = os.path.join(relative, entry.name) if relative else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if depth < SUBAGENT_DEPTH:
                        pending.append((name, depth + 1))
                elif entry.name.endswith(".jsonl") and (depth == 0 or entry.name.startswith("agent-")):
                    found.append(name)
            except OSError:
                continue
    return sorted(found)


class TranscriptTail:
    """Follows a growing Claude Code transcript and its sub-agent transcripts (see the module docstring).

    Args:
        path: the session's `<session-id>.jsonl` (it need not exist yet).
        offset: byte offset in the main file to start from (sub-agent files are read from their start).
        follow_subagents: also read `<session-id>/subagents/*.jsonl`.
        since: only records stamped at or after this time (seconds since the epoch) give events; a record
            without a timestamp goes with the record before it (at the start of a file: skipped). A resumed
            or forked conversation's file holds an earlier process's records, which are not this one's
            (a fork copies them with their own timestamps, after records of its own).
        until: only records stamped at or before this time give events (the same rule): what a later
            process added to the conversation is not this one's either.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        offset: int = 0,
        *,
        follow_subagents: bool = True,
        since: float | None = None,
        until: float | None = None,
    ) -> None:
        self.path = Path(path)
        self.since = since
        self.until = until
        self._main = self._follower(self.path, offset)
        self._subagent_dir = subagent_dir(self.path) if follow_subagents else None
        self._subagents: dict[str, _FileFollower] = {}
        self._reader = RecordReader()
        self.malformed_lines = 0
        """Lines skipped because they were not JSON objects or not a record of the expected shape."""
        self.more = False
        """True when the last poll stopped at its bound with more data waiting (poll again)."""

    def _follower(self, path: Path, offset: int, subagent_id: str | None = None) -> _FileFollower:
        follower = _FileFollower(path, offset, subagent_id)
        # Where only `until` bounds the file, its first records are ours until a timestamp says otherwise.
        follower.keep = self.since is None
        return follower

    @property
    def restarts(self) -> int:
        """How often a followed file was truncated or replaced and read again from the start."""
        return self._main.restarts + sum(f.restarts for f in self._subagents.values())

    @property
    def offset(self) -> int:
        """Bytes of the main file consumed (complete lines only)."""
        return self._main.offset - len(self._main.pending)

    def poll(self, final: bool = False) -> list[Event]:
        """Events from lines completed since the last poll; never raises.

        With `final=True` (the session has ended) a last line without a newline is read too; otherwise it
        waits for its newline.
        """
        events: list[Event] = []
        self.more = False
        try:
            self._read(self._main, final, events)
            if self._subagent_dir is not None:
                self._discover_subagents()
                for follower in self._subagents.values():
                    self._read(follower, final, events)
        except Exception:  # the tail must never take the app down; what was read is kept
            self.malformed_lines += 1
        return events

    def _discover_subagents(self) -> None:
        assert self._subagent_dir is not None
        for relative in subagent_files(self._subagent_dir):
            if relative not in self._subagents:
                agent_id = os.path.basename(relative)[: -len(".jsonl")]
                agent_id = agent_id[len("agent-") :] if agent_id.startswith("agent-") else agent_id
                self._subagents[relative] = self._follower(self._subagent_dir / relative, 0, agent_id)

    def _read(self, follower: _FileFollower, final: bool, events: list[Event]) -> None:
        # Bounded, so a file that grows faster than it is read cannot keep one poll busy for ever.
        for _ in range(MAX_BLOCKS_PER_POLL):
            block, more = follower.read_block(final)
            self._parse(block, follower, events)
            if not more:
                break
        else:
            self.more = True

    def _parse(self, block: bytes, follower: _FileFollower, events: list[Event]) -> None:
        lines, malformed = scan_block(block)
        since, until = self.since, self.until
        bounded = since is not None or until is not None
        if not bounded:
            self.malformed_lines += malformed
        reader = self._reader
        subagent_id = follower.subagent_id
        for line in lines:
            try:
                record = _loads(line)
            except _DecodeError:
                record = _loads_replacing(line)
                if record is None:
                    self.malformed_lines += 1 if not bounded or follower.keep else 0
                    continue
            if not isinstance(record, dict):
                self.malformed_lines += 1 if not bounded or follower.keep else 0
                continue
            if bounded:
                ts = parse_timestamp(record.get("timestamp"))
                if ts is not None:
                    follower.keep = (since is None or ts >= since) and (until is None or ts <= until)
                if not follower.keep:
                    continue
            try:
                events.extend(reader.events(record, subagent_id))
            except (ValueError, TypeError, AttributeError, KeyError):
                events.append(reader.unexpected_shape(record))
        if bounded and follower.keep:
            # Broken lines have no timestamp: they count with the block's new records (a live tail reads a
            # few lines at a time, so that is where they were).
            self.malformed_lines += malformed
