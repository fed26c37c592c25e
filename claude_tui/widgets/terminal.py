"""`TerminalPane`: a terminal drawn and driven inside a Textual app.

The pane draws a `TerminalEmulator` and forwards keys, pastes, focus changes and mouse events to the
program, encoded by `claude_tui.terminal.keys`. The program itself is run by a `PtyPump`
(`claude_tui.terminal.pump`): the pane registers the pump's fd with the asyncio loop (``add_reader``) and on
each callback lets it read, record and emulate for at most :attr:`PtyPump.READ_BUDGET` seconds, so
everything else that is ready (key events, timers, the screen update) runs before the next slice; unread
output waits in the kernel's PTY buffer. Frames are coalesced to at most :attr:`TerminalPane.MAX_FPS` per
second (:attr:`TerminalPane.FLOOD_FPS` while output floods in) and repaint only the rows the emulator
reports dirty. Without a program the pane is a viewer of what :meth:`TerminalPane.feed` gets (replay,
history details).

Keys go to the program as a terminal would send them, ctrl+c included; :data:`RELEASE_KEY` (ctrl+]) hands
the keyboard back to the app's own bindings.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from os import PathLike
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from claude_tui.terminal import keys
from claude_tui.terminal.emulator import CellStyle, TerminalEmulator
from claude_tui.terminal.pty_session import CommandNotFound, ExitStatus, SpawnError
from claude_tui.terminal.pump import PtyPump, TerminalPump
from claude_tui.terminal.recorder import CastRecorder
from claude_tui.widgets.visibility import displayed

__all__ = ["RELEASE_KEY", "ReplayPane", "TerminalPane", "rich_style"]

log = logging.getLogger(__name__)

RELEASE_KEY = "ctrl+right_square_bracket"
"""ctrl+] — the one key the pane keeps for itself: it gives focus back to the app's bindings."""


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
    """Draws a terminal and forwards input to its program; without one, shows what :meth:`feed` gets.

    Args:
        command: argv of a program to spawn (in a `PtyPump`) at the first layout, sized to the widget.
        cwd: the program's working directory.
        env: environment overrides (None values remove a variable).
        recorder: a ``CastRecorder`` for the spawned program: every chunk read and every resize.
        scrollback: lines kept above the screen.
        pump: a program already running (e.g. spawned before the app started, so that it starts while
            Textual loads): the pane draws its emulator and reads it from mount on, and fits it to the
            widget at the first layout. ``command``, ``cwd``, ``env``, ``recorder`` do not apply then.
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

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(RELEASE_KEY, "release_keyboard", "give claude-tui the keys", key_display="^]")
    ]
    """The pane's one key of its own while its program runs (every other key is the program's)."""

    MAX_FPS: ClassVar[int] = 60
    """Upper bound of repaints per second."""
    FLOOD_FPS: ClassVar[int] = 20
    """Repaints per second while output arrives faster than we can emulate it (more time for the emulator)."""
    FOLLOW_SIZE: ClassVar[bool] = True
    """A viewer resizes its emulator to the widget; a player of fixed-size recordings sets this False and
    sizes the emulator itself (the widget's layout lags behind, and would cut lines in between)."""
    SCROLL_LINES: ClassVar[int] = 3
    """Lines per mouse wheel step."""
    HOUSEKEEPING: ClassVar[float] = 1.0
    """Seconds between the pump's upkeep calls (recording flush, due once a second; the exit check for a
    program whose children keep the terminal open: one that closes it is noticed at once), for a program in
    a local PTY only (`needs_upkeep`). Each wake-up of an idle UI costs CPU (issue 19, target 2)."""

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

    class Notified(PaneMessage):
        """The program asked for desktop notifications (OSC 9, 99 or 777): for the outer terminal."""

        def __init__(self, pane: TerminalPane, sequences: list[str]) -> None:
            super().__init__(pane)
            self.sequences = sequences
            """Each notification as the whole escape sequence the program sent."""

    class ReleaseFocus(PaneMessage):
        """The user pressed the release key (ctrl+]): the pane gave up focus."""

    def __init__(
        self,
        command: Sequence[str] | None = None,
        *,
        cwd: str | PathLike[str] | None = None,
        env: Mapping[str, str | None] | None = None,
        recorder: CastRecorder | None = None,
        scrollback: int = 10_000,
        pump: TerminalPump | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.command = list(command) if command is not None and pump is None else None
        """The argv to spawn at the first layout (None for a viewer, or when a pump was given)."""
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.recorder = recorder
        """The ``CastRecorder`` of a spawned program (or None)."""
        self.pump: TerminalPump | None = pump
        """The running program (None for a viewer, or before a command is spawned)."""
        self.emulator = pump.emulator if pump is not None else TerminalEmulator(history=scrollback)
        """The screen and scrollback being drawn."""
        self._scrollback = scrollback
        self._exit_status: ExitStatus | None = None
        self._started = False
        self._reading = False
        self._flooded = False
        self._terminating = False
        self._writer_registered = False
        self._frame_handle: asyncio.TimerHandle | None = None
        self._last_frame = 0.0
        self._scroll = 0
        self._cursor_drawn: tuple[int, int] | None = None
        self._title = ""
        self._bells = self.emulator.bell_count  # an attached screen (`OwnerPump`) rang before
        self._unshown: set[int] | None = set()
        """Rows that changed while the pane was not displayed, not drawn since (None: all of them)."""
        self._focus_repaint = False
        """A focus change is under way: Textual repaints the whole widget for it (`refresh`)."""
        self._mouse_buttons = 0

    # -- public API ----------------------------------------------------------------------------------------

    @property
    def needs_upkeep(self) -> bool:
        """Whether the pane runs a program in a local PTY, whose recording and end it looks after each
        `HOUSEKEEPING` seconds. A session owner's program (`OwnerPump`) is recorded by the owner, which says
        when it ended in its stream; a viewer has nothing to look after."""
        return self.command is not None or isinstance(self.pump, PtyPump)

    @property
    def runs_program(self) -> bool:
        """Whether the pane runs (or will run) a program, as opposed to a viewer of fed bytes."""
        return self.pump is not None or self.command is not None

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
        pump = self.pump
        if pump is None or self._exit_status is not None or self._terminating or not data:
            return
        pump.write(data)
        if pump.writes_pending:
            self._register_writer()

    def feed(self, data: bytes) -> None:
        """Show bytes as if the program had written them (viewer use: replay, history details)."""
        try:
            self.emulator.feed(data)
        except Exception:  # the emulator must survive garbage; if it does not, keep the app alive
            log.exception("emulator failed on %d bytes", len(data))
        self.emulator.take_replies()
        self._output_arrived()
        self._schedule_frame()

    def send_signal(self, signum: int) -> None:
        """Pass a signal on to the program; when it ends, :class:`Exited` follows as ever."""
        if self.pump is not None and self._exit_status is None:
            self.pump.signal(signum)

    async def terminate(self, grace: float = 3.0) -> ExitStatus | None:
        """End the program (SIGHUP/SIGTERM, then SIGKILL after ``grace``); posts :class:`Exited`."""
        pump = self.pump
        if pump is None or self._exit_status is not None:
            return self._exit_status
        self._terminating = True
        pump.drain()
        self._stop_io()
        status = await asyncio.to_thread(pump.terminate, grace)
        self._finish(status)
        return status

    # -- lifecycle -----------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.needs_upkeep:
            self.set_interval(self.HOUSEKEEPING, self._housekeeping)
        if self.runs_program:
            # The widget's size is known only after the first layout; start then (or at the first resize).
            # An adopted program is read from now on: its first frame is not held back by the layout.
            self._resume_reading()
            self.call_after_refresh(self._start)

    def on_unmount(self) -> None:
        if self._frame_handle is not None:
            self._frame_handle.cancel()
            self._frame_handle = None
        pump = self.pump
        if pump is not None and self._exit_status is None:
            self._stop_io()
            try:
                self._exit_status = pump.close(grace=0.5)
            except Exception:  # never let a dying child break app shutdown
                log.exception("terminating the program of %r", self)
        if self.recorder is not None:
            self.recorder.flush()

    def _screen_size(self) -> tuple[int, int]:
        size = self.content_size
        return max(1, size.width), max(1, size.height)

    def _start(self) -> None:
        if self._started or not self.runs_program:
            return
        cols, rows = self._screen_size()
        if self.size.width <= 0 or self.size.height <= 0:
            cols, rows = 80, 24
        self._started = True
        if self.pump is not None:
            self.pump.resize(cols, rows)
            self._resume_reading()
            return
        assert self.command is not None
        self.emulator.resize(cols, rows)
        if self.recorder is not None:
            self.recorder.resize(cols, rows)
        try:
            self.pump = PtyPump.spawn(
                self.command,
                cwd=self.cwd,
                env=self.env,
                emulator=self.emulator,
                recorder=self.recorder,
                cols=cols,
                rows=rows,
            )
        except SpawnError as exc:
            code = 127 if isinstance(exc, CommandNotFound) else 126
            self._show_notice(f"claude-tui: {exc}", error=True)
            self._exit_status = ExitStatus(code, None)
            self.post_message(self.Exited(self, self._exit_status))
            return
        self._resume_reading()

    # -- reading -------------------------------------------------------------------------------------------

    def _resume_reading(self) -> None:
        pump = self.pump
        if pump is None or self._reading or self._exit_status is not None or self._terminating:
            return
        loop = asyncio.get_running_loop()
        loop.add_reader(pump.fileno(), self._on_readable)
        self._reading = True
        if getattr(pump, "has_buffered", False):  # read already (an attach's first frames): no fd event comes
            loop.call_soon(self._on_readable)

    def _pause_reading(self) -> None:
        if self._reading and self.pump is not None:
            asyncio.get_running_loop().remove_reader(self.pump.fileno())
        self._reading = False

    def _stop_io(self) -> None:
        self._pause_reading()
        if self._writer_registered and self.pump is not None:
            asyncio.get_running_loop().remove_writer(self.pump.fileno())
        self._writer_registered = False

    def _on_readable(self) -> None:
        pump = self.pump
        if pump is None:
            return
        result = pump.pump()
        if result.bytes_read:
            self._output_arrived()
        if pump.writes_pending:
            self._register_writer()  # answers to the program's queries that did not fit
        if result.flooded:
            # Back-pressure: the emulator is slower than the producer. The UI gets its turn now; unread bytes
            # wait in the kernel's PTY buffer (the producer blocks), and frames come less often meanwhile.
            self._flooded = True
        if result.ended:
            self._on_eof()
        self._schedule_frame()

    def _output_arrived(self) -> None:
        if self._scroll:
            self._scroll = 0  # new output snaps the view to the bottom
            self.refresh()

    def _on_eof(self) -> None:
        self._pause_reading()
        if self._exit_status is not None or self._terminating:
            return
        self._check_exit()

    def _check_exit(self) -> None:
        pump = self.pump
        if pump is None or self._exit_status is not None or self._terminating:
            return
        status = pump.check_exit()
        if status is not None:
            self._finish(status)
        elif not self._reading:
            # The terminal closed but the process is still exiting: look again shortly.
            self.set_timer(0.02, self._check_exit)

    def _finish(self, status: ExitStatus) -> None:
        if self._exit_status is not None:
            return
        self._exit_status = status
        self._stop_io()
        if self.pump is not None:
            self.pump.close()
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
        pump = self.pump
        if pump is None or self._exit_status is not None or self._terminating:
            return
        # Also notices a program that exited while a child it left behind keeps the terminal open (no EOF).
        status = pump.housekeeping()
        if status is not None:
            self._finish(status)

    # -- writing -------------------------------------------------------------------------------------------

    def _register_writer(self) -> None:
        if not self._writer_registered and self.pump is not None:
            asyncio.get_running_loop().add_writer(self.pump.fileno(), self._on_writable)
            self._writer_registered = True

    def _on_writable(self) -> None:
        pump = self.pump
        if pump is None:
            return
        if pump.flush_writes() and self._writer_registered:
            asyncio.get_running_loop().remove_writer(pump.fileno())
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
        if delay <= 0:
            self._frame()  # output after a quiet spell (a keystroke's echo, a first frame) is drawn at once
            return
        self._frame_handle = loop.call_later(delay, self._frame)

    def _frame(self) -> None:
        self._frame_handle = None
        self._flooded = False
        emulator = self.emulator
        dirty = emulator.take_dirty()
        if dirty:
            # Only a frame that changed the screen counts for the rate limit: one that found nothing (the
            # owner's stats or state arrived) held back the echo of the key typed next by up to 1/60 s.
            self._last_frame = time.monotonic()
        width = self.size.width
        cursor = self._cursor_position()
        if cursor != self._cursor_drawn:
            for position in (cursor, self._cursor_drawn):
                if position is not None:
                    dirty.add(position[1])
            self._cursor_drawn = cursor
        if dirty and self.is_mounted:
            if not self._displayed():
                # Drawn when shown (`refresh`): the rows it keeps from before are the screen's otherwise.
                if self._unshown is not None:
                    self._unshown = (
                        None if self._scroll or len(dirty) >= emulator.rows else self._unshown | dirty
                    )
            elif self._scroll or len(dirty) >= emulator.rows:
                self.refresh()
            else:
                self.refresh(*(Region(0, y, width, 1) for y in sorted(dirty)))
        if emulator.title != self._title:
            self._title = emulator.title
            self.post_message(self.TitleChanged(self, self._title))
        if emulator.bell_count != self._bells:
            self._bells = emulator.bell_count
            self.post_message(self.Bell(self))
        notifications = emulator.take_notifications()
        if notifications:
            self.post_message(self.Notified(self, notifications))

    def refresh(
        self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> TerminalPane:
        """Textual's refresh, except the whole-widget repaint it does for each focus change: a pane's look
        does not depend on its focus but for the cursor, which `_frame` redraws. A session switch focused
        the shown pane and re-rendered all its rows, half the switch's frame; the rows rendered before it
        was hidden are kept (Textual's styles cache), so only those that changed meanwhile are drawn
        (`catch_up`)."""
        if self._focus_repaint and not regions and repaint and not layout and not recompose:
            self._focus_repaint = False
            self.catch_up()
            return self
        if not regions and repaint:
            self._unshown = set()  # every row is drawn again, those changed so far too
            self.emulator.take_dirty()
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def catch_up(self) -> None:
        """Draw the rows that changed while the pane was not displayed (its output is not drawn then:
        `_frame`); nothing while it is still not displayed. Called when it is shown again, before the
        frame that shows it (a session switch), and on its `Show` event."""
        if not self._unshown and self._unshown is not None:
            return
        if not self.is_mounted or not self._displayed():
            return
        unshown, self._unshown = self._unshown, set()
        if unshown is None:
            super().refresh()
        else:
            width = self.size.width
            super().refresh(*(Region(0, y, width, 1) for y in sorted(unshown)))

    def on_show(self) -> None:
        self.catch_up()

    def focus(self, scroll_visible: bool = True) -> TerminalPane:
        """Textual's focus, without its whole-widget repaint (`refresh`)."""
        self._focus_repaint = True
        try:
            return super().focus(scroll_visible)
        finally:
            self._focus_repaint = False

    def _focus_changed(self) -> None:
        """Textual's own focus and blur handlers (after this class's) repaint the whole widget; `refresh`
        narrows that to the rows that changed while hidden. The flag lasts this one event."""
        self._focus_repaint = True
        self.call_next(self._focus_repaint_done)

    def _focus_repaint_done(self) -> None:
        self._focus_repaint = False

    def _displayed(self) -> bool:
        """Whether the pane and every widget above it are displayed. A pane that is not (a session in the
        background) is not refreshed: refreshing a hidden widget makes Textual arrange the whole screen, and
        the frame that shows it again draws it whole (a window attached to 8 sessions arranged the screen
        once per hidden session as its scrollback arrived)."""
        return displayed(self)

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
        if self.runs_program and not self._started:
            self._start()
            return
        if not self.runs_program and not self.FOLLOW_SIZE:
            self.refresh()
            return
        if (cols, rows) == (self.emulator.cols, self.emulator.rows):
            return  # shown again at its size (a session switch): the frame that shows it draws it whole
        if self.pump is not None:
            self.pump.resize(cols, rows)  # the screen; while the program runs, its terminal and the recording
        else:
            self.emulator.resize(cols, rows)
        self._scroll = min(self._scroll, self.emulator.history_size)
        self.refresh()

    def _program_listens(self) -> bool:
        """Whether input goes to a running program (not a viewer, not a program that ended)."""
        return self.pump is not None and self._exit_status is None

    def on_key(self, event: events.Key) -> None:
        key = event.key
        if not self._program_listens():
            # A viewer, or the program is gone: keys belong to the app (replay's space, +, -, ...).
            if key in ("shift+pageup", "shift+pagedown"):
                event.stop()
                self._scroll_by((1 if key == "shift+pageup" else -1) * max(1, self.emulator.rows - 1))
            return
        # Every key is the program's: nothing bubbles to the app's (non-priority) bindings.
        event.stop()
        event.prevent_default()
        if self.screen.focused is not self:
            # Queued here before ctrl+] moved the keyboard (a chord typed quickly, a busy window): the chord's
            # second key, for whoever has the keyboard now, not for the program.
            self.app.post_message(events.Key(key, event.character))
            return
        if key == RELEASE_KEY:
            self.action_release_keyboard()  # at once, not through the bindings: the next key may be queued
            return
        if key == "shift+pageup":
            self._scroll_by(max(1, self.emulator.rows - 1))
            return
        if key == "shift+pagedown":
            self._scroll_by(-max(1, self.emulator.rows - 1))
            return
        data = keys.encode_key(key, event.character, app_cursor_keys=self.emulator.app_cursor_keys)
        if data is None:
            return
        if self._scroll:
            self._scroll = 0
            self.refresh()
        self.send(data)

    @property
    def captures_keys(self) -> bool:
        """True while every key but ctrl+] goes to the program (the footer then shows only what works)."""
        return self._program_listens()

    def action_release_keyboard(self) -> None:
        """Hand the keyboard to the app's own bindings (ctrl+]); the app's `t` gives it back.

        The keyboard moves before this returns (`Screen.set_focus`, not `Widget.focus`, which waits its turn
        in the app's queue): a key queued behind ctrl+] then finds it moved (`on_key`)."""
        # An ancestor that takes released keys (the Session tab) takes them from here directly: a blur first
        # would pass the focus to the next widget of the chain (the sidebar) on the way, and restyle it and
        # rebuild the footer for nothing (`benchmarks/bench_sessions.py`).
        taker = next((node for node in self.ancestors if getattr(node, "takes_released_keys", False)), None)
        if taker is not None:
            taker.take_released_keys()  # type: ignore[attr-defined]  # `SessionTab` (imports this module)
        else:
            self.blur()  # the next widget of the focus chain, at once (`Screen._reset_focus`)
        self.post_message(self.ReleaseFocus(self))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "release_keyboard":
            return self._program_listens()  # a viewer, or a program that ended, keeps nothing for itself
        return True

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self.send(keys.encode_paste(event.text, bracketed=self.emulator.bracketed_paste))

    def on_focus(self, event: events.Focus) -> None:
        self._focus_changed()
        if self.emulator.focus_events:
            self.send(keys.FOCUS_IN)
        self._schedule_frame()

    def on_blur(self, event: events.Blur) -> None:
        self._focus_changed()
        if self.emulator.focus_events:
            self.send(keys.FOCUS_OUT)
        self._schedule_frame()

    def _scroll_by(self, lines: int) -> None:
        new = max(0, min(self.emulator.history_size, self._scroll + lines))
        if new != self._scroll:
            self._scroll = new
            self.refresh()
            self._schedule_frame()

    def _wants_mouse(self) -> bool:
        return self.emulator.mouse_tracking and self._program_listens()

    def _send_mouse(self, code: int, event: events.MouseEvent, *, press: bool = True) -> None:
        offset = event.get_content_offset_capture(self)
        data = keys.encode_mouse(
            code,
            offset.x,
            offset.y,
            press=press,
            sgr=self.emulator.mouse_sgr,
            shift=event.shift,
            meta=event.meta,
            ctrl=event.ctrl,
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
            self._send_mouse(keys.WHEEL_UP if up else keys.WHEEL_DOWN, event)
        elif self.emulator.in_alternate_screen and self._program_listens():
            # Like xterm's alternateScroll: a full-screen program without mouse support (less, man)
            # gets arrow keys, since the alternate screen has no scrollback to show.
            app_cursor_keys = self.emulator.app_cursor_keys
            arrow = keys.encode_key("up" if up else "down", None, app_cursor_keys=app_cursor_keys)
            self.send((arrow or b"") * self.SCROLL_LINES)
        else:
            self._scroll_by(self.SCROLL_LINES if up else -self.SCROLL_LINES)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if self._wants_mouse():
            event.stop()
            code = keys.press_code(event.button)
            self._mouse_buttons |= 1 << code
            self._send_mouse(code, event)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._wants_mouse():
            event.stop()
            code = keys.press_code(event.button)
            self._mouse_buttons &= ~(1 << code)
            self._send_mouse(code, event, press=False)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if not self._wants_mouse():
            return
        mode = self.emulator.mouse_mode
        held = event.button != 0 or self._mouse_buttons
        if mode == 1003 or (mode == 1002 and held):
            self._send_mouse(keys.motion_code(event.button), event)


class ReplayPane(TerminalPane):
    """A viewer pane whose screen size comes from the recording, not from the layout: a recording replayed at
    another width wraps and smears (what Claude drew for 166 columns is garbage at 40). Its container scrolls
    or crops what does not fit."""

    FOLLOW_SIZE = False

    def set_screen_size(self, cols: int, rows: int) -> None:
        """Size the widget and its emulator to the recording's `cols` x `rows`."""
        self.styles.width = cols
        self.styles.height = rows
        # The emulator follows at once, so output after a resize event lands on a screen of the new size.
        self.emulator.resize(cols, rows)
