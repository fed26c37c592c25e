"""Session statistics folded from events; the numbers the sidebar shows and MLflow logs.

The exact definitions of every stat are in docs/parsing.md; `SessionStats.to_dict()` has exactly the keys
listed in `STAT_KEYS` + `META_KEYS` + `last_error`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from claude_tui.parsing.events import (
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
from claude_tui.parsing.gitops import count_git_operations
from claude_tui.parsing.params import derive_params
from claude_tui.parsing.prices import Costing, price_messages
from claude_tui.parsing.transcript import TranscriptTail

STAT_KEYS = (
    "tool_uses",
    "tool_uses_by_name",
    "subagent_tool_uses",
    "commands_executed",
    "git_operations",
    "errors_encountered",
    "permission_denials",
    "user_prompts",
    "files_read",
    "files_modified",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "models",
    "turns",
    "active_seconds",
    "first_prompt",
    "cost_usd",
    "unpriced_models",
    "procedure_name",
    "issue_number",
    "malformed_lines",
    "unknown_records",
    "unknown_records_by_type",
)
"""The stat names, in the order `to_dict()` gives them."""

META_KEYS = ("model", "claude_version", "cwd", "git_branch", "permission_mode", "session_id")
"""Session metadata keys of `to_dict()` (after the stats, before `last_error`)."""

READ_TOOLS = frozenset({"Read"})
"""Tools whose `file_path` counts towards `files_read`."""

MODIFY_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})
"""Tools whose `file_path` (`notebook_path` for NotebookEdit) counts towards `files_modified`."""

COMMAND_TOOL = "Bash"
"""The tool whose calls are `commands_executed` and whose commands are scanned for git operations."""


def first_error_line(text: str) -> str:
    """The line the sidebar shows for an error: its first non-empty line.

    Bash failures start with `Exit code N`; the line after it says what went wrong, so both are kept
    (`Exit code 2 · ls: cannot access ...`).
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    first = lines[0]
    if first.startswith("Exit code ") and len(lines) > 1:
        first = f"{first} · {lines[1]}"
    return first[:300]


