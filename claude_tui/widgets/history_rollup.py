"""History's roll-up view: cost, tokens, sessions, errors and time per user, repository, branch, issue, day or
week, over the sessions History's filter selects (the store does the filtering; `history.rollup` the sums)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Label

from claude_tui.formatting import format_cost, format_count, format_duration
from claude_tui.history.query import HistoryError, RunQuery
from claude_tui.history.rollup import GROUP_KEYS, RollupRow, rollup
from claude_tui.tracking import schema
from claude_tui.widgets.table_modal import TableModal

DEFAULT_KEYS = ("user", "week")
KEY_LETTERS = {"u": "user", "r": "repository", "b": "branch", "i": "issue", "d": "day", "w": "week"}
"""The letter that adds or removes each grouping key."""
FIGURES = (
    ("sessions", "sessions"),
    ("failed", "failed"),
    ("errors", "errors"),
    ("tokens", "tokens"),
    ("cost", "cost"),
    ("time", "time"),
    ("active", "active"),
)


class RollupScreen(TableModal):
    """A modal table of roll-ups; letters change the grouping, each change is one pass over the sessions.

    Args:
        query: the store and experiment (History's `RunQuery`).
        filter_string: History's filter (its text and quick filters), applied by the store.
        keys: the grouping to start with.
        tz: the time zone of days and weeks (None: local time).
    """

    BINDINGS = [
        *(Binding(letter, f"toggle_key('{key}')", key.capitalize()) for letter, key in KEY_LETTERS.items()),
    ]

    @dataclass
    class Progress(Message):
        """Sessions read so far by the pass with this generation."""

        generation: int
        count: int

    @dataclass
    class Ready(Message):
        """The roll-up rows of the pass with this generation (or its one-line error)."""

        generation: int
        keys: tuple[str, ...]
        rows: list[RollupRow]
        error: str | None = None

    def __init__(
        self,
        query: RunQuery,
        filter_string: str = "",
        *,
        keys: tuple[str, ...] = DEFAULT_KEYS,
        tz: dt.tzinfo | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.run_query = query
        self.filter_string = filter_string
        self.keys = tuple(keys)
        self.tz = tz
        self.rows: list[RollupRow] = []
        """The rows shown (biggest cost first)."""
        self.loaded = False
        """True once the rows of the current grouping are shown (tests wait on it)."""
        self._generation = 0

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("", id="rollup-title", classes="title")
            letters = " ".join(f"{letter}:{key}" for letter, key in KEY_LETTERS.items())
            yield Label(f"group by {letters} · esc: close", id="rollup-help", classes="help")
            yield DataTable(id="rollup-table", zebra_stripes=True, cursor_type="row")
            yield Label("", id="rollup-status", classes="status")

    def on_mount(self) -> None:
        self._start()

    def action_toggle_key(self, key: str) -> None:
        """Add `key` to the grouping, or take it out (at least one key stays)."""
        if key in self.keys:
            if len(self.keys) == 1:
                return
            self.keys = tuple(k for k in self.keys if k != key)
        else:
            self.keys = tuple(k for k in GROUP_KEYS if k in {*self.keys, key})
        self._start()

    def _start(self) -> None:
        self._generation += 1
        self.loaded = False
        by = ", ".join(self.keys)
        where = f" · {self.filter_string}" if self.filter_string else ""
        self.query_one("#rollup-title", Label).update(Text(f"Roll-ups by {by}{where}"))
        self.query_one("#rollup-status", Label).update("reading sessions…")
        self.query_one(DataTable).loading = True
        self._load(self._generation, self.keys)

    @work(thread=True, exclusive=True, exit_on_error=False, group="history-rollup")
    def _load(self, generation: int, keys: tuple[str, ...]) -> None:
        def progress(count: int) -> None:
            self.post_message(self.Progress(generation, count))

        try:
            runs = self.run_query.iter_runs(self.filter_string)
            rows = rollup(runs, keys, tz=self.tz, progress=progress)
        except HistoryError as exc:
            self.post_message(self.Ready(generation, keys, [], str(exc)))
            return
        self.post_message(self.Ready(generation, keys, rows))

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        if message.generation == self._generation:
            self.query_one("#rollup-status", Label).update(f"reading sessions… {message.count:,}")

    @on(Ready)
    def _ready(self, message: Ready) -> None:
        if message.generation != self._generation:
            return  # an older grouping's answer
        table = self.query_one(DataTable)
        table.loading = False
        table.clear(columns=True)
        status = self.query_one("#rollup-status", Label)
        if message.error is not None:
            status.update(Text(message.error, style="red"))
            return
        for key in message.keys:
            table.add_column(key, key=key)
        for label, key in FIGURES:
            table.add_column(Text(label, justify="right"), key=key)
        self.rows = message.rows
        for row in self.rows:
            table.add_row(*row.group, *_figures(row))
        sessions = sum(row.sessions for row in self.rows)
        cost = sum(row.sums[schema.COST_USD] for row in self.rows)
        status.update(f"{len(self.rows):,} groups · {sessions:,} sessions · {format_cost(cost)} in all")
        self.loaded = True


def _figures(row: RollupRow) -> list[Text]:
    errors = row.sums["errors"]
    failed = Text(format_count(row.failed), style="red" if row.failed else "", justify="right")
    errors_cell = Text(format_count(errors), style="red" if errors else "", justify="right")
    return [
        Text(format_count(row.sessions), justify="right"),
        failed,
        errors_cell,
        Text(format_count(row.tokens), justify="right"),
        Text(format_cost(row.sums[schema.COST_USD]), justify="right"),
        Text(format_duration(row.sums[schema.DURATION_SECONDS]), justify="right"),
        Text(format_duration(row.sums[schema.ACTIVE_SECONDS]), justify="right"),
    ]
