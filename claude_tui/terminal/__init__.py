"""Pure terminal core: the emulator, the PTY session, the asciicast recorder and reader.

No Textual import anywhere in this package.
"""

from .cast import Cast, CastError, CastEvent, read_cast
from .emulator import DEFAULT_STYLE, CellStyle, TerminalEmulator
from .pty_session import CommandNotFound, ExitStatus, PtySession, SpawnError
from .recorder import CastRecorder

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
