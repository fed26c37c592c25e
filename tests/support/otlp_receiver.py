"""A stand-in OTLP/http receiver on 127.0.0.1 that keeps every payload the CLI posts, in arrival order.

For recording test data (`tests/data/record_otlp.py`) and for the sources benchmark
(`benchmarks/bench_sources.py`); a tracked session receives on claude-tui's own endpoint instead.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """An OTLP/http receiver on 127.0.0.1 that keeps every payload, in arrival order."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.started = time.monotonic()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                route = self.path.rsplit("/", 1)[-1]
                with receiver.lock:
                    receiver.posts.append(
                        {
                            "t": round(time.monotonic() - receiver.started, 3),
                            "route": route,
                            "body": json.loads(body),
                        }
                    )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/s/SECRET/otlp"

    def take(self) -> list[dict[str, Any]]:
        """The payloads so far (and start the clock again for the next process)."""
        with self.lock:
            posts, self.posts = self.posts, []
            self.started = time.monotonic()
        return posts

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
