"""A fast, pure terminal emulator (screen + scrollback) for the embedded terminal pane.

Built on pyte's tables (256-color palette, DEC special graphics charset) and pyte's model (a screen of
cells with a cursor), but with its own tokenizer and screen storage, because pyte 0.8.2 is both too slow
(its ``HistoryScreen`` does 0.04-0.5 MB/s: a Python generator step per character and a wrapper call per
event) and wrong for what real programs send (no alternate screen; private-marker CSI such as ``CSI <u``
or ``CSI >4;2m`` drawn or taken as SGR; APC/DCS strings drawn as text).

How it stays fast (docs/terminal-emulator.md has the measurements):

* input is split by one regular expression into few, big tokens: blocks of plain lines, *segments* (printable
  text mixed with the sequences that only restyle or move along the current row: SGR, CHA, CUF, EL), other
  escape sequences and controls. A segment is split once more (in C) and its pieces are applied in one tight
  loop, so the common "colour, word, move, word" of a TUI's redraw costs a few slice assignments, not a
  dispatch per sequence;
* a cell's style is a 4-byte id: a row is a list of characters plus a ``bytearray`` of ids, so writing a run
  of text is two slice assignments, grouping a row into runs of one style is a regular expression over bytes,
  and a row leaving the screen is frozen with one ``join`` and one ``bytes`` copy (no per-cell work, and
  nothing the garbage collector has to scan);
* blocks of plain lines scrolling off the bottom go straight into the scrollback, never onto the screen;
* SGR parameter strings are resolved once per (style, parameters) pair and cached.

No Textual import here: the widget draws what this module computes.
"""

from __future__ import annotations

import codecs
import importlib.machinery
import importlib.util
import io
import os
import pickle
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from types import ModuleType
from typing import Any, NamedTuple, cast

__all__ = ["DEFAULT_STYLE", "STATE_VERSION", "CellStyle", "StateError", "TerminalEmulator"]


def _submodule(name: str) -> ModuleType:
    """The module `name` (`package.module`), loaded from its own file without running its package's
    `__init__`, which imports far more than the table or function wanted here: `pyte`'s imports its screens
    and, through them, all of `wcwidth` (~20 ms, its tables built at import: before Claude's first frame, in
    the window and in the session owner); `wcwidth`'s imports every module it has. This copy is the
    emulator's own (not in `sys.modules`): a later import of the package (the tests', mlflow's prettytable)
    is an ordinary one. Raises ImportError when that cannot be done (another layout of the package): the
    caller imports it the ordinary way then."""
    package = name.rpartition(".")[0]
    try:
        parent = importlib.util.find_spec(package)
        where = parent.submodule_search_locations if parent is not None else None
        spec = importlib.machinery.PathFinder.find_spec(name, where) if where is not None else None
        if spec is None or spec.loader is None:
            raise ImportError(name)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception as exc:  # whatever it was, the ordinary import is the answer
        raise ImportError(name) from exc
    return module


def _pyte_tables() -> tuple[ModuleType, ModuleType]:
    """pyte's character sets (`VT100_MAP`) and SGR tables (`FG_BG_256`)."""
    try:
        return _submodule("pyte.charsets"), _submodule("pyte.graphics")
    except ImportError:
        from pyte import charsets, graphics

        return charsets, graphics


def _wcwidth() -> Callable[[str], int]:
    """`wcwidth.wcwidth`: the package's C implementation itself when it has one (what the package's
    `wcwidth` calls then, behind an LRU cache `_WidthCache` makes redundant), else the package's own."""
    if not os.environ.get("WCWIDTH_PYTHON"):  # the package's switch to its Python implementation
        try:
            function: Callable[[str], int] = _submodule("wcwidth._wcwidth_c").wcwidth
            return function
        except (ImportError, AttributeError):
            pass
    from wcwidth import wcwidth

    return wcwidth


_pyte_charsets, _pyte_graphics = _pyte_tables()
wcwidth = _wcwidth()

MAX_SHELL_MARKS = 4096
"""OSC 133 marks kept between two `take_shell_marks` calls (a few per command; taken 4 times a second)."""


class CellStyle(NamedTuple):
    """How one cell is drawn. Immutable and hashable, so it is a cheap cache key.

    ``fg``/``bg`` are ``"default"``, a color name (``black red green yellow blue magenta cyan white`` and
    the same with a ``bright`` prefix, e.g. ``"brightred"``) or six hex digits (``"ff8700"``) for
    256-color and truecolor values.
    """

    fg: str = "default"
    bg: str = "default"
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    reverse: bool = False
    strikethrough: bool = False
    blink: bool = False


DEFAULT_STYLE = CellStyle()

_ANSI_NAMES = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")
_PALETTE_256: list[str] = list(_pyte_graphics.FG_BG_256)
# The 16 base colors keep their names, so the widget can map them to the user's theme.
for _i, _name in enumerate(_ANSI_NAMES):
    _PALETTE_256[_i] = _name
    _PALETTE_256[_i + 8] = "bright" + _name

# DEC special graphics (line drawing), from pyte's table: only the characters it changes.
_DEC_GRAPHICS = {
    c: _pyte_charsets.VT100_MAP[c] for c in range(0x20, 0x7F) if _pyte_charsets.VT100_MAP[c] != chr(c)
}

# One alternative per token kind; a match's ``lastindex`` (its last group) says which one matched:
# 1 segment, 2-5 CSI (private marker, params, intermediates, final), 6 control, 7 OSC, none for an aborted
# OSC, 8 DCS/APC/PM/SOS string, 9-10 ESC (intermediates, final). Characters no alternative matches (an ESC
# followed by something invalid) are skipped, as terminals do. A segment is printable text, CR LF, SGR, CHA,
# CUF and EL; its quantifiers are possessive: it never gives back what it matched, so the engine keeps no
# backtracking state per character.
_SEGMENT, _CSI, _CTRL, _OSC, _STRING, _ESC = 1, 5, 6, 7, 8, 10
_TOKEN = re.compile(
    r"([^\x00-\x1f\x7f-\x9f]*+(?:(?:\r\n?|\x1b\[[\x30-\x3b]*+[mGK`CABDH])[^\x00-\x1f\x7f-\x9f]*+)++"
    r"|[^\x00-\x1f\x7f-\x9f]++)"
    r"|\x1b\[([\x3c-\x3f]?)([\x30-\x3b]*)([\x20-\x2f]*)([\x40-\x7e])"
    r"|([\x00-\x1a\x1c-\x1f\x7f-\x9f])"
    # OSC and DCS/APC/PM/SOS end at BEL/ST; an ESC starting something else, CAN or SUB aborts them.
    r"|\x1b(\][^\x07\x1b\x18\x1a]*)(?:\x07|\x1b\\)"
    r"|\x1b\][^\x07\x1b\x18\x1a]*(?:(?=\x1b[^\\])|[\x18\x1a])"  # aborted: dropped, not applied
    r"|(\x1b[P_^X][^\x1b\x18\x1a]*)(?:\x1b\\|(?=\x1b[^\\])|[\x18\x1a])"
    # ``[ ] P _ ^ X`` only get here when their sequence is cut by the end of the read.
    r"|\x1b([\x20-\x2f]*)([\x30-\x4f\x51-\x57\x59\x5a\x5c\x60-\x7e])",
)
# A segment's pieces: text, then (parameters, final, line feed, text) for each sequence in it: a CSI has its
# parameters and final and None for the line feed; CR LF and CR have None, None and "\n" or "". (Each
# alternative starts with a literal character: the engine finds them with a fast scan.)
_SEGMENT_SPLIT = re.compile(r"\x1b\[([\x30-\x3b]*)([mGK`CABDH])|\r(\n?)")
# What keeps a block of ASCII lines from the bulk path: a sequence other than SGR (or a CR alone).
_NOT_BULK = re.compile(r"\x1b\[[\x30-\x3b]*[GK`CABDH]")
_SGR = re.compile(r"\x1b\[[\x30-\x3b]*m")
# What an escape sequence cut off by the end of a read can look like: kept until the next feed.
_INCOMPLETE = re.compile(
    r"\x1b(?:\[[\x3c-\x3f]?[\x30-\x3b]*[\x20-\x2f]*|\][^\x07\x1b\x18\x1a]*\x1b?"
    r"|[P_^X][^\x1b\x18\x1a]*\x1b?|[\x20-\x2f]*)\Z"
)
_UNTERMINATED = re.compile(r"\x1b(?:\][^\x07\x1b\x18\x1a]*|[P_^X][^\x1b\x18\x1a]*)")
# Where a string being dropped ends (BEL, ST, CAN/SUB, or just before an ESC that starts something else).
_STRING_END = re.compile(r"\x07|\x1b\\|[\x18\x1a]|(?=\x1b[^\\])")
# Where a CSI being dropped ends: its final byte, or just before anything a CSI cannot hold.
_CSI_END = re.compile(r"[\x40-\x7e]|(?=[^\x20-\x3f])")
# An unterminated string or CSI longer than this is dropped rather than buffered for ever (garbage input).
_MAX_PENDING = 1 << 16
# Parameter strings longer than this are not memoized (a hostile stream could fill the caches with them).
_MAX_CACHED_PARAMS = 64
# Runs of cells with the same 4-byte style id (matches stay aligned: each is a multiple of 4 long).
_SAME_STYLE = re.compile(rb"(....)\1*", re.DOTALL)


