"""tmux servers of a test's own, driven as a person drives a terminal: type, read the screen, wait for text.

Each has its own server socket (so nothing touches a user's tmux), no status line, and exact targets
(`-t =NAME:`: a bare name also matches windows by prefix).

- `Tmux(tmp, env)`: one session running a shell with exactly `env`; type into it, read it.
- `TmuxWindows(tmp)`: one window per program (`run(name, argv, env, cwd)`, its exit status in a file), and
  the window flags tmux keeps (`flag(window, "window_bell_flag")`: the outer terminal saw the bell).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.helpers import wait_until


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
        """Type `text` literally, then, once the program shows it, Enter: a TUI reading a paste-like burst
        takes an Enter read with the text as part of it, and a fixed pause is too short under load."""
        before = self.joined().count(text)
        subprocess.run([*self.base, "send-keys", "-t", self.target, "-l", text], check=True)
        if enter:
            wait_until(lambda: self.joined().count(text) > before, 60, f"the program to show {text!r}")
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

    def joined(self) -> str:
        """The visible screen as text, lines the terminal wrapped joined again."""
        out = subprocess.run(
            [*self.base, "capture-pane", "-p", "-J", "-t", self.target],
            check=True,
            capture_output=True,
            text=True,
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


class TmuxWindows:
    """A server with a window named `home` running a shell that waits, and one window per program `run` opens
    (bell monitoring on, windows kept after their program ends)."""

    def __init__(self, tmp_path: Path, cols: int = 140, rows: int = 42) -> None:
        if shutil.which("tmux") is None:
            raise AssertionError("tmux is not installed (the set-up installs it from Debian's packages)")
        self.folder = tmp_path
        self.name = f"t{uuid.uuid4().hex[:8]}"
        self.socket = tmp_path / f"tmux-{self.name}"
        conf = tmp_path / "tmux.conf"
        conf.write_text(
            "set -g status off\nset -g default-terminal xterm-256color\nset -g history-limit 5000\n"
            "set -g monitor-bell on\nset -g bell-action any\nset -g remain-on-exit on\n"
        )
        self.base = ["tmux", "-u", "-S", str(self.socket), "-f", str(conf)]
        self.env = {k: v for k, v in os.environ.items() if k != "TMUX"} | {"LANG": "C.UTF-8"}
        self._tmux("new-session", "-d", "-s", self.name, "-n", "home", "-x", str(cols), "-y", str(rows),
                   "sh", "-c", "sleep 3600")  # fmt: skip

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            [*self.base, *args], check=True, env=self.env, capture_output=True, text=True, timeout=30
        )
        return done.stdout

    def target(self, window: str) -> str:
        """An exact target (`-t b` would also match a window called `bash` by prefix)."""
        return f"={self.name}:={window}"

    def run(self, window: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> Path:
        """Open `window` running `argv` with exactly `env` in `cwd`; the file its exit status goes to."""
        status = self.folder / f"{window}.status"
        script = self.folder / f"{window}.sh"
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
        script.write_text(
            f"#!/bin/sh\n{exports}cd {shlex.quote(str(cwd))}\n{shlex.join(argv)}\necho $? > {status}\n"
        )
        script.chmod(0o755)
        self._tmux(
            "new-window", "-d", "-t", f"={self.name}:", "-n", window, "env", "-i", "/bin/sh", str(script)
        )
        return status

    def screen(self, window: str, *, history: bool = False) -> str:
        """The window's screen as text (with `history`, the scrollback too: a program's last lines)."""
        return self._tmux("capture-pane", "-p", *(["-S", "-"] if history else []), "-t", self.target(window))

    def keys(self, window: str, *keys: str) -> None:
        """Press keys (tmux names: `Enter`, `Escape`, `C-c`)."""
        self._tmux("send-keys", "-t", self.target(window), *keys)

    def text(self, window: str, text: str) -> None:
        """Type text literally."""
        self._tmux("send-keys", "-l", "-t", self.target(window), text)

    def type_line(self, window: str, text: str, *, retype_after: float | None = None) -> None:
        """Type `text`, wait until the program shows it (once more than before), press Enter (as a person
        submits a line: an Enter read with the text would be part of a paste).

        `retype_after`: for Claude's prompt box just drawn (at start-up, or a resumed conversation): keys it
        reads while it swaps screens are dropped, so while its box (`❯`) stays empty that many seconds after
        a try, type the text again, as a person whose keys got lost does (as `tests.helpers.type_prompt`)."""
        before = self.screen(window).count(text)

        def shown() -> bool:
            return self.screen(window).count(text) > before

        def empty() -> bool:
            return any(line.strip() == "\u276f" for line in self.screen(window).splitlines())

        deadline = time.monotonic() + 60
        self.text(window, text)
        while retype_after is not None and time.monotonic() + retype_after < deadline:
            tried = time.monotonic() + retype_after
            while not shown() and time.monotonic() < tried:
                time.sleep(0.1)
            if shown() or not empty():
                break
            self.text(window, text)
        wait_until(shown, max(deadline - time.monotonic(), 1.0), f"{window} to show {text!r}")
        self.keys(window, "Enter")

    def select(self, window: str) -> None:
        """Make `window` the current one (a bell in another window sets that window's bell flag)."""
        self._tmux("select-window", "-t", self.target(window))

    def flag(self, window: str, name: str) -> str:
        """A format variable of the window, e.g. `window_bell_flag`."""
        return self._tmux("display-message", "-p", "-t", self.target(window), f"#{{{name}}}").strip()

    def wait_for_text(self, window: str, text: str, timeout: float = 60.0) -> str:
        """Poll the window's screen until it shows `text`; the screen. Fails with the screen on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen(window)
            if text in shown:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {text!r} in window {window}:\n{shown}")
            time.sleep(0.2)

    def close(self) -> None:
        """Kill the server (and every program in its windows)."""
        subprocess.run([*self.base, "kill-server"], env=self.env, capture_output=True, timeout=30)
