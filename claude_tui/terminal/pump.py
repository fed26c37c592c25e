"""`PtyPump`: a program's PTY pumped into a terminal emulator: read, record, emulate, answer, notice the end.

Pure (no Textual, no asyncio): whoever owns the event loop registers :meth:`PtyPump.fileno` for reading
and calls :meth:`PtyPump.pump` when it is readable, :meth:`PtyPump.write` for keys, and
:meth:`PtyPump.flush_writes` when the fd is writable while :attr:`PtyPump.writes_pending`. The terminal pane
does that inside the Textual app today; a session owner process can do it without any UI, and a pump fed
from a socket instead of a PTY can stand in for this one behind the same methods.

Back-pressure: one :meth:`PtyPump.pump` call reads and emulates for at most ``budget`` seconds (and
:attr:`PtyPump.BYTE_BUDGET` bytes), then returns with ``flooded`` set. What is not read waits in the
kernel's PTY buffer and the program blocks on its writes: nothing queues up in our memory however fast it
writes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import ClassVar, Protocol

from claude_tui.terminal.emulator import TerminalEmulator
from claude_tui.terminal.pty_session import ExitStatus, PtySession
from claude_tui.terminal.recorder import CastRecorder

__all__ = ["PtyPump", "PumpResult", "TerminalPump"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PumpResult:
    """What one :meth:`PtyPump.pump` call did."""

    bytes_read: int
    """Output bytes fed to the emulator (the screen may have changed when > 0)."""
    flooded: bool
    """The budget ran out with output still waiting: the program writes faster than we emulate."""
    ended: bool
    """The terminal closed (end of file); :meth:`PtyPump.check_exit` tells when the program is gone."""


class TerminalPump(Protocol):
    """What the terminal pane drives: `PtyPump` for a program in a local PTY; later also a pump fed over a
    socket by the session owner process (issue 16), which keeps its own emulator in step the same way."""

    @property
    def emulator(self) -> TerminalEmulator:
        """The screen the pane draws."""

    @property
    def exit_status(self) -> ExitStatus | None:
        """How the program ended; None while it runs."""

    @property
    def writes_pending(self) -> bool:
        """Input is waiting: call `flush_writes` when `fileno()` is writable."""

    def fileno(self) -> int:
        """The fd to watch for reading (and writing while `writes_pending`)."""

    def pump(self, budget: float | None = None) -> PumpResult:
        """Take in what arrived, for at most `budget` seconds."""

    def drain(self) -> int:
        """Take in what is left, without a budget (the program is gone or going)."""

    def write(self, data: bytes) -> None:
        """Send input without blocking."""

    def flush_writes(self) -> bool:
        """Send buffered input; True once none is left."""

    def resize(self, cols: int, rows: int) -> None:
        """Resize the screen and the program's terminal."""

    def check_exit(self) -> ExitStatus | None:
        """The exit status once the program has ended, else None; never blocks."""

    def housekeeping(self) -> ExitStatus | None:
        """Periodic upkeep; the exit status once the program has ended."""

    def signal(self, signum: int) -> None:
        """Pass a signal on to the program."""

    def terminate(self, grace: float = 3.0) -> ExitStatus:
        """End the program (blocking: run it in a thread)."""

    def close(self, grace: float = 0.5) -> ExitStatus | None:
        """Let go of the program, ending it if it still runs."""


