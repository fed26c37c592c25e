"""`MainScreen`: the App's first screen; its footer lists the keys that work where the keyboard is."""

from __future__ import annotations

from textual.binding import ActiveBinding
from textual.screen import Screen


class MainScreen(Screen[None]):
    """The App's default screen.

    A widget that takes every key (a terminal pane running a program: its `captures_keys` is true) leaves
    the app's ordinary bindings nothing to act on: their keys are typed into the program. So while such a
    widget has the focus, the footer shows only the bindings that still work: priority bindings (ctrl+q,
    and any prefix key a later feature adds the same way) and the widget's own (ctrl+], which hands the
    keyboard to the app). Once the app has the keyboard, every binding shows again.
    """

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
