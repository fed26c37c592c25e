"""The window's header: Textual's `Header`, whose title line repaints without a layout.

Textual's header sets its title with `Static.update`, which asks for a layout of the whole screen. The title
is one row, 100% wide, whatever its text, so a layout changes nothing; but switching sessions changes the
title, and that layout came a frame after the switch's own: a second arrangement and full render of the
window per switch (issue 16, item 5: switching cost).

In a window with a session the first frame has the header as one widget (`FirstLine`: the icon and the
title drawn as the three widgets draw them); the icon, the title line and the clock's space come with the
counters (`WindowHeader.fill_in`). Each widget in the first frame costs ~1.5-2 ms of CPU while Claude starts
(styles, layout, render); Textual's header is four.
"""

from __future__ import annotations

from textual.app import ComposeResult, RenderResult
from textual.content import Content
from textual.visual import VisualType
from textual.widgets import Header
from textual.widgets._header import HeaderClockSpace, HeaderIcon, HeaderTitle

ICON_COLUMNS = 8
CLOCK_COLUMNS = 10
"""The widths of `HeaderIcon` and `HeaderClockSpace` (Textual's CSS): the title is centered between them."""


class TitleLine(HeaderTitle):
    """The header's title: one row, as wide as the header, so a new title only repaints it."""

    def update(self, content: VisualType = "", *, layout: bool = False) -> None:
        super().update(content, layout=False)


class FirstLine(TitleLine):
    """The whole header row as one widget, for the first frame: the icon where `HeaderIcon` draws it and the
    title centered where `TitleLine` draws it (the header sets it as it sets `TitleLine`'s)."""

    DEFAULT_CSS = """
    FirstLine { content-align: left middle; text-overflow: clip; }
    """

    def render(self) -> RenderResult:
        header = self.parent
        icon = header.icon if isinstance(header, Header) else "⭘"
        title = self.content if isinstance(self.content, Content) else Content(str(self.content))
        middle = max(0, self.size.width - ICON_COLUMNS - CLOCK_COLUMNS)
        return Content.assemble(
            Content(f" {icon}").pad_right(ICON_COLUMNS - 2),
            title.center(middle, ellipsis=True),
            " " * CLOCK_COLUMNS,
        )


class WindowHeader(Header):
    """`Header` (no clock) with a `TitleLine`; with `first_line`, a `FirstLine` until `fill_in`."""

    def __init__(self, *, first_line: bool = False) -> None:
        super().__init__()
        self._first_line = first_line

    def compose(self) -> ComposeResult:
        if self._first_line:
            yield FirstLine()
            return
        yield HeaderIcon().data_bind(Header.icon)
        yield TitleLine()
        yield HeaderClockSpace()

    def fill_in(self) -> None:
        """The icon, the title line and the clock's space in place of the `FirstLine` (composed in the
        header's own context, as its first compose was: the icon binds to the header's `icon`)."""
        if self._first_line:
            self._first_line = False
            self.call_later(self._recompose_with_title)

    async def _recompose_with_title(self) -> None:
        await self.recompose()
        self.query_one(TitleLine).update(self.format_title())
