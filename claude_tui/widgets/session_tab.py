"""`SessionTab`: the Session tab's content: the session views, one shown at a time, and moving between them.

It keeps the views in the order they were opened (numbers 1, 2, ... in the list), shows one, remembers the
one shown before (`previous`), and feeds the shown view's `SessionList` with one `SessionEntry` per session.
A session in the background that starts waiting for the person gets the attention mark until it is shown;
`next_waiting` finds the next such session.

It opens sessions (the new-session dialog, `n`) and closes them (`x`: the program is ended gracefully and the
session logged; a worktree the session made is kept or removed as the person says), and tells the app with
messages: `Shown` (retitle the window), `AllEnded` (no session runs any more and every one is wrapped up: the
app exits with their results).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from claude_tui.session import SessionResult, TrackedSession
from claude_tui.widgets.session_list import SessionEntry, SessionList, session_strip
from claude_tui.widgets.session_view import SessionView
from claude_tui.widgets.terminal import TerminalPane

if TYPE_CHECKING:
    from claude_tui.screens.new_session import NewSession
    from claude_tui.session import SessionConfig
    from claude_tui.worktree import Worktree

__all__ = ["SessionTab", "TakeLater", "entry_for", "session_name", "window_header"]

MakeView = Callable[[TrackedSession], SessionView]
"""Builds the view of a started session (the app injects its store and hint)."""
TakeLater = Callable[[], Callable[[], SessionView]]
"""Takes a session the window shows after its first frame (blocking, in a thread: `claude-tui attach`
restores one of the owner's screens); what it returns makes the view, on the event loop."""
OpenInOwner = Callable[["SessionConfig", int, int], Callable[[], SessionView]]
"""Has the session owner start a session of a config, in a thread (`attached_view.open_in_owner`); what it
returns makes the view, on the event loop."""


def home_relative(path: Path) -> str:
    """`path` with the home folder written `~`."""
    home = os.path.expanduser("~")
    text = str(path)
    if home not in ("", "/") and (text == home or text.startswith(home + os.sep)):
        return "~" + text[len(home) :]
    return text


def session_name(view: SessionView) -> str:
    """The first prompt, else the program and the work dir's name (`claude · app`)."""
    session = view.session
    snapshot = view.snapshot
    prompt = snapshot.title if snapshot is not None and snapshot.user_prompts else session.config.prompt
    if prompt:
        return " ".join(prompt.split())
    return f"{Path(session.config.command).name} · {session.config.cwd.name or session.config.cwd}"


def state_label(state: str) -> str:
    """How the window's header says `state` (`snapshot.STATE_LABELS`: imported once there is a state to say,
    not on the way to Claude's first frame)."""
    from claude_tui.snapshot import STATE_LABELS

    return STATE_LABELS.get(state, state)


def window_header(view: SessionView) -> tuple[str, str]:
    """The window's header for the session shown: its name and what it is doing (`waiting for you` stands
    out there; nothing while it starts), and its work dir and branch."""
    title = view.snapshot.title if view.snapshot else view.session.title
    state = "" if view.state == "starting" else state_label(view.state)
    config = view.session.config
    branch = config.worktree.branch if config.worktree else view.session.git_start.get("branch")
    where = f"{config.cwd}" + (f" ({branch})" if branch else "")
    return " · ".join(part for part in ("claude-tui", title, state) if part), where


def entry_for(view: SessionView, number: int, *, active: bool, attention: bool) -> SessionEntry:
    """What the session list shows of `view`."""
    session = view.session
    snapshot = view.snapshot
    worktree = session.config.worktree
    branch = worktree.branch if worktree is not None else session.git_start.get("branch")
    return SessionEntry(
        number=number,
        name=session_name(view),
        folder=home_relative(session.config.cwd),
        branch=branch,
        state=view.state,
        tool_uses=snapshot.tool_uses if snapshot is not None else 0,
        errors=snapshot.errors_encountered if snapshot is not None else 0,
        cost_usd=snapshot.cost_usd if snapshot is not None else None,
        active=active,
        attention=attention,
    )


class ChordKeys(Widget):
    """Holds the keyboard between ctrl+] and the session key, for the Session tab's keys (its parent's).

    A leaf of no size: taking the focus and giving it back restyles this widget only. The tab itself held it
    before, and a focus change restyled the tab's whole subtree, every session's pane and sidebar (~45% of a
    switch's CPU, `benchmarks/bench_sessions.py`). Focusable only while it holds the keyboard, so the app's
    first focus and tab's focus chain never land on it.
    """

    DEFAULT_CSS = """
    ChordKeys { width: 0; height: 0; }
    """

    holds_chord = True
    """The footer waits for the chord's second key before it shows the keys this opens (`KeysFooter`)."""

    def take(self) -> None:
        """Take the keyboard, at once (`Widget.focus` would wait its turn in the app's queue, behind the
        chord's second key when both came together)."""
        self.can_focus = True
        self.screen.set_focus(self)

    def on_blur(self) -> None:
        self.can_focus = False


class SessionTab(Container):
    """The session views of the window and the list of them (see the module docstring).

    ctrl+] in a pane gives this tab the keyboard, so its keys work as a chord from inside any pane; a session
    key gives the keyboard to the pane of the session it shows. It takes the keyboard only then (it is not
    focusable otherwise: the app's first focus, and History's table, must not land on it).

    Args:
        views: the list the app keeps of its session views (shared: the tab adds and drops views in it).
        make_view: builds the view of a session the tab opens.
        template: what a new session's config starts from (`SessionConfig.for_another_session`): the first
            session's, so a new session goes to the same store with the same options.
    """

    DEFAULT_CSS = """
    SessionTab { height: 1fr; }
    SessionTab #no-session { padding: 1 2; color: $text-muted; }
    """

    BINDINGS = [
        Binding("n", "new_session", "New session"),
        Binding("x", "close_session", "Close session"),
        Binding("w", "next_waiting", "Waiting"),
        Binding("p", "previous_session", "Previous", show=False),
        Binding("right_square_bracket", "step(1)", "Next session", show=False),
        Binding("left_square_bracket", "step(-1)", "Previous session", show=False),
        *(Binding(str(n), f"show_number({n})", f"Session {n}", show=False) for n in range(1, 10)),
    ]
    """The sessions' keys, after ctrl+] (docs/sessions.md)."""

    takes_released_keys = True
    """ctrl+] in a pane of this tab: the tab takes the keyboard from the pane (`TerminalPane` then does not
    blur first)."""

    class Shown(Message):
        """Another session is shown (or the first one, at start)."""

        def __init__(self, view: SessionView) -> None:
            super().__init__()
            self.view = view
            """The session now shown."""

    class AllEnded(Message):
        """No session of the window runs any more, and every one is wrapped up."""

        def __init__(self, results: list[SessionResult], notes: list[str]) -> None:
            super().__init__()
            self.results = results
            """How each ended and where it went, in the order they ended."""
            self.notes = notes
            """What became of the sessions' worktrees, one line each."""

    def __init__(
        self,
        views: list[SessionView],
        make_view: MakeView,
        template: SessionConfig,
        *,
        id: str | None = None,
        open_in_owner: OpenInOwner | None = None,
    ) -> None:
        super().__init__(id=id)
        self.views = views
        self.template = template
        """What a new session's config starts from."""
        self.open_in_owner = open_in_owner
        """Set in a window on the owner's sessions: a new session is the owner's too (it outlives the
        window)."""
        """The sessions of the window, in the order they were opened (ended ones stay until closed)."""
        self._make_view = make_view
        self.active: SessionView | None = views[0] if views else None
        """The session shown."""
        self.previous: SessionView | None = None
        """The session shown before the active one."""
        self.results: list[SessionResult] = []
        """The results of the sessions that ended, in the order they ended."""
        self.notes: list[str] = []
        """What became of the worktrees of the sessions closed so far."""
        self._attention: set[SessionView] = set()
        self._states: dict[SessionView, str] = {}
        self._later: list[TakeLater] = [take for view in views for take in getattr(view, "later", ())]
        """Sessions to add after the first frame, in list order (`add_later`): those `claude-tui attach`
        asked for with the first (`AttachedSessionView.later`)."""
        self._coming = len(self._later)
        """How many of those are not in `views` yet (taken or failed, each counts down)."""
        self._stopped = False
        self._all_added = asyncio.Event()
        if not self._later:
            self._all_added.set()
        self._wanted: int | None = None
        """The number of a session still coming that the person asked for (shown once it is added)."""
        self._worktrees_settled: set[SessionView] = set()

    def compose(self) -> ComposeResult:
        yield ChordKeys()
        if self.views:
            yield from self.views
        else:
            yield Static("No session in this window: `n` starts one.", id="no-session")

    def on_mount(self) -> None:
        if self.active is not None and self.active.attached:
            self.show(self.active)  # the owner's sessions (`claude-tui attach`): the first one, with the keys
        if self._later:
            self.call_after_refresh(self.add_later)

    @work(group="sessions-later", exclusive=True, exit_on_error=False)
    async def add_later(self) -> None:
        """Add the sessions that come after the first frame (`later`), in list order, hidden, in one mount
        (one layout of the screen, not one per session); the one the person asked for meanwhile (`ctrl+]`
        and its number) is shown. One that cannot be taken (it ended meanwhile, the owner went away) is one
        notification."""
        from claude_tui.tracking.errors import one_line

        later = list(self._later)

        def take_all() -> list[Callable[[], SessionView] | Exception]:
            taken: list[Callable[[], SessionView] | Exception] = []
            for take in later:
                try:
                    taken.append(take())
                except Exception as exc:
                    taken.append(exc)
            return taken

        taken = await asyncio.to_thread(take_all)
        if self._stopped:  # `stop_coming` meanwhile: the window is going
            return
        views = []
        for made in taken:
            if isinstance(made, Exception):
                self.notify(f"cannot show a session: {one_line(made)}", severity="error", title="Attach")
                continue
            view = made()
            view.display = False
            views.append(view)
        self._later.clear()
        self.views.extend(views)
        self._coming = 0
        await self.mount(*views)
        self._all_added.set()
        wanted = self.by_number(self._wanted) if self._wanted is not None else None
        if wanted is not None:
            self.show(wanted)
        else:
            self.update_list()

    def stop_coming(self) -> None:
        """Add no more sessions (the window ends on a signal: those not added yet run on in the owner)."""
        self._stopped = True
        self._later.clear()
        self._coming = 0
        self._all_added.set()

    @property
    def coming(self) -> int:
        """How many sessions are still to be added after the first frame (`add_later`)."""
        return self._coming

    # -- which session -----------------------------------------------------------------------------------

    def number(self, view: SessionView) -> int:
        """The session's number in the list (1-based)."""
        return self.views.index(view) + 1

    def by_number(self, number: int) -> SessionView | None:
        """The session numbered `number`, if there is one."""
        return self.views[number - 1] if 1 <= number <= len(self.views) else None

    @property
    def running(self) -> list[SessionView]:
        """The sessions whose program has not ended."""
        return [view for view in self.views if not view.ending]

    def waiting(self) -> list[SessionView]:
        """The sessions waiting for the person: those marked for attention first, then in list order."""
        waiting = [view for view in self.views if view.state == "waiting"]
        return sorted(waiting, key=lambda view: (view not in self._attention, self.views.index(view)))

    def next_waiting(self) -> SessionView | None:
        """The waiting session to go to from the active one (marked ones first); None if there is none."""
        waiting = [view for view in self.waiting() if view is not self.active]
        return waiting[0] if waiting else None

    def step(self, delta: int) -> SessionView | None:
        """The session `delta` places from the active one, going round; None when there is only one."""
        if len(self.views) < 2 or self.active is None:
            return None
        return self.views[(self.views.index(self.active) + delta) % len(self.views)]

    def attention(self, view: SessionView) -> bool:
        """Whether `view` started waiting for the person while in the background (and was not shown since)."""
        return view in self._attention

    # -- the keys ------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The keys work (and the footer shows them) once ctrl+] gave this tab the keyboard, or in a pane
        whose program has ended; while a program runs they are its keys. `w` only when a session waits."""
        focused = self.app.focused
        ended_pane = isinstance(focused, TerminalPane) and focused.exit_status is not None
        if not self.has_keys and not ended_pane:
            return False
        if action == "next_waiting":
            return self.next_waiting() is not None
        return True

    @property
    def has_keys(self) -> bool:
        """Whether ctrl+] gave this tab the keyboard (its keys act now)."""
        return isinstance(self.app.focused, ChordKeys) and self.app.focused.parent is self

    def take_released_keys(self) -> None:
        """ctrl+] in a pane (`TerminalPane.action_release_keyboard`): the keyboard comes here, where the
        sessions' keys are (and the app's, beyond)."""
        self.query_one(ChordKeys).take()

    def action_show_number(self, number: int) -> None:
        """Show session `number` of the list (one still coming is shown when it comes)."""
        if self.show(self.by_number(number)):
            return
        if len(self.views) < number <= len(self.views) + self._coming:
            self._wanted = number

    def action_step(self, delta: int) -> None:
        """Show the session `delta` places along the list (going round)."""
        self.show(self.step(delta))

    def action_previous_session(self) -> None:
        """Go back to the session shown before this one."""
        self.show(self.previous)

    def action_next_waiting(self) -> None:
        """Show the next session waiting for you."""
        self.show(self.next_waiting())

    def action_new_session(self) -> None:
        """The new-session dialog."""
        self.ask_new_session()

    def action_close_session(self) -> None:
        """Close the session shown (its program is ended gracefully and the session logged)."""
        self.close()

    def system_commands(self) -> Iterator[SystemCommand]:
        """The command palette's entries: a new session, and each session of the list."""
        yield SystemCommand("New session", "Start another session in this window (n)", self.ask_new_session)
        for number, view in enumerate(self.views, 1):
            entry = entry_for(view, number, active=view is self.active, attention=self.attention(view))
            where = entry.folder + (f" · {entry.branch}" if entry.branch else "")
            yield SystemCommand(
                f"Session {number}: {entry.name}", f"{entry.state} · {where}", partial(self.show, view)
            )

    # -- showing -----------------------------------------------------------------------------------------

    def show(self, view: SessionView | None, *, focus: bool = True) -> bool:
        """Show `view` (its pane takes the keyboard unless `focus` is False); False when there is none."""
        if view is None or view not in self.views:
            return False
        if view is not self.active:
            self.previous = self.active
        self.active = view
        self._wanted = None
        self._attention.discard(view)
        for other in self.views:
            other.display = other is view
        # Before the next frame, so it has the list and the counters as they are now:
        self.update_list()
        if view.is_mounted:
            view.sidebar.catch_up()
            view.pane.catch_up()  # the rows its output changed while hidden: the rest are drawn already
        if focus and view.is_mounted:
            view.pane.focus()
        self.post_message(self.Shown(view))
        return True

    def update_list(self) -> None:
        """Feed the shown session's list (each other view gets its list when it is shown)."""
        view = self.active
        if view is None or not view.is_mounted:
            return
        entries = [
            entry_for(v, i + 1, active=v is view, attention=v in self._attention)
            for i, v in enumerate(self.views)
        ]
        session_list = view.query_one(SessionList)
        session_list.show(entries)
        several = len(self.views) > 1
        session_list.set_class(several, "-shown")
        view.sidebar.set_sessions(session_strip(entries) if several else Text())

    async def open(self, view: SessionView) -> None:
        """Add a session and show it."""
        self.views.append(view)
        view.display = False
        await self.query("#no-session").remove()
        await self.mount(view)
        self.show(view)

    # -- what the sessions say ---------------------------------------------------------------------------

    @on(SessionView.Updated)
    def _session_updated(self, event: SessionView.Updated) -> None:
        view = event.view
        if view is not self.active:
            event.stop()  # the header follows the session shown
        state, before = view.state, self._states.get(view)
        self._states[view] = state
        if state == "waiting" and before != "waiting" and view is not self.active:
            self._attention.add(view)
        elif state != "waiting":
            self._attention.discard(view)
        if state != before:
            self.app.refresh_bindings()  # `w` comes and goes; an ended pane passes the keys on
        self.update_list()

    @on(SessionView.Retitled)
    def _session_retitled(self, event: SessionView.Retitled) -> None:
        if event.view is not self.active:
            event.stop()  # the header names the session shown
        self.update_list()

    @on(SessionList.Picked)
    def _picked(self, event: SessionList.Picked) -> None:
        event.stop()
        self.show(self.by_number(event.number))

    @on(SessionView.Ending)
    def _session_ending(self, event: SessionView.Ending) -> None:
        """The logging screen covers the window only when this was the last session running: the app exits
        once it is logged. Otherwise its entry says `logging`, and the others go on."""
        event.stop()
        if not [view for view in self.running if view is not event.view]:
            from claude_tui.screens.logging import LoggingScreen

            self.app.push_screen(LoggingScreen())
        self.update_list()

    @on(SessionView.Closed)
    def _session_closed(self, event: SessionView.Closed) -> None:
        event.stop()
        self.results.append(event.result)
        if event.result.detached:  # the window is going (a signal, or Detach): the rest run on in the owner
            self.stop_coming()
        if len(self.views) > 1 and event.result.run_id:
            number = self.number(event.view)
            self.notify(f"Session {number} logged: MLflow run {event.result.run_id}", title="Session ended")
        elif event.result.error:
            self.notify(f"Not logged: {event.result.error}", severity="error", title="Session ended")
        self._wrap_up_closed(event.view)

    @work(group="sessions-closing")
    async def _wrap_up_closed(self, view: SessionView) -> None:
        """Drop a session the person closed (its worktree settled first); exit once nothing runs."""
        if view.close_requested:
            await self._settle_worktree(view)
            await self.drop(view)
        else:
            self.update_list()
        # Every view's `Closed` handled, not only its result set: a view sets its result, then posts `Closed`,
        # and an `AllEnded` sent in between went without that view's result (the app exits on the first).
        handled = {id(result) for result in self.results}
        ended = all(v.result is not None and id(v.result) in handled for v in self.views)
        if not self.running and not self._coming and ended:
            for other in list(self.views):
                await self._settle_worktree(other)
            self.post_message(self.AllEnded(list(self.results), list(self.notes)))

    async def drop(self, view: SessionView) -> None:
        """Take a session out of the window; show the one shown before it (or a neighbour)."""
        if view not in self.views:
            return
        index = self.views.index(view)
        self.views.remove(view)
        self._attention.discard(view)
        self._states.pop(view, None)
        if self.previous is view:
            self.previous = None
        if self.active is view:
            self.active = None
            following = self.previous or (self.views[min(index, len(self.views) - 1)] if self.views else None)
            self.show(following)
        await view.remove()
        self.update_list()

    # -- opening -----------------------------------------------------------------------------------------

    def ask_new_session(self, error: str | None = None, initial: NewSession | None = None) -> None:
        """The new-session dialog; a session starts from what the person enters."""
        from claude_tui.screens.new_session import NewSession, NewSessionScreen  # here: not at start-up

        if initial is None:
            template = self.active.session.config if self.active is not None else None
            cwd = template.cwd if template is not None else Path.cwd()
            initial = NewSession(cwd=cwd, command=template.command if template is not None else "claude")
        self.app.push_screen(NewSessionScreen(initial, error=error), self._new_session_asked)

    def _new_session_asked(self, request: NewSession | None) -> None:
        if request is not None:
            self._start_session(request)

    @work(group="sessions-opening", exclusive=True)
    async def _start_session(self, request: NewSession) -> None:
        """Make the session's config (its worktree too), its spool, then its view; a failure reopens the
        dialog with what was entered and why it failed."""
        from claude_tui.tracking.errors import one_line

        size = self.active.pane.size if self.active is not None and self.active.is_mounted else None
        cols, rows = (size.width, size.height) if size and size.width and size.height else (80, 24)
        try:
            if self.open_in_owner is not None:
                make = await asyncio.to_thread(
                    start_in_owner, self.open_in_owner, self.template, request, cols, rows
                )
                view = make()
            else:
                view = self._make_view(
                    await asyncio.to_thread(start_session, self.template, request, cols, rows)
                )
        except Exception as exc:  # a bad work dir, a program not found, a worktree git refuses, a full disk
            self.ask_new_session(one_line(exc), request)
            return
        await self.open(view)

    @work(group="sessions-opening")
    async def resume(self, make_config: Callable[[], SessionConfig]) -> None:
        """Start a session from `make_config()` (History's `r`: `--resume ID` in the run's work dir) and show
        it beside the others; a failure (a bad setting, a work dir gone, an owner that refuses) is one line
        in a notification. In a window on the owner's sessions the owner starts it: it outlives the window
        like the others."""
        from claude_tui.tracking.errors import one_line

        cols, rows = max(20, self.app.size.width - 34), max(5, self.app.size.height - 4)
        open_in_owner = self.open_in_owner

        def start() -> Callable[[], SessionView]:
            config = make_config()
            if open_in_owner is not None:
                return open_in_owner(config, cols, rows)
            session = TrackedSession(config)
            session.start(cols, rows)
            return partial(self._make_view, session)

        try:
            make = await asyncio.to_thread(start)
        except Exception as exc:  # ConfigError, OSError, ValueError; the owner's OwnerError, ProgramNotFound
            self.notify(f"cannot resume: {one_line(exc)}", severity="error", title="Resume")
            return
        await self.open(make())

    # -- closing -----------------------------------------------------------------------------------------

    async def quit(self) -> None:
        """`ctrl+q`: end the running sessions' programs gracefully (each is logged, then the app exits).
        Where the owner runs them, ask first (`ask_quit`): detaching is the default. Sessions still coming
        (`add_later`) are waited for: the answer is for them too."""
        await self._all_added.wait()
        running = self.running
        if not running and all(view.result is not None for view in self.views):
            self.app.exit(SessionResult())
        if any(view.attached for view in running):
            self.ask_quit(running)
        else:
            await asyncio.gather(*(view.end_program() for view in running))

    @work(group="quit", exclusive=True)
    async def ask_quit(self, running: list[SessionView]) -> None:
        """Detach (the default: the sessions run on in the owner) or end them all (each is logged)."""
        from claude_tui.paths import own_command
        from claude_tui.screens.choice import ChoiceScreen  # here: not on the way to Claude's first frame

        count = f"{len(running)} sessions run" if len(running) > 1 else "The session runs"
        answer = await self.app.push_screen_wait(
            ChoiceScreen(
                "Quit claude-tui?",
                f"{count} in the session owner.\nDetach: they run on; `{own_command()} attach` shows them "
                "again.\nEnd all: each program is ended (as ctrl+c twice would) and its session logged.",
                [("detach", "Detach"), ("end", "End all"), ("cancel", "Cancel")],
                default="detach",
                safe="cancel",
            )
        )
        running = [view for view in running if not view.ending]
        if answer == "detach":  # a session of the window's own (History's `r`) cannot be detached: it ends
            await asyncio.gather(*(view.end_program() for view in running if not view.detach()))
        elif answer == "end":
            await asyncio.gather(*(view.end_program() for view in running))

    @work(group="sessions-closing-ask")
    async def close(self, view: SessionView | None = None) -> None:
        """Close `view` (the active one by default): ask, end its program gracefully; it is logged, then
        taken out of the window (`_wrap_up_closed`). An ended session is taken out at once."""
        from claude_tui.screens.choice import ChoiceScreen

        view = view or self.active
        if view is None or view not in self.views:
            return
        if view.result is not None:  # ended and wrapped up: nothing to end or log
            view.close_requested = True
            await self._settle_worktree(view)
            await self.drop(view)
            if not self.views:
                self.post_message(self.AllEnded(list(self.results), list(self.notes)))
            return
        if view.ending:
            view.close_requested = True  # it goes once logged
            return
        number = self.number(view)
        answer = await self.app.push_screen_wait(
            ChoiceScreen(
                f"Close session {number}?",
                f"{session_name(view)}\nIts program is ended (as ctrl+c twice would) and the session logged.",
                [("cancel", "Cancel"), ("end", "End it")],
                default="end",
                safe="cancel",
            )
        )
        if answer == "end" and view in self.views:
            view.close_requested = True
            await view.end_program()

    async def _settle_worktree(self, view: SessionView) -> None:
        """Ask whether to keep or remove the worktree a closed session made (once); keep it unless told to
        remove it, and never remove uncommitted work without a second, explicit answer."""
        from claude_tui.screens.choice import ChoiceScreen

        worktree = view.session.config.worktree
        if worktree is None or not worktree.created or view in self._worktrees_settled:
            return
        self._worktrees_settled.add(view)
        from claude_tui.worktree import WorktreeError, changes, remove

        found = await asyncio.to_thread(changes, worktree)
        where = f"{home_relative(worktree.path)}\nbranch {worktree.branch}: {found.describe()}"
        answer = await self.app.push_screen_wait(
            ChoiceScreen(
                f"Session {self.number(view)}'s worktree",
                where,
                [("keep", "Keep"), ("remove", "Remove")],
                default="keep",
                safe="keep",
            )
        )
        force = False
        if answer == "remove" and not found.clean:
            answer = await self.app.push_screen_wait(
                ChoiceScreen(
                    "Remove uncommitted work?",
                    f"{home_relative(worktree.path)} has {found.describe()}.\nRemoving it loses them.",
                    [("keep", "Keep it"), ("remove", "Remove anyway")],
                    default="keep",
                    safe="keep",
                )
            )
            force = True
        if answer != "remove":
            self.notes.append(kept_line(worktree))
            return
        try:
            self.notes.append(await asyncio.to_thread(remove, worktree, force=force))
        except WorktreeError as exc:
            self.notes.append(f"{exc}; {kept_line(worktree)}")
        self.notify(self.notes[-1], title="Worktree")


