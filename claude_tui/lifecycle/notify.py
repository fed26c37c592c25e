"""Telling the person that Claude waits for them: the outer terminal's bell and notifications, a command.

- `terminal_notification(title, body)`: BEL, then OSC 9 (iTerm2, WezTerm, kitty, Ghostty, Windows Terminal)
  and OSC 777 (rxvt-unicode, foot, Konsole, VTE terminals) carrying the text, which terminals that know them
  turn into desktop notifications and others ignore. Inside tmux (`$TMUX`) the OSCs are wrapped for tmux's
  passthrough (shown when `allow-passthrough` is on); tmux handles the BEL itself (its bell flag and
  `bell-action`).
- `NotifyCommand(command)`: runs the user's `--notify-command` through `sh -c` with the reason and the session
  in its environment, detached (it never blocks the session and its output goes nowhere).

Stdlib only; the UI writes the sequences to the terminal it owns, and the session core runs the command.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping

__all__ = ["NotifyCommand", "terminal_notification"]

TEXT_MAX = 200
"""Characters of title and body kept in a notification."""


def _clean(text: str, limit: int = TEXT_MAX) -> str:
    """`text` without control characters (they would end or break the sequence), on one line."""
    return "".join(ch if ch.isprintable() else " " for ch in text)[:limit].strip()


def terminal_notification(title: str, body: str, *, in_tmux: bool | None = None) -> str:
    """The bytes (as text) that ring the outer terminal and ask it for a desktop notification."""
    title = _clean(title).replace(";", ",") or "claude-tui"
    body = _clean(body)
    osc = f"\x1b]9;{title}: {body}\x07\x1b]777;notify;{title};{body}\x07"
    if in_tmux if in_tmux is not None else bool(os.environ.get("TMUX")):
        osc = "\x1bPtmux;" + osc.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return "\x07" + osc


class NotifyCommand:
    """The user's `--notify-command`: `run(env)` starts it detached; finished ones are reaped as we go."""

    def __init__(self, command: str) -> None:
        self.command = command
        self._running: list[subprocess.Popen[bytes]] = []

    def run(self, env: Mapping[str, str]) -> None:
        """Start the command with `env` added to ours; a command that cannot start is ignored."""
        self._running = [p for p in self._running if p.poll() is None]
        try:
            process = subprocess.Popen(
                ["/bin/sh", "-c", self.command],
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a ctrl+c meant for claude-tui's program does not reach it
            )
        except OSError:
            return
        self._running.append(process)

    def wait(self, timeout: float = 5.0) -> None:
        """Wait for the commands still running (at the session's end), at most `timeout` seconds each."""
        for process in self._running:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self._running = [p for p in self._running if p.poll() is None]
