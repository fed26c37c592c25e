"""`claude_tui.terminal.keys`: the bytes xterm sends for keys, pastes and mouse events (no Textual needed)."""

from __future__ import annotations

import pytest

from claude_tui.terminal.keys import (
    WHEEL_DOWN,
    WHEEL_UP,
    encode_key,
    encode_mouse,
    encode_paste,
    motion_code,
    press_code,
)


@pytest.mark.parametrize(
    ("key", "character", "app_cursor", "expected"),
    [
        ("up", None, True, b"\x1bOA"),
        ("up", None, False, b"\x1b[A"),
        ("ctrl+up", None, True, b"\x1b[1;5A"),
        ("alt+up", None, False, b"\x1b[1;3A"),
        ("shift+f5", None, False, b"\x1b[15;2~"),
        ("ctrl+f1", None, False, b"\x1b[1;5P"),
        ("alt+enter", None, False, b"\x1b\r"),
        ("alt+shift+x", "X", False, b"\x1bX"),
        ("ctrl+backslash", None, False, b"\x1c"),
        ("ctrl+@", None, False, b"\x00"),
        ("ctrl+alt+a", None, False, b"\x1b\x01"),
        ("A", "A", False, b"A"),
        ("dollar_sign", "$", False, b"$"),
        ("漢", "漢", False, "漢".encode()),
        ("shift+tab", None, False, b"\x1b[Z"),
        ("shift", None, False, None),
        ("ctrl+f24_unknown", None, False, None),
    ],
)
def test_encode_key(key: str, character: str | None, app_cursor: bool, expected: bytes | None) -> None:
    assert encode_key(key, character, app_cursor_keys=app_cursor) == expected


@pytest.mark.parametrize(
    ("text", "bracketed", "expected"),
    [
        ("one\ntwo ✻", True, b"\x1b[200~one\rtwo \xe2\x9c\xbb\x1b[201~"),
        ("one\r\ntwo", False, b"one\rtwo"),
        # A pasted end marker cannot end the brackets early and run the rest as typed keys.
        ("a\x1b[201~rm -rf ~\n", True, b"\x1b[200~arm -rf ~\r\x1b[201~"),
    ],
)
def test_encode_paste(text: str, bracketed: bool, expected: bytes) -> None:
    assert encode_paste(text, bracketed=bracketed) == expected


@pytest.mark.parametrize(
    ("code", "x", "y", "options", "expected"),
    [
        (WHEEL_UP, 4, 2, {"sgr": True}, b"\x1b[<64;5;3M"),
        (WHEEL_DOWN, 0, 0, {"sgr": True, "ctrl": True}, b"\x1b[<81;1;1M"),
        (press_code(1), 10, 5, {"sgr": True}, b"\x1b[<0;11;6M"),
        (press_code(1), 10, 5, {"sgr": True, "press": False}, b"\x1b[<0;11;6m"),
        (press_code(3), 1, 1, {"sgr": True, "shift": True, "meta": True}, b"\x1b[<14;2;2M"),
        (motion_code(0), 2, 3, {"sgr": True}, b"\x1b[<35;3;4M"),
        (motion_code(1), 2, 3, {"sgr": True}, b"\x1b[<32;3;4M"),
        (press_code(2), 0, 0, {"sgr": False}, bytes([0x1B, 0x5B, 0x4D, 33, 33, 33])),
        (press_code(2), 0, 0, {"sgr": False, "press": False}, bytes([0x1B, 0x5B, 0x4D, 35, 33, 33])),
        (press_code(1), 300, 0, {"sgr": False}, None),  # beyond what the legacy encoding can say
        (press_code(1), -3, -1, {"sgr": True}, b"\x1b[<0;1;1M"),
    ],
)
def test_encode_mouse(code: int, x: int, y: int, options: dict[str, bool], expected: bytes | None) -> None:
    assert encode_mouse(code, x, y, **options) == expected
