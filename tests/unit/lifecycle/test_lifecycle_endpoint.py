"""The endpoint: bound before serving, routed by secret, answers at once, never down on a bad handler."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import threading
from collections.abc import Iterator, Mapping

import pytest

from claude_tui.lifecycle.endpoint import HOOK_ROUTE, OTLP_ROUTE, Endpoint, Reply, shared


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    made = Endpoint()
    yield made
    made.close()


def post(
    endpoint: Endpoint, path: str, body: bytes, headers: Mapping[str, str] | None = None
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=10)
    try:
        connection.request(
            "POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})}
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_the_socket_listens_before_serving_and_the_request_waits_for_it(endpoint: Endpoint) -> None:
    got: list[bytes] = []
    routes = endpoint.session()
    routes.handle(HOOK_ROUTE, lambda body, headers: got.append(body) or None)
    # A client connects and sends while nothing serves yet: the kernel holds the connection.
    client = socket.create_connection(("127.0.0.1", endpoint.port), timeout=10)
    path = routes.url(HOOK_ROUTE).removeprefix(endpoint.base_url)
    client.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{{}}".encode())
    assert not endpoint.serving
    endpoint.serve()
    reply = client.recv(4096)
    client.close()
    assert reply.startswith(b"HTTP/1.1 200")
    assert got == [b"{}"]


def test_requests_route_by_secret_and_route(endpoint: Endpoint) -> None:
    endpoint.serve()
    first, second = endpoint.session(), endpoint.session()
    assert first.secret != second.secret and len(first.secret) == 32
    seen: list[tuple[str, bytes]] = []
    first.handle(HOOK_ROUTE, lambda body, headers: seen.append(("first", body)) or None)
    second.handle(HOOK_ROUTE, lambda body, headers: seen.append(("second", body)) or None)
    second.handle(f"{OTLP_ROUTE}/v1/logs", lambda body, headers: Reply(200, b"{}"))
    base = endpoint.base_url
    assert post(endpoint, first.url().removeprefix(base), b"1") == (200, b"")
    assert post(endpoint, second.url().removeprefix(base), b"2") == (200, b"")
    assert post(endpoint, second.url(f"{OTLP_ROUTE}/v1/logs").removeprefix(base), b"{}") == (200, b"{}")
    assert seen == [("first", b"1"), ("second", b"2")]
    # Someone else's secret, a route nobody registered, a path outside /s/: all 404, nothing called.
    assert post(endpoint, "/s/" + "0" * 32 + "/hook", b"x")[0] == 404
    assert post(endpoint, first.url(f"{OTLP_ROUTE}/v1/metrics").removeprefix(base), b"x")[0] == 404
    assert post(endpoint, "/hook", b"x")[0] == 404
    first.close()
    assert post(endpoint, first.url().removeprefix(base), b"again")[0] == 404
    assert seen == [("first", b"1"), ("second", b"2")]


def test_a_url_holds_the_port_and_the_secret(endpoint: Endpoint) -> None:
    routes = endpoint.session("abc123")
    assert routes.url() == f"http://127.0.0.1:{endpoint.port}/s/abc123/hook"
    assert routes.url(OTLP_ROUTE) == f"http://127.0.0.1:{endpoint.port}/s/abc123/otlp"


def test_a_handler_that_raises_costs_its_request_only(endpoint: Endpoint) -> None:
    endpoint.serve()
    routes = endpoint.session()

    def broken(body: bytes, headers: Mapping[str, str]) -> Reply:
        raise ValueError("bad payload")

    routes.handle(HOOK_ROUTE, broken)
    path = routes.url().removeprefix(endpoint.base_url)
    status, body = post(endpoint, path, b"{}")
    assert status == 500 and b"bad payload" in body
    routes.handle(HOOK_ROUTE, lambda body, headers: None)
    assert post(endpoint, path, b"{}") == (200, b"")


def test_keep_alive_gzip_and_chunked_bodies(endpoint: Endpoint) -> None:
    endpoint.serve()
    routes = endpoint.session()
    got: list[tuple[bytes, str]] = []
    routes.handle(HOOK_ROUTE, lambda body, headers: got.append((body, headers.get("x-n", ""))) or None)
    path = routes.url().removeprefix(endpoint.base_url)
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=10)
    connection.request("POST", path, body=b'{"a": 1}', headers={"X-N": "1"})
    assert connection.getresponse().read() == b""
    connection.request(
        "POST", path, body=gzip.compress(b'{"b": 2}'), headers={"Content-Encoding": "gzip", "X-N": "2"}
    )
    assert connection.getresponse().read() == b""
    connection.request("POST", path, body=iter([b'{"c"', b": 3}"]), headers={"X-N": "3"}, encode_chunked=True)
    assert connection.getresponse().read() == b""
    connection.close()
    assert got == [(b'{"a": 1}', "1"), (b'{"b": 2}', "2"), (b'{"c": 3}', "3")]


def test_a_body_too_large_is_refused_unread(endpoint: Endpoint) -> None:
    endpoint.serve()
    routes = endpoint.session()
    routes.handle(HOOK_ROUTE, lambda body, headers: None)
    client = socket.create_connection(("127.0.0.1", endpoint.port), timeout=10)
    path = routes.url().removeprefix(endpoint.base_url)
    client.sendall(f"POST {path} HTTP/1.1\r\nContent-Length: {1 << 40}\r\n\r\n".encode())
    assert client.recv(4096).startswith(b"HTTP/1.1 413")
    client.close()


def test_get_is_not_served(endpoint: Endpoint) -> None:
    endpoint.serve()
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=10)
    connection.request("GET", "/")
    assert connection.getresponse().status == 405
    connection.close()


def test_close_stops_serving_and_frees_the_port() -> None:
    endpoint = Endpoint()
    endpoint.serve()
    port = endpoint.port
    endpoint.close()
    assert not endpoint.serving
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    endpoint.close()  # twice is fine


def test_close_before_serving() -> None:
    endpoint = Endpoint()
    endpoint.close()
    endpoint.serve()
    assert not endpoint.serving


def test_one_shared_endpoint_per_process() -> None:
    first = shared()
    assert shared() is first
    first.close()
    second = shared()
    assert second is not first and not second.closed
    second.close()


def test_many_hooks_at_once(endpoint: Endpoint) -> None:
    endpoint.serve()
    routes = endpoint.session()
    got: list[int] = []
    lock = threading.Lock()

    def handle(body: bytes, headers: Mapping[str, str]) -> None:
        with lock:
            got.append(json.loads(body)["n"])

    routes.handle(HOOK_ROUTE, handle)
    path = routes.url().removeprefix(endpoint.base_url)
    threads = [
        threading.Thread(target=post, args=(endpoint, path, json.dumps({"n": n}).encode())) for n in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got) == list(range(20))
