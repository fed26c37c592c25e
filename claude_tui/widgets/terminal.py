"""`TerminalPane`: a program in a pseudo-terminal, drawn and driven inside a Textual app.

How it stays responsive: the PTY master is registered with the asyncio loop (``add_reader``); each
callback reads and feeds the emulator for at most :attr:`TerminalPane.READ_BUDGET` seconds and then
returns, so everything else that is ready (key events, timers, the screen update) runs before the next
slice. That is the back-pressure: we read only what the emulator has processed, the rest waits in the
kernel's PTY buffer and the producer blocks; nothing queues up in our memory. (With
:attr:`TerminalPane.RESUME_AT_FRAME` the reader is removed and re-added at the next frame instead; measured
about 2x slower under floods for the same stalls, so it is off.) Frames are coalesced to at most
:attr:`TerminalPane.MAX_FPS` per second (:attr:`TerminalPane.FLOOD_FPS` while output floods in) and
repaint only the rows the emulator reports dirty.

Keys go to the program as a terminal would send them (see :func:`encode_key`), ctrl+c included;
:data:`RELEASE_KEY` (ctrl+]) hands the keyboard back to the app's own bindings.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from os import PathLike
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from claude_tui.terminal.emulator import CellStyle, TerminalEmulator
from claude_tui.terminal.pty_session import CommandNotFound, ExitStatus, PtySession, SpawnError
from claude_tui.terminal.recorder import CastRecorder

__all__ = ["RELEASE_KEY", "TerminalPane", "encode_key", "rich_style"]

log = logging.getLogger(__name__)

RELEASE_KEY = "ctrl+right_square_bracket"
"""ctrl+] — the one key the pane keeps for itself: it gives focus back to the app's bindings."""

# -- keys ------------------------------------------------------------------------------------------------

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


