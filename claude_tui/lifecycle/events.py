"""The lifecycle events a tracked session folds into its state: hooks the CLI posted, and what stands in for
them where there are none (the terminal's bell, busy/idle from Claude's title and from its transcript, a
transcript noticed on disk).

`parse_hook(payload, received)` turns a posted hook's JSON object into a `HookEvent`. Every event is also a
line of the spool's `lifecycle.jsonl` (`event_to_dict` / `event_from_dict`), so that a session logged by
`claude-tui sync` after a crash has the same conversations and times as the live one. Pure, stdlib.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

__all__ = [
    "SWITCH_REASONS",
    "HookEvent",
    "LifecycleEvent",
    "StandInSignal",
    "TranscriptFound",
    "event_from_dict",
    "event_to_dict",
    "parse_hook",
]

SWITCH_REASONS = frozenset({"clear", "resume"})
"""`SessionEnd` reasons after which the same process goes on with another conversation."""


@dataclass(frozen=True, slots=True)
class HookEvent:
    """One hook the CLI posted, reduced to what the session uses (no tool inputs or outputs, no prompts)."""

    name: str
    """The hook: `SessionStart`, `UserPromptSubmit`, `PreToolUse`, ... (`hook_event_name`)."""
    session_id: str
    """The conversation it belongs to (a new one after /clear, another after /resume)."""
    received: float
    """Wall-clock seconds (epoch) when the endpoint got it."""
    transcript_path: str | None = None
    source: str | None = None
    """`SessionStart`: startup, resume, clear or compact."""
    reason: str | None = None
    """`SessionEnd`: clear, resume, logout, prompt_input_exit, other."""
    tool_name: str | None = None
    tool_use_id: str | None = None
    duration_ms: float | None = None
    """`PostToolUse`/`PostToolUseFailure`: how long the tool ran."""
    notification_type: str | None = None
    """`Notification`: permission_prompt, idle_prompt, elicitation_dialog, auth_success, ..."""
    message: str | None = None
    """`Notification`'s text; `PostToolUseFailure`'s and `StopFailure`'s error."""
    agent_id: str | None = None
    """Set when a sub-agent, not the main thread, fired the hook."""

    @property
    def is_switch(self) -> bool:
        """A `SessionEnd` after which the process goes on with another conversation (/clear, /resume)."""
        return self.name == "SessionEnd" and self.reason in SWITCH_REASONS


@dataclass(frozen=True, slots=True)
class StandInSignal:
    """What stands in for hooks where none arrive: the terminal's bell, Claude's title turning busy or idle,
    a prompt (busy) or a turn's end (idle) in the transcript."""

    kind: Literal["bell", "busy", "idle"]
    received: float


@dataclass(frozen=True, slots=True)
class TranscriptFound:
    """A conversation's transcript noticed on disk without a hook (the fallback when hooks are off)."""

    session_id: str
    transcript_path: str
    received: float


LifecycleEvent = HookEvent | StandInSignal | TranscriptFound
"""Anything the session's lifecycle folds."""

_TYPES: dict[str, type[Any]] = {"hook": HookEvent, "signal": StandInSignal, "transcript": TranscriptFound}
_NAMES: dict[type[Any], str] = {cls: name for name, cls in _TYPES.items()}


def event_to_dict(event: LifecycleEvent) -> dict[str, Any]:
    """A JSON object for `lifecycle.jsonl`: `{"type": "hook" | "signal" | "transcript", ...fields}`."""
    return {"type": _NAMES[type(event)], **{k: v for k, v in asdict(event).items() if v is not None}}


def event_from_dict(data: Mapping[str, Any]) -> LifecycleEvent:
    """Read back what `event_to_dict` wrote; raises ValueError for anything else."""
    if not isinstance(data, Mapping):
        raise ValueError("a lifecycle event must be a JSON object")
    cls = _TYPES.get(data.get("type"))  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"unknown lifecycle event type: {data.get('type')!r}")
    known = {f.name for f in fields(cls)}
    try:
        event: LifecycleEvent = cls(**{k: v for k, v in data.items() if k in known})
    except TypeError as exc:
        raise ValueError(f"bad {data['type']} event: {exc}") from None
    if not isinstance(event.received, int | float):
        raise ValueError(f"bad {data['type']} event: received is not a number")
    return event


def _text(payload: Mapping[str, Any], key: str, limit: int = 500) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, default=str)
    return value[:limit]


def parse_hook(payload: Any, received: float) -> HookEvent | None:
    """The typed event of one posted hook payload, or None when it is not a hook's JSON object."""
    if not isinstance(payload, Mapping):
        return None
    name = payload.get("hook_event_name")
    session_id = payload.get("session_id")
    if not isinstance(name, str) or not name or not isinstance(session_id, str) or not session_id:
        return None
    duration = payload.get("duration_ms")
    error = _text(payload, "error") if name in ("PostToolUseFailure", "StopFailure") else None
    return HookEvent(
        name=name[:80],
        session_id=session_id[:200],
        received=received,
        transcript_path=_text(payload, "transcript_path", 4096),
        source=_text(payload, "source", 40),
        reason=_text(payload, "reason", 80),
        tool_name=_text(payload, "tool_name", 200),
        tool_use_id=_text(payload, "tool_use_id", 200),
        duration_ms=float(duration)
        if isinstance(duration, int | float) and not isinstance(duration, bool)
        else None,
        notification_type=_text(payload, "notification_type", 80),
        message=_text(payload, "message") or error,
        agent_id=_text(payload, "agent_id", 200),
    )
