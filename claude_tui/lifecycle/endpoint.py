"""One 127.0.0.1 HTTP listener per process that runs sessions: Claude Code's hooks and telemetry come in here.

A tracked `claude` is told (in its `--settings` JSON and its environment) to post its hooks, and later its
OpenTelemetry, to `http://127.0.0.1:<port>/s/<secret>/<route>`. The secret is per session: it routes a
request to that session's handlers and keeps other local users' processes from posting into it. Routes:

- `hook`: Claude Code's HTTP hooks (`claude_tui.lifecycle.hooks`);
- `otlp/v1/logs`, `otlp/v1/metrics`: the CLI's OTLP/http-json export (`OTEL_EXPORTER_OTLP_ENDPOINT` is
  `SessionRoutes.url(OTLP_ROUTE)`; the exporter appends `/v1/logs` and `/v1/metrics`). Whoever handles
  telemetry registers them with `SessionRoutes.handle`.

The socket is bound and listening as soon as the `Endpoint` exists, so its port can go into the argv of a
program spawned before anything else loads (`launch.prespawn`); `serve()` starts answering later, in a
daemon thread (requests that come earlier wait in the listen backlog). Handlers run on that thread: they
must be quick and thread-safe (append to a deque, nothing more). Stdlib only, and cheap to import: the
socket is bound with `_socket` (the C module) and a lock of `_thread`; `socket`, `threading` and
`http.server` load inside `serve()`.
"""

from __future__ import annotations

import _socket
import _thread
import os
from collections.abc import Callable, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # nor `socket`, `threading` or `typing` at run time: ~7 ms before Claude's spawn
    import socket
    import threading
    from http.server import ThreadingHTTPServer
    from typing import Any

__all__ = [
    "HOOK_ROUTE",
    "OTLP_LOGS_ROUTE",
    "OTLP_METRICS_ROUTE",
    "OTLP_ROUTE",
    "Endpoint",
    "Handler",
    "Reply",
    "SessionRoutes",
    "shared",
]

HOST = "127.0.0.1"
PREFIX = "/s/"
"""Every served path is `/s/<secret>/<route>`."""
HOOK_ROUTE = "hook"
"""Claude Code's HTTP hooks post here."""
OTLP_ROUTE = "otlp"
"""The OTLP/http base: exporters post to `otlp/v1/logs` and `otlp/v1/metrics` below it."""
OTLP_LOGS_ROUTE = f"{OTLP_ROUTE}/v1/logs"
OTLP_METRICS_ROUTE = f"{OTLP_ROUTE}/v1/metrics"
"""Where an OTLP/http exporter whose endpoint is `SessionRoutes.url(OTLP_ROUTE)` posts logs and metrics."""
MAX_BODY = 64 << 20
"""Larger bodies are refused (413): a hook carries a tool's whole input and output, never this much."""
BACKLOG = 64
"""Connections that may wait for `serve()` (or for a busy server thread)."""


class Reply:
    """What a handler answers; `Reply()` is `200` with an empty body (a hook then changes nothing).

    A plain class, not a NamedTuple or dataclass: building either costs milliseconds at import, and this
    module loads before Claude's first frame.
    """

    __slots__ = ("body", "content_type", "status")

    def __init__(self, status: int = 200, body: bytes = b"", content_type: str = "application/json") -> None:
        self.status = status
        self.body = body
        self.content_type = content_type

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reply):
            return NotImplemented
        return (self.status, self.body, self.content_type) == (other.status, other.body, other.content_type)

    def __hash__(self) -> int:
        return hash((self.status, self.body, self.content_type))

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body!r})"


Handler = Callable[[bytes, Mapping[str, str]], "Reply | None"]
"""`handler(body, headers) -> Reply | None` (None means `Reply()`); headers with lower-case names. The body
is already un-gzipped when the request said `Content-Encoding: gzip`."""

NOT_FOUND = Reply(404, b'{"error": "unknown session or route"}')


def new_secret() -> str:
    """A fresh per-session secret: 128 random bits as 32 hex digits (safe in a URL path and in JSON)."""
    return os.urandom(16).hex()


class SessionRoutes:
    """One session's part of the endpoint: its secret, its URLs and the handlers registered under it."""

    def __init__(self, endpoint: Endpoint, secret: str) -> None:
        self.endpoint = endpoint
        self.secret = secret
        """Routes requests to this session; only its own program learns it (argv and environment)."""

    def url(self, route: str = HOOK_ROUTE) -> str:
        """The full URL of `route` for this session, e.g. `http://127.0.0.1:PORT/s/SECRET/hook`."""
        return f"{self.endpoint.base_url}{PREFIX}{self.secret}/{route}"

    def handle(self, route: str, handler: Handler) -> None:
        """Call `handler` for each POST to `route` (replacing an earlier handler of that route)."""
        self.endpoint._register(self.secret, route, handler)

    def close(self) -> None:
        """Stop routing this session's requests (they get 404 from now on)."""
        self.endpoint._unregister(self.secret)


