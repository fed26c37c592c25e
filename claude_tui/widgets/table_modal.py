"""A modal table over History (the compare and roll-up views): a bordered box of 95% x 90% with a bold title
line, muted help and status lines, and a `DataTable` that takes the rest; escape or `q` closes it."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import ModalScreen


class TableModal(ModalScreen[None]):
    """The frame of a modal table. A subclass composes a `Vertical` holding labels with the classes `title`,
    `help` and `status` and a `DataTable`, and adds its own keys."""

    DEFAULT_CSS = """
    TableModal { align: center middle; }
    TableModal > Vertical {
        width: 95%; height: 90%; border: thick $accent; background: $surface; padding: 0 1;
    }
    TableModal .title { height: 1; text-style: bold; }
    TableModal .help { height: 1; color: $text-muted; }
    TableModal .status { height: 1; color: $text-muted; }
    TableModal DataTable { height: 1fr; }
    """

    BINDINGS = [Binding("escape,q", "dismiss_screen", "Close")]

    def action_dismiss_screen(self) -> None:
        """Close the table."""
        self.dismiss(None)