@dataclass
class SessionStats:
    """Running totals of one session; feed it events with `apply`.

    Tool calls and results are counted once per id and token usage once per API message (`message_id` +
    `request_id`, taking the largest value seen for each field), so re-reading a transcript from the start
    after a restart does not double them.
    """

    tool_uses: int = 0
    tool_uses_by_name: dict[str, int] = field(default_factory=dict)
    subagent_tool_uses: int = 0
    commands_executed: int = 0
    git_operations: int = 0
    errors_encountered: int = 0
    permission_denials: int = 0
    """Tool calls refused at the permission prompt (also counted in `errors_encountered`: the call failed)."""
    user_prompts: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    models: list[str] = field(default_factory=list)
    active_seconds: float = 0.0
    first_prompt: str | None = None
    malformed_lines: int = 0
    """Set by whoever reads the transcript (`TranscriptTail.malformed_lines`)."""
    unknown_records_by_type: dict[str, int] = field(default_factory=dict)
    """Records the parser does not know, per type (`UnknownRecord` events)."""
    meta: SessionMeta = field(default_factory=SessionMeta)
    last_error: str | None = None
    turn_durations: int = 0
    """`turn_duration` records seen (interactive sessions write one per turn)."""
    end_turns: int = 0
    """Main-thread API messages that ended a turn (`stop_reason: end_turn`); `turns` when there are no
    `turn_duration` records (`claude -p` writes none)."""
    _files_read: set[str] = field(default_factory=set)
    _files_modified: set[str] = field(default_factory=set)
    _tool_ids: set[str] = field(default_factory=set)
    _result_ids: set[str] = field(default_factory=set)
    _usage: dict[tuple[str, str | None], TokenUsage] = field(default_factory=dict)
    _usage_changes: int = 0
    _costing: tuple[int, Costing] | None = None
    """The last pricing and the `_usage_changes` it was made at (priced again only when usage changed)."""
    _last_error_ts: float | None = None

    # -- folding ---------------------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Fold one event into the totals."""
        if isinstance(event, ToolCall):
            self._tool_call(event)
        elif isinstance(event, ToolResult):
            if event.id and event.id in self._result_ids:
                return
            if event.id:
                self._result_ids.add(event.id)
            if event.denied:
                self.permission_denials += 1
            if event.is_error:
                self.errors_encountered += 1
                self._set_last_error(event.ts, first_error_line(event.preview) or "tool error")
        elif isinstance(event, TokenUsage):
            self._token_usage(event)
        elif isinstance(event, UserPrompt):
            self.user_prompts += 1
            if self.first_prompt is None:
                self.first_prompt = event.text
        elif isinstance(event, TurnEnd):
            self.turn_durations += 1
            self.active_seconds += event.duration
        elif isinstance(event, ApiError):
            self.errors_encountered += 1
            self._set_last_error(event.ts, first_error_line(event.message) or "API error")
        elif isinstance(event, SessionMeta):
            self.meta = event
        elif isinstance(event, UnknownRecord):
            kind = event.record_type
            self.unknown_records_by_type[kind] = self.unknown_records_by_type.get(kind, 0) + 1
        elif isinstance(event, AssistantText | Compaction):
            pass

    def _set_last_error(self, ts: float | None, line: str) -> None:
        # Latest by timestamp, not by arrival: sub-agent files are read after the main file, so arrival order
        # differs between following a session live and reading it whole.
        if ts is None or self._last_error_ts is None or ts >= self._last_error_ts:
            self.last_error = line
            if ts is not None:
                self._last_error_ts = ts

    def _tool_call(self, event: ToolCall) -> None:
        if event.id:
            if event.id in self._tool_ids:
                return
            self._tool_ids.add(event.id)
        name = event.name
        self.tool_uses += 1
        self.tool_uses_by_name[name] = self.tool_uses_by_name.get(name, 0) + 1
        if event.sidechain:
            self.subagent_tool_uses += 1
        tool_input = event.input
        if name == COMMAND_TOOL:
            self.commands_executed += 1
            command = tool_input.get("command")
            if isinstance(command, str):
                self.git_operations += count_git_operations(command)
        elif name in READ_TOOLS:
            path = tool_input.get("file_path")
            if isinstance(path, str) and path:
                self._files_read.add(path)
        elif name in MODIFY_TOOLS:
            path = tool_input.get("notebook_path" if name == "NotebookEdit" else "file_path")
            if not isinstance(path, str):
                path = tool_input.get("file_path")
            if isinstance(path, str) and path:
                self._files_modified.add(path)

    def _token_usage(self, event: TokenUsage) -> None:
        key = event.key
        old = self._usage.get(key)
        if old is not None:
            # The same API message again: keep the largest value of each field (a record written while the
            # message streamed may carry smaller numbers than the final one).
            merged = TokenUsage(
                ts=old.ts,
                message_id=old.message_id,
                request_id=old.request_id,
                model=old.model or event.model,
                input_tokens=max(old.input_tokens, event.input_tokens),
                output_tokens=max(old.output_tokens, event.output_tokens),
                cache_read_tokens=max(old.cache_read_tokens, event.cache_read_tokens),
                cache_creation_tokens=max(old.cache_creation_tokens, event.cache_creation_tokens),
                cache_creation_1h_tokens=max(old.cache_creation_1h_tokens, event.cache_creation_1h_tokens),
                sidechain=old.sidechain,
                stop_reason=old.stop_reason or event.stop_reason,
                web_search_requests=max(old.web_search_requests, event.web_search_requests),
            )
            if merged == old:
                return
            self._add_usage(old, -1)
            event = merged
        elif event.stop_reason == "end_turn" and not event.sidechain:
            self.end_turns += 1
        self._usage[key] = event
        self._add_usage(event, 1)
        model = event.model
        if model and model != "<synthetic>" and model not in self.models:
            self.models.append(model)

    def _add_usage(self, usage: TokenUsage, sign: int) -> None:
        self.input_tokens += sign * usage.input_tokens
        self.output_tokens += sign * usage.output_tokens
        self.cache_read_tokens += sign * usage.cache_read_tokens
        self.cache_creation_tokens += sign * usage.cache_creation_tokens
        self._usage_changes += 1

    # -- derived values -------------------------------------------------------------------------------------

    @property
    def unknown_records(self) -> int:
        """Records of a type or shape the parser does not know (see `unknown_records_by_type`)."""
        return sum(self.unknown_records_by_type.values())

    @property
    def files_read(self) -> int:
        """Distinct paths passed to Read."""
        return len(self._files_read)

    @property
    def files_modified(self) -> int:
        """Distinct paths passed to Write, Edit, MultiEdit, NotebookEdit."""
        return len(self._files_modified)

    @property
    def turns(self) -> int:
        """Finished turns: `turn_duration` records, or main-thread `end_turn` messages when there are none."""
        return self.turn_durations if self.turn_durations else self.end_turns

    def costing(self) -> Costing:
        """The price of every API message so far (genai-prices, loaded on the first call; see prices.py)."""
        if self._costing is None or self._costing[0] != self._usage_changes:
            self._costing = (self._usage_changes, price_messages(self._usage.values()))
        return self._costing[1]

    @property
    def cost_usd(self) -> float | None:
        """USD cost, or None when any message with tokens used a model genai-prices has no price for."""
        return self.costing().cost_usd

    @property
    def unpriced_models(self) -> list[str]:
        """Models with tokens but no price (why `cost_usd` is None)."""
        return list(self.costing().unpriced_models)

    def message_usages(self) -> list[TokenUsage]:
        """One `TokenUsage` per API message (what `costing` prices)."""
        return list(self._usage.values())

    def usage_by_message(self) -> dict[tuple[str, str | None], tuple[int, int, int, int]]:
        """Tokens per API message (`message_id`, `request_id`): input, output, cache read, cache creation.

        Forked sessions repeat the messages of the conversation they continue; merging these across sessions
        counts each API message once (what was billed).
        """
        return {
            key: (u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_creation_tokens)
            for key, u in self._usage.items()
        }

    @property
    def files_read_paths(self) -> list[str]:
        """The distinct paths read, sorted."""
        return sorted(self._files_read)

    @property
    def files_modified_paths(self) -> list[str]:
        """The distinct paths modified, sorted."""
        return sorted(self._files_modified)

    def to_dict(self, *, price: bool = True) -> dict[str, Any]:
        """Every stat (`STAT_KEYS`), the metadata (`META_KEYS`) and `last_error`; JSON-serialisable.

        `price=False` leaves `cost_usd` None and `unpriced_models` empty without loading genai-prices (for a
        caller that prices `message_usages()` itself, e.g. once for many sessions).
        """
        procedure, issue = derive_params(self.first_prompt)
        meta = self.meta
        costing = self.costing() if price else Costing(cost_usd=None, priced_usd=0.0)
        return {
            "tool_uses": self.tool_uses,
            "tool_uses_by_name": dict(sorted(self.tool_uses_by_name.items())),
            "subagent_tool_uses": self.subagent_tool_uses,
            "commands_executed": self.commands_executed,
            "git_operations": self.git_operations,
            "errors_encountered": self.errors_encountered,
            "permission_denials": self.permission_denials,
            "user_prompts": self.user_prompts,
            "files_read": self.files_read,
            "files_modified": self.files_modified,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_creation_tokens": self.cache_creation_tokens,
            "models": list(self.models),
            "turns": self.turns,
            "active_seconds": round(self.active_seconds, 3),
            "first_prompt": self.first_prompt,
            "cost_usd": costing.cost_usd,
            "unpriced_models": list(costing.unpriced_models),
            "procedure_name": procedure,
            "issue_number": issue,
            "malformed_lines": self.malformed_lines,
            "unknown_records": self.unknown_records,
            "unknown_records_by_type": dict(sorted(self.unknown_records_by_type.items())),
            "model": meta.model,
            "claude_version": meta.version,
            "cwd": meta.cwd,
            "git_branch": meta.git_branch,
            "permission_mode": meta.permission_mode,
            "session_id": meta.session_id,
            "last_error": self.last_error,
        }


def stats_for_transcript(path: str | os.PathLike[str], *, follow_subagents: bool = True) -> SessionStats:
    """The stats of a whole transcript file (plus its sub-agent files); a missing file gives empty stats.

    A last line without a newline is read as well (the session is over). Never raises for bad content;
    `malformed_lines` says how many lines were skipped.
    """
    tail = TranscriptTail(path, follow_subagents=follow_subagents)
    stats = SessionStats()
    apply = stats.apply
    while True:  # one poll reads everything unless the file is larger than a poll's bound
        for event in tail.poll(final=True):
            apply(event)
        if not tail.more:
            break
    stats.malformed_lines = tail.malformed_lines
    return stats
