"""`TrackedSession.poll_terminal` reads the scrollback only when the terminal changed, or a line there waits
to be seen complete: an idle session (nothing drawn) costs its poll almost nothing, however long its
scrollback (issue 16 item 5: 8 idle sessions in the owner cost 3.2 % CPU, most of it re-reading 10,000
lines each)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from claude_tui.parsing.screen import ScreenParser
from claude_tui.session import SessionConfig, TrackedSession
from claude_tui.terminal.emulator import TerminalEmulator


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of lines each screen pass read (every pass is due: no wait between them)."""
    monkeypatch.setattr(TrackedSession, "POLL_SCREEN_EVERY", 0.0)
    read: list[int] = []
    feed = ScreenParser.feed

    def counting(self: ScreenParser, lines: list[str], first_index: int = 0) -> list:  # type: ignore[type-arg]
        read.append(len(lines))
        return feed(self, lines, first_index)

    monkeypatch.setattr(ScreenParser, "feed", counting)
    return read


def session() -> TrackedSession:
    config = SessionConfig(command=sys.executable, cwd=Path("/"), track=False)
    return TrackedSession(config, argv=[sys.executable])


def test_an_unchanged_terminal_is_not_read_again(passes: list[int]) -> None:
    emulator = TerminalEmulator(80, 24)
    emulator.feed("".join(f"line {n}\r\n" for n in range(2000)).encode())
    tracked = session()
    tracked.poll_terminal(emulator)
    assert passes and passes[0] > 1000  # the first pass reads the scrollback and the screen
    for _ in range(5):
        tracked.poll_terminal(emulator)
    assert len(passes) == 1  # nothing drawn since: nothing read
    emulator.feed(b"one more line\r\n")
    tracked.poll_terminal(emulator)
    assert len(passes) == 2


def test_a_line_waiting_to_be_seen_complete_is_still_reported(passes: list[int]) -> None:
    """A tool line without its closing parenthesis may be a frame caught half drawn: it is counted once a pass
    sees it unchanged. With nothing drawn after it, the next pass still reads the screen (and counts it),
    then the passes stop."""
    emulator = TerminalEmulator(80, 24)
    emulator.feed("● Bash(ls -la\r\n".encode())
    tracked = session()
    tracked.poll_terminal(emulator)
    assert tracked.snapshot().tool_uses == 0  # seen once: it may still be drawn further
    tracked.poll_terminal(emulator)
    assert tracked.snapshot().tool_uses == 1
    tracked.poll_terminal(emulator)
    assert len(passes) == 2