class Endpoint:
    """The process's listener: bound at once, served from a daemon thread once `serve()` is called.

    Args:
        host: the address to bind (loopback only; the default).
        port: 0 for any free port (the default); `port` tells which one was taken.
    """

    def __init__(self, *, host: str = HOST, port: int = 0) -> None:
        sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        try:
            sock.bind((host, port))
            sock.listen(BACKLOG)
        except OSError:
            sock.close()
            raise
        self._sock: _socket.socket = sock
        self.host = host
        self.port: int = sock.getsockname()[1]
        """The port the socket is bound to."""
        self._routes: dict[str, dict[str, Handler]] = {}
        self._lock = _thread.allocate_lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.closed = False

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://{self.host}:{self.port}"

    @property
    def serving(self) -> bool:
        """Whether the server thread answers requests."""
        return self._thread is not None and self._thread.is_alive()

    def session(self, secret: str | None = None) -> SessionRoutes:
        """A session's routes under `secret` (a new random one by default); register handlers on it."""
        secret = secret or new_secret()
        with self._lock:
            self._routes.setdefault(secret, {})
        return SessionRoutes(self, secret)

    def _register(self, secret: str, route: str, handler: Handler) -> None:
        with self._lock:
            self._routes.setdefault(secret, {})[route.strip("/")] = handler

    def _unregister(self, secret: str) -> None:
        with self._lock:
            self._routes.pop(secret, None)

    # -- requests ----------------------------------------------------------------------------------------

    def dispatch(self, path: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        """Answer one POST to `path` (the request target, query string allowed): route it, call the handler.

        A handler that raises gets a 500 for its request and nothing else: the program's hook or exporter
        reports it as a non-blocking error, and the session goes on.
        """
        handler = self._lookup(path.split("?", 1)[0])
        if handler is None:
            return NOT_FOUND
        try:
            return handler(body, headers) or Reply()
        except Exception as exc:  # one bad payload must not take the listener down
            message = f"{type(exc).__name__}: {exc}".replace('"', "'")[:300]
            return Reply(500, f'{{"error": "{message}"}}'.encode())

    def _lookup(self, path: str) -> Handler | None:
        if not path.startswith(PREFIX):
            return None
        secret, _, route = path[len(PREFIX) :].partition("/")
        with self._lock:
            routes = self._routes.get(secret)
            return routes.get(route.strip("/")) if routes is not None else None

    # -- serving -----------------------------------------------------------------------------------------

    def serve(self) -> None:
        """Start answering requests in a daemon thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is not None or self.closed:
                return
            import socket
            import threading

            sock = socket.socket(fileno=self._sock.detach())  # what `socketserver` accepts on
            self._sock = sock
            self._server = _make_server(self, sock)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.5}, name="claude-tui-endpoint"
            )
            self._thread.daemon = True
            self._thread.start()

    def close(self) -> None:
        """Stop serving and close the socket (pending and later connections are refused)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            server, thread = self._server, self._thread
            self._routes.clear()
        if server is not None and thread is not None:
            server.shutdown()
            thread.join(timeout=2.0)
            server.server_close()
        else:
            self._sock.close()


def _make_server(endpoint: Endpoint, sock: socket.socket) -> ThreadingHTTPServer:
    """An HTTP/1.1 server (keep-alive: the CLI's client reuses connections) on the already bound `sock`."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "claude-tui"
        sys_version = ""

        def do_POST(self) -> None:
            if self.headers.get("transfer-encoding", "").lower() == "chunked":
                chunked = _read_chunked(self.rfile)
                if chunked is None:
                    self._reply(Reply(413, b""), close=True)
                    return
                body = chunked
            else:
                length = _content_length(self.headers.get("content-length"))
                if length is None or length > MAX_BODY:
                    self._reply(Reply(411 if length is None else 413, b""), close=True)
                    return
                body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            if headers.get("content-encoding", "").lower() == "gzip":
                import gzip

                try:
                    body = gzip.decompress(body)
                except (OSError, EOFError):
                    self._reply(Reply(400, b'{"error": "bad gzip body"}'))
                    return
            self._reply(endpoint.dispatch(self.path, body, headers))

        def do_GET(self) -> None:
            self._reply(Reply(405, b""))

        def _reply(self, reply: Reply, *, close: bool = False) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if reply.body:  # (an empty write is one more system call, and one more wait for the GIL)
                self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the app owns the terminal; nothing goes to stderr

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def server_bind(self) -> None:
            pass  # the socket is bound already (and getfqdn would ask DNS)

        def server_activate(self) -> None:
            pass  # and listening

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that hung up mid-request is no news

    server = Server((endpoint.host, endpoint.port), RequestHandler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.server_address = sock.getsockname()
    return server


def _read_chunked(stream: Any) -> bytes | None:
    """A chunked request body, or None when it is malformed or larger than `MAX_BODY`."""
    parts: list[bytes] = []
    size = 0
    while True:
        line = stream.readline(100)
        try:
            chunk = int(line.split(b";", 1)[0].strip() or b"x", 16)
        except ValueError:
            return None
        if chunk == 0:
            while stream.readline(1000).strip():  # trailer fields, up to the blank line
                pass
            return b"".join(parts)
        size += chunk
        if size > MAX_BODY:
            return None
        parts.append(stream.read(chunk))
        stream.readline(10)  # the CRLF after the chunk


def _content_length(value: str | None) -> int | None:
    try:
        length = int(value) if value is not None else None
    except ValueError:
        return None
    return length if length is not None and length >= 0 else None


_shared: Endpoint | None = None
_shared_lock = _thread.allocate_lock()


def shared() -> Endpoint:
    """This process's endpoint, created (bound, not yet served) on first use."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.closed:
            _shared = Endpoint()
        return _shared
