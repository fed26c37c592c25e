"""Best-effort events from screen text, for sessions without a transcript.

Other CLIs, older Claude Code and `claude --no-session-persistence` leave no transcript; the screen is all
there is. `ScreenParser.feed(lines, first_index)` looks at rendered lines (scrollback + screen) and returns
the events it has not reported yet:

- `● Tool(args)` → `ToolCall` (Bash args also as `input["command"]`, so git operations are counted);
- `  ⎿  Error: ...` → `ToolResult(is_error=True)` for the tool line above it;
- a collapsed summary such as `Listed 1 directory · 2 failed (ctrl+o to expand)` → one error `ToolResult` per
  failure (the count may grow while the line is redrawn; only the increase is reported);
- `❯ prompt` in the conversation → `UserPrompt` (not the input box between the two rules, not `❯ 1. Yes`
  menus).

NBSP after `❯` and `⎿` is read as a space. A line is identified by its content and its position: the same line
redrawn any number of times counts once, the same command run twice (two lines) counts twice, and a line the
renderer moved a few rows (the live area being redrawn) is recognised and not counted again.

What it cannot see (the transcript can): read-only commands Claude collapses into `Read 1 file, listed 1
directory, ran 1 shell command` lines have no `● Bash(` line, so their commands, arguments and git operations
are invisible; tokens, models, turns, sub-agent tool calls and file paths cut short by the screen width are
not on screen either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from claude_tui.parsing.events import PREVIEW_CHARS, Event, ToolCall, ToolResult, UserPrompt

_TOOL = re.compile(r"^\s{0,2}●\s+([A-Z][A-Za-z0-9_]*)\((.*)$")
_ERROR = re.compile(r"^\s*⎿\s+(Error:.*)$")
_FAILED = re.compile(r"·\s+(\d+)\s+failed\b")
_PROMPT = re.compile(r"^❯\s+(\S.*)$")
_MENU = re.compile(r"^\d+\.\s")
_RULE = "─"

MOVE_WINDOW = 60
"""How many rows a redrawn line may move and still be recognised as the same line."""


@dataclass
class _Seen:
    kind: str
    key: str
    position: int
    event_id: str
    failed: int = 0


class ScreenParser:
    """Turns rendered terminal lines into events, reporting each line once (see the module docstring)."""

    def __init__(self) -> None:
        self._by_position: dict[int, _Seen] = {}
        self._lines: dict[int, str] = {}
        self._count = 0

    def feed(self, lines: list[str], first_index: int = 0) -> list[Event]:
        """New events from `lines`, where `lines[i]` is at absolute position `first_index + i`.

        Pass scrollback + screen (`history_lines() + display`, `first_index` = lines the scrollback has
        dropped so far), or just the screen rows with `first_index` = scrollback size: positions must stay
        put while text scrolls.
        """
        normalized = [raw.replace("\xa0", " ").rstrip() for raw in lines]
        changed: set[int] = set()
        # Record every row's new text first, so a line that moved up is seen to have left its old row.
        for offset, line in enumerate(normalized):
            position = first_index + offset
            if self._lines.get(position) != line:
                self._lines[position] = line
                changed.add(position)
        events: list[Event] = []
        last_tool_id: str | None = None
        previous = ""
        for offset, line in enumerate(normalized):
            position = first_index + offset
            if position in changed:
                events.extend(self._line(position, line, previous, last_tool_id))
            seen = self._by_position.get(position)
            if seen is not None and seen.kind == "tool":
                last_tool_id = seen.event_id
            previous = line
        return events

    def _line(self, position: int, line: str, previous: str, last_tool_id: str | None) -> list[Event]:
        match = _TOOL.match(line)
        if match:
            name, rest = match.group(1), match.group(2)
            args = rest[:-1] if rest.endswith(")") else rest
            key = f"{name}({args}"
            if self._known(position, "tool", key):
                return []
            event_id = self._remember(position, "tool", key)
            tool_input: dict[str, str] = {"args": args}
            if name == "Bash":
                tool_input["command"] = args
            return [ToolCall(id=event_id, name=name, input=tool_input)]
        match = _ERROR.match(line)
        if match:
            text = match.group(1)
            if self._known(position, "error", text):
                return []
            event_id = self._remember(position, "error", text, event_id=last_tool_id)
            return [ToolResult(id=event_id, is_error=True, preview=text[:PREVIEW_CHARS])]
        match = _FAILED.search(line)
        if match and not line.lstrip().startswith(("●", "❯")):
            failed = int(match.group(1))
            seen = self._by_position.get(position)
            if seen is None or seen.kind != "failed":
                seen = self._by_position[position] = _Seen("failed", "", position, self._new_id())
            new = failed - seen.failed
            if new <= 0:
                return []
            seen.failed = failed
            text = line.strip()
            return [
                ToolResult(id=f"{seen.event_id}.{n}", is_error=True, preview=text[:PREVIEW_CHARS])
                for n in range(failed - new + 1, failed + 1)
            ]
        match = _PROMPT.match(line)
        if match and not previous.startswith(_RULE) and not _MENU.match(match.group(1)):
            text = match.group(1).strip()
            if self._known(position, "prompt", text):
                return []
            self._remember(position, "prompt", text)
            return [UserPrompt(text=text)]
        return []

    def _new_id(self) -> str:
        self._count += 1
        return f"screen-{self._count}"

    def _known(self, position: int, kind: str, key: str) -> bool:
        """True when this line was reported already here, or moved here from a nearby row it has left."""
        seen = self._by_position.get(position)
        if seen is not None and seen.kind == kind and seen.key == key:
            return True
        for delta in range(1, MOVE_WINDOW + 1):
            for old_position in (position - delta, position + delta):
                old = self._by_position.get(old_position)
                if old is None or old.kind != kind or old.key != key:
                    continue
                if key in self._lines.get(old_position, ""):
                    continue  # still there: this is a second, genuine occurrence
                del self._by_position[old_position]
                old.position = position
                self._by_position[position] = old
                return True
        return False

    def _remember(self, position: int, kind: str, key: str, event_id: str | None = None) -> str:
        new_id = self._new_id() if event_id is None or kind != "error" else f"{event_id}.error"
        self._by_position[position] = _Seen(kind, key, position, new_id)
        return new_id
