"""`CroppedCompositor`: a change redraws the widgets it shows in; the screen comes out as a full render."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Footer, Header, Static

from claude_tui.screens.main import CroppedCompositor, MainScreen

ROWS = 20


class SidebarApp(App[None]):
    """The main screen's shape: a header, a big widget, a column of one-row widgets beside it, a footer."""

    ENABLE_COMMAND_PALETTE = False

    def get_default_screen(self) -> Screen[None]:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield Static("\n".join(f"pane line {i}" for i in range(30)), id="pane")
            with VerticalScroll(id="column"):
                for i in range(ROWS):
                    yield Static(f"row {i}", id=f"row-{i}")
        yield Footer()

    CSS = """
    #pane { width: 1fr; }
    #column { width: 30; }
    #column Static { height: 1; }
    """


def rendered_by(monkeypatch: pytest.MonkeyPatch, crops: list[Region] | None = None) -> list[Widget]:
    """The widgets whose lines are rendered from now on, in order (and into `crops`, the crop of each)."""
    seen: list[Widget] = []
    render_lines = Widget.render_lines

    def spy(self: Widget, crop):  # type: ignore[no-untyped-def]
        seen.append(self)
        if crops is not None:
            crops.append(crop)
        return render_lines(self, crop)

    monkeypatch.setattr(Widget, "render_lines", spy)
    return seen


def spans_text(update, full: list[Strip]) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Each updated span as the partial update draws it, beside the same cells of a full render."""
    pairs = []
    for y, x1, x2 in update.spans:
        line = update.chops[y]
        ends = update.chop_ends[y]
        drawn = ""
        for end, (x, strip) in zip(ends, line.items(), strict=False):
            if end <= x1 or x >= x2:
                continue
            assert strip is not None, f"no strip for cells {x}-{end} of line {y}, within the update"
            drawn += strip.crop(max(0, x1 - x), min(end, x2) - x).text
        pairs.append((drawn, full[y].crop(x1, x2).text))
    return pairs


async def test_a_one_row_change_renders_only_what_overlaps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    app = SidebarApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        assert isinstance(compositor, CroppedCompositor)
        row = app.query_one("#row-12", Static)
        row.update("row 12 changed")
        crops: list[Region] = []
        seen = rendered_by(monkeypatch, crops)
        compositor.update_widgets({row})
        update = compositor.render_partial_update()
        assert update is not None
        # The row and the containers it sits in; not the pane, the header, the footer or the other rows
        # (Textual's own compositor rendered every widget on the screen for it).
        names = {widget.id or type(widget).__name__ for widget in seen}
        assert "row-12" in names
        assert not names & {"pane", "row-11", "row-13", "Header", "Footer"}, names
        # And of the containers only that row, not their whole height (a frame a second for the clock).
        assert [crop.height for crop in crops] == [1] * len(crops), crops
        # The row covers the whole change: the containers behind it, whose cells there the row's strips
        # replace, are not rendered at all (issue 19, target 2: the clock's frame each second).
        assert names == {"row-12"}, names
        monkeypatch.undo()
        full = compositor.render_strips()
        pairs = spans_text(update, full)
        assert pairs and all(drawn == whole for drawn, whole in pairs), pairs
        assert any("row 12 changed" in drawn for drawn, _ in pairs)


async def test_changes_in_two_places_draw_both_as_a_full_render_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two changes far apart (the pane's top line and a row of the column): the crop spans both, and
    every widget that shows in an updated span is drawn there (none left blank)."""
    app = SidebarApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        pane, row = app.query_one("#pane", Static), app.query_one("#row-3", Static)
        pane.update("pane redrawn\n" * 30)
        row.update("row 3 changed")
        compositor.update_widgets({pane, row})
        update = compositor.render_partial_update()
        assert update is not None
        full = compositor.render_strips()
        pairs = spans_text(update, full)
        assert len(pairs) > ROWS and all(drawn == whole for drawn, whole in pairs), pairs
