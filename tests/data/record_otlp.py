"""Record the OpenTelemetry the real Claude Code CLI exports, into `tests/data/otlp/<name>.json`.

    .venv/bin/python tests/data/record_otlp.py [NAME...]

The pinned CLI against the stub, with the environment claude-tui gives a tracked `claude`
(`claude_code.telemetry_env`) pointing at a local OTLP/http receiver. Each data set is one or more CLI
processes; for each, every payload it posted (`route` `logs` or `metrics`, the parsed JSON body, and `t`,
seconds since the process started) and, read from the transcripts afterwards, the CLI's own `cost-state`
totals (the last `cost-state` record of each transcript the process wrote):

- `print`: the realistic scenario's first prompt, `claude -p` (tools, one failing Bash call, a commit);
- `subagent`: the subagent scenario, `claude -p`: an `Agent` whose requests run in a sub-agent;
- `interactive`: the interactive CLI (120x40): the realistic first prompt, `/compact`, a prompt, `/clear`,
  a prompt, `/exit`; events every second and metrics every 2 s, so that several deltas arrive;
- `api_errors`: `claude -p` with a prompt whose second request gets a 400 and another whose request gets
  529s until the retries (`CLAUDE_CODE_MAX_RETRIES=1`) are spent;
- `cumulative`: the failing scenario, `claude -p`, with the user's
  `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=cumulative` and metrics every 0.5 s.

Ids, times and (by a few tokens, the work dir's name is in the prompt) token counts differ between
recordings.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from claude_tui.claude_code import telemetry_env  # noqa: E402
from claude_tui.claude_env import ClaudeEnvironment  # noqa: E402
from claude_tui.scenarios import load_scenario, scenario_prompts  # noqa: E402
from claude_tui.stub_api import StubServer  # noqa: E402
from tests.support.claude_cli import InteractiveClaude, read_jsonl  # noqa: E402
from tests.support.otlp_receiver import Receiver  # noqa: E402

DATA = Path(__file__).resolve().parent / "otlp"

ERRORS_SCENARIO: dict[str, Any] = {
    "turns": [
        {
            "match": "Break on the second request",
            "steps": [
                [{"tool": "Bash", "input": {"command": "echo hi", "description": "Say hi"}}],
                [{"error": {"status": 400, "type": "invalid_request_error", "message": "scripted failure"}}],
            ],
        },
        {
            "match": "Overloaded",
            "steps": [[{"error": {"status": 529, "type": "overloaded_error", "message": "Overloaded"}}]],
        },
    ]
}


def cost_states(env: ClaudeEnvironment) -> dict[str, Any]:
    """The last `cost-state` record of each transcript in the config dir, by session id."""
    found: dict[str, Any] = {}
    for path in env.transcripts():
        states = [r for r in read_jsonl(path) if r.get("type") == "cost-state"]
        if states:
            last = states[-1]
            found[path.stem] = {
                "totalCostUSD": last.get("totalCostUSD"),
                "modelUsage": last.get("modelUsage"),
            }
    return found


def run_print(
    env: ClaudeEnvironment, receiver: Receiver, prompts: list[str], extra_env: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    processes = []
    session_id = str(uuid.uuid4())
    program_env = env.env({k: v for k, v in telemetry_env(receiver.endpoint).items() if v is not None})
    program_env.update(extra_env or {})
    for index, prompt in enumerate(prompts):
        receiver.take()
        extra = ["--resume", session_id] if index else []
        argv = env.argv(prompt, session_id=None if index else session_id, extra=extra)
        done = subprocess.run(
            argv, cwd=env.work_dir, env=program_env, capture_output=True, text=True, timeout=300
        )
        time.sleep(0.5)
        processes.append(
            {
                "prompt": prompt,
                "exit_code": done.returncode,
                "posts": receiver.take(),
                "cost_state": cost_states(env),
            }
        )
    return processes


def run_interactive(env: ClaudeEnvironment, receiver: Receiver) -> list[dict[str, Any]]:
    telemetry = {k: v for k, v in telemetry_env(receiver.endpoint).items() if v is not None}
    telemetry["OTEL_METRIC_EXPORT_INTERVAL"] = "2000"
    plain_env = env.env
    env.env = lambda extra=None: plain_env({**telemetry, **(extra or {})})  # type: ignore[method-assign]
    prompts = [scenario_prompts("realistic")[0], "/compact", "say hi", "/clear", "say hi again"]
    receiver.take()
    with InteractiveClaude(env, session_id=str(uuid.uuid4())) as claude:
        claude.pump(3)
        for prompt in prompts:
            claude.submit(prompt)
            if not claude.wait_for_turn_end(timeout=120) and not prompt.startswith("/clear"):
                sys.exit(f"no turn end after {prompt!r}")
            claude.pump(2.5)
        code = claude.exit()
    time.sleep(0.5)
    return [{"prompts": prompts, "exit_code": code, "posts": receiver.take(), "cost_state": cost_states(env)}]


SESSIONS: dict[
    str, tuple[str | dict[str, Any], Callable[[ClaudeEnvironment, Receiver], list[dict[str, Any]]]]
] = {
    "print": ("realistic", lambda env, r: run_print(env, r, scenario_prompts("realistic")[:1])),
    "subagent": ("subagent", lambda env, r: run_print(env, r, scenario_prompts("subagent")[:1])),
    "interactive": ("realistic", run_interactive),
    "api_errors": (
        ERRORS_SCENARIO,
        lambda env, r: run_print(
            env,
            r,
            ["Break on the second request, please", "Overloaded? Try once more"],
            {"CLAUDE_CODE_MAX_RETRIES": "1"},
        ),
    ),
    "cumulative": (
        "failing",
        lambda env, r: run_print(
            env,
            r,
            scenario_prompts("failing")[:1],
            {
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "cumulative",
                "OTEL_METRIC_EXPORT_INTERVAL": "500",
            },
        ),
    ),
}


def dump(data: dict[str, Any]) -> str:
    """Compact JSON with one payload a line (readable diffs, a third of the indented size)."""

    def compact(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    processes = []
    for process in data["processes"]:
        head = compact({k: v for k, v in process.items() if k != "posts"})[:-1]
        posts = ",\n".join(compact(post) for post in process["posts"])
        processes.append(f'{head},"posts":[\n{posts}\n]}}')
    head = compact({k: v for k, v in data.items() if k != "processes"})[:-1]
    return f'{head},"processes":[\n' + ",\n".join(processes) + "\n]}\n"


def main(names: list[str]) -> None:
    DATA.mkdir(exist_ok=True)
    version = subprocess.run(
        [str(ROOT / ".claude-cli/node_modules/.bin/claude"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    for name in names or list(SESSIONS):
        scenario, run = SESSIONS[name]
        script = load_scenario(scenario) if isinstance(scenario, str) else scenario
        receiver = Receiver()
        try:
            with tempfile.TemporaryDirectory(prefix="record-otlp-") as tmp, StubServer(script) as stub:
                env = ClaudeEnvironment.create(Path(tmp), stub.url)
                processes = run(env, receiver)
                if stub.outbound_requests:
                    sys.exit(f"{name}: the CLI tried to reach {stub.outbound_requests[0].path}")
        finally:
            receiver.close()
        data = {"name": name, "cli_version": version, "processes": processes}
        text = dump(data).replace(receiver.endpoint, "ENDPOINT")
        (DATA / f"{name}.json").write_text(text)
        posts = sum(len(p["posts"]) for p in processes)
        print(f"{name}: {len(processes)} process(es), {posts} payloads, {len(text) // 1024} KiB")


if __name__ == "__main__":
    main(sys.argv[1:])
