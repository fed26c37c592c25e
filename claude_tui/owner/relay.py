"""`EarlyRelay`: a forked owner's first client, served before the owner imports its server.

The owner forked by `launch` (`client.start_owner_forked`) spawns Claude at once. Importing its server
(asyncio with ssl, the emulator with pyte and wcwidth, the session core: ~70 ms of CPU) right after would
take that CPU from Claude while it starts, and nothing the window shows before Claude's first frame needs
it. So the forked owner first runs this plain loop (`select.poll` on the PTY, the listening socket and one
connection), which serves the one client `launch` connected, in the protocol's terms:

- `hello` (same version), the claim (`spawn` naming the early program), `configure`: answered as the server
  would (`hello`, `spawned`, then `attached` with an empty `STATE` frame: a blank screen of the size the
  program was spawned with, `OwnerPump.take`), the configure kept for the server; then `resize` (the
  program's terminal resized, `resized` sent back in order with the output, as the server does) and keys
  (written to the program);
- the program's output: read from the start, kept (every byte, for the recording and the owner's
  emulator) and, once attached, passed on as `OUTPUT` frames.

Anything else (another op, a second connection, the program's end, the client gone) ends the
loop at once, with the frames not handled kept in order; so does a quiet moment after the output once the
client has read all of it (it has drawn Claude's first frame), `KEEP_AT_MOST` bytes of output, or `LONGEST`
seconds. Then the owner imports its server, which takes over (`OwnerServer.take_over`): the connection,
the bytes not sent yet, the kept output (recorded and fed to its emulator, whose answers to terminal
queries go to the program then), the claim configured as `configure` does (`git status`, the spool: not
needed for the first frame either), the frames left, in order.

Light on purpose: the standard library's C modules and `protocol` (the forked owner has them already).
"""

from __future__ import annotations

import _socket
import os
import select
import sys
import time

