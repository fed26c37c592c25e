"""Unit tests of the pure terminal emulator: table-driven sequences, split feeds, modes, replies, garbage."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from claude_tui.terminal import DEFAULT_STYLE, CellStyle, TerminalEmulator


def screen(data: bytes, cols: int = 20, rows: int = 5) -> list[str]:
    """The rstripped screen after feeding ``data`` in one chunk."""
    emulator = TerminalEmulator(cols, rows)
    emulator.feed(data)
    return [line.rstrip() for line in emulator.display]


def fed(data: bytes, cols: int = 20, rows: int = 5, history: int = 10_000) -> TerminalEmulator:
    emulator = TerminalEmulator(cols, rows, history=history)
    emulator.feed(data)
    return emulator


def style_at(emulator: TerminalEmulator, row: int, col: int) -> CellStyle:
    """The style of one screen cell, found through the public ``line_runs``."""
    x = 0
    for text, style in emulator.line_runs(row):
        if x <= col < x + len(text):
            return style
        x += len(text)
    raise AssertionError(f"no cell {col} in row {row}")


# --- what ends up on the screen ---------------------------------------------------------------------

SCREEN_CASES = [
    ("plain text", b"hello", ["hello"]),
    ("crlf", b"a\r\nb", ["a", "b"]),
    ("lf keeps column", b"ab\ncd", ["ab", "  cd"]),
    ("backspace overwrites", b"abc\x08\x08X", ["aXc"]),
    ("tab stops", b"a\tb", ["a       b"]),
    ("tab stops cleared and set", b"\x1b[3g\x1b[1;5H\x1bH\x1b[1;1Ha\tb\tc", ["a   b              c"]),
    ("back tab", b"\x1b[1;20H\x1b[2Zx", ["        x"]),
    ("tab keeps pending wrap", b"abcdefghijklmnopqrst\tX", ["abcdefghijklmnopqrst", "X"]),
    ("backspace after wrap", b"abcdefghijklmnopqrst\x08X", ["abcdefghijklmnopqrsX"]),
    (
        "origin mode",
        b"1\r\n2\r\n3\r\n4\x1b[2;4r\x1b[?6h\x1b[1;1HX\x1b[9;1HY\x1b[?6l\x1b[rZ",
        ["Z", "X", "3", "Y"],
    ),
    ("cnl cpl", b"1\r\n2\r\n3\r\n4\x1b[2;5H\x1b[2EX\x1b[3FY", ["Y", "2", "3", "X"]),
    ("erase chars past the end", b"abcdefghijklmnopqrst\x1b[1;15H\x1b[20X", ["abcdefghijklmn"]),
    ("delete char in wide", "中文字abc".encode() + b"\x1b[1;2H\x1b[1P", ["中文字abc"]),  # as tmux shows it
    ("index and next line", b"ab\x1bEcd\x1bDef", ["ab", "cd", "  ef"]),
    ("alignment test", b"\x1b#8\x1b[2;2Hx", ["E" * 20, "ExEEEEEEEEEEEEEEEEEE", "E" * 20, "E" * 20, "E" * 20]),
    ("autowrap", b"0123456789abcdefghijKL", ["0123456789abcdefghij", "KL"]),
    ("no autowrap", b"\x1b[?7l0123456789abcdefghijKL", ["0123456789abcdefghiL"]),
    ("cup", b"\x1b[2;3Hx", ["", "  x"]),
    (
        "cursor moves",
        b"\x1b[3;10Hx\x1b[2A\x1b[3Dy\x1b[B\x1b[4Cz",
        ["       y", "            z", "         x"],
    ),
    ("cha and vpa", b"\x1b[5Gq\x1b[3dw", ["    q", "", "     w"]),
    ("erase to end of line", b"abcdef\x1b[1;3H\x1b[K", ["ab"]),
    ("erase to start of line", b"abcdef\x1b[1;3H\x1b[1K", ["   def"]),
    ("erase line", b"abcdef\x1b[2K", [""]),
    ("erase below", b"aa\r\nbb\r\ncc\x1b[2;2H\x1b[J", ["aa", "b"]),
    ("erase above", b"aa\r\nbb\r\ncc\x1b[2;1H\x1b[1J", ["", " b", "cc"]),
    ("erase all", b"aa\r\nbb\x1b[2J", [""]),
    ("insert chars", b"abcdef\x1b[1;3H\x1b[2@", ["ab  cdef"]),
    ("delete chars", b"abcdef\x1b[1;3H\x1b[2P", ["abef"]),
    ("erase chars", b"abcdef\x1b[1;3H\x1b[2X", ["ab  ef"]),
    ("insert line", b"aa\r\nbb\x1b[1;1H\x1b[L", ["", "aa", "bb"]),
    ("delete line", b"aa\r\nbb\r\ncc\x1b[1;1H\x1b[M", ["bb", "cc"]),
    ("insert mode", b"abc\x1b[1;2H\x1b[4hXY\x1b[4l", ["aXYbc"]),
    ("reverse index at top", b"aa\x1b[1;1H\x1bMbb", ["bb", "aa"]),
    ("save restore cursor", b"\x1b7ab\x1b8X", ["Xb"]),
    ("scosc scorc", b"\x1b[sab\x1b[uX", ["Xb"]),
    ("repeat", b"ab\x1b[3b", ["abbbb"]),
    ("dec graphics", b"\x1b(0lqk\x1b(Bq", ["┌─┐q"]),
    ("shift out", b"\x1b)0a\x0eq\x0fq", ["a─q"]),
    ("scroll region", b"1\r\n2\r\n3\r\n4\r\n5\x1b[2;4r\x1b[4;1H\nX", ["1", "3", "4", "X", "5"]),
    ("scroll up/down", b"1\r\n2\r\n3\x1b[S", ["2", "3"]),
    ("cjk", "中文x".encode(), ["中文x"]),
    ("emoji", "😀!".encode(), ["😀!"]),
    ("wide wraps whole", ("x" * 19 + "中").encode(), ["x" * 19, "中"]),
    ("overwrite half of wide", "中文".encode() + b"\x1b[1;2HX", [" X文"]),
    ("wide without wrap dropped", b"\x1b[?7l" + b"a" * 19 + "中文".encode(), ["a" * 19]),
    ("combining", "e\u0301".encode(), ["e\u0301"]),
    ("nbsp and box", "❯\u00a0hi ⎿ ─".encode(), ["❯\u00a0hi ⎿ ─"]),
    ("c1 ignored", b"a\xc2\x90b", ["ab"]),
    ("invalid utf8", b"a\xffb", ["a\ufffdb"]),
    # Private-marker CSI and strings: consumed, nothing drawn.
    ("kitty keyboard push", b"a\x1b[>5ub", ["ab"]),
    ("kitty keyboard pop", b"a\x1b[<ub", ["ab"]),
    ("kitty query", b"a\x1b[?ub", ["ab"]),
    ("xtversion", b"a\x1b[>0qb", ["ab"]),
    ("modify other keys", b"a\x1b[>4;2mb\x1b[>4mc", ["abc"]),
    ("equals marker", b"a\x1b[=1;2ub\x1b[=5c", ["ab"]),
    ("apc", b"a\x1b_Gi=31,a=q;AAAA\x1b\\b", ["ab"]),
    ("dcs", b"a\x1bP+q544e\x1b\\b", ["ab"]),
    ("pm and sos", b"a\x1b^pm\x1b\\b\x1bXsos\x1b\\c", ["abc"]),
    ("osc bel", b"a\x1b]0;title\x07b", ["ab"]),
    ("osc st", b"a\x1b]8;;http://127.0.0.1/\x1b\\b", ["ab"]),
    ("osc aborted by esc", b"a\x1b]0;t\x1b[1mb", ["ab"]),
    ("sync output ignored", b"\x1b[?2026ha\x1b[?2026l", ["a"]),
]


@pytest.mark.parametrize(
    ("data", "expected"), [c[1:] for c in SCREEN_CASES], ids=[c[0] for c in SCREEN_CASES]
)
def test_screen(data: bytes, expected: list[str]) -> None:
    assert screen(data) == expected + [""] * (5 - len(expected))


@pytest.mark.parametrize(
    ("data", "expected"), [c[1:] for c in SCREEN_CASES], ids=[c[0] for c in SCREEN_CASES]
)
def test_byte_by_byte_equals_whole_chunk(data: bytes, expected: list[str]) -> None:
    one = fed(data)
    split = TerminalEmulator(20, 5)
    for i in range(len(data)):
        split.feed(data[i : i + 1])
    assert split.display == one.display
    assert split.cursor == one.cursor
    assert [split.line_runs(y) for y in range(5)] == [one.line_runs(y) for y in range(5)]


STREAMS = Path(__file__).resolve().parent.parent / "data" / "streams"


@pytest.mark.parametrize("name", sorted(p.name for p in STREAMS.glob("*.bin")))
def test_random_splits_of_real_streams_equal_whole_chunk(name: str) -> None:
    data = (STREAMS / name).read_bytes()
    whole = fed(data, 120, 40)
    rng = random.Random(7)
    for _ in range(3):
        split = TerminalEmulator(120, 40)
        pos = 0
        while pos < len(data):
            step = rng.randint(1, 40)
            split.feed(data[pos : pos + step])
            pos += step
        assert split.display == whole.display
        assert [split.line_runs(y) for y in range(40)] == [whole.line_runs(y) for y in range(40)]
        assert split.title == whole.title
        assert split.history_lines() == whole.history_lines()
        assert split.cursor == whole.cursor


# --- styles -----------------------------------------------------------------------------------------

SGR_CASES = [
    (b"\x1b[31m", CellStyle(fg="red")),
    (b"\x1b[93m", CellStyle(fg="brightyellow")),
    (b"\x1b[44m", CellStyle(bg="blue")),
    (b"\x1b[105m", CellStyle(bg="brightmagenta")),
    (b"\x1b[38;5;196m", CellStyle(fg="ff0000")),
    (b"\x1b[38;5;1m", CellStyle(fg="red")),
    (b"\x1b[48;5;244m", CellStyle(bg="808080")),
    (b"\x1b[38;2;215;119;87m", CellStyle(fg="d77757")),
    (b"\x1b[48:2::1:2:3m", CellStyle(bg="010203")),
    (
        b"\x1b[1;2;3;4;5;7;9m",
        CellStyle(
            bold=True, dim=True, italic=True, underline=True, blink=True, reverse=True, strikethrough=True
        ),
    ),
    (b"\x1b[1;3;4;7;9m\x1b[22;23;24;27;29m", DEFAULT_STYLE),
    (b"\x1b[1;31m\x1b[m", DEFAULT_STYLE),
    (b"\x1b[1;31m\x1b[0m", DEFAULT_STYLE),
    (b"\x1b[31;1m\x1b[39m", CellStyle(bold=True)),
    (b"\x1b[4:3m", CellStyle(underline=True)),
    (b"\x1b[4m\x1b[4:0m", DEFAULT_STYLE),
    (b"\x1b[58;2;1;2;3;1m", CellStyle(bold=True)),  # underline color is skipped, not misread
    (b"\x1b[>4;2m", DEFAULT_STYLE),  # modifyOtherKeys, not SGR 4
    (b"\x1b[>4m", DEFAULT_STYLE),
]


@pytest.mark.parametrize(("data", "expected"), SGR_CASES)
def test_sgr(data: bytes, expected: CellStyle) -> None:
    emulator = fed(data + b"X")
    assert style_at(emulator, 0, 0) == expected


def test_style_is_hashable_and_cheap_cache_key() -> None:
    a = CellStyle(fg="red", bold=True)
    assert {a: 1}[CellStyle(fg="red", bold=True)] == 1
    with pytest.raises(AttributeError):
        a.fg = "blue"  # type: ignore[misc]


def test_line_runs_group_cells_by_style() -> None:
    emulator = fed(b"ab\x1b[31mcd\x1b[0mef", cols=8, rows=2)
    assert emulator.line_runs(0) == [
        ("ab", DEFAULT_STYLE),
        ("cd", CellStyle(fg="red")),
        ("ef  ", DEFAULT_STYLE),
    ]
    assert "".join(text for text, _ in emulator.line_runs(1)) == " " * 8


# --- alternate screen -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [b"1049", b"1047", b"47"])
def test_alternate_screen_restores_primary(mode: bytes) -> None:
    emulator = fed(b"main text\r\nsecond")
    before = emulator.display
    emulator.feed(b"\x1b[?" + mode + b"h")
    assert emulator.in_alternate_screen
    assert all(not line.strip() for line in emulator.display)
    emulator.feed(b"ALT" + b"\r\n" * 20 + b"more alt")
    assert emulator.history_size == 0, "alternate screen content must not reach the scrollback"
    emulator.feed(b"\x1b[?" + mode + b"l")
    assert not emulator.in_alternate_screen
    assert emulator.display == before
    assert emulator.history_size == 0


def test_1049_restores_cursor() -> None:
    emulator = fed(b"abc\r\nde")
    emulator.feed(b"\x1b[?1049h\x1b[5;5Hxx\x1b[?1049l")
    assert emulator.cursor == (2, 1)


def test_alternate_screen_full_dirty_on_switch() -> None:
    emulator = fed(b"x")
    emulator.take_dirty()
    emulator.feed(b"\x1b[?1049h")
    assert emulator.take_dirty() == set(range(5))


# --- replies, title, bell, modes --------------------------------------------------------------------


def test_replies_da1_and_dsr() -> None:
    emulator = fed(b"ab\r\ncde\x1b[c\x1b[6n\x1b[5n")
    assert emulator.take_replies() == b"\x1b[?62;22c\x1b[2;4R\x1b[0n"
    assert emulator.take_replies() == b""


@pytest.mark.parametrize("query", [b"\x1b[>0q", b"\x1b[?u", b"\x1b[>c", b"\x1b[?2026$p", b"\x1b]7501;?\x07"])
def test_unsupported_queries_get_no_answer(query: bytes) -> None:
    """Claims we cannot back (kitty keyboard, XTVERSION, sync output...) would make programs send more."""
    assert fed(query).take_replies() == b""


def test_title_and_bell() -> None:
    emulator = fed("\x1b]0;✳ Claude Code\x07".encode())
    assert emulator.title == "✳ Claude Code"
    emulator.feed(b"\x1b]2;other\x1b\\\x07\x07")
    assert emulator.title == "other"
    assert emulator.bell_count == 2
    emulator.feed(b"\x1b]1;icon only\x07")
    assert emulator.title == "other"


MODE_CASES = [
    (b"?1", "app_cursor_keys"),
    (b"?2004", "bracketed_paste"),
    (b"?1004", "focus_events"),
    (b"?1000", "mouse_tracking"),
    (b"?1002", "mouse_tracking"),
    (b"?1003", "mouse_tracking"),
    (b"?1006", "mouse_sgr"),
]


@pytest.mark.parametrize(("mode", "attr"), MODE_CASES)
def test_modes(mode: bytes, attr: str) -> None:
    emulator = TerminalEmulator()
    assert getattr(emulator, attr) is False
    emulator.feed(b"\x1b[" + mode + b"h")
    assert getattr(emulator, attr) is True
    emulator.feed(b"\x1b[" + mode + b"l")
    assert getattr(emulator, attr) is False


def test_mouse_mode_number_and_cursor_visibility() -> None:
    emulator = fed(b"\x1b[?1003h\x1b[?25l")
    assert emulator.mouse_mode == 1003
    assert emulator.cursor_visible is False
    emulator.feed(b"\x1b[?25h")
    assert emulator.cursor_visible is True


# --- scrollback and dirty rows ----------------------------------------------------------------------


def test_scrollback_keeps_10000_lines_and_drops_the_oldest() -> None:
    emulator = TerminalEmulator(20, 5)
    emulator.feed(b"".join(b"line %d\r\n" % i for i in range(12_000)))
    assert emulator.history_size == 10_000
    history = emulator.history_lines()
    # 12,000 lines written, the cursor's blank row at the bottom, 4 lines on screen.
    assert history[0] == "line 1996"
    assert history[-1] == "line 11995"
    assert [line.rstrip() for line in emulator.display] == [
        "line 11996",
        "line 11997",
        "line 11998",
        "line 11999",
        "",
    ]
    assert [(text.rstrip(), style) for text, style in emulator.line_runs(-1)] == [
        ("line 11995", DEFAULT_STYLE)
    ]
    assert emulator.line_runs(-10_000)[0][0].rstrip() == "line 1996"


def test_bulk_lines_equal_line_by_line() -> None:
    data = b"\x1b[32m" + b"".join(b"row %d\r\n" % i for i in range(300)) + b"tail"
    bulk = fed(data, history=100)
    slow = TerminalEmulator(20, 5, history=100)
    for i in range(len(data)):
        slow.feed(data[i : i + 1])
    assert bulk.display == slow.display
    assert bulk.history_lines() == slow.history_lines()
    assert [bulk.line_runs(i)[0] for i in range(-100, 5)] == [slow.line_runs(i)[0] for i in range(-100, 5)]


def test_history_size_zero() -> None:
    emulator = fed(b"a\r\n" * 50, history=0)
    assert emulator.history_size == 0


def test_take_dirty() -> None:
    emulator = TerminalEmulator(20, 5)
    emulator.take_dirty()
    emulator.feed(b"\x1b[3;1Hx")
    assert emulator.take_dirty() == {2}
    assert emulator.take_dirty() == set()
    emulator.feed(b"\x1b[5;1H\n")
    assert emulator.take_dirty() == set(range(5)), "a scroll changes every row"


def test_take_dirty_after_shrinking_names_only_existing_rows() -> None:
    emulator = fed(b"x", cols=20, rows=10)
    emulator.feed(b"\x1b[9;1Hy")
    emulator.resize(20, 4)
    dirty = emulator.take_dirty()
    assert dirty == set(range(4))


def test_resize_keeps_cursor_row_and_pushes_to_history() -> None:
    emulator = fed(b"1\r\n2\r\n3\r\n4\r\n5")
    emulator.resize(10, 3)
    assert [line.rstrip() for line in emulator.display] == ["3", "4", "5"]
    assert emulator.history_lines() == ["1", "2"]
    assert emulator.cursor == (1, 2)
    emulator.resize(30, 6)
    assert len(emulator.display) == 6
    assert all(len(line) == 30 for line in emulator.display)


# --- garbage ----------------------------------------------------------------------------------------


def test_every_c0_and_c1_control_is_harmless() -> None:
    emulator = TerminalEmulator(20, 5)
    for code in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]:
        emulator.feed(b"a" + chr(code).encode() + b"b")
        emulator.feed(bytes([code]) + b"c")
        emulator.feed(b"\x1b" + bytes([code]) + b"d")
        emulator.feed(b"\x1b[" + bytes([code]) + b"e")
    assert len(emulator.display) == 5


def test_random_bytes_raise_nothing() -> None:
    rng = random.Random(1234)
    emulator = TerminalEmulator(80, 24)
    size = 10 * 1024 * 1024
    data = rng.randbytes(size)
    for pos in range(0, size, 65536):
        emulator.feed(data[pos : pos + 65536])
    emulator.take_replies()
    assert len(emulator.display) == 24
    assert all(len(line) >= 1 for line in emulator.display)
    for y in range(-emulator.history_size, 24, 97):
        emulator.line_runs(y)


def test_random_escape_heavy_input_raises_nothing() -> None:
    rng = random.Random(99)
    pieces = [
        b"\x1b[",
        b"\x1b]",
        b"\x1bP",
        b"\x1b_",
        b";",
        b"?",
        b">",
        b"<",
        b"1",
        b"38",
        b"2",
        b"m",
        b"H",
        b"J",
        b"r",
        b"h",
        b"l",
        b"\x07",
        b"\x1b\\",
        "中".encode(),
        b"x",
        b"\r\n",
        b"\x1b(0",
        b"@",
        b"L",
        b"M",
    ]
    emulator = TerminalEmulator(13, 7)
    for _ in range(200):
        chunk = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 300)))
        emulator.feed(chunk)
        emulator.resize(rng.randint(1, 30), rng.randint(1, 12))
    assert emulator.cols >= 1


FUZZ_PIECES = [
    b"\x1b[",
    b"\x1b]",
    b"\x1bP",
    b"\x1b_",
    b";",
    b"?",
    b">",
    b"1",
    b"38",
    b"2",
    b"5",
    b"m",
    b"H",
    b"J",
    b"K",
    b"r",
    b"h",
    b"l",
    b"\x07",
    b"\x1b\\",
    "中".encode(),
    "😀".encode(),
    b"x",
    b"hello world",
    b"\r\n",
    b"\r\n",
    b"line\r\nline2\r\nl3\r\n",
    b"\x1b(0",
    b"\x1b(B",
    b"@",
    b"L",
    b"M",
    b"\x1b[?1049h",
    b"\x1b[?1049l",
    b"\x1b[2J",
    b"\x1b[3;10r",
    b"\x1b[r",
    b"\x1b[5;5H",
    b"\x1b7",
    b"\x1b8",
    b"\x08",
    b"\t",
    b"\x1b[4h",
    b"\x1b[4l",
    b"\x1b[?7l",
    b"\x1b[?7h",
    b"\xe2",
    b"\x80",
    b"\x1bc",
    b"\x1b[S",
    b"\x1b[T",
    b"\x1b[3b",
    b"\x0e",
    b"\x0f",
    b"\x1b[1;31m",
    b"\x1b[0m",
    "é\u0301".encode(),
]


def _cells(runs: list[tuple[str, CellStyle]]) -> list[tuple[str, CellStyle]]:
    """Runs as cells without trailing default blanks (scrollback lines may be stored shorter)."""
    out = [(ch, style) for text, style in runs for ch in text]
    while out and out[-1] == (" ", DEFAULT_STYLE):
        out.pop()
    return out


def _state(emulator: TerminalEmulator) -> tuple[object, ...]:
    lines = range(-emulator.history_size, emulator.rows)
    return (
        emulator.display,
        emulator.history_lines(),
        emulator.cursor,
        [_cells(emulator.line_runs(y)) for y in lines],
        emulator.title,
        emulator.in_alternate_screen,
    )


@pytest.mark.parametrize("seed", range(40))
def test_fuzzed_input_byte_by_byte_equals_whole_chunk(seed: int) -> None:
    """Random mixes of text, line runs (the bulk-scroll path) and cut/aborted sequences, on tiny screens."""
    rng = random.Random(seed)
    for _ in range(10):
        data = b"".join(rng.choice(FUZZ_PIECES) for _ in range(rng.randint(1, 300)))
        cols, rows = rng.randint(1, 30), rng.randint(1, 10)
        whole = fed(data, cols, rows, history=50)
        split = TerminalEmulator(cols, rows, history=50)
        for i in range(len(data)):
            split.feed(data[i : i + 1])
        assert _state(split) == _state(whole), data


def test_contract_of_developers_md() -> None:
    """Every name the Terminal contract in DEVELOPERS.md promises, with the promised kind of value."""
    emulator = TerminalEmulator()
    assert (emulator.cols, emulator.rows, emulator.history_size) == (80, 24, 0)
    assert isinstance(emulator.display, list) and len(emulator.display) == 24
    assert emulator.history_lines() == []
    assert emulator.take_replies() == b""
    assert emulator.take_dirty() == set(range(24))
    assert emulator.cursor == (0, 0)
    assert emulator.line_runs(0) == [(" " * 80, DEFAULT_STYLE)]
    assert emulator.cursor_visible is True
    for flag in (
        "in_alternate_screen",
        "app_cursor_keys",
        "bracketed_paste",
        "focus_events",
        "mouse_tracking",
        "mouse_sgr",
    ):
        assert getattr(emulator, flag) is False
    assert (emulator.title, emulator.bell_count, emulator.feed_errors) == ("", 0, 0)
    emulator.resize(100, 30)
    assert (emulator.cols, emulator.rows) == (100, 30)
    with pytest.raises(IndexError):
        emulator.line_runs(30)
    with pytest.raises(IndexError):
        emulator.line_runs(-1)


@pytest.mark.parametrize("terminator", [b"\x07", b"\x1b\\"])
@pytest.mark.parametrize("chunk", [1000, 4096, 65536])
def test_huge_osc_is_dropped_not_drawn(terminator: bytes, chunk: int) -> None:
    """A 1 MB OSC 52 (clipboard) is longer than what we buffer: dropped up to its end, never drawn."""
    payload = b"A" * 1_000_000
    data = b"before\x1b]52;c;" + payload + terminator + b"after\x1b]0;title\x07"
    emulator = TerminalEmulator(20, 5)
    for pos in range(0, len(data), chunk):
        emulator.feed(data[pos : pos + chunk])
    assert screen_of(emulator) == ["beforeafter", "", "", "", ""]
    assert emulator.title == "title"


def test_huge_apc_aborted_by_csi() -> None:
    emulator = TerminalEmulator(20, 5)
    data = b"x\x1b_G" + b"B" * 200_000 + b"\x1b[31my"
    for pos in range(0, len(data), 3000):
        emulator.feed(data[pos : pos + 3000])
    assert screen_of(emulator)[0] == "xy"
    assert style_at(emulator, 0, 1) == CellStyle(fg="red")


def screen_of(emulator: TerminalEmulator) -> list[str]:
    return [line.rstrip() for line in emulator.display]


def test_history_dropped_counts_the_lines_that_left_for_good() -> None:
    """`history_dropped + i` names `history_lines()[i]` whatever is written after it (parser positions)."""
    emulator = TerminalEmulator(20, 4, history=5)
    emulator.feed(b"".join(f"line {i}\r\n".encode() for i in range(12)))  # plain text: the fast path
    assert emulator.history_size == 5
    assert emulator.history_dropped == 12 + 1 - 4 - 5  # 13 rows used, 4 on screen, 5 kept
    first = emulator.history_dropped
    assert emulator.history_lines()[0] == f"line {first}"
    emulator.feed(b"\x1b[31mred\x1b[0m\r\n")  # a styled row: the row-by-row path
    assert emulator.history_dropped == first + 1
    assert emulator.history_lines()[0] == f"line {first + 1}"
    emulator.resize(20, 6)  # taller: two lines come back from the scrollback, none is dropped
    assert (emulator.history_size, emulator.history_dropped) == (3, first + 1)
    emulator.feed(b"\x1b[3J")  # erase the scrollback
    assert (emulator.history_size, emulator.history_dropped) == (0, first + 4)


# --- the tables and widths, loaded without the packages' __init__ ---------------------------------------


def test_tables_and_widths_are_the_packages_own() -> None:
    """The emulator loads pyte's two table modules and wcwidth's C implementation from their files, not
    through the packages (whose `__init__` imports ~20 ms more before Claude's first frame): they are the
    very tables and widths the packages give, and importing the packages afterwards works as ever."""
    import pyte.charsets
    import pyte.graphics
    import wcwidth

    from claude_tui.terminal import emulator

    assert emulator._pyte_graphics.FG_BG_256 == pyte.graphics.FG_BG_256
    assert emulator._pyte_charsets.VT100_MAP == pyte.charsets.VT100_MAP
    for code in [*range(0x20, 0x3000, 7), 0x2733, 0x273B, 0x4E2D, 0x1F600, 0x1F44D, 0x200D, 0xFE0F, 0x301]:
        assert emulator.wcwidth(chr(code)) == wcwidth.wcwidth(chr(code)), hex(code)


def test_a_package_that_cannot_be_read_apart_is_imported_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another layout of the package (no such file): the ordinary import."""
    import importlib.machinery

    import pyte.graphics

    from claude_tui.terminal import emulator

    monkeypatch.setattr(importlib.machinery.PathFinder, "find_spec", lambda *args: None)
    with pytest.raises(ImportError):
        emulator._submodule("pyte.graphics")
    assert emulator._pyte_tables()[1] is pyte.graphics
