"""The offline Messages API stub, driven with plain HTTP requests (no Claude CLI)."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from claude_tui.scenarios import load_scenario, scenario_names, scenario_path
from claude_tui.stub_api import (
    FALLBACK_TEXT,
    SIDE_QUERY_TEXT,
    ScenarioError,
    StubServer,
    conversation_position,
    estimate_tokens,
    load_scenario_file,
    validate_scenario,
)

SCENARIO: dict[str, Any] = {
    "turns": [
        {
            "match": "fix the bug",
            "steps": [
                [{"text": "Looking."}, {"tool": "Bash", "input": {"command": "git status"}}],
                [
                    {"tool": "Read", "input": {"file_path": "{{cwd}}/app.py"}},
                    {"tool": "Bash", "input": {"command": "ls"}},
                ],
                [{"text": "Fixed."}],
            ],
        },
        {"match": "Inspect the repo", "steps": [[{"tool": "Bash", "input": {"command": "git log"}}]]},
        {
            "match": "break the API",
            "steps": [
                [{"text": "Trying."}, {"tool": "Bash", "input": {"command": "ls"}}],
                [{"error": {"status": 400, "type": "invalid_request_error", "message": "scripted failure"}}],
            ],
        },
    ]
}
TOOLS = [{"name": "Bash", "input_schema": {"type": "object"}}]
SYSTEM = [
    {
        "type": "text",
        "text": "You are Claude.\n - Primary working directory: /tmp/work dir\n - Platform: linux",
    }
]
REMINDER = {"type": "text", "text": "<system-reminder>\nfix the bug is not the prompt\n</system-reminder>"}


def prompt(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [REMINDER, {"type": "text", "text": text}]}


def assistant(*tool_ids: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": i, "name": "Bash", "input": {}} for i in tool_ids],
    }


def results(*tool_ids: str) -> dict[str, Any]:
    blocks = [{"type": "tool_result", "tool_use_id": i, "content": "ok"} for i in tool_ids]
    return {"role": "user", "content": [*blocks, REMINDER]}


def post(url: str, path: str, body: Any, method: str = "POST") -> tuple[int, dict[str, str], bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    payload = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json", "x-api-key": "k"}
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def sse(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for frame in data.decode().split("\n\n"):
        if not frame.strip():
            continue
        lines = dict(line.split(": ", 1) for line in frame.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def streamed_blocks(events: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rebuild the content blocks the way a client does: start + deltas."""
    blocks: list[dict[str, Any]] = []
    partial: dict[int, str] = {}
    for name, data in events:
        if name == "content_block_start":
            blocks.append(dict(data["content_block"]))
        elif name == "content_block_delta":
            delta = data["delta"]
            if delta["type"] == "text_delta":
                blocks[data["index"]]["text"] += delta["text"]
            else:
                partial[data["index"]] = partial.get(data["index"], "") + delta["partial_json"]
        elif name == "content_block_stop" and data["index"] in partial:
            blocks[data["index"]]["input"] = json.loads(partial[data["index"]])
    return blocks


def main_request(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"model": "claude-test-1", "stream": True, "tools": TOOLS, "system": SYSTEM, "messages": messages}


@pytest.fixture
def stub() -> Any:
    with StubServer(SCENARIO) as server:
        yield server


def test_first_step_streams_like_the_real_api(stub: StubServer) -> None:
    body = main_request([prompt("please fix the bug")])
    status, headers, data = post(stub.url, "/v1/messages?beta=true", body)
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    events = sse(data)
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[0][1]["message"]
    assert start["id"].startswith("msg_") and start["model"] == "claude-test-1" and start["content"] == []
    assert events[5][1]["content_block"]["input"] == {}  # input arrives only as input_json_delta
    blocks = streamed_blocks(events)
    assert blocks[0] == {"type": "text", "text": "Looking."}
    assert blocks[1]["type"] == "tool_use" and blocks[1]["name"] == "Bash"
    assert blocks[1]["id"].startswith("toolu_")
    assert blocks[1]["input"] == {"command": "git status"}
    delta = events[-2][1]
    assert delta["delta"]["stop_reason"] == "tool_use"
    expected_input = estimate_tokens(body["messages"]) + estimate_tokens(body["system"])
    assert delta["usage"]["input_tokens"] == expected_input == start["usage"]["input_tokens"]
    assert delta["usage"]["output_tokens"] == estimate_tokens(
        [{"type": "text", "text": "Looking."}, {**blocks[1]}]
    )


@pytest.mark.parametrize(
    ("messages", "expected_step"),
    [
        ([prompt("fix the bug"), assistant("a"), results("a")], 1),
        ([prompt("fix the bug"), assistant("a"), results("a"), assistant("b", "c"), results("b", "c")], 2),
        # an earlier, finished turn does not count: only assistant messages after the last prompt do
        (
            [
                prompt("other"),
                assistant("x"),
                results("x"),
                prompt("now fix the bug"),
                assistant("a"),
                results("a"),
            ],
            1,
        ),
    ],
)
def test_step_k_answers_the_kth_request_after_the_prompt(
    stub: StubServer, messages: list[dict[str, Any]], expected_step: int
) -> None:
    _, _, data = post(stub.url, "/v1/messages", main_request(messages))
    blocks = streamed_blocks(sse(data))
    step = SCENARIO["turns"][0]["steps"][expected_step]
    assert [b.get("name") or b.get("text") for b in blocks] == [b.get("tool") or b.get("text") for b in step]


