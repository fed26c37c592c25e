"""Pure terminal core: the emulator, the PTY session, the asciicast recorder and reader.

No Textual import anywhere in this package. The names below load on first use (PEP 562), so spawning a
program through `pty_session` does not pay for the emulator and pyte on the way to the first frame.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:  # `typing` takes ~3 ms to import, and `pty_session` spawns Claude before it is needed
    from typing import Any

    from .cast import Cast, CastError, CastEvent, read_cast
    from .emulator import DEFAULT_STYLE, CellStyle, TerminalEmulator
    from .pty_session import CommandNotFound, ExitStatus, PtySession, SpawnError
    from .recorder import CastRecorder

_HOMES = {
    "cast": ("Cast", "CastError", "CastEvent", "read_cast"),
    "emulator": ("DEFAULT_STYLE", "CellStyle", "TerminalEmulator"),
    "pty_session": ("CommandNotFound", "ExitStatus", "PtySession", "SpawnError"),
    "recorder": ("CastRecorder",),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "DEFAULT_STYLE",
    "Cast",
    "CastError",
    "CastEvent",
    "CastRecorder",
    "CellStyle",
    "CommandNotFound",
    "ExitStatus",
    "PtySession",
    "SpawnError",
    "TerminalEmulator",
    "read_cast",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
