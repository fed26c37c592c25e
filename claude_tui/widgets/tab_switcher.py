"""`TabSwitcher`: the window's two tabs (Session, History), the tab bar above them, and switching.

With a session, the tab bar and the footer come with its counters (`SessionView.FilledIn`, off Claude's
first frame): `fill_in_chrome` mounts them into the placeholders the first frame reserved. Their modules
(Textual's `Tabs` and `Footer`, `KeysFooter`) are imported then too, not on the way to Claude's first frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.app import SystemCommand
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import ContentSwitcher

from claude_tui.widgets.header import WindowHeader
from claude_tui.widgets.history_tab import HistoryTab

if TYPE_CHECKING:
    from textual.widgets import Tabs

    from claude_tui.widgets.footer import KeysFooter

__all__ = ["TABS", "TabBar", "TabSwitcher", "fill_in_chrome", "keys_footer", "tab_bar"]

TABS = (("session", "Session"), ("history", "History"))
"""The id and the label of each tab."""


def tab_bar(active: str) -> Tabs:
    """The tab bar, `active` selected. Switched by click or `s`/`h`: focus stays with the pane or the
    History table."""
    from textual.widgets import Tab, Tabs

    tabs = Tabs(*(Tab(label, id=f"tab-{name}") for name, label in TABS), active=f"tab-{active}")
    tabs.can_focus = False
    return tabs


async def fill_in_chrome(main: Screen[Any] | None) -> None:
    """Mount the tab bar and the footer into `main`'s placeholders (`#tab-bar`, `#footer-bar`), once, and
    the header's widgets (`WindowHeader.fill_in`)."""
    if main is None or main.query("#tab-bar Tabs") or not main.query("#footer-bar"):
        return  # there already, or the app is closing
    await main.query_one("#tab-bar").mount(tab_bar(main.query_one(TabSwitcher).current or "session"))
    await main.query_one("#footer-bar").mount(keys_footer())
    for header in main.query(WindowHeader).results(WindowHeader):
        header.fill_in()
    main.app.refresh_bindings()  # a footer shows the keys when told that they changed


class TabBar(Container):
    """The tab bar's row (the first frame keeps it; `fill_in_chrome` mounts the `tab_bar` into it): a tab
    clicked shows its tab. (The handler goes by its name: `Tabs` is imported with the tab bar.)"""

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        switcher = self.screen.query_one(TabSwitcher)
        if event.tab.id is not None and event.tab.id.removeprefix("tab-") != switcher.current:
            switcher.show(event.tab.id.removeprefix("tab-"))


def keys_footer() -> KeysFooter:
    """The window's footer (`widgets.footer`, imported when it is first wanted)."""
    from claude_tui.widgets.footer import KeysFooter

    return KeysFooter()


class TabSwitcher(ContentSwitcher):
    """The Session and History tabs, one shown at a time; the tab bar (once there) follows."""

    def show(self, tab: str) -> None:
        """Switch to `tab` (`session` or `history`); the History pane is built on its first view."""
        self.current = tab
        for tabs in self.screen.query("#tab-bar Tabs"):  # by name: `Tabs` is imported with the tab bar
            cast("Tabs", tabs).active = f"tab-{tab}"
        focused, shown = self.app.focused, self.query_one(f"#{tab}")
        if focused is not None and self in focused.ancestors and shown not in focused.ancestors:
            self.app.set_focus(None)  # typing must not go on into a tab that is no longer shown
        if tab == "history":
            self.query_one(HistoryTab).show_pane()


def window_commands(app: Any, screen: Screen[Any]) -> Iterator[SystemCommand]:
    """The command palette's entries of the window `app` (a `ClaudeTuiApp`) beside Textual's own: the tabs,
    the sidebar, the Session tab's and History's."""
    yield SystemCommand("Session tab", "Show the running session", partial(app.action_show_tab, "session"))
    yield SystemCommand("History tab", "Browse past sessions", partial(app.action_show_tab, "history"))
    if app.sessions:
        yield SystemCommand(
            "Sidebar", "Fold or unfold the session's counters (key b)", app.action_toggle_sidebar
        )
    yield from app.session_tab.system_commands()
    for tab in screen.query(HistoryTab).results(HistoryTab):
        yield from tab.system_commands()
