"""`SessionView`: one session in the Session tab: its terminal pane, its sidebar, and what keeps them going.

The view polls its `TrackedSession` a few times a second and hands the sidebar a `SessionSnapshot`; it
mounts its counters a moment after start (`SessionView.FILL_IN_AFTER`, off Claude's first frame); when the
program ends it shows the logging screen at once and does the rest of the session's end in a thread worker
(final transcript poll, clean.txt, the git diff, logging to the store), so the screen keeps redrawing however
slow the repository or the store is. It tells the app what changed with messages: `FilledIn`, `Retitled`,
`Updated` (what the session list shows of it changed), `Ending` (its program ended), `Closed` (wrapped up).
Above its sidebar it holds a `SessionList`, which the Session tab fills while the view is the one shown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message

from claude_tui.layout import sidebar_folds
from claude_tui.session import SessionResult, TrackedSession
from claude_tui.terminal.collector import freeze_after_fill_in
from claude_tui.terminal.leave import ask_claude_to_leave
from claude_tui.terminal.pty_session import ExitStatus
from claude_tui.widgets.session_list import SessionList
from claude_tui.widgets.sidebar import SessionSidebar
from claude_tui.widgets.terminal import TerminalPane

if TYPE_CHECKING:
    from claude_tui.snapshot import SessionSnapshot
    from claude_tui.terminal.pump import TerminalPump
    from claude_tui.tracking.spool import RunSpool
    from claude_tui.tracking.spool_logger import Progress

LogSession = Callable[["RunSpool", "Progress"], Any]
"""Logs a finished session's spool to the store and returns the run (`tracking.logger.LoggedRun`: `run_id`,
`experiment_id`, `tracking_uri`), or hands it to a logger process (`spool_logger.HandedOff`: no `run_id`
yet); raises when the store fails. The app injects `SpoolLogger.log`."""


class SessionView(Horizontal):
    """The terminal pane and the sidebar of one `TrackedSession`, kept up to date, and its end.

    Args:
        session: the session, started (its spool and recorder exist when tracking is on).
        log_session: what logs the finished spool (not called when tracking is off).
        pump: the program, when it was spawned before the app started; else the pane spawns `session.argv`.
        hint: advice under the counters: one text, or one per step, step `i` shown once `i + 1` prompts were
            typed (the demo: the follow-up prompt to type, then "/exit").
    """

    DEFAULT_CSS = """
    SessionView { height: 1fr; }
    """

    POLL_INTERVAL = 0.25
    """Seconds between transcript polls while the session is busy; counts appear well within a second of
    Claude writing them."""

    IDLE_POLL_INTERVAL = 1.0
    """Seconds between polls while the session is idle (its program drew nothing and its counts and state
    stayed for `IDLE_AFTER` seconds) or another session is shown, timed to just after the elapsed clock's
    next second (`CLOCK_LAG`), so that each idle poll shows a new second and no second is skipped (issue 19,
    target 2: idle CPU). What arrives meanwhile (a hook, the CLI's telemetry) does not wait for it: the
    session's `on_news` wakes the poll at once (`news`). A session in the background keeps its entry in the
    session list (state, counts) as fresh."""

    CLOCK_LAG = 0.01
    """Seconds after the elapsed clock's second when an idle poll comes."""

    IDLE_AFTER = 2.0
    """Seconds without a frame of the program or a change of its counts or state after which the session is
    idle."""

    FILL_IN_AFTER = 1.0
    """Seconds after start-up when the counters are mounted (and the app's tab bar and footer with them) and
    the first poll runs, at the earliest. Until Claude has drawn its first frame (~0.4 s after start here)
    every millisecond of CPU we use slows it down, and these are ~100 ms: the first frame has the header, the
    pane and the sidebar's frame, with the rows of the rest already reserved so that nothing moves when they
    arrive. On a slower machine Claude may still be drawing then: the fill-in waits until the program has
    drawn nothing for `FILL_IN_QUIET` seconds, up to `FILL_IN_LATEST` seconds after start-up."""

    FILL_IN_QUIET = 0.2
    FILL_IN_LATEST = 3.0

    CLAUDE_EXIT_WAIT = 5.0
    """Seconds Claude gets to leave on its own (ctrl+c, and again on its hint) before it is terminated."""

    class FilledIn(Message):
        """The counters are up and polling runs: what the first frame left out can come now."""

    class Retitled(Message):
        """The session's short name changed (its first prompt became known)."""

        def __init__(self, title: str, view: SessionView) -> None:
            super().__init__()
            self.title = title
            """The new name."""
            self.view = view
            """The view whose session it is."""

    class Updated(Message):
        """What the session list shows of the session changed (its state, counts or cost)."""

        def __init__(self, view: SessionView) -> None:
            super().__init__()
            self.view = view
            """The view whose session it is."""

    class News(Message, bubble=False):
        """A hook or the CLI's telemetry arrived for the session (posted from the endpoint's thread)."""

    class Ending(Message):
        """The session's program ended: the session is being wrapped up and logged (`Closed` follows)."""

        def __init__(self, view: SessionView) -> None:
            super().__init__()
            self.view = view
            """The view whose session it is."""

    class Closed(Message):
        """The session is over: its program ended and it was logged (or not, and `result` says why)."""

        def __init__(self, view: SessionView, result: SessionResult) -> None:
            super().__init__()
            self.view = view
            """The view whose session it was."""
            self.result = result
            """How the program ended and where the session went."""

    def __init__(
        self,
        session: TrackedSession,
        *,
        log_session: LogSession,
        pump: TerminalPump | None = None,
        hint: str | Sequence[str] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.session = session
        """The session shown."""
        self._log_session = log_session
        self._pump = pump
        self._hints: tuple[str, ...] = (hint,) if isinstance(hint, str) else tuple(hint or ())
        self.sidebar_choice: bool | None = None
        """Whether the user chose the full sidebar (True) or the folded one (False); None: by the width."""
        self._ending = False
        self._title = session.title
        self._state = "starting"
        self._listed: tuple[object, ...] = ()
        self._mounted_at = 0.0
        self._shown_once = False
        """Shown at some point: its counters are mounted at the fill-in even if it is in the background by
        then (a session added in the background, as `attach` adds them, gets them when first shown)."""
        self._changed_at = 0.0
        self._activity: tuple[object, ...] = ()
        self._polled_at = 0.0
        self._next_poll: tuple[float, asyncio.TimerHandle] | None = None
        """When the next poll is due, and its timer (`_arm_poll`)."""
        self.snapshot: SessionSnapshot | None = None
        """The latest snapshot of the session (None before the first poll)."""
        self.result: SessionResult | None = None
        """How the session ended and where it went, once it is wrapped up."""
        self.close_requested = False
        """The person closed the session: it leaves the window once wrapped up."""

    def compose(self) -> ComposeResult:
        session = self.session
        yield TerminalPane(
            session.argv,
            cwd=session.config.cwd,
            env=session.env,
            recorder=session.recorder,
            pump=self._pump,
            id="terminal",
        )
        folded = sidebar_folds(self.app.size.width)
        hint = self._hints[0] if self._hints else None
        with SessionSidebar(hint=hint, id="sidebar", classes="-folded" if folded else None):
            yield SessionList(id="session-list")

    @property
    def pane(self) -> TerminalPane:
        """The terminal pane."""
        return self.query_one(TerminalPane)

    @property
    def sidebar(self) -> SessionSidebar:
        """The sidebar."""
        return self.query_one(SessionSidebar)

    @property
    def ending(self) -> bool:
        """True once the program ended (the session is being wrapped up and logged)."""
        return self._ending

    @property
    def state(self) -> str:
        """What the session list says of the session: starting, working, waiting, idle while its program
        runs; then logging, and logged, not logged (the store failed) or ended (not tracked)."""
        if self.result is not None:
            if self.result.run_id:
                return "logged"
            return "not logged" if self.result.error else "ended"
        if self._ending:
            return "logging" if self.session.spool is not None else "ended"
        return self._state

    def on_mount(self) -> None:
        self._mounted_at = time.monotonic()
        self._shown_once = self._shown_once or self.display
        self.set_timer(self.FILL_IN_AFTER, self._fill_in)
        # `post_message` is thread-safe, and the handler runs in the app's context (timers need it).
        self.session.on_news = lambda: self.post_message(self.News())

    def on_show(self) -> None:
        self._shown_once = True

    def on_unmount(self) -> None:
        self.session.on_news = None
        if self._next_poll is not None:
            self._next_poll[1].cancel()
            self._next_poll = None

    # -- the sidebar's form ------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._fit_sidebar()

    def toggle_sidebar(self) -> None:
        """Show the full sidebar if it is folded, else fold it (the choice holds at any width)."""
        self.sidebar_choice = self.sidebar.folded
        self._fit_sidebar()

    def _fit_sidebar(self) -> None:
        """Fold the sidebar in a narrow terminal, unless the user chose otherwise."""
        full = self.sidebar_choice if self.sidebar_choice is not None else not sidebar_folds(self.size.width)
        self.sidebar.fold(not full)

    # -- live ------------------------------------------------------------------------------------------------

    async def _fill_in(self) -> None:
        """Mount what the first frame left out (`FILL_IN_AFTER`) and start polling the session."""
        if self._ending or not self.is_attached:
            return  # the session ended first
        now = time.monotonic()
        busy = now - self.pane.last_frame_at < self.FILL_IN_QUIET
        if busy and now - self._mounted_at < self.FILL_IN_LATEST:
            self.set_timer(self.FILL_IN_QUIET / 2, self._fill_in)  # the program is still drawing
            return
        self.post_message(self.FilledIn())
        self.session.program_ready()
        if self.display or self._shown_once:
            await self.sidebar.mount_rows()
        else:  # added in the background (`claude-tui attach`): its counters when it is first shown
            self.sidebar.rows_wanted = True
        self._poll_and_rearm()
        self.call_after_refresh(freeze_after_fill_in)

    def poll_delay(self, now: float) -> float:
        """Seconds until the next poll: `POLL_INTERVAL` while the session shown is busy, else up to
        `IDLE_POLL_INTERVAL`: just after the elapsed clock's next second. Busy: its counts or state changed
        within `IDLE_AFTER` seconds; where hooks say what Claude does, while it works, else while the
        program draws (idle Claude redraws now and then, and its hooks say when it starts work)."""
        if self.display:
            if self.session.lifecycle.hooks_seen:
                busy = self.snapshot is not None and self.snapshot.state == "working"
                last = self._changed_at
            else:
                busy, last = False, max(self.pane.last_frame_at, self._changed_at)
            if busy or now - last < self.IDLE_AFTER:
                return self.POLL_INTERVAL
        elapsed = self.snapshot.elapsed_seconds if self.snapshot is not None else 0.0
        return self.IDLE_POLL_INTERVAL - elapsed % 1.0 + self.CLOCK_LAG

    def _poll_and_rearm(self) -> None:
        """Poll, then set the next poll's timer (`poll_delay`): one timer, no wake-up while idle."""
        self._next_poll = None
        self._polled_at = time.monotonic()
        self._poll()
        if not self._ending and self.is_attached:
            delay = self.poll_delay(self._polled_at)
            self._next_poll = (self._polled_at + delay, self._arm_poll(delay))

    def _arm_poll(self, delay: float) -> asyncio.TimerHandle:
        """The poll in `delay` seconds, on the event loop's own timer: a Textual timer costs a task, a message
        and (a new `partial` each time) an `inspect.signature` per poll, most of an idle window's poll."""

        def due() -> None:
            try:
                self._poll_and_rearm()
            except Exception as error:  # as a Textual timer's callback would: the app shows it and exits
                self.app._handle_exception(error)

        return asyncio.get_running_loop().call_later(delay, due)

    @on(News)
    def _news_came(self) -> None:
        self.news()

    def news(self) -> None:
        """A hook or the CLI's telemetry arrived (`TrackedSession.on_news`): poll now rather than at the
        idle poll's time, but never sooner than `POLL_INTERVAL` after the last poll (a burst of hooks is one
        poll)."""
        if self._next_poll is None or self._ending or not self.is_attached:
            return  # not polling yet (the fill-in polls first), or over
        now = time.monotonic()
        due = max(now, self._polled_at + self.POLL_INTERVAL)
        at, timer = self._next_poll
        if due < at:
            timer.cancel()
            if due <= now:
                self._poll_and_rearm()
            else:
                self._next_poll = (due, self._arm_poll(due - now))

    # -- the program's attention -----------------------------------------------------------------------------

    @on(TerminalPane.Bell)
    def _program_bell(self, event: TerminalPane.Bell) -> None:
        """The program's bell rings the outer terminal too; without hooks it also says the program waits."""
        event.stop()
        self.session.terminal_bell()
        if self.session.config.notify_terminal:
            self.app.bell()

    @on(TerminalPane.Notified)
    def _program_notified(self, event: TerminalPane.Notified) -> None:
        """The program's own desktop notifications (OSC 9/99/777) pass through to the outer terminal."""
        event.stop()
        if self.session.config.notify_terminal:
            write_to_outer_terminal(self.app, "".join(event.sequences))

    @on(TerminalPane.TitleChanged)
    def _program_retitled(self, event: TerminalPane.TitleChanged) -> None:
        self.session.terminal_title(event.title)

    def _attend(self, reasons: Sequence[str]) -> None:
        """Claude started waiting for the person: ring and notify the outer terminal, and say so in the app
        when the person is looking at another tab."""
        from claude_tui.lifecycle.notify import terminal_notification

        for reason in reasons:
            if self.session.config.notify_terminal:
                title = f"claude-tui · {self.session.title}"
                write_to_outer_terminal(self.app, terminal_notification(title, f"waiting for you: {reason}"))
            if not self.pane.is_on_screen or not self.pane.display:
                self.notify(f"Claude waits for you: {reason}", title=self.session.title)

    def _poll(self) -> None:
        if self._ending or not self.is_attached:
            return  # the session ended, or the app is shutting down and the widgets are going
        snapshot = self._take_snapshot()
        if snapshot is None:
            return
        self.snapshot = snapshot
        self._draw_sidebar(snapshot)  # a hidden view's sidebar keeps it and draws it when shown (`on_show`)
        if snapshot.title != self._title:
            self._title = snapshot.title
            self.post_message(self.Retitled(snapshot.title, self))
        for alert in snapshot.new_alerts:
            self.notify(alert, severity="warning")
        if snapshot.new_waits:
            self._attend(snapshot.new_waits)
        activity = activity_of(snapshot)
        if activity != self._activity:
            # A count, the tokens, the cost or the state changed (a hook's news too); the CLI's periodic
            # telemetry that changes none of them does not make an idle session busy.
            self._activity = activity
            self._changed_at = time.monotonic()
        self._state = snapshot.state
        self._listed_changed()

    def _draw_sidebar(self, snapshot: SessionSnapshot) -> None:
        self.sidebar.show(snapshot)
        if len(self._hints) > 1:
            self.sidebar.set_hint(self._hints[max(0, min(snapshot.user_prompts - 1, len(self._hints) - 1))])

    def _take_snapshot(self) -> SessionSnapshot | None:
        """The session's stats now (None: none yet); the session is polled here, from the pane's screen."""
        self.session.poll_terminal(self.pane.emulator)
        return self.session.snapshot()

    def _listed_changed(self) -> None:
        """Post `Updated` when what the session list shows of this session changed."""
        snapshot = self.snapshot
        counts = (snapshot.tool_uses, snapshot.errors_encountered, snapshot.cost_usd) if snapshot else ()
        listed = (self.state, self._title, *counts)
        if listed != self._listed:
            self._listed = listed
            self.post_message(self.Updated(self))

    # -- the end ---------------------------------------------------------------------------------------------

    attached = False
    """True for a session another process runs (the owner's, `claude-tui attach`: `AttachedSessionView`)."""

    def detach(self) -> bool:
        """Let go of the session without ending its program, when another process runs it (`claude-tui
        attach`); False here: this window's own program ends with the window."""
        return False

    async def end_program(self) -> None:
        """End the program gracefully; the session is then wrapped up and logged (`Closed` follows).

        Claude is asked to leave the way a user does (ctrl+c twice: it exits 0 and flushes its transcript;
        `terminal.leave` reads its "again to exit" hint for the second press); a program that does not leave
        in time, or any other program, gets SIGHUP/SIGTERM, then SIGKILL.
        """
        pane = self.pane
        if pane.exit_status is None and self.session.config.is_claude:
            await ask_claude_to_leave(
                pane.send, pane.emulator, lambda: pane.exit_status is not None, self.CLAUDE_EXIT_WAIT
            )
        await self._leave_or_terminate(0.0)

    async def forward_signal(self, signum: int) -> None:
        """Pass a hang-up or termination claude-tui got on to the program, and end the session as when it
        ends by itself (summary, logged); a program still there after `CLAUDE_EXIT_WAIT` seconds gets
        SIGHUP/SIGTERM, then SIGKILL."""
        if self._ending or self.pane.exit_status is not None:
            return
        self.pane.send_signal(signum)
        await self._leave_or_terminate(self.CLAUDE_EXIT_WAIT)

    async def _leave_or_terminate(self, wait: float) -> None:
        """Give the program `wait` seconds to leave, then end it (SIGHUP/SIGTERM, SIGKILL); then the end."""
        pane = self.pane
        deadline = time.monotonic() + wait
        while pane.exit_status is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if pane.exit_status is None:
            await pane.terminate()
        if pane.exit_status is not None:
            self._end(pane.exit_status)

    @on(TerminalPane.Exited)
    def _program_exited(self, event: TerminalPane.Exited) -> None:
        event.stop()
        self.app.refresh_bindings()  # the pane's keys are the app's again: the footer lists them
        self._end(event.status)

    def _end(self, status: ExitStatus) -> None:
        """Show the logging screen at once; everything slow happens in `_wrap_up`, off the event loop."""
        if self._ending:
            return
        self._ending = True
        emulator = self.pane.emulator
        lines = [*emulator.history_lines(), *emulator.display]
        if self.session.spool is not None:
            self.post_message(self.Ending(self))  # the Session tab shows the logging screen if it is the last
        self._listed_changed()
        self._wrap_up(status, lines, emulator.history_dropped, emulator.take_shell_marks())

    @work(thread=True, exclusive=True, exit_on_error=False, group="wrap-up")
    def _wrap_up(
        self, status: ExitStatus, lines: Sequence[str], first_index: int, marks: Sequence[str] = ()
    ) -> None:
        """The last poll, clean.txt, the git changes, the summary, then the store: a bad repository or store
        costs time here, never a frozen screen; any failure keeps the spool and says why in one line."""
        from claude_tui.tracking.errors import one_line

        session = self.session
        code, signal = status.code, status.signal
        self._progress("saving the session and its git changes", 0.0)
        try:
            session.finish(code, signal, lines, first_index=first_index, shell_marks=marks)
        except Exception as exc:  # e.g. a full disk: the spool holds what was written, for `claude-tui sync`
            path = session.spool.path if session.spool is not None else None
            result = SessionResult(exit_code=code, signal=signal, spool=path, error=one_line(exc))
            self.app.call_from_thread(self._wrapped_up, result)
            return
        spool = session.spool
        if spool is None:
            result = SessionResult(exit_code=code, signal=signal)
        else:
            uri = session.config.tracking_uri
            try:
                logged = self._log_session(spool, self._progress)
                result = SessionResult(
                    exit_code=code,
                    signal=signal,
                    run_id=logged.run_id,
                    experiment_id=logged.experiment_id,
                    tracking_uri=logged.tracking_uri,
                    spool=None if logged.run_id else spool.path,
                    session_id=session.config.session_id,
                    handed_off=not logged.run_id,
                )
            except Exception as exc:  # a failing store keeps the spool; the user is told how to retry
                result = SessionResult(
                    exit_code=code,
                    signal=signal,
                    spool=spool.path,
                    error=one_line(exc),
                    tracking_uri=uri,
                    session_id=session.config.session_id,
                )
        self.app.call_from_thread(self._wrapped_up, result)

    def _wrapped_up(self, result: SessionResult) -> None:
        self.result = result
        self._listed_changed()
        self.post_message(self.Closed(self, result))

    def _progress(self, stage: str, fraction: float) -> None:
        """Show the wrap-up's progress on the logging screen (called from the worker's thread)."""
        self.app.call_from_thread(self._show_progress, stage, fraction)

    def _show_progress(self, stage: str, fraction: float) -> None:
        from claude_tui.screens.logging import LoggingScreen

        if isinstance(self.app.screen, LoggingScreen):
            self.app.screen.set_progress(stage, fraction)


def activity_of(snapshot: SessionSnapshot) -> tuple[object, ...]:
    """What changes in a snapshot while the session works: its state, counts, tokens and cost."""
    return (
        snapshot.state,
        snapshot.commands_executed,
        snapshot.tool_uses,
        snapshot.errors_encountered,
        snapshot.user_prompts,
        snapshot.input_tokens,
        snapshot.output_tokens,
        snapshot.cost_usd,
    )


def write_to_outer_terminal(app: Any, text: str) -> None:
    """Write escape sequences to the terminal the app runs in, as `App.bell` writes its BEL (nothing in a
    headless app, such as a test's)."""
    driver = getattr(app, "_driver", None)
    if text and not app.is_headless and driver is not None:
        driver.write(text)
