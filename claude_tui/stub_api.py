"""An offline stand-in for the Anthropic Messages API that replays a scripted Claude Code session.

The real Claude Code CLI talks to it through `ANTHROPIC_BASE_URL`, so tests and `claude-tui demo` run the real
CLI with no network. A scenario is JSON of exactly this shape (portable between tools):

    {"turns": [{"match": "text in the prompt", "steps": [[BLOCK, ...], ...]}]}

where BLOCK is `{"text": "..."}` or `{"tool": "Bash", "input": {...}}`, or a step is one error block
`{"error": {"status": 400, "type": "invalid_request_error", "message": "..."}}` that answers that request
with the API's JSON error instead (the CLI shows "API Error: ..."; statuses 429, 500 and 529 make it retry
the same step). `{{cwd}}` in a tool input's strings
becomes the session's working directory, read from the system prompt as a real model would (Read, Write and
Edit need absolute paths). Step k of a turn answers the k-th
main-conversation request after the human prompt that contains `match`. The server keeps no conversation
state: every request carries the whole conversation, so the prompt and k are read from its `messages` (the
last user message with a real text block, and the number of assistant messages after it). That also scripts
sub-agents: their requests start from the task prompt, which a turn can match.

Run it alone with `python -m claude_tui.stub_api --scenario FILE [--port P]` (prints the URL on its first
line) or in-process with `StubServer(scenario)`. Binds 127.0.0.1 only. Stdlib only.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import signal
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn
from urllib.parse import urlsplit

FALLBACK_TEXT = "Done."
"""What the stub answers past the last scripted step, and when no turn matches."""

SIDE_QUERY_TEXT = "OK"
"""What side queries get (titles, classifiers, summaries): short, and never a refusal."""

DEFAULT_MODEL = "claude-sonnet-4-5-20250929"
"""The model named in replies when the request names none."""

CWD_PLACEHOLDER = "{{cwd}}"
"""Replaced in tool inputs by the working directory the CLI states in its system prompt."""

_SYSTEM_REMINDER = "<system-reminder>"
_CWD_LINE = re.compile(r"Primary working directory: *([^\n]+)")


class ScenarioError(ValueError):
    """The scenario is not of the documented shape."""


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the stub received, kept so tests can assert on what the CLI sent."""

    method: str
    path: str
    """The path with any query string, e.g. `/v1/messages?beta=true`."""
    headers: dict[str, str]
    """Header names lower-cased."""
    body: Any
    """The parsed JSON body, or None when there was no body or it was not JSON."""

    @property
    def route(self) -> str:
        """The path without its query string."""
        return urlsplit(self.path).path

    @property
    def is_outbound(self) -> bool:
        """True for a proxy request meant for another host (`CONNECT host:443` or an absolute URL).

        `ClaudeEnvironment` names the stub as HTTP(S) proxy, so any attempt of the CLI to reach the internet
        lands here instead, where tests can see it.
        """
        if self.method == "CONNECT":
            return True
        host = urlsplit(self.path).hostname
        return host is not None and host not in ("127.0.0.1", "localhost", "::1")

    @property
    def is_main_conversation(self) -> bool:
        """True for the streaming, tool-carrying message requests that the scenario scripts."""
        return self.route == "/v1/messages" and _is_scripted_request(self.body)


def validate_scenario(scenario: Any) -> dict[str, Any]:
    """Check a scenario has the documented shape and return it; raise `ScenarioError` otherwise."""
    if not isinstance(scenario, dict) or not isinstance(scenario.get("turns"), list):
        raise ScenarioError('scenario must be an object with a "turns" list')
    for t_index, turn in enumerate(scenario["turns"]):
        where = f"turns[{t_index}]"
        if not isinstance(turn, dict) or not isinstance(turn.get("match"), str) or not turn["match"]:
            raise ScenarioError(f'{where} needs a non-empty "match" string')
        steps = turn.get("steps")
        if not isinstance(steps, list):
            raise ScenarioError(f'{where} needs a "steps" list')
        for s_index, step in enumerate(steps):
            if not isinstance(step, list) or not step:
                raise ScenarioError(f"{where}.steps[{s_index}] must be a non-empty list of blocks")
            for b_index, block in enumerate(step):
                at = f"{where}.steps[{s_index}][{b_index}]"
                if not isinstance(block, dict):
                    raise ScenarioError(f"{at} must be an object")
                if "text" in block:
                    if not isinstance(block["text"], str):
                        raise ScenarioError(f'{at}: "text" must be a string')
                elif "tool" in block:
                    if not isinstance(block["tool"], str) or not isinstance(block.get("input", {}), dict):
                        raise ScenarioError(f'{at}: "tool" must be a string and "input" an object')
                elif "error" in block:
                    _validate_error_block(block["error"], at, len(step))
                else:
                    raise ScenarioError(f'{at} must have "text", "tool" or "error"')
    return scenario


