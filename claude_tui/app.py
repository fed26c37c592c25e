"""The claude-tui App: a Session tab holding the session views and a History tab, wired from parts.

ctrl+] in a pane hands the keyboard to the Session tab's keys (`SessionTab.BINDINGS`: `1`-`9`, `n`, `x`, ...)
and the app's (`s`, `h`, `t`): `ctrl+]` then a key is the chord that switches sessions from inside a pane.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.reactive import Reactive
from textual.screen import Screen

from claude_tui.session import SessionConfig, SessionResult, TrackedSession
from claude_tui.terminal.collector import settle_garbage_collector
from claude_tui.terminal.hangup import SignalDoor
from claude_tui.terminal.pty_session import PtySession
from claude_tui.terminal.pump import PtyPump
from claude_tui.tracking.spool_logger import LogSpool, SpoolLogger
from claude_tui.widgets.attached_view import QUIT_DETACHES, open_in_owner, template_config
from claude_tui.widgets.header import WindowHeader
from claude_tui.widgets.history_tab import HistoryTab
from claude_tui.widgets.quiet_driver import quiet_driver
from claude_tui.widgets.session_tab import SessionTab, window_header
from claude_tui.widgets.session_view import SessionView
from claude_tui.widgets.store_check import check_store_after_start
from claude_tui.widgets.tab_switcher import (
    TabBar,
    TabSwitcher,
    fill_in_chrome,
    keys_footer,
    tab_bar,
    window_commands,
)

SessionConfigFactory = Callable[[Path, list[str]], SessionConfig]
"""Builds the config of a session the app opens itself: `(work dir, claude args) -> SessionConfig`."""


class ClaudeTuiApp(App[SessionResult]):
    """Runs tracked sessions (none for `claude-tui history`; `n` opens more) and shows past sessions."""

    CSS_PATH = Path(__file__).parent / "screens" / "app.tcss"
    """Absolute, so that a subclass elsewhere (a test's) finds it too."""
    TITLE = "claude-tui"
    # Textual's title reactives repaint the whole screen on each change (a full render per session switch);
    # only the header shows them, and its title line repaints itself (widgets/header.py).
    title: Reactive[str] = Reactive("", compute=False, repaint=False)
    sub_title: Reactive[str] = Reactive("", compute=False, repaint=False)
    COMMAND_PALETTE_BINDING = "ctrl+backslash"
    """ctrl+p belongs to the program in the pane (shell history, Claude's own keys)."""

    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit (ends the session)", priority=True),
        Binding("t", "focus_terminal", "Terminal"),
        Binding("s", "show_tab('session')", "Session"),
        Binding("h", "show_tab('history')", "History"),
        Binding("b", "toggle_sidebar", "Sidebar"),
    ]
    """ctrl+] inside the pane hands focus to these bindings (and the Session tab's); `t` gives it back. While
    the pane has the keys the footer shows only what works there (`MainScreen`)."""

    END_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
    """What ends the sessions cleanly when `handle_signals` is on (issue 13, item 4)."""

    AFTER_START = 2.0
    """Seconds after start-up (after Claude's first frame) when `widgets.store_check` does its work: nothing
    competes with Claude's start for the CPU. The app never imports mlflow for a session; History does."""

    def __init__(
        self,
        session: TrackedSession | None = None,
        *,
        tracking_uri: str | None = None,
        experiment: str = "claude-sessions",
        initial_tab: str = "session",
        hint: str | Sequence[str] | None = None,
        log_spool: LogSpool | None = None,
        pty: PtySession | None = None,
        handle_signals: bool = False,
        session_config: SessionConfigFactory | None = None,
        attached: Sequence[SessionView] = (),
    ) -> None:
        """`log_spool` stands in for `tracking.logger.log_spool` (tests: a fake store); `pty`: the program
        `commands.run` spawned before the app started; `handle_signals`: SIGTERM and SIGHUP end the sessions
        cleanly (the command line's app); `session_config`: the config of a session History's `r` opens;
        `attached`: the owner's sessions (`claude-tui attach`), instead of `session`."""
        super().__init__()
        self._handle_signals = handle_signals
        self._hung_up = False
        self.session_config = session_config or (
            lambda cwd, args: SessionConfig.from_settings(
                cwd=cwd, claude_args=args, tracking_uri=tracking_uri, experiment=experiment
            )
        )
        self._first_session = session
        self._pty = pty
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.initial_tab = initial_tab if session is not None or attached else "history"
        self.hint = hint
        self.store = SpoolLogger(tracking_uri, experiment, log_spool)
        """Where finished sessions are logged."""
        self.sessions: list[SessionView] = list(attached)
        """The views of the sessions open, in the order they were opened (the Session tab's list)."""
        if attached:  # a window on the owner's sessions: `n` starts them there, ctrl+q detaches
            self._bindings.key_to_bindings["ctrl+q"] = [QUIT_DETACHES]
        self.results: list[SessionResult] = []
        """How every session of the window ended and where it went (set when the app exits)."""
        self.notes: list[str] = []
        """What became of the sessions' worktrees, one line each (set when the app exits)."""

    def get_default_screen(self) -> Screen[Any]:
        from claude_tui.screens.main import MainScreen

        return MainScreen(id="_default")

    def get_driver_class(self) -> type[Any]:
        return quiet_driver(super().get_driver_class())  # on Linux its input thread sleeps until a key

    def compose(self) -> ComposeResult:
        # No session (of its own or the owner's) to wait for: the tab bar and the footer come at once.
        at_once = self._first_session is None and not self.sessions
        yield WindowHeader(first_line=not at_once)
        with TabBar(id="tab-bar"):
            if at_once:
                yield tab_bar(self.initial_tab)
        with TabSwitcher(initial=self.initial_tab, id="tabs"):
            if self._first_session is not None:
                self.sessions.append(self._open_session(self._first_session, self._pty))
            template = template_config(self.sessions)  # what `n` starts from: the first session's config
            template = template or SessionConfig(tracking_uri=self.tracking_uri, experiment=self.experiment)
            opener = open_in_owner if any(view.attached for view in self.sessions) else None
            yield SessionTab(self.sessions, self._open_session, template, id="session", open_in_owner=opener)
            yield HistoryTab(self.tracking_uri, self.experiment, id="history")
        with Container(id="footer-bar"):
            if at_once:
                yield keys_footer()

    def _open_session(self, session: TrackedSession, pty: PtySession | None = None) -> SessionView:
        """A view of `session` (the Session tab adds it to `sessions`); `pty` is its program when it was
        spawned already."""
        pump = PtyPump(pty, recorder=session.recorder) if pty is not None else None
        return SessionView(session, log_session=self.store.log, pump=pump, hint=self.hint)

    @property
    def session_tab(self) -> SessionTab:
        """The Session tab: the session views and the list of them."""
        return self.query_one(SessionTab)

    @property
    def active_tab(self) -> str:
        """The id of the tab shown: `session` or `history`."""
        return self.query_one(TabSwitcher).current or self.initial_tab

    def on_mount(self) -> None:
        self.call_after_refresh(settle_garbage_collector)
        if self._handle_signals:  # through a thread: a loop stuck behind a gone terminal must not matter
            own = lambda: [view.pane.send_signal for view in self.sessions if not view.attached]  # noqa: E731
            SignalDoor.for_app(self, self._end_on_signal, own).install(self.END_SIGNALS)
        if self._first_session is not None:
            self.title, self.sub_title = window_header(self.sessions[0])
            self.sessions[0].pane.focus()
            if self._first_session.spool is not None:
                self.set_timer(self.AFTER_START, partial(check_store_after_start, self, self.store))
        elif not self.sessions:
            self.refresh_bindings()  # the footer came with the first frame: it shows the keys once told
        if self.initial_tab == "history":
            self.query_one(HistoryTab).show_pane()

    # -- sessions ----------------------------------------------------------------------------------------

    @on(SessionView.FilledIn)
    async def _fill_in_chrome(self) -> None:
        """The tab bar and the footer come with the first session's counters (`SessionView.FILL_IN_AFTER`)."""
        await fill_in_chrome(self.screen_stack[0] if self.screen_stack else None)

    @on(SessionView.Retitled)
    @on(SessionView.Updated)
    def _shown_session_changed(self, event: SessionView.Retitled | SessionView.Updated) -> None:
        self.title, self.sub_title = window_header(event.view)  # the Session tab passes only the shown one's

    @on(SessionTab.Shown)
    def _session_shown(self, event: SessionTab.Shown) -> None:
        self.title, self.sub_title = window_header(event.view)
        self.action_show_tab("session")

    @on(SessionTab.AllEnded)
    def _all_ended(self, event: SessionTab.AllEnded) -> None:
        """No session runs any more: exit; the command line prints every result (the last one returned)."""
        self.results, self.notes = event.results, event.notes
        last = event.results[-1] if event.results else SessionResult()
        self.store.close()  # the warm logger logs what it was handed, then exits
        if self._hung_up:
            # The terminal is gone: nothing to restore or print, and Textual's shutdown would wait forever
            # on its writer thread. The sessions are logged (or their spools kept) already.
            os._exit(last.exit_status)
        self.exit(last)

    def _end_on_signal(self, signum: int) -> None:
        """SIGTERM or SIGHUP: pass it on to every session's program; each ends and is logged as when its
        program ends by itself, then the app exits (restoring the terminal) with the summary."""
        self._hung_up = self._hung_up or signum == signal.SIGHUP
        if not self.sessions:
            self.exit(SessionResult())
        for view in [view for view in self.sessions if not view.ending]:
            self.run_worker(view.forward_signal(signum), group="signals")

    async def action_quit(self) -> None:
        """End every session's program gracefully (each is logged), or detach (`SessionTab.quit` asks)."""
        await self.session_tab.quit()

    def on_history_pane_resume_requested(self, message: Any) -> None:
        """`r` in History: the run's conversation goes on in a new tracked session in its work dir, beside
        any session already open."""
        target = message.target
        self.session_tab.resume(partial(self.session_config, target.cwd, ["--resume", target.session_id]))

    # -- navigation --------------------------------------------------------------------------------------

    def action_focus_terminal(self) -> None:
        """Give the keyboard back to the program in the pane."""
        active = self.session_tab.active
        if active is not None:
            self.action_show_tab("session")
            active.pane.focus()

    def action_toggle_sidebar(self) -> None:
        """Fold the session's sidebar into one status line under the pane, or unfold it."""
        active = self.session_tab.active
        if active is not None:
            self.action_show_tab("session")
            active.toggle_sidebar()

    def action_show_tab(self, tab: str) -> None:
        """Switch to the Session or History tab (the tab bar follows once it is there)."""
        self.query_one(TabSwitcher).show(tab)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from window_commands(self, screen)
