"""The least a Textual wrapper can do before Claude's first frame shows: the floor for `bench_startup`.

Spawns the program in a PTY as its very first act (before Textual is imported), then runs a one-widget
Textual app that reads the PTY and shows the banner's words once they arrive: no emulator, no sidebar, no
recording. claude-tui cannot start faster than this on the same machine.

Usage: python benchmarks/startup_floor.py PROGRAM [ARGS...]

`drawn_banner` is also how `bench_startup` decides that the banner is on a terminal: Claude names its
window "✳ Claude Code" (an OSC title sequence) ~40 ms before it draws the banner, and draws the banner as
"Claude", a cursor move, "Code". Titles are taken out before looking, so the clock stops at the frame.
"""

from __future__ import annotations

import os
import pty
import re
import sys

OSC = re.compile(rb"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
"""An operating system command: window titles and the like, not drawn on the screen."""
BANNER = re.compile(rb"Claude(?:\x1b\[[0-9;]*[mG]| )+Code")
"""The banner's words as Claude draws them (a cursor move between) or as Textual does (a space, styles)."""


def drawn_banner(output: bytes) -> bool:
    """Whether the banner has been drawn in this terminal output (a window title does not count)."""
    return BANNER.search(OSC.sub(b"", output)) is not None


def main() -> None:
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.argv[1], sys.argv[1:])
    from textual.app import App, ComposeResult
    from textual.widgets import Static

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
            if drawn_banner(self.seen):
                self._loop.remove_reader(fd)
                self.query_one("#out", Static).update("Claude Code")

    Floor().run()


if __name__ == "__main__":
    main()
