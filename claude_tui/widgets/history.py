"""The History tab: past sessions from the MLflow store, filter, sort, details, replay, compare, MLflow UI.

`HistoryPane(tracking_uri, experiment)` is self-contained: the App mounts it and calls `refresh_runs()` when a
session has been logged. Every store access runs in a thread worker (`claude_tui.history.query`) and comes
back as a small message; stale answers (an older filter, a run no longer selected) are dropped by generation.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, TabbedContent
from textual.worker import Worker, WorkerState

from claude_tui.formatting import format_cost, format_count, format_duration
from claude_tui.history.columns import COLUMNS, HistoryLayout, split
from claude_tui.history.query import (
    PAGE_SIZE,
    QUICK_FILTERS,
    SORT_KEYS,
    HistoryError,
    InvalidFilterError,
    RunDetails,
    RunPage,
    RunQuery,
    RunRow,
    combine_filters,
    default_mine_user,
    is_shared_store,
    mine_filter,
    order_by_for,
    resolve_tracking_uri,
)
from claude_tui.history.replay import CastRecording, load_recording
from claude_tui.history.resume import ResumeTarget
from claude_tui.history.ui_server import UiServer, compare_url, is_remote, remote_base, run_url
from claude_tui.tracking import schema
from claude_tui.widgets.history_compare import CompareScreen
from claude_tui.widgets.history_details import RunDetailsView, format_time

# The table's columns (ids are those of `SORT_KEYS`) and how they share the width: `history.columns`.
# A marked run's name starts with `MARK`.
SORTABLE = [column.id for column in COLUMNS if column.id in SORT_KEYS]
MARK = "●"
DETAILS_DELAY = 0.12
"""Seconds the cursor must rest on a row before its details load (holding ↓ does not flood the store)."""

OpenUrl = Callable[[str], Any]
ServerFactory = Callable[[str], UiServer]


def _success_cell(value: float | None) -> Text:
    if value is None:
        return Text("–", style="dim")
    return Text("✓", style="green") if value >= 1 else Text("✗", style="bold red")


def _procedure_cell(row: RunRow) -> str:
    parts = [row.procedure or "", f"#{row.issue}" if row.issue else ""]
    return " ".join(part for part in parts if part) or "–"


class RunTable(DataTable[Any]):
    """The sessions table; asks for the next page when scrolled near its end."""

    class NearEnd(Message):
        """Scrolled (or moved the cursor) close to the last loaded row."""

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.row_count and new_value >= self.max_scroll_y - 5:
            self.post_message(self.NearEnd())


class DetailsBox(Vertical):
    """The column with the selected run's details; `z` maximizes it (Textual's maximize, escape restores).

    Its left border is the split: drag it with the mouse (or press `[` / `]`) to give the table or the
    details more room.
    """

    ALLOW_MAXIMIZE = True

    class Dragged(Message):
        """The split was dragged: the details should be `width` columns wide."""

        def __init__(self, width: int) -> None:
            super().__init__()
            self.width = width

    _dragging = False

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.x == 0 and not self.is_maximized:
            self._dragging = True
            self.capture_mouse()
            event.stop()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            self.post_message(self.Dragged(self.region.right - event.screen_x))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()


class HistoryPane(Widget):
    """Browse the logged sessions of one experiment.

    Args:
        tracking_uri: the MLflow store (None: the same default the logger uses).
        experiment: the experiment holding the sessions.
        tz: time zone for the start column (None: local time; tests pass UTC).
        page_size: rows fetched per page.
        open_url: opens a URL in a browser (tests pass a recorder).
        server_factory: builds the `UiServer` for a backend store (tests pass a fake).
        user: whose sessions the "mine" quick filter (key 4) shows; None: `query.default_mine_user`, found in
            a worker (a shared store's History then opens on "mine"; a local store's on everything).
    """

    DEFAULT_CSS = """
    HistoryPane { height: 1fr; layout: vertical; color: $foreground; }  /* in any App: see screens/app.tcss */
    HistoryPane #history-bar { height: 1; }
    HistoryPane #history-filter { width: 1fr; height: 1; border: none; padding: 0 1; }
    HistoryPane #history-bar Button { margin-left: 1; min-width: 10; }
    HistoryPane #history-bar Button.-on { background: $accent; color: $text; text-style: bold; }
    HistoryPane #history-error { height: auto; color: $error; padding: 0 1; display: none; }
    HistoryPane #history-error.-shown { display: block; }
    HistoryPane #history-pending { height: auto; color: $warning; padding: 0 1; display: none; }
    HistoryPane #history-pending.-shown { display: block; }
    HistoryPane #history-body { height: 1fr; }
    HistoryPane RunTable { width: 1fr; height: 1fr; }
    HistoryPane #history-details-box { width: 43; border-left: vkey $foreground 30%; }
    HistoryPane #history-details-box:hover { border-left: vkey $accent; }
    HistoryPane #history-details-box.-maximized { width: 1fr; height: 1fr; border-left: none; }
    HistoryPane #history-status { height: 1; color: $text-muted; padding: 0 1; }
    """

    BINDINGS = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("escape", "focus_table", "Table", show=False),
        Binding("1", "quick('failed')", "Failed"),
        Binding("2", "quick('errors')", "With errors"),
        Binding("3", "quick('today')", "Today"),
        Binding("4", "quick('mine')", "Mine", show=False),
        Binding("0", "clear_filters", "Clear filters"),
        Binding("greater_than_sign,full_stop", "sort_next", "Sort next", show=False),
        Binding("less_than_sign,comma", "sort_previous", "Sort previous", show=False),
        Binding("d", "sort_reverse", "Reverse sort", show=False),
        Binding("space", "mark", "Mark"),
        Binding("c", "compare", "Compare"),
        Binding("m", "mlflow_compare", "MLflow compare"),
        Binding("u", "rollups", "Roll-ups", show=False),  # the footer is full; the palette lists it
        Binding("o", "open_in_mlflow", "Open in MLflow"),
        Binding("r", "resume_run", "Resume"),
        Binding("b", "resumed_from", "Earlier run", show=False),
        Binding("ctrl+r,f5", "refresh_runs", "Refresh", show=False),
        Binding("z", "zoom_details", "Zoom details"),
        Binding("left_square_bracket", "details_narrower", "Details narrower", show=False),
        Binding("right_square_bracket", "details_wider", "Details wider", show=False),
        Binding("y", "copy_run_id", "Copy run id"),
        Binding("i", "details_tab('overview')", "Overview", show=False),
        Binding("x", "details_tab('transcript')", "Transcript", show=False),
        Binding("g", "details_tab('chart')", "Chart", show=False),
        Binding("p", "replay_toggle", "Play/pause", show=False),
        Binding("plus,equals_sign", "replay_faster", "Faster", show=False),
        Binding("minus", "replay_slower", "Slower", show=False),
    ]
    """History keys. Digits and punctuation only where the App already uses letters (`s`, `h`, `t`)."""

    @dataclass
    class RunsLoaded(Message):
        """A page of rows for the query with this generation."""

        generation: int
        filter_text: str
        page: RunPage
        append: bool

    @dataclass
    class QueryFailed(Message):
        """The query with this generation failed; `message` is one line (MLflow's own for a bad filter)."""

        generation: int
        filter_text: str
        message: str
        invalid_filter: bool

    @dataclass
    class DetailsLoaded(Message):
        """Details of the run the cursor rests on."""

        details: RunDetails

    @dataclass
    class CastLoaded(Message):
        """The recording of a run (None when it has none)."""

        run_id: str
        recording: CastRecording | None

    @dataclass
    class CompareReady(Message):
        """Details of the marked runs, in table order."""

        runs: list[RunDetails]

    @dataclass
    class Progress(Message):
        """A progress line while the MLflow UI server starts."""

        text: str

    @dataclass
    class ResumeRequested(Message):
        """Resume this conversation in a new tracked session (the app opens it)."""

        target: ResumeTarget

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str = "claude-sessions",
        *,
        tz: dt.tzinfo | None = None,
        page_size: int = PAGE_SIZE,
        open_url: OpenUrl = webbrowser.open,
        server_factory: ServerFactory = UiServer,
        user: str | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.tracking_uri = resolve_tracking_uri(tracking_uri)
        self.experiment = experiment
        self.tz = tz
        self.page_size = page_size
        self.run_query = RunQuery(self.tracking_uri, experiment)
        self.open_url = open_url
        self.server_factory = server_factory
        self.rows: list[RunRow] = []
        """The rows shown, in table order."""
        self.marked: dict[str, RunRow] = {}
        """Marked runs for comparison, in marking order."""
        self.filter_text = ""
        """The last filter MLflow accepted (what the rows show)."""
        self.quick: set[str] = set()
        """Active quick filters (names in `QUICK_FILTERS`, and `mine`)."""
        self.mine_user = user
        """Whose sessions `mine` shows (None: unknown, `mine` is off)."""
        self.sort_column = "start"
        self.descending = True
        self.next_page_token: str | None = None
        self.loaded = False
        """True once the first page has arrived (tests and the benchmark wait on it)."""
        self.error: str | None = None
        """The message shown under the filter box, if any."""
        self.last_url: str | None = None
        """The last MLflow UI URL opened (or shown whole, and copied, when no browser was found)."""
        self.pages_loaded = 0
        """Pages received for the current query (1 after the first page)."""
        self._generation = 0
        self._pending = False
        self._loading_more = False
        self._details_timer: Any = None
        self._details_run: str | None = None
        self._cast_run: str | None = None
        self.details_width: int | None = None
        """The details pane's width the user chose (`[`, `]`, dragging the split); None: fit the content."""
        self.layout_now: HistoryLayout = split(150, 0)
        """The table's columns and the details' width now (`history.columns.split`)."""

    # --- layout -----------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="history-bar"):
            yield Input(
                placeholder="filter (MLflow syntax), e.g. metrics.errors_encountered > 0",
                id="history-filter",
            )
            yield Button("1 Failed", id="quick-failed", compact=True)
            yield Button("2 Errors", id="quick-errors", compact=True)
            yield Button("3 Today", id="quick-today", compact=True)
        yield Label("", id="history-error")
        yield Label("", id="history-pending")
        with Horizontal(id="history-body"):
            yield RunTable(id="history-table", cursor_type="row", zebra_stripes=True)
            with DetailsBox(id="history-details-box"):
                yield RunDetailsView(tz=self.tz, id="history-details")
        yield Label("", id="history-status")

    def on_mount(self) -> None:
        self.layout_now = split(max(self.size.width, 80), 0, self.details_width)
        self._add_columns()
        table = self.query_one(RunTable)
        table.loading = True
        if self.mine_user is None and is_shared_store(self.tracking_uri):
            self._decide_mine()  # whose sessions are "mine" takes a git run: off this thread
        else:
            if self.mine_user is not None:
                self.quick.add("mine")
            self._start_query(self.filter_text)
        self._look_for_pending()

    @work(thread=True, exclusive=True, group="history-mine", exit_on_error=False)
    def _decide_mine(self) -> None:
        """Open a shared store's History on the user's own sessions, when the user is known."""
        user = default_mine_user(self.tracking_uri)
        self.app.call_from_thread(self._open_on_mine, user)

    def _open_on_mine(self, user: str | None) -> None:
        self.mine_user = user
        if user is not None:
            self.quick.add("mine")
        self._start_query(self.filter_text)

    @work(thread=True, exclusive=True, group="history-pending", exit_on_error=False)
    def _look_for_pending(self) -> None:
        """Sessions not logged yet (killed, or a store that did not take them): how many, and why."""
        from claude_tui.tracking.recovery import pending_spools

        pending = pending_spools()
        if not pending:
            return
        reasons = [reason for spool in pending if (reason := spool.not_logged_reason)]
        why = reasons[-1] if reasons else "not tried yet"
        count = f"{len(pending)} session{'s' if len(pending) != 1 else ''} not logged yet"
        text = (
            f"{count}: {why}. Each claude-tui start logs them in the background; "
            "`claude-tui sync` does it now."
        )
        self.app.call_from_thread(self._show_pending, text)

    def _show_pending(self, text: str) -> None:
        label = self.query_one("#history-pending", Label)
        label.update(Text(text))
        label.set_class(True, "-shown")

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()

    def _relayout(self, rows: list[RunRow] | None = None) -> None:
        """Share the width between table and details for the rows shown (or about to be: `rows`); the table's
        columns are rebuilt, and its rows added again, only when they change."""
        rows = self.rows if rows is None else rows
        longest = max((len(" ".join(row.name.split())) for row in rows), default=0) + 2  # the mark
        new = split(self.size.width, longest, self.details_width)
        box = self.query_one(DetailsBox)
        # Zoomed, the box takes the whole tab (its CSS); an inline width would beat that rule.
        box.styles.width = None if box.is_maximized else new.details_width
        if new.columns == self.layout_now.columns and new.short_start == self.layout_now.short_start:
            return
        self.layout_now = new
        table = self.query_one(RunTable)
        cursor = table.cursor_row
        self._add_columns()
        for row in self.rows:
            table.add_row(*self._cells(row), key=row.run_id)
        if self.rows:
            table.move_cursor(row=min(max(cursor, 0), len(self.rows) - 1), scroll=True)

    def _add_columns(self) -> None:
        table = self.query_one(RunTable)
        table.clear(columns=True)
        for column, header, width in self.layout_now.columns:
            label = Text(header)
            if column == self.sort_column:
                label = Text(header + (" ▼" if self.descending else " ▲"), style="bold")
            table.add_column(label, key=column, width=width)

    def _cells(self, row: RunRow) -> list[Any]:
        start = format_time(row.start_time, self.tz)
        cells = {
            "start": start[5:] if self.layout_now.short_start and row.start_time is not None else start,
            "name": self._name_cell(row),
            "duration": format_duration(row.duration_seconds),
            "commands": format_count(row.commands),
            "tools": format_count(row.tools),
            "errors": Text(format_count(row.errors), style="red" if (row.errors or 0) > 0 else ""),
            "ok": _success_cell(row.success),
            "procedure": _procedure_cell(row),
            "tokens": format_count(row.tokens),
            "cost": format_cost(row.cost_usd) if row.cost_usd is not None else "–",
        }
        return [cells[column] for column, _, _ in self.layout_now.columns]

    def action_details_narrower(self) -> None:
        """Give the table more room (the details pane 4 columns narrower)."""
        self._resize_details(self.query_one(DetailsBox).size.width - 4)

    def action_details_wider(self) -> None:
        """Give the details pane 4 more columns."""
        self._resize_details(self.query_one(DetailsBox).size.width + 4)

    @on(DetailsBox.Dragged)
    def _split_dragged(self, message: DetailsBox.Dragged) -> None:
        self._resize_details(message.width)

    def _resize_details(self, width: int) -> None:
        self.details_width = width
        self._relayout()
        self.details_width = self.layout_now.details_width  # kept within its bounds

    def _name_cell(self, row: RunRow) -> Text:
        name = " ".join(row.name.split()) or "(no prompt)"
        if row.run_id in self.marked:
            return Text.assemble((MARK + " ", "bold yellow"), name)
        return Text(name)

    # --- queries ----------------------------------------------------------------------------------------

    def effective_filter(self, filter_text: str | None = None) -> str:
        """The user's filter AND every active quick filter."""
        text = self.filter_text if filter_text is None else filter_text
        quick = [
            mine_filter(self.mine_user) if name == "mine" and self.mine_user else QUICK_FILTERS[name]()
            for name in sorted(self.quick)
            if name in QUICK_FILTERS or (name == "mine" and self.mine_user)
        ]
        return combine_filters(text, *quick)

    def refresh_runs(self) -> None:
        """Reload from the first page with the current filter and sort (call after a session is logged)."""
        self._start_query(self.filter_text)

    @property
    def idle(self) -> bool:
        """True when no query (first page, filter, sort) is waiting for the store."""
        return not self._pending and not self._loading_more

    def _start_query(self, filter_text: str) -> None:
        self._generation += 1
        self._pending = True
        self._loading_more = False
        self._set_status("loading…")
        self._load_runs(
            self._generation,
            filter_text,
            self.effective_filter(filter_text),
            order_by_for(self.sort_column, self.descending),
            None,
            False,
        )

    def _load_more(self) -> None:
        if self._loading_more or not self.next_page_token or not self.loaded:
            return
        self._loading_more = True
        self._load_runs(
            self._generation,
            self.filter_text,
            self.effective_filter(),
            order_by_for(self.sort_column, self.descending),
            self.next_page_token,
            True,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="history-runs")
    def _load_runs(
        self,
        generation: int,
        filter_text: str,
        full: str,
        order_by: list[str],
        token: str | None,
        append: bool,
    ) -> None:
        try:
            page = self.run_query.search(
                full, order_by=order_by, max_results=self.page_size, page_token=token
            )
        except HistoryError as exc:
            self.post_message(
                self.QueryFailed(generation, filter_text, str(exc), isinstance(exc, InvalidFilterError))
            )
            return
        self.post_message(self.RunsLoaded(generation, filter_text, page, append))

    @on(RunsLoaded)
    def _runs_loaded(self, message: RunsLoaded) -> None:
        if message.generation != self._generation:
            return  # an answer to a filter or sort that has been replaced since
        table = self.query_one(RunTable)
        keep = self.rows[table.cursor_row].run_id if self.rows and not message.append else None
        if not message.append:
            self.filter_text = message.filter_text
            self._show_error(None)
            self.rows = []
            self.pages_loaded = 0
            table.clear()
        self._relayout([*self.rows, *message.page.rows])  # before the rows: columns fit the longest name
        self.pages_loaded += 1
        shown = {row.run_id for row in self.rows}
        for row in message.page.rows:
            if row.run_id in shown:
                continue  # offset paging can repeat a row when a session was logged between pages
            self.rows.append(row)
            table.add_row(*self._cells(row), key=row.run_id)
        self.next_page_token = message.page.next_page_token
        self._loading_more = False
        self._pending = False
        table.loading = False
        if not self.loaded and not self.query_one("#history-filter", Input).value:
            # A loading table cannot take focus, so the screen's auto-focus picked the filter box (where the
            # digit keys would be typed, not obeyed); the table gets it once it has rows to browse.
            self.call_after_refresh(self._focus_table_if_still_here)
        self.loaded = True
        if not message.append:
            index = next((i for i, row in enumerate(self.rows) if row.run_id == keep), 0)
            if self.rows:
                table.move_cursor(row=index, scroll=True)
                self._request_details(self.rows[index].run_id, delay=0)
            else:
                self._details_run = None
                self._cast_run = None
                self.query_one(RunDetailsView).clear()
        self._set_status()

    @on(QueryFailed)
    def _query_failed(self, message: QueryFailed) -> None:
        if message.generation != self._generation:
            return
        self._loading_more = False
        self._pending = False
        self.query_one(RunTable).loading = False
        prefix = "Invalid filter: " if message.invalid_filter else ""
        self._show_error(prefix + message.message)
        if message.invalid_filter:
            # Keep showing the last good result; put the generation back so load-more keeps working for it.
            self.query_one("#history-filter", Input).value = message.filter_text
        self._set_status()

    def _show_error(self, text: str | None) -> None:
        self.error = text
        label = self.query_one("#history-error", Label)
        label.update(Text(text or ""))
        label.set_class(bool(text), "-shown")

    def _set_status(self, extra: str | None = None) -> None:
        arrow = "▼" if self.descending else "▲"
        more = " (more on scroll)" if self.next_page_token else ""
        count = f"{len(self.rows)} session" + ("" if len(self.rows) == 1 else "s")
        parts = [f"{count}{more}", f"sort: {self.sort_column} {arrow}"]
        if self.marked:
            parts.append(f"{len(self.marked)} marked")
        active = self.effective_filter()
        if active:
            parts.append(f"filter: {active}")
        if extra:
            parts.append(extra)
        self.query_one("#history-status", Label).update(Text(" · ".join(parts), no_wrap=True))

    # --- details ----------------------------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#history-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is None:
            return
        if event.cursor_row >= len(self.rows) - 5:
            self._load_more()
        self._request_details(event.row_key.value)

    @on(RunTable.NearEnd)
    def _near_end(self) -> None:
        self._load_more()

    def _request_details(self, run_id: str, delay: float = DETAILS_DELAY) -> None:
        if run_id == self._details_run:
            return
        self._details_run = run_id
        if self._details_timer is not None:
            self._details_timer.stop()
        if delay <= 0:
            self._load_details(run_id)
        else:
            self._details_timer = self.set_timer(delay, partial(self._load_details, run_id))

    @work(thread=True, exclusive=True, exit_on_error=False, group="history-details")
    def _load_details(self, run_id: str) -> None:
        self.post_message(self.DetailsLoaded(self.run_query.details(run_id)))

    @on(DetailsLoaded)
    def _details_loaded(self, message: DetailsLoaded) -> None:
        if message.details.row.run_id != self._details_run:
            return
        view = self.query_one(RunDetailsView)
        view.show(message.details)
        self._cast_run = None
        if "transcript/raw.cast" in message.details.artifacts:
            self._load_cast(message.details.row.run_id)
        else:
            view.replay.load(None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="history-cast")
    def _load_cast(self, run_id: str) -> None:
        recording = None
        with tempfile.TemporaryDirectory(prefix="claude-tui-cast-") as tmp:
            try:
                path = self.run_query.download(run_id, "transcript/raw.cast", Path(tmp))
            except Exception:
                path = None
            if path is not None:
                recording = load_recording(path)
        self.post_message(self.CastLoaded(run_id, recording))

    @on(CastLoaded)
    def _cast_loaded(self, message: CastLoaded) -> None:
        if message.run_id != self._details_run:
            return
        self._cast_run = message.run_id
        self.query_one(RunDetailsView).replay.load(message.recording)

    @property
    def selected(self) -> RunRow | None:
        """The row under the cursor."""
        table = self.query_one(RunTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def _focus_table_if_still_here(self) -> None:
        """Focus the table unless the user went elsewhere (back to the terminal) while the rows loaded."""
        focused = self.screen.focused
        if focused is None or self in focused.ancestors_with_self:
            self.query_one(RunTable).focus()

    # --- filter, quick filters, sort ----------------------------------------------------------------------

    @on(Input.Submitted, "#history-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.apply_filter(event.value)
        self.query_one(RunTable).focus()

    def apply_filter(self, text: str) -> None:
        """Search with `text` (MLflow syntax, verbatim); a bad filter keeps the current rows."""
        self._start_query(text.strip())

    def action_focus_filter(self) -> None:
        """Move focus to the filter box."""
        self.query_one("#history-filter", Input).focus()

    def action_zoom_details(self) -> None:
        """Fill the screen with the details (a replay then shows its recording at full width); escape or z
        again gives the table back."""
        screen = self.screen
        box = self.query_one(DetailsBox)
        if screen.maximized is box:
            screen.minimize()
            self._relayout()
            self.query_one(RunTable).focus()
        elif screen.maximize(box, container=False):
            box.styles.width = None
            # The table is hidden now: the shown tab's scrolling area takes the keys, so End and PgDn
            # scroll at once (p, +, -, i, x, g, z and escape still reach this pane).
            self._focus_details()

    def _focus_details(self) -> None:
        """Focus what scrolls in the details' shown tab (the Replay tab's box, the others' text)."""
        view = self.query_one(RunDetailsView)
        active = view.query_one("#details-tabs", TabbedContent).active
        for target in view.query(f"#{active} ScrollableContainer").results(ScrollableContainer):
            target.focus()
            return

    def action_details_tab(self, tab: str) -> None:
        """Show a tab of the details: `overview`, `transcript`, `replay` or `chart`."""
        view = self.query_one(RunDetailsView)
        view.query_one("#details-tabs", TabbedContent).active = f"tab-{tab}"
        if self.screen.maximized is self.query_one(DetailsBox):
            self.call_after_refresh(self._focus_details)

    def action_copy_run_id(self) -> None:
        """Copy the selected run's id to the clipboard (OSC 52), e.g. for `mlflow runs describe`."""
        row = self.selected
        if row is None:
            self.notify("No session selected.", severity="warning")
            return
        self.app.copy_to_clipboard(row.run_id)
        self.notify(f"Copied run id {row.run_id}", title="History")

    def action_focus_table(self) -> None:
        """Move focus back to the sessions table (escape from the filter box, or from the zoomed details)."""
        if self.screen.maximized is self.query_one(DetailsBox):
            self.screen.minimize()
            self._relayout()
        self.query_one(RunTable).focus()

    @on(Button.Pressed, "#history-bar Button")
    def _quick_pressed(self, event: Button.Pressed) -> None:
        if event.button.id:
            self.action_quick(event.button.id.removeprefix("quick-"))

    def action_quick(self, name: str) -> None:
        """Toggle a quick filter (`failed`, `errors`, `today`, `mine`)."""
        if name == "mine" and self.mine_user is None:
            self.notify(
                "Whose sessions are yours is unknown: set `user` in the settings, or git's user.email.",
                severity="warning",
            )
            return
        self.quick ^= {name}
        for button in self.query(f"#quick-{name}").results(Button):
            button.set_class(name in self.quick, "-on")
        self._start_query(self.filter_text)

    def action_clear_filters(self) -> None:
        """Drop the filter text and every quick filter."""
        self.quick.clear()
        for button in self.query("#history-bar Button"):
            button.remove_class("-on")
        self.query_one("#history-filter", Input).value = ""
        self._start_query("")

    def sort_by(self, column: str, descending: bool | None = None) -> None:
        """Sort by a column id (see `COLUMNS`); the same column again flips the direction."""
        if column not in SORT_KEYS:
            return
        if descending is None:
            descending = not self.descending if column == self.sort_column else column != "name"
        self.sort_column, self.descending = column, descending
        self._add_columns()
        self.rows = []
        self._start_query(self.filter_text)

    @on(DataTable.HeaderSelected, "#history-table")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        if event.column_key.value:
            self.sort_by(event.column_key.value)

    def action_sort_next(self) -> None:
        """Sort by the next column to the right."""
        self.sort_by(SORTABLE[(SORTABLE.index(self.sort_column) + 1) % len(SORTABLE)])

    def action_sort_previous(self) -> None:
        """Sort by the next column to the left."""
        self.sort_by(SORTABLE[(SORTABLE.index(self.sort_column) - 1) % len(SORTABLE)])

    def action_sort_reverse(self) -> None:
        """Flip the sort direction."""
        self.sort_by(self.sort_column, not self.descending)

    # --- marks and compare --------------------------------------------------------------------------------

    def action_mark(self) -> None:
        """Mark or unmark the selected run for comparison, then move down."""
        row = self.selected
        if row is None:
            return
        table = self.query_one(RunTable)
        if row.run_id in self.marked:
            del self.marked[row.run_id]
        else:
            self.marked[row.run_id] = row
        table.update_cell(row.run_id, "name", self._name_cell(row))
        table.action_cursor_down()
        self._set_status()

    def action_compare(self) -> None:
        """Show the marked runs' params and metrics side by side."""
        if len(self.marked) < 2:
            self.notify("Mark two or more sessions with space to compare them.", severity="warning")
            return
        self._load_compare(list(self.marked))

    @work(thread=True, exclusive=True, exit_on_error=False, group="history-compare")
    def _load_compare(self, run_ids: list[str]) -> None:
        self.post_message(self.CompareReady([self.run_query.details(run_id) for run_id in run_ids]))

    @on(CompareReady)
    def _compare_ready(self, message: CompareReady) -> None:
        self.app.push_screen(CompareScreen(message.runs))

    def action_rollups(self) -> None:
        """Cost, tokens, sessions, errors and time per user, repository, branch, issue, day or week, over the
        sessions the filter selects (`widgets.history_rollup`)."""
        from claude_tui.widgets.history_rollup import RollupScreen

        self.app.push_screen(RollupScreen(self.run_query, self.effective_filter(), tz=self.tz))

    # --- replay -------------------------------------------------------------------------------------------

    def action_replay_toggle(self) -> None:
        """Play/pause the selected run's recording (switches to the Replay tab)."""
        self.action_details_tab("replay")
        self.query_one(RunDetailsView).replay.action_play_pause()

    def action_replay_faster(self) -> None:
        """Replay faster."""
        self.query_one(RunDetailsView).replay.action_faster()

    def action_replay_slower(self) -> None:
        """Replay slower."""
        self.query_one(RunDetailsView).replay.action_slower()

    # --- resuming ------------------------------------------------------------------------------------------

    def action_resume_run(self) -> None:
        """Resume the selected session's conversation in a new tracked session, in its work dir."""
        row = self.selected
        if row is None:
            self.notify("No session selected.", severity="warning")
            return
        self._resume(row.run_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="history-resume")
    def _resume(self, run_id: str) -> None:
        from claude_tui.history.resume import ResumeRefused, resume_target

        try:
            target = resume_target(self.run_query.details(run_id))
        except ResumeRefused as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="warning", title="Resume")
            return
        self.post_message(self.ResumeRequested(target))

    def action_resumed_from(self) -> None:
        """Show the run the selected session was resumed from (its conversation's earlier part)."""
        details = self.query_one(RunDetailsView).details
        earlier = (details.tags.get(schema.TAG_RESUMED_FROM_RUN) or "") if details is not None else ""
        if not earlier:
            self.notify("This session was not resumed from a logged one.", severity="warning")
            return
        run_id = earlier.split(",")[-1]
        self.query_one("#history-filter", Input).value = f"attributes.run_id = '{run_id}'"
        self._start_query(f"attributes.run_id = '{run_id}'")

    # --- the MLflow UI --------------------------------------------------------------------------------------

    def action_open_in_mlflow(self) -> None:
        """Open the selected run in the MLflow UI (starting a UI server for this store if none answers)."""
        row = self.selected
        if row is None:
            self.notify("No session selected.", severity="warning")
            return
        self._open_in_mlflow(row.experiment_id, [row.run_id])

    def action_mlflow_compare(self) -> None:
        """Open MLflow's own compare page for the marked runs."""
        if len(self.marked) < 2:
            self.notify("Mark two or more sessions with space to compare them.", severity="warning")
            return
        rows = list(self.marked.values())
        self._open_in_mlflow(rows[0].experiment_id, [row.run_id for row in rows])

    @work(thread=True, exclusive=True, exit_on_error=False, group="history-ui")
    def _open_in_mlflow(self, experiment_id: str, run_ids: list[str]) -> None:
        remote = is_remote(self.tracking_uri)
        if remote:
            base = remote_base(self.tracking_uri)
        else:
            server = self.server_factory(self.tracking_uri)

            def progress(text: str) -> None:
                self.post_message(self.Progress(text))

            state = server.ensure(progress=progress)
            base = state.url
        if len(run_ids) == 1:
            url = run_url(base, experiment_id, run_ids[0])
        else:
            url = compare_url(base, experiment_id, run_ids)
        self.last_url = url
        try:
            # `webbrowser.open` says False when it found no browser (a server, ssh, a bare container).
            opened = self.open_url(url) is True
        except Exception:
            opened = False
        self.app.call_from_thread(self._tell_where, url, opened, remote)

    def _tell_where(self, url: str, opened: bool, remote: bool) -> None:
        """Say what `o` did: the page opened, or no browser and the whole URL to open by hand (copied)."""
        from claude_tui.paths import own_command

        server = [] if remote else [
            f"The MLflow UI server keeps running after claude-tui exits; `{own_command()} ui stop` stops it."
        ]  # fmt: skip
        if opened:
            self._set_status("opened in your browser")
            self.notify("\n".join(["Opened in your browser.", *server]), title="MLflow UI", timeout=10)
            return
        from claude_tui.screens.url_notice import UrlNotice

        self._set_status("no browser found: the URL is on screen and in the clipboard")
        notes = ["Open it in a browser on this machine (copied to the clipboard, OSC 52).", *server]
        self.app.push_screen(UrlNotice("No browser found", url, notes))

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        self._set_status(message.text)

    # --- failures -------------------------------------------------------------------------------------------

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        first = (str(error).strip().splitlines() or [""])[0]
        text = f"{type(error).__name__}: {first}" if not isinstance(error, HistoryError) else first
        if event.worker.group == "history-runs":
            self._loading_more = False
            self._pending = False
            self.query_one(RunTable).loading = False
            self._show_error(text)
        else:
            self.notify(text, severity="error", title="History")


# --- command palette ----------------------------------------------------------------------------------------

PALETTE_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("History: open selected run in MLflow UI", "open_in_mlflow", "Start the UI server if needed (key o)"),
    ("History: compare marked runs", "compare", "Params and metrics side by side (key c)"),
    ("History: MLflow compare page for marked runs", "mlflow_compare", "MLflow's own compare view (key m)"),
    ("History: resume the selected session", "resume_run", "Its conversation in a new session (key r)"),
    ("History: go to the run it was resumed from", "resumed_from", "The earlier part (key b)"),
    ("History: roll-ups", "rollups", "Cost, tokens, errors, time per user, repository, issue, week (key u)"),
    ("History: refresh", "refresh_runs", "Reload the sessions (key ctrl+r)"),
    ("History: details, Overview tab", "details_tab('overview')", "Params, metrics, tags, artifacts (key i)"),
    ("History: details, Transcript tab", "details_tab('transcript')", "The clean transcript (key x)"),
    ("History: details, Replay tab", "details_tab('replay')", "The recording at its own size (key p plays)"),
    ("History: details, Chart tab", "details_tab('chart')", "Tools, commands and errors over time (key g)"),
    ("History: zoom the details", "zoom_details", "The details take the whole tab (key z; escape returns)"),
    ("History: copy the run id", "copy_run_id", "The selected run's MLflow run id, to the clipboard (key y)"),
    ("History: only failed sessions", "quick('failed')", "Toggle the quick filter (key 1)"),
    ("History: only sessions with errors", "quick('errors')", "Toggle the quick filter (key 2)"),
    ("History: only today's sessions", "quick('today')", "Toggle the quick filter (key 3)"),
)
"""(title, HistoryPane action, help) for the command palette."""
