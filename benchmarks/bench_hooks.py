"""What a hook costs the CLI: the round trip of one HTTP hook to claude-tui's endpoint, and its fold.

Claude Code waits for each hook's answer before it goes on (a tool call waits for `PreToolUse`, then
`PostToolUse`), so the endpoint's answer time is added to every tool call. Measured with the payloads the
pinned CLI posted (`tests/data/hooks/lifecycle.json`), each posted over one keep-alive connection (as the
CLI's HTTP client does) from another process (as the CLI is), 600 posts per variant:

- `http.server` alone: a bare `ThreadingHTTPServer` answering 200 with no body (the anchor);
- the endpoint: `lifecycle.endpoint.Endpoint`, routed by secret to a `TrackedSession`'s hook handler;
- the endpoint, main thread busy: the same while this process's main thread runs Python without pause
  (as the app's event loop does drawing a flood of output), so the server thread competes for the GIL.

Then the session's side: folding the hooks into its state (`TrackedSession.poll`), per hook. Target: the
endpoint's p99 within twice the bare server's, in the same conditions (a hook's wait is the GIL's to give:
a busy main thread hands it over every `sys.getswitchinterval()`, 5 ms, whoever serves). Prints the load
average beside the numbers.

Run: `.venv/bin/python -m benchmarks.bench_hooks [--posts 600]`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data" / "hooks" / "lifecycle.json"
TARGET_RATIO = 2.0
"""The endpoint's p99 over the bare server's, at most."""


def payloads() -> list[bytes]:
    """Every hook the pinned CLI posted in the recording, as bytes."""
    recording = json.loads(DATA.read_text(encoding="utf-8"))
    return [
        json.dumps(item["payload"]).encode()
        for process in recording["processes"]
        for item in process["items"]
        if "payload" in item
    ]


def post_all(port: int, path: str, bodies: list[bytes], posts: int) -> list[float]:
    """Post `posts` bodies (cycling) over one keep-alive connection; each round trip in ms."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times: list[float] = []
    for i in range(posts):
        body = bodies[i % len(bodies)]
        start = time.perf_counter()
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        times.append((time.perf_counter() - start) * 1000)
    connection.close()
    return times


def post_from_another_process(port: int, path: str, posts: int) -> list[float]:
    """`post_all` run by a child process, as the CLI posts: this process's GIL is the server's alone."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_hooks", "--client", str(port), path, "--posts", str(posts)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    times: list[float] = json.loads(result.stdout)
    return times


@contextmanager
def bare_server() -> Iterator[tuple[int, str]]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], "/hook"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def our_endpoint(session: Any) -> Iterator[tuple[int, str]]:
    from claude_tui.lifecycle.endpoint import HOOK_ROUTE, Endpoint

    endpoint = Endpoint()
    routes = endpoint.session()
    session.listen(routes)
    endpoint.serve()
    try:
        yield endpoint.port, routes.url(HOOK_ROUTE).removeprefix(endpoint.base_url)
    finally:
        endpoint.close()


@contextmanager
def busy_main_thread() -> Iterator[None]:
    """Keep the GIL busy from another thread standing in for the app's event loop."""
    stop = threading.Event()

    def spin() -> None:
        x = 0
        while not stop.is_set():
            for i in range(10_000):
                x += i * i

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def quantiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def new_session(tmp: Path) -> Any:
    from claude_tui.session import SessionConfig, TrackedSession

    config = SessionConfig(command="claude", cwd=tmp, track=False, config_dir=tmp / "claude", hooks=False)
    return TrackedSession(config, argv=["claude"])


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--posts", type=int, default=600)
    parser.add_argument("--client", nargs=2, metavar=("PORT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    bodies = payloads()
    if args.client:
        print(json.dumps(post_all(int(args.client[0]), args.client[1], bodies, args.posts)))
        return []
    rows: list[dict[str, Any]] = []
    p99s: dict[tuple[str, bool], float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-hooks-") as tmp:
        variants: list[tuple[str, str, Callable[[], Any], bool]] = [
            ("http.server alone (anchor)", "bare", bare_server, False),
            ("claude-tui endpoint", "ours", lambda: our_endpoint(new_session(Path(tmp))), False),
            ("http.server alone, main thread busy (anchor)", "bare", bare_server, True),
            (
                "claude-tui endpoint, main thread busy",
                "ours",
                lambda: our_endpoint(new_session(Path(tmp))),
                True,
            ),
        ]
        for name, kind, server, busy in variants:
            with server() as (port, path):
                post_all(port, path, bodies, 20)  # warm up: imports, the first connection
                load = os.getloadavg()[0]
                if busy:
                    with busy_main_thread():
                        times = post_from_another_process(port, path, args.posts)
                else:
                    times = post_from_another_process(port, path, args.posts)
            p50, p99 = quantiles(times)
            p99s[kind, busy] = p99
            rows.append({"what": name, "p50 ms": f"{p50:.2f}", "p99 ms": f"{p99:.2f}", "load": f"{load:.1f}"})
        rows.append(fold_row(Path(tmp), bodies, args.posts))
    for busy in (False, True):
        ratio = p99s["ours", busy] / max(p99s["bare", busy], 0.001)
        verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
        what = f"p99 endpoint / anchor{', main thread busy' if busy else ''}"
        judged = f"{ratio:.2f}x (target <= {TARGET_RATIO:g}x: {verdict})"
        rows.append({"what": what, "p50 ms": "", "p99 ms": judged, "load": ""})
    print("| what | p50 ms | p99 ms | load |\n| --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['what']} | {row['p50 ms']} | {row['p99 ms']} | {row['load']} |")
    return rows


def fold_row(tmp: Path, bodies: list[bytes], posts: int) -> dict[str, Any]:
    """The session's side: `posts` hooks queued as the endpoint queues them, folded by one `poll`."""
    from claude_tui.lifecycle.endpoint import Endpoint

    session = new_session(tmp)
    endpoint = Endpoint()
    session.listen(endpoint.session())
    received = time.time()
    for i in range(posts):
        session._hooks.append((received + i * 0.01, bodies[i % len(bodies)]))
    start = time.perf_counter()
    session.poll()
    fold_ms = (time.perf_counter() - start) * 1000 / posts
    endpoint.close()
    what = "fold into the session's state, per hook (mean)"
    return {"what": what, "p50 ms": f"{fold_ms:.3f}", "p99 ms": "", "load": f"{os.getloadavg()[0]:.1f}"}


if __name__ == "__main__":
    main()
