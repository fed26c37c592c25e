"""The Session tab's sidebar: live counts of what Claude did. It only draws a `SessionSnapshot`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Label, Static

from claude_tui.formatting import format_cost, format_count, format_duration
from claude_tui.layout import SIDEBAR_COLUMNS
from claude_tui.widgets.visibility import displayed

if TYPE_CHECKING:
    from claude_tui.snapshot import SessionSnapshot


class StatRow(Static):
    """One `name  value` line; the `-alert` class marks a crossed threshold, `-bad` a non-zero error count."""

    DEFAULT_CSS = """
    StatRow { height: 1; width: 1fr; }
    StatRow.-bad { color: $error; text-style: bold; }
    StatRow.-alert { background: $error 30%; }
    StatRow.-waiting { color: $warning; text-style: bold; }
    """

    _shown = ("", "")

    def set_value(self, label: str, value: str) -> None:
        """Show `label`, then `value` right-aligned (nothing to do when that is what is shown)."""
        if (label, value) != self._shown:
            self._shown = (label, value)
            self.refresh()  # one row of a fixed width: the layout cannot change

    @property
    def text(self) -> str:
        """The row as drawn: the value is right-aligned to the width the row has when it is drawn (a row
        just mounted has no width yet, so it cannot be padded when it is set)."""
        label, value = self._shown
        return f"{label}{value.rjust(max(1, self.size.width - len(label)))}" if label else ""

    def render(self) -> str:
        return self.text


class SessionSidebar(VerticalScroll):
    """Counts for the running session, refreshed from `TrackedSession.snapshot()`.

    Beside the pane it is a column of counters; folded (`fold(True)`: in a narrow terminal, or when the user
    hides it) it is one status line under the pane, with the hint, if any, kept visible below it.
    """

    DEFAULT_CSS = f"""
    SessionSidebar {{
        width: {SIDEBAR_COLUMNS};
        padding: 0 1;
        border-left: vkey $primary 50%;
    }}
    SessionSidebar .heading {{ color: $text-muted; text-style: bold; margin-top: 1; }}
    SessionSidebar #last-error {{ color: $error; height: auto; max-height: 3; }}
    SessionSidebar #last-error.-empty {{ display: none; }}
    SessionSidebar #tools-by-name {{ color: $text-muted; height: auto; }}
    SessionSidebar #hint {{ color: $accent; height: auto; margin-top: 1; }}
    SessionSidebar Sparkline {{ height: 2; margin-top: 1; }}
    SessionSidebar #status-line {{ display: none; height: 1; }}
    SessionSidebar #nothing {{ display: none; color: $text-muted; height: auto; }}
    SessionSidebar.-nothing #nothing {{ display: block; }}
    SessionSidebar.-folded.-nothing #nothing {{ display: none; }}
    SessionSidebar.-nothing StatRow.count, SessionSidebar.-nothing #tools-by-name {{ display: none; }}
    SessionSidebar.-folded {{
        dock: bottom;
        width: 1fr;
        height: auto;
        max-height: 6;
        border-left: none;
        background: $panel;
    }}
    SessionSidebar.-folded > * {{ display: none; }}
    SessionSidebar.-folded > #status-line {{ display: block; }}
    SessionSidebar.-folded > #hint {{ display: block; margin-top: 0; }}
    SessionSidebar.-folded > SessionList.-shown {{ display: none; }}  /* the status line has its strip */
    """

    ROWS: ClassVar[list[tuple[str, str, Callable[[SessionSnapshot], int]]]] = [
        ("commands_executed", "Commands", lambda s: s.commands_executed),
        ("tool_uses", "Tool uses", lambda s: s.tool_uses),
        ("errors_encountered", "Errors", lambda s: s.errors_encountered),
        ("user_prompts", "Prompts", lambda s: s.user_prompts),
        ("git_operations", "Git ops", lambda s: s.git_operations),
        ("subagent_tool_uses", "Sub-agent tools", lambda s: s.subagent_tool_uses),
        ("files_read", "Files read", lambda s: s.files_read),
        ("files_modified", "Files modified", lambda s: s.files_modified),
    ]
    """Each counter in display order: its stat name (the row's id, and what an alert on it is called), its
    label, and its value in a snapshot."""

    def __init__(self, hint: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: dict[str, str] = {"#hint": hint or ""}
        self.rows_mounted = False
        """Whether the counters are there yet (`mount_rows`)."""
        self.rows_wanted = False
        """The counters are due but the sidebar is not shown: they are mounted when it is (`catch_up`). A
        window attached to 8 sessions mounted 7 x 24 rows nobody saw, ~0.5 s of its loop at load 8."""
        self._by_id: dict[str, Widget] = {}
        self._pending: SessionSnapshot | None = None
        """The latest snapshot (drawn when the rows are mounted, unfolded and `displayed`)."""
        self._status = Text()
        self._sessions = Text()

    def compose(self) -> ComposeResult:
        # In the first frame only the hint, if there is one (each widget there costs CPU while Claude starts);
        # the folded form's line comes with the counters (it says nothing before the first poll anyway).
        if self._shown["#hint"]:
            yield Static(self._shown["#hint"], id="hint")

    @property
    def folded(self) -> bool:
        """Whether the sidebar is folded into its status line."""
        return self.has_class("-folded")

    def fold(self, folded: bool) -> None:
        """Fold into a status line under the pane, or unfold into the column beside it."""
        self.set_class(folded, "-folded")
        self._show_status()  # drawn only while folded
        if not folded and self.rows_mounted and self._pending is not None:
            self._draw(self._pending)  # the rows were not drawn while folded

    async def mount_rows(self) -> None:
        """Mount the counters and the folded form's status line. The session view does it a moment after
        start (`SessionView.FILL_IN_AFTER`): they are a third of its widgets (~40 ms of CPU), which Claude's
        own start needs more. `show` keeps the latest snapshot till then."""
        if self.rows_mounted:
            return
        rows = [Static(id="status-line"), *self._rows()]
        await self.mount_all(rows, before="#hint" if self.query_children("#hint") else None)
        # By id, once: `show` runs up to 4 times a second, and each `query_one` walks the sidebar's children.
        self._by_id = {f"#{child.id}": child for child in self.children if child.id}
        self.rows_mounted = True
        if self._pending is not None:
            self.show(self._pending)
        self._show_status()  # folded: what the line says (the session strip) since the first frame

    def _rows(self) -> ComposeResult:
        from textual.widgets import Sparkline  # with the rows, not in the first frame

        yield Label("Session", classes="heading")
        yield StatRow(id="stat-state")
        yield Static(id="nothing")
        for name, _, _ in self.ROWS:
            yield StatRow(id=f"stat-{name}", classes="count")
        yield Static(id="tools-by-name")
        yield Static(id="last-error", classes="-empty")
        yield Label("Tokens & cost", classes="heading")
        for name in ("tokens-in", "tokens-out", "cost", "model"):
            yield StatRow(id=f"stat-{name}")
        yield Label("Time", classes="heading")
        for name in ("elapsed", "active", "waiting"):
            yield StatRow(id=f"stat-{name}")
        yield Label("Tool activity / min", classes="heading")
        yield Sparkline(self.activity_series([]), id="activity")

    def show(self, snap: SessionSnapshot) -> None:
        """Show `snap`: every counter (a program with nothing to count says so instead of zeros), or, folded,
        the status line. Rows that are not on the screen (folded, or the session not shown) are not touched:
        refreshing a hidden widget makes Textual rebuild its whole map; they are drawn when they show."""
        self._pending = snap
        if not self.rows_mounted:
            return
        self.set_class(snap.source == "none", "-nothing")
        status = status_line(snap)
        if status != self._status:
            self._status = status
            self._show_status()
        if not self.folded and self.displayed:
            self._draw(snap)

    @property
    def displayed(self) -> bool:
        """Whether the sidebar and every widget above it are displayed: the session is the one shown, on the
        tab shown. True from the moment a view is shown, before Textual lays it out (`is_on_screen` is
        only true after that frame, so the first frame of a switch would show old counters)."""
        return displayed(self)

    def catch_up(self) -> None:
        """Draw what came while the sidebar was hidden: the counters, or, folded, the status line (the
        session tab calls it when it shows a session; Textual's Show event, after that frame, too). Counters
        that are due are mounted after the frame that shows the session (they draw the latest snapshot)."""
        if self.rows_wanted and not self.rows_mounted and self.displayed:
            self.rows_wanted = False
            self.call_after_refresh(self.mount_rows)
        if self.folded:
            self._show_status()
        elif self._pending is not None and self.rows_mounted and self.displayed:
            self._draw(self._pending)

    def on_show(self) -> None:
        self.catch_up()

    def _row(self, name: str) -> StatRow:
        row = self._by_id[f"#stat-{name}"]
        assert isinstance(row, StatRow)
        return row

    def _draw(self, snap: SessionSnapshot) -> None:
        from claude_tui.snapshot import STATE_LABELS  # here: drawn from the first poll on (~1 s in)

        self._update("#nothing", nothing_to_count(snap.title) if snap.source == "none" else "")
        state = self._row("state")
        state.set_value("State", STATE_LABELS.get(snap.state, snap.state))
        state.set_class(snap.state == "waiting", "-waiting")
        for name, label, value_of in self.ROWS:
            row = self._row(name)
            value = value_of(snap)
            row.set_value(label, format_count(value))
            row.set_class(name == "errors_encountered" and value > 0, "-bad")
            row.set_class(name in snap.alerted_metrics, "-alert")
        ranked = snap.tool_uses_by_name[:8]
        self._update("#tools-by-name", "\n".join(f"  {name} {count}" for name, count in ranked))
        self._update("#last-error", f"✗ {snap.last_error}" if snap.last_error else "")
        # No blank row above the tokens while there is no error (a class, not `display`: an inline style
        # would beat the folded form's rule that hides the rows).
        self._by_id["#last-error"].set_class(not snap.last_error, "-empty")
        self._row("tokens-in").set_value("Tokens in", format_count(snap.input_tokens))
        self._row("tokens-out").set_value("Tokens out", format_count(snap.output_tokens))
        cost = self._row("cost")
        # The CLI's own figure once its telemetry reported one; else genai-prices' estimate of the transcript.
        cost.set_value("Cost" if snap.cost_source == "cli" else "Est. cost", format_cost(snap.cost_usd))
        cost.set_class("cost_usd" in snap.alerted_metrics, "-alert")
        self._row("model").set_value("Model", ", ".join(snap.models) or "–")
        elapsed = self._row("elapsed")
        elapsed.set_value("Elapsed", format_duration(snap.elapsed_seconds))
        elapsed.set_class("duration_seconds" in snap.alerted_metrics, "-alert")
        self._row("active").set_value("Active", format_duration(snap.active_seconds))
        # Working is `Active` (the turns); how long Claude waited for the person, and how many permissions:
        asks = snap.permission_requests
        asked = f" ({asks} ask{'s' if asks != 1 else ''})" if asks else ""
        self._row("waiting").set_value("Waiting", format_duration(snap.waiting_seconds) + asked)
        from textual.widgets import Sparkline

        sparkline = self._by_id["#activity"]
        assert isinstance(sparkline, Sparkline)
        sparkline.data = self.activity_series(snap.activity_per_minute)

    def set_sessions(self, strip: Text) -> None:
        """The window's sessions in one short strip (`▶1 2 ●3`), at the start of the folded status line: the
        session list's form when the sidebar is folded (empty with one session)."""
        if strip != self._sessions:
            self._sessions = strip
            self._show_status()

    def _show_status(self) -> None:
        # Only while folded and displayed (a session in the background draws it in `catch_up`):
        # refreshing a hidden widget makes Textual rebuild its whole map and redraw the screen
        # (Compositor.update_widgets), and the line's clock changes every second (issue 19, target 2).
        if not self.rows_mounted or not self.folded or not self.displayed:
            return
        line = Text(no_wrap=True, overflow="ellipsis")
        if self._sessions:
            line.append_text(self._sessions)
            line.append(" │ ", "dim")
        line.append_text(self._status)
        # One row of a fixed height: no layout (with one, the clock re-laid the whole screen every second).
        self.query_one("#status-line", Static).update(line, layout=False)

    @staticmethod
    def activity_series(per_minute: Sequence[int]) -> list[int]:
        """The last 30 minutes for the sparkline, from at least two points: Textual draws a one-point series
        as a solid block whatever its value, so a session with no tool use yet looked busiest."""
        series = list(per_minute[-30:])
        return [0] * (2 - len(series)) + series

    def set_hint(self, text: str) -> None:
        """A line of advice under the counters (the demo shows the prompt to type next here)."""
        if self._shown["#hint"] != text:
            self._shown["#hint"] = text
            if self.is_mounted:
                hints = self.query_children("#hint").results(Static)
                hint = next(hints, None)
                if hint is not None:
                    hint.update(text)
                    hint.display = bool(text)
                elif text:  # the first hint (none in the first frame)
                    self.mount(Static(text, id="hint"))

    @property
    def hint(self) -> str:
        """The advice shown (empty when none)."""
        return self._shown["#hint"]

    def _update(self, selector: str, text: str) -> None:
        """Change one text of the sidebar; an unchanged one costs no layout (`show` runs 4 times a second)."""
        if not self.rows_mounted:
            self._shown[selector] = text  # the row is mounted with it
            return
        widget = self._by_id[selector]
        assert isinstance(widget, Static)
        if self._shown.get(selector) != text:
            self._shown[selector] = text
            widget.update(text)


def nothing_to_count(program: str) -> str:
    """What the sidebar says for a program that gives nothing to count, instead of rows of zeros."""
    return (
        f"Nothing to count: {program} writes no transcript, sends no shell marks (OSC 133) and shows no "
        "● Tool(...) lines. Time is still tracked and the session logged."
    )


def status_line(snap: SessionSnapshot) -> Text:
    """The folded sidebar: the main counts, the cost and the time on one line (errors in red when any)."""
    if snap.source == "none":
        return Text.assemble(
            (f"{snap.title}: nothing to count", "dim"), " · ", format_duration(snap.elapsed_seconds)
        )
    errors = (
        ("errs ", "dim"),
        (format_count(snap.errors_encountered), "bold red" if snap.errors_encountered else ""),
    )
    parts: list[tuple[tuple[str, str], ...]] = [
        (("cmds ", "dim"), (format_count(snap.commands_executed), "")),
        (("tools ", "dim"), (format_count(snap.tool_uses), "")),
        errors,
        (("prompts ", "dim"), (format_count(snap.user_prompts), "")),
        ((format_cost(snap.cost_usd), ""),),
        ((format_duration(snap.elapsed_seconds), ""),),
    ]
    text = Text(no_wrap=True, overflow="ellipsis")
    for index, part in enumerate(parts):
        if index:
            text.append(" · ", "dim")
        for chunk, style in part:
            text.append(chunk, style)
    return text
