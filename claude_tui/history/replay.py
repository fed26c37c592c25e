"""Play back an asciicast recording at a chosen speed: time in, due output bytes out. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
"""The playback speeds `faster()`/`slower()` step through."""

MAX_IDLE = 2.0
"""Pauses longer than this many (recorded) seconds are shortened to it, like `asciinema play -i 2`."""


@dataclass(frozen=True)
class CastRecording:
    """A cast's terminal size and its output events `(seconds, bytes)`."""

    width: int
    height: int
    events: list[tuple[float, bytes]]


def load_recording(path: Path) -> CastRecording | None:
    """Read a recording with the terminal package's `read_cast` (v1/v2/v3 or raw); None if unreadable."""
    from claude_tui.terminal.cast import CastError, read_cast

    try:
        cast = read_cast(path)
    except CastError:
        return None
    events = [(event.time, event.data.encode("utf-8")) for event in cast.events if event.code == "o"]
    return CastRecording(cast.width, cast.height, events)


@dataclass
class CastPlayer:
    """Decides which recorded output is due as (wall-clock) time passes.

    Call `advance(seconds)` from a timer; it returns the bytes to feed the terminal. Idle gaps longer than
    `MAX_IDLE` are compressed.
    """

    events: Sequence[tuple[float, bytes]]
    speed: float = 1.0
    playing: bool = False
    position: float = 0.0
    """Playback time in (idle-compressed) recorded seconds."""
    index: int = 0
    """Events before this index have been returned."""
    _times: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        times, previous, shifted = [], 0.0, 0.0
        for stamp, _ in self.events:
            shifted += min(max(0.0, stamp - previous), MAX_IDLE)
            previous = stamp
            times.append(shifted)
        self._times = times

    @property
    def duration(self) -> float:
        """Length of the (idle-compressed) recording in seconds."""
        return self._times[-1] if self._times else 0.0

    @property
    def finished(self) -> bool:
        """True when every event has been returned."""
        return self.index >= len(self.events)

    def advance(self, seconds: float) -> bytes:
        """Move playback forward by `seconds` of wall time (scaled by speed) if playing; return due output."""
        if self.playing:
            self.position += seconds * self.speed
        chunks = []
        while self.index < len(self.events) and self._times[self.index] <= self.position:
            chunks.append(self.events[self.index][1])
            self.index += 1
        if self.finished:
            self.playing = False
        return b"".join(chunks)

    def toggle(self) -> bool:
        """Play/pause; playing a finished recording restarts it. Returns the new `playing`."""
        if self.finished and not self.playing:
            self.restart()
        self.playing = not self.playing
        return self.playing

    def restart(self) -> None:
        """Back to the beginning (the caller clears its screen)."""
        self.position = 0.0
        self.index = 0

    def faster(self) -> float:
        """Next speed up in `SPEEDS`."""
        higher = [s for s in SPEEDS if s > self.speed]
        self.speed = higher[0] if higher else self.speed
        return self.speed

    def slower(self) -> float:
        """Next speed down in `SPEEDS`."""
        lower = [s for s in SPEEDS if s < self.speed]
        self.speed = lower[-1] if lower else self.speed
        return self.speed