def kept_line(worktree: Worktree) -> str:
    """What the person reads about a worktree that stays."""
    return f"worktree kept: {worktree.path} (branch {worktree.branch})"


def new_config(template: SessionConfig, request: NewSession) -> SessionConfig:
    """The config of the session `request` asks for, its worktree made (in a thread: git touches disk)."""
    config = template.for_another_session(cwd=request.cwd, prompt=request.prompt, command=request.command)
    if request.worktree is not None:
        from claude_tui.config import load_settings
        from claude_tui.worktree import create

        config.worktree = create(
            request.cwd,
            request.worktree or None,
            session_id=config.session_id,
            prompt=request.prompt,
            folder=load_settings().worktree_dir,
        )
        config.cwd = config.worktree.cwd
    return config


def start_session(template: SessionConfig, request: NewSession, cols: int, rows: int) -> TrackedSession:
    """A started session for `request` (in a thread: the worktree, the git state and the spool touch disk);
    a worktree made for it is removed again when the session cannot start."""
    config = new_config(template, request)
    try:
        session = TrackedSession(config)
        session.start(cols, rows)
    except BaseException:
        discard_worktree(config)
        raise
    return session


def start_in_owner(
    open_in_owner: OpenInOwner, template: SessionConfig, request: NewSession, cols: int, rows: int
) -> Callable[[], SessionView]:
    """`start_session` for a window on the owner's sessions: the owner starts it (in a thread)."""
    config = new_config(template, request)
    try:
        return open_in_owner(config, cols, rows)
    except BaseException:
        discard_worktree(config)
        raise


def discard_worktree(config: SessionConfig) -> None:
    """Remove the new worktree of a session that could not start (nothing can be in it)."""
    if config.worktree is not None:
        from claude_tui.worktree import discard_unused

        discard_unused(config.worktree)