class _WidthCache(dict[str, int]):
    """wcwidth per character, memoized (a dict lookup is cheaper than wcwidth's own LRU wrapper)."""

    def __missing__(self, ch: str) -> int:
        width = wcwidth(ch)
        # Controls (-1) never reach the drawing code; be safe and give them no cell.
        width = 0 if width < 0 else width
        if len(self) < 100_000:
            self[ch] = width
        return width


_WIDTHS = _WidthCache()
# Non-ASCII runs seen to be all single-width (bounded; cleared when full).
_NARROW_RUNS: set[str] = set()

_DA1_REPLY = b"\x1b[?62;22c"  # VT220 with ANSI color: no claim of anything we do not do.

_KEY_SIZE = 4
"""Bytes per cell in a row's style ids (little-endian)."""
DEFAULT_KEY = bytes(_KEY_SIZE)
"""The style id of `DEFAULT_STYLE` (0), as a row stores it."""


class _StyleTable:
    """Every style in use gets a small id; rows store ids (4 bytes a cell), not `CellStyle` objects.

    Ids of styles nothing uses any more are recycled by `retain`, which the emulator calls with the ids its
    screens and scrollback still hold once `live` passes `limit`.
    """

    def __init__(self) -> None:
        self.styles: list[CellStyle | None] = [DEFAULT_STYLE]
        self.keys: dict[CellStyle, bytes] = {DEFAULT_STYLE: DEFAULT_KEY}
        self.free: list[int] = []
        self.limit = 1 << 16
        """When `live` passes this, the emulator asks to drop unused styles."""

    @property
    def live(self) -> int:
        """Styles with an id."""
        return len(self.keys)

    def key(self, style: CellStyle) -> bytes:
        """The 4-byte id of `style`, given one if it has none."""
        key = self.keys.get(style)
        if key is None:
            if self.free:
                number = self.free.pop()
                self.styles[number] = style
            else:
                number = len(self.styles)
                self.styles.append(style)
            key = number.to_bytes(_KEY_SIZE, "little")
            self.keys[style] = key
        return key

    def style(self, key: bytes) -> CellStyle:
        """The style of a 4-byte id."""
        return cast(CellStyle, self.styles[int.from_bytes(key, "little")])

    def style_of(self, number: int) -> CellStyle:
        """The style of an id as an int."""
        return cast(CellStyle, self.styles[number])

    def retain(self, used: set[int]) -> None:
        """Forget every style whose id is not in `used` (the default style always stays)."""
        used.add(0)
        for number, style in enumerate(self.styles):
            if style is not None and number not in used:
                del self.keys[style]
                self.styles[number] = None
                self.free.append(number)
        self.limit = max(1 << 16, 2 * len(self.keys))


HistoryLine = tuple[str | tuple[str, ...], bytes] | tuple[str, int]
"""A scrollback line: a row frozen as it left the screen (its text, or its cells when some cell is not one
character, and its style ids), or a line of one style (text, style id) from the plain-text fast path."""


def _freeze(chars: list[str], attrs: bytearray) -> HistoryLine:
    """A screen row as a scrollback line: one `join` and one copy, no work per cell.

    Strings, bytes and tuples of strings are untracked by the garbage collector, so 10,000 of them cost a
    full collection nothing (lists of cells did: 21.5 ms per collection on 12,000 coloured lines).
    """
    text = "".join(chars)
    if len(text) == len(chars):
        return (text, bytes(attrs))
    return (tuple(chars), bytes(attrs))


class _Scrollback(deque[HistoryLine]):
    """The scrollback: frozen lines (see `HistoryLine`), oldest first, with a count of those dropped."""

    def __init__(self, maxlen: int) -> None:
        super().__init__(maxlen=maxlen)
        self.dropped = 0
        """Lines that left the front for good (the oldest, once full; all of them on a clear): the absolute
        position of the first line kept."""

    def add(self, chars: list[str], attrs: bytearray) -> None:
        """Add a screen row leaving the screen."""
        if len(self) == self.maxlen:
            self.dropped += 1
        self.append(_freeze(chars, attrs))

    def push(self, entries: Iterable[HistoryLine], count: int, skipped: int = 0) -> None:
        """Add `count` frozen lines, oldest first, after `skipped` older ones the caller did not pass because
        they would have been dropped at once (the hot path of plain text: no list is built here)."""
        if self.maxlen is not None:
            self.dropped += skipped + max(0, len(self) + count - self.maxlen)
        self.extend(entries)

    def clear(self) -> None:
        """Forget every line (ED 3)."""
        self.dropped += len(self)
        super().clear()

    def used_styles(self, into: set[int]) -> None:
        """Add the style ids the scrollback holds to `into`."""
        for _text, attrs in self:
            if isinstance(attrs, int):
                into.add(attrs)
            else:
                into.update(memoryview(attrs).cast("I"))


def _thaw(entry: HistoryLine) -> tuple[list[str], bytearray]:
    """A scrollback line as a screen row (of the width it had; `TerminalEmulator._fit` cuts or pads it)."""
    first, second = entry
    if isinstance(second, int):
        return list(first), bytearray(second.to_bytes(_KEY_SIZE, "little") * len(first))
    return list(first), bytearray(second)


def _text_runs(
    cells: str | Sequence[str], attrs: bytes | bytearray, table: _StyleTable
) -> list[tuple[str, CellStyle]]:
    """Group cells into (text, style) runs, the runs found by a regular expression over the style ids."""
    runs = []
    style = table.style
    if isinstance(cells, str):
        for m in _SAME_STYLE.finditer(attrs):
            start, end = m.span()
            runs.append((cells[start >> 2 : end >> 2], style(m.group(1))))
    else:
        for m in _SAME_STYLE.finditer(attrs):
            start, end = m.span()
            runs.append(("".join(cells[start >> 2 : end >> 2]), style(m.group(1))))
    return runs


STATE_VERSION = 1
"""The format of `TerminalEmulator.state`; a change to what it holds bumps it."""

_STATE_SCALARS = (
    "cols",
    "rows",
    "_pending",
    "_x",
    "_y",
    "_key",
    "_top",
    "_bottom",
    "_autowrap",
    "_origin",
    "_insert",
    "_newline_mode",
    "_shift_out",
    "_last_char",
    "_wide_seen",
    "title",
    "bell_count",
    "feed_errors",
    "app_cursor_keys",
    "bracketed_paste",
    "focus_events",
    "mouse_mode",
    "mouse_sgr",
    "cursor_visible",
)
"""Attributes of plain value that `TerminalEmulator.state` copies as they are."""

_DISCARDING_NAMES = {_STRING_END: "string", _CSI_END: "csi"}
_DISCARDING_PATTERNS = {name: pattern for pattern, name in _DISCARDING_NAMES.items()}


class StateError(ValueError):
    """Bytes given to `TerminalEmulator.restore` that are not an emulator state of this version."""


