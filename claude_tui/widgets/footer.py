"""`KeysFooter`: Textual's footer, rebuilt only when the keys it shows change, not halfway through a chord.

Textual's `Footer` recomposes (a widget per key, each styled) on every `refresh_bindings`: each focus change
and each session state change. A session switch (`ctrl+]` then a number) changed the focus twice, pane to the
Session tab's keys to the other pane, and rebuilt the footer twice to end where it started: the pane's keys.
Here the footer remembers the keys it shows and rebuilds only when they differ; while the keyboard is between
the two keys of a chord (the focused widget says `holds_chord`), it waits `CHORD_SETTLE` seconds for the
second key, so a switch typed at once costs no rebuild at all (`benchmarks/bench_sessions.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer

__all__ = ["KeysFooter"]


class KeysFooter(Footer):
    """The footer of the app's main screen (see the module docstring)."""

    CHORD_SETTLE = 0.3
    """Seconds the footer waits for a chord's second key before it shows the keys the first one opened."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple[object, ...] | None = None
        self._settle: Timer | None = None

    def _keys(self) -> tuple[object, ...]:
        """What the footer would show now."""
        active = self.screen.active_bindings
        keys = tuple(
            (key, item.binding.description, item.enabled, item.tooltip)
            for key, item in active.items()
            if item.binding.show
        )
        return (*keys, self.show_command_palette, self.app.COMMAND_PALETTE_BINDING in active)

    def compose(self) -> Iterator[Widget]:
        if self._bindings_ready:
            self._shown = self._keys()
        yield from super().compose()

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if self._settle is not None:
            self._settle.stop()
            self._settle = None
        if getattr(screen.focused, "holds_chord", False):
            self._settle = self.set_timer(self.CHORD_SETTLE, self._settled)
        else:
            self._settled()

    def _settled(self) -> None:
        self._settle = None
        if self.is_attached and self._keys() != self._shown:
            self.call_after_refresh(self.recompose)
