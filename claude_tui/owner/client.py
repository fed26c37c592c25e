"""Reaching the owner: connect to it, or start it; requests that wait for their answer.

`OwnerClient` is a connection for requests (`list`, `spawn`, `end`, `shutdown`). `connect_or_start()` finds
the running owner of this data dir and version, or starts one: the parent binds the socket before the owner
exists, so the client's connection simply waits in the backlog until the owner serves (no polling, no race
between two `claude-tui` starting at once: a lock file orders them). `start_owner_forked` is the fast path
of `launch`: the forked owner spawns the program before it imports anything else (docs/startup.md).

Light (stdlib and `protocol`): `launch` imports it before Claude's first frame.
"""

from __future__ import annotations

import _socket
import contextlib
import fcntl
import gc
import os
import sys
import time
from pathlib import Path

from claude_tui.owner.protocol import (
    MESSAGE,
    PROTOCOL,
    FrameReader,
    ProtocolError,
    as_socket,
    connect_unix,
    decode_message,
    encode_message,
    hello,
    listen_socket,
    owner_dir,
    socket_path,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # nor `socket` or `typing` at run time: `launch` imports this module before Claude's spawn
    import socket
    from collections.abc import Callable, Iterator
    from typing import Any

__all__ = [
    "OwnerClient",
    "OwnerError",
    "OwnerNotRunning",
    "connect",
    "connect_or_start",
    "connect_socket",
    "owner_log",
    "start_lock",
    "start_owner_forked",
]

REPLY_TIMEOUT = 15.0
"""Seconds a request waits for the owner's answer (a just-started owner imports its modules first)."""


class OwnerNotRunning(Exception):
    """No owner answers on the socket."""


class OwnerError(Exception):
    """The owner refused a request or broke the connection; the message is one line for the user."""


def owner_log(path: Path | None = None) -> Path:
    """The owner's log file (beside its socket)."""
    return (path or socket_path()).parent / "owner.log"


def connect_socket(path: Path) -> socket.socket:
    """A socket connected to the owner at `path` (`OwnerNotRunning` when nobody serves it); no hello.
    `socket` is imported only once one answers (`launch` looks for an owner before Claude's spawn)."""
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        connect_unix(sock, path)
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        sock.close()
        raise OwnerNotRunning(str(path)) from exc
    except OSError:
        sock.close()
        raise
    return as_socket(sock)


class OwnerClient:
    """A connection to the owner for requests; each waits for its answer (`OwnerError` on a refusal)."""

    def __init__(self, sock: socket.socket, path: Path) -> None:
        self.sock = sock
        self.path = path
        self._reader = FrameReader()
        self._frames: list[tuple[int, bytes]] = []
        self.server_hello: dict[str, Any] = {}

    @classmethod
    def connect(cls, path: Path | None = None, timeout: float = REPLY_TIMEOUT) -> OwnerClient:
        """Connect and exchange hellos.

        Raises:
            OwnerNotRunning: nobody serves the socket.
            OwnerError: the owner did not answer in time.
        """
        client = cls.open(path, timeout)
        client.server_hello = client.receive()
        return client

    @classmethod
    def open(cls, path: Path | None = None, timeout: float = REPLY_TIMEOUT) -> OwnerClient:
        """Connect and send the hello without waiting for the owner's (`take_hello` reads it): requests
        sent on several connections at once are answered while this process does something else.

        Raises:
            OwnerNotRunning: nobody serves the socket.
        """
        path = path or socket_path()
        client = cls(connect_socket(path), path)
        client.sock.settimeout(timeout)
        client.send(hello())
        return client

    def take_hello(self) -> None:
        """Read the owner's hello, unless it was read already (`open` does not wait for it)."""
        if not self.server_hello:
            self.server_hello = self.receive()

    @property
    def version(self) -> str:
        """The owner's claude-tui version."""
        return str(self.server_hello.get("version", "?"))

    @property
    def pid(self) -> int | None:
        """The owner's process id."""
        pid = self.server_hello.get("pid")
        return pid if isinstance(pid, int) else None

    @property
    def same_version(self) -> bool:
        """Whether the owner runs this claude-tui (only then can a UI show its sessions)."""
        from claude_tui import __version__

        return self.server_hello.get("protocol") == PROTOCOL and self.version == __version__

    def send(self, message: dict[str, Any]) -> None:
        """Send one message."""
        try:
            self.sock.sendall(encode_message(message))
        except OSError as exc:
            raise OwnerError(f"the session owner went away: {exc}") from exc

    def next_frame(self) -> tuple[int, bytes]:
        """The next frame of any kind, as `(kind, payload)`.

        Raises:
            OwnerError: the owner did not answer in time, went away or broke the protocol.
        """
        while not self._frames:
            try:
                data = self.sock.recv(1 << 16)
            except TimeoutError:
                raise OwnerError(f"the session owner did not answer (see {owner_log(self.path)})") from None
            except OSError as exc:
                raise OwnerError(f"the session owner went away: {exc}") from exc
            if not data:
                raise OwnerError(f"the session owner closed the connection (see {owner_log(self.path)})")
            try:
                self._frames.extend(self._reader.feed(data))
            except ProtocolError as exc:
                raise OwnerError(str(exc)) from exc
        return self._frames.pop(0)

    def receive(self) -> dict[str, Any]:
        """The next message, past any other frame (an `error` one raises `OwnerError`)."""
        kind, payload = self.next_frame()
        while kind != MESSAGE:
            kind, payload = self.next_frame()
        try:
            message = decode_message(payload)
        except ProtocolError as exc:
            raise OwnerError(str(exc)) from exc
        if message["op"] == "error":
            raise OwnerError(str(message.get("message") or "the session owner refused"))
        return message

    def take_stream(self) -> tuple[FrameReader, list[tuple[int, bytes]]]:
        """Hand the connection's reading over to its new user (`OwnerPump`): the frame reader, with any
        incomplete frame it holds, and the frames read but not taken yet."""
        frames, self._frames = self._frames, []
        return self._reader, frames

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send a request, return its answer."""
        self.send(message)
        return self.receive()

    def list_sessions(self) -> list[dict[str, Any]]:
        """Every session the owner has (running ones, and those that ended within the hour)."""
        sessions = self.request({"op": "list"}).get("sessions")
        return [s for s in sessions if isinstance(s, dict)] if isinstance(sessions, list) else []

    def spawn(
        self,
        config: dict[str, Any],
        argv: list[str] | None = None,
        *,
        cols: int,
        rows: int,
        environ: dict[str, str] | None = None,
        program: str | None = None,
    ) -> str:
        """Start a session without showing it (`--detach`); its id.

        `argv`: the program's argv as given; None: the owner builds it from `config` (`SessionConfig.argv`
        with `program`, the program's path resolved here), so Claude posts its hooks and telemetry to the
        owner, which outlives this process.
        """
        reply = self.request(
            {
                "op": "spawn",
                "config": config,
                "argv": argv,
                "program": program,
                "cwd": config.get("cwd"),
                "environ": dict(os.environ) if environ is None else environ,
                "cols": cols,
                "rows": rows,
                "session_id": config.get("session_id"),
            }
        )
        self.receive()  # "configured": the spool exists and the program is being read
        return str(reply["id"])

    def end(self, session_id: str) -> None:
        """End a session's program gracefully (it is logged as usual)."""
        self.request({"op": "end", "id": session_id})

    def shutdown(self) -> None:
        """End every session gracefully and stop the owner."""
        self.request({"op": "shutdown"})

    def close(self) -> None:
        """Close the connection."""
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> OwnerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(path: Path | None = None) -> OwnerClient:
    """The running owner (`OwnerNotRunning` when there is none)."""
    return OwnerClient.connect(path)


@contextlib.contextmanager
def start_lock(folder: Path) -> Iterator[None]:
    """Held while one process checks for an owner and starts one, so two starts never make two owners."""
    fd = os.open(folder / "start.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def connect_or_start(path: Path | None = None) -> OwnerClient:
    """The running owner of this data dir and version, started first when there is none."""
    path = path or socket_path()
    try:
        return OwnerClient.connect(path)
    except OwnerNotRunning:
        pass
    with start_lock(owner_dir(path.parent.parent)):
        try:
            return OwnerClient.connect(path)
        except OwnerNotRunning:
            listener = listen_socket(path)
            try:
                _start_owner_process(listener, path)
            finally:
                listener.close()
    return OwnerClient.connect(path)


def _start_owner_process(listener: _socket.socket, path: Path) -> None:
    """`python -m claude_tui.owner --fd N`: a new interpreter serving the socket bound here."""
    import subprocess  # not at the top: `launch` imports this module before Claude's spawn

    fd = listener.fileno()
    log_fd = os.open(owner_log(path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(log_fd, "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "claude_tui.owner", "--fd", str(fd), "--socket", str(path)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=(fd,),
            close_fds=True,
        )


def start_owner_forked(
    listener: _socket.socket, path: Path, spawn: Callable[[], tuple[str, Any, dict[str, str | None]]]
) -> None:
    """The fast start: fork the owner from this (still small) process; it calls `spawn()` at once (which
    starts the program and returns its session id, its `PtySession` and its environment overrides), serves
    its first client with `relay.EarlyRelay` until the program has drawn, then imports the rest and serves
    `listener` (bound with `protocol.listen_raw`), the program adopted (a client claims it by its id).

    Double fork and `setsid`: the owner is nobody's child and has no terminal, so closing the terminal or
    killing the UI does not reach it. Its stdio goes to /dev/null and `owner.log`.
    """
    pid = os.fork()
    if pid:
        os.waitpid(pid, 0)  # the intermediate child exits at once
        return
    try:
        gc.disable()  # until the owner serves (`OwnerServer.COLLECT_AFTER`): its imports compete with Claude
        os.setsid()
        if os.fork():
            os._exit(0)
        null = os.open(os.devnull, os.O_RDWR)
        log = os.open(owner_log(path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        adopted = []
        try:
            adopted.append(spawn())
        except Exception as exc:  # the client's claim then fails, and it starts the session the normal way
            print(f"early spawn failed: {exc}", file=sys.stderr, flush=True)
        relay = None
        if adopted:
            # Serve the window until Claude has drawn its first frame, before importing the server (~70 ms
            # of CPU Claude would lose while it starts): `owner.relay`.
            from claude_tui.owner.relay import EarlyRelay

            relay = EarlyRelay(listener, *adopted[0])
            try:
                relay.run()
            except Exception:  # what it did is consistent frame by frame: the server carries on from it
                import traceback

                traceback.print_exc()
        from claude_tui.owner.server import run_owner

        run_owner(path, listen=as_socket(listener), adopt=adopted, relay=relay)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(0)


def wait_for_exit(pid: int, timeout: float) -> bool:
    """Wait until process `pid` is gone; True if it went in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False
