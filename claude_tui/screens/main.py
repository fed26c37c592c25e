"""`MainScreen`: the App's first screen; its footer lists the keys that work where the keyboard is."""

from __future__ import annotations

from collections.abc import Iterable

from textual._compositor import Compositor
from textual.binding import ActiveBinding
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip


class CroppedCompositor(Compositor):
    """Textual's compositor, rendering for a partial update only the widgets that show in the update.

    Textual 8's `Compositor._get_renders(crop)` keeps every widget whose *clip* (its container's visible
    area) overlaps the crop, so a one-row change anywhere re-renders every widget on the screen: the
    sidebar's clock, once a second, re-rendered all 31 (pane, header, footer, every counter), a third of an
    idle session's CPU (issue 19, target 2), and each frame of the pane re-rendered the sidebar too. A
    widget whose visible part (region within clip) misses the crop draws nothing inside it: each update's
    spans lie within the crop, and the update writes only the spans. So only widgets that overlap it render,
    and only their rows within the crop: the sidebar's containers are ~40 rows tall, and a one-row change
    rendered all of them, ~210 lines a frame for one (the compositor takes the strips of the crop's rows only;
    the clip handed back is narrowed to those rows, so each strip still lands on its own row). And a widget
    whose part of the crop lies behind a widget in front of it is not rendered at all: the compositor paints
    front to back and keeps the first strip of each cell, so the clock row's containers (the sidebar, the
    session view, the tab's switcher, the screen), which were rendered each second for a row the clock covers,
    no longer are. Whole-screen renders (`crop=None`) are Textual's own.
    """

    def _get_renders(self, crop: Region | None = None) -> Iterable[tuple[Region, Region, list[Strip]]]:
        if not crop:
            yield from super()._get_renders(crop)
            return
        overlaps = crop.overlaps
        intersection = Region.intersection
        crop_top, crop_bottom = crop.y, crop.bottom
        in_front: list[Region] = []
        for widget, (region, clip) in self.visible_widgets.items():  # front to back
            x, y, width, height = visible = intersection(region, clip)
            if not (width and height and overlaps(visible)):
                continue
            shown = intersection(visible, crop)
            if any(front.contains_region(shown) for front in in_front):
                continue  # hidden there by a widget in front of it (the first strip of a cell wins)
            in_front.append(shown)
            top, bottom = max(y, crop_top), min(y + height, crop_bottom)
            rows = Region(clip.x, top, clip.width, bottom - top)
            yield region, rows, widget.render_lines(Region(x - region.x, top - region.y, width, bottom - top))


class MainScreen(Screen[None]):
    """The App's default screen.

    A widget that takes every key (a terminal pane running a program: its `captures_keys` is true) leaves
    the app's ordinary bindings nothing to act on: their keys are typed into the program. So while such a
    widget has the focus, the footer shows only the bindings that still work: priority bindings (ctrl+q,
    and any prefix key a later feature adds the same way) and the widget's own (ctrl+], which hands the
    keyboard to the app). Once the app has the keyboard, every binding shows again.

    Its compositor is a `CroppedCompositor`: a change redraws the widgets it shows in, not every widget.
    """

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._compositor = CroppedCompositor()

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The bindings a key press can reach now (what the footer shows)."""
        bindings = super().active_bindings
        focused = self.focused
        if focused is None or not getattr(focused, "captures_keys", False):
            return bindings
        return {
            key: active
            for key, active in bindings.items()
            if active.binding.priority or active.node is focused
        }
