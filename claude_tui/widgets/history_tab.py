"""`HistoryTab`: the History tab's content, built on first view.

Until the tab is first shown it holds a placeholder: nothing of the History pane (its widgets, the query
layer, MLflow behind it) is imported on the way to Claude's first frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.app import ComposeResult, SystemCommand
from textual.containers import Container
from textual.widgets import Static

__all__ = ["HistoryTab"]


class HistoryTab(Container):
    """The History tab: a placeholder until `show_pane` mounts the `HistoryPane` (once).

    Args:
        tracking_uri: the store to browse (None: the default store).
        experiment: the experiment the sessions are logged to.
    """

    def __init__(self, tracking_uri: str | None, experiment: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tracking_uri = tracking_uri
        self.experiment = experiment

    def compose(self) -> ComposeResult:
        yield Static("Loading history…", id="history-placeholder")

    def show_pane(self) -> None:
        """Mount the History pane in place of the placeholder (the first time only)."""
        placeholders = self.query("#history-placeholder")
        if not placeholders:
            return
        from claude_tui.widgets.history import HistoryPane

        placeholders.remove()
        self.mount(HistoryPane(tracking_uri=self.tracking_uri, experiment=self.experiment, id="history-pane"))

    def system_commands(self) -> Iterator[SystemCommand]:
        """The History pane's entries of the command palette, once it is there."""
        if not self.query("#history-pane"):
            return
        from claude_tui.widgets.history import PALETTE_COMMANDS, HistoryPane

        pane = self.query_one(HistoryPane)
        for title, action, help_text in PALETTE_COMMANDS:
            yield SystemCommand(title, help_text, partial(pane.run_action, action))
