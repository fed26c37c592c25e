"""`SessionList`: the sessions of the window, one small block each, at the top of the sidebar column.

A rail rather than a tab strip: each session needs its name, folder and branch, state, tools, errors and cost
(three lines), which a one-row strip cannot hold for more than two sessions at 80 columns. It sits at the top
of the sidebar (docked, so the counters scroll under it) and takes no column from the pane; it appears once a
second session is open, so a single session looks as it always did; a folded sidebar shows `session_strip`
in its status line instead.

The list only draws `SessionEntry` values (built by the session tab from each session's snapshot and state);
a click on an entry posts `SessionList.Picked`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from claude_tui.formatting import format_cost, format_count

__all__ = ["ENTRY_LINES", "STATE_STYLES", "SessionEntry", "SessionList", "session_strip"]

ENTRY_LINES = 3
"""Lines per session: name and state; folder and branch; tools, errors and cost."""

STATE_STYLES: dict[str, str] = {
    "starting": "dim",
    "working": "green",
    "waiting": "bold black on yellow",
    "idle": "",
    "ended": "dim",
    "logging": "italic",
    "logged": "green",
    "not logged": "bold red",
}
"""How each state is drawn; "waiting for you" stands out whatever else the list shows."""

STATE_WORDS: dict[str, str] = {"waiting": "waiting for you"}
"""A state's word where it is not the state's own name."""


@dataclass(frozen=True, slots=True)
class SessionEntry:
    """What the list shows of one session."""

    number: int
    """1-based: what ctrl+] then the number selects."""
    name: str
    """The first prompt, else the program and the work dir's name."""
    folder: str
    """The work dir, home shown as `~`."""
    branch: str | None
    state: str
    """starting, working, waiting, idle, ended, logging, logged, not logged."""
    tool_uses: int = 0
    errors: int = 0
    cost_usd: float | None = None
    active: bool = False
    """The session shown."""
    attention: bool = False
    """It started waiting for the person while another session was shown, and has not been visited since."""


def _fit(text: str, width: int, *, keep_end: bool = False) -> str:
    """`text` cut to `width` cells with an ellipsis (at the start when the end matters: a folder)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    return "…" + text[-(width - 1) :] if keep_end else text[: width - 1] + "…"


def session_strip(entries: Sequence[SessionEntry]) -> Text:
    """The list in one short line for the folded sidebar: `▶1 2 ●3` (the shown one, one waiting for you)."""
    text = Text(no_wrap=True, end="")
    for index, entry in enumerate(entries):
        if index:
            text.append(" ")
        marker = "●" if entry.attention else ("▶" if entry.active else "")
        style = (
            "bold yellow"
            if entry.attention or entry.state == "waiting"
            else ("bold" if entry.active else "dim")
        )
        text.append(f"{marker}{entry.number}", style)
    return text


class SessionList(Widget):
    """The sessions, `ENTRY_LINES` lines each; the active one highlighted, one waiting for you marked."""

    DEFAULT_CSS = """
    SessionList {
        display: none;
        dock: top;
        height: auto;
        max-height: 50vh;
        border-bottom: hkey $primary 50%;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
    }
    SessionList.-shown { display: block; }
    SessionList > .session-list--active { background: $primary-darken-3; text-style: bold; }
    SessionList > .session-list--muted { color: $text-muted; }
    SessionList > .session-list--error { color: $error; }
    """

    COMPONENT_CLASSES = {"session-list--active", "session-list--muted", "session-list--error"}

    class Picked(Message):
        """The person clicked a session."""

        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number
            """The session's number (`SessionEntry.number`)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.entries: tuple[SessionEntry, ...] = ()
        """What is shown."""

    def show(self, entries: Sequence[SessionEntry]) -> None:
        """Draw `entries` (nothing to do when they are what is shown)."""
        entries = tuple(entries)
        if entries == self.entries:
            return
        resized = len(entries) != len(self.entries)
        self.entries = entries
        self.refresh(layout=resized)
        active = next((i for i, entry in enumerate(entries) if entry.active), None)
        if active is not None and self.is_mounted:
            self.call_after_refresh(self._keep_in_view, active)

    def _keep_in_view(self, index: int) -> None:
        from textual.geometry import Region

        self.scroll_to_region(Region(0, index * ENTRY_LINES, 1, ENTRY_LINES), animate=False, immediate=True)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return ENTRY_LINES * len(self.entries)

    def render(self) -> Text:
        width = max(8, self.content_region.width or self.size.width or 30)
        active = self.get_component_rich_style("session-list--active", partial=True)
        muted = self.get_component_rich_style("session-list--muted", partial=True)
        error = self.get_component_rich_style("session-list--error", partial=True)
        text = Text(no_wrap=True, overflow="crop", end="")
        for i, entry in enumerate(self.entries):
            base = active if entry.active else None
            start = len(text)
            if i:
                text.append("\n")
            # 1: marker, number, name .......... state
            state = STATE_WORDS.get(entry.state, entry.state)
            marker = "●" if entry.attention else ("▶" if entry.active else " ")
            head = f"{marker}{entry.number} "
            name_width = max(1, width - len(head) - len(state) - 1)
            text.append(head, "bold yellow" if entry.attention else "")
            text.append(_fit(entry.name, name_width).ljust(name_width) + " ")
            text.append(state, STATE_STYLES.get(entry.state, ""))
            # 2: folder · branch
            place = entry.folder + (f" · {entry.branch}" if entry.branch else "")
            if len(place) > width - 3 and entry.branch:
                room = max(4, width - 3 - len(entry.branch) - 3)
                place = f"{_fit(entry.folder, room, keep_end=True)} · {entry.branch}"
            text.append("\n   ")
            text.append(_fit(place, width - 3).ljust(width - 3), muted)
            # 3: tools · errors · cost
            text.append("\n   ")
            tools = f"{format_count(entry.tool_uses)} tool{'s' if entry.tool_uses != 1 else ''}"
            errors = f"{format_count(entry.errors)} error{'s' if entry.errors != 1 else ''}"
            cost = format_cost(entry.cost_usd) if entry.cost_usd is not None else "$ –"
            text.append(tools, muted)
            text.append(" · ", muted)
            text.append(errors, error if entry.errors else muted)
            text.append(" · ", muted)
            text.append(cost, muted)
            text.append(" " * max(0, width - 3 - len(tools) - len(errors) - len(cost) - 6))
            if base is not None:
                text.stylize(base, start + (1 if i else 0), len(text))
        return text

    def on_click(self, event: events.Click) -> None:
        index = (event.y + int(self.scroll_y)) // ENTRY_LINES
        if 0 <= index < len(self.entries):
            event.stop()
            self.post_message(self.Picked(self.entries[index].number))
