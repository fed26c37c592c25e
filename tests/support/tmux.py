"""A tmux session driven like a user drives a terminal: type, read the screen, wait for text.

Each `Tmux` has its own server socket (so nothing touches a user's tmux), no status line, and exact targets
(`-t =NAME:`: a bare name also matches windows by prefix).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping
from pathlib import Path


class Tmux:
    """One tmux server with one session of `cols` x `rows` running a shell with exactly `env`."""

    def __init__(self, tmp: Path, env: Mapping[str, str], *, cols: int = 80, rows: int = 24) -> None:
        if shutil.which("tmux") is None:
            raise AssertionError("tmux is not installed (the set-up installs it from Debian's packages)")
        conf = tmp / "tmux.conf"
        conf.write_text("set -g status off\nset -g history-limit 5000\n")
        self.socket = tmp / f"tmux-{uuid.uuid4().hex[:8]}"
        self.base = ["tmux", "-u", "-S", str(self.socket), "-f", str(conf)]
        self.name = "user"
        self.env = dict(env)
        shell = ["env", "-i", *(f"{k}={v}" for k, v in self.env.items()), "bash", "--norc", "--noprofile"]
        subprocess.run(
            [*self.base, "new-session", "-d", "-s", self.name, "-x", str(cols), "-y", str(rows), *shell],
            check=True,
            env={"PATH": "/usr/bin:/bin", "TERM": "xterm-256color"},
        )
        self.target = f"={self.name}:"

    def type(self, text: str, *, enter: bool = True) -> None:
        """Type `text` literally, then Enter."""
        subprocess.run([*self.base, "send-keys", "-t", self.target, "-l", text], check=True)
        if enter:
            time.sleep(0.3)  # a TUI reading a paste-like burst takes the Enter as part of it otherwise
            self.key("Enter")

    def key(self, *names: str) -> None:
        """Press keys by tmux name (`Enter`, `C-]`, ...)."""
        subprocess.run([*self.base, "send-keys", "-t", self.target, *names], check=True)

    def screen(self) -> str:
        """The visible screen as text."""
        out = subprocess.run(
            [*self.base, "capture-pane", "-p", "-t", self.target], check=True, capture_output=True, text=True
        )
        return out.stdout

    def history(self) -> str:
        """Scrollback and screen as text."""
        out = subprocess.run(
            [*self.base, "capture-pane", "-p", "-S", "-", "-t", self.target],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout

    def wait_for(self, pattern: str, timeout: float = 60, *, scrollback: bool = False) -> re.Match[str]:
        """Wait until `pattern` (a regex) is on the screen (or in the scrollback); fail showing the screen."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.history() if scrollback else self.screen()
            match = re.search(pattern, text)
            if match:
                return match
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout:.0f}s waiting for {pattern!r}; screen:\n{text}"
                )
            time.sleep(0.2)

    def close(self) -> None:
        """Kill the server and everything running in it."""
        subprocess.run([*self.base, "kill-server"], check=False, capture_output=True)
