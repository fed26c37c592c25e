"""`AttachedSessionView`: a session the owner process runs, shown in this window (`claude-tui attach`).

The same pane and sidebar as `SessionView`, with an `OwnerPump` as the pane's program: the screen and the
scrollback come from the owner's emulator, keys and resizes go to the program through the owner, and the
counters are the owner's (its `TrackedSession` reads the transcript and records the session). Nothing is
recorded or logged here: when the program ends, the owner logs the session (once, by its logger process).
Quitting the window detaches (`detach`): the program runs on, and `claude-tui ls` still lists it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_tui.session import SessionConfig, SessionResult, TrackedSession
from claude_tui.widgets.session_view import SessionView

if TYPE_CHECKING:
    from collections.abc import Sequence

    from claude_tui.owner.attached import OwnerPump
    from claude_tui.snapshot import SessionSnapshot
    from claude_tui.terminal.pty_session import ExitStatus

__all__ = ["AttachedSessionView", "attached_session"]


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
        hint: as `SessionView`'s.
    """

    attached = True

    def __init__(self, pump: OwnerPump, *, hint: str | Sequence[str] | None = None) -> None:
        super().__init__(attached_session(pump), log_session=_not_here, pump=pump, hint=hint)
        self.owner_pump = pump
        """The session's stream from the owner."""

    @property
    def state(self) -> str:
        """As `SessionView.state`; `detached` once this window let go of it."""
        if self.result is not None and self.result.detached:
            return "detached"
        return super().state

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
        """The program ended (the owner said so): the owner logs the session; nothing is left to do here."""
        if self._ending:
            return
        self._ending = True
        self._listed_changed()
        self._wrapped_up(self._result(exit_code=status.code, signal=status.signal))

    def _result(self, **values: Any) -> SessionResult:
        info = self.owner_pump.info
        tracked = bool(info.get("tracked"))
        return SessionResult(
            session_id=self.session.config.session_id,
            tracking_uri=info.get("tracking_uri") if tracked else None,
            handed_off=tracked and not values.get("detached"),
            **values,
        )
