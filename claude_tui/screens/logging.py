"""The modal shown while a finished session is written to MLflow."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar


class LoggingScreen(ModalScreen[None]):
    """A progress bar and the current stage ("run", "artifacts", "trace", ...) of logging one session."""

    DEFAULT_CSS = """
    LoggingScreen { align: center middle; }
    LoggingScreen > Vertical {
        width: 64; height: auto; padding: 1 2;
        border: round $primary; background: $panel;
    }
    LoggingScreen #stage { color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Logging the session to MLflow…", id="title")
            yield ProgressBar(total=1.0, show_eta=False, id="progress")
            yield Label("starting", id="stage")

    def set_progress(self, stage: str, fraction: float) -> None:
        """Show `stage` and move the bar to `fraction` (0..1); before the screen is composed (it was pushed a
        moment ago) the next call shows it."""
        for bar in self.query("#progress").results(ProgressBar):
            bar.update(progress=max(0.0, min(1.0, fraction)))
        for label in self.query("#stage").results(Label):
            label.update(stage)
