"""Whether a widget is displayed: its own `display` and that of every widget above it."""

from __future__ import annotations

from textual.dom import DOMNode
from textual.widget import Widget


def displayed(node: DOMNode) -> bool:
    """Whether `node` and every widget above it are displayed (the session it belongs to is the one shown,
    on the tab shown). True from the moment a widget is shown, before Textual lays it out: `is_on_screen`
    becomes true only after that frame."""
    return all(each.display for each in node.ancestors_with_self if isinstance(each, Widget))
