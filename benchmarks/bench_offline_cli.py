"""Benchmark: the offline Messages API stub and the real Claude Code CLI running against it.

Side by side in one run, interleaved, medians of several rounds:

- stub, one streamed main-conversation reply (SSE, a text and a tool call) over a kept-alive connection;
- stub, one non-streaming side-query reply;
- real CLI, one scripted non-interactive session (`claude -p`, the realistic scenario's first prompt: 8 API
  requests, 7 tool calls) from spawn to exit;
- real CLI, interactive start-up in a 120x40 PTY until the prompt box is drawn.

Run: `.venv/bin/python -m benchmarks.bench_offline_cli [--rounds 5] [--requests 200]` (from the project root).
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from claude_tui.claude_env import ClaudeEnvironment
from claude_tui.scenarios import load_scenario, scenario_prompts
from claude_tui.stub_api import StubServer
from tests.support.claude_cli import InteractiveClaude

TOOLS = [{"name": "Bash", "input_schema": {"type": "object"}}]


def _stub_request(conn: http.client.HTTPConnection, body: dict[str, Any]) -> None:
    conn.request(
        "POST", "/v1/messages?beta=true", body=json.dumps(body), headers={"content-type": "application/json"}
    )
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"stub answered {response.status}")


def time_stub(stub: StubServer, streaming: bool, requests: int) -> list[float]:
    """Seconds per request, one kept-alive connection."""
    port = int(stub.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    prompt = scenario_prompts("realistic")[0]
    body: dict[str, Any] = {
        "model": "m",
        "messages": [{"role": "user", "content": prompt}],
        "system": "x" * 20_000,
    }
    if streaming:
        body.update(stream=True, tools=TOOLS)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        _stub_request(conn, body)
        times.append(time.perf_counter() - start)
    conn.close()
    return times


def time_cli_session(stub: StubServer, root: Path) -> float:
    env = ClaudeEnvironment.create(root / uuid.uuid4().hex[:8], stub.url)
    start = time.perf_counter()
    done = env.run(scenario_prompts("realistic")[0], session_id=str(uuid.uuid4()))
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"claude exited {done.returncode}: {done.stderr[-300:]}")
    return elapsed


def time_cli_startup(stub: StubServer, root: Path) -> float:
    env = ClaudeEnvironment.create(root / uuid.uuid4().hex[:8], stub.url)
    claude = InteractiveClaude(env)
    start = time.perf_counter()
    with claude:
        if not claude.wait_for_text("❯", timeout=60):
            raise RuntimeError("no prompt box")
        elapsed = time.perf_counter() - start
        claude.exit()
    return elapsed


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the cases interleaved, print a markdown table of medians; returns its rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="stub requests per round")
    args = parser.parse_args(argv)

    samples: dict[str, list[float]] = {}
    root = Path(tempfile.mkdtemp(prefix="bench-offline-"))
    try:
        with StubServer(load_scenario("realistic")) as stub:
            cases: dict[str, Callable[[], list[float]]] = {
                "stub: streamed reply (SSE, text + tool_use)": lambda: time_stub(stub, True, args.requests),
                "stub: non-streaming side query": lambda: time_stub(stub, False, args.requests),
                "claude -p: realistic prompt 1 (8 requests)": lambda: [time_cli_session(stub, root)],
                "claude interactive: spawn to prompt box": lambda: [time_cli_startup(stub, root)],
            }
            for _ in range(args.rounds):
                for name, case in cases.items():
                    samples.setdefault(name, []).extend(case())
    finally:
        shutil.rmtree(root, ignore_errors=True)

    rows = [
        {
            "case": name,
            "n": len(times),
            "median_ms": round(statistics.median(times) * 1000, 2),
            "min_ms": round(min(times) * 1000, 2),
            "max_ms": round(max(times) * 1000, 2),
        }
        for name, times in samples.items()
    ]
    print("| case | n | median ms | min ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(f"| {row['case']} | {row['n']} | {row['median_ms']} | {row['min_ms']} | {row['max_ms']} |")
    return rows


if __name__ == "__main__":
    main()