def _validate_error_block(error: Any, at: str, step_size: int) -> None:
    if step_size != 1:
        raise ScenarioError(f"{at}: an error block must be the only block of its step")
    if not isinstance(error, dict) or not isinstance(error.get("status"), int):
        raise ScenarioError(f'{at}: "error" must be an object with an integer "status"')
    if not 400 <= error["status"] <= 599:
        raise ScenarioError(f'{at}: "error" status must be 400-599, not {error["status"]}')
    for key in ("type", "message"):
        if not isinstance(error.get(key, ""), str):
            raise ScenarioError(f'{at}: "error" {key} must be a string')


def load_scenario_file(path: str | Path) -> dict[str, Any]:
    """Read and validate a scenario JSON file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"scenario {path} is not valid JSON: {exc}") from exc
    return validate_scenario(data)


# --- reading the conversation ------------------------------------------------------------------------------


def _is_scripted_request(body: Any) -> bool:
    # Side queries (titles, classifiers, summaries) either do not stream or carry no tools; only the main
    # conversation and sub-agents send both.
    return isinstance(body, dict) and bool(body.get("stream")) and bool(body.get("tools"))


def prompt_text(message: dict[str, Any]) -> str | None:
    """The human-typed text of a user message, or None if it holds only tool results and reminders."""
    content = message.get("content")
    if isinstance(content, str):
        return None if content.lstrip().startswith(_SYSTEM_REMINDER) else content
    if not isinstance(content, list):
        return None
    texts = [
        block.get("text", "")
        for block in content
        if isinstance(block, dict)
        and block.get("type") == "text"
        and not str(block.get("text", "")).lstrip().startswith(_SYSTEM_REMINDER)
    ]
    texts = [text for text in texts if text.strip()]
    return "\n".join(texts) if texts else None


def conversation_position(messages: list[Any]) -> tuple[str | None, int]:
    """The last human prompt in `messages` and how many assistant messages follow it."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, dict) and message.get("role") == "user":
            text = prompt_text(message)
            if text is not None:
                after = messages[index + 1 :]
                replies = sum(1 for m in after if isinstance(m, dict) and m.get("role") == "assistant")
                return text, replies
    return None, 0


def choose_step(scenario: dict[str, Any], messages: list[Any]) -> list[dict[str, Any]] | None:
    """The scripted blocks that answer this conversation, or None when the script has nothing (left)."""
    prompt, step_index = conversation_position(messages)
    if prompt is None:
        return None
    for turn in scenario["turns"]:
        if turn["match"] in prompt:
            steps: list[list[dict[str, Any]]] = turn["steps"]
            return steps[step_index] if step_index < len(steps) else None
    return None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def working_directory(body: Any) -> str | None:
    """The working directory the CLI announces in the request (system prompt or system messages)."""
    if not isinstance(body, dict):
        return None
    system_messages = [
        m for m in body.get("messages") or [] if isinstance(m, dict) and m.get("role") == "system"
    ]
    for text in itertools.chain(_strings(body.get("system")), _strings(system_messages)):
        found = _CWD_LINE.search(text)
        if found:
            return found.group(1).strip()
    return None


def fill_placeholders(value: Any, cwd: str | None) -> Any:
    """`value` with `{{cwd}}` replaced in every string (left as is when the cwd is unknown)."""
    if cwd is None:
        return value
    if isinstance(value, str):
        return value.replace(CWD_PLACEHOLDER, cwd)
    if isinstance(value, list):
        return [fill_placeholders(item, cwd) for item in value]
    if isinstance(value, dict):
        return {key: fill_placeholders(item, cwd) for key, item in value.items()}
    return value


# --- building replies --------------------------------------------------------------------------------------


