"""Read terminal recordings: asciicast v2 (and v1/v3) files, or raw terminal output.

``read_cast(path)`` returns a :class:`Cast`: the header and the list of events with absolute times.
A recording cut off mid-line (the program or machine died while writing) keeps every complete event
and sets :attr:`Cast.truncated`. Anything that is neither a recording nor terminal output raises
:class:`CastError` with a one-line message fit for the command line.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = ["MAX_COLS", "MAX_ROWS", "Cast", "CastError", "CastEvent", "clamp_size", "read_cast", "resize_size"]

DEFAULT_COLS = 80
DEFAULT_ROWS = 24
MAX_COLS = 2000
MAX_ROWS = 2000
"""The largest screen a recording is played at (what `replay --cols/--rows` accept): a header or resize event
may claim anything, and a screen costs memory per cell."""

# A raw file is accepted as terminal output when at most this share of its first bytes are NULs, invalid
# UTF-8 or control characters a terminal program would not write; past it, it is binary garbage.
_BINARY_SHARE = 0.05
_SAMPLE = 1 << 16
_TEXT_CONTROLS = frozenset(b"\t\n\r\x1b\x07\x08\x0e\x0f")


class CastError(Exception):
    """The file is not a readable recording; ``str()`` is one line naming the file and the problem."""


class CastEvent(NamedTuple):
    """One event: seconds since the start, code (``o`` output, ``i`` input, ``r`` resize, ``m`` marker)."""

    time: float
    code: str
    data: str


@dataclass
class Cast:
    """A parsed recording."""

    header: dict[str, Any]
    events: list[CastEvent] = field(default_factory=list)
    truncated: bool = False
    """True when the last line was cut off (it was dropped, everything before it kept)."""
    raw: bool = False
    """True when the file was raw terminal output, not an asciicast file."""

    @property
    def claimed_size(self) -> tuple[int, int]:
        """The initial size the header states (defaults where it states none), not capped."""
        return int(self.header.get("width") or DEFAULT_COLS), int(self.header.get("height") or DEFAULT_ROWS)

    @property
    def width(self) -> int:
        """Initial width in columns, at most :data:`MAX_COLS`."""
        return clamp_size(*self.claimed_size)[0]

    @property
    def height(self) -> int:
        """Initial height in rows, at most :data:`MAX_ROWS`."""
        return clamp_size(*self.claimed_size)[1]

    def oversized(self) -> tuple[int, int] | None:
        """The largest size the header or a resize event claims past :data:`MAX_COLS` x :data:`MAX_ROWS`, or
        None when every size fits (such sizes are played capped)."""
        sizes = [self.claimed_size]
        for event in self.events:
            if event.code == "r":
                width, _, height = event.data.partition("x")
                if width.isdigit() and height.isdigit():
                    sizes.append((int(width), int(height)))
        too_big = [size for size in sizes if size[0] > MAX_COLS or size[1] > MAX_ROWS]
        return max(too_big, key=lambda size: size[0] * size[1]) if too_big else None

    @property
    def duration(self) -> float:
        """Time of the last event."""
        return self.events[-1].time if self.events else 0.0

    def output(self) -> Iterator[CastEvent]:
        """The output and resize events, in order (what a player needs)."""
        return (event for event in self.events if event.code in ("o", "r"))


def clamp_size(cols: int, rows: int) -> tuple[int, int]:
    """A screen size brought into 1..:data:`MAX_COLS` x 1..:data:`MAX_ROWS`."""
    return max(1, min(cols, MAX_COLS)), max(1, min(rows, MAX_ROWS))


def resize_size(data: str) -> tuple[int, int] | None:
    """The size of a resize event's ``"COLSxROWS"``, capped like :func:`clamp_size`; None if malformed."""
    width, _, height = data.partition("x")
    if width.isdigit() and height.isdigit():
        return clamp_size(int(width), int(height))
    return None


def read_cast(path: str | os.PathLike[str]) -> Cast:
    """Parse an asciicast file (v2; v1 and v3 too) or a raw terminal-output file.

    Raises:
        CastError: missing/unreadable file, not a regular file (a FIFO or device would block or never end),
            empty file, broken header or event, or binary garbage.
    """
    name = os.fspath(path)
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError
        if not stat.S_ISREG(mode):
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
            raise CastError(f"{name}: is {kind}, not a recording file")
        with open(path, "rb") as f:
            data = f.read()
    except IsADirectoryError:
        raise CastError(f"{name}: is a directory, not a recording") from None
    except OSError as exc:
        raise CastError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if not data.strip():
        raise CastError(f"{name}: empty file")
    if data.lstrip()[:1] == b"{":
        return _parse_asciicast(name, data)
    return _parse_raw(name, data)


