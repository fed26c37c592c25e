"""Builders for transcript records shaped like the ones Claude Code 2.1.328 writes (compact JSON lines)."""

from __future__ import annotations

import json
from typing import Any

SESSION = "11111111-2222-4333-8444-555555555555"
BASE = {
    "userType": "external",
    "entrypoint": "cli",
    "cwd": "/work/repo",
    "sessionId": SESSION,
    "version": "2.1.328",
    "gitBranch": "main",
}


def line(record: Any) -> str:
    """One transcript line: compact JSON and a newline, as the CLI's JSON.stringify writes it."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"


def prompt(text: str, ts: str = "2026-11-27T06:17:52.531Z", **extra: Any) -> dict[str, Any]:
    """A typed prompt."""
    return {
        "parentUuid": None,
        "isSidechain": False,
        "type": "user",
        "message": {"role": "user", "content": text},
        "timestamp": ts,
        "permissionMode": "acceptEdits",
        "origin": {"kind": "human"},
        "promptSource": "typed",
        **BASE,
        **extra,
    }


def usage(inp: int = 100, out: int = 10, read: int = 0, write: int = 0, one_hour: int = 0) -> dict[str, Any]:
    """An API usage object."""
    return {
        "input_tokens": inp,
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
        "output_tokens": out,
        "cache_creation": {
            "ephemeral_1h_input_tokens": one_hour,
            "ephemeral_5m_input_tokens": write - one_hour,
        },
    }


def assistant(
    msg_id: str,
    block: dict[str, Any],
    *,
    use: dict[str, Any] | None = None,
    model: str = "claude-sonnet-4-5-20250929",
    request_id: str | None = None,
    stop: str = "tool_use",
    ts: str = "2026-11-27T06:17:53.000Z",
    **extra: Any,
) -> dict[str, Any]:
    """One assistant record carrying one content block (the CLI writes one record per block)."""
    return {
        "parentUuid": "p",
        "isSidechain": False,
        "message": {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [block],
            "stop_reason": stop,
            "usage": use if use is not None else usage(),
        },
        "requestId": request_id or f"req_{msg_id}",
        "type": "assistant",
        "timestamp": ts,
        **BASE,
        **extra,
    }


def tool_use(tool_id: str, name: str, **tool_input: Any) -> dict[str, Any]:
    """A tool_use block."""
    return {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}


def text(value: str) -> dict[str, Any]:
    """A text block."""
    return {"type": "text", "text": value}


def result(tool_id: str, content: Any = "ok", is_error: Any = "absent", **extra: Any) -> dict[str, Any]:
    """A user record with one tool_result; `is_error` left out unless given (True, False or None)."""
    block: dict[str, Any] = {"type": "tool_result", "content": content, "tool_use_id": tool_id}
    if is_error != "absent":
        block["is_error"] = is_error
    return {
        "parentUuid": "p",
        "isSidechain": False,
        "type": "user",
        "message": {"role": "user", "content": [block]},
        "timestamp": "2026-11-27T06:17:54.000Z",
        **BASE,
        **extra,
    }


def turn_duration(ms: int) -> dict[str, Any]:
    """The record the interactive CLI writes at the end of a turn."""
    return {
        "isSidechain": False,
        "type": "system",
        "subtype": "turn_duration",
        "durationMs": ms,
        "timestamp": "2026-11-27T06:17:55.000Z",
        "isMeta": False,
        **BASE,
    }


def attachment(size: int = 2000) -> dict[str, Any]:
    """A bulky record that does not matter for stats (like the CLI's prompt snapshots)."""
    return {
        "parentUuid": "p",
        "isSidechain": False,
        "attachment": {"type": "prompt_snapshot", "systemPrompt": ["x" * size]},
        "type": "attachment",
        "uuid": "u",
        "timestamp": "2026-11-27T06:17:52.600Z",
        **BASE,
    }


def realistic_session() -> list[dict[str, Any]]:
    """A two-prompt session: a failing command and a git compound in one message, a Read, a Write."""
    return [
        {"type": "permission-mode", "permissionMode": "acceptEdits", "sessionId": SESSION},
        {"type": "file-history-snapshot", "messageId": "m0", "snapshot": {"trackedFileBackups": {}}},
        prompt("close-issue 583"),
        attachment(),
        assistant("msg_1", text("Let me look."), use=usage(4406, 84, 10, 20)),
        assistant("msg_1", tool_use("t1", "Bash", command="ls /nope"), use=usage(4406, 84, 10, 20)),
        assistant(
            "msg_1",
            tool_use("t2", "Bash", command="cd repo && git add x && git commit -m y"),
            use=usage(4406, 84, 10, 20),
        ),
        result("t1", "Exit code 2\nls: cannot access '/nope': No such file or directory", True),
        result("t2", "[main 1a2b3c] y", False),
        assistant("msg_2", tool_use("t3", "Read", file_path="/work/repo/a.py"), use=usage(4589, 29)),
        result("t3", "1\thello", None),
        assistant("msg_3", text("All done."), use=usage(4658, 9), stop="end_turn"),
        turn_duration(1500),
        prompt("second prompt", ts="2026-11-27T06:18:00.516Z"),
        assistant(
            "msg_4", tool_use("t4", "Write", file_path="/work/repo/b.py", content="x"), use=usage(5000, 34)
        ),
        result("t4", "File created successfully"),
        assistant("msg_5", text("wrote"), use=usage(5100, 8), stop="end_turn"),
        turn_duration(500),
        {"type": "cost-state", "sessionId": SESSION, "totalCostUSD": 0.1},
    ]
