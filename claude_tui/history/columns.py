"""How the History tab shares its width: which table columns fit, and how wide the details pane is. Pure.

At 80 columns the table used to show only the start time and the name, with the details pane at a fixed 43
columns; at 200 the details stayed 43 wide and names were cut at 18 characters. Now the table's columns are
chosen by priority to fit what the table gets, the name takes what is left (up to the longest name), and the
details pane gets what the table does not need, within bounds; the user can move the split.
"""

from __future__ import annotations

from dataclasses import dataclass

CELL_PADDING = 2
"""A DataTable column's padding (one cell each side)."""


@dataclass(frozen=True)
class Column:
    """A History table column: its id (a sort key), header, width, and rank (1 = shown first)."""

    id: str
    header: str
    width: int
    priority: int


COLUMNS: tuple[Column, ...] = (
    Column("start", "start", 16, 2),
    Column("name", "name", 18, 1),
    Column("duration", "length", 6, 5),
    Column("commands", "cmds", 4, 7),
    Column("tools", "tools", 5, 6),
    Column("errors", "errs", 4, 4),
    Column("ok", "ok", 2, 3),
    Column("procedure", "procedure/issue", 16, 10),
    Column("tokens", "tokens", 6, 9),
    Column("cost", "cost", 6, 8),
)
"""In display order; `width` is the least a column needs (the name's is its minimum, it grows)."""

SHORT_START = 11
"""`11-27 06:20`: the start column without the year, when the table is narrow."""
NAME_MAX = 100
"""The name column never grows past this (a very long first prompt)."""
DETAILS_MIN = 30
DETAILS_MAX_SHARE = 0.6
"""The details pane gets at least this many columns, and at most this share of the width."""
DETAILS_WIDE = 43
"""...and at least this many once the screen is wide enough for the table's columns beside it."""


def full_width(columns: tuple[Column, ...] = COLUMNS) -> int:
    """Cells every column takes at its least width (padding included)."""
    return sum(column.width + CELL_PADDING for column in columns)


@dataclass(frozen=True)
class HistoryLayout:
    """The table's columns (id, header, width) in display order, the start column's form, the details'
    width."""

    columns: tuple[tuple[str, str, int], ...]
    short_start: bool
    details_width: int


def split(total: int, longest_name: int, details: int | None = None) -> HistoryLayout:
    """Share `total` columns between the table and the details pane (`details`: the user's width for it).

    Without a user choice the table gets what all its columns and the longest name need, the details the rest
    (at least `DETAILS_WIDE` when that leaves room for every column, at least `DETAILS_MIN` otherwise, never
    more than `DETAILS_MAX_SHARE`); then `fit` picks the columns for the table's share.
    """
    divider = 1
    name_need = max(COLUMNS[1].width, min(longest_name, NAME_MAX))
    table_need = full_width() - COLUMNS[1].width + name_need
    if details is None:
        if total - divider - full_width() >= DETAILS_WIDE:
            details = max(DETAILS_WIDE, total - divider - table_need)
        else:
            details = max(DETAILS_MIN, round(total * 0.35))
    details = max(DETAILS_MIN, min(details, int(total * DETAILS_MAX_SHARE)))
    columns, short = fit(total - divider - details, name_need)
    return HistoryLayout(columns, short, details)


def fit(width: int, name_need: int) -> tuple[tuple[tuple[str, str, int], ...], bool]:
    """The columns that fit in `width` cells, by priority, in display order; the name takes what is left."""
    short = width < full_width()
    least = {c.id: (SHORT_START if short and c.id == "start" else c.width) for c in COLUMNS}
    least["name"] = min(least["name"], max(8, width - least["start"] - 2 * CELL_PADDING))
    chosen: set[str] = set()
    used = 0
    for column in sorted(COLUMNS, key=lambda c: c.priority):
        cost = least[column.id] + CELL_PADDING
        if used + cost <= width or not chosen:
            chosen.add(column.id)
            used += cost
    name = least["name"] + max(0, min(name_need - least["name"], width - used))
    return (
        tuple((c.id, c.header, name if c.id == "name" else least[c.id]) for c in COLUMNS if c.id in chosen),
        short,
    )
