"""Which source counts what: a session's tokens and cost from its transcript (claude-tui), from the CLI's
own `cost-state` record, from the CLI's OpenTelemetry export, and from ccusage, on sessions of the real pinned
CLI against the offline stub.

Not a speed benchmark: it prints the agreement table docs/parsing.md quotes ("What matches what"), so that
its figures are reproducible by `make bench`. The stub is deterministic; only the work dir's temporary
name, which is in the prompt, moves the token counts by a few between runs (never the agreements). Sessions:

- `plain -p`: the realistic scenario's two prompts, non-interactive (`claude -p`, then `--resume`);
- `interactive`: its first prompt typed into the interactive CLI, then `/exit`;
- `interactive + /compact`: the same, then `/compact` and one more prompt;
- `workflow`: a `Workflow` tool run whose two agents write their transcripts to
  `<session>/subagents/workflows/<run>/`.

Every CLI process gets the environment a tracked `claude` gets (`claude_code.telemetry_env`), pointed at a
local receiver; its payloads are folded by `parsing.otlp.TelemetryIntake`, as in a tracked session.

Run: `.venv/bin/python -m benchmarks.bench_sources [--no-ccusage]` (from the project root).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from claude_tui.claude_code import telemetry_env
from claude_tui.claude_env import ClaudeEnvironment
from claude_tui.parsing import stats_for_transcript
from claude_tui.parsing.otlp import CliTelemetry, TelemetryIntake
from claude_tui.scenarios import load_scenario, scenario_prompts
from claude_tui.stub_api import StubServer
from tests.support.claude_cli import InteractiveClaude
from tests.support.otlp_receiver import Receiver

WORKFLOW_SCRIPT = """export const meta = { name: 'summarise', description: 'Two agents', phases: ['read'] }
const files = await agent('WORKFLOW-AGENT-ONE: list the files')
const readme = await agent('WORKFLOW-AGENT-TWO: read the readme')
return [files, readme]
"""
WORKFLOW_SCENARIO: dict[str, Any] = {
    "turns": [
        {
            "match": "run the workflow",
            "steps": [[{"tool": "Workflow", "input": {"script": WORKFLOW_SCRIPT}}], [{"text": "Finished."}]],
        },
        {
            "match": "WORKFLOW-AGENT-ONE",
            "steps": [
                [{"tool": "Bash", "input": {"command": "ls", "description": "List"}}],
                [{"text": "Ok."}],
            ],
        },
        {
            "match": "WORKFLOW-AGENT-TWO",
            "steps": [[{"tool": "Read", "input": {"file_path": "{{cwd}}/README.md"}}], [{"text": "Ok."}]],
        },
    ]
}


def _print_mode(env: ClaudeEnvironment, prompts: list[str], extra: tuple[str, ...] = ()) -> str:
    session_id = str(uuid.uuid4())
    for index, prompt in enumerate(prompts):
        resume = ("--resume", session_id)
        argv = env.argv(prompt, session_id=session_id) if index == 0 else env.argv(prompt, extra=resume)
        subprocess.run(
            [*argv, *extra], cwd=env.work_dir, env=env.env(), capture_output=True, timeout=300, check=True
        )
    return session_id


def _interactive(env: ClaudeEnvironment, prompts: list[str]) -> str:
    session_id = str(uuid.uuid4())
    with InteractiveClaude(env, session_id=session_id) as cli:
        cli.start()
        cli.pump(3)
        for prompt in prompts:
            cli.submit(prompt)
            if not cli.wait_for_turn_end(timeout=120):
                raise RuntimeError(f"no turn end after {prompt!r}")
        if cli.exit() != 0:
            raise RuntimeError("the interactive CLI did not exit cleanly")
    return session_id


def _cost_state(transcript: Path) -> tuple[int, int, float] | None:
    """(input tokens, output tokens, USD) of the transcript's last cost-state record."""
    last = None
    for line in transcript.read_text().splitlines():
        if '"cost-state"' in line:
            record = json.loads(line)
            if record.get("type") == "cost-state":
                last = record
    if last is None:
        return None
    usage = (last.get("modelUsage") or {}).values()
    return (
        sum(int(u.get("inputTokens") or 0) for u in usage),
        sum(int(u.get("outputTokens") or 0) for u in usage),
        float(last.get("totalCostUSD") or 0.0),
    )


