"""`OwnerPump`: a session the owner process runs, shown in a UI: the pane's program source over the socket.

It has `PtyPump`'s interface (`terminal.pump.TerminalPump`), so the terminal pane drives it the same way: the
socket's fd goes to the event loop, `pump()` takes in what arrived, `write()` sends keys, `resize()` resizes
the program's terminal. What arrives is the owner's stream for one session (`owner.protocol`): first the
owner's emulator state (`restore`: the screen as it is; `take` returns then), its scrollback (taken in with
the stream, a moment later: a MB for 10,000 lines), then the program's output bytes
(fed to this emulator, so both stay the same), stats snapshots, state changes, resizes and the program's end.

This emulator never answers the program's terminal queries (the owner's does, once); `close()` detaches (the
program runs on in the owner); `terminate()` asks the owner to end the program gracefully, and the owner
logs the session (one run, by its logger process), whatever becomes of this UI.

In the owner's layer, not beside `PtyPump` in `terminal/`: it speaks the owner's protocol, and the terminal
core imports nothing above it (the import-linter layers).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from claude_tui.owner.client import REPLY_TIMEOUT, OwnerClient, OwnerError
from claude_tui.owner.protocol import (
    HISTORY,
    INPUT,
    MESSAGE,
    OUTPUT,
    STATE,
    FrameReader,
    ProtocolError,
    decode_message,
    encode,
    encode_message,
)
from claude_tui.session import SessionConfig
from claude_tui.terminal.emulator import StateError, TerminalEmulator
from claude_tui.terminal.pty_session import ExitStatus
from claude_tui.terminal.pump import PumpResult

if TYPE_CHECKING:
    from claude_tui.snapshot import SessionSnapshot

__all__ = ["OwnerPump"]

log = logging.getLogger(__name__)

OWNER_GONE = ExitStatus(None, None)
"""What a session's end reads as when the owner went away without saying how the program ended."""