def encode_key(key: str, character: str | None, *, app_cursor_keys: bool = False) -> bytes | None:
    """The bytes an xterm sends for a Textual key event, or None when there is nothing to send.

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


def _mouse_report(button: int, x: int, y: int, *, press: bool, sgr: bool) -> bytes | None:
    """An xterm mouse report (SGR ``CSI < b;x;y M/m`` or legacy ``CSI M bxy``); x, y 0-based."""
    if sgr:
        return f"\x1b[<{button};{x + 1};{y + 1}{'M' if press else 'm'}".encode()
    if not press:
        button = 3
    if x + 33 > 255 or y + 33 > 255:
        return None  # the legacy encoding cannot express it
    return bytes([0x1B, 0x5B, 0x4D, 32 + button, 33 + x, 33 + y])


# -- styles -------------------------------------------------------------------------------------------------


def _rich_color(color: str) -> str | None:
    if color == "default":
        return None
    if color.startswith("bright"):
        return "bright_" + color[6:]
    if len(color) == 6 and not color.isalpha():
        return "#" + color
    if len(color) == 6 and all(c in "0123456789abcdef" for c in color):
        return "#" + color  # e.g. "bebeba"
    return color


@lru_cache(maxsize=4096)
def rich_style(style: CellStyle) -> Style:
    """The Rich style for an emulator cell style (cached: a screen uses few distinct styles)."""
    return Style(
        color=_rich_color(style.fg),
        bgcolor=_rich_color(style.bg),
        bold=style.bold or None,
        dim=style.dim or None,
        italic=style.italic or None,
        underline=style.underline or None,
        reverse=style.reverse or None,
        strike=style.strikethrough or None,
        blink=style.blink or None,
    )


_REVERSE_ON = Style(reverse=True)
_REVERSE_OFF = Style(reverse=False)


def _cursor_segment(segment: Segment) -> Segment:
    style = segment.style
    flip = _REVERSE_OFF if style is not None and style.reverse else _REVERSE_ON
    return Segment(segment.text, style + flip if style is not None else flip)


# -- the widget -------------------------------------------------------------------------------------------


class PaneMessage(Message):
    """A message from a `TerminalPane`; `control` makes `@on(Message, "#selector")` work."""

    def __init__(self, pane: TerminalPane) -> None:
        super().__init__()
        self.pane = pane
        """The pane that sent it."""

    @property
    def control(self) -> TerminalPane:
        """The pane."""
        return self.pane


class TerminalPane(Widget, can_focus=True):
    """Runs ``command`` in a PTY sized to the widget; without a command, shows what :meth:`feed` gets.

    Args:
        command: argv of the program to run when mounted; None for a viewer (replay, history details).
        cwd: the program's working directory.
        env: environment overrides (None values remove a variable).
        recorder: a ``CastRecorder`` that gets every chunk read and every resize.
        tap: called with every chunk read (the session tracker's hook).
        scrollback: lines kept above the screen.
    """

    DEFAULT_CSS = """
    TerminalPane {
        width: 1fr;
        height: 1fr;
        background: $background;
        color: $foreground;
        overflow: hidden;
    }
    """

    READ_CHUNK: ClassVar[int] = 16384
    """Bytes per os.read: small enough that one chunk feeds the emulator in a few ms."""
    READ_BUDGET: ClassVar[float] = 0.008
    """Seconds of reading+emulating per loop callback before reading pauses until the next frame."""
    BYTE_BUDGET: ClassVar[int] = 1 << 20
    """Bytes per callback before reading pauses until the next frame."""
    MAX_FPS: ClassVar[int] = 60
    """Upper bound of repaints per second."""
    FLOOD_FPS: ClassVar[int] = 20
    """Repaints per second while output arrives faster than we can emulate it (more time for the emulator)."""
    RESUME_AT_FRAME: ClassVar[bool] = False
    """On back-pressure, wait for the next frame before reading again (True), or only for the next loop
    iteration (False: everything else that is ready runs first; the kernel buffer holds the rest)."""
    FOLLOW_SIZE: ClassVar[bool] = True
    """A viewer resizes its emulator to the widget; a player of fixed-size recordings sets this False and
    sizes the emulator itself (the widget's layout lags behind, and would cut lines in between)."""
    SCROLL_LINES: ClassVar[int] = 3
    """Lines per mouse wheel step."""

    class Exited(PaneMessage):
        """The program ended (or never started: code 127 for a missing command)."""

        def __init__(self, pane: TerminalPane, status: ExitStatus) -> None:
            super().__init__(pane)
            self.status = status
            """Its exit code or signal."""

    class TitleChanged(PaneMessage):
        """The program set the window title (OSC 0/2)."""

        def __init__(self, pane: TerminalPane, title: str) -> None:
            super().__init__(pane)
            self.title = title
            """The new title."""

        def can_replace(self, message: Message) -> bool:
            # A burst of title changes (Claude's spinner) is worth one handler call: the last title.
            return isinstance(message, TerminalPane.TitleChanged) and message.pane is self.pane

    class Bell(PaneMessage):
        """The program rang the bell (BEL)."""

    class ReleaseFocus(PaneMessage):
        """The user pressed the release key (ctrl+]): the pane gave up focus."""

    def __init__(
        self,
        command: Sequence[str] | None = None,
        *,
        cwd: str | PathLike[str] | None = None,
        env: Mapping[str, str | None] | None = None,
        recorder: CastRecorder | None = None,
        tap: Callable[[bytes], None] | None = None,
        scrollback: int = 10_000,
        session: PtySession | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.command = list(command) if command is not None else None
        """The program's argv (None for a viewer)."""
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.recorder = recorder
        """The ``CastRecorder`` (or None)."""
        self.tap = tap
        cols, rows = session.size if session is not None else (80, 24)
        self.emulator = TerminalEmulator(cols, rows, history=scrollback)
        """The screen and scrollback being drawn."""
        self.session: PtySession | None = session
        """The running program's PTY session (None for a viewer or before mount).

        A session passed in was spawned before the app started (so the program starts while Textual loads);
        the pane reads it from mount on, at the size it was spawned with, and fits it at the first layout."""
        self._exit_status: ExitStatus | None = None
        self._started = False
        self._reading = False
        self._paused = False
        self._flooded = False
        self._terminating = False
        self._write_buffer = bytearray()
        self._writer_registered = False
        self._frame_handle: asyncio.TimerHandle | None = None
        self._last_frame = 0.0
        self._scroll = 0
        self._cursor_drawn: tuple[int, int] | None = None
        self._title = ""
        self._bells = 0
        self._tap_failed = False
        self._mouse_buttons = 0

    # -- public API ----------------------------------------------------------------------------------------

    @property
    def exit_status(self) -> ExitStatus | None:
        """How the program ended; None while it runs (and always None for a viewer)."""
        return self._exit_status

    @property
    def scroll_offset_lines(self) -> int:
        """How many lines the view is scrolled back into history (0 = following the output)."""
        return self._scroll

    def send(self, data: bytes) -> None:
        """Write ``data`` to the program (buffered without blocking when its input queue is full)."""
        session = self.session
        if session is None or self._exit_status is not None or not data:
            return
        if self.recorder is not None:
            self.recorder.input(data)
        if not self._write_buffer:
            try:
                written = session.write_some(data)
            except (EOFError, OSError):
                return
            data = data[written:]
        if data:
            self._write_buffer += data
            self._register_writer()

    def feed(self, data: bytes) -> None:
        """Show bytes as if the program had written them (viewer use: replay, history details)."""
        self._process_output(data, reply=False)
        self._schedule_frame()

    async def terminate(self, grace: float = 3.0) -> ExitStatus | None:
        """End the program (SIGHUP/SIGTERM, then SIGKILL after ``grace``); posts :class:`Exited`."""
        session = self.session
        if session is None or self._exit_status is not None:
            return self._exit_status
        self._terminating = True
        self._drain()
        self._stop_io()
        status = await asyncio.to_thread(session.terminate, grace)
        self._finish(status)
        return status

    # -- lifecycle -----------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_interval(0.25, self._housekeeping)
        if self.command is not None:
            # The widget's size is known only after the first layout; start then (or at the first resize).
            # An adopted program is read from now on: its first frame is not held back by the layout.
            self._resume_reading()
            self.call_after_refresh(self._start)

    def on_unmount(self) -> None:
        if self._frame_handle is not None:
            self._frame_handle.cancel()
            self._frame_handle = None
        session = self.session
        if session is not None and self._exit_status is None:
            self._stop_io()
            try:
                self._exit_status = session.terminate(grace=0.5)
            except Exception:  # never let a dying child break app shutdown
                log.exception("terminating %s", self.command)
        if self.recorder is not None:
            self.recorder.flush()

    def _screen_size(self) -> tuple[int, int]:
        size = self.content_size
        return max(1, size.width), max(1, size.height)

    def _start(self) -> None:
        if self._started or self.command is None:
            return
        cols, rows = self._screen_size()
        if self.size.width <= 0 or self.size.height <= 0:
            cols, rows = 80, 24
        self._started = True
        if (cols, rows) != (self.emulator.cols, self.emulator.rows):
            self.emulator.resize(cols, rows)
        if self.recorder is not None:
            self.recorder.resize(cols, rows)
        if self.session is not None:
            self.session.resize(cols, rows)
            self._resume_reading()
            return
        try:
            self.session = PtySession.spawn(self.command, cwd=self.cwd, env=self.env, cols=cols, rows=rows)
        except SpawnError as exc:
            code = 127 if isinstance(exc, CommandNotFound) else 126
            self._show_notice(f"claude-tui: {exc}", error=True)
            self._exit_status = ExitStatus(code, None)
            self.post_message(self.Exited(self, self._exit_status))
            return
        self._resume_reading()

    # -- reading -------------------------------------------------------------------------------------------

    def _resume_reading(self) -> None:
        session = self.session
        if session is None or self._reading or self._exit_status is not None or self._terminating:
            return
        asyncio.get_running_loop().add_reader(session.fd, self._on_readable)
        self._reading = True
        self._paused = False

    def _pause_reading(self) -> None:
        if self._reading and self.session is not None:
            asyncio.get_running_loop().remove_reader(self.session.fd)
        self._reading = False

    def _stop_io(self) -> None:
        self._pause_reading()
        if self._writer_registered and self.session is not None:
            asyncio.get_running_loop().remove_writer(self.session.fd)
        self._writer_registered = False
        self._write_buffer.clear()

    def _on_readable(self) -> None:
        session = self.session
        if session is None:
            return
        deadline = time.perf_counter() + self.READ_BUDGET
        total = 0
        while True:
            try:
                data = session.read(self.READ_CHUNK)
            except (EOFError, OSError):
                self._on_eof()
                break
            if not data:
                break
            self._process_output(data, reply=True)
            total += len(data)
            if total >= self.BYTE_BUDGET or time.perf_counter() >= deadline:
                # Back-pressure: the emulator is slower than the producer. Stop so the UI gets its turn;
                # unread bytes wait in the kernel's PTY buffer (the producer blocks), not in our memory.
                self._flooded = True
                if self.RESUME_AT_FRAME:
                    self._pause_reading()
                    self._paused = True
                break
        self._schedule_frame()

    def _drain(self) -> None:
        """Read whatever is left without a time budget (the program is gone or going)."""
        session = self.session
        if session is None or session.closed:
            return
        for _ in range(256):
            try:
                data = session.read(self.READ_CHUNK)
            except (EOFError, OSError):
                return
            if not data:
                return
            self._process_output(data, reply=False)

    def _process_output(self, data: bytes, *, reply: bool) -> None:
        if self.recorder is not None:
            self.recorder.output(data)
        if self.tap is not None and not self._tap_failed:
            try:
                self.tap(data)
            except Exception:  # a broken observer must not kill the terminal
                self._tap_failed = True
                log.exception("terminal tap failed; disabled")
        try:
            self.emulator.feed(data)
        except Exception:  # the emulator must survive garbage; if it does not, keep the app alive
            log.exception("emulator failed on %d bytes", len(data))
        replies = self.emulator.take_replies()
        if replies and reply:
            self.send(replies)
        if self._scroll:
            self._scroll = 0  # new output snaps the view to the bottom
            self.refresh()

    def _on_eof(self) -> None:
        self._pause_reading()
        session = self.session
        if session is None or self._exit_status is not None or self._terminating:
            return
        status = session.poll()
        if status is not None:
            self._finish(status)
            return
        # The terminal closed but the process is still exiting: look again shortly.
        self.set_timer(0.02, self._check_exit)

    def _check_exit(self) -> None:
        session = self.session
        if session is None or self._exit_status is not None or self._terminating:
            return
        status = session.poll()
        if status is not None:
            self._drain()
            self._finish(status)
        elif not self._reading:
            self.set_timer(0.05, self._check_exit)

    def _finish(self, status: ExitStatus) -> None:
        if self._exit_status is not None:
            return
        self._exit_status = status
        self._stop_io()
        if self.session is not None:
            self.session.close()
        if self.recorder is not None:
            self.recorder.flush()
        self._show_notice(f"[process exited with {status.describe()}]", error=not status.success)
        self.post_message(self.Exited(self, status))

    def _show_notice(self, text: str, *, error: bool) -> None:
        """A line from us (not the program) at the end of the output, so the user sees what happened."""
        x, _ = self.emulator.cursor
        prefix = "\r\n" if x else ""
        color = "\x1b[31m" if error else "\x1b[2m"
        self.emulator.feed(f"\x1b[0m{prefix}{color}{text}\x1b[0m\r\n".encode())
        self._schedule_frame()

    def _housekeeping(self) -> None:
        if self.recorder is not None:
            self.recorder.flush_if_due()
        session = self.session
        if session is None or self._exit_status is not None or self._terminating:
            return
        # The program may have exited while a child it left behind keeps the terminal open (no EOF).
        if session.poll() is not None:
            self._drain()
            self._finish(session.exit_status or ExitStatus(None, None))

    # -- writing -------------------------------------------------------------------------------------------

    def _register_writer(self) -> None:
        if not self._writer_registered and self.session is not None:
            asyncio.get_running_loop().add_writer(self.session.fd, self._on_writable)
            self._writer_registered = True

    def _on_writable(self) -> None:
        session = self.session
        if session is None:
            return
        try:
            written = session.write_some(bytes(self._write_buffer[:65536]))
        except (EOFError, OSError):
            written = len(self._write_buffer)
        del self._write_buffer[:written]
        if not self._write_buffer and self._writer_registered:
            asyncio.get_running_loop().remove_writer(session.fd)
            self._writer_registered = False

    # -- frames --------------------------------------------------------------------------------------------

    @property
    def last_frame_at(self) -> float:
        """`time.monotonic()` when the program's output was last drawn (0 before its first output)."""
        return self._last_frame

    def _schedule_frame(self) -> None:
        if self._frame_handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # fed before the app runs: the first paint shows it
        fps = self.FLOOD_FPS if self._flooded else self.MAX_FPS
        delay = self._last_frame + 1 / fps - time.monotonic()
        if delay <= 0 and not self._paused:
            self._frame()  # output after a quiet spell (a keystroke's echo, a first frame) is drawn at once
            return
        self._frame_handle = loop.call_later(max(0.0, delay), self._frame)

    def _frame(self) -> None:
        self._frame_handle = None
        self._last_frame = time.monotonic()
        self._flooded = False
        emulator = self.emulator
        dirty = emulator.take_dirty()
        width = self.size.width
        cursor = self._cursor_position()
        if cursor != self._cursor_drawn:
            for position in (cursor, self._cursor_drawn):
                if position is not None:
                    dirty.add(position[1])
            self._cursor_drawn = cursor
        if dirty and self.is_mounted:
            if self._scroll or len(dirty) >= emulator.rows:
                self.refresh()
            else:
                self.refresh(*(Region(0, y, width, 1) for y in sorted(dirty)))
        if emulator.title != self._title:
            self._title = emulator.title
            self.post_message(self.TitleChanged(self, self._title))
        if emulator.bell_count != self._bells:
            self._bells = emulator.bell_count
            self.post_message(self.Bell(self))
        if self._paused:
            self._resume_reading()

    def _cursor_position(self) -> tuple[int, int] | None:
        emulator = self.emulator
        if not self.has_focus or not emulator.cursor_visible or self._scroll or self._exit_status is not None:
            return None
        return emulator.cursor

    def render_line(self, y: int) -> Strip:
        """One row: scrollback or screen line, with the cursor drawn reversed when focused and visible."""
        width = self.size.width
        emulator = self.emulator
        index = y - self._scroll
        if index < -emulator.history_size or index >= emulator.rows:
            return Strip.blank(width)
        try:
            runs = emulator.line_runs(index)
        except IndexError:
            return Strip.blank(width)
        segments = [Segment(text, rich_style(style)) for text, style in runs if text]
        # Fast path (most lines): plain ASCII has one cell per character, so the strip's length is known
        # without measuring every segment; anything else is measured and padded/cropped by Rich's rules.
        length = sum(len(text) for text, _ in runs)
        if length == width and all(text.isascii() for text, _ in runs):
            strip = Strip(segments, width)
        elif length < width and all(text.isascii() for text, _ in runs):
            segments.append(Segment(" " * (width - length)))
            strip = Strip(segments, width)
        else:
            strip = Strip(segments).adjust_cell_length(width)
        cursor = self._cursor_position()
        if cursor is not None and index == cursor[1] and 0 <= cursor[0] < width:
            x = cursor[0]
            before, at, after = strip.divide([x, x + 1, width])
            strip = Strip.join([before, Strip([_cursor_segment(s) for s in at]), after])
        return strip

    # -- events --------------------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        cols, rows = self._screen_size()
        if self.command is not None and not self._started:
            self._start()
            return
        if self.command is None and not self.FOLLOW_SIZE:
            self.refresh()
            return
        self.emulator.resize(cols, rows)
        if self.session is not None and self._exit_status is None:
            self.session.resize(cols, rows)
        if self.recorder is not None and self._exit_status is None:
            self.recorder.resize(cols, rows)
        self._scroll = min(self._scroll, self.emulator.history_size)
        self.refresh()

    def on_key(self, event: events.Key) -> None:
        key = event.key
        if self.session is None or self._exit_status is not None:
            # A viewer, or the program is gone: keys belong to the app (replay's space, +, -, ...).
            if key in ("shift+pageup", "shift+pagedown"):
                event.stop()
                self._scroll_by((1 if key == "shift+pageup" else -1) * max(1, self.emulator.rows - 1))
            return
        # Every key is the program's: nothing bubbles to the app's (non-priority) bindings.
        event.stop()
        event.prevent_default()
        if key == RELEASE_KEY:
            self.post_message(self.ReleaseFocus(self))
            self.blur()
            return
        if key == "shift+pageup":
            self._scroll_by(max(1, self.emulator.rows - 1))
            return
        if key == "shift+pagedown":
            self._scroll_by(-max(1, self.emulator.rows - 1))
            return
        data = encode_key(key, event.character, app_cursor_keys=self.emulator.app_cursor_keys)
        if data is None:
            return
        if self._scroll:
            self._scroll = 0
            self.refresh()
        self.send(data)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        # Terminals send pasted line breaks as CR, like Enter.
        text = event.text.replace("\r\n", "\r").replace("\n", "\r")
        if self.emulator.bracketed_paste:
            # A pasted end marker would let the paste escape the brackets and run as typed keys.
            text = "\x1b[200~" + text.replace("\x1b[201~", "") + "\x1b[201~"
        self.send(text.encode("utf-8", errors="replace"))

    def on_focus(self, event: events.Focus) -> None:
        if self.emulator.focus_events:
            self.send(b"\x1b[I")
        self._schedule_frame()

    def on_blur(self, event: events.Blur) -> None:
        if self.emulator.focus_events:
            self.send(b"\x1b[O")
        self._schedule_frame()

    def _scroll_by(self, lines: int) -> None:
        new = max(0, min(self.emulator.history_size, self._scroll + lines))
        if new != self._scroll:
            self._scroll = new
            self.refresh()
            self._schedule_frame()

    def _wants_mouse(self) -> bool:
        return self.emulator.mouse_tracking and self.session is not None and self._exit_status is None

    def _send_mouse(self, button: int, event: events.MouseEvent, *, press: bool = True) -> None:
        offset = event.get_content_offset_capture(self)
        if event.shift:
            button |= 4
        if event.meta:
            button |= 8
        if event.ctrl:
            button |= 16
        data = _mouse_report(
            button, max(0, offset.x), max(0, offset.y), press=press, sgr=self.emulator.mouse_sgr
        )
        if data is not None:
            self.send(data)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self._wheel(event, up=True)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self._wheel(event, up=False)

    def _wheel(self, event: events.MouseEvent, *, up: bool) -> None:
        if self._wants_mouse():
            self._send_mouse(64 if up else 65, event)
        elif self.emulator.in_alternate_screen and self.session is not None and self._exit_status is None:
            # Like xterm's alternateScroll: a full-screen program without mouse support (less, man)
            # gets arrow keys, since the alternate screen has no scrollback to show.
            arrow = encode_key("up" if up else "down", None, app_cursor_keys=self.emulator.app_cursor_keys)
            self.send((arrow or b"") * self.SCROLL_LINES)
        else:
            self._scroll_by(self.SCROLL_LINES if up else -self.SCROLL_LINES)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if self._wants_mouse():
            event.stop()
            button = {1: 0, 2: 1, 3: 2}.get(event.button, 0)
            self._mouse_buttons |= 1 << button
            self._send_mouse(button, event)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._wants_mouse():
            event.stop()
            button = {1: 0, 2: 1, 3: 2}.get(event.button, 0)
            self._mouse_buttons &= ~(1 << button)
            self._send_mouse(button, event, press=False)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if not self._wants_mouse():
            return
        mode = self.emulator.mouse_mode
        held = event.button != 0 or self._mouse_buttons
        if mode == 1003 or (mode == 1002 and held):
            button = {1: 0, 2: 1, 3: 2}.get(event.button, 3)
            self._send_mouse(32 + button, event)
