"""No byte sequence stalls or breaks the emulator (issue 13): random bytes and hostile sequences.

Every sequence here is fed whole, byte by byte and cut at random points, between resizes down to 1x1 and up to
1000x1000. After each feed the emulator must be consistent (screen size, cursor inside it, every line
readable), `feed` must not have raised, and no token may have hit the safety net (`feed_errors`). The work
of one sequence is bounded by the screen size, not by the numbers in it: a huge count costs what a screenful
costs. The CPU bound asserted here is 10x looser than the benchmark's target (`benchmarks/bench_terminal.py`
prints the worst sequence's cost per byte; target < 50 us), so a loaded machine cannot fail it.
"""

from __future__ import annotations

import random
import time

import pytest

from claude_tui.terminal import TerminalEmulator

HUGE = b"999999999"
CSI_FINALS_WITH_COUNTS = "@ABCDEFGIJKLMPSTXZ`abdeghlmnr"

MODES = (b"1049", b"1047", b"47", b"1", b"6", b"7", b"25", b"1000", b"2004")
HOSTILE: dict[str, bytes] = {
    **{f"CSI {HUGE.decode()} {final}": b"\x1b[" + HUGE + final.encode() for final in CSI_FINALS_WITH_COUNTS},
    **{f"CSI ? {HUGE.decode()} {final}": b"\x1b[?" + HUGE + final.encode() for final in "hlJK"},
    "REP after a char": b"x\x1b[" + HUGE + b"b",
    "CUP huge;huge": b"\x1b[" + HUGE + b";" + HUGE + b"H",
    "DECSTBM huge": b"\x1b[" + HUGE + b";" + HUGE + b"r\x1b[2;3r\x1b[" + HUGE + b"S\x1b[" + HUGE + b"T",
    "IL/DL in a region": b"\x1b[2;5r\x1b[3H\x1b[" + HUGE + b"L\x1b[" + HUGE + b"M\x1b[r",
    "5,000-digit parameter": b"\x1b[" + b"9" * 5000 + b"C",
    "5,000-digit SGR colour": b"\x1b[38;2;" + b"9" * 5000 + b";1;1mX",
    "5,000-digit sub-parameter": b"\x1b[38:2::" + b"9" * 5000 + b":1:1mX",
    "zeros then a digit": b"\x1b[" + b"0" * 5000 + b"5C",
    "1,000 SGR parameters": b"\x1b[" + b";".join(b"38;5;%d" % (i % 256) for i in range(333)) + b"m",
    "1,000 mode parameters": b"\x1b[?" + b";".join(MODES[i % len(MODES)] for i in range(1000)) + b"h",
    "1,000 empty parameters": b"\x1b[" + b";" * 1000 + b"H",
    "OSC title flood": b"\x1b]0;" + b"t" * 100_000 + b"\x07",
    "OSC 52 unterminated": b"\x1b]52;c;" + b"QUFB" * 50_000,
    "DCS flood": b"\x1bP" + b"d" * 100_000 + b"\x1b\\",
    "APC flood": b"\x1b_" + b"a" * 100_000 + b"\x1b\\",
    "PM and SOS": b"\x1b^" + b"p" * 70_000 + b"\x1bX" + b"s" * 70_000 + b"\x1b\\",
    "CSI never ending": b"\x1b[" + b"1;" * 50_000,
    "alternate-screen storm": b"\x1b[?1049h\x1b[?1049l\x1b[?47h\x1b[?1047l" * 300,
    "clear storm": b"\x1b#8\x1b[2J\x1b[3J\x1bc" * 50,
    "wide and combining": "界\u0301\u200d🏳️‍🌈e\u0301".encode() * 500,
    "charset storm": b"\x1b(0\x0e\x1b)B\x0fqqq\x1b(B" * 500,
    "tabs": b"\x1b[3g\x1bH\t\x1b[" + HUGE + b"I\x1b[" + HUGE + b"Z" * 10,
}


