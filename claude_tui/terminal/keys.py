"""What a terminal sends for keys, pastes, focus changes and mouse events: the bytes xterm would write.

Pure (no Textual): key names are Textual's (``"ctrl+c"``, ``"shift+tab"``, ``"alt+left"``, ``"f5"``) because
that is what the pane receives, but nothing here imports it. The terminal pane encodes with these functions
and writes the bytes to its pump; a test or another front end can do the same.
"""

from __future__ import annotations

__all__ = [
    "FOCUS_IN",
    "FOCUS_OUT",
    "WHEEL_DOWN",
    "WHEEL_UP",
    "encode_key",
    "encode_mouse",
    "encode_paste",
    "motion_code",
    "press_code",
]

FOCUS_IN = b"\x1b[I"
FOCUS_OUT = b"\x1b[O"
"""Focus reports, sent when the program enabled them (``?1004h``)."""

WHEEL_UP = 64
WHEEL_DOWN = 65
"""xterm's button numbers of the mouse wheel."""

# Keys whose plain form is ESC [ x or, in application cursor mode, ESC O x; with modifiers ESC [ 1 ; m x.
_CURSOR_KEYS = {"up": "A", "down": "B", "right": "C", "left": "D", "home": "H", "end": "F"}
# ESC O P..S; with modifiers ESC [ 1 ; m P..S.
_SS3_KEYS = {"f1": "P", "f2": "Q", "f3": "R", "f4": "S"}
# ESC [ n ~ ; with modifiers ESC [ n ; m ~.
_TILDE_KEYS = {
    "insert": 2,
    "delete": 3,
    "pageup": 5,
    "pagedown": 6,
    "f5": 15,
    "f6": 17,
    "f7": 18,
    "f8": 19,
    "f9": 20,
    "f10": 21,
    "f11": 23,
    "f12": 24,
}
_SIMPLE_KEYS = {
    "enter": b"\r",
    "tab": b"\t",
    "backspace": b"\x7f",
    "escape": b"\x1b",
    "space": b" ",
}
# ctrl+<punctuation> as Textual names them -> the C0 byte a terminal sends.
_CTRL_PUNCT = {
    "@": b"\x00",
    "at": b"\x00",
    "space": b"\x00",
    "left_square_bracket": b"\x1b",
    "backslash": b"\x1c",
    "right_square_bracket": b"\x1d",
    "circumflex_accent": b"\x1e",
    "underscore": b"\x1f",
    "minus": b"\x1f",
    "question_mark": b"\x7f",
}
_MODIFIER_BITS = {"shift": 1, "alt": 2, "meta": 2, "ctrl": 4}
_BUTTONS = {1: 0, 2: 1, 3: 2}
"""Textual's mouse buttons (left, middle, right) -> xterm's button numbers."""


def encode_key(key: str, character: str | None, *, app_cursor_keys: bool = False) -> bytes | None:
    """The bytes an xterm sends for a key, or None when there is nothing to send.

    Args:
        key: Textual's key name, e.g. ``"a"``, ``"ctrl+c"``, ``"shift+tab"``, ``"alt+left"``, ``"f5"``.
        character: the printable character of the event, if any.
        app_cursor_keys: the program turned on DECCKM (``?1h``): plain arrows/home/end use SS3.
    """
    if key in ("shift+tab", "backtab"):
        return b"\x1b[Z"
    *mods, base = key.split("+")
    modifiers = set(mods)
    bits = sum(_MODIFIER_BITS.get(m, 0) for m in modifiers)
    alt = "alt" in modifiers or "meta" in modifiers
    prefix = b"\x1b" if alt else b""

    if base in _CURSOR_KEYS:
        final = _CURSOR_KEYS[base]
        if bits:
            return f"\x1b[1;{bits + 1}{final}".encode()
        return ("\x1bO" if app_cursor_keys else "\x1b[").encode() + final.encode()
    if base in _SS3_KEYS:
        final = _SS3_KEYS[base]
        return f"\x1b[1;{bits + 1}{final}".encode() if bits else f"\x1bO{final}".encode()
    if base in _TILDE_KEYS:
        number = _TILDE_KEYS[base]
        return f"\x1b[{number};{bits + 1}~".encode() if bits else f"\x1b[{number}~".encode()
    if "ctrl" in modifiers:
        if len(base) == 1 and base.isascii() and base.isalpha():
            return prefix + bytes([ord(base.lower()) & 0x1F])
        if base in _CTRL_PUNCT:
            return prefix + _CTRL_PUNCT[base]
        if base in _SIMPLE_KEYS:
            return prefix + _SIMPLE_KEYS[base]
        if character and len(character) == 1 and ord(character) < 0x20:
            return prefix + character.encode()
        return None
    if base in _SIMPLE_KEYS:
        return prefix + _SIMPLE_KEYS[base]
    if character:
        if ord(character[0]) < 0x20 or character == "\x7f":
            return prefix + character.encode()
        return prefix + character.encode("utf-8", errors="replace")
    if len(base) == 1:
        return prefix + (base.upper() if "shift" in modifiers else base).encode("utf-8", errors="replace")
    return None


def encode_paste(text: str, *, bracketed: bool) -> bytes:
    """Pasted text as a terminal sends it: line breaks as CR (like Enter), and wrapped in
    ``ESC [200~`` ... ``ESC [201~`` when the program enabled bracketed paste (``?2004h``)."""
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    if bracketed:
        # A pasted end marker would let the paste escape the brackets and run as typed keys.
        text = "\x1b[200~" + text.replace("\x1b[201~", "") + "\x1b[201~"
    return text.encode("utf-8", errors="replace")


def press_code(button: int) -> int:
    """xterm's code for pressing or releasing Textual mouse button ``button`` (1 left, 2 middle, 3 right)."""
    return _BUTTONS.get(button, 0)


def motion_code(button: int) -> int:
    """xterm's code for the mouse moving with Textual button ``button`` held (0: none held)."""
    return 32 + _BUTTONS.get(button, 3)


def encode_mouse(
    code: int,
    x: int,
    y: int,
    *,
    press: bool = True,
    sgr: bool,
    shift: bool = False,
    meta: bool = False,
    ctrl: bool = False,
) -> bytes | None:
    """An xterm mouse report of button ``code`` (`press_code`, `motion_code`, `WHEEL_UP`/`WHEEL_DOWN`) at
    cell ``x``, ``y`` (0-based, negative taken as 0), with the modifier bits: SGR ``CSI < b;x;y M/m`` when the
    program asked for it (``?1006``), else legacy ``CSI M bxy`` (None when the position is beyond what the
    legacy encoding can express)."""
    x, y = max(0, x), max(0, y)
    code |= (4 if shift else 0) | (8 if meta else 0) | (16 if ctrl else 0)
    if sgr:
        return f"\x1b[<{code};{x + 1};{y + 1}{'M' if press else 'm'}".encode()
    if not press:
        code = 3  # a legacy release does not say which button
    if x + 33 > 255 or y + 33 > 255:
        return None
    return bytes([0x1B, 0x5B, 0x4D, 32 + code, 33 + x, 33 + y])
