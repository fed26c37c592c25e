"""The window's header: Textual's `Header`, whose title line repaints without a layout.

Textual's header sets its title with `Static.update`, which asks for a layout of the whole screen. The title
is one row, 100% wide, whatever its text, so a layout changes nothing; but switching sessions changes the
title, and that layout came a frame after the switch's own: a second arrangement and full render of the
window per switch (issue 16, item 5: switching cost).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.visual import VisualType
from textual.widgets import Header
from textual.widgets._header import HeaderClockSpace, HeaderIcon, HeaderTitle


class TitleLine(HeaderTitle):
    """The header's title: one row, as wide as the header, so a new title only repaints it."""

    def update(self, content: VisualType = "", *, layout: bool = False) -> None:
        super().update(content, layout=False)


class WindowHeader(Header):
    """`Header` (no clock) with a `TitleLine`."""

    def compose(self) -> ComposeResult:
        yield HeaderIcon().data_bind(Header.icon)
        yield TitleLine()
        yield HeaderClockSpace()
