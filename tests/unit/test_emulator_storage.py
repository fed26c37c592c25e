"""The emulator's fast paths and storage (style ids, frozen scrollback) give what the plain paths give.

Every fast path is checked against the same bytes fed one at a time (which takes none of them: a one-byte read
holds no whole segment or block of lines), for text and for styles, screen and scrollback.
"""

from __future__ import annotations

import gc
import random

import pytest

from claude_tui.terminal import DEFAULT_STYLE, CellStyle, TerminalEmulator


def everything(emulator: TerminalEmulator) -> tuple[object, ...]:
    """Screen, scrollback and their styles cell by cell (runs merged, trailing default blanks ignored)."""

    def cells(index: int) -> list[tuple[str, CellStyle]]:
        out = [(ch, style) for text, style in emulator.line_runs(index) for ch in text]
        while out and out[-1] == (" ", DEFAULT_STYLE):
            out.pop()
        return out

    lines = [cells(i) for i in range(-emulator.history_size, emulator.rows)]
    return (emulator.display, emulator.history_lines(), emulator.cursor, lines, emulator.history_dropped)


def fed_whole_and_bytewise(data: bytes, cols: int = 30, rows: int = 6, history: int = 50) -> None:
    whole = TerminalEmulator(cols, rows, history)
    whole.feed(data)
    bytewise = TerminalEmulator(cols, rows, history)
    for i in range(len(data)):
        bytewise.feed(data[i : i + 1])
    assert everything(whole) == everything(bytewise)
    rng = random.Random(len(data))
    chunked = TerminalEmulator(cols, rows, history)
    pos = 0
    while pos < len(data):
        step = rng.randrange(1, 200)
        chunked.feed(data[pos : pos + step])
        pos += step
    assert everything(whole) == everything(chunked)


LOG = b"".join(
    b"2026-11-27 06:%02d \x1b[%sm%s\x1b[0m item %d\r\n" % (i % 60, level, name, i)
    for i, (level, name) in enumerate([(b"32", b"INFO"), (b"33", b"WARN"), (b"1;31", b"ERROR")] * 40)
)

CASES = {
    "coloured log": LOG,
    "coloured log starting mid-screen": b"\x1b[3;5Hhead " + LOG,
    "background colour carried over line ends": b"\x1b[44m" + b"".join(b"blue %d\r\n" % i for i in range(40)),
    "background set and reset mid-block": b"".join(
        b"\x1b[4%dmline %d\x1b[49m tail\r\n" % (i % 8, i) for i in range(60)
    ),
    "plain lines": b"".join(b"%d\r\n" % i for i in range(200)),
    "plain lines under a background": b"\x1b[41m" + b"".join(b"%d\r\n" % i for i in range(200)),
    "lines too long for the row": b"".join(b"\x1b[1mword\x1b[0m " * 9 + b"\r\n" for _ in range(30)),
    "lines with moves": b"".join(b"a\x1b[10Gb\x1b[2Cc\x1b[1Dd\x1b[K\r\n" for _ in range(30)),
    "lines with a lone CR": b"".join(b"progress %d%%\rdone %d\r\n" % (i, i) for i in range(40)),
    "curses-like rows": b"".join(
        b"\x1b[%d;1H\x1b[38;5;%dm%4d \x1b[0mname\x1b[7m S \x1b[0m\x1b[K" % (1 + i % 6, i, i)
        for i in range(90)
    ),
    "rows with up and down moves": b"".join(
        b"\x1b[2A\x1b[38;2;1;2;%dm%d\x1b[3B\r\x1b[1Cx" % (i, i) for i in range(60)
    ),
    "scroll region": b"\x1b[2;4r\x1b[4H" + LOG[:2000] + b"\x1b[r",
    "alternate screen": b"\x1b[?1049h" + LOG[:3000] + b"\x1b[?1049l" + LOG[:1000],
    "insert mode": b"\x1b[4h" + LOG[:1500] + b"\x1b[4l",
    "line drawing charset": b"\x1b(0" + b"".join(b"lqqk%d\r\n" % i for i in range(20)) + b"\x1b(B",
    "wide characters among colours": "\x1b[31m界\x1b[0m x \x1b[32m😀\x1b[0m\r\n".encode() * 30,
    "wide characters overwritten by a segment": "界界界界\r\x1b[1mab\x1b[0mc\x1b[5Gd\r\n".encode() * 20,
}


@pytest.mark.parametrize("name", list(CASES))
def test_fast_paths_equal_byte_by_byte(name: str) -> None:
    fed_whole_and_bytewise(CASES[name])


def test_background_of_blank_cells_stays_in_the_scrollback() -> None:
    """A row scrolled in under a background colour is blank in that colour (xterm, tmux), in the scrollback
    too; the rows the screen started with keep their default blanks."""
    emulator = TerminalEmulator(10, 3, history=100)
    emulator.feed(b"\x1b[44m" + b"".join(b"b%d\r\n" % i for i in range(20)))
    first, scrolled = emulator.line_runs(-emulator.history_size), emulator.line_runs(-1)
    assert [(text, style.bg) for text, style in first] == [("b0", "blue"), ("        ", "default")]
    assert [(text, style.bg) for text, style in scrolled] == [("b17       ", "blue")]


def test_unused_styles_are_recycled() -> None:
    """200,000 truecolor styles through a small screen: the style table stays small, the colours right."""
    emulator = TerminalEmulator(20, 4, history=10)
    for base in range(0, 200_000, 10_000):
        emulator.feed(
            b"".join(
                b"\x1b[38;2;%d;%d;%dmx" % (i >> 16 & 255, i >> 8 & 255, i & 255)
                for i in range(base, base + 10_000)
            )
        )
    assert emulator._table.live < 1 << 17
    last = 199_999
    assert (
        emulator.line_runs(emulator.cursor[1])[-1][1].fg
        == f"{last >> 16 & 255:02x}{last >> 8 & 255:02x}{last & 255:02x}"
    )
    for index in range(-emulator.history_size, emulator.rows):
        for _text, style in emulator.line_runs(index):
            assert isinstance(style, CellStyle)


def test_the_scrollback_is_nothing_the_garbage_collector_scans() -> None:
    """A full collection once had to visit every cell of 10,000 lines (a visible stall of the pane)."""
    emulator = TerminalEmulator(200, 50, history=10_000)
    emulator.feed(LOG * 100)
    gc.collect()
    tracked = sum(1 for line in emulator._history if gc.is_tracked(line))
    assert emulator.history_size == 10_000 and tracked == 0
