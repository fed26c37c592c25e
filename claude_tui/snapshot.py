"""`SessionSnapshot`: what the Session tab's sidebar shows of one session at one moment.

A typed value, not a dict of stat names: the sidebar reads fields that mypy checks. It is plain data
(numbers, strings, tuples) and round-trips through JSON (`to_dict` / `from_dict`), because a session's
stats will later come from another process (the session owner of issue 16) over a socket.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

__all__ = ["STATE_LABELS", "CostSource", "SessionSnapshot", "SessionState", "StatsSource"]

StatsSource = Literal["transcript", "shell", "screen", "none"]
"""Where the counts come from: Claude Code's transcript, a shell's OSC 133 marks, the screen parser (programs
without either), or nothing yet (a program that has shown nothing countable)."""

CostSource = Literal["cli", "estimate"]
"""Where the cost comes from: the CLI's own telemetry, or the transcript priced by genai-prices."""

SessionState = Literal["starting", "working", "waiting", "idle", "ended"]
"""The session's state (`claude_tui.lifecycle.state`)."""

STATE_LABELS: dict[str, str] = {
    "starting": "starting",
    "working": "working",
    "waiting": "waiting for you",
    "idle": "idle",
    "ended": "ended",
}
"""How each state reads in the header and the sidebar."""


@dataclass(frozen=True, slots=True)
class SessionSnapshot:
    """The live counts of one session, its clock, its activity and its alerts, as the sidebar draws them."""

    commands_executed: int = 0
    tool_uses: int = 0
    errors_encountered: int = 0
    user_prompts: int = 0
    git_operations: int = 0
    subagent_tool_uses: int = 0
    files_read: int = 0
    files_modified: int = 0
    tool_uses_by_name: tuple[tuple[str, int], ...] = ()
    """Tool name and uses, most used first (ties by name)."""
    last_error: str | None = None
    """The first line of the latest error."""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    """Estimated cost; None when a model has no known price (never guessed)."""
    models: tuple[str, ...] = ()
    """The model of the session, or every model seen when it has no single one."""
    active_seconds: float = 0.0
    """Sum of the turns' durations."""
    elapsed_seconds: float = 0.0
    """Wall-clock seconds since the session started (frozen once it ended)."""
    activity_per_minute: tuple[int, ...] = ()
    """Tool calls in each minute since the start."""
    source: StatsSource = "screen"
    title: str = ""
    """A short name of the session: its first prompt, else the program."""
    alerted_metrics: tuple[str, ...] = ()
    """Names of the stats whose alert threshold was crossed (`config.ALERT_METRICS` values), sorted."""
    new_alerts: tuple[str, ...] = ()
    """Alerts that fired since the previous snapshot, as lines to show the user."""
    state: SessionState = "starting"
    """What the program is doing: starting, working, waiting (for the person), idle, ended."""
    state_reason: str | None = None
    """Why it waits (`permission for Bash`, the CLI's notification), or why a turn failed."""
    working_seconds: float = 0.0
    """Time spent working (from a prompt to the end of its turn, less the waits)."""
    waiting_seconds: float = 0.0
    """Time spent waiting for the person (a permission, a question, the CLI's notification)."""
    permission_requests: int = 0
    permission_denials: int = 0
    conversations: int = 0
    """Conversations the process held (one more per /clear, or /resume to another)."""
    new_waits: tuple[str, ...] = ()
    """Why the program started waiting for the person, once per time since the previous snapshot: the UI
    rings the terminal and notifies for each."""
    cost_source: CostSource = "estimate"
    """Whose `cost_usd` it is: the CLI's own (its telemetry) or genai-prices' estimate of the transcript."""

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (tuples become lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionSnapshot:
        """The snapshot `to_dict` gave, e.g. after a JSON round trip; unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for key in ("models", "activity_per_minute", "alerted_metrics", "new_alerts", "new_waits"):
            if key in values:
                values[key] = tuple(values[key])
        if "tool_uses_by_name" in values:
            values["tool_uses_by_name"] = tuple((str(n), int(c)) for n, c in values["tool_uses_by_name"])
        return cls(**values)
