"""Asking Claude Code to leave as a user does: ctrl+c, then ctrl+c again while it says "again to exit".

Claude Code (an Ink app) exits with status 0, its transcript flushed, on two ctrl+c within its double-press
window (about 0.8 s with 2.1.328), and shows "Press Ctrl-C again to exit" in between. Two presses sent
blindly 0.3 s apart miss that window whenever Claude gets no CPU between them: its window timer then runs
before it reads the second press, which opens a new window instead (measured: Claude stopped for 1.2 s after
showing the hint stays, and ends 129 after claude-tui's SIGHUP). So the second press answers the hint read
from the screen, and a press that brought no hint, or a hint that was answered in vain, is pressed again
after `DoublePress.RESEND_AFTER` seconds, until Claude is gone or the caller's wait is over.

Both the terminal pane (a session the UI runs) and the session owner (`owner.server.OwnedSession.end`) end
Claude through :func:`ask_claude_to_leave`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from claude_tui.terminal.emulator import TerminalEmulator

__all__ = ["CTRL_C", "EXIT_HINT", "DoublePress", "ask_claude_to_leave", "shows_exit_hint"]

CTRL_C = b"\x03"

EXIT_HINT = "again to exit"
"""What every exit hint of the pinned CLI says: "Press Ctrl-C again to exit" under the prompt
box, "press ctrl+c or q again to exit" and "press ctrl+d again to exit" in its dialogs."""


def shows_exit_hint(lines: Iterable[str]) -> bool:
    """True when the screen asks for the second press."""
    return any(EXIT_HINT in line for line in lines)


class DoublePress:
    """When to press ctrl+c next, from what the screen shows: pure, so that it can be tested without a clock.

    The first call presses; a hint not yet answered is answered at once; otherwise a press is repeated
    `RESEND_AFTER` seconds after the last one (the press was lost, or cleared the prompt's text, or stopped a
    turn, or it came after the window had closed and the hint on screen is a new one).
    """

    RESEND_AFTER = 1.0
    """Seconds without success after a press before the next: longer than Claude takes to draw the hint when
    it has CPU (tens of ms), and short beside the callers' `CLAUDE_EXIT_WAIT`."""

    def __init__(self) -> None:
        self._pressed_at: float | None = None
        self._answered = False
        """A press went out while the hint on screen now was shown."""

    def due(self, now: float, hint: bool) -> bool:
        """Whether to press ctrl+c at `now` (monotonic seconds), `hint` telling whether the screen shows the
        exit hint; a True answer counts as the press."""
        if not hint:
            self._answered = False
        pressed_at = self._pressed_at
        if pressed_at is None or (hint and not self._answered) or now - pressed_at >= self.RESEND_AFTER:
            self._pressed_at = now
            self._answered = hint
            return True
        return False


async def ask_claude_to_leave(
    send: Callable[[bytes], None],
    emulator: TerminalEmulator,
    gone: Callable[[], bool],
    wait: float,
    *,
    poll: float = 0.05,
) -> bool:
    """Press ctrl+c as `DoublePress` says, reading the hint from `emulator` (which whoever reads the program's
    output keeps fed meanwhile), until `gone()` or `wait` seconds have passed; True if the program left."""
    presses = DoublePress()
    deadline = time.monotonic() + wait
    while not gone():
        now = time.monotonic()
        if now >= deadline:
            return False
        if presses.due(now, shows_exit_hint(emulator.display)):
            send(CTRL_C)
        await asyncio.sleep(poll)
    return True