def _ccusage(config_dir: Path) -> tuple[int, int, float, int] | None:
    """(input, output, USD, sessions it reports) from `ccusage claude session --json --offline`."""
    from benchmarks.bench_parse import ensure_ccusage

    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "ANTHROPIC_"))}
    env["CLAUDE_CONFIG_DIR"] = str(config_dir)
    out = subprocess.run(
        [str(ensure_ccusage()), "claude", "session", "--json", "--offline"],
        env=env,
        capture_output=True,
        timeout=120,
        check=True,
    ).stdout
    data = json.loads(out)
    totals = data["totals"]
    cost = sum(float(s.get("totalCost") or 0.0) for s in data["sessions"])
    return int(totals["inputTokens"]), int(totals["outputTokens"]), cost, len(data["sessions"])


def _telemetry(receiver: Receiver) -> CliTelemetry:
    """The CLI's telemetry the receiver got, folded as a tracked session folds it."""
    intake = TelemetryIntake()
    for post in receiver.take():
        handler = intake.logs if post["route"] == "logs" else intake.metrics
        handler(json.dumps(post["body"]).encode())
    intake.take()
    return intake.telemetry


def _with_telemetry(env: ClaudeEnvironment, endpoint: str) -> None:
    """Make every CLI `env` starts export its telemetry to `endpoint`, as a tracked `claude` does."""
    exported = {k: v for k, v in telemetry_env(endpoint).items() if v is not None}
    plain = env.env
    env.env = lambda extra=None: plain({**exported, **(extra or {})})  # type: ignore[method-assign]


SESSIONS: dict[str, tuple[str | dict[str, Any], Callable[[ClaudeEnvironment], str]]] = {
    "plain -p (2 prompts)": ("realistic", lambda env: _print_mode(env, scenario_prompts("realistic"))),
    "interactive (1 prompt)": ("realistic", lambda env: _interactive(env, scenario_prompts("realistic")[:1])),
    "interactive + /compact": (
        "realistic",
        lambda env: _interactive(env, [scenario_prompts("realistic")[0], "/compact", "say hi"]),
    ),
    "workflow (nested sub-agents)": (
        WORKFLOW_SCENARIO,
        lambda env: _print_mode(env, ["run the workflow please"], ("--allowedTools", "Workflow")),
    ),
}


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run each session, print the agreement table, return its rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-ccusage", action="store_true", help="leave ccusage out")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    for name, (scenario, run) in SESSIONS.items():
        script = load_scenario(scenario) if isinstance(scenario, str) else scenario
        receiver = Receiver()
        with tempfile.TemporaryDirectory(prefix="bench-sources-") as tmp, StubServer(script) as stub:
            env = ClaudeEnvironment.create(Path(tmp), stub.url)
            _with_telemetry(env, receiver.endpoint)
            session_id = run(env)
            transcript = env.transcript_path(session_id)
            if transcript is None:
                raise RuntimeError(f"{name}: no transcript")
            stats = stats_for_transcript(transcript)
            cli = _cost_state(transcript)
            otel = _telemetry(receiver)
            receiver.close()
            ccusage = None if args.no_ccusage else _ccusage(env.config_dir)
        row: dict[str, Any] = {
            "session": name,
            "transcript (claude-tui) in / out": f"{stats.input_tokens:,} / {stats.output_tokens:,}",
            "transcript USD (genai-prices)": stats.cost_usd,
            "cost-state in / out": f"{cli[0]:,} / {cli[1]:,}" if cli else "-",
            "cost-state USD": round(cli[2], 6) if cli else "-",
            "telemetry in / out (requests)": f"{otel.tokens('input'):,} / {otel.tokens('output'):,}"
            f" ({len(otel.requests)})"
            if otel.received
            else "-",
            "telemetry USD": otel.cost_usd if otel.has_cost else "-",
            "ccusage in / out (sessions)": f"{ccusage[0]:,} / {ccusage[1]:,} ({ccusage[3]})"
            if ccusage
            else "-",
            "ccusage USD": round(ccusage[2], 6) if ccusage else "-",
            "load": round(os.getloadavg()[0], 2),
        }
        rows.append(row)
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join(" --- " for _ in columns) + "|")
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