def estimate_tokens(value: Any) -> int:
    """A deterministic token count: one token per 4 characters of the compact JSON (at least 1)."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)
    return max(1, len(text) // 4)


def content_blocks(
    step: list[dict[str, Any]], new_id: Callable[[str], str], cwd: str | None = None
) -> list[dict[str, Any]]:
    """Turn scenario blocks into Messages API content blocks (tool calls get fresh `toolu_` ids)."""
    blocks: list[dict[str, Any]] = []
    for block in step:
        if "tool" in block:
            tool_input = fill_placeholders(block.get("input", {}), cwd)
            blocks.append(
                {"type": "tool_use", "id": new_id("toolu"), "name": block["tool"], "input": tool_input}
            )
        else:
            blocks.append({"type": "text", "text": block["text"]})
    return blocks


def usage_for(body: Any, blocks: list[dict[str, Any]]) -> dict[str, int]:
    """Usage numbers derived from the request and reply sizes, so token stats are checkable."""
    request_part = body.get("messages", []) if isinstance(body, dict) else []
    system = body.get("system", "") if isinstance(body, dict) else ""
    return {
        "input_tokens": estimate_tokens(request_part) + estimate_tokens(system),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": estimate_tokens(blocks),
    }


def _stop_reason(blocks: list[dict[str, Any]]) -> str:
    return "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"


def message_json(
    message_id: str, model: str, blocks: list[dict[str, Any]], usage: dict[str, int]
) -> dict[str, Any]:
    """A complete non-streaming Messages API reply."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": _stop_reason(blocks),
        "stop_sequence": None,
        "usage": usage,
    }


def sse_events(
    message_id: str, model: str, blocks: list[dict[str, Any]], usage: dict[str, int]
) -> Iterator[str]:
    """The server-sent events the real API streams for this reply, each a complete `event:`/`data:` frame."""

    def frame(event: str, data: dict[str, Any]) -> str:
        return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"

    start_usage = dict(usage, output_tokens=1)
    start = message_json(message_id, model, [], start_usage)
    start["stop_reason"] = None
    yield frame("message_start", {"type": "message_start", "message": start})
    yield frame("ping", {"type": "ping"})
    for index, block in enumerate(blocks):
        if block["type"] == "tool_use":
            opened = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        else:
            opened = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        yield frame(
            "content_block_start", {"type": "content_block_start", "index": index, "content_block": opened}
        )
        yield frame("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        yield frame("content_block_stop", {"type": "content_block_stop", "index": index})
    yield frame(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": _stop_reason(blocks), "stop_sequence": None},
            "usage": usage,
        },
    )
    yield frame("message_stop", {"type": "message_stop"})