from claude_tui import __version__
from claude_tui.claude_code import is_claude
from claude_tui.owner.protocol import (
    INPUT,
    MESSAGE,
    OUTPUT,
    PROTOCOL,
    SESSION_COUNTS,
    STATE,
    FrameReader,
    ProtocolError,
    decode_message,
    encode,
    encode_message,
    hello,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from claude_tui.terminal.pty_session import PtySession

__all__ = ["EarlyRelay", "head_branch", "unread_bytes"]

SIOCOUTQ = 0x5411
"""Linux's ioctl for the bytes a socket has sent that its peer has not read yet (`TIOCOUTQ`)."""


def unread_bytes(sock: _socket.socket) -> int | None:
    """Bytes sent on `sock` that the other end has not read yet; None where that cannot be known."""
    import fcntl  # already loaded in the forked owner (`client`)

    try:
        answer = fcntl.ioctl(sock.fileno(), SIOCOUTQ, bytes(4))
    except OSError:
        return None
    return int.from_bytes(answer, sys.byteorder)


def head_branch(cwd: str) -> str | None:
    """The branch checked out in the repository holding `cwd`, read from its `HEAD` file (no `git` run):
    what `gitinfo.git_state` gives as `branch` (None on a detached HEAD or outside a repository). The
    window names the session's branch from the first `attached`; the server's `git status` comes later."""
    folder = os.path.abspath(cwd)
    while True:
        dot_git = os.path.join(folder, ".git")
        try:
            if os.path.isdir(dot_git):
                git_dir = dot_git
            elif os.path.isfile(dot_git):  # a worktree or submodule: `gitdir: <path>`
                with open(dot_git, encoding="utf-8") as file:
                    text = file.read().strip()
                if not text.startswith("gitdir:"):
                    return None
                git_dir = os.path.join(folder, text[len("gitdir:") :].strip())
            else:
                parent = os.path.dirname(folder)
                if parent == folder:
                    return None
                folder = parent
                continue
            with open(os.path.join(git_dir, "HEAD"), encoding="utf-8") as file:
                head = file.read().strip()
        except OSError:
            return None
        prefix = "ref: refs/heads/"
        return head[len(prefix) :] if head.startswith(prefix) else None


class EarlyRelay:
    """Serve the first client of a forked owner until its server takes over (see the module docstring).

    Args:
        listener: the owner's listening socket (`protocol.listen_raw`); its first connection is served.
        session_id, pty, env: the program spawned early, as `OwnerServer.adopt` takes it.
    """

    QUIET_AFTER = 0.1
    """Seconds without output (after `FIRST_FRAME` bytes of it, the client attached and all it was sent read)
    before the server takes over: the window has drawn Claude's first frame by then."""
    FIRST_FRAME = 1024
    """Bytes of output passed on before a quiet moment counts: Claude sets its terminal up (13 bytes) ~0.3 s
    before it draws anything, then its modes and title, then its banner (~1.3 KB and more)."""
    LONGEST = 2.0
    """Seconds at most before the server takes over, whatever happens (a client that never comes or never
    configures is the server's to handle: it ends an unclaimed program)."""
    STEP = 0.05
    """Seconds between looks at what the client has read; and how long after it has read everything the
    server takes over (the window draws what it read a few ms later)."""
    KEEP_AT_MOST = 1 << 20
    """Bytes of output kept before the server takes over anyway (a program that floods its terminal: the
    server records it as it comes and paces it to its clients)."""

    def __init__(
        self, listener: _socket.socket, session_id: str, pty: PtySession, env: dict[str, str | None]
    ) -> None:
        self.listener = listener
        self.session_id = session_id
        self.pty = pty
        self.env = env
        self.sock: _socket.socket | None = None
        """The connection served (None: no client came)."""
        self.reader = FrameReader()
        """The connection's frame reader, with any incomplete frame it holds."""
        self.pending: list[tuple[int, bytes]] = []
        """Frames the relay did not handle, in order: the server handles them."""
        self.unsent = bytearray()
        """Bytes for the client the socket did not take yet: the server sends them first."""
        self.size = pty.size
        """The program's terminal size when it was spawned (`kept` starts there)."""
        self.kept: list[bytes | tuple[int, int] | tuple[str, bytes]] = []
        """Everything the program wrote, in order, and what came between: resizes (`(cols, rows)`) and the
        client's keys (`("input", data)`, written to the program)."""
        self.greeted = False
        self.claimed = False
        self.configure: dict[str, Any] | None = None
        """The `configure` message whose `attached` was sent (the server configures the session with it)."""
        self.ended = False
        """The program's terminal closed."""
        self.gone = False
        """The client closed the connection."""
        self.second_client = False
        """Another client connected (the server serves it, and this one from then on)."""
        self.broken: str | None = None
        """What was wrong with a frame the client sent (the server refuses the client with it)."""
        self.started = time.monotonic()
        self.started_at = time.time()
        """When the relay started (the session's `started_at`: the program was spawned a moment before)."""
        self._last_output = 0.0
        self._passed_on = 0
        self._kept_bytes = 0
        self._read_at: float | None = None
        """Since when the client has read everything sent (after the first frame)."""

    # -- the loop --------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Serve until something needs the server (see the module docstring)."""
        poller = select.poll()
        pty_fd = self.pty.fd
        poller.register(pty_fd, select.POLLIN)
        poller.register(self.listener.fileno(), select.POLLIN)
        deadline = self.started + self.LONGEST
        registered = False
        while not self._done():
            now = time.monotonic()
            if now >= deadline:
                break
            wait = deadline - now
            if self._passed_on:
                wait = min(wait, self.STEP)
            for fd, events in poller.poll(max(1, int(wait * 1000))):
                if fd == pty_fd:
                    self._read_program()
                elif self.sock is not None and fd == self.sock.fileno():
                    if events & select.POLLOUT:
                        self._flush()
                    if events & (select.POLLIN | select.POLLHUP | select.POLLERR):
                        self._read_client()
                elif self.sock is None:
                    self._accept()
                else:  # a second client: the server serves it (it waits in the backlog meanwhile)
                    self.second_client = True
            if self.sock is not None and not self.gone:
                if not registered:
                    poller.register(self.sock, select.POLLIN)
                    registered = True
                poller.modify(self.sock, select.POLLIN | (select.POLLOUT if self.unsent else 0))

    def _done(self) -> bool:
        if self.pending or self.ended or self.gone or self.broken or self.second_client:
            return True
        if self._kept_bytes > self.KEEP_AT_MOST:
            return True
        if self._passed_on < self.FIRST_FRAME or self.unsent:
            return False
        if time.monotonic() - self._last_output < self.QUIET_AFTER:
            return False
        assert self.sock is not None
        if unread_bytes(self.sock):  # None (not Linux): the quiet moment alone
            self._read_at = None
            return False
        if self._read_at is None:
            self._read_at = time.monotonic()
        return time.monotonic() - self._read_at >= self.STEP

    def _accept(self) -> None:
        """The first client."""
        try:
            fd, _ = self.listener._accept()  # type: ignore[attr-defined]  # the C module's: no `socket` yet
        except (BlockingIOError, InterruptedError):
            return
        sock = _socket.socket(fileno=fd)
        sock.setblocking(False)
        self.sock = sock

    def _read_program(self) -> None:
        try:
            data = self.pty.read(1 << 16)
        except (EOFError, OSError):
            self.ended = True
            return
        if not data:
            return
        self.kept.append(data)
        self._kept_bytes += len(data)
        if self.configure is not None:
            self._send(encode(OUTPUT, data))
            self._last_output = time.monotonic()
            self._passed_on += len(data)
            self._read_at = None

    def _read_client(self) -> None:
        assert self.sock is not None
        try:
            data = self.sock.recv(1 << 16)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.gone = True
            return
        try:
            frames = self.reader.feed(data)
        except ProtocolError as exc:
            self.broken = str(exc)
            return
        for kind, payload in frames:
            if self.pending or not self._handle(kind, payload):
                self.pending.append((kind, payload))

    # -- the client's messages -------------------------------------------------------------------------------

    def _handle(self, kind: int, payload: bytes) -> bool:
        """Answer a frame as the server would; False when it is the server's to handle."""
        if kind == INPUT and self.configure is not None:
            # Keys, or the focus report the window sends once Claude asks for them (`?1004h`), which comes
            # just before Claude's banner: written now, so the first frame does not wait for the server.
            try:
                written = self.pty.write_some(payload) if payload else 0
            except (EOFError, OSError):
                return False  # the program's end: the server sees to it
            self.kept.append(("input", payload[:written]))
            if written < len(payload):
                self.pending.append((INPUT, payload[written:]))  # the PTY is full: the server writes it
            return True
        if kind != MESSAGE:
            return False
        try:
            message = decode_message(payload)
        except ProtocolError:
            return False
        op = message["op"]
        if not self.greeted:
            if op != "hello" or message.get("protocol") != PROTOCOL or message.get("version") != __version__:
                return False
            self.greeted = True
            self._message({**hello(), "sessions": 1})
            return True
        if not self.claimed:
            if op != "spawn" or message.get("session_id") != self.session_id or message.get("config"):
                return False
            self.claimed = True
            self._message({"op": "spawned", "id": self.session_id, "pid": self.pty.pid})
            return True
        if op == "resize" and self.configure is not None:
            try:  # as `OwnedSession.resize`
                cols = max(1, min(int(message.get("cols") or 80), 2000))
                rows = max(1, min(int(message.get("rows") or 24), 2000))
            except (TypeError, ValueError):
                return False  # the server refuses it
            self.pty.resize(cols, rows)
            self.kept.append((cols, rows))
            self._message({"op": "resized", "cols": cols, "rows": rows})
            return True
        if op != "configure" or self.configure is not None or not isinstance(message.get("config"), dict):
            return False
        self.configure = message
        self._attached(message["config"])
        return True

    def _attached(self, values: dict[str, Any]) -> None:
        """What `OwnedSession.send_screen` sends, with a blank screen: the program's output so far follows."""
        cols, rows = self.size
        command = str(values.get("command") or self.pty.argv[0])
        prompt = values.get("prompt")
        cwd = str(values.get("cwd") or ".")
        info = {
            "id": self.session_id,
            "state": "starting",
            "pid": self.pty.pid,
            "command": command,
            "argv": self.pty.argv,
            "cwd": cwd,
            "is_claude": is_claude(command),
            "title": prompt[:60] if isinstance(prompt, str) and prompt else os.path.basename(command),
            "branch": head_branch(cwd),
            "tracked": bool(values.get("track", True)),
            "tracking_uri": values.get("tracking_uri"),
            "experiment": values.get("experiment"),
            "started_at": self.started_at,
            "ended_at": None,
            "exit_code": None,
            "signal": None,
            "clients": 1,
            "counts": dict.fromkeys(SESSION_COUNTS),
        }
        self._message(
            {
                "op": "attached",
                "session": info,
                "config": {**values, "session_id": self.session_id},
                "hint": None,
                "cols": cols,
                "rows": rows,
            }
        )
        self._send(encode(STATE, b""))  # blank: `OwnerPump.take` sizes its screen from `cols` and `rows`
        for data in self.kept:
            if isinstance(data, bytes):
                self._send(encode(OUTPUT, data))
                self._last_output = time.monotonic()
                self._passed_on += len(data)

    # -- sending ---------------------------------------------------------------------------------------------

    def _message(self, message: dict[str, Any]) -> None:
        self._send(encode_message(message))

    def _send(self, data: bytes) -> None:
        self.unsent += data
        self._flush()

    def _flush(self) -> None:
        if not self.unsent or self.sock is None or self.gone:
            return
        try:
            sent = self.sock.send(self.unsent)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.gone = True
            return
        del self.unsent[:sent]
