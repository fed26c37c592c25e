"""How the owner and its clients talk: where the socket is, and the frames that cross it.

A frame is a 5-byte header (payload length, kind) and a payload. `MESSAGE` frames carry one JSON object
with an `op`; `OUTPUT` frames the program's bytes as it wrote them (owner to UI); `INPUT` frames keys and
pastes (UI to owner); `STATE` frames an emulator's screen (`TerminalEmulator.state` without the scrollback,
owner to UI, at attach) and `HISTORY` the scrollback that follows it (`TerminalEmulator.history_state`): a UI
draws the screen before the scrollback's MBs have crossed the socket.

Every connection starts with `hello` both ways: the client says its protocol and claude-tui version, the
owner answers with its own and its pid. Only `hello`, `list` and `shutdown` are promised to every version
(an upgraded claude-tui lists an older owner's sessions and stops an idle one); anything else needs the
same version on both ends, because a UI replays the owner's emulator state byte for byte.

Light on purpose (stdlib only): `launch` imports it before Claude's spawn, so sockets are made with the C
module `_socket` and become `socket.socket` objects (`as_socket`) only when used as connections.
"""

from __future__ import annotations

import _socket
import contextlib
import json
import os
import struct
from pathlib import Path

from claude_tui import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:  # nor `socket` at run time until a connection is made: ~5 ms before Claude's spawn
    import socket
    from typing import Any

__all__ = [
    "HISTORY",
    "INPUT",
    "MESSAGE",
    "OUTPUT",
    "PROTOCOL",
    "SESSION_COUNTS",
    "STATE",
    "FrameReader",
    "ProtocolError",
    "as_socket",
    "bind_unix",
    "connect_unix",
    "encode",
    "encode_message",
    "hello",
    "listen_raw",
    "listen_socket",
    "owner_dir",
    "owner_sockets",
    "socket_path",
]

PROTOCOL = 1
"""The frame format and the ops; bumped when either changes."""

MESSAGE, OUTPUT, INPUT, STATE, HISTORY = 1, 2, 3, 4, 5
"""Frame kinds."""

HEADER = struct.Struct("!IB")
MAX_FRAME = 1 << 28
"""Largest payload accepted (an emulator state with 10,000 wide lines is a few MB)."""

SOCKET_PREFIX = "owner-"
SOCKET_SUFFIX = ".sock"
_MAX_PATH = 100
"""AF_UNIX paths are limited to 107 bytes; longer ones are reached through /proc/self/fd (Linux)."""

SESSION_COUNTS = ("tool_uses", "errors_encountered", "commands_executed", "cost_usd", "user_prompts")
"""The stats `ls` shows of each session (`OwnedSession.info`'s `counts`)."""

STATES = ("starting", "working", "waiting", "idle", "ended", "logging", "logged", "not logged")
"""A session's states as the owner reports them: the program starting, working, waiting for you, idle; then
ended, being logged, logged, or not logged (the spool kept for `claude-tui sync`)."""


class ProtocolError(Exception):
    """The other end broke the protocol (a bad frame, an unknown op, another version); one line."""


def owner_dir(data_dir: Path | None = None) -> Path:
    """The folder of the owner's socket and log (0700) in the data dir."""
    if data_dir is None:
        from claude_tui.paths import data_dir as default_data_dir

        data_dir = default_data_dir()
    path = data_dir / "owner"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def socket_path(data_dir: Path | None = None, version: str = __version__) -> Path:
    """The socket of this version's owner. One owner per data dir and version: after an upgrade the old
    owner keeps its sessions to their end, and the new version starts its own (docs/sessions.md)."""
    return owner_dir(data_dir) / f"{SOCKET_PREFIX}{version}{SOCKET_SUFFIX}"


def owner_sockets(data_dir: Path | None = None) -> list[Path]:
    """Every owner socket in the data dir (this version's and older ones), this version's first."""
    folder = owner_dir(data_dir)
    mine = socket_path(data_dir)
    found = sorted(p for p in folder.glob(f"{SOCKET_PREFIX}*{SOCKET_SUFFIX}") if p != mine)
    return ([mine] if mine.exists() else []) + found


def _call_with_path(sock: _socket.socket, path: Path, call: str) -> None:
    text = str(path)
    if len(text) <= _MAX_PATH:
        getattr(sock, call)(text)
        return
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        getattr(sock, call)(f"/proc/self/fd/{folder}/{path.name}")
    finally:
        os.close(folder)


def bind_unix(sock: _socket.socket, path: Path) -> None:
    """Bind `sock` to `path` (a path of any length)."""
    _call_with_path(sock, path, "bind")


def connect_unix(sock: _socket.socket, path: Path) -> None:
    """Connect `sock` to `path` (a path of any length)."""
    _call_with_path(sock, path, "connect")


def as_socket(raw: _socket.socket) -> socket.socket:
    """`raw` (a socket of the C module) as a `socket.socket` (what asyncio and `accept` need)."""
    import socket

    return socket.socket(fileno=raw.detach())


def listen_socket(path: Path) -> socket.socket:
    """A listening socket at `path` (0600) for an owner, replacing a stale socket file nobody answers on.

    Raises:
        FileExistsError: an owner already serves `path`.
    """
    return as_socket(listen_raw(path))


def listen_raw(path: Path) -> _socket.socket:
    """`listen_socket` without importing `socket` (the fork path of `launch`, before Claude's spawn; the
    owner makes it a `socket.socket` with `as_socket` when it serves).

    Raises:
        FileExistsError: an owner already serves `path`.
    """
    probe = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        connect_unix(probe, path)
    except (FileNotFoundError, ConnectionRefusedError):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    else:
        raise FileExistsError(f"an owner already serves {path}")
    finally:
        probe.close()
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # created 0600: only this user may connect
    try:
        bind_unix(sock, path)
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    sock.listen(64)
    return sock


def encode(kind: int, payload: bytes) -> bytes:
    """One frame."""
    return HEADER.pack(len(payload), kind) + payload


def encode_message(message: dict[str, Any]) -> bytes:
    """One `MESSAGE` frame holding `message` as JSON."""
    return encode(MESSAGE, json.dumps(message, separators=(",", ":"), default=str).encode())


def hello() -> dict[str, Any]:
    """The first message of a connection, both ways."""
    return {"op": "hello", "protocol": PROTOCOL, "version": __version__, "pid": os.getpid()}


class FrameReader:
    """Cuts a byte stream into frames: `feed(data)` returns the frames it completed, in order."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Take in `data`; the complete frames as `(kind, payload)`.

        Raises:
            ProtocolError: a frame claims more than `MAX_FRAME` bytes.
        """
        buffer = self._buffer
        buffer += data
        frames: list[tuple[int, bytes]] = []
        start = 0
        size = HEADER.size
        # Each payload copied once (a bytearray's slice is a copy of its own: a MB of scrollback was two).
        with memoryview(buffer) as view:
            while len(buffer) - start >= size:
                length, kind = HEADER.unpack_from(buffer, start)
                if length > MAX_FRAME:
                    raise ProtocolError(f"frame of {length} bytes")
                end = start + size + length
                if len(buffer) < end:
                    break
                frames.append((kind, bytes(view[start + size : end])))
                start = end
        if start:
            del buffer[:start]
        return frames

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._buffer)


def decode_message(payload: bytes) -> dict[str, Any]:
    """The JSON object of a `MESSAGE` frame.

    Raises:
        ProtocolError: it is not a JSON object with an `op`.
    """
    try:
        message = json.loads(payload)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("op"), str):
        raise ProtocolError("a message without an op")
    return message