# --- the server --------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _StubHTTPServer
    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections give up their thread after this long.
    timeout = 30
    # Headers and body go out in two writes; with Nagle on, delayed ACKs add ~40 ms to every reply.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the CLI polls often; a line per request would drown test output

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        try:
            self._respond()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up mid-reply; nothing left to answer
        except Exception as exc:  # a stub bug must answer an error, not hang the CLI on a dropped connection
            self.close_connection = True
            self._send_error(500, "api_error", f"stub error: {type(exc).__name__}: {exc}")

    def _respond(self) -> None:
        try:
            raw = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True  # where the next request starts is unknown now
            self._send_error(400, "invalid_request_error", "unreadable request body")
            return
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                body = None
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        self.server.stub.record(request)
        route = request.route.rstrip("/")
        if request.is_outbound:
            self.close_connection = True  # a refused CONNECT leaves no tunnel to keep open
            self._send_error(403, "permission_error", f"offline stub: no network for {request.path}")
        elif route == "/v1/messages/count_tokens" and self.command == "POST":
            if not isinstance(body, dict):
                self._send_error(400, "invalid_request_error", "body must be a JSON object")
                return
            tokens = estimate_tokens(body.get("messages", [])) + estimate_tokens(body.get("system", ""))
            self._send_json(200, {"input_tokens": tokens})
        elif route == "/v1/messages" and self.command == "POST":
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                self._send_error(400, "invalid_request_error", "body must be a JSON object with messages")
                return
            self._answer_messages(body)
        else:
            self._send_error(
                404, "not_found_error", f"{self.command} {request.route} is not served by the stub"
            )

    def _answer_messages(self, body: dict[str, Any]) -> None:
        stub = self.server.stub
        step: list[dict[str, Any]] | None = None
        if _is_scripted_request(body):
            step = choose_step(stub.script, body["messages"])
            fallback = FALLBACK_TEXT
            if step and "error" in step[0]:
                error = step[0]["error"]
                kind = str(error.get("type") or "api_error")
                self._send_error(int(error["status"]), kind, str(error.get("message") or "scripted error"))
                return
        else:
            fallback = SIDE_QUERY_TEXT
        blocks = content_blocks(step or [{"text": fallback}], stub.new_id, working_directory(body))
        usage = usage_for(body, blocks)
        model = str(body.get("model") or DEFAULT_MODEL)
        message_id = stub.new_id("msg")
        if body.get("stream"):
            payload = "".join(sse_events(message_id, model, blocks, usage)).encode()
            self._send(200, "text/event-stream; charset=utf-8", payload)
        else:
            self._send_json(200, message_json(message_id, model, blocks, usage))

    def _send_error(self, status: int, kind: str, message: str) -> None:
        self._send_json(status, {"type": "error", "error": {"type": kind, "message": message}})

    def _send_json(self, status: int, data: Any) -> None:
        self._send(status, "application/json", json.dumps(data).encode())

    def _send(self, status: int, content_type: str, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("request-id", self.server.stub.new_id("req"))
        if content_type.startswith("text/event-stream"):
            self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    do_POST = _handle
    do_GET = _handle
    do_PUT = _handle
    do_DELETE = _handle
    do_PATCH = _handle
    do_HEAD = _handle
    do_OPTIONS = _handle
    do_CONNECT = _handle


class _StubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Tests start many servers in a row on port 0; a fixed --port should be reusable right after a stop.
    allow_reuse_address = True

    def __init__(self, port: int, stub: StubServer) -> None:
        self.stub = stub
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-reply is not the stub's problem; keep serving


@dataclass
class StubServer:
    """The stub, served from a background thread; use as a context manager or call `start()`/`stop()`.

    `scenario` is a scenario dict or a path to a scenario JSON file. `port=0` picks a free port.
    """

    scenario: dict[str, Any] | Path | str
    port: int = 0
    requests: list[RecordedRequest] = field(default_factory=list, init=False)
    """Every request received, in arrival order."""
    _server: _StubHTTPServer | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1), init=False, repr=False)
    _nonce: str = field(default_factory=lambda: uuid.uuid4().hex[:10], init=False, repr=False)

    script: dict[str, Any] = field(init=False, repr=False)
    """The validated scenario being served."""

    def __post_init__(self) -> None:
        if isinstance(self.scenario, str | Path):
            self.script = load_scenario_file(self.scenario)
        else:
            self.script = validate_scenario(self.scenario)

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`, the value for `ANTHROPIC_BASE_URL`."""
        if self._server is None:
            raise RuntimeError("the stub is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> StubServer:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is None:
            self._server = _StubHTTPServer(self.port, self)
            self._thread = threading.Thread(target=self._server.serve_forever, name="stub-api", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (safe to call twice)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def record(self, request: RecordedRequest) -> None:
        """Append a request to `requests` (called from handler threads)."""
        with self._lock:
            self.requests.append(request)

    def new_id(self, prefix: str) -> str:
        """A fresh id like the API's (`msg_01...`, `toolu_01...`), unique across servers and runs."""
        with self._lock:
            number = next(self._ids)
        return f"{prefix}_01{self._nonce}{number:014d}"

    @property
    def outbound_requests(self) -> list[RecordedRequest]:
        """Requests that tried to reach another host through the stub as proxy (should stay empty)."""
        with self._lock:
            return [r for r in self.requests if r.is_outbound]

    @property
    def main_requests(self) -> list[RecordedRequest]:
        """The scripted (streaming, tool-carrying) message requests received so far."""
        with self._lock:
            return [r for r in self.requests if r.is_main_conversation]


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # one line and status 2, like every other bad-input path of the command
        self.exit(2, f"error: {message} (see --help)\n")


def main(argv: list[str] | None = None) -> int:
    """Command line: serve a scenario until SIGTERM/SIGINT; the first output line is the URL."""
    parser = _ArgumentParser(prog="python -m claude_tui.stub_api", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", required=True, help="scenario JSON file, or a bundled scenario name")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        print(f"error: --port must be between 0 and 65535, not {args.port}", file=sys.stderr)
        return 2
    scenario: dict[str, Any] | Path = Path(args.scenario)
    try:
        if not Path(args.scenario).exists() and "/" not in args.scenario:
            from claude_tui.scenarios import load_scenario

            scenario = load_scenario(args.scenario)
        stub = StubServer(scenario, port=args.port).start()
    except (ScenarioError, KeyError) as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    # Before the URL goes out: whoever reads it may stop us at once (a SIGTERM before the handler is set
    # would kill the process with no clean stop; the server thread can answer before this thread gets here).
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(stub.url, flush=True)
    done.wait()
    stub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