class PtyPump:
    """Moves one program's output into a :class:`TerminalEmulator` and a recording, and keys back in.

    Args:
        session: the running program (spawned here by :meth:`spawn`, or earlier by the caller).
        emulator: the screen to feed; default a new one of the session's size with ``scrollback`` lines.
        recorder: gets every chunk read, every chunk written (it decides whether to keep input), every resize.
        scrollback: lines of history of the default emulator.
        on_output: called with every chunk read, after the emulator took it (the session owner passes the
            bytes on to the UIs that show the session).
    """

    READ_CHUNK: ClassVar[int] = 16384
    """Bytes per os.read: small enough that one chunk feeds the emulator in a few ms."""
    READ_BUDGET: ClassVar[float] = 0.008
    """Default seconds of reading+emulating per :meth:`pump` call."""
    BYTE_BUDGET: ClassVar[int] = 1 << 20
    """Bytes per :meth:`pump` call, whatever the time."""
    WRITE_CHUNK: ClassVar[int] = 65536
    """Bytes per write attempt of the buffered input."""
    DRAIN_CHUNKS: ClassVar[int] = 256
    """Reads at most, when draining what a finished program left behind (4 MiB)."""

    def __init__(
        self,
        session: PtySession,
        *,
        emulator: TerminalEmulator | None = None,
        recorder: CastRecorder | None = None,
        scrollback: int = 10_000,
        on_output: Callable[[bytes], None] | None = None,
    ) -> None:
        self.session = session
        """The program's PTY."""
        if emulator is None:
            cols, rows = session.size
            emulator = TerminalEmulator(cols, rows, history=scrollback)
        self.emulator = emulator
        """The screen and scrollback the output goes to."""
        self.recorder = recorder
        """The recording (or None)."""
        self.on_output = on_output
        """Gets every chunk read (or None)."""
        self._write_buffer = bytearray()
        self._exit_status: ExitStatus | None = None
        self._closed = False

    @classmethod
    def spawn(
        cls,
        argv: Sequence[str],
        *,
        cwd: str | PathLike[str] | None = None,
        env: Mapping[str, str | None] | None = None,
        emulator: TerminalEmulator | None = None,
        recorder: CastRecorder | None = None,
        cols: int = 80,
        rows: int = 24,
        scrollback: int = 10_000,
        base_env: Mapping[str, str] | None = None,
    ) -> PtyPump:
        """Start ``argv`` in a new PTY of ``cols`` x ``rows`` (raises `SpawnError`/`CommandNotFound`);
        ``env`` and ``base_env`` as in `PtySession.spawn`."""
        session = PtySession.spawn(argv, cwd=cwd, env=env, cols=cols, rows=rows, base_env=base_env)
        return cls(session, emulator=emulator, recorder=recorder, scrollback=scrollback)

    # -- state -----------------------------------------------------------------------------------------------

    def fileno(self) -> int:
        """The PTY's master fd, for the event loop's reader and writer."""
        return self.session.fd

    @property
    def exit_status(self) -> ExitStatus | None:
        """How the program ended, once :meth:`check_exit` or :meth:`terminate` saw it; None while it runs."""
        return self._exit_status

    @property
    def writes_pending(self) -> bool:
        """Input is waiting for room in the PTY: call :meth:`flush_writes` when the fd is writable."""
        return bool(self._write_buffer)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` or :meth:`terminate` ran."""
        return self._closed

    # -- output ----------------------------------------------------------------------------------------------

    def pump(self, budget: float | None = None) -> PumpResult:
        """Read and emulate what the program wrote, for at most ``budget`` seconds (default
        :attr:`READ_BUDGET`); answer the program's terminal queries (device attributes, cursor position)."""
        session = self.session
        deadline = time.perf_counter() + (self.READ_BUDGET if budget is None else budget)
        total = 0
        while True:
            try:
                data = session.read(self.READ_CHUNK)
            except (EOFError, OSError):
                return PumpResult(total, False, True)
            if not data:
                return PumpResult(total, False, False)
            self._output(data)
            replies = self.emulator.take_replies()
            if replies:
                self.write(replies)
            total += len(data)
            if total >= self.BYTE_BUDGET or time.perf_counter() >= deadline:
                return PumpResult(total, True, False)

    def drain(self) -> int:
        """Read what is left without a time budget and without answering (the program is gone or going);
        return the bytes read."""
        session = self.session
        if session.closed:
            return 0
        total = 0
        for _ in range(self.DRAIN_CHUNKS):
            try:
                data = session.read(self.READ_CHUNK)
            except (EOFError, OSError):
                break
            if not data:
                break
            self._output(data)
            total += len(data)
        self.emulator.take_replies()  # nobody is left to answer
        return total

    def _output(self, data: bytes) -> None:
        if self.recorder is not None:
            self.recorder.output(data)
        try:
            self.emulator.feed(data)
        except Exception:  # the emulator must survive garbage; if it does not, keep the program running
            log.exception("emulator failed on %d bytes", len(data))
        if self.on_output is not None:
            self.on_output(data)

    # -- input -----------------------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Send ``data`` to the program without blocking: what the PTY does not take now is buffered (see
        :attr:`writes_pending`). Nothing is sent once the program ended."""
        if not data or self._exit_status is not None or self._closed:
            return
        if self.recorder is not None:
            self.recorder.input(data)
        if not self._write_buffer:
            try:
                written = self.session.write_some(data)
            except (EOFError, OSError):
                return
            data = data[written:]
        if data:
            self._write_buffer += data

    def flush_writes(self) -> bool:
        """Write what the buffer holds, as much as the PTY takes; True once the buffer is empty."""
        if self._write_buffer:
            try:
                written = self.session.write_some(bytes(self._write_buffer[: self.WRITE_CHUNK]))
            except (EOFError, OSError):
                written = len(self._write_buffer)  # the program is gone: its input with it
            del self._write_buffer[:written]
        return not self._write_buffer

    def resize(self, cols: int, rows: int) -> None:
        """Resize the screen; while the program runs, also its terminal (SIGWINCH) and the recording."""
        self.emulator.resize(cols, rows)
        if self._exit_status is None and not self._closed:
            self.session.resize(cols, rows)
            if self.recorder is not None:
                self.recorder.resize(cols, rows)

    # -- the end ---------------------------------------------------------------------------------------------

    def check_exit(self) -> ExitStatus | None:
        """The program's exit status once it has ended (its last output drained into the screen), else None.
        Never blocks. The program may end while a child it left behind keeps the terminal open (no end of
        file), so call this now and then, not only after :attr:`PumpResult.ended`."""
        if self._exit_status is None:
            status = self.session.poll()
            if status is None:
                return None
            self.drain()
            self._ended(status)
        return self._exit_status

    def housekeeping(self) -> ExitStatus | None:
        """Periodic upkeep (a few times a second): flush the recording when due, and :meth:`check_exit`."""
        if self.recorder is not None:
            self.recorder.flush_if_due()
        if self._closed:
            return self._exit_status
        return self.check_exit()

    def signal(self, signum: int) -> None:
        """Pass a signal on to the program (e.g. the SIGTERM claude-tui got); its end is noticed as ever."""
        if self._exit_status is None and not self._closed:
            self.session.send_signal(signum)

    def terminate(self, grace: float = 3.0) -> ExitStatus:
        """End the program (SIGHUP/SIGTERM, SIGKILL after ``grace`` seconds) and close the PTY.

        Blocks up to ``grace`` seconds: from an event loop, remove the fd's reader and writer, then run it in
        a thread."""
        status = self.session.terminate(grace)
        self._ended(status)
        self._release()
        return status

    def close(self, grace: float = 0.5) -> ExitStatus | None:
        """Release the PTY: a program still running is terminated (see :meth:`terminate`); the recording
        is flushed. Remove the fd from the event loop first: its number may be reused."""
        if self._closed:
            return self._exit_status
        if self._exit_status is None and self.session.poll() is None:
            return self.terminate(grace)
        self._ended(self.session.exit_status or ExitStatus(None, None))
        self._release()
        return self._exit_status

    def _ended(self, status: ExitStatus) -> None:
        if self._exit_status is None:
            self._exit_status = status
            self._write_buffer.clear()
            if self.recorder is not None:
                self.recorder.flush()

    def _release(self) -> None:
        self._closed = True
        self.session.close()
        if self.recorder is not None:
            self.recorder.flush()
