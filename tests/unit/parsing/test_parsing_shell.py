"""OSC 133 shell marks -> commands and failed commands (`parsing.shell.ShellMarks`), table-driven."""

from __future__ import annotations

import pytest

from claude_tui.parsing.shell import ShellMarks
from claude_tui.parsing.stats import SessionStats
from claude_tui.terminal.emulator import MAX_SHELL_MARKS, TerminalEmulator


def counts(marks: list[str]) -> dict[str, int]:
    stats = SessionStats()
    for event in ShellMarks().feed(marks):
        stats.apply(event)
    d = stats.to_dict(price=False)
    return {k: d[k] for k in ("commands_executed", "errors_encountered", "git_operations")}


@pytest.mark.parametrize(
    ("marks", "expected"),
    [
        (["D;0", "A", "B"], (0, 0, 0)),  # the first prompt: nothing ran
        (["A", "B", "C;cmdline_url=ls", "D;0"], (1, 0, 0)),
        (["C;cmdline_url=false", "D;1", "A", "B", "D;0"], (1, 1, 0)),  # an empty line after it: no command
        (["C;cmdline_url=git%20commit%20-m%20x", "D;0", "C;cmdline_url=git%20push", "D;128"], (2, 1, 2)),
        (["C", "D;130"], (1, 1, 0)),  # a shell that sends no command text still counts
        (["C;cmdline_url=sleep%209"], (1, 0, 0)),  # still running (or killed): a command, not an error
    ],
)
def test_marks_count_commands_and_failures(marks: list[str], expected: tuple[int, int, int]) -> None:
    assert tuple(counts(marks).values()) == expected


def test_fed_mark_by_mark_equals_fed_at_once() -> None:
    marks = ["A", "B", "C;cmdline_url=git%20status", "D;0", "A", "C;cmdline_url=false", "D;1"]
    parser = ShellMarks()
    one_by_one = [event for mark in marks for event in parser.feed([mark])]
    assert one_by_one == ShellMarks().feed(marks)


def test_emulator_collects_osc_133_and_draws_nothing() -> None:
    emulator = TerminalEmulator(20, 3)
    emulator.feed(
        b"\x1b]133;A\x07$ \x1b]133;B\x1b\\ls\r\n\x1b]133;C;cmdline_url=ls\x07out\r\n\x1b]133;D;0\x07"
    )
    assert emulator.take_shell_marks() == ["A", "B", "C;cmdline_url=ls", "D;0"]
    assert emulator.take_shell_marks() == []
    assert [line.rstrip() for line in emulator.display] == ["$ ls", "out", ""]
    emulator.feed(b"\x1b]133;A\x07" * (MAX_SHELL_MARKS + 10))
    assert len(emulator.take_shell_marks()) == MAX_SHELL_MARKS  # bounded
