"""Telling the person: the outer terminal's bell and notifications, the program's own, `--notify-command`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from claude_tui.lifecycle.notify import NotifyCommand, terminal_notification
from claude_tui.terminal.emulator import TerminalEmulator


def test_a_notification_rings_and_asks_for_a_desktop_notification() -> None:
    text = terminal_notification("claude-tui", "waiting for you: permission for Bash", in_tmux=False)
    assert text == (
        "\x07"
        "\x1b]9;claude-tui: waiting for you: permission for Bash\x07"
        "\x1b]777;notify;claude-tui;waiting for you: permission for Bash\x07"
    )


def test_control_characters_cannot_end_the_sequence_early() -> None:
    text = terminal_notification("a;b\x07", "x\x1b]0;pwned\x07y\nz" + "w" * 500, in_tmux=False)
    assert text.count("\x07") == 3 and text.count("\x1b") == 2
    assert "777;notify;a,b;" in text
    assert len(text) < 500


def test_inside_tmux_the_oscs_go_through_its_passthrough() -> None:
    text = terminal_notification("t", "b", in_tmux=True)
    assert text.startswith("\x07\x1bPtmux;\x1b\x1b]9;t: b\x07")
    assert text.endswith("\x1b\\")


def test_the_programs_own_notifications_are_kept_for_the_outer_terminal() -> None:
    emulator = TerminalEmulator(40, 5)
    emulator.feed(b"a\x1b]9;build done\x07b\x1b]777;notify;T;B\x1b\\c\x1b]99;i=1;hello\x07\x1b]0;title\x07")
    assert emulator.take_notifications() == [
        "\x1b]9;build done\x07",
        "\x1b]777;notify;T;B\x07",
        "\x1b]99;i=1;hello\x07",
    ]
    assert emulator.take_notifications() == []
    assert emulator.display[0].rstrip() == "abc"  # nothing of them is drawn
    assert emulator.title == "title"
    emulator.feed(b"".join(b"\x1b]9;n%d\x07" % i for i in range(40)))
    kept = emulator.take_notifications()
    assert len(kept) == TerminalEmulator.NOTIFICATIONS_KEPT and kept[-1] == "\x1b]9;n39\x07"


def test_the_notify_command_gets_the_reason_and_the_session(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    command = NotifyCommand(f'printf "%s|%s" "$CLAUDE_TUI_REASON" "$CLAUDE_TUI_SESSION_ID" > {out}')
    command.run({"CLAUDE_TUI_REASON": "permission for Bash", "CLAUDE_TUI_SESSION_ID": "abc"})
    command.wait()
    assert out.read_text() == "permission for Bash|abc"


def test_a_slow_or_broken_notify_command_never_blocks() -> None:
    command = NotifyCommand("sleep 5")
    started = time.monotonic()
    command.run({})
    assert time.monotonic() - started < 2
    command.wait(timeout=0.1)
    broken = NotifyCommand("exit 3")
    broken.run({})
    broken.wait()


@pytest.mark.parametrize("bad", ["", "   "])
def test_an_empty_command_is_harmless(bad: str) -> None:
    NotifyCommand(bad).run({})
