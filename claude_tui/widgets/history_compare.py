"""Params and metrics of two or more runs side by side; rows whose values differ are highlighted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Label

from claude_tui.history.compare import CompareRow, compare_runs
from claude_tui.history.query import RunDetails
from claude_tui.widgets.table_modal import TableModal

DIFF_STYLE = "bold yellow"
"""How a differing value is drawn (the key gets a `≠` marker too, for terminals without colour)."""


class CompareScreen(TableModal):
    """A modal table: one row per param/metric key, one column per run; `d` shows only differences."""

    BINDINGS = [
        Binding("d", "toggle_differences", "Only differences"),
    ]

    def __init__(self, runs: Sequence[RunDetails], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runs = list(runs)
        self.rows: list[CompareRow] = compare_runs(self.runs)
        self.only_differences = False

    def compose(self) -> ComposeResult:
        differing = sum(row.differs for row in self.rows)
        with Vertical():
            yield Label(
                f"Comparing {len(self.runs)} sessions · {differing} differing values",
                id="compare-title",
                classes="title",
            )
            yield Label(
                "≠ marks a difference · d: only differences · esc: close", id="compare-help", classes="help"
            )
            yield DataTable(id="compare-table", zebra_stripes=True, cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("key", key="key")
        for index, label in enumerate(column_labels(self.runs)):
            table.add_column(label, key=f"run-{index}")
        self._fill()
        table.focus()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        section = None
        for row in self.rows:
            if self.only_differences and not row.differs:
                continue
            if row.section != section:
                section = row.section
                table.add_row(Text(section, style="bold underline"), *[""] * len(self.runs))
            style = DIFF_STYLE if row.differs else ""
            key = Text(("≠ " if row.differs else "  ") + row.key, style=style)
            cells = [Text("–", style="dim") if v is None else Text(v, style=style) for v in row.values]
            table.add_row(key, *cells, key=f"{row.section}.{row.key}")

    def action_toggle_differences(self) -> None:
        """Show only the rows that differ, or all rows again."""
        self.only_differences = not self.only_differences
        self._fill()


def column_labels(runs: Sequence[RunDetails]) -> list[str]:
    """`1. name` per run; runs whose (shortened) names are equal are told apart by start time and short id."""
    from collections import Counter

    from claude_tui.widgets.history_details import format_time

    names = [run.row.name if len(run.row.name) <= 24 else run.row.name[:23] + "…" for run in runs]
    seen = Counter(names)
    labels = []
    for index, (run, name) in enumerate(zip(runs, names, strict=True)):
        label = f"{index + 1}. {name}"
        if seen[name] > 1:
            label += f" · {format_time(run.row.start_time, None)[5:]} · {run.row.run_id[:7]}"
        labels.append(label)
    return labels