def check(emulator: TerminalEmulator) -> None:
    """Everything a caller may read is consistent and in bounds."""
    assert getattr(emulator, "feed_errors", 0) == 0  # getattr: main (before the fix) had no counter
    assert len(emulator.display) == emulator.rows
    x, y = emulator.cursor
    assert 0 <= x < emulator.cols and 0 <= y < emulator.rows
    assert emulator.take_dirty() <= set(range(emulator.rows))
    assert emulator.history_size <= 10_000
    for index in (-emulator.history_size, -1, 0, emulator.rows - 1):
        if -emulator.history_size <= index < emulator.rows:
            runs = emulator.line_runs(index)
            if index >= 0:
                assert sum(len(text) for text, _style in runs) >= 1
    emulator.take_replies()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_sequence_whole_and_cut(name: str) -> None:
    data = HOSTILE[name]
    emulator = TerminalEmulator(80, 24)
    emulator.feed(b"line\r\n" * 100 + b"\x1b[12;40H")
    emulator.feed(data)
    check(emulator)
    rng = random.Random(name)
    cut = TerminalEmulator(80, 24)
    pos = 0
    while pos < len(data):
        step = rng.choice((1, 2, 3, 7, 64, 4096, 65536))
        cut.feed(data[pos : pos + step])
        pos += step
    check(cut)


@pytest.mark.parametrize("name", [n for n in HOSTILE if len(HOSTILE[n]) < 20])
def test_a_huge_count_costs_a_screenful_not_the_count(name: str) -> None:
    """`ESC[999999999I` cost 50-60 ms (28 KB froze the pane for two minutes); now bounded by 200x50."""
    emulator = TerminalEmulator(200, 50)
    emulator.feed(b"line\r\n" * 10_050 + b"x\x1b[25;100H")
    data = HOSTILE[name] * 100
    start = time.process_time()
    emulator.feed(data)
    per_byte = (time.process_time() - start) / len(data)
    check(emulator)
    assert per_byte < 500e-6, f"{per_byte * 1e6:.0f} us per byte"


def test_random_bytes_between_resizes() -> None:
    """Random bytes (a seeded generator), hostile pieces and resizes to 1x1 and 1000x1000, interleaved."""
    rng = random.Random(13)
    emulator = TerminalEmulator(80, 24)
    sizes = [(1, 1), (1000, 1000), (2, 1), (1, 300), (80, 24), (300, 2), (40, 10)]
    pieces = list(HOSTILE.values())
    for round_ in range(60):
        kind = round_ % 4
        if kind == 0:
            data = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 20_000)))
        elif kind == 1:
            # Random escape-heavy bytes: ESC, '[', digits, ';' and finals are what parsers trip on.
            alphabet = b'\x1b[];?0123456789:<=>!"$ @ABCDHJKLMPSTXZbcdfghlmnqrsu'
            alphabet += b"\x07\x18\x1a\r\n\t\x08\x0e\x0f"
            data = bytes(rng.choice(alphabet) for _ in range(rng.randrange(1, 20_000)))
        elif kind == 2:
            data = rng.choice(pieces)
        else:
            emulator.resize(*rng.choice(sizes))
            check(emulator)
            continue
        pos = 0
        while pos < len(data):
            step = rng.randrange(1, 70_000)
            emulator.feed(data[pos : pos + step])
            pos += step
        check(emulator)
    for size in ((1, 1), (1000, 1000)):
        emulator.resize(*size)
        emulator.feed(b"\x1b[?1049h" + bytes(rng.getrandbits(8) for _ in range(5000)) + b"\x1b[?1049l")
        check(emulator)


def test_feed_never_raises_even_on_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    """The safety net: a handler that raises loses its token, not the rest of the read."""
    emulator = TerminalEmulator(20, 3)

    def broken(params: str, final: str) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setitem(emulator._csi, "J", broken)
    emulator.feed(b"before\x1b[2Jafter")
    assert emulator.feed_errors == 1
    assert emulator.display[0].rstrip() == "beforeafter"
