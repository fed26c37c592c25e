"""The claude-tui App: a Session tab holding the session views and a History tab, wired from parts.

ctrl+] in a pane hands the keyboard to the Session tab's keys (`SessionTab.BINDINGS`: `1`-`9`, `n`, `x`, ...)
and the app's (`s`, `h`, `t`): `ctrl+]` then a key is the chord that switches sessions from inside a pane.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Header, Static, Tab, Tabs

from claude_tui.session import SessionConfig, SessionResult, TrackedSession
from claude_tui.terminal.pty_session import PtySession
from claude_tui.terminal.pump import PtyPump
from claude_tui.tracking.spool_logger import LogSpool, SpoolLogger
from claude_tui.widgets.session_tab import SessionTab
from claude_tui.widgets.session_view import SessionView

SessionConfigFactory = Callable[[Path, list[str]], SessionConfig]
"""Builds the config of a session the app opens itself: `(work dir, claude args) -> SessionConfig`."""


def settle_garbage_collector() -> None:
    """After the first frame: freeze what start-up made, and collect again (`run_session` paused it).

    Objects alive after start-up (modules, widgets, CSS) live as long as the app: frozen, they stay out of
    every later full collection, which otherwise stalls the pane under heavy output
    (`benchmarks/bench_pane.py` measures the pane with and without this).
    """
    gc.freeze()
    gc.enable()


class ClaudeTuiApp(App[SessionResult]):
    """Runs tracked sessions (none for `claude-tui history`; `n` opens more) and shows past sessions."""

    CSS_PATH = Path(__file__).parent / "screens" / "app.tcss"
    """Absolute, so that a subclass elsewhere (a test's) finds it too."""
    TITLE = "claude-tui"
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

    TABS = (("session", "Session"), ("history", "History"))
    """The id and the label of each tab."""

    AFTER_START = 2.0
    """Seconds after start-up (after Claude's first frame) when sessions not logged yet are looked for (and
    logged by a detached `sync`), and a tracking server is asked whether it answers: nothing competes with
    Claude's start for the CPU. The app itself never imports mlflow for a session (a logger process logs it);
    only the History tab does."""

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
    ) -> None:
        """`log_spool` stands in for `tracking.logger.log_spool` (tests pass a fake store); `pty` is the
        session's program when `commands.run` spawned it before the app started; `handle_signals`: SIGTERM
        and SIGHUP end the sessions cleanly (the command line's app; not one inside a test's process);
        `session_config` builds the config of a session opened from History (`r`: its work dir, `--resume
        ID`)."""
        super().__init__()
        self._handle_signals = handle_signals
        self._hung_up = False
        self.session_config = session_config or self._session_config
        self._first_session = session
        self._pty = pty
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.initial_tab = initial_tab if session is not None else "history"
        self.hint = hint
        self.store = SpoolLogger(tracking_uri, experiment, log_spool)
        """Where finished sessions are logged."""
        self.sessions: list[SessionView] = []
        """The views of the sessions open, in the order they were opened (the Session tab's list)."""
        self.results: list[SessionResult] = []
        """How every session of the window ended and where it went (set when the app exits)."""
        self.notes: list[str] = []
        """What became of the sessions' worktrees, one line each (set when the app exits)."""

    def get_default_screen(self) -> Screen[Any]:
        from claude_tui.screens.main import MainScreen

        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        # Without a session nothing is waited for: the tab bar and the footer come at once.
        at_once = self._first_session is None
        yield Header()
        with Container(id="tab-bar"):
            if at_once:
                yield self._tabs(self.initial_tab)
        with ContentSwitcher(initial=self.initial_tab, id="tabs"):
            if self._first_session is not None:
                self.sessions.append(self._open_session(self._first_session, self._pty))
            template = self._first_session.config if self._first_session is not None else None
            yield SessionTab(self.sessions, self._open_session, template or self._new_config(), id="session")
            with Container(id="history"):
                yield Static("Loading history…", id="history-placeholder")
        with Container(id="footer-bar"):
            if at_once:
                yield Footer()

    def _open_session(self, session: TrackedSession, pty: PtySession | None = None) -> SessionView:
        """A view of `session` (the Session tab adds it to `sessions`); `pty` is its program when it was
        spawned already."""
        pump = PtyPump(pty, recorder=session.recorder) if pty is not None else None
        return SessionView(session, log_session=self.store.log, pump=pump, hint=self.hint)

    def _new_config(self) -> SessionConfig:
        """What a session opened in a window without one starts from: this app's store."""
        return SessionConfig(tracking_uri=self.tracking_uri, experiment=self.experiment)

    @property
    def session_tab(self) -> SessionTab:
        """The Session tab: the session views and the list of them."""
        return self.query_one(SessionTab)

    def _tabs(self, active: str) -> Tabs:
        tabs = Tabs(*(Tab(label, id=f"tab-{name}") for name, label in self.TABS), active=f"tab-{active}")
        tabs.can_focus = False  # switched by click or `s`/`h`: focus stays with the pane or the History table
        return tabs

    @property
    def active_tab(self) -> str:
        """The id of the tab shown: `session` or `history`."""
        return self.query_one("#tabs", ContentSwitcher).current or self.initial_tab

    def on_mount(self) -> None:
        self.call_after_refresh(settle_garbage_collector)
        if self._handle_signals:
            loop = asyncio.get_running_loop()
            for signum in self.END_SIGNALS:
                loop.add_signal_handler(signum, self._end_on_signal, signum)
        if self._first_session is not None:
            session = self._first_session
            branch = session.git_start.get("branch")
            self._show_title(self.sessions[0])
            self.sub_title = f"{session.config.cwd}" + (f" ({branch})" if branch else "")
            self.sessions[0].pane.focus()
            if session.spool is not None:
                self.set_timer(self.AFTER_START, self._after_start)
        else:
            self.refresh_bindings()  # the footer came with the first frame: it shows the keys once told
        if self.initial_tab == "history":
            self._mount_history()

    # -- sessions ----------------------------------------------------------------------------------------

    @on(SessionView.FilledIn)
    async def _fill_in_chrome(self) -> None:
        """The tab bar and the footer come with the first session's counters (`SessionView.FILL_IN_AFTER`)."""
        main = self.screen_stack[0] if self.screen_stack else None
        if main is None or main.query("#tab-bar Tabs") or not main.query("#footer-bar"):
            return  # there already, or the app is closing
        active = main.query_one("#tabs", ContentSwitcher).current or self.initial_tab
        await main.query_one("#tab-bar").mount(self._tabs(active))
        await main.query_one("#footer-bar").mount(Footer())
        self.refresh_bindings()  # a footer shows the keys when told that they changed

    @on(SessionView.Retitled)
    @on(SessionView.Updated)
    def _shown_session_changed(self, event: SessionView.Retitled | SessionView.Updated) -> None:
        self._show_title(event.view)  # the Session tab passes on only the shown session's

    def _show_title(self, view: SessionView) -> None:
        """The header: the shown session's name and what it is doing (`waiting for you` stands out there)."""
        from claude_tui.snapshot import STATE_LABELS

        title = view.snapshot.title if view.snapshot else view.session.title
        state = STATE_LABELS.get(view.state, view.state) if view.state != "starting" else ""
        self.title = " · ".join(part for part in ("claude-tui", title, state) if part)

    @on(SessionTab.Shown)
    def _session_shown(self, event: SessionTab.Shown) -> None:
        session = event.view.session
        branch = (
            session.config.worktree.branch if session.config.worktree else session.git_start.get("branch")
        )
        self._show_title(event.view)
        self.sub_title = f"{session.config.cwd}" + (f" ({branch})" if branch else "")
        self.action_show_tab("session")

    @on(SessionTab.AllEnded)
    def _all_ended(self, event: SessionTab.AllEnded) -> None:
        """No session runs any more: exit; the command line prints every result (the last one returned)."""
        self.results, self.notes = event.results, event.notes
        last = event.results[-1] if event.results else SessionResult()
        if self._hung_up:
            # The terminal is gone: nothing to restore or print, and Textual's shutdown would wait forever
            # on its writer thread. The sessions are logged (or their spools kept) already.
            os._exit(last.exit_status)
        self.exit(last)

    def _after_start(self) -> None:
        """Log every session not logged yet (killed ones, and those a store did not take): a detached
        `sync`, only if there are any; ask a tracking server whether it answers."""
        from claude_tui.tracking import recovery

        recovery.log_pending_in_background()
        if (self.tracking_uri or "").startswith(("http://", "https://")):
            self._check_server()

    @work(thread=True, exclusive=True, group="store-check", exit_on_error=False)
    def _check_server(self) -> None:
        """A server that does not answer only warns (in the header): it may be back before the session ends,
        and if not, the session is kept and logged by a later start or `claude-tui sync`."""
        from claude_tui.tracking.reach import store_reachable

        reachable = store_reachable(self.tracking_uri)
        if not reachable:
            self.call_from_thread(self._warn_store, reachable.reason)

    def _warn_store(self, reason: str) -> None:
        self.sub_title = f"{self.sub_title} · tracking store not answering"
        self.notify(
            f"{reason}. The session is recorded; it is logged when the store answers.",
            title="Tracking store",
            severity="warning",
            timeout=10,
        )

    def _end_on_signal(self, signum: int) -> None:
        """SIGTERM or SIGHUP: pass it on to every session's program; each ends and is logged as when its
        program ends by itself, then the app exits (restoring the terminal) with the summary."""
        self._hung_up = self._hung_up or signum == signal.SIGHUP
        if not self.sessions:
            self.exit(SessionResult())
        for view in [view for view in self.sessions if not view.ending]:
            self.run_worker(view.forward_signal(signum), group="signals")

    async def action_quit(self) -> None:
        """End every session's program gracefully; each is logged, then the app exits."""
        running = [view for view in self.sessions if not view.ending]
        if not running and all(view.result is not None for view in self.sessions):
            self.exit(SessionResult())
        await asyncio.gather(*(view.end_program() for view in running))

    def _session_config(self, cwd: Path, claude_args: list[str]) -> SessionConfig:
        """A session in `cwd` with `claude_args`, to this app's store, as the person's settings say."""
        return SessionConfig.from_settings(
            cwd=cwd, claude_args=claude_args, tracking_uri=self.tracking_uri, experiment=self.experiment
        )

    async def on_history_pane_resume_requested(self, message: Any) -> None:
        """`r` in History: the run's conversation goes on in a new tracked session in its work dir, beside
        any session already open."""
        from claude_tui.config import ConfigError
        from claude_tui.tracking.errors import one_line

        target = message.target
        try:
            session = TrackedSession(self.session_config(target.cwd, ["--resume", target.session_id]))
            session.start(max(20, self.size.width - 34), max(5, self.size.height - 4))
        except (ConfigError, OSError, ValueError) as exc:
            self.notify(f"cannot resume: {one_line(exc)}", severity="error", title="Resume")
            return
        await self.session_tab.open(self._open_session(session))

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
        switcher = self.query_one("#tabs", ContentSwitcher)
        switcher.current = tab
        for tabs in self.query("#tab-bar Tabs").results(Tabs):
            tabs.active = f"tab-{tab}"
        focused, shown = self.focused, self.query_one(f"#{tab}")
        if focused is not None and switcher in focused.ancestors and shown not in focused.ancestors:
            self.set_focus(None)  # typing must not go on into a tab that is no longer shown
        if tab == "history":
            self._mount_history()

    @on(Tabs.TabActivated, "#tab-bar Tabs")
    def _tab_clicked(self, event: Tabs.TabActivated) -> None:
        if event.tab.id is not None and event.tab.id.removeprefix("tab-") != self.active_tab:
            self.action_show_tab(event.tab.id.removeprefix("tab-"))

    def _mount_history(self) -> None:
        """The History pane is built on first view: nothing of it (or of mlflow) slows the session's start."""
        placeholders = self.query("#history-placeholder")
        if not placeholders:
            return
        from claude_tui.widgets.history import HistoryPane

        placeholders.remove()
        self.query_one("#history", Container).mount(
            HistoryPane(tracking_uri=self.tracking_uri, experiment=self.experiment, id="history-pane")
        )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Session tab", "Show the running session", lambda: self.action_show_tab("session")
        )
        yield SystemCommand("History tab", "Browse past sessions", lambda: self.action_show_tab("history"))
        if self.sessions:
            yield SystemCommand(
                "Sidebar", "Fold or unfold the session's counters (key b)", self.action_toggle_sidebar
            )
        yield from self.session_tab.system_commands()
        if screen.query("#history-pane"):
            from claude_tui.widgets.history import PALETTE_COMMANDS, HistoryPane

            pane = screen.query_one(HistoryPane)
            for title, action, help_text in PALETTE_COMMANDS:
                yield SystemCommand(title, help_text, partial(pane.run_action, action))