class _PlainUnpickler(pickle.Unpickler):
    """Loads plain data only (tuples, lists, dicts, sets, str, bytes, numbers): no class is ever looked up,
    so bytes from a socket cannot make us import or call anything."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


class TerminalEmulator:
    """A VT/xterm screen with scrollback, fed with the bytes a program writes to its terminal.

    Args:
        cols: screen width in cells.
        rows: screen height in cells.
        history: how many lines scrolled off the top are kept.
    """

    _x: int
    _y: int
    _chars: list[list[str]]
    _attrs: list[bytearray]
    _alt: tuple[list[list[str]], list[bytearray], tuple[int, int, bytes]] | None
    """Saved main screen while the alternate one is shown: (chars, style ids, saved cursor)."""
    _saved: tuple[int, int, bytes, bool, list[str], bool] | None
    _dirty: set[int]
    _all_dirty: bool
    _wide_seen: bool

    def __init__(self, cols: int = 80, rows: int = 24, history: int = 10_000) -> None:
        self.cols = max(1, cols)
        self.rows = max(1, rows)
        self._history = _Scrollback(maxlen=max(0, history))
        self._table = _StyleTable()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._discarding: re.Pattern[str] | None = None
        """While dropping an OSC/DCS/APC string or a CSI too long to keep: what ends it."""
        self._replies: list[bytes] = []
        self._sgr_cache: dict[bytes, dict[str, bytes]] = {}
        """Style id -> SGR parameters -> the style id they lead to (two subscripts cost less than a tuple)."""
        self._sgr_cached = 0
        self._blank_keys: dict[bytes, bytes] = {}
        self._csi: dict[str, Callable[[str, str], None]] = {
            "@": self._csi_ich,
            "A": self._csi_cuu,
            "B": self._csi_cud,
            "C": self._csi_cuf,
            "D": self._csi_cub,
            "E": self._csi_cnl,
            "F": self._csi_cpl,
            "G": self._csi_cha,
            "`": self._csi_cha,
            "H": self._csi_cup,
            "f": self._csi_cup,
            "I": self._csi_cht,
            "J": self._csi_ed,
            "K": self._csi_el,
            "L": self._csi_il,
            "M": self._csi_dl,
            "P": self._csi_dch,
            "S": self._csi_su,
            "T": self._csi_sd,
            "X": self._csi_ech,
            "Z": self._csi_cbt,
            "a": self._csi_cuf,
            "b": self._csi_rep,
            "c": self._csi_da,
            "d": self._csi_vpa,
            "e": self._csi_cud,
            "g": self._csi_tbc,
            "h": self._csi_sm,
            "l": self._csi_rm,
            "m": self._csi_sgr,
            "n": self._csi_dsr,
            "r": self._csi_decstbm,
            "s": self._csi_scosc,
            "u": self._csi_scorc,
        }
        self.title = ""
        """The window title last set with OSC 0 or OSC 2."""
        self.bell_count = 0
        """How many BEL characters (outside OSC strings) were received."""
        self._notifications: list[str] = []
        self.feed_errors = 0
        """Tokens dropped because handling them raised (a bug: `feed` itself never raises)."""
        self.bytes_fed = 0
        """Bytes given to :meth:`feed` so far: a reader that saw this count has seen everything drawn."""
        self._shell_marks: list[str] = []
        self._reset_state()

    # ----------------------------------------------------------------------------------------------
    # state: the whole emulator as bytes, for a replica in another process (the session owner's UI)

    def state(self, *, history: bool = True) -> bytes:
        """Everything the screen is (cells, scrollback, cursor, modes, styles, a half-read sequence), as
        bytes that :meth:`restore` turns back into the same emulator in another process.

        Plain data only (pickled with no class references: :meth:`restore` refuses any): feeding both the
        same bytes afterwards gives the same screens. The format is :data:`STATE_VERSION`; the owner and
        its UI check that they run the same claude-tui before they exchange it.

        `history=False` leaves the scrollback's lines out (the screen is a few KB, the scrollback up to
        MBs): :meth:`history_state` has them, for :meth:`restore_history` after :meth:`restore`, so a UI
        draws the screen before the scrollback has crossed the socket.
        """
        values: dict[str, Any] = {name: getattr(self, name) for name in _STATE_SCALARS}
        values["_g"] = list(self._g)
        values["_tabstops"] = sorted(self._tabstops)
        values["_chars"] = self._chars
        values["_attrs"] = [bytes(row) for row in self._attrs]
        alt = self._alt
        values["_alt"] = None if alt is None else (alt[0], [bytes(row) for row in alt[1]], alt[2])
        saved = self._saved
        values["_saved"] = None if saved is None else (*saved[:4], list(saved[4]), saved[5])
        scrollback = self._history
        values["history"] = (list(scrollback) if history else [], scrollback.maxlen, scrollback.dropped)
        table = self._table
        values["styles"] = [None if style is None else tuple(style) for style in table.styles]
        values["free"] = list(table.free)
        values["limit"] = table.limit
        values["decoder"] = self._decoder.getstate()
        discarding = self._discarding
        values["discarding"] = None if discarding is None else _DISCARDING_NAMES[discarding]
        return pickle.dumps((STATE_VERSION, values), protocol=5)

    def history_state(self) -> bytes:
        """The scrollback's lines, which :meth:`state` leaves out with `history=False`: the same lines the
        state saw when both are taken with nothing fed in between."""
        history = self._history
        return pickle.dumps((STATE_VERSION, (list(history), history.dropped)), protocol=5)

    def restore_history(self, data: bytes) -> None:
        """Put back the scrollback :meth:`history_state` described, older than any line this emulator
        scrolled off since :meth:`restore` (none when nothing was fed in between).

        Raises:
            StateError: the bytes are not a scrollback of this version.
        """
        try:
            version, (lines, dropped) = _PlainUnpickler(io.BytesIO(data)).load()
        except Exception as exc:
            raise StateError(f"not a scrollback state: {exc}") from None
        if version != STATE_VERSION:
            raise StateError(f"scrollback state version {version!r}, expected {STATE_VERSION}")
        newer = self._history
        history = _Scrollback(maxlen=newer.maxlen if newer.maxlen is not None else 0)
        history.extend(lines)
        history.extend(newer)
        history.dropped = dropped + len(lines) + len(newer) - len(history)
        self._history = history
        self._all_dirty = True

    def restore(self, data: bytes) -> None:
        """Become the emulator :meth:`state` described (in place: whoever holds this object keeps it).

        Raises:
            StateError: the bytes are not a state of this version.
        """
        try:
            version, values = _PlainUnpickler(io.BytesIO(data)).load()
        except Exception as exc:
            raise StateError(f"not an emulator state: {exc}") from None
        if version != STATE_VERSION or not isinstance(values, dict):
            raise StateError(f"emulator state version {version!r}, expected {STATE_VERSION}")
        for name in _STATE_SCALARS:
            setattr(self, name, values[name])
        self._g = list(values["_g"])
        self._tabstops = set(values["_tabstops"])
        self._chars = values["_chars"]
        self._attrs = [bytearray(row) for row in values["_attrs"]]
        alt = values["_alt"]
        self._alt = None if alt is None else (alt[0], [bytearray(row) for row in alt[1]], (*alt[2],))
        saved = values["_saved"]
        self._saved = None if saved is None else (*saved[:4], list(saved[4]), saved[5])
        lines, maxlen, dropped = values["history"]
        self._history = _Scrollback(maxlen=maxlen if maxlen is not None else 0)
        self._history.extend(lines)
        self._history.dropped = dropped
        table = _StyleTable()
        table.styles = [None if style is None else CellStyle(*style) for style in values["styles"]]
        table.keys = {
            style: number.to_bytes(_KEY_SIZE, "little")
            for number, style in enumerate(table.styles)
            if style is not None
        }
        table.free = list(values["free"])
        table.limit = values["limit"]
        self._table = table
        self._decoder.setstate(values["decoder"])
        self._discarding = _DISCARDING_PATTERNS.get(values["discarding"])
        self._update_charset()
        self._sgr_cache.clear()
        self._sgr_cached = 0
        self._blank_keys.clear()
        self._replies.clear()
        self._dirty.clear()  # the same set object: a tokenizer loop may hold its ``add``
        self._all_dirty = True

    # ----------------------------------------------------------------------------------------------
    # public API

    def feed(self, data: bytes) -> None:
        """Process bytes written by the program. UTF-8 may be split anywhere; invalid bytes become U+FFFD."""
        self.bytes_fed += len(data)
        text = self._decoder.decode(data)
        if self._pending:
            text = self._pending + text
            self._pending = ""
        if text:
            self._feed_text(text)

    NOTIFICATION_CODES = frozenset({"9", "99", "777"})
    """OSC codes of desktop notifications (iTerm2's 9, kitty's 99, rxvt's 777): passed on, not drawn."""
    NOTIFICATIONS_KEPT = 16
    """Notifications kept until taken (a program that sends more in one go loses the oldest)."""

    def take_notifications(self) -> list[str]:
        """Return (and forget) the desktop notifications the program sent (OSC 9, 99, 777), each a whole
        sequence (`ESC ] 9 ; text BEL`) for the outer terminal."""
        taken, self._notifications = self._notifications, []
        return taken

    def take_replies(self) -> bytes:
        """Return (and forget) the answers to device queries, to be written back to the program."""
        out = b"".join(self._replies)
        self._replies.clear()
        return out

    def take_shell_marks(self) -> list[str]:
        """Return (and forget) the shell-integration marks received (OSC 133 bodies after `133;`, e.g. `A`,
        `C;cmdline_url=ls`, `D;1`), in order; `parsing.shell.ShellMarks` reads them. At most
        `MAX_SHELL_MARKS` wait: a program that floods them loses the oldest, never memory."""
        marks, self._shell_marks = self._shell_marks, []
        return marks

    def take_dirty(self) -> set[int]:
        """Return (and reset) the set of screen rows changed since the last call."""
        if self._all_dirty:
            self._all_dirty = False
            self._dirty.clear()
            return set(range(self.rows))
        # Copied and cleared, not replaced: the set must stay the one a running feed() adds to.
        dirty = set(self._dirty)
        self._dirty.clear()
        if dirty and max(dirty) >= self.rows:
            dirty = {y for y in dirty if y < self.rows}  # rows that a resize took away
        return dirty

    @property
    def display(self) -> list[str]:
        """The screen text, one string per row (a wide character occupies its two cells as one char)."""
        return ["".join(row) for row in self._chars]

    def history_lines(self) -> list[str]:
        """The scrollback text, oldest first, trailing blanks removed."""
        return [_history_text(entry) for entry in self._history]

    @property
    def history_size(self) -> int:
        """Number of lines in the scrollback."""
        return len(self._history)

    @property
    def history_dropped(self) -> int:
        """Lines the scrollback has dropped so far: the absolute position of `history_lines()[0]`, so that
        `history_dropped + i` names the same line however much is written after it."""
        return self._history.dropped

    def line_runs(self, index: int) -> list[tuple[str, CellStyle]]:
        """Text runs of one line with their style; ``index`` in ``range(-history_size, rows)``.

        Negative indexes are scrollback (``-1`` is the line just above the screen). Screen rows are
        covered to the full width; scrollback lines may end early (pad them with the default style).
        """
        if index < 0:
            text, attrs = self._history[index]
            if isinstance(attrs, int):
                return [(cast(str, text), self._table.style_of(attrs))] if text else []
            return _text_runs(text, attrs, self._table)
        if index >= self.rows:
            raise IndexError(index)
        return _text_runs(self._chars[index], self._attrs[index], self._table)

    @property
    def cursor(self) -> tuple[int, int]:
        """Cursor position ``(x, y)``, 0-based, always inside the screen."""
        return (min(self._x, self.cols - 1), self._y)

    @property
    def in_alternate_screen(self) -> bool:
        """True while the program uses the alternate screen (``?1049h``, ``?1047h``, ``?47h``)."""
        return self._alt is not None

    @property
    def mouse_tracking(self) -> bool:
        """True when the program asked for mouse reports (``?1000``, ``?1002`` or ``?1003``)."""
        return self.mouse_mode != 0

    def resize(self, cols: int, rows: int) -> None:
        """Change the screen size, like tmux without re-wrapping.

        Shrinking drops blank rows below the cursor first, then moves top rows into the scrollback; growing
        brings scrollback lines back above the screen. Lines are cut or padded, not re-wrapped. While the
        alternate screen is shown, the main screen is fitted when the program leaves it.
        """
        cols, rows = max(1, cols), max(1, rows)
        if cols == self.cols and rows == self.rows:
            return
        self._fit(cols, rows, history=self._alt is None)
        self.cols, self.rows = cols, rows
        self._top, self._bottom = 0, rows - 1
        self._x = min(self._x, cols - 1)
        self._y = min(max(self._y, 0), rows - 1)
        self._tabstops = set(range(8, cols, 8))
        self._all_dirty = True

    def _fit(self, cols: int, rows: int, history: bool) -> None:
        """Cut or pad the current screen to ``cols`` x ``rows``, keeping the cursor row on screen."""
        chars, attrs = self._chars, self._attrs
        if rows < len(chars):
            excess = len(chars) - rows
            from_top = min(excess, max(0, self._y - rows + 1))
            for _ in range(from_top):
                row_chars, row_attrs = chars.pop(0), attrs.pop(0)
                if history:
                    self._history.add(row_chars, row_attrs)
            del chars[rows:]
            del attrs[rows:]
            self._y -= from_top
        elif history:
            # A taller main screen takes its lines back from the scrollback, like tmux and xterm.
            pull = min(rows - len(chars), len(self._history))
            for _ in range(pull):
                row_chars, row_attrs = _thaw(self._history.pop())
                self._wide_seen = self._wide_seen or "" in row_chars
                chars.insert(0, row_chars)
                attrs.insert(0, row_attrs)
            self._y += pull
        while len(chars) < rows:
            chars.append([" "] * cols)
            attrs.append(bytearray(DEFAULT_KEY * cols))
        for row_chars, row_attrs in zip(chars, attrs, strict=True):
            if cols < len(row_chars):
                del row_chars[cols:]
                del row_attrs[cols * _KEY_SIZE :]
                if row_chars[-1] != "" and _is_wide(row_chars[-1]):
                    row_chars[-1] = " "  # the right half of this wide character was cut off
            elif cols > len(row_chars):
                pad = cols - len(row_chars)
                row_chars.extend([" "] * pad)
                row_attrs.extend(DEFAULT_KEY * pad)

    def reset(self) -> None:
        """Full reset (RIS): clear screen, modes and attributes; the scrollback is kept."""
        self._reset_state()

    # ----------------------------------------------------------------------------------------------
    # state

    def _reset_state(self) -> None:
        cols, rows = self.cols, self.rows
        self._chars = [[" "] * cols for _ in range(rows)]
        self._attrs = [bytearray(DEFAULT_KEY * cols) for _ in range(rows)]
        self._alt = None
        self._x = 0
        self._y = 0
        self._key = DEFAULT_KEY
        """The current style's id (see `_StyleTable`)."""
        self._top = 0
        self._bottom = rows - 1
        self._autowrap = True
        self._origin = False
        self._insert = False
        self._newline_mode = False
        self._g = ["B", "B"]
        self._shift_out = False
        self._charset_map: dict[int, str] | None = None
        self._saved = None
        self._tabstops = set(range(8, cols, 8))
        self._last_char = ""
        self._wide_seen = False
        """Whether a wide character was drawn (or came back from the scrollback) since the last reset: until
        then no cell is the right half of one, and drawing need not mend halves."""
        # Updated in place, never replaced while feeding: the tokenizer loop holds its ``add``.
        if not hasattr(self, "_dirty"):
            self._dirty = set()
        self._all_dirty = True
        """Every row changed (a scroll, a clear): cheaper than adding every row to `_dirty`."""
        self.app_cursor_keys = False
        """DECCKM (``?1``): arrow keys send ``ESC O A`` instead of ``ESC [ A``."""
        self.bracketed_paste = False
        """``?2004``: pastes are wrapped in ``ESC [200~`` ... ``ESC [201~``."""
        self.focus_events = False
        """``?1004``: focus in/out are reported as ``ESC [I`` / ``ESC [O``."""
        self.mouse_mode = 0
        """The mouse tracking mode asked for: 0 (off), 1000 (clicks), 1002 (drags) or 1003 (all motion)."""
        self.mouse_sgr = False
        """``?1006``: mouse reports use the SGR encoding."""
        self.cursor_visible = True
        """``?25``: whether the program wants the cursor shown."""

    # ----------------------------------------------------------------------------------------------
    # styles

    def _sgr_key(self, key: bytes, params: str) -> bytes:
        """The style id after SGR `params` applied to style id `key` (the cache's slow path)."""
        table = self._table
        new = table.key(_apply_sgr(table.style(key), params))
        if len(params) <= _MAX_CACHED_PARAMS:
            if self._sgr_cached > 4096:
                self._sgr_cache.clear()
                self._sgr_cached = 0
            self._sgr_cache.setdefault(key, {})[params] = new
            self._sgr_cached += 1
        if table.live > table.limit:
            self._drop_unused_styles(key, new)
        return new

    def _blank_key(self) -> bytes:
        """The style id of erased cells: the current background, nothing else (like xterm and tmux)."""
        key = self._key
        blank = self._blank_keys.get(key)
        if blank is None:
            bg = self._table.style(key).bg
            blank = DEFAULT_KEY if bg == "default" else self._table.key(CellStyle(bg=bg))
            if len(self._blank_keys) > 4096:
                self._blank_keys.clear()
            self._blank_keys[key] = blank
        return blank

    def _drop_unused_styles(self, *keep: bytes) -> None:
        """Recycle the ids of styles no cell, saved cursor or current state uses (many truecolor styles)."""
        used: set[int] = {int.from_bytes(key, "little") for key in (*keep, self._key)}
        screens = [self._attrs]
        if self._alt is not None:
            screens.append(self._alt[1])
            used.add(int.from_bytes(self._alt[2][2], "little"))
        if self._saved is not None:
            used.add(int.from_bytes(self._saved[2], "little"))
        for screen in screens:
            for attrs in screen:
                used.update(memoryview(attrs).cast("I"))
        self._history.used_styles(used)
        self._sgr_cache.clear()
        self._sgr_cached = 0
        self._blank_keys.clear()
        self._table.retain(used)

    # ----------------------------------------------------------------------------------------------
    # tokenizer

    def _feed_text(self, text: str) -> None:
        # An escape sequence cut by the end of this read waits for the next one. OSC and string bodies
        # hold no ESC, so the cut starts at the last ESC or (``ESC ] ... ESC`` awaiting its ``\\``) the one
        # before it.
        if self._discarding is not None:
            string_end = self._discarding.search(text)
            if string_end is None:
                self._pending = "\x1b" if text.endswith("\x1b") and self._discarding is _STRING_END else ""
                return
            self._discarding = None
            text = text[string_end.end() :]
        last = text.rfind("\x1b")
        if last >= 0 and len(text) - last >= _MAX_PENDING and _UNTERMINATED.fullmatch(text, last):
            # A string too long to buffer (a huge OSC 52 paste, garbage): drop it up to its terminator.
            self._discarding = _STRING_END
            text = text[:last]
        elif last >= 0 and len(text) - last >= _MAX_PENDING and _INCOMPLETE.match(text, last):
            # A CSI with 64K characters of parameters and no end yet: garbage, dropped up to its final byte.
            self._discarding = _CSI_END
            text = text[:last]
        elif last >= 0:
            before = text.rfind("\x1b", 0, last)
            if before >= 0 and _INCOMPLETE.match(text, before):
                cut = before
            elif _INCOMPLETE.match(text, last):
                cut = last
            else:
                cut = -1
            if cut >= 0:
                self._pending = text[cut:]
                # OSC/strings aborted by the ESC that starts the cut sequence (or by the one after them).
                previous = text.rfind("\x1b", 0, cut)
                while previous >= 0 and _UNTERMINATED.fullmatch(text, previous, cut):
                    cut = previous
                    previous = text.rfind("\x1b", 0, cut)
                text = text[:cut]
        csi = self._csi
        segment = self._segment
        dirty_add = self._dirty.add
        # ``finditer`` + ``lastindex`` (which alternative matched) costs half of ``findall``'s tuples.
        for m in _TOKEN.finditer(text):
            try:
                kind = m.lastindex
                if kind == _SEGMENT:
                    run = m.group()
                    if "\x1b" in run or "\r" in run:
                        segment(run)
                    elif self._charset_map is None and (run.isascii() or run in _NARROW_RUNS):
                        # The common case of a plain run, inlined: it fits on the row, one cell a character.
                        x = self._x
                        end = x + len(run)
                        if end <= self.cols and not self._insert:
                            self._last_char = run[-1]
                            y = self._y
                            row = self._chars[y]
                            if x and row[x] == "":
                                row[x - 1] = " "
                            row[x:end] = run
                            self._attrs[y][x << 2 : end << 2] = self._key * len(run)
                            if end < self.cols and row[end] == "":
                                row[end] = " "
                            self._x = end
                            dirty_add(y)
                        else:
                            self._draw(run)
                    else:
                        self._draw(run)
                elif kind == _CTRL:
                    ch = m.group()
                    if ch == "\r":
                        self._x = 0
                    else:
                        self._control(ch)
                elif kind == _CSI:
                    private, params, inter, final = m.group(2, 3, 4, 5)
                    if private or inter:
                        self._csi_special(private, params, inter, final)
                    else:
                        handler = csi.get(final)
                        if handler is not None:
                            handler(params, final)
                elif kind == _OSC:
                    self._osc(m.group(_OSC)[1:])
                elif kind == _ESC:
                    self._esc(m.group(9), m.group(10))
                # else a DCS/APC/PM/SOS string or an aborted OSC: consumed, nothing drawn.
            except Exception:  # no byte sequence may stop the pane (issue 13)
                # A bug some sequence ran into: that token is lost, the rest of the read is not.
                self.feed_errors += 1

    def _segment(self, segment: str) -> None:
        """Apply printable text mixed with CR LF, SGR, CHA, CUF and EL: the bulk of what programs write.

        Lines of text and SGR only scrolling up from the bottom of the screen (a log, ``seq``) take the bulk
        path (`_lines`); everything else the piece loop (`_pieces`).
        """
        if segment.count("\r\n") > 2:
            segment = self._lines(segment)
        if segment:
            self._pieces(segment)

    def _stretch(self, parts: list[Any], finals: list[Any], j: int, h: int) -> bool:
        """Apply the pieces between finals `j` and `h` (a cursor move or the end) when they are only colours
        and ASCII text, perhaps erased to the end of the row, and fit the row: what curses programs draw after
        a cursor move. One slice assignment per list, no step per piece. Returns False, having changed
        nothing, when the stretch is not that."""
        group = finals[j:h]
        plain = group.count("m")
        erase = False
        if plain != len(group):
            # Only an EL 0 at the end may join the colours, with no text after it.
            if plain != len(group) - 1 or group[-1] != "K" or parts[4 * h - 3] or parts[4 * h]:
                return False
            erase = True
        texts: list[str] = parts[4 * j : 4 * h + 1 : 4]
        text = "".join(texts)
        x = self._x
        end = x + len(text)
        cols = self.cols
        if end > cols or not text.isascii():
            return False
        key = self._key
        sgr_cache = self._sgr_cache
        pieces = [key * len(texts[0])]
        append = pieces.append
        for params, piece in zip(parts[4 * j + 1 : 4 * (h - erase) + 1 : 4], texts[1:], strict=False):
            if params == "0" or not params:
                key = DEFAULT_KEY  # a reset, whatever came before: no lookup
            else:
                try:
                    key = sgr_cache[key][params]
                except KeyError:
                    key = self._sgr_key(key, params)
            append(key * len(piece))
        y = self._y
        row, attrs = self._chars[y], self._attrs[y]
        row[x:end] = text
        attrs[x << 2 : end << 2] = b"".join(pieces)
        self._key = key
        if erase and end < cols:
            blank = self._blank_keys.get(key) or self._blank_key()
            row[end:] = [" "] * (cols - end)
            attrs[end << 2 :] = blank * (cols - end)
        self._x = end
        if text:
            self._last_char = text[-1]
        if text or erase:
            self._dirty.add(y)
        return True

    def _pieces(self, segment: str) -> None:
        """Apply a segment's pieces one after the other, the state in locals.

        Whatever is not the plain case (a run that wraps, wide characters, insert mode, a charset, a line
        feed) goes through the general methods with the state synced.
        """
        parts: list[Any] = _SEGMENT_SPLIT.split(segment)  # str, or None for a CR's parameters and final
        if self._charset_map is not None or self._insert:
            self._piece_loop(parts)
            return
        # Stretches between cursor moves (CUP): the plain ones in one step each (`_stretch`), the rest piece
        # by piece.
        finals = parts[2::4]
        count = len(finals)
        j = 0
        while True:
            try:
                h = finals.index("H", j)
            except ValueError:
                h = count
            if self._wide_seen or not self._stretch(parts, finals, j, h):
                self._piece_loop(parts[4 * j : 4 * h + 1])
            if h == count:
                return
            self._csi_cup(parts[4 * h + 1], "H")
            j = h + 1

    def _piece_loop(self, parts: list[Any]) -> None:
        """Apply split pieces (a text, then parameters, final, line feed and text for each sequence) one after
        the other, the state in locals; whatever is not the plain case goes through the general methods with
        the state synced."""
        cols = self.cols
        x, y, key = self._x, self._y, self._key
        row, attrs = self._chars[y], self._attrs[y]
        simple = self._charset_map is None and not self._insert
        wide = self._wide_seen  # no cell of a wide character anywhere: no halves to mend
        sgr_cache = self._sgr_cache
        parts[0:0] = ("", "", None)  # a no-op sequence before the first text: every step is (sequence, text)
        narrow = _NARROW_RUNS
        firsts = _FIRSTS
        dirty_add = self._dirty.add
        it = iter(parts)
        for params, final, feed, text in zip(it, it, it, it, strict=False):
            if final == "m":
                if params == "0" or not params:
                    key = DEFAULT_KEY
                else:
                    try:
                        key = sgr_cache[key][params]
                    except KeyError:
                        key = self._sgr_key(key, params)
            elif final == "G" or final == "`":
                count = firsts.get(params) or _first(params)
                x = count - 1 if count <= cols else cols - 1
            elif feed == "":
                x = 0
            elif final == "K":
                if not params and x < cols and not wide:
                    # EL 0 from a cell inside the row, inlined: the common case.
                    self._key = key
                    blank = self._blank_keys.get(key) or self._blank_key()
                    row[x:] = [" "] * (cols - x)
                    attrs[x << 2 :] = blank * (cols - x)
                    dirty_add(y)
                else:
                    self._x, self._y, self._key = x, y, key
                    self._csi_el(params, final)
            elif final == "C":
                x += firsts.get(params) or _first(params)
                if x >= cols:
                    x = cols - 1
            elif final == "B" or final == "A":
                if final == "B":
                    last_row = self._bottom if y <= self._bottom else self.rows - 1
                    y += firsts.get(params) or _first(params)
                    if y > last_row:
                        y = last_row
                else:
                    top = self._top if y >= self._top else 0
                    y -= firsts.get(params) or _first(params)
                    if y < top:
                        y = top
                if x >= cols:
                    x = cols - 1
                row, attrs = self._chars[y], self._attrs[y]
            elif final == "H":
                self._csi_cup(params, final)
                x, y = self._x, self._y
                row, attrs = self._chars[y], self._attrs[y]
            elif final == "D":
                if x >= cols:
                    x = cols - 1
                x -= firsts.get(params) or _first(params)
                if x < 0:
                    x = 0
            elif feed:
                self._x, self._y, self._key = 0, y, key
                self._index()
                x, y = 0, self._y
                row, attrs = self._chars[y], self._attrs[y]
            if text:
                n = len(text)
                end = x + n
                if end <= cols and simple and (text.isascii() or text in narrow):
                    if wide and x and row[x] == "":
                        row[x - 1] = " "  # overwrote the right half of a wide character
                    row[x:end] = text
                    attrs[x << 2 : end << 2] = key * n
                    if wide and end < cols and row[end] == "":
                        row[end] = " "  # overwrote the left half of a wide character
                    x = end
                    dirty_add(y)
                else:
                    self._x, self._y, self._key = x, y, key
                    self._draw(text)
                    x, y = self._x, self._y
                    row, attrs = self._chars[y], self._attrs[y]
                    wide = self._wide_seen
        self._x, self._y, self._key = x, y, key
        if simple:
            # REP repeats the last character drawn (`_draw` sets it too; without a charset it is the same).
            for text in reversed(parts[3::4]):
                if text:
                    self._last_char = text[-1]
                    break

    # ----------------------------------------------------------------------------------------------
    # drawing

    def _draw(self, text: str) -> None:
        if self._charset_map is not None:
            text = text.translate(self._charset_map)
        self._last_char = text[-1]
        if text.isascii() or text in _NARROW_RUNS:
            self._draw_narrow(text)
            return
        widths = list(map(_WIDTHS.__getitem__, text))
        if widths.count(1) == len(widths):
            # Box drawing, bullets, NBSP, accented letters...: one cell each, same fast path as ASCII.
            # Programs redraw the same ones over and over (rules, prompts, spinners): remember them.
            if len(_NARROW_RUNS) > 4096:
                _NARROW_RUNS.clear()
            _NARROW_RUNS.add(text)
            self._draw_narrow(text)
        else:
            self._draw_wide(text, widths)

    def _draw_narrow(self, text: str) -> None:
        """Draw characters that take one cell each: whole runs at once with slice assignment."""
        x = self._x
        n = len(text)
        cols = self.cols
        end = x + n
        key = self._key
        if end <= cols and not self._insert:
            # The common case: the run fits on the current row.
            y = self._y
            row = self._chars[y]
            if x and row[x] == "":
                row[x - 1] = " "  # overwrote the right half of a wide character
            row[x:end] = text
            self._attrs[y][x << 2 : end << 2] = key * n
            if end < cols and row[end] == "":
                row[end] = " "  # overwrote the left half of a wide character
            self._x = end
            self._dirty.add(y)
            return
        i = 0
        while i < n:
            x = self._x
            if x >= cols:
                if self._autowrap:
                    self._x = 0
                    self._index()
                    x = 0
                else:
                    # No wrap: everything left lands in the last column, the last character wins.
                    x = cols - 1
                    text = text[:i] + text[-1]
                    n = i + 1
            y = self._y
            k = min(n - i, cols - x)
            row = self._chars[y]
            attrs = self._attrs[y]
            if self._insert:
                self._insert_blanks(row, attrs, x, k)
            if row[x] == "" and x > 0:
                row[x - 1] = " "
            row[x : x + k] = text[i : i + k]
            attrs[x << 2 : (x + k) << 2] = key * k
            if x + k < cols and row[x + k] == "":
                row[x + k] = " "
            self._x = x + k
            i += k
            self._dirty.add(y)

    def _draw_wide(self, text: str, widths: list[int]) -> None:
        """Draw a run holding wide or zero-width characters: narrow stretches in one go, the rest per char."""
        cols = self.cols
        i = 0
        n = len(text)
        while i < n:
            width = widths[i]
            if width == 1:
                j = i + 1
                while j < n and widths[j] == 1:
                    j += 1
                self._draw_narrow(text[i:j])
                i = j
                continue
            ch = text[i]
            i += 1
            if width == 0:
                self._combine(ch)
                continue
            if width > cols:
                continue  # a wide character on a one-column screen has nowhere to go
            if self._x + width > cols:
                if self._autowrap:
                    if self._x < cols and width == 2:
                        # A wide char never splits: the last column stays blank and the line wraps.
                        self._chars[self._y][self._x] = " "
                    self._x = 0
                    self._index()
                else:
                    continue  # no room and no wrap: dropped, as tmux does
            x, y = self._x, self._y
            row = self._chars[y]
            attrs = self._attrs[y]
            if self._insert:
                self._insert_blanks(row, attrs, x, width)
            if row[x] == "" and x > 0:
                row[x - 1] = " "
            row[x] = ch
            attrs[x << 2 : (x + width) << 2] = self._key * width
            if width == 2:
                row[x + 1] = ""
                self._wide_seen = True
            if x + width < cols and row[x + width] == "":
                row[x + width] = " "
            self._x = x + width
            self._dirty.add(y)

    def _combine(self, ch: str) -> None:
        """Attach a zero-width character to the cell before the cursor."""
        x, y = self._x, self._y
        row = self._chars[y]
        x = min(x, self.cols) - 1
        while x >= 0 and row[x] == "":
            x -= 1
        if x < 0:
            return
        # Kept as a cluster, not NFC-normalized: what tmux stores, and rich measures clusters correctly.
        row[x] += ch
        self._dirty.add(y)

    def _lines(self, segment: str) -> str:
        """Lines of ASCII text and SGR at the bottom of the screen: scrolled in one step, those that leave the
        screen at once straight into the scrollback. Returns what is left for the piece loop (`_pieces`): the
        whole segment when the bulk path does not apply, else the last, unterminated line."""
        bottom = self._bottom
        if (
            self._alt is not None
            or self._top != 0
            or bottom != self.rows - 1
            or self._insert
            or self._charset_map is not None
            or not segment.isascii()
        ):
            return segment
        has_sgr = "\x1b" in segment
        lone_crs = segment.count("\r") - segment.count("\r\n")  # a read may end between CR and LF
        if lone_crs > segment.endswith("\r") or (has_sgr and _NOT_BULK.search(segment) is not None):
            return segment
        lines = segment.split("\r\n")
        widths = _SGR.sub("", segment).split("\r\n") if has_sgr else lines
        cols = self.cols
        if len(max(widths, key=len)) > cols or len(widths[0]) + min(self._x, cols) > cols:
            return segment
        # The first line is drawn over the current row (it may hold text right of the cursor), then the rest
        # scroll as one block when the cursor is at the bottom.
        tail = lines.pop()
        # Lines that take the cursor down to the bottom row go through the piece loop (none wraps).
        head = max(1, bottom - self._y + 1)
        self._pieces("\r\n".join(lines[:head]) + "\r\n")
        rest = lines[head:]
        if not rest:
            return tail
        if self._y != bottom:
            return "\r\n".join(rest) + "\r\n" + tail
        self._bulk(rest, widths[head : head + len(rest)] if has_sgr else rest)
        return tail

    def _bulk(self, rest: list[str], texts: list[str]) -> None:
        """`rest`, lines of ASCII text and SGR that fit (`texts`: the same without SGR), scrolled up from the
        bottom row in one step."""
        has_sgr = texts is not rest
        cols, bottom = self.cols, self._bottom
        key = self._key
        k = len(rest)
        above = bottom  # rows above the (blank) cursor row that are pushed up
        to_history = max(0, k - above)
        history = self._history
        chars, attrs = self._chars, self._attrs
        new_chars: list[list[str]]
        new_attrs: list[bytearray]
        if to_history:
            history.push(map(_freeze, chars[:above], attrs[:above]), above)
            new_chars, new_attrs = [], []
        else:
            history.push(map(_freeze, chars[:k], attrs[:k]), k)
            new_chars, new_attrs = chars[k:above], attrs[k:above]
        if not has_sgr and self._blank_key() == DEFAULT_KEY:
            # Plain lines (``seq``, ``cat``): one style, no per-line work but the scrollback's tuple.
            keep = history.maxlen or 0
            skip = max(0, to_history - keep)
            sid = int.from_bytes(key, "little")
            history.push(((line, sid) for line in rest[skip:to_history]), to_history - skip, skip)
            for line in rest[to_history:]:
                n = len(line)
                new_chars.append(list(line) + [" "] * (cols - n))
                new_attrs.append(bytearray(key * n + DEFAULT_KEY * (cols - n)))
        else:
            # One split of the whole block: per line, its style ids joined and the blank of its row.
            parts = _SEGMENT_SPLIT.split("\r\n".join(rest) + "\r\n") if has_sgr else None
            line_attrs_of: list[bytes] = []
            blanks = [self._blank_key()]
            if parts is None:
                line_attrs_of = [key * len(text) for text in texts]
                blanks *= len(texts) + 1
            else:
                sgr_cache = self._sgr_cache
                blank_of = self._blank_keys
                pieces = [key * len(parts[0])]
                for params, feed, text in zip(parts[1::4], parts[3::4], parts[4::4], strict=True):
                    if feed is None:
                        if params == "0" or not params:
                            key = DEFAULT_KEY
                        else:
                            try:
                                key = sgr_cache[key][params]
                            except KeyError:
                                key = self._sgr_key(key, params)
                        pieces.append(key * len(text))
                    else:  # the end of a line: the next begins
                        line_attrs_of.append(b"".join(pieces))
                        pieces = [key * len(text)]
                        blank = blank_of.get(key)
                        if blank is None:
                            self._key = key
                            blank = self._blank_key()
                        blanks.append(blank)
            frozen: list[HistoryLine] = []
            for i, text in enumerate(texts):
                line_attrs = line_attrs_of[i]
                blank = blanks[i]
                n = len(text)
                if i < to_history:
                    if blank == DEFAULT_KEY:
                        frozen.append((text, line_attrs))  # ends early: the rest is default blanks
                    else:
                        frozen.append((text + " " * (cols - n), line_attrs + blank * (cols - n)))
                else:
                    new_chars.append(list(text) + [" "] * (cols - n))
                    new_attrs.append(bytearray(line_attrs + blank * (cols - n)))
            history.push(frozen, len(frozen))
            self._key = key
        if texts[-1]:
            self._last_char = texts[-1][-1]
        new_chars.append([" "] * cols)
        new_attrs.append(bytearray(self._blank_key() * cols))
        self._chars = new_chars
        self._attrs = new_attrs
        self._x = 0
        self._all_dirty = True

    # ----------------------------------------------------------------------------------------------
    # lines and scrolling

    def _scroll_up(self, top: int, bottom: int, count: int = 1, keep: bool = True) -> None:
        count = min(count, bottom - top + 1)
        # Like tmux: the line leaving the top of the scroll region (whole screen or not) is kept in the
        # scrollback of the main screen; the alternate screen has none.
        chars, attrs = self._chars, self._attrs
        blank = self._blank_key() * self.cols
        if count == 1:
            row_chars, row_attrs = chars.pop(top), attrs.pop(top)
            if keep and self._alt is None:
                self._history.add(row_chars, row_attrs)
            chars.insert(bottom, [" "] * self.cols)
            attrs.insert(bottom, bytearray(blank))
        else:
            gone_chars, gone_attrs = chars[top : top + count], attrs[top : top + count]
            del chars[top : top + count]
            del attrs[top : top + count]
            if keep and self._alt is None:
                self._history.push(map(_freeze, gone_chars, gone_attrs), count)
            at = bottom + 1 - count
            chars[at:at] = [[" "] * self.cols for _ in range(count)]
            attrs[at:at] = [bytearray(blank) for _ in range(count)]
        self._all_dirty = True

    def _scroll_down(self, top: int, bottom: int, count: int = 1) -> None:
        count = min(count, bottom - top + 1)
        chars, attrs = self._chars, self._attrs
        blank = self._blank_key() * self.cols
        del chars[bottom + 1 - count : bottom + 1]
        del attrs[bottom + 1 - count : bottom + 1]
        chars[top:top] = [[" "] * self.cols for _ in range(count)]
        attrs[top:top] = [bytearray(blank) for _ in range(count)]
        self._all_dirty = True

    def _index(self) -> None:
        if self._y == self._bottom:
            self._scroll_up(self._top, self._bottom)
        elif self._y < self.rows - 1:
            self._y += 1

    def _reverse_index(self) -> None:
        if self._y == self._top:
            self._scroll_down(self._top, self._bottom)
        elif self._y > 0:
            self._y -= 1

    def _insert_blanks(self, row: list[str], attrs: bytearray, x: int, count: int) -> None:
        cols = self.cols
        count = min(count, cols - x)
        row[x:x] = [" "] * count
        attrs[x << 2 : x << 2] = self._blank_key() * count
        del row[cols:]
        del attrs[cols << 2 :]

    # ----------------------------------------------------------------------------------------------
    # C0 / C1 controls and ESC sequences

    def _control(self, ch: str) -> None:
        if ch == "\r":
            self._x = 0
        elif ch == "\n" or ch == "\x0b" or ch == "\x0c":
            self._index()
            if self._newline_mode:
                self._x = 0
        elif ch == "\x08":
            if self._x > 0:
                self._x = min(self._x, self.cols) - 1
        elif ch == "\t":
            # At the pending wrap (x == cols) a tab does nothing: the next character still wraps (tmux).
            if self._x < self.cols:
                x = self._x
                self._x = min([s for s in self._tabstops if s > x], default=self.cols - 1)
        elif ch == "\x07":
            self.bell_count += 1
        elif ch == "\x0e":
            self._shift_out = True
            self._update_charset()
        elif ch == "\x0f":
            self._shift_out = False
            self._update_charset()
        elif ch == "\x84":  # IND
            self._index()
        elif ch == "\x85":  # NEL
            self._x = 0
            self._index()
        elif ch == "\x8d":  # RI
            self._reverse_index()
        # Everything else (NUL, CAN, SUB, other C1 controls) is ignored.

    def _update_charset(self) -> None:
        designation = self._g[1 if self._shift_out else 0]
        self._charset_map = _DEC_GRAPHICS if designation == "0" else None

    def _esc(self, inter: str, final: str) -> None:
        if inter:
            if inter in ("(", ")") and final in "0AB":
                self._g[0 if inter == "(" else 1] = final
                self._update_charset()
            elif inter == "#" and final == "8":
                self._chars = [["E"] * self.cols for _ in range(self.rows)]
                self._attrs = [bytearray(DEFAULT_KEY * self.cols) for _ in range(self.rows)]
                self._all_dirty = True
            return
        if final == "7":
            self._save_cursor()
        elif final == "8":
            self._restore_cursor()
        elif final == "D":
            self._index()
        elif final == "E":
            self._x = 0
            self._index()
        elif final == "M":
            self._reverse_index()
        elif final == "H":
            self._tabstops.add(min(self._x, self.cols - 1))
        elif final == "c":
            if self._alt is None:
                self._clear_into_history()
            self._reset_state()
        # ESC = / ESC > (keypad modes), ESC \ (stray ST) and the rest: nothing to do.

    def _osc(self, body: str) -> None:
        code, _, value = body.partition(";")
        if code in ("0", "2"):
            self.title = value
        elif code == "133":  # shell integration: prompt (A, B), command start (C), command end (D;status)
            marks = self._shell_marks
            marks.append(value)
            if len(marks) > MAX_SHELL_MARKS:
                del marks[: len(marks) - MAX_SHELL_MARKS]
        elif code in self.NOTIFICATION_CODES:
            self._notifications.append(f"\x1b]{body}\x07")
            del self._notifications[: -self.NOTIFICATIONS_KEPT]

    def _save_cursor(self) -> None:
        self._saved = (self._x, self._y, self._key, self._origin, list(self._g), self._shift_out)

    def _restore_cursor(self) -> None:
        if self._saved is None:
            self._x = self._y = 0
            self._origin = False
            return
        x, y, self._key, self._origin, g, self._shift_out = self._saved
        self._g = list(g)
        self._update_charset()
        self._x = min(x, self.cols - 1)
        self._y = min(y, self.rows - 1)

    # ----------------------------------------------------------------------------------------------
    # CSI sequences

    def _csi_special(self, private: str, params: str, inter: str, final: str) -> None:
        # Private-marker sequences other than DEC modes (kitty keyboard ``<u``/``>5u``/``?u``, XTVERSION
        # ``>0q``, modifyOtherKeys ``>4;2m``, ``=...``) are consumed: we do not implement them, and must not
        # answer as if we did.
        if private == "?" and not inter:
            if final == "h":
                self._set_private_modes(params, True)
            elif final == "l":
                self._set_private_modes(params, False)
            return
        if not private and inter == "!" and final == "p":
            self._soft_reset()

    def _soft_reset(self) -> None:
        self._key = DEFAULT_KEY
        self._top, self._bottom = 0, self.rows - 1
        self._origin = False
        self._insert = False
        self._autowrap = True
        self.cursor_visible = True
        self.app_cursor_keys = False

    def _set_private_modes(self, params: str, on: bool) -> None:
        for mode in _ints(params):
            if mode == 1:
                self.app_cursor_keys = on
            elif mode == 6:
                self._origin = on
                self._x = 0
                self._y = self._top if on else 0
            elif mode == 7:
                self._autowrap = on
            elif mode == 25:
                self.cursor_visible = on
            elif mode in (47, 1047, 1049):
                if on:
                    self._enter_alternate(save_cursor=mode == 1049)
                else:
                    self._leave_alternate(restore_cursor=mode == 1049)
            elif mode == 1048:
                if on:
                    self._save_cursor()
                else:
                    self._restore_cursor()
            elif mode in (1000, 1002, 1003):
                self.mouse_mode = mode if on else 0
            elif mode == 1006:
                self.mouse_sgr = on
            elif mode == 1004:
                self.focus_events = on
            elif mode == 2004:
                self.bracketed_paste = on

    def _enter_alternate(self, save_cursor: bool) -> None:
        if self._alt is not None:
            return
        self._alt = (self._chars, self._attrs, (self._x, self._y, self._key))
        if save_cursor:
            self._save_cursor()
        self._chars = [[" "] * self.cols for _ in range(self.rows)]
        self._attrs = [bytearray(DEFAULT_KEY * self.cols) for _ in range(self.rows)]
        self._all_dirty = True

    def _leave_alternate(self, restore_cursor: bool) -> None:
        if self._alt is None:
            return
        self._chars, self._attrs, (x, y, _key) = self._alt
        self._alt = None
        if restore_cursor and self._saved is not None:
            x, y = self._saved[0], self._saved[1]
        if len(self._chars) != self.rows or len(self._chars[0]) != self.cols:
            # Resized while the alternate screen was shown: fit the main screen now, as tmux does.
            self._y = y
            self._fit(self.cols, self.rows, history=True)
            y = self._y
        if restore_cursor:
            self._restore_cursor()  # attributes and charsets; the position is set below
        self._x, self._y = min(x, self.cols - 1), min(max(y, 0), self.rows - 1)
        self._all_dirty = True

    def _csi_sm(self, params: str, final: str) -> None:
        self._set_ansi_modes(params, True)

    def _csi_rm(self, params: str, final: str) -> None:
        self._set_ansi_modes(params, False)

    def _set_ansi_modes(self, params: str, on: bool) -> None:
        for mode in _ints(params):
            if mode == 4:
                self._insert = on
            elif mode == 20:
                self._newline_mode = on

    def _csi_sgr(self, params: str, final: str) -> None:
        try:
            self._key = self._sgr_cache[self._key][params]
        except KeyError:
            self._key = self._sgr_key(self._key, params)

    def _csi_cuu(self, params: str, final: str) -> None:
        top = self._top if self._y >= self._top else 0
        self._y = max(self._y - _first(params), top)
        self._x = min(self._x, self.cols - 1)

    def _csi_cud(self, params: str, final: str) -> None:
        bottom = self._bottom if self._y <= self._bottom else self.rows - 1
        self._y = min(self._y + _first(params), bottom)
        self._x = min(self._x, self.cols - 1)

    def _csi_cuf(self, params: str, final: str) -> None:
        self._x = min(self._x + _first(params), self.cols - 1)

    def _csi_cub(self, params: str, final: str) -> None:
        self._x = max(min(self._x, self.cols - 1) - _first(params), 0)

    def _csi_cnl(self, params: str, final: str) -> None:
        self._csi_cud(params, final)
        self._x = 0

    def _csi_cpl(self, params: str, final: str) -> None:
        self._csi_cuu(params, final)
        self._x = 0

    def _csi_cha(self, params: str, final: str) -> None:
        self._x = min(_first(params), self.cols) - 1

    def _csi_vpa(self, params: str, final: str) -> None:
        y = _first(params) - 1
        if self._origin:
            y = min(y + self._top, self._bottom)
        self._y = min(y, self.rows - 1)
        self._x = min(self._x, self.cols - 1)

    def _csi_cup(self, params: str, final: str) -> None:
        values = _ints(params)
        y = (values[0] if values and values[0] else 1) - 1
        x = (values[1] if len(values) > 1 and values[1] else 1) - 1
        if self._origin:
            y = min(y + self._top, self._bottom)
        self._y = min(y, self.rows - 1)
        self._x = min(x, self.cols - 1)

    def _csi_cht(self, params: str, final: str) -> None:
        if self._x < self.cols:  # at the pending wrap a tab does nothing (see `_control`)
            stops = sorted(s for s in self._tabstops if s > self._x)
            count = _first(params)
            self._x = stops[count - 1] if count <= len(stops) else self.cols - 1

    def _csi_cbt(self, params: str, final: str) -> None:
        x = min(self._x, self.cols - 1)
        stops = sorted((s for s in self._tabstops if s < x), reverse=True)
        count = _first(params)
        self._x = stops[count - 1] if count <= len(stops) else 0

    def _csi_ed(self, params: str, final: str) -> None:
        how = _first(params, 0)
        cols = self.cols
        if how == 0:
            self._csi_el("0", "K")
            rows = range(self._y + 1, self.rows)
        elif how == 1:
            self._csi_el("1", "K")
            rows = range(self._y)
        elif how == 2:
            rows = range(self.rows)
            if self._alt is None:
                self._clear_into_history()
        elif how == 3:
            self._history.clear()
            return
        else:
            return
        blank = self._blank_key() * cols
        for y in rows:
            self._chars[y] = [" "] * cols
            self._attrs[y] = bytearray(blank)
        self._dirty.update(rows)

    def _clear_into_history(self) -> None:
        """Like tmux, clearing the main screen first scrolls its used rows into the scrollback."""
        cols = self.cols
        blank = DEFAULT_KEY * cols
        last = 0
        for y in range(self.rows):
            if self._chars[y].count(" ") != cols or self._attrs[y] != blank:
                last = y + 1
        for y in range(last):
            self._history.add(self._chars[y], self._attrs[y])
            self._chars[y] = [" "] * cols
            self._attrs[y] = bytearray(blank)

    def _csi_el(self, params: str, final: str) -> None:
        how = _first(params, 0)
        x = min(self._x, self.cols)
        if how == 0:
            start, stop = x, self.cols
        elif how == 1:
            start, stop = 0, min(x + 1, self.cols)
        elif how == 2:
            start, stop = 0, self.cols
        else:
            return
        self._erase(self._chars[self._y], self._attrs[self._y], start, stop)

    def _erase(self, row: list[str], attrs: bytearray, start: int, stop: int) -> None:
        if start >= stop:
            return
        n = stop - start
        row[start:stop] = [" "] * n
        attrs[start << 2 : stop << 2] = self._blank_key() * n
        if start > 0 and row[start - 1] != " " and _is_wide(row[start - 1]):
            row[start - 1] = " "
        if stop < self.cols and row[stop] == "":
            row[stop] = " "
        self._dirty.add(self._y)

    def _csi_ech(self, params: str, final: str) -> None:
        x = min(self._x, self.cols - 1)
        self._erase(self._chars[self._y], self._attrs[self._y], x, min(x + _first(params), self.cols))

    def _csi_ich(self, params: str, final: str) -> None:
        x = min(self._x, self.cols - 1)
        self._insert_blanks(self._chars[self._y], self._attrs[self._y], x, _first(params))
        self._dirty.add(self._y)

    def _csi_dch(self, params: str, final: str) -> None:
        x = min(self._x, self.cols - 1)
        count = min(_first(params), self.cols - x)
        row, attrs = self._chars[self._y], self._attrs[self._y]
        del row[x : x + count]
        del attrs[x << 2 : (x + count) << 2]
        row.extend([" "] * count)
        attrs.extend(self._blank_key() * count)
        self._dirty.add(self._y)

    def _csi_il(self, params: str, final: str) -> None:
        if self._top <= self._y <= self._bottom:
            self._scroll_down(self._y, self._bottom, _first(params))
            self._x = 0

    def _csi_dl(self, params: str, final: str) -> None:
        if self._top <= self._y <= self._bottom:
            # Deleted lines never go to the scrollback, even at the top of the screen.
            self._scroll_up(self._y, self._bottom, _first(params), keep=False)
            self._x = 0

    def _csi_su(self, params: str, final: str) -> None:
        self._scroll_up(self._top, self._bottom, _first(params))

    def _csi_sd(self, params: str, final: str) -> None:
        self._scroll_down(self._top, self._bottom, _first(params))

    def _csi_rep(self, params: str, final: str) -> None:
        if self._last_char:
            # Like tmux: never more than a screenful (what more would draw is scrolled away anyway).
            self._draw(self._last_char * min(_first(params), self.cols * self.rows))

    def _csi_da(self, params: str, final: str) -> None:
        if _first(params, 0) == 0:
            self._replies.append(_DA1_REPLY)

    def _csi_dsr(self, params: str, final: str) -> None:
        mode = _first(params, 0)
        if mode == 5:
            self._replies.append(b"\x1b[0n")
        elif mode == 6:
            y = self._y - (self._top if self._origin else 0)
            x = min(self._x, self.cols - 1)
            self._replies.append(f"\x1b[{y + 1};{x + 1}R".encode())

    def _csi_tbc(self, params: str, final: str) -> None:
        how = _first(params, 0)
        if how == 0:
            self._tabstops.discard(min(self._x, self.cols - 1))
        elif how == 3:
            self._tabstops.clear()

    def _csi_decstbm(self, params: str, final: str) -> None:
        values = _ints(params)
        top = (values[0] if values and values[0] else 1) - 1
        bottom = (values[1] if len(values) > 1 and values[1] else self.rows) - 1
        bottom = min(bottom, self.rows - 1)
        if top < bottom:
            self._top, self._bottom = top, bottom
            self._x = 0
            self._y = top if self._origin else 0

    def _csi_scosc(self, params: str, final: str) -> None:
        if not params:
            self._save_cursor()

    def _csi_scorc(self, params: str, final: str) -> None:
        if not params:
            self._restore_cursor()


# --------------------------------------------------------------------------------------------------
# helpers


def _ints(params: str) -> list[int]:
    """Parse ``1;2;;3`` into ints (empty = 0); sub-parameters after ``:`` are ignored. Memoized."""
    values = _INTS_CACHE.get(params)
    if values is None:
        values = [_number(part.split(":", 1)[0]) for part in params.split(";")]
        if len(params) <= _MAX_CACHED_PARAMS:
            if len(_INTS_CACHE) > 4096:
                _INTS_CACHE.clear()
            _INTS_CACHE[params] = values
    return values


_INTS_CACHE: dict[str, list[int]] = {}

_MAX_PARAM = 1 << 16
"""Every numeric parameter is clamped to this: no count may make an operation's work unbounded, and a
parameter of thousands of digits is never given to `int` (which refuses more than 4,300)."""


def _number(digits: str) -> int:
    """A parameter's value: 0 when empty or not a number, at most `_MAX_PARAM`."""
    if not digits.isdigit():
        return 0
    if len(digits) > 6:
        digits = digits.lstrip("0") or "0"
        if len(digits) > 6:
            return _MAX_PARAM
    return min(int(digits), _MAX_PARAM)


def _first(params: str, default: int = 1) -> int:
    """The first parameter, or ``default`` when missing or 0 (0 means 1 for moves and counts)."""
    if not params:
        return default
    value = _ints(params)[0] or default
    if default == 1 and len(params) <= _MAX_CACHED_PARAMS:
        if len(_FIRSTS) > 4096:
            _FIRSTS.clear()
        _FIRSTS[params] = value
    return value


_FIRSTS: dict[str, int] = {}
"""`_first(params)` (the default 1) by parameter string, for the piece loop's moves."""


def _is_wide(ch: str) -> bool:
    return bool(ch) and not ch.isascii() and wcwidth(ch[0]) == 2


def _color(values: list[int], i: int) -> tuple[str | None, int]:
    """Decode an extended color starting at ``values[i]`` (5;n or 2;r;g;b); return it and the next index."""
    if i >= len(values):
        return None, i
    kind = values[i]
    if kind == 5 and i + 1 < len(values):
        n = values[i + 1]
        return (_PALETTE_256[n] if 0 <= n < 256 else None), i + 2
    if kind == 2 and i + 3 < len(values):
        r, g, b = (min(v, 255) for v in values[i + 1 : i + 4])
        return f"{r:02x}{g:02x}{b:02x}", i + 4
    return None, len(values)


def _apply_sgr(style: CellStyle, params: str) -> CellStyle:
    """Apply one SGR parameter string (``;``-separated, ITU ``:`` sub-parameters allowed) to ``style``."""
    if not params or params == "0":
        return DEFAULT_STYLE
    fields = style._asdict()
    parts = params.split(";")
    i = 0
    n = len(parts)
    while i < n:
        part = parts[i]
        i += 1
        if ":" in part:
            # 38:2::r:g:b, 38:2:r:g:b, 38:5:n, 4:3 (curly underline), 58:... (underline color, ignored).
            sub = [_number(v) for v in part.split(":")]
            head = sub[0]
            if head in (38, 48):
                rest = sub[1:]
                if rest and rest[0] == 2 and len(rest) >= 5:
                    rest = [2, *rest[-3:]]
                color, _ = _color(rest, 0)
                if color is not None:
                    fields["fg" if head == 38 else "bg"] = color
            elif head == 4:
                fields["underline"] = len(sub) < 2 or sub[1] != 0
            continue
        v = _number(part)
        if v == 0:
            fields = DEFAULT_STYLE._asdict()
        elif v == 1:
            fields["bold"] = True
        elif v == 2:
            fields["dim"] = True
        elif v == 3:
            fields["italic"] = True
        elif v in (4, 21):
            fields["underline"] = True
        elif v in (5, 6):
            fields["blink"] = True
        elif v == 7:
            fields["reverse"] = True
        elif v == 9:
            fields["strikethrough"] = True
        elif v == 22:
            fields["bold"] = fields["dim"] = False
        elif v == 23:
            fields["italic"] = False
        elif v == 24:
            fields["underline"] = False
        elif v == 25:
            fields["blink"] = False
        elif v == 27:
            fields["reverse"] = False
        elif v == 29:
            fields["strikethrough"] = False
        elif 30 <= v <= 37:
            fields["fg"] = _ANSI_NAMES[v - 30]
        elif v == 39:
            fields["fg"] = "default"
        elif 40 <= v <= 47:
            fields["bg"] = _ANSI_NAMES[v - 40]
        elif v == 49:
            fields["bg"] = "default"
        elif 90 <= v <= 97:
            fields["fg"] = "bright" + _ANSI_NAMES[v - 90]
        elif 100 <= v <= 107:
            fields["bg"] = "bright" + _ANSI_NAMES[v - 100]
        elif v in (38, 48, 58):
            values = [_number(p) for p in parts[i : i + 4]]
            color, used = _color(values, 0)
            i += used
            if color is not None and v != 58:
                fields["fg" if v == 38 else "bg"] = color
    return CellStyle(**fields)


def _history_text(entry: HistoryLine) -> str:
    first = entry[0]
    if isinstance(first, str):
        return first.rstrip()
    return "".join(first).rstrip()
