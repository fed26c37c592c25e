"""An emulator's state crosses a process boundary intact: `state()` then `restore()` gives the same emulator.

The session owner keeps the screen of every session; a UI that attaches gets the owner's emulator as
bytes and feeds its own copy the output that follows. So a restored emulator must equal the original in
everything observable, and keep equalling it as both are fed the same bytes: cut points fall inside
escape sequences, inside UTF-8 characters, inside an OSC string being discarded, while the alternate
screen is shown, after the scrollback has dropped lines.
"""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import pytest

from claude_tui.terminal.emulator import CellStyle, StateError, TerminalEmulator

STREAMS = Path(__file__).resolve().parent.parent / "data" / "streams"


def observed(emulator: TerminalEmulator) -> tuple[object, ...]:
    """Everything a pane, a parser or a program can see of an emulator."""
    lines = [emulator.line_runs(i) for i in range(-emulator.history_size, emulator.rows)]
    modes = (
        emulator.app_cursor_keys,
        emulator.bracketed_paste,
        emulator.focus_events,
        emulator.mouse_mode,
        emulator.mouse_sgr,
        emulator.cursor_visible,
        emulator.in_alternate_screen,
    )
    return (
        emulator.cols,
        emulator.rows,
        emulator.display,
        emulator.history_lines(),
        emulator.history_dropped,
        lines,
        emulator.cursor,
        emulator.title,
        emulator.bell_count,
        modes,
    )


def replica(emulator: TerminalEmulator) -> TerminalEmulator:
    """A new emulator of another size, restored from `emulator`'s state."""
    copy = TerminalEmulator(7, 3, history=5)
    copy.restore(emulator.state())
    return copy


CUTS = {
    "mid CSI": (b"abc\x1b[3", b"1mred\x1b[0m\r\n"),
    "mid UTF-8": ("é→".encode()[:3], "é→".encode()[3:] + b"\r\n"),
    "inside an OSC being discarded": (b"\x1b]52;c;" + b"Q" * 5000, b"QQ\x07after\r\n"),
    "alternate screen, saved cursor": (b"main\x1b[5;7H\x1b7\x1b[?1049hfull", b"\x1b[?1049l\x1b8X\r\n"),
    "scroll region, origin mode, charset": (b"\x1b[2;4r\x1b[?6h\x1b(0lqk", b"\x1b(B\x1b[Hx\r\n\r\n\r\n"),
    "modes": (b"\x1b[?1h\x1b[?2004h\x1b[?1004h\x1b[?1002h\x1b[?1006h\x1b[?25l\x1b]0;title\x07", b"\x1b[?1l"),
}


@pytest.mark.parametrize("name", list(CUTS))
def test_a_restored_emulator_goes_on_like_the_original(name: str) -> None:
    before, after = CUTS[name]
    original = TerminalEmulator(40, 6, history=50)
    original.feed(b"".join(f"line {i} \x1b[3{i % 8}mcoloured\x1b[0m\r\n".encode() for i in range(30)))
    original.feed(before)
    copy = replica(original)
    assert observed(copy) == observed(original)
    original.feed(after)
    copy.feed(after)
    assert observed(copy) == observed(original)
    assert copy.take_replies() == original.take_replies()


@pytest.mark.parametrize("stream", ["claude_interactive.bin", "claude_interactive_fullscreen.bin", "top.bin"])
def test_recorded_streams_cut_anywhere(stream: str) -> None:
    data = (STREAMS / stream).read_bytes()
    rng = random.Random(stream)
    for cut in sorted(rng.sample(range(1, len(data)), 12)):
        original = TerminalEmulator(120, 40, history=200)
        original.feed(data[:cut])
        copy = replica(original)
        assert observed(copy) == observed(original), cut
        for chunk in (data[cut : cut + 333], data[cut + 333 :]):
            original.feed(chunk)
            copy.feed(chunk)
        original.resize(90, 30)
        copy.resize(90, 30)
        assert observed(copy) == observed(original), cut