def _looks_binary(data: bytes) -> bool:
    """Whether the start of `data` is garbage rather than text (invalid UTF-8 and stray control bytes)."""
    sample = data[:_SAMPLE]
    text = sample.decode("utf-8", errors="replace")
    # A multibyte character cut by the sample's end is not garbage.
    invalid = text[:-4].count("\ufffd") if len(sample) == _SAMPLE else text.count("\ufffd")
    controls = sum(1 for b in sample if b < 0x20 and b not in _TEXT_CONTROLS) + sample.count(0x7F)
    return invalid + controls > _BINARY_SHARE * len(sample)


def _binary_data(name: str) -> CastError:
    return CastError(f"{name}: not an asciicast file or terminal output (binary data)")


def _parse_raw(name: str, data: bytes) -> Cast:
    if _looks_binary(data):
        raise _binary_data(name)
    header = {"version": 2, "width": DEFAULT_COLS, "height": DEFAULT_ROWS}
    return Cast(header, [CastEvent(0.0, "o", data.decode("utf-8", errors="replace"))], raw=True)


def _split_lines(data: bytes) -> tuple[list[bytes], bool]:
    """Complete lines, and whether the last line lacks its newline (possibly cut off)."""
    lines = data.split(b"\n")
    unterminated = lines[-1] != b""
    if not unterminated:
        lines.pop()
    return lines, unterminated


def _parse_asciicast(name: str, data: bytes) -> Cast:
    lines, unterminated = _split_lines(data)
    try:
        header = json.loads(lines[0])
    except (json.JSONDecodeError, UnicodeDecodeError):
        # asciicast v1 is one JSON document spread over many lines.
        try:
            document = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            if _looks_binary(data):  # garbage that happens to start with "{"
                raise _binary_data(name) from None
            raise CastError(f"{name}: not an asciicast file (header is not valid JSON)") from None
        return _parse_v1(name, document)
    if not isinstance(header, dict):
        raise CastError(f"{name}: not an asciicast file (header is not a JSON object)")
    version = header.get("version")
    if version == 1:
        return _parse_v1(name, header)
    if version not in (2, 3):
        raise CastError(f"{name}: unsupported asciicast version {version!r}")
    if version == 3:
        term = header.get("term") or {}
        header = {**header, "width": term.get("cols"), "height": term.get("rows")}
    if not isinstance(header.get("width"), int) or not isinstance(header.get("height"), int):
        raise CastError(f"{name}: asciicast header has no width/height")
    cast = Cast(header)
    clock = 0.0
    last = len(lines) - 1
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip() or line.lstrip().startswith(b"#"):
            continue  # v3 allows comments; blank lines are harmless
        try:
            event = json.loads(line)
            when, code, payload = event
            when = float(when)
            if not isinstance(code, str) or not isinstance(payload, str):
                raise ValueError
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError, TypeError):
            if number - 1 == last and unterminated:
                cast.truncated = True
                break
            raise CastError(f"{name}: line {number} is not an asciicast event") from None
        clock = clock + when if version == 3 else when  # v3 stores intervals
        cast.events.append(CastEvent(clock, code, payload))
    return cast


def _parse_v1(name: str, document: Any) -> Cast:
    if not isinstance(document, dict) or document.get("version") != 1:
        raise CastError(f"{name}: not an asciicast file")
    header = {
        "version": 1,
        "width": document.get("width") or DEFAULT_COLS,
        "height": document.get("height") or DEFAULT_ROWS,
    }
    for key in ("command", "title", "env"):
        if key in document:
            header[key] = document[key]
    cast = Cast(header)
    clock = 0.0
    for index, item in enumerate(document.get("stdout") or []):
        try:
            delay, payload = item
            clock += float(delay)
        except (ValueError, TypeError):
            raise CastError(f"{name}: stdout frame {index} is not [delay, text]") from None
        cast.events.append(CastEvent(clock, "o", str(payload)))
    return cast
