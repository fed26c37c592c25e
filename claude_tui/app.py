"""The claude-tui App: a Session tab (terminal pane + sidebar) and a History tab, wired from parts."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Header, Static, Tab, Tabs

from claude_tui.session import TrackedSession
from claude_tui.terminal.pty_session import PtySession
from claude_tui.terminal.pump import PtyPump
from claude_tui.widgets.sidebar import SessionSidebar
from claude_tui.widgets.terminal import TerminalPane

LogSpool = Callable[..., Any]
"""`tracking.logger.log_spool`, injected so tests can pass a fake store."""


@dataclass(frozen=True)
class SessionOutcome:
    """What the app leaves behind for the command line to print."""

    exit_code: int | None = None
    signal: int | None = None
    run_id: str | None = None
    experiment_id: str | None = None
    tracking_uri: str | None = None
    spool: Path | None = None
    error: str | None = None
    """Why logging failed (the spool is kept for `claude-tui sync`)."""


class ClaudeTuiApp(App[SessionOutcome]):
    """Runs one tracked session (or none, for `claude-tui history`) and shows past sessions."""

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
    ]
    """ctrl+] inside the pane hands focus to these bindings; `t` gives it back."""

    POLL_INTERVAL = 0.25
    """Seconds between transcript polls; counts appear well within a second of Claude writing them."""

    FILL_IN_AFTER = 1.0
    """Seconds after start-up when the tab bar, the footer and the sidebar's counters are mounted and the
    first poll runs, at the earliest. Until Claude has drawn its first frame (~0.4 s after start here) every
    millisecond of CPU we use slows it down, and these are ~100 ms: the first frame has the header, the pane
    and the sidebar's frame, with the rows of the rest already reserved so that nothing moves when they
    arrive. On a slower machine Claude may still be drawing then: the fill-in waits until the program has
    drawn nothing for `FILL_IN_QUIET` seconds, up to `FILL_IN_LATEST` seconds after start-up."""

    FILL_IN_QUIET = 0.2
    FILL_IN_LATEST = 3.0

    TABS = (("session", "Session"), ("history", "History"))
    """The id and the label of each tab."""

    WARM_UP_AFTER = 2.0
    """Seconds after start-up (after Claude's first frame) when killed sessions are looked for and mlflow
    is loaded in the background: neither competes with Claude's start for the CPU."""

    def __init__(
        self,
        session: TrackedSession | None = None,
        *,
        tracking_uri: str | None = None,
        experiment: str = "claude-sessions",
        initial_tab: str = "session",
        hint: str | None = None,
        log_spool: LogSpool | None = None,
        pty: PtySession | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self._pty = pty
        """The program, already running when `commands.run` spawned it before the app started."""
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.initial_tab = initial_tab if session is not None else "history"
        self.hint = hint
        self._log_spool = log_spool
        self._finishing = False
        self._warm_up: threading.Thread | None = None

    def compose(self) -> ComposeResult:
        # Without a session nothing is waited for: the tab bar and the footer come at once.
        at_once = self.session is None
        yield Header()
        with Container(id="tab-bar"):
            if at_once:
                yield self._tabs(self.initial_tab)
        with ContentSwitcher(initial=self.initial_tab, id="tabs"):
            with Container(id="session"):
                if self.session is None:
                    yield Static("No session in this window: `claude-tui` starts one.", id="no-session")
                else:
                    with Horizontal():
                        pump = None
                        if self._pty is not None:
                            pump = PtyPump(self._pty, recorder=self.session.recorder)
                        yield TerminalPane(
                            self.session.argv,
                            cwd=self.session.config.cwd,
                            env=self.session.config.env,
                            recorder=self.session.recorder,
                            pump=pump,
                            id="terminal",
                        )
                        yield SessionSidebar(hint=self.hint, id="sidebar")
            with Container(id="history"):
                yield Static("Loading history…", id="history-placeholder")
        with Container(id="footer-bar"):
            if at_once:
                yield Footer()

    def _tabs(self, active: str) -> Tabs:
        tabs = Tabs(*(Tab(label, id=f"tab-{name}") for name, label in self.TABS), active=f"tab-{active}")
        tabs.can_focus = False  # switched by click or `s`/`h`: focus stays with the pane or the History table
        return tabs

    @property
    def active_tab(self) -> str:
        """The id of the tab shown: `session` or `history`."""
        return self.query_one("#tabs", ContentSwitcher).current or self.initial_tab

    def on_mount(self) -> None:
        self.call_after_refresh(self._settle_garbage_collector)
        if self.session is not None:
            config = self.session.config
            branch = self.session.git_start.get("branch")
            self.title = f"claude-tui · {self.session.title}"
            self.sub_title = f"{config.cwd}" + (f" ({branch})" if branch else "")
            self._pane = self.query_one(TerminalPane)
            self._sidebar = self.query_one(SessionSidebar)
            self._pane.focus()
            self._mounted_at = time.monotonic()
            self.set_timer(self.FILL_IN_AFTER, self._fill_in)
            if self.session.spool is not None:
                self.set_timer(self.WARM_UP_AFTER, self._after_start)
        else:
            self.refresh_bindings()  # the footer came with the first frame: it shows the keys once told
        if self.initial_tab == "history":
            self._mount_history()

    @staticmethod
    def _settle_garbage_collector() -> None:
        """After the first frame: freeze what start-up made, and collect again (`run_session` paused it).

        Objects alive after start-up (modules, widgets, CSS) live as long as the app: frozen, they stay out of
        every later full collection, which otherwise stalls the pane under heavy output.
        """
        gc.freeze()
        gc.enable()

    # -- live session ------------------------------------------------------------------------------------

    async def _fill_in(self) -> None:
        """Mount what the first frame left out (`FILL_IN_AFTER`) and start polling the session."""
        if self._finishing or not self._sidebar.is_attached:
            return  # the session ended first
        now = time.monotonic()
        busy = now - self._pane.last_frame_at < self.FILL_IN_QUIET
        if busy and now - self._mounted_at < self.FILL_IN_LATEST:
            self.set_timer(self.FILL_IN_QUIET / 2, self._fill_in)  # the program is still drawing
            return
        await self.query_one("#tab-bar").mount(self._tabs(self.active_tab))
        await self.query_one("#footer-bar").mount(Footer())
        self.refresh_bindings()  # a footer shows the keys when told that they changed
        await self._sidebar.mount_rows()
        self._poll_session()
        self.set_interval(self.POLL_INTERVAL, self._poll_session)

    def _poll_session(self) -> None:
        session = self.session
        if session is None or self._finishing or not self._sidebar.is_attached:
            return  # nothing to do, or the app is shutting down and the widgets are going
        pane = self._pane
        screen_lines = None
        first = 0
        if session.screen_due():
            emulator = pane.emulator
            # Positions count from the first line the terminal ever kept, so they stay put when the full
            # scrollback drops its oldest lines.
            first = emulator.history_dropped
            screen_lines = [*emulator.history_lines(), *emulator.display]
        session.poll(screen_lines, first_index=first)
        snapshot = session.snapshot()
        self._sidebar.show(snapshot)
        self.title = f"claude-tui · {snapshot.title}"
        for alert in snapshot.new_alerts:
            self.notify(alert, severity="warning")

    def _after_start(self) -> None:
        """Log the spools of killed sessions (a detached `sync`, only if there are any); warm up mlflow."""
        from claude_tui.tracking import recovery

        recovery.recover_orphans_in_background()
        if self._log_spool is None:
            self._warm_up_store()

    def _warm_up_store(self) -> None:
        """Import mlflow and open the store in a daemon thread, so logging at the end does not wait for it.

        Failures are ignored here: the real logging reports them (and keeps the spool).
        """

        def warm_up() -> None:
            try:
                import mlflow  # noqa: F401 - the import is the slow part being moved off the end

                from claude_tui.tracking.store import get_or_create_experiment, resolve_tracking_uri

                if not resolve_tracking_uri(self.tracking_uri).startswith(("http://", "https://")):
                    # Local stores only: a remote server that is down would keep MLflow retrying for minutes.
                    get_or_create_experiment(self.experiment, self.tracking_uri)
            except Exception:  # the store is checked again, and reported, when the session is logged
                pass

        self._warm_up = threading.Thread(target=warm_up, name="mlflow-warm-up", daemon=True)
        self._warm_up.start()

    @on(TerminalPane.Exited)
    def _program_exited(self, event: TerminalPane.Exited) -> None:
        self._finish(event.status.code, event.status.signal)

    def _finish(self, exit_code: int | None, signal: int | None) -> None:
        session = self.session
        if session is None or self._finishing:
            return
        self._finishing = True
        pane = self._pane
        emulator = pane.emulator
        lines = [*emulator.history_lines(), *emulator.display]
        session.finish(exit_code, signal, lines, first_index=emulator.history_dropped)
        if session.spool is None:
            self.exit(SessionOutcome(exit_code=exit_code, signal=signal))
            return
        from claude_tui.screens.logging import LoggingScreen

        self.push_screen(LoggingScreen())
        self._log_worker(exit_code, signal)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _log_worker(self, exit_code: int | None, signal: int | None) -> None:
        session = self.session
        assert session is not None and session.spool is not None
        spool_path = session.spool.path

        def progress(stage: str, fraction: float) -> None:
            self.call_from_thread(self._show_progress, stage, fraction)

        if self._warm_up is not None:
            # Two first opens of a new sqlite store would race over its migrations (a few seconds at most).
            self._warm_up.join(timeout=60)
        try:
            if self._log_spool is not None:
                log_spool: LogSpool = self._log_spool
            else:
                from claude_tui.tracking.logger import log_spool
            logged = log_spool(
                session.spool, tracking_uri=self.tracking_uri, experiment=self.experiment, progress=progress
            )
            outcome = SessionOutcome(
                exit_code=exit_code,
                signal=signal,
                run_id=logged.run_id,
                experiment_id=logged.experiment_id,
                tracking_uri=logged.tracking_uri,
            )
        except Exception as exc:  # any failure of the store keeps the spool; the user is told how to retry
            from claude_tui.tracking.errors import one_line

            error = one_line(exc)
            outcome = SessionOutcome(exit_code=exit_code, signal=signal, spool=spool_path, error=error)
        self.call_from_thread(self.exit, outcome)

    def _show_progress(self, stage: str, fraction: float) -> None:
        from claude_tui.screens.logging import LoggingScreen

        if isinstance(self.screen, LoggingScreen):
            self.screen.set_progress(stage, fraction)

    CLAUDE_EXIT_WAIT = 5.0
    """Seconds Claude gets to leave on its own (ctrl+c twice) before it is terminated."""

    async def action_quit(self) -> None:
        """End the program gracefully, log the session, exit.

        Claude is asked to leave the way a user does (ctrl+c twice: it exits 0 and flushes its transcript);
        a program that does not leave in time, or any other program, gets SIGHUP/SIGTERM, then SIGKILL.
        """
        if self.session is None:
            self.exit(SessionOutcome())
            return
        pane = self._pane
        if pane.exit_status is None and self.session.config.is_claude:
            pane.send(b"\x03")
            await asyncio.sleep(0.3)
            pane.send(b"\x03")
            deadline = time.monotonic() + self.CLAUDE_EXIT_WAIT
            while pane.exit_status is None and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        if pane.exit_status is None:
            await pane.terminate()
        if pane.exit_status is not None:
            self._finish(pane.exit_status.code, pane.exit_status.signal)

    # -- navigation --------------------------------------------------------------------------------------

    def action_focus_terminal(self) -> None:
        """Give the keyboard back to the program in the pane."""
        if self.session is not None:
            self.action_show_tab("session")
            self._pane.focus()

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

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Session tab", "Show the running session", lambda: self.action_show_tab("session")
        )
        yield SystemCommand("History tab", "Browse past sessions", lambda: self.action_show_tab("history"))
        if screen.query("#history-pane"):
            from claude_tui.widgets.history import PALETTE_COMMANDS, HistoryPane

            pane = screen.query_one(HistoryPane)
            for title, action, help_text in PALETTE_COMMANDS:
                yield SystemCommand(title, help_text, partial(pane.run_action, action))
