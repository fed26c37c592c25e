"""`MainScreen`: the App's first screen; its footer lists the keys that work where the keyboard is."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from textual import _time
from textual._compositor import Compositor
from textual.binding import ActiveBinding
from textual.geometry import Region
from textual.screen import UPDATE_PERIOD, Screen
from textual.strip import Strip
from textual.timer import EventTargetGone, Timer


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


class UpdateBudget:
    """A token bucket for screen updates: a token every `interval` seconds, `burst` at most; an update takes
    one. Pure (the clock is the caller's)."""

    def __init__(self, interval: float, burst: float, now: float) -> None:
        self.interval = interval
        self.burst = burst
        self._tokens = burst
        self._filled_at = now

    def take(self, now: float) -> float:
        """0 when an update may go now (it is counted), else the seconds until one may."""
        self._tokens = min(self.burst, self._tokens + (now - self._filled_at) / self.interval)
        self._filled_at = now
        wait = (1.0 - self._tokens) * self.interval
        if wait < 1e-6:  # a token is there (within a rounding error of the float sums)
            self._tokens = max(0.0, self._tokens - 1.0)
            return 0.0
        return wait

    def refill(self) -> None:
        """Full again (the timer was reset)."""
        self._tokens = self.burst


class FrameTimer(Timer):
    """The screen's update timer: 60 updates a second at most on average, and a change after a quiet spell,
    or after one update alone, drawn at once.

    Textual's timer keeps a grid of ticks (`start + n * interval`); the screen pauses it after each update
    and resumes it on the next change. After a pause its catch-up (Textual #5464) puts the next tick at
    least a whole interval past the first tick after the pause: a change up to 27 ms after an update that
    followed a quiet spell waited for it, and so did one within 16.7 ms of any other update (the sidebar's
    clock, each second). A keystroke's echo through the owner waited up to 16.7 ms more for that tick
    (`benchmarks/bench_owner.py` echo: that wait's p90 7 ms, p99 11 ms, of a 3 ms p50 in all). This timer
    ticks when its `UpdateBudget` allows, at once when a token is there, else when the next one comes.
    """

    BURST = 2.0
    """Updates that may follow one another at once (then one per interval)."""

    def _now(self) -> float:
        return _time.get_time()

    async def _run(self) -> None:
        budget = UpdateBudget(self._interval, self.BURST, self._now())
        count = 0
        while self._repeat is None or count < self._repeat:
            await self._active.wait()
            if self._reset:
                self._reset = False
                budget.refill()
            wait = budget.take(self._now())
            if wait > 0:
                await asyncio.sleep(wait)
                continue  # paused meanwhile (a layout drew the screen): wait for the next resume
            count += 1
            try:
                await self._tick(next_timer=self._now(), count=count)
            except EventTargetGone:
                break


class MainScreen(Screen[None]):
    """The App's default screen.

    A widget that takes every key (a terminal pane running a program: its `captures_keys` is true) leaves
    the app's ordinary bindings nothing to act on: their keys are typed into the program. So while such a
    widget has the focus, the footer shows only the bindings that still work: priority bindings (ctrl+q,
    and any prefix key a later feature adds the same way) and the widget's own (ctrl+], which hands the
    keyboard to the app). Once the app has the keyboard, every binding shows again.

    Its compositor is a `CroppedCompositor`: a change redraws the widgets it shows in, not every widget; its
    update timer a `FrameTimer`: a change after a quiet spell is drawn at once.
    """

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._compositor = CroppedCompositor()
        self._frame_timer: FrameTimer | None = None

    @property
    def _update_timer(self) -> Timer:
        """The timer of the screen's updates: a `FrameTimer` (Textual's, `Screen._update_timer`, is created
        the same way: paused, started on first use)."""
        timer = self._frame_timer
        if timer is None:
            timer = FrameTimer(
                self, UPDATE_PERIOD, name="screen_update", callback=self._on_timer_update, pause=True
            )
            timer._start()
            self._timers.add(timer)
            self._frame_timer = timer
        return timer

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