def test_full_scrollback_and_recycled_styles() -> None:
    """The scrollback's dropped count and recycled style ids survive: positions and colours stay put."""
    original = TerminalEmulator(30, 4, history=20)
    for i in range(300):
        original.feed(f"\x1b[38;2;{i % 256};{i // 256};7mtruecolor {i}\r\n".encode())
    original._table.limit = 8  # force the recycling of unused style ids on the next new style
    original.feed(b"\x1b[38;2;1;2;3mnew\r\n")
    copy = replica(original)
    assert copy.history_dropped == original.history_dropped > 0
    for feed in (b"\x1b[38;2;9;9;9mafter\r\n", b"\x1b[38;2;1;2;3mold again\r\n"):
        original.feed(feed)
        copy.feed(feed)
        assert observed(copy) == observed(original)


def test_restore_is_in_place_and_marks_every_row_dirty() -> None:
    original = TerminalEmulator(20, 5)
    original.feed(b"hello")
    copy = TerminalEmulator(20, 5)
    copy.take_dirty()
    held = copy
    copy.restore(original.state())
    assert held is copy and held.display[0].startswith("hello")
    assert copy.take_dirty() == set(range(5))


def test_every_attribute_is_either_in_the_state_or_derived() -> None:
    """A new attribute must be added to `state()` (or to the derived caches here): else a replica drifts."""
    derived = {"_csi", "_sgr_cache", "_sgr_cached", "_blank_keys", "_replies", "_dirty", "_all_dirty"}
    derived |= {"_shell_marks", "_notifications"}  # queues, like `_replies`: taken by whoever polls
    derived |= {"_charset_map"}  # from `_g` and `_shift_out`
    derived |= {"bytes_fed"}  # what this emulator was fed: each replica counts its own (`poll_terminal`)
    emulator = TerminalEmulator()
    state_keys = set(pickle.loads(emulator.state())[1])
    renamed = {"history": "_history", "styles": "_table", "decoder": "_decoder", "discarding": "_discarding"}
    covered = {renamed.get(key, key) for key in state_keys} - {"free", "limit"}
    assert set(vars(emulator)) - derived == covered


def test_anything_but_a_plain_state_is_refused() -> None:
    emulator = TerminalEmulator()
    with pytest.raises(StateError):
        emulator.restore(pickle.dumps((1, {"x": CellStyle()})))  # a class reference: never looked up
    with pytest.raises(StateError):
        emulator.restore(b"garbage")
    with pytest.raises(StateError):
        emulator.restore(pickle.dumps((999, {})))
    assert emulator.display == TerminalEmulator().display


def test_the_screen_first_and_the_scrollback_after_make_the_same_emulator() -> None:
    """The owner sends the screen without the scrollback (`state(history=False)`: a few KB, drawn at once)
    and the scrollback after it (`history_state`); both restored give the whole emulator."""
    original = TerminalEmulator(history=500)
    original.resize(60, 10)
    original.feed(b"".join(b"\x1b[3%dmline %d\x1b[0m\r\n" % (n % 8, n) for n in range(700)) + b"prompt> ")
    screen, scrollback = original.state(history=False), original.history_state()
    assert len(screen) * 4 < len(original.state()), "the screen alone is a fraction of the whole"

    copy = TerminalEmulator()
    copy.restore(screen)
    assert copy.display == original.display and copy.history_size == 0
    copy.restore_history(scrollback)
    assert observed(copy) == observed(original)
    for emulator in (original, copy):
        emulator.feed(b"more\r\n" * 30)
    assert observed(copy) == observed(original)


def test_scrollback_that_arrives_after_output_goes_before_it() -> None:
    """Lines the copy scrolled off between the screen and the scrollback are newer: they stay after it."""
    original = TerminalEmulator(history=100)
    original.resize(20, 4)
    original.feed(b"".join(b"old %d\r\n" % n for n in range(50)))
    screen, scrollback = original.state(history=False), original.history_state()
    copy = TerminalEmulator()
    copy.restore(screen)
    for emulator in (original, copy):
        emulator.feed(b"".join(b"new %d\r\n" % n for n in range(80)))
    copy.restore_history(scrollback)
    assert copy.history_lines() == original.history_lines()
    assert copy.history_dropped == original.history_dropped
    with pytest.raises(StateError):
        copy.restore_history(b"not a scrollback")
