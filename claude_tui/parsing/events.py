"""The events a Claude Code session produces, as small frozen dataclasses.

`TranscriptTail` turns transcript records into these, `ScreenParser` guesses a few of them from screen text,
and `SessionStats` folds them into counts. They are also the line format of a session spool's `events.jsonl`:
`event_to_dict` gives `{"type": "tool_call", "ts": 1764224230.363, ...fields}` and `event_from_dict` reads it
back. `ts` is seconds since the epoch (UTC), or None when the record carried no timestamp.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True, slots=True)
class UserPrompt:
    """A prompt the person typed (not a tool result, not a meta or local-command record)."""

    ts: float | None = None
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AssistantText:
    """A text block the model wrote."""

    ts: float | None = None
    text: str
    sidechain: bool = False
    """True when a sub-agent wrote it."""
    agent_id: str | None = None
    """The sub-agent's id (as on `ToolCall`), None on the main thread."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCall:
    """One `tool_use` block: the model asked to run a tool."""

    ts: float | None = None
    id: str
    name: str
    input: dict[str, Any] = field(default_factory=dict)
    sidechain: bool = False
    """True when a sub-agent made the call."""
    agent_id: str | None = None
    """The sub-agent's id (from the record or its `agent-<id>.jsonl` file name), None on the main thread."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolResult:
    """The result of a tool call (`tool_result` block); `is_error` is True only for `is_error: true`."""

    ts: float | None = None
    id: str
    is_error: bool = False
    preview: str = ""
    """The start of the result text (at most `PREVIEW_CHARS` characters)."""
    sidechain: bool = False
    denied: bool = False
    """The person (or a permission rule) refused the call: the record has a `toolDenialKind`."""
    launched_agent: str | None = None
    """For an Agent/Task call, the id of the sub-agent it started (`toolUseResult.agentId`): its records
    carry that `agent_id`. In interactive mode the CLI runs sub-agents in the background, so the result
    ("launched") comes before the sub-agent's work."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TokenUsage:
    """The usage of one API message (the transcript repeats it on every record of the message)."""

    ts: float | None = None
    message_id: str
    request_id: str | None = None
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_creation_1h_tokens: int = 0
    """The part of `cache_creation_tokens` written to the 1-hour cache (priced higher)."""
    sidechain: bool = False
    agent_id: str | None = None
    """The sub-agent's id (as on `ToolCall`), None on the main thread."""
    stop_reason: str | None = None
    web_search_requests: int = 0
    """Server-side web searches the message made (`usage.server_tool_use.web_search_requests`; priced)."""

    @property
    def key(self) -> tuple[str, str | None]:
        """What identifies the API message: its id plus the request id."""
        return (self.message_id, self.request_id)


@dataclass(frozen=True, kw_only=True, slots=True)
class TurnEnd:
    """The end of a turn, with how long it took (from the CLI's `turn_duration` record)."""

    ts: float | None = None
    duration: float
    """Seconds."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiError:
    """A failed API call: a retried `api_error` system record, or the error message shown to the person."""

    ts: float | None = None
    message: str
    retrying: bool = False
    """True for a failed attempt the CLI retries; False for the error it gave up with."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Compaction:
    """The conversation was compacted (`/compact` or automatically)."""

    ts: float | None = None
    trigger: str | None = None
    pre_tokens: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class UnknownRecord:
    """A transcript record this parser does not know: a type newer than it, or a known type whose shape it
    cannot read. Counted per type (`unknown_records`), so that a format change shows instead of vanishing."""

    ts: float | None = None
    record_type: str
    """The record's `type`, `(no type)`, or `<type> (unexpected shape)`."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionMeta:
    """What the session runs with; emitted again whenever a field changes (fields never go back to None).

    `cwd` is where the session started: records written after a `cd` in a Bash call carry the shell's new
    directory, which does not change it. `git_branch` and `model` follow the latest record.
    """

    ts: float | None = None
    model: str | None = None
    version: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    permission_mode: str | None = None
    session_id: str | None = None


Event = (
    UserPrompt
    | AssistantText
    | ToolCall
    | ToolResult
    | TokenUsage
    | TurnEnd
    | ApiError
    | Compaction
    | SessionMeta
    | UnknownRecord
)
"""Any session event."""

PREVIEW_CHARS = 500
"""How much of a tool result `ToolResult.preview` keeps."""

EVENT_TYPES: dict[str, type[Any]] = {
    "user_prompt": UserPrompt,
    "assistant_text": AssistantText,
    "tool_call": ToolCall,
    "tool_result": ToolResult,
    "token_usage": TokenUsage,
    "turn_end": TurnEnd,
    "api_error": ApiError,
    "compaction": Compaction,
    "session_meta": SessionMeta,
    "unknown_record": UnknownRecord,
}
"""The `type` value of each event in `events.jsonl`."""

_TYPE_NAMES: dict[type[Any], str] = {cls: name for name, cls in EVENT_TYPES.items()}
_FIELDS: dict[type[Any], frozenset[str]] = {
    cls: frozenset(f.name for f in dataclasses.fields(cls)) for cls in EVENT_TYPES.values()
}


def event_to_dict(event: Event) -> dict[str, Any]:
    """The spool line of an event: `{"type": ..., "ts": ..., **fields}` (JSON-serialisable)."""
    data: dict[str, Any] = {"type": _TYPE_NAMES[type(event)]}
    for name in event.__slots__:
        data[name] = getattr(event, name)
    return data


def event_from_dict(data: dict[str, Any]) -> Event:
    """Read back what `event_to_dict` wrote; unknown fields are ignored.

    Raises:
        ValueError: `data` is not an object, its `type` is unknown, or a required field is missing.
    """
    if not isinstance(data, dict):
        raise ValueError("an event must be a JSON object")
    cls = EVENT_TYPES.get(data.get("type"))  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"unknown event type: {data.get('type')!r}")
    known = _FIELDS[cls]
    try:
        event: Event = cls(**{k: v for k, v in data.items() if k in known})
    except TypeError as exc:
        raise ValueError(f"bad {data['type']} event: {exc}") from None
    return event
