"""Text keeps its colour when the first frame is drawn before the App is styled (a loaded machine).

Textual composes the App's screen, then styles the App itself (`App { color: $foreground }`). Under load the
screen's first frame can come in between: each widget then caches a transparent text colour (no ancestor had
one yet), and keeps it after the App is styled, so its text is drawn in the background colour (seen once at
load 28: History's details pane blank but for a green "yes"). Here the start is slowed down at that point,
which makes the race happen every time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

from textual import events
from textual.app import App, ComposeResult
from textual.widget import Widget

from claude_tui.app import ClaudeTuiApp
from claude_tui.widgets.history import HistoryPane
from tests.functional.test_history_pane import EXPERIMENT, loaded, store, store_dir  # noqa: F401

SLOW_START = 0.3
"""Seconds the App's start stalls between composing its screen and styling itself."""


class SlowStart:
    """Mixed into an App: stalls where a loaded machine does, so the screen draws a frame meanwhile."""

    async def _dispatch_message(self, message: Any) -> Any:
        if isinstance(message, events.Resize) and not self._is_mounted:  # type: ignore[attr-defined]
            await asyncio.sleep(SLOW_START)
        return await super()._dispatch_message(message)  # type: ignore[misc]


def transparent_text(app: App[Any]) -> list[str]:
    """Widgets whose text colour, as drawn, is transparent (their text shows in the background colour)."""
    return [
        f"{type(widget).__name__}#{widget.id}"
        for widget in app.screen.walk_children(Widget)
        if widget._visual_style is not None and widget.visual_style.foreground.a == 0
    ]


def drawn_in_background(app: App[Any]) -> list[str]:
    """Text of the screenshot drawn in the screen's background colour."""
    svg = app.export_screenshot()
    background = app.screen.styles.background.hex.lower()
    invisible = set(re.findall(rf"\.(terminal-[\w-]+) {{ fill: {background}", svg))
    texts = re.findall(r'class="(terminal-[\w-]+)"[^>]*>([^<]*)</text>', svg)
    return [text for name, text in texts if name in invisible and text.replace("&#160;", "").strip()]


class SlowHistoryApp(SlowStart, App[None]):
    """History's pane in a bare App, as `test_history_pane` hosts it."""

    def compose(self) -> ComposeResult:
        yield HistoryPane(self.uri, EXPERIMENT, tz=dt.UTC)

    def __init__(self, uri: str) -> None:
        super().__init__()
        self.uri = uri


class SlowClaudeTuiApp(SlowStart, ClaudeTuiApp):
    """The App of `claude-tui history`."""


async def test_history_details_keep_their_colour(store: str) -> None:  # noqa: F811
    app = SlowHistoryApp(store)
    async with app.run_test(size=(150, 40)) as pilot:
        await loaded(pilot)
        await pilot.pause()
        assert transparent_text(app) == []
        assert drawn_in_background(app) == []


async def test_history_tab_of_the_app_keeps_its_colour(store: str) -> None:  # noqa: F811
    app = SlowClaudeTuiApp(None, tracking_uri=store, experiment=EXPERIMENT, initial_tab="history")
    async with app.run_test(size=(150, 40)) as pilot:
        await loaded(pilot)
        await pilot.pause()
        assert transparent_text(app) == []
        assert drawn_in_background(app) == []
