"""The `claude-tui replay` player: a recording played into a viewer `TerminalPane` at a chosen speed."""

from __future__ import annotations

import math
import time
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer
from textual.widgets import Footer, Static

from claude_tui.terminal.cast import Cast, CastEvent, resize_size
from claude_tui.widgets.terminal import ReplayPane, TerminalPane

SPEEDS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, math.inf)
"""Playback speeds the +/- keys step through; ``inf`` is "instant"."""


def speed_label(speed: float) -> str:
    """``1x`` ... ``16x`` or ``instant``."""
    return "instant" if math.isinf(speed) else f"{speed:g}x"


class ReplayApp(App[None]):
    """Plays ``cast`` into a terminal pane of the recording's size (``cols``/``rows`` override it).

    Args:
        cast: the parsed recording.
        cols: pane width (default: the recording's).
        rows: pane height (default: the recording's).
        speed: initial speed, one of :data:`SPEEDS`.
        autoplay: start playing at once.
    """

    TITLE = "claude-tui replay"
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    #screen-box { height: 1fr; }
    #status { height: 1; background: $panel; color: $text; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_play", "Play/pause"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
        Binding("i", "instant", "Instant"),
        Binding("r", "restart", "Restart"),
        Binding("q", "quit", "Quit"),
    ]

    TICK: ClassVar[float] = 1 / 60
    """Seconds between playback steps."""
    SLICE: ClassVar[int] = 16384
    """Characters per fed piece of a big output event."""
    FEED_BUDGET: ClassVar[float] = 0.008
    """Seconds of feeding per step at high speed, so the UI never stalls on a big recording."""

    def __init__(
        self,
        cast: Cast,
        *,
        cols: int | None = None,
        rows: int | None = None,
        speed: float = 1.0,
        autoplay: bool = True,
    ) -> None:
        super().__init__()
        self.cast = cast
        self.fixed_size = cols is not None or rows is not None
        self.cols = cols or cast.width
        self.rows = rows or cast.height
        # Big output events (a raw file is one event) are cut so one tick never feeds more than a slice.
        self.events = [
            CastEvent(event.time, event.code, event.data[i : i + self.SLICE])
            for event in cast.output()
            for i in range(0, max(len(event.data), 1), self.SLICE)
        ]
        self.speed = speed if speed in SPEEDS else 1.0
        self.playing = autoplay
        self.position = 0.0
        """Seconds of the recording played so far."""
        self.next_event = 0
        """Index of the next event to play."""
        self._last_tick = time.monotonic()
        self._status_text = ""

    @property
    def finished(self) -> bool:
        """True once every event has been played."""
        return self.next_event >= len(self.events)

    def compose(self) -> ComposeResult:
        with ScrollableContainer(id="screen-box"):
            yield ReplayPane(id="pane")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        pane = self.query_one(TerminalPane)
        self._set_pane_size(self.cols, self.rows)
        pane.focus()
        self._last_tick = time.monotonic()
        self.set_interval(self.TICK, self._tick)
        self._show_status()

    def _set_pane_size(self, cols: int, rows: int) -> None:
        self.query_one(ReplayPane).set_screen_size(cols, rows)

    # -- playback --------------------------------------------------------------------------------------------

    def _tick(self) -> None:
        now = time.monotonic()
        elapsed, self._last_tick = now - self._last_tick, now
        if not self.playing or self.finished:
            return
        self.position = math.inf if math.isinf(self.speed) else self.position + elapsed * self.speed
        pane = self.query_one(TerminalPane)
        deadline = time.perf_counter() + self.FEED_BUDGET
        events = self.events
        while self.next_event < len(events) and events[self.next_event].time <= self.position:
            event = events[self.next_event]
            self.next_event += 1
            if event.code == "o":
                pane.feed(event.data.encode("utf-8", errors="replace"))
            elif event.code == "r" and not self.fixed_size and (size := resize_size(event.data)) is not None:
                self._set_pane_size(*size)
            if time.perf_counter() > deadline:
                break
        if self.finished:
            self.position = self.cast.duration
            self.playing = False
        self._show_status()

    def _show_status(self) -> None:
        state = "■ finished" if self.finished else "▶ playing" if self.playing else "❚❚ paused"
        position = min(self.position, self.cast.duration)
        text = (
            f"{state}  {speed_label(self.speed)}  {position:.1f}s / {self.cast.duration:.1f}s"
            f"  ({self.next_event}/{len(self.events)} events)"
        )
        if text != self._status_text:  # a repaint only when something visible changed
            self._status_text = text
            self.query_one("#status", Static).update(text)

    # -- actions -------------------------------------------------------------------------------------------

    def action_toggle_play(self) -> None:
        """Pause, or play from where it stopped (from the start once finished)."""
        if self.finished:
            self.action_restart()
            return
        self.playing = not self.playing
        self._last_tick = time.monotonic()
        self._show_status()

    def action_faster(self) -> None:
        """Next speed up (1x, 2x, ... 16x, instant)."""
        index = SPEEDS.index(self.speed)
        self.speed = SPEEDS[min(index + 1, len(SPEEDS) - 1)]
        self._show_status()

    def action_slower(self) -> None:
        """Next speed down."""
        index = SPEEDS.index(self.speed)
        self.speed = SPEEDS[max(index - 1, 0)]
        if math.isinf(self.position):
            self.position = self.events[self.next_event - 1].time if self.next_event else 0.0
        self._show_status()

    def action_instant(self) -> None:
        """Jump to the end."""
        self.speed = math.inf
        self.playing = True
        self._show_status()

    def action_restart(self) -> None:
        """Clear the screen and play from the start."""
        pane = self.query_one(TerminalPane)
        pane.emulator.reset()
        pane.feed(b"\x1b[2J\x1b[H")
        if not self.fixed_size:
            self._set_pane_size(self.cast.width, self.cast.height)
        self.next_event = 0
        self.position = 0.0
        if math.isinf(self.speed):
            self.speed = 1.0
        self.playing = True
        self._last_tick = time.monotonic()
        self._show_status()
