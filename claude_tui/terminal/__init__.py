"""Pure terminal core: the emulator (and, once they land, the PTY session and the asciicast recorder).

No Textual import anywhere in this package.
"""

from .emulator import DEFAULT_STYLE, CellStyle, TerminalEmulator

__all__ = ["DEFAULT_STYLE", "CellStyle", "TerminalEmulator"]
