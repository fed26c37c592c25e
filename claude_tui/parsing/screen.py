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
renderer moved a few rows (the live area being redrawn, or the fullscreen renderer scrolling) is recognised
and not counted again. A frame can be caught half drawn, so a line is reported once it is complete (a tool
line with its closing parenthesis) or has stayed the same until the next `feed`; a line drawn again longer at
the same place (the rest of a half-drawn line) is the same line. `flush()` reports what is still waiting.
Whatever the positions do, a line is never reported more often than it was ever on screen at once.

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
# A run of box-drawing characters after text: the rest of a half-redrawn frame (the prompt box's rule).
_DRAWING_TAIL = re.compile(r"\s*[─━═]{3,}.*$")
_RULE = "─"

MOVE_WINDOW = 60
"""How many rows a redrawn line may move and still be recognised as the same line."""


@dataclass
class _Line:
    """An event-bearing line: where it is, what it says, and whether it was reported."""

    kind: str
    key: str
    position: int
    event_id: str
    text: str = ""
    complete: bool = False
    reported: bool = False
    failed: int = 0
    tool_id: str | None = None


class ScreenParser:
    """Turns rendered terminal lines into events, reporting each line once (see the module docstring)."""

    def __init__(self) -> None:
        self._by_position: dict[int, _Line] = {}
        self._lines: dict[int, str] = {}
        self._waiting: dict[int, _Line] = {}
        self._count = 0
        # Guard against counting one line twice when positions are not stable (a renderer that scrolls its
        # own viewport): a key is reported at most as often as it was ever seen on screen at once.
        self._row_keys: dict[int, tuple[str, str, int]] = {}
        self._most_at_once: dict[tuple[str, str], int] = {}
        self._reported: dict[tuple[str, str], int] = {}
        self._oldest = 0
        """Positions below this have left the terminal (see `_forget_before`)."""
        self._departed: dict[tuple[str, str], int] = {}
        """Classified lines that left the terminal, by key: they still count as seen with the later ones."""

    @property
    def waiting(self) -> bool:
        """Whether a line waits to be seen unchanged by the next `feed` (which reports it then)."""
        return bool(self._waiting)

    def feed(self, lines: list[str], first_index: int = 0) -> list[Event]:
        """New events from `lines`, where `lines[i]` is at absolute position `first_index + i`.

        Pass scrollback + screen (`history_lines() + display`, `first_index` = lines the scrollback has
        dropped so far), or just the screen rows with `first_index` = scrollback size: positions must stay
        put while text scrolls.
        """
        gone = self._forget_before(first_index)
        normalized = [raw.replace("\xa0", " ").rstrip() for raw in lines]
        changed: set[int] = set()
        # Record every row's new text first, so a line that moved up is seen to have left its old row.
        for offset, line in enumerate(normalized):
            position = first_index + offset
            if self._lines.get(position) != line:
                self._lines[position] = line
                changed.add(position)
        for position in changed:
            found = _classify(self._lines[position], self._lines.get(position - 1, ""))
            if found is None:
                self._row_keys.pop(position, None)
            else:
                self._row_keys[position] = found
        at_once = dict(self._departed)
        for kind, key, weight in self._row_keys.values():
            at_once[(kind, key)] = at_once.get((kind, key), 0) + weight
        for both, count in at_once.items():
            if count > self._most_at_once.get(both, 0):
                self._most_at_once[both] = count
        events: list[Event] = gone
        # Lines waiting since the last feed that did not change since: they were complete after all.
        for position, entry in list(self._waiting.items()):
            if position not in changed and self._by_position.get(position) is entry:
                events.extend(self._report(entry))
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
        # A waiting line whose row now shows something else was a transient frame (drawn, then moved or
        # cleared before the frame was finished): forget it.
        for position, entry in list(self._waiting.items()):
            if entry.key not in self._lines.get(position, ""):
                del self._waiting[position]
                if self._by_position.get(position) is entry:
                    del self._by_position[position]
        # A reported line whose row shows something else has moved out of reach or gone: forget where it was,
        # so a later line with the same text is not taken for it (the on-screen-at-once bound still applies).
        for position in [p for p in changed if p in self._by_position]:
            entry = self._by_position[position]
            row = self._row_keys.get(position)
            if row is None or row[0] != entry.kind:
                del self._by_position[position]
            elif entry.kind != "failed" and not (
                row[1].startswith(entry.key) or entry.key.startswith(row[1])
            ):
                # (A summary line keeps its place while its text changes: "Reading 1 file…" → "Read 2 files".)
                del self._by_position[position]
        return events

    def _forget_before(self, first_index: int) -> list[Event]:
        """Drop what is known about positions that left the terminal for good (the scrollback is full), so a
        long session does not grow this state; the line just before is kept as the one above. A line still
        waiting to be seen complete is reported: it cannot change any more."""
        if first_index <= self._oldest:
            return []
        self._oldest = first_index
        events: list[Event] = []
        for position in sorted(p for p in self._waiting if p < first_index - 1):
            events.extend(self._report(self._waiting[position]))
        for position in [p for p in self._row_keys if p < first_index - 1]:
            kind, key, weight = self._row_keys.pop(position)
            # Still "seen at once" with the lines after it: a later identical line is another call.
            self._departed[(kind, key)] = self._departed.get((kind, key), 0) + weight
        for table in (self._lines, self._by_position, self._waiting):
            for position in [p for p in table if p < first_index - 1]:
                del table[position]
        return events

    def flush(self) -> list[Event]:
        """Report the lines still waiting to be seen complete (call when the session ends)."""
        events: list[Event] = []
        for entry in list(self._waiting.values()):
            events.extend(self._report(entry))
        return events

    # -- one changed line ---------------------------------------------------------------------------------

    def _line(self, position: int, line: str, previous: str, last_tool_id: str | None) -> list[Event]:
        match = _TOOL.match(line)
        if match:
            name, rest = match.group(1), match.group(2)
            close = rest.rfind(")")
            complete = close != -1
            args = rest[:close] if complete else _DRAWING_TAIL.sub("", rest)
            return self._seen(position, "tool", f"{name}({args}", complete, text=args)
        match = _ERROR.match(line)
        if match:
            text = _DRAWING_TAIL.sub("", match.group(1))
            return self._seen(position, "error", text, False, text=text, tool_id=last_tool_id)
        match = _FAILED.search(line)
        if match and not line.lstrip().startswith(("●", "❯")):
            return self._failed(position, line.strip(), int(match.group(1)))
        match = _PROMPT.match(line)
        if match and not previous.startswith(_RULE) and not _MENU.match(match.group(1)):
            text = _DRAWING_TAIL.sub("", match.group(1)).strip()
            if text:
                return self._seen(position, "prompt", text, False, text=text)
        return []

    def _seen(
        self, position: int, kind: str, key: str, complete: bool, *, text: str, tool_id: str | None = None
    ) -> list[Event]:
        entry = self._by_position.get(position)
        if (
            entry is not None
            and entry.kind == kind
            and (key.startswith(entry.key) or entry.key.startswith(key))
        ):
            # The same line, drawn further (or redrawn shorter mid-frame): keep the longest text.
            if len(key) > len(entry.key):
                entry.key, entry.text = key, text
            entry.complete = entry.complete or complete
            return self._report(entry) if entry.complete else self._wait(entry)
        if self._moved_here(position, kind, key):
            return []
        entry = _Line(kind, key, position, self._new_id(), text=text, complete=complete, tool_id=tool_id)
        self._by_position[position] = entry
        return self._report(entry) if complete else self._wait(entry)

    def _failed(self, position: int, text: str, failed: int) -> list[Event]:
        key = _FAILED.sub("", text)
        entry = self._by_position.get(position)
        if entry is None or entry.kind != "failed":
            moved = self._moved_here(position, "failed", key, prefix=True)
            entry = self._by_position.get(position) if moved else None
            if entry is None or entry.kind != "failed":
                entry = _Line("failed", key, position, self._new_id(), text=text, reported=True)
                self._by_position[position] = entry
        new = failed - entry.failed
        entry.failed = max(entry.failed, failed)
        both = ("failed", key)
        new = min(new, max(self._most_at_once.get(both, 0), failed) - self._reported.get(both, 0))
        if new <= 0:
            return []
        self._reported[both] = self._reported.get(both, 0) + new
        return [
            ToolResult(id=f"{entry.event_id}.{n}", is_error=True, preview=text[:PREVIEW_CHARS])
            for n in range(failed - new + 1, failed + 1)
        ]

    def _wait(self, entry: _Line) -> list[Event]:
        if not entry.reported:
            self._waiting[entry.position] = entry
        return []

    def _report(self, entry: _Line) -> list[Event]:
        self._waiting.pop(entry.position, None)
        if entry.reported:
            return []
        entry.reported = True
        both = (entry.kind, entry.key)
        if self._reported.get(both, 0) >= max(self._most_at_once.get(both, 0), 1):
            return []  # more often than it was ever on screen at once: the same line seen again
        self._reported[both] = self._reported.get(both, 0) + 1
        if entry.kind == "tool":
            name = entry.key.split("(", 1)[0]
            tool_input = {"args": entry.text}
            if name == "Bash":
                tool_input["command"] = entry.text
            return [ToolCall(id=entry.event_id, name=name, input=tool_input)]
        if entry.kind == "error":
            error_id = f"{entry.tool_id}.error" if entry.tool_id else entry.event_id
            return [ToolResult(id=error_id, is_error=True, preview=entry.text[:PREVIEW_CHARS])]
        return [UserPrompt(text=entry.text)]

    def _new_id(self) -> str:
        self._count += 1
        return f"screen-{self._count}"

    def _moved_here(self, position: int, kind: str, key: str, prefix: bool = False) -> bool:
        """True when this line was seen on a nearby row that no longer shows it: it moved; follow it."""
        for delta in range(1, MOVE_WINDOW + 1):
            for old_position in (position - delta, position + delta):
                old = self._by_position.get(old_position)
                if old is None or old.kind != kind:
                    continue
                same = old.key == key or (prefix and (old.key.startswith(key) or key.startswith(old.key)))
                now = self._lines.get(old_position, "")
                if not same or old.key in now or key in now:
                    continue  # another line, or still there: this is a second, genuine occurrence
                del self._by_position[old_position]
                if self._waiting.get(old_position) is old:
                    del self._waiting[old_position]
                    self._waiting[position] = old
                old.position = position
                self._by_position[position] = old
                return True
        return False


def _classify(line: str, previous: str) -> tuple[str, str, int] | None:
    """(kind, key, weight) of an event-bearing line, keyed as `ScreenParser` keys it; None for other lines."""
    match = _TOOL.match(line)
    if match:
        rest = match.group(2)
        close = rest.rfind(")")
        args = rest[:close] if close != -1 else _DRAWING_TAIL.sub("", rest)
        return ("tool", f"{match.group(1)}({args}", 1)
    match = _ERROR.match(line)
    if match:
        return ("error", _DRAWING_TAIL.sub("", match.group(1)), 1)
    match = _FAILED.search(line)
    if match and not line.lstrip().startswith(("●", "❯")):
        return ("failed", _FAILED.sub("", line.strip()), int(match.group(1)))
    match = _PROMPT.match(line)
    if match and not previous.startswith(_RULE) and not _MENU.match(match.group(1)):
        text = _DRAWING_TAIL.sub("", match.group(1)).strip()
        if text:
            return ("prompt", text, 1)
    return None