def test_parallel_tool_calls_get_distinct_ids_and_cwd_is_filled(stub: StubServer) -> None:
    _, _, data = post(
        stub.url, "/v1/messages", main_request([prompt("fix the bug"), assistant("a"), results("a")])
    )
    blocks = streamed_blocks(sse(data))
    assert [b["name"] for b in blocks] == ["Read", "Bash"]
    assert blocks[0]["id"] != blocks[1]["id"]
    assert blocks[0]["input"] == {"file_path": "/tmp/work dir/app.py"}
    assert sse(data)[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_past_the_last_step_and_unmatched_prompts_get_a_short_end_turn(stub: StubServer) -> None:
    done = [prompt("fix the bug")] + [m for i in range(3) for m in (assistant(f"t{i}"), results(f"t{i}"))]
    for messages in (done, [prompt("something unscripted")]):
        _, _, data = post(stub.url, "/v1/messages", main_request(messages))
        events = sse(data)
        assert streamed_blocks(events) == [{"type": "text", "text": FALLBACK_TEXT}]
        assert events[-2][1]["delta"]["stop_reason"] == "end_turn"


def test_an_error_step_answers_with_the_apis_json_error(stub: StubServer) -> None:
    first, _, _ = post(stub.url, "/v1/messages", main_request([prompt("break the API")]))
    assert first == 200
    messages = [prompt("break the API"), assistant("t1"), results("t1")]
    status, headers, raw = post(stub.url, "/v1/messages", main_request(messages))
    assert (status, headers["content-type"]) == (400, "application/json")
    assert json.loads(raw) == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "scripted failure"},
    }


def test_sub_agent_requests_match_their_task_prompt(stub: StubServer) -> None:
    body = main_request([{"role": "user", "content": "Inspect the repo and report."}])
    _, _, data = post(stub.url, "/v1/messages", body)
    assert streamed_blocks(sse(data))[0]["input"] == {"command": "git log"}


def test_side_queries_get_a_short_text(stub: StubServer) -> None:
    no_tools = {"model": "m", "stream": True, "messages": [prompt("fix the bug")]}
    _, _, data = post(stub.url, "/v1/messages", no_tools)
    assert streamed_blocks(sse(data)) == [{"type": "text", "text": SIDE_QUERY_TEXT}]
    not_streaming = {"model": "m", "tools": TOOLS, "messages": [prompt("fix the bug")]}
    status, headers, raw = post(stub.url, "/v1/messages", not_streaming)
    reply = json.loads(raw)
    assert status == 200 and headers["content-type"] == "application/json"
    assert reply["type"] == "message" and reply["stop_reason"] == "end_turn"
    assert reply["content"] == [{"type": "text", "text": SIDE_QUERY_TEXT}]
    assert reply["usage"]["input_tokens"] > 0 and reply["usage"]["output_tokens"] > 0


def test_count_tokens(stub: StubServer) -> None:
    body = {"model": "m", "messages": [prompt("x" * 400)], "system": "s" * 40}
    status, _, raw = post(stub.url, "/v1/messages/count_tokens?beta=true", body)
    assert status == 200
    assert json.loads(raw) == {"input_tokens": estimate_tokens(body["messages"]) + estimate_tokens("s" * 40)}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "kind"),
    [
        ("GET", "/v1/models", None, 404, "not_found_error"),
        ("POST", "/v2/whatever", {}, 404, "not_found_error"),
        ("DELETE", "/v1/messages", None, 404, "not_found_error"),
        ("POST", "/v1/messages", b"{not json", 400, "invalid_request_error"),
        ("POST", "/v1/messages", {"messages": "nope"}, 400, "invalid_request_error"),
        ("POST", "/v1/messages/count_tokens", b"[1, 2]", 400, "invalid_request_error"),
    ],
)
def test_bad_requests_get_a_json_error_and_the_server_keeps_running(
    stub: StubServer, method: str, path: str, body: Any, status: int, kind: str
) -> None:
    got, _, raw = post(stub.url, path, body, method=method)
    assert got == status
    assert json.loads(raw)["error"]["type"] == kind
    ok, _, _ = post(stub.url, "/v1/messages", main_request([prompt("fix the bug")]))
    assert ok == 200


