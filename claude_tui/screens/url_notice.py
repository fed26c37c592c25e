"""`UrlNotice`: a URL to open by hand, shown whole (a toast would cut it) and copied to the clipboard."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class UrlNotice(ModalScreen[None]):
    """A title, the whole URL (folded over lines, never cut) and lines of advice; escape or enter closes it.

    Args:
        title: what happened, e.g. "No browser found".
        url: the URL, shown in full and copied to the clipboard (OSC 52: works over ssh and in tmux with
            `set-clipboard on`).
        notes: lines shown under the URL.
    """

    DEFAULT_CSS = """
    UrlNotice { align: center middle; }
    UrlNotice > Vertical {
        width: 90%; max-width: 110; height: auto; padding: 1 2;
        border: round $warning; background: $panel;
    }
    UrlNotice #notice-title { text-style: bold; }
    UrlNotice #notice-url { margin: 1 0; color: $accent; }
    UrlNotice .note { color: $text-muted; }
    """

    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, title: str, url: str, notes: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.url = url
        self.notes = notes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="notice-title")
            yield Static(Text(self.url, overflow="fold"), id="notice-url")
            for note in self.notes:
                yield Static(Text(note), classes="note")
            yield Static(Text("enter or esc: close", style="dim"))

    def on_mount(self) -> None:
        self.app.copy_to_clipboard(self.url)

    def action_close(self) -> None:
        """Close the notice."""
        self.dismiss(None)
