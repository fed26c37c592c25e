"""The app `bench_sessions` switches in: two untracked sessions of `PROGRAM LINES` (named A and B), the
second opened after start (as `n` does) and shown. Run under a PTY: `python -m benchmarks.sessions_app
PROGRAM LINES`."""

from __future__ import annotations

import sys
from pathlib import Path

from claude_tui.app import ClaudeTuiApp
from claude_tui.session import SessionConfig, TrackedSession


def session(program: str, name: str, lines: str) -> TrackedSession:
    config = SessionConfig(command=sys.executable, cwd=Path(program).parent, track=False)
    started = TrackedSession(config, argv=[sys.executable, program, name, lines])
    started.start(86, 36)
    return started


class TwoSessions(ClaudeTuiApp):
    """The app with a second session opened once the first is up."""

    def __init__(self, program: str, lines: str) -> None:
        super().__init__(session(program, "A", lines))
        self._second = session(program, "B", lines)

    async def _open_second(self) -> None:
        await self.session_tab.open(self._open_session(self._second))

    def on_ready(self) -> None:
        self.set_timer(1.0, self._open_second)


if __name__ == "__main__":
    TwoSessions(sys.argv[1], sys.argv[2]).run()
