"""The History pane's palette commands (`widgets.history.PALETTE_COMMANDS`) as a Textual command provider
and as system commands, for the small test apps that mount a `HistoryPane` alone (the real App lists the same
commands in `ClaudeTuiApp.get_system_commands`)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from textual.app import App, SystemCommand
from textual.command import DiscoveryHit, Hit, Hits, Provider

from claude_tui.widgets.history import PALETTE_COMMANDS, HistoryPane


def _pane_of(app: App[Any]) -> HistoryPane | None:
    panes = app.query(HistoryPane)
    return panes.first() if panes else None


def history_system_commands(app: App[Any]) -> Iterable[SystemCommand]:
    """SystemCommands for `App.get_system_commands` (only while a HistoryPane is mounted).

    Usage in the App: `yield from history_system_commands(self)`.
    """
    pane = _pane_of(app)
    if pane is None:
        return
    for title, action, help_text in PALETTE_COMMANDS:
        yield SystemCommand(title, help_text, partial(pane.run_action, action))


class HistoryCommands(Provider):
    """A command palette provider with the History actions (register via `App.COMMANDS`)."""

    async def discover(self) -> Hits:
        """All History commands when the palette opens."""
        pane = _pane_of(self.app)
        if pane is None:
            return
        for title, action, help_text in PALETTE_COMMANDS:
            yield DiscoveryHit(title, partial(pane.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        """History commands matching `query`."""
        pane = _pane_of(self.app)
        if pane is None:
            return
        matcher = self.matcher(query)
        for title, action, help_text in PALETTE_COMMANDS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(pane.run_action, action), help=help_text)
