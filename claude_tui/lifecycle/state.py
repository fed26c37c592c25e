"""A tracked process's lifecycle: its state, the conversations it held, and where the time went.

`Lifecycle` folds `LifecycleEvent`s (hooks the CLI posted, or the terminal's bell and title where there are
no hooks) into:

- the state: starting, working, waiting (for you), idle, ended; `apply` returns a `Transition` when it
  changes, so the caller can ring the terminal when Claude starts waiting for the person;
- the conversations: every session id the process wrote (the first, then one per /clear, /resume,
  `--fork-session`), each with its transcript and whether its earlier records belong to another process
  (`since`): a resumed conversation's history is not this run's work;
- the time: seconds spent in each state, permission requests, and per tool call its run time and the time
  it waited for a permission.

Transitions (hooks of the main thread; a sub-agent's hooks change nothing but ask for permission):

| event | state |
| --- | --- |
| `SessionStart` | idle (from starting; a compaction changes nothing) |
| `UserPromptSubmit`, `PreToolUse`, `PostToolUse`, `PostToolUseFailure` | working |
| `PreToolUse` of `AskUserQuestion` | waiting ("Claude asks a question") |
| `PermissionRequest` | waiting ("permission for <tool>") |
| `Notification` (not `auth_success`) | waiting (its message) |
| `Stop`, `StopFailure` | idle |
| `SessionEnd` | idle after /clear or /resume, else ended |
| terminal bell (no hooks seen) | waiting ("the program rang the bell") |
| title busy / idle (no hooks seen) | working / idle |

The same events give the same result live and when `claude-tui sync` reads them back from the spool's
`lifecycle.jsonl` after a crash. Pure, stdlib.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from claude_tui.lifecycle.events import HookEvent, LifecycleEvent, StandInSignal, TranscriptFound
from claude_tui.snapshot import STATE_LABELS, SessionState

__all__ = ["STATE_LABELS", "Conversation", "Lifecycle", "State", "ToolRun", "Transition"]

State = SessionState

QUESTION_TOOLS = frozenset({"AskUserQuestion"})
"""Tools whose call is a question to the person: the CLI waits for the answer."""
WORKING_HOOKS = frozenset({"UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure"})
QUIET_NOTIFICATIONS = frozenset({"auth_success"})
"""Notifications that do not mean the CLI needs the person."""


@dataclass(slots=True)
class Conversation:
    """One conversation (session id, transcript) the tracked process wrote to."""

    session_id: str
    transcript_path: str | None
    source: str
    """How the process came to it: `startup`, `clear`, `resume`, `fork`, or `found` (no hook said)."""
    since: float | None
    """Records stamped before this belong to earlier processes (None: all of the file is this process's)."""
    first_seen: float
    origin: str | None = None
    """The earlier conversation this one goes on with: itself when resumed, the original of a fork."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON object (for the summary)."""
        return {
            "session_id": self.session_id,
            "transcript_path": self.transcript_path,
            "source": self.source,
            "since": self.since,
            "first_seen": self.first_seen,
            "origin": self.origin,
        }


@dataclass(slots=True)
class ToolRun:
    """What the hooks say about one tool call: when it started and ended, how long it ran and waited."""

    tool_name: str
    started: float
    ended: float | None = None
    duration_ms: float | None = None
    """The CLI's own measure of the run (`PostToolUse`'s `duration_ms`)."""
    waited: float = 0.0
    """Seconds it waited for the person's permission."""
    failed: bool = False


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of state; `reason` says why the session waits (None otherwise)."""

    state: State
    previous: State
    reason: str | None
    at: float
    session_id: str | None


@dataclass
class Lifecycle:
    """Folds lifecycle events into the state, the conversations and the time (see the module docstring).

    Args:
        started_at: when the program started (wall clock); records stamped before it are not this run's.
        first_session_id: the conversation the program starts in, when known (the `--session-id` it was
            given, or the id after `--resume`).
        start: `new`, `resume` (`--resume`, `--continue`: the same conversation goes on) or `fork`
            (`--fork-session`: a new conversation that starts with an earlier one's history).
        fork_of: the conversation a fork starts from, when the command line names it.
    """

    started_at: float
    first_session_id: str | None = None
    start: Literal["new", "resume", "fork"] = "new"
    fork_of: str | None = None
    state: State = "starting"
    reason: str | None = None
    since: float = 0.0
    """When the current state began."""
    seconds: dict[str, float] = field(default_factory=dict)
    """Seconds spent in each state that has ended (the current one is added by `seconds_in`)."""
    conversations: list[Conversation] = field(default_factory=list)
    current: str | None = None
    """The session id of the conversation the process is in now."""
    permission_requests: int = 0
    tool_runs: dict[str, ToolRun] = field(default_factory=dict)
    hooks_seen: bool = False
    """Whether any hook arrived: until then the terminal's bell and title stand in for them."""
    _pending_source: str | None = None
    _last_tool: dict[str, str] = field(default_factory=dict)
    _waiting_tool: str | None = None

    @classmethod
    def of_program(
        cls, started_at: float, *, session_id: str | None, start: str = "new", target: str | None = None
    ) -> Lifecycle:
        """The lifecycle of a program started at `started_at` with `--session-id session_id` (None when it
        got none: not Claude, or it resumes), whose arguments begin as `claude_code.conversation_start` says
        (`start`, `target`). The live session and the logger build it the same way."""
        kind: Literal["new", "resume", "fork"] = (
            "resume" if start == "resume" else "fork" if start == "fork" else "new"
        )
        first = target if kind == "resume" else session_id
        return cls(started_at, first_session_id=first, start=kind, fork_of=target if kind == "fork" else None)

    @classmethod
    def replay(cls, lifecycle: Lifecycle, events: Iterable[LifecycleEvent], end: float | None) -> Lifecycle:
        """`lifecycle` with `events` folded in, and finished at `end` (when the program's end is known)."""
        for event in events:
            lifecycle.apply(event)
        if end is not None:
            lifecycle.finish(end)
        return lifecycle

    def __post_init__(self) -> None:
        self.since = self.started_at
        if self.first_session_id:
            self._add(self.first_session_id, None, self._first_source(), self.started_at)

    def _first_source(self) -> str:
        return {"new": "startup", "resume": "resume", "fork": "fork"}[self.start]

    # -- folding ---------------------------------------------------------------------------------------------

    def apply(self, event: LifecycleEvent) -> Transition | None:
        """Fold one event; the transition it caused, if any."""
        if isinstance(event, HookEvent):
            return self._hook(event)
        if isinstance(event, TranscriptFound):
            self._add(event.session_id, event.transcript_path, "found", event.received)
            return None
        return self._terminal(event)

    def _hook(self, event: HookEvent) -> Transition | None:
        self.hooks_seen = True
        at = event.received
        name = event.name
        self._conversation_of(event)
        if name == "SessionStart":
            if event.source in ("clear", "resume"):
                self._pending_source = None
            return self._enter("idle", None, at) if self.state == "starting" else None
        if name == "SessionEnd":
            if event.is_switch:
                self._pending_source = event.reason
                return self._enter("idle", None, at)
            return self._enter("ended", None, at)
        if name == "PermissionRequest":
            self.permission_requests += 1
            tool = event.tool_name or "a tool"
            self._waiting_tool = self._last_tool.get(tool)
            return self._enter("waiting", f"permission for {tool}", at)
        if event.agent_id:
            self._tool_times(event)
            return None  # a sub-agent working in the background: the main thread's state stands
        if name == "Notification":
            if event.notification_type in QUIET_NOTIFICATIONS:
                return None
            if self.state == "waiting":
                return None
            return self._enter("waiting", event.message or "Claude needs you", at)
        if name in ("Stop", "StopFailure"):
            reason = event.message if name == "StopFailure" else None
            return self._enter("idle", reason, at)
        if name in WORKING_HOOKS:
            self._tool_times(event)
            if name == "PreToolUse" and event.tool_name in QUESTION_TOOLS:
                return self._enter("waiting", "Claude asks a question", at)
            return self._enter("working", None, at)
        return None

    def _tool_times(self, event: HookEvent) -> None:
        tool_id = event.tool_use_id
        if not tool_id:
            return
        if event.name == "PreToolUse":
            self.tool_runs[tool_id] = ToolRun(event.tool_name or "?", started=event.received)
            if event.tool_name:
                self._last_tool[event.tool_name] = tool_id
        elif event.name in ("PostToolUse", "PostToolUseFailure"):
            run = self.tool_runs.setdefault(tool_id, ToolRun(event.tool_name or "?", started=event.received))
            run.ended = event.received
            run.duration_ms = event.duration_ms
            run.failed = event.name == "PostToolUseFailure"

    def _terminal(self, event: StandInSignal) -> Transition | None:
        if self.hooks_seen:
            return None  # the hooks say it better
        if event.kind == "bell":
            return self._enter("waiting", "the program rang the bell", event.received)
        if event.kind == "busy":
            return self._enter("working", None, event.received)
        if self.state == "waiting":
            return None  # a waiting program's title is idle too: the bell said more
        return self._enter("idle", None, event.received)

    def _enter(self, state: State, reason: str | None, at: float) -> Transition | None:
        if self.state == "ended":
            return None
        if state == self.state and reason == self.reason:
            return None
        at = max(at, self.since)
        previous = self.state
        if previous == "waiting" and self._waiting_tool is not None:
            run = self.tool_runs.get(self._waiting_tool)
            if run is not None:
                run.waited += at - self.since
            self._waiting_tool = None
        if state != previous:
            self.seconds[previous] = self.seconds.get(previous, 0.0) + (at - self.since)
            self.since = at
        self.state = state
        self.reason = reason
        if state == previous:
            return None  # the same state for another reason: no new notification
        return Transition(state, previous, reason, at, self.current)

    def _conversation_of(self, event: HookEvent) -> None:
        if self.find(event.session_id) is not None:
            self._add(event.session_id, event.transcript_path, "found", event.received)
            return
        if self._pending_source is not None:
            source = self._pending_source
        elif event.name == "SessionStart" and event.source in ("clear", "resume"):
            source = event.source
        elif not self.conversations:
            source = self._first_source()
        else:
            source = "found"
        self._pending_source = None
        self._add(event.session_id, event.transcript_path, source, event.received)

    def _add(self, session_id: str, transcript: str | None, source: str, at: float) -> Conversation:
        known = self.find(session_id)
        if known is not None:
            if known.transcript_path is None and transcript:
                known.transcript_path = transcript
            self.current = session_id
            return known
        # A conversation the process created itself holds only its records; any other (resumed, forked,
        # or one no hook explained) may hold an earlier process's, which are not this run's.
        since = None if source in ("startup", "clear") else self.started_at
        origin = session_id if source == "resume" else self.fork_of if source == "fork" else None
        conversation = Conversation(session_id, transcript, source, since, at, origin)
        self.conversations.append(conversation)
        self.current = session_id
        return conversation

    def find(self, session_id: str) -> Conversation | None:
        """The conversation with this session id, if the process held it."""
        for conversation in self.conversations:
            if conversation.session_id == session_id:
                return conversation
        return None

    def finish(self, at: float) -> None:
        """The program has ended: the state becomes `ended`, and its time is counted up to `at`."""
        if self.state != "ended":
            self._enter("ended", None, at)

    # -- reading ---------------------------------------------------------------------------------------------

    def seconds_in(self, state: State, now: float) -> float:
        """Seconds spent in `state` so far (the current state counted up to `now`)."""
        total = self.seconds.get(state, 0.0)
        if self.state == state and state != "ended":
            total += max(0.0, now - self.since)
        return total

    @property
    def session_ids(self) -> list[str]:
        """Every conversation's session id, in the order the process came to them."""
        return [c.session_id for c in self.conversations]

    @property
    def resumed_from(self) -> list[str]:
        """The earlier conversations this process went on with (`--resume`, `--continue`, /resume, forks)."""
        return list(dict.fromkeys(c.origin for c in self.conversations if c.origin))

    def summary(self, now: float) -> dict[str, Any]:
        """What the spool's summary keeps: conversations, time per state, permissions, tool runs."""
        return {
            "state": self.state,
            "hooks": self.hooks_seen,
            "conversations": [c.to_dict() for c in self.conversations],
            "working_seconds": round(self.seconds_in("working", now), 3),
            "waiting_seconds": round(self.seconds_in("waiting", now), 3),
            "idle_seconds": round(self.seconds_in("idle", now), 3),
            "permission_requests": self.permission_requests,
        }
