"""The least a Textual wrapper can do before Claude's first frame shows: the floor for `bench_startup`.

Spawns the program in a PTY as its very first act (before Textual is imported), then runs a one-widget
Textual app that reads the PTY and shows the banner's words once they arrive: no emulator, no sidebar, no
recording. claude-tui cannot start faster than this on the same machine.

Usage: python benchmarks/startup_floor.py PROGRAM [ARGS...]
"""

from __future__ import annotations

import os
import pty
import re
import sys


def main() -> None:
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.argv[1], sys.argv[1:])
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    banner = re.compile(rb"Claude(?:\x1b\[[0-9;]*m)* (?:\x1b\[[0-9;]*m)*Code")

    class Floor(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("waiting", id="out")

        def on_mount(self) -> None:
            self.seen = b""
            self._loop = __import__("asyncio").get_running_loop()
            self._loop.add_reader(fd, self.readable)

        def readable(self) -> None:
            try:
                self.seen += os.read(fd, 65536)
            except OSError:
                self._loop.remove_reader(fd)
                return
            if banner.search(self.seen):
                self._loop.remove_reader(fd)
                self.query_one("#out", Static).update("Claude Code")

    Floor().run()


if __name__ == "__main__":
    main()
