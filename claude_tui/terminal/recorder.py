"""Record a terminal session as an asciicast v2 file, as the bytes arrive.

Format: https://docs.asciinema.org/manual/asciicast/v2/ — one JSON header line, then one JSON array per
event: ``[elapsed_seconds, "o", text]`` for output, ``"i"`` for input, ``"r"`` with ``"COLSxROWS"`` for a
resize. The file is flushed at least once per second while output arrives (and by :meth:`flush`), so a
crash loses at most the last second.
"""

from __future__ import annotations

import codecs
import json
import os
import time
from pathlib import Path
from typing import IO, Any

__all__ = ["CastRecorder"]

FLUSH_INTERVAL = 1.0
"""Seconds between flushes to the OS while output keeps arriving."""


class CastRecorder:
    """Appends a program's output (and resizes, and optionally input) to an asciicast v2 file.

    Args:
        path: file to create (mode 0600: a terminal session may show secrets); parent folders are made.
        cols: initial width.
        rows: initial height.
        command: the command line, for the header.
        title: a title, for the header.
        record_input: also record keystrokes as ``"i"`` events (off by default: input may hold secrets).
        env: header ``env``; defaults to ``TERM`` and ``SHELL`` as the program sees them.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        cols: int,
        rows: int,
        *,
        command: str | None = None,
        title: str | None = None,
        record_input: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.cols = cols
        self.rows = rows
        self.record_input = record_input
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # O_CREAT's mode is ignored for an existing file
        self._file: IO[str] = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        self._start = time.monotonic()
        self._last_flush = self._start
        self._unflushed = False
        # One decoder per stream, so a multibyte character split across two reads is written whole.
        self._out_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._in_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._closed = False
        header: dict[str, Any] = {
            "version": 2,
            "width": cols,
            "height": rows,
            "timestamp": int(time.time()),
            "env": env
            if env is not None
            else {"TERM": "xterm-256color", "SHELL": os.environ.get("SHELL", "/bin/sh")},
        }
        if command is not None:
            header["command"] = command
        if title is not None:
            header["title"] = title
        self._file.write(json.dumps(header, ensure_ascii=False) + "\n")
        self.flush()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    def elapsed(self) -> float:
        """Seconds since the recording started."""
        return time.monotonic() - self._start

    def _event(self, code: str, data: str) -> None:
        if self._closed:
            return
        line = json.dumps([round(self.elapsed(), 6), code, data], ensure_ascii=False)
        self._file.write(line + "\n")
        self._unflushed = True
        if time.monotonic() - self._last_flush >= FLUSH_INTERVAL:
            self.flush()

    def output(self, data: bytes) -> None:
        """Record bytes the program wrote."""
        text = self._out_decoder.decode(data)
        if text:
            self._event("o", text)

    def input(self, data: bytes) -> None:
        """Record bytes sent to the program (only when ``record_input`` is on)."""
        if not self.record_input:
            return
        text = self._in_decoder.decode(data)
        if text:
            self._event("i", text)

    def resize(self, cols: int, rows: int) -> None:
        """Record a window size change (nothing when the size is unchanged)."""
        if (cols, rows) == (self.cols, self.rows):
            return
        self.cols, self.rows = cols, rows
        self._event("r", f"{cols}x{rows}")

    def flush(self) -> None:
        """Hand everything written so far to the OS."""
        if self._closed:
            return
        self._file.flush()
        self._last_flush = time.monotonic()
        self._unflushed = False

    def flush_if_due(self) -> None:
        """Flush when something is waiting and the last flush is at least a second old (call from a timer)."""
        if self._unflushed and time.monotonic() - self._last_flush >= FLUSH_INTERVAL:
            self.flush()

    def close(self) -> None:
        """Write any half-decoded bytes, flush and close. Safe to call twice."""
        if self._closed:
            return
        tail = self._out_decoder.decode(b"", final=True)
        if tail:
            self._event("o", tail)
        self.flush()
        self._closed = True
        self._file.close()

    def __enter__(self) -> CastRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
