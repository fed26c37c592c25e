"""The program the entry point spawned before anything heavy loaded, waiting for `commands.run` to adopt it.

`launch.main` spawns the program of a `run` command line at once (docs/startup.md) and hands it over here;
`commands.run` claims it once. Kept apart from both so that neither imports the other: the entry point sits
above the CLI, and the commands must not import the entry point. Light: stdlib and `terminal.pty_session`.
"""

from __future__ import annotations

import atexit
import os
import sys

from claude_tui import layout

TYPE_CHECKING = False
if TYPE_CHECKING:  # `typing` itself takes ~3 ms to import before Claude's spawn
    import socket

    from claude_tui.terminal.pty_session import PtySession


def pane_size() -> tuple[int, int]:
    """The pane's columns and rows in the current terminal, before Textual has laid it out."""
    columns, lines = terminal_size((120, 40))
    return layout.pane_size(columns, lines)


def terminal_size(fallback: tuple[int, int]) -> tuple[int, int]:
    """`shutil.get_terminal_size(fallback)` as ``(columns, lines)``, without importing `shutil` (with bz2,
    lzma and zlib: ~3 ms before Claude's spawn): `$COLUMNS` and `$LINES`, else standard output's terminal,
    else `fallback`."""
    sizes = []
    for name in ("COLUMNS", "LINES"):
        try:
            sizes.append(int(os.environ[name]))
        except (KeyError, ValueError):
            sizes.append(0)
    columns, lines = sizes
    if columns <= 0 or lines <= 0:
        try:
            size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            size = os.terminal_size(fallback)
        columns = columns if columns > 0 else size.columns or fallback[0]
        lines = lines if lines > 0 else size.lines or fallback[1]
    return columns, lines


class Prespawned:
    """A program spawned by `launch.prespawn`, waiting for `commands.run` to claim it."""

    def __init__(
        self,
        session_id: str,
        argv: list[str],
        cwd: str,
        pty: PtySession | None,
        env: dict[str, str | None] | None = None,
        hook_secret: str | None = None,
        owner: socket.socket | None = None,
    ) -> None:
        self.session_id = session_id
        self.argv = argv
        self.cwd = cwd
        self.pty = pty
        """The program, when this process spawned it (None: the session owner runs it, `owner`)."""
        self.owner = owner
        """The connection to the session owner that spawned the program (its answers not read yet)."""
        self.env = env if env is not None else {}
        """The environment overrides it was spawned with (Claude's telemetry export; zsh's shell-integration
        ZDOTDIR)."""
        self.hook_secret = hook_secret
        """The secret of the hook routes its argv names (Claude only)."""

    def end(self) -> None:
        """End the program (not claimed after all): this process's, or the owner's (which ends a program
        whose client went away before claiming it)."""
        if self.pty is not None:
            self.pty.terminate(grace=0.5)
        if self.owner is not None:
            self.owner.close()


_prespawned: Prespawned | None = None


def hand_over(early: Prespawned) -> None:
    """Keep `early` for `claim`; it is ended at exit if nobody claims it."""
    global _prespawned
    _prespawned = early
    atexit.register(_end_unclaimed)


def claim() -> Prespawned | None:
    """The early program, handed over once (None when there is none or it was already claimed)."""
    global _prespawned
    taken, _prespawned = _prespawned, None
    return taken


def _end_unclaimed() -> None:
    """At exit: a program spawned early whose command line click then refused must not outlive us."""
    taken = claim()
    if taken is not None:
        taken.end()