class OwnerPump:
    """One session of the owner, attached: its screen in `emulator`, kept in step with the owner's.

    Build it with :meth:`attach` (blocking: the owner sends its state at once). Args as there.
    """

    READ_CHUNK: ClassVar[int] = 1 << 16
    """Bytes per recv."""
    READ_BUDGET: ClassVar[float] = 0.008
    """Default seconds of reading+emulating per :meth:`pump` call (as `PtyPump`)."""
    BYTE_BUDGET: ClassVar[int] = 1 << 20
    """Bytes per :meth:`pump` call, whatever the time."""

    def __init__(self, sock: socket.socket, path: Path, *, scrollback: int = 10_000) -> None:
        self.sock = sock
        self.path = path
        """The owner's socket."""
        self.emulator = TerminalEmulator(history=scrollback)
        """The screen the pane draws: the owner's, replayed."""
        self.info: dict[str, Any] = {}
        """What the owner says of the session (`OwnedSession.info`): id, state, command, cwd, ..."""
        self.config: dict[str, Any] = {}
        """The session's config as the owner holds it (`SessionConfig.to_dict`)."""
        self.hint: str | list[str] | None = None
        """The sidebar's advice the session was started with (the demo's prompts to type), as the owner
        keeps it."""
        self.owner_state = "starting"
        """The owner's word for the session: starting, working, idle, ended, logging, logged, not logged."""
        self._reader = FrameReader()
        self._frames: list[tuple[int, bytes]] = []
        self._out = bytearray()
        self._snapshot: SessionSnapshot | None = None
        self._snapshot_at = 0.0
        """When the owner's latest stats arrived (monotonic): the clocks in them run on from there."""
        self._new_waits: list[str] = []
        self._new_alerts: list[str] = []
        self._exit_status: ExitStatus | None = None
        self._eof = False
        self._closed = False
        self.on_news: Callable[[], object] | None = None
        """Called (on the thread that pumps) when the owner's stats or the session's state arrive."""

    @classmethod
    def attach(
        cls, session_id: str, path: Path | None = None, *, timeout: float = REPLY_TIMEOUT
    ) -> OwnerPump:
        """Connect to the owner at `path` (this version's by default) and attach to `session_id` (or a
        unique prefix of it): returns once the owner's screen is restored here.

        Raises:
            OwnerNotRunning: nobody serves the socket.
            OwnerError: the owner refused (no such session, another version) or did not answer in time.
        """
        return cls.take(cls.ask_attach(session_id, path, timeout=timeout), None)

    @classmethod
    def ask_attach(
        cls, session_id: str, path: Path | None = None, *, timeout: float = REPLY_TIMEOUT
    ) -> OwnerClient:
        """Connect and ask for `session_id`'s stream without waiting for the answer: `take(client, None)`
        makes the pump when it is wanted. A window on several sessions asks for all of them at once, so the
        owner serialises their screens while the window starts, and it restores the shown one first.

        Raises:
            OwnerNotRunning: nobody serves the socket.
            OwnerError: the owner went away.
        """
        client = OwnerClient.open(path, timeout)
        try:
            client.send({"op": "attach", "id": session_id})
        except OwnerError:
            client.close()
            raise
        return client

    @classmethod
    def start(
        cls,
        client: OwnerClient,
        config: dict[str, Any],
        *,
        program: str,
        cols: int,
        rows: int,
        extra: dict[str, Any] | None = None,
    ) -> OwnerPump:
        """Have the owner start a session of `config` (its program resolved here as `program`; the owner
        builds the argv, so Claude posts its hooks and telemetry to the owner) and attach to it. `extra`:
        more of the `spawn` request (`hint`, a `demo`'s stub and folders: `owner.demo`)."""
        import os

        request = {
            "op": "spawn",
            "attach": True,
            "config": config,
            "program": program,
            "cwd": config.get("cwd"),
            "environ": dict(os.environ),
            "cols": cols,
            "rows": rows,
            "session_id": config.get("session_id"),
            **(extra or {}),
        }
        return cls.take(client, request)

    @classmethod
    def start_session(
        cls,
        config: SessionConfig,
        *,
        cols: int,
        rows: int,
        client: OwnerClient | None = None,
        extra: dict[str, Any] | None = None,
    ) -> OwnerPump:
        """`start` for a `SessionConfig`, on `client` or the owner (started when none runs): Claude's config
        dir and the program are resolved here, in the client's environment. Blocking.

        Raises:
            ProgramNotFound: the program is not on this PATH.
            OwnerError, OSError: the owner could not be reached, started, or refused.
        """
        from claude_tui.owner.client import connect_or_start

        program = config.for_the_owner()  # the owner builds the argv, with its own endpoint
        client = client or connect_or_start()
        return cls.start(client, config.to_dict(), program=program, cols=cols, rows=rows, extra=extra)

    @classmethod
    def take(cls, client: OwnerClient, request: dict[str, Any] | None) -> OwnerPump:
        """Send `request` (`attach`, a `spawn` that attaches, a `configure`; None: it was sent already) and
        make the connection the session's stream once the owner has sent its screen. Blocking; the client
        is closed when it fails (`OwnerError`)."""
        try:
            if request is not None:
                client.send(request)
            client.take_hello()
            attached = client.receive()
            while attached["op"] == "spawned":  # a spawn's first answer; the session comes next
                attached = client.receive()
            if attached["op"] != "attached":
                raise OwnerError(f"unexpected {attached['op']!r} from the session owner")
            kind, state = client.next_frame()
            if kind != STATE:
                raise OwnerError("the session owner sent no screen")
            pump = cls(client.sock, client.path)
            if state:
                pump._restore(state)
            else:  # a blank screen (`owner.relay`): everything the program drew follows as output
                cols, rows = int(attached.get("cols") or 80), int(attached.get("rows") or 24)
                pump.emulator = TerminalEmulator(cols, rows)
        except BaseException:
            client.close()
            raise
        pump.info = dict(attached.get("session") or {})
        pump.config = dict(attached.get("config") or {})
        pump.hint = attached.get("hint")
        pump.owner_state = str(pump.info.get("state") or "starting")
        pump._reader, pump._frames = client.take_stream()  # what came after the screen, read already
        pump.sock.setblocking(False)
        return pump

    def _restore(self, payload: bytes) -> None:
        try:
            self.emulator.restore(payload)
        except StateError as exc:
            raise OwnerError(f"the session owner's screen: {exc}") from exc
        self.emulator.take_replies()  # the owner answered those
        self.emulator.take_notifications()  # and the outer terminal had them when they came

    # -- state -----------------------------------------------------------------------------------------------

    @property
    def session_id(self) -> str:
        """The session's id."""
        return str(self.info.get("id") or "")

    def fileno(self) -> int:
        """The socket, for the event loop's reader and writer."""
        return self.sock.fileno()

    @property
    def exit_status(self) -> ExitStatus | None:
        """How the program ended (the owner's `exited`); None while it runs."""
        return self._exit_status

    @property
    def writes_pending(self) -> bool:
        """Keys wait for room in the socket."""
        return bool(self._out)

    @property
    def has_buffered(self) -> bool:
        """Frames were read from the socket already and wait to be taken in (`attach` reads past the
        screen: for a program that ended at once, its output and its end are all there is)."""
        return bool(self._frames)

    @property
    def closed(self) -> bool:
        """True once detached."""
        return self._closed

    def take_snapshot(self) -> SessionSnapshot | None:
        """The latest stats the owner sent, with every wait and alert that came since the last call (each
        once, however many stats messages carried them): None before the first."""
        snapshot = self._snapshot
        if snapshot is None:
            return None
        from dataclasses import replace

        waits, alerts = tuple(self._new_waits), tuple(self._new_alerts)
        self._new_waits.clear()
        self._new_alerts.clear()
        # While nothing else changes the owner sends stats only now and then (`OwnedSession.STATS_EVERY`):
        # the clocks run on here, each as the session's state says.
        since = time.monotonic() - self._snapshot_at if self._exit_status is None else 0.0
        return replace(
            snapshot,
            new_waits=waits,
            new_alerts=alerts,
            elapsed_seconds=snapshot.elapsed_seconds + since,
            active_seconds=snapshot.active_seconds + (since if snapshot.state == "working" else 0.0),
            waiting_seconds=snapshot.waiting_seconds + (since if snapshot.state == "waiting" else 0.0),
        )

    # -- output ----------------------------------------------------------------------------------------------

    def pump(self, budget: float | None = None) -> PumpResult:
        """Take in what the owner sent, for at most `budget` seconds; `ended` once the program's end (or the
        owner's) is known."""
        deadline = time.perf_counter() + (self.READ_BUDGET if budget is None else budget)
        total = 0
        while self._exit_status is None:
            frames, self._frames = self._frames, []
            for kind, payload in frames:
                total += self._frame(kind, payload)
            if self._exit_status is not None or self._eof or self._closed:
                break
            if total >= self.BYTE_BUDGET or time.perf_counter() >= deadline:
                return PumpResult(total, True, False)
            if not self._receive():
                break
        return PumpResult(total, False, self._eof or self._exit_status is not None)

    def _receive(self) -> bool:
        """Read what the socket holds into `_frames`; False when nothing came (none yet, or the end)."""
        try:
            data = self.sock.recv(self.READ_CHUNK)
        except (BlockingIOError, InterruptedError, TimeoutError):
            return False
        except OSError:
            data = b""
        if not data:
            self._eof = True
            return False
        try:
            self._frames.extend(self._reader.feed(data))
        except ProtocolError as exc:
            log.warning("session owner stream broken: %s", exc)
            self._eof = True
            return False
        return True

    def _frame(self, kind: int, payload: bytes) -> int:
        """Handle one frame; the output bytes it fed."""
        if kind == OUTPUT:
            try:
                self.emulator.feed(payload)
            except Exception:  # the emulator must survive garbage
                log.exception("emulator failed on %d bytes", len(payload))
            self.emulator.take_replies()
            return len(payload)
        if kind == STATE:  # the owner left us behind (we were too slow) and starts us again
            with contextlib.suppress(OwnerError):
                self._restore(payload)
            return 1
        if kind == HISTORY:  # the scrollback, after the screen (`take` restored that)
            try:
                self.emulator.restore_history(payload)
            except StateError as exc:
                log.warning("the session owner's scrollback: %s", exc)
            return 1
        if kind != MESSAGE:
            return 0
        try:
            message = decode_message(payload)
        except ProtocolError:
            return 0
        self._message(message)
        return 0

    def _message(self, message: dict[str, Any]) -> None:
        op = message["op"]
        if isinstance(message.get("session"), dict):
            self.info = message["session"]
        if op == "stats" and isinstance(message.get("snapshot"), dict):
            from claude_tui.snapshot import SessionSnapshot  # here: the owner's first poll is ~1 s in

            snapshot = SessionSnapshot.from_dict(message["snapshot"])
            self._new_waits.extend(snapshot.new_waits)
            self._new_alerts.extend(snapshot.new_alerts)
            self._snapshot, self._snapshot_at = snapshot, time.monotonic()
        elif op == "state":
            self.owner_state = str(message.get("state") or self.owner_state)
        elif op == "attached":
            self.owner_state = str(self.info.get("state") or self.owner_state)
        elif op == "resized":
            cols, rows = int(message.get("cols") or 0), int(message.get("rows") or 0)
            if cols > 0 and rows > 0 and (cols, rows) != (self.emulator.cols, self.emulator.rows):
                self.emulator.resize(cols, rows)
        elif op == "exited":
            self.owner_state = "ended"
            self._exit_status = ExitStatus(message.get("code"), message.get("signal"))
        elif op == "error":
            log.warning("session owner: %s", message.get("message"))
        if op in ("stats", "state", "exited") and self.on_news is not None:
            self.on_news()

    def drain(self) -> int:
        """Take in what has arrived, without a time budget."""
        return self.pump(budget=60.0).bytes_read

    # -- input -----------------------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Send keys or a paste to the program, through the owner (buffered when the socket is full)."""
        if not data or self._exit_status is not None or self._closed:
            return
        self._out += encode(INPUT, data)
        self.flush_writes()

    def _send(self, frame: bytes) -> None:
        if not self._closed:
            self._out += frame
            self.flush_writes()

    def flush_writes(self) -> bool:
        """Send what is buffered, as much as the socket takes; True once nothing is left."""
        if self._out and not self._closed:
            try:
                sent = self.sock.send(self._out)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                sent = len(self._out)  # the owner is gone: nothing more reaches the program
            del self._out[:sent]
        return not self._out

    def resize(self, cols: int, rows: int) -> None:
        """Resize this screen and the program's terminal (the owner resizes its own and every UI's)."""
        if (cols, rows) != (self.emulator.cols, self.emulator.rows):
            self.emulator.resize(cols, rows)
        if self._exit_status is None:
            self._send(encode_message({"op": "resize", "cols": cols, "rows": rows}))

    # -- the end ---------------------------------------------------------------------------------------------

    def check_exit(self) -> ExitStatus | None:
        """The program's exit status once the owner said it ended (or the owner is gone), else None."""
        if self._exit_status is None and self._eof:
            log.warning("the session owner closed the stream of session %s", self.session_id)
            self._exit_status = OWNER_GONE
        return self._exit_status

    def housekeeping(self) -> ExitStatus | None:
        """Periodic upkeep: the exit status once known."""
        return self.check_exit()

    def signal(self, signum: int) -> None:
        """Nothing: a signal claude-tui gets is not the owner's program's business (it outlives the UI)."""

    def terminate(self, grace: float = 3.0) -> ExitStatus:
        """Ask the owner to end the program gracefully (it logs the session) and wait for its end (blocking:
        run it in a thread). The owner's own grace is what counts; `grace` bounds the wait beyond it."""
        self._send(encode_message({"op": "end"}))
        deadline = time.monotonic() + grace + 10.0
        self.sock.setblocking(True)
        try:
            while self._exit_status is None and not self._eof and time.monotonic() < deadline:
                self.flush_writes()
                self.sock.settimeout(max(0.05, deadline - time.monotonic()))
                self._receive()
                frames, self._frames = self._frames, []
                for kind, payload in frames:
                    if kind == MESSAGE:  # only the end matters now: the screen is not drawn meanwhile
                        with contextlib.suppress(ProtocolError):
                            self._message(decode_message(payload))
        finally:
            self.sock.setblocking(False)
        status = self.check_exit() or OWNER_GONE
        self._exit_status = status
        self.close()
        return status

    def close(self, grace: float = 0.5) -> ExitStatus | None:
        """Detach: close the connection; the program runs on in the owner (which ends it only when asked)."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):
                self.sock.close()
        return self._exit_status
