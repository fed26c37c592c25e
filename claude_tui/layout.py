"""Sizes the Session tab's layout and the first frame agree on (the program is spawned before Textual loads,
at the size its pane will have: `prespawn.pane_size`).

Light: imported by the entry point before Claude's first frame.
"""

from __future__ import annotations

SIDEBAR_COLUMNS = 34
"""The sidebar's width beside the pane."""

FOLD_BELOW_COLUMNS = 110
"""Below this terminal width the sidebar folds into a one-line status under the pane by itself: at 80
columns the full sidebar would take 42 % of the width."""

FOLDED_ROWS = 1
"""Rows of the folded sidebar (its status line; a hint adds its own lines)."""

CHROME_ROWS = 4
"""Header, tab bar (2 rows) and footer."""


def sidebar_folds(columns: int) -> bool:
    """Whether the sidebar folds by itself in a terminal this wide."""
    return columns < FOLD_BELOW_COLUMNS


def pane_size(columns: int, lines: int) -> tuple[int, int]:
    """The terminal pane's columns and rows in a terminal of `columns` x `lines`, before any user toggle."""
    if sidebar_folds(columns):
        return max(20, columns), max(5, lines - CHROME_ROWS - FOLDED_ROWS)
    return max(20, columns - SIDEBAR_COLUMNS), max(5, lines - CHROME_ROWS)
