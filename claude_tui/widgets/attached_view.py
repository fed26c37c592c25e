"""`AttachedSessionView`: a session the owner process runs, shown in this window (`claude-tui attach`).

The same pane and sidebar as `SessionView`, with an `OwnerPump` as the pane's program: the screen and the
scrollback come from the owner's emulator, keys and resizes go to the program through the owner, and the
counters are the owner's (its `TrackedSession` reads the transcript and records the session). Nothing is
recorded or logged here: when the program ends, the owner logs the session (once, by its logger process).
Quitting the window detaches (`detach`): the program runs on, and `claude-tui ls` still lists it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.binding import Binding

from claude_tui.session import SessionConfig, SessionResult, TrackedSession
from claude_tui.widgets.session_view import SessionView

if TYPE_CHECKING:
    from collections.abc import Callable

    from claude_tui.owner.attached import OwnerPump
    from claude_tui.owner.client import OwnerClient
    from claude_tui.snapshot import SessionSnapshot
    from claude_tui.terminal.pty_session import ExitStatus

__all__ = [
    "QUIT_DETACHES",
    "AttachedSessionView",
    "attached_session",
    "open_in_owner",
    "take_later",
    "template_config",
]

QUIT_DETACHES = Binding("ctrl+q", "quit", "Quit (detach)", priority=True)
"""ctrl+q in a window on the owner's sessions: it asks, and detaching (the sessions run on) is the default."""


def attached_session(pump: OwnerPump) -> TrackedSession:
    """A `TrackedSession` that only names the owner's session here (its config, title, branch): it records
    nothing and posts no hooks, because the owner does all that."""
    info = pump.info
    if pump.config:
        config = SessionConfig.from_dict(pump.config)
    else:  # an owner that did not send its config: what `ls` shows is enough to name the session
        config = SessionConfig(
            command=str(info.get("command") or "claude"),
            cwd=Path(str(info.get("cwd") or ".")),
            session_id=pump.session_id,
            tracking_uri=info.get("tracking_uri"),
        )
    config = replace(config, track=False, hooks=False, notify_command=None)
    session = TrackedSession(config, argv=[str(word) for word in info.get("argv") or [config.command]])
    session.git_start = {**session.git_start, "branch": info.get("branch")}
    return session


def _not_here(*args: Any) -> Any:
    raise RuntimeError("the owner logs an attached session")


class AttachedSessionView(SessionView):
    """One of the owner's sessions in this window (see the module docstring).

    Args:
        pump: the attached session (`OwnerPump.attach`).
        hint: as `SessionView`'s; default: the one the session was started with (`OwnerPump.hint`).
    """

    attached = True

    HIDDEN_POLL_INTERVAL = 30.0
    """Seconds between polls while another session is shown: what its entry in the list shows (state, counts)
    comes from the owner's stats and state messages, each of which wakes the poll (`OwnerPump.on_news`), so a
    hidden session needs no clock of its own (8 hidden sessions polling each second kept the window at 0.5-1 %
    CPU: a Textual timer, a message and a snapshot each, for nothing new)."""

    def __init__(
        self,
        pump: OwnerPump,
        *,
        hint: str | Sequence[str] | None = None,
        later: Sequence[Callable[[], Callable[[], SessionView]]] = (),
    ) -> None:
        hint = pump.hint if hint is None else hint
        super().__init__(attached_session(pump), log_session=_not_here, pump=pump, hint=hint)
        self.owner_pump = pump
        """The session's stream from the owner."""
        self.later = list(later)
        """The sessions `claude-tui attach` asked for with this one, taken after the window's first frame
        (`take_later`, `SessionTab.add_later`)."""
        pump.on_news = lambda: self.post_message(self.News())
        self.owner_config = SessionConfig.from_dict(pump.config) if pump.config else None
        """The session's config as the owner runs it (what a session opened with `n` starts from)."""

    @property
    def state(self) -> str:
        """As `SessionView.state`; `detached` once this window let go of it."""
        if self.result is not None and self.result.detached:
            return "detached"
        return super().state

    def poll_delay(self, now: float) -> float:
        """As `SessionView.poll_delay` while shown; `HIDDEN_POLL_INTERVAL` while another session is."""
        return super().poll_delay(now) if self.display else self.HIDDEN_POLL_INTERVAL

    def on_show(self) -> None:
        """Shown again: the poll comes back to the shown session's pace at once."""
        self.news()

    def _take_snapshot(self) -> SessionSnapshot | None:
        """The owner's latest stats (it polls the session; each wait and alert comes once)."""
        return self.owner_pump.take_snapshot()

    def detach(self) -> bool:
        """Let go of the session: the program runs on in the owner; the window may close."""
        if not self._ending:
            self._ending = True
            self._listed_changed()
            self._wrapped_up(self._result(detached=True))
        return True

    async def forward_signal(self, signum: int) -> None:
        """A hang-up or termination of this window detaches: the owner's program outlives it."""
        self.detach()

    def _end(self, status: ExitStatus) -> None:
        """The program ended (the owner said so): the owner logs the session; here only whether its store
        answers, so the window can say at once that it is kept for `claude-tui sync` (`_store_check`)."""
        if self._ending:
            return
        self._ending = True
        self._listed_changed()
        result = self._result(exit_code=status.code, signal=status.signal)
        if result.handed_off:
            self._store_check(result)
        else:
            self._wrapped_up(result)

    @work(thread=True, exclusive=True, exit_on_error=False, group="wrap-up")
    def _store_check(self, result: SessionResult) -> None:
        """A store that does not answer (`tracking.reach`: a tenth of a second, a few at most) cannot take
        the session now: the owner keeps its spool, and the window says how to retry."""
        from claude_tui.tracking.reach import store_reachable

        reachable = store_reachable(result.tracking_uri)
        if not reachable:
            result = replace(result, handed_off=False, error=reachable.reason)
        self.app.call_from_thread(self._wrapped_up, result)

    def _result(self, **values: Any) -> SessionResult:
        info = self.owner_pump.info
        tracked = bool(info.get("tracked"))
        return SessionResult(
            session_id=self.session.config.session_id,
            tracking_uri=info.get("tracking_uri") if tracked else None,
            handed_off=tracked and not values.get("detached"),
            **values,
        )


def open_in_owner(config: SessionConfig, cols: int, rows: int) -> Callable[[], SessionView]:
    """`n` in a window on the owner's sessions: the owner starts the new session (so it outlives the
    window too) and this window attaches to it. Blocking (run it in a thread); returns what makes the view
    (on the event loop). Raises as `OwnerPump.start_session`."""
    from claude_tui.owner.attached import OwnerPump

    pump = OwnerPump.start_session(config, cols=cols, rows=rows)
    return lambda: AttachedSessionView(pump)


def take_later(client: OwnerClient) -> Callable[[], Callable[[], SessionView]]:
    """A session `claude-tui attach` asked for (`OwnerPump.ask_attach`), taken after the window's first
    frame (`SessionTab.add_later`): in a thread, its screen is restored; what that returns makes the view."""
    from claude_tui.owner.attached import OwnerPump

    def take() -> Callable[[], SessionView]:
        pump = OwnerPump.take(client, None)
        return lambda: AttachedSessionView(pump)

    return take


def template_config(views: Sequence[SessionView]) -> SessionConfig | None:
    """What a session opened with `n` starts from: the first session's config (as the owner runs it, for
    one of the owner's sessions); None without a session."""
    if not views:
        return None
    first = views[0]
    return first.owner_config if isinstance(first, AttachedSessionView) else first.session.config