def test_every_request_is_recorded(stub: StubServer) -> None:
    post(stub.url, "/v1/messages?beta=true", main_request([prompt("fix the bug")]))
    post(stub.url, "/nope", None, method="GET")
    first, second = stub.requests
    assert (first.method, first.path, first.route) == ("POST", "/v1/messages?beta=true", "/v1/messages")
    assert first.headers["x-api-key"] == "k"
    assert first.body["messages"][0]["content"][1]["text"] == "fix the bug"
    assert first.is_main_conversation and not second.is_main_conversation
    assert (second.method, second.body) == ("GET", None)
    assert stub.main_requests == [first]


def test_proxy_requests_for_other_hosts_are_refused_and_recorded(stub: StubServer) -> None:
    status, _, raw = post(stub.url, "example.com:443", None, method="CONNECT")
    assert status == 403 and json.loads(raw)["error"]["type"] == "permission_error"
    status, _, _ = post(stub.url, "http://downloads.example.com/catalog.json", None, method="GET")
    assert status == 403
    # an absolute URL for the stub itself (a client that proxies everything) is still served
    status, _, _ = post(stub.url, f"{stub.url}/v1/messages", main_request([prompt("fix the bug")]))
    assert status == 200
    assert [(r.method, r.path) for r in stub.outbound_requests] == [
        ("CONNECT", "example.com:443"),
        ("GET", "http://downloads.example.com/catalog.json"),
    ]


def test_stop_releases_the_port_and_is_idempotent() -> None:
    server = StubServer(SCENARIO).start()
    url = server.url
    server.stop()
    server.stop()
    with pytest.raises(OSError):
        post(url, "/v1/messages", {})
    with pytest.raises(RuntimeError):
        _ = server.url


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([], (None, 0)),
        ([prompt("hi")], ("hi", 0)),
        ([{"role": "user", "content": "plain string"}, assistant("a")], ("plain string", 1)),
        (
            [prompt("hi"), assistant("a"), results("a"), {"role": "system", "content": "x"}, assistant("b")],
            ("hi", 2),
        ),
        ([{"role": "user", "content": [REMINDER]}], (None, 0)),
    ],
)
def test_conversation_position(messages: list[dict[str, Any]], expected: tuple[str | None, int]) -> None:
    assert conversation_position(messages) == expected


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ([], "turns"),
        ({"turns": [{"steps": []}]}, "match"),
        ({"turns": [{"match": "x"}]}, "steps"),
        ({"turns": [{"match": "x", "steps": [[]]}]}, "non-empty list"),
        ({"turns": [{"match": "x", "steps": [[{"tool": "Bash", "input": "ls"}]]}]}, "input"),
        ({"turns": [{"match": "x", "steps": [[{"image": "x"}]]}]}, '"text", "tool" or "error"'),
        ({"turns": [{"match": "x", "steps": [[{"error": {"status": "500"}}]]}]}, "integer"),
        ({"turns": [{"match": "x", "steps": [[{"error": {"status": 200}}]]}]}, "400-599"),
        ({"turns": [{"match": "x", "steps": [[{"error": {"status": 500, "message": 1}}]]}]}, "message"),
        ({"turns": [{"match": "x", "steps": [[{"text": "a"}, {"error": {"status": 500}}]]}]}, "only block"),
    ],
)
def test_invalid_scenarios_are_rejected(scenario: Any, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        validate_scenario(scenario)


def test_load_scenario_file_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ScenarioError, match="not valid JSON"):
        load_scenario_file(bad)
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario_file(tmp_path / "missing.json")


def test_bundled_scenarios_are_valid() -> None:
    names = scenario_names()
    assert {"realistic", "failing", "git_compound", "parallel_tools", "subagent", "secrets"} <= set(names)
    for name in names:
        validate_scenario(load_scenario(name))
        assert scenario_path(name).name == f"{name}.json"
    with pytest.raises(KeyError, match="realistic"):
        scenario_path("no-such-scenario")


def test_command_line_prints_url_serves_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "claude_tui.stub_api", "--scenario", str(scenario_path("realistic"))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        status, _, raw = post(url, "/v1/messages/count_tokens", {"messages": []})
        assert status == 200 and "input_tokens" in json.loads(raw)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "/nonexistent/x.json"], "cannot read scenario"),
        (["--scenario", "no-such-bundled-name"], "no bundled scenario"),
        (["--scenario", "realistic", "--port", "70000"], "--port"),
        (["--scenario", "realistic", "--port", "http"], "invalid int value"),
        ([], "--scenario"),
    ],
)
def test_command_line_bad_input_is_one_line_and_status_2(args: list[str], message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "claude_tui.stub_api", *args], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_chunked_request_bodies_are_read(stub: StubServer) -> None:
    host, port = stub.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    body = json.dumps(main_request([prompt("fix the bug")])).encode()
    chunks = iter([body[:100], body[100:]])
    conn.request(
        "POST", "/v1/messages", body=chunks, headers={"Transfer-Encoding": "chunked"}, encode_chunked=True
    )
    response = conn.getresponse()
    data = response.read()
    conn.close()
    assert response.status == 200
    assert streamed_blocks(sse(data))[1]["input"] == {"command": "git status"}
    assert stub.requests[-1].body == json.loads(body)
