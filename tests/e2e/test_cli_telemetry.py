"""The CLI's own telemetry as a tracked session receives it: the real CLI in the app's pane, and its run.

One prompt of the realistic scenario, then `/exit`. The CLI exports its OpenTelemetry to the session's
route on claude-tui's endpoint (`claude_code.telemetry_env`); the run's `cli_*` metrics must equal the CLI's
own totals, its last `cost-state` record in the transcript. A user who exports the CLI's telemetry
themselves keeps getting all of it, and claude-tui then receives none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from claude_tui.app import ClaudeTuiApp
from claude_tui.claude_env import SCRIPTED_FLAGS
from claude_tui.scenarios import scenario_prompts
from claude_tui.session import SessionConfig, SessionResult, TrackedSession
from claude_tui.widgets.sidebar import StatRow
from claude_tui.widgets.terminal import TerminalPane
from tests.helpers import exit_claude, wait_for
from tests.support.otlp_receiver import Receiver

pytestmark = pytest.mark.slow


async def run_one_prompt(
    env: Any,
    tmp_path: Path,
    shown: Callable[[TrackedSession, str], bool],
    extra_env: dict[str, str] | None = None,
) -> tuple[TrackedSession, SessionResult, str, list[str]]:
    """The realistic scenario's first prompt in the app, then (once `shown(session, cost row)` holds: the
    CLI's events of the turn have been exported) /exit; the session, its outcome, the store, and the cost
    row of the sidebar as drawn before the exit."""
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = SessionConfig(
        command=str(env.claude_bin),
        claude_args=list(SCRIPTED_FLAGS),
        prompt=scenario_prompts("realistic")[0],
        cwd=env.work_dir,
        env=env.env(extra_env),
        config_dir=env.config_dir,
        tracking_uri=store,
        experiment="e2e",
    )
    session = TrackedSession(config)
    session.start(100, 36)
    app = ClaudeTuiApp(session, tracking_uri=store, experiment="e2e")
    rows: list[str] = []
    async with app.run_test(size=(140, 42)) as pilot:
        pane = app.query_one(TerminalPane)
        await wait_for(
            pilot,
            lambda: session.stats["turns"] >= 1 and session.stats["tool_uses"] >= 7,
            120,
            "the first turn",
        )
        row = lambda: app.query_one("#stat-cost", StatRow).text  # noqa: E731
        await wait_for(pilot, lambda: shown(session, row()), 60, "the turn's telemetry", describe=row)
        rows.append(row())
        outcome = await exit_claude(pilot, app, pane)
    assert isinstance(outcome, SessionResult)
    return session, outcome, store, rows


def log_names(posts: list[dict[str, Any]]) -> list[str]:
    """The names of the log records (the CLI's events) in an OTLP receiver's posts."""
    return [
        record["body"]["stringValue"]
        for post in posts
        if post["route"] == "logs"
        for resource in post["body"]["resourceLogs"]
        for scope in resource["scopeLogs"]
        for record in scope["logRecords"]
    ]


def cost_state(transcript: Path) -> dict[str, Any]:
    """The CLI's own running totals: its last `cost-state` record."""
    records = [json.loads(line) for line in transcript.read_text().splitlines() if '"cost-state"' in line]
    assert records, "no cost-state record in the transcript"
    return records[-1]


async def test_the_runs_cli_metrics_are_the_clis_own_totals(claude_env: Any, tmp_path: Path) -> None:
    env = claude_env("realistic")

    def the_clis_total(session: TrackedSession, row: str) -> bool:
        """An api_request event per request of the turn has come in, and the sidebar shows their cost."""
        intake = session.telemetry
        cli = intake.telemetry if intake is not None else None
        if cli is None or len(cli.requests) < len(env.stub.main_requests) or not cli.cost_usd:
            return False
        return row.split()[0] == "Cost" and row.split()[-1] == f"${cli.cost_usd:.3f}"

    session, outcome, store, rows = await run_one_prompt(env, tmp_path, the_clis_total)
    assert session.telemetry_mode == "cli" and session.telemetry is not None
    assert session.telemetry.rejected == 0, session.telemetry.last_error

    from mlflow import MlflowClient

    client = MlflowClient(store)
    run = client.get_run(outcome.run_id)
    metrics, tags = run.data.metrics, run.data.tags
    transcript = env.transcript_path(session.config.session_id)
    assert transcript is not None
    state = cost_state(transcript)
    usage = state["modelUsage"].values()
    assert tags["claude.telemetry"] == "received"
    assert metrics["cli_cost_usd"] == pytest.approx(state["totalCostUSD"], abs=1e-6)
    assert metrics["cli_input_tokens"] == sum(u["inputTokens"] for u in usage)
    assert metrics["cli_output_tokens"] == sum(u["outputTokens"] for u in usage)
    assert metrics["cli_cache_read_tokens"] == sum(u["cacheReadInputTokens"] for u in usage)
    assert metrics["cli_cache_creation_tokens"] == sum(u["cacheCreationInputTokens"] for u in usage)
    # An api_request per request the CLI made: each scripted step, and its side requests.
    assert metrics["api_requests"] >= len(env.stub.main_requests) > 0 and metrics["api_errors"] == 0
    assert 0 <= metrics["ttft_ms_p50"] <= metrics["ttft_ms_p95"]
    # The transcript's own figure is kept beside it; on this session (no side request) they agree.
    assert metrics["cost_usd"] == pytest.approx(metrics["cli_cost_usd"], rel=1e-3)

    # The sidebar showed the CLI's figure, labelled as such, while the session ran.
    snap = session.snapshot()
    assert snap.cost_source == "cli" and snap.cost_usd == pytest.approx(state["totalCostUSD"], abs=1e-6)
    assert rows[0].split()[0] == "Cost" and rows[0].split()[-1] == f"${state['totalCostUSD']:.3f}"

    # What arrived is an artifact, and the summary says where it came from.
    local = client.download_artifacts(outcome.run_id, "telemetry.jsonl", str(tmp_path))
    lines = [json.loads(line) for line in Path(local).read_text().splitlines()]
    assert any(line["type"] == "api_request" for line in lines)
    summary = json.loads(
        Path(client.download_artifacts(outcome.run_id, "summary.json", str(tmp_path))).read_text()
    )
    assert summary["telemetry"]["cli_cost_usd"] == metrics["cli_cost_usd"]


async def test_a_users_own_telemetry_export_is_left_as_it_is(claude_env: Any, tmp_path: Path) -> None:
    """The user exports Claude Code's telemetry to their own collector: it keeps getting everything, the
    CLI is not pointed elsewhere, and the run says that claude-tui received none."""
    env = claude_env("realistic")
    theirs = Receiver()
    try:
        users = {
            "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
            "OTEL_LOGS_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "OTEL_EXPORTER_OTLP_ENDPOINT": theirs.endpoint,
            "OTEL_LOGS_EXPORT_INTERVAL": "1000",
        }

        def theirs_has_the_requests(session: TrackedSession, row: str) -> bool:
            with theirs.lock:
                posts = list(theirs.posts)
            return log_names(posts).count("claude_code.api_request") >= len(env.stub.main_requests) > 0

        session, outcome, store, rows = await run_one_prompt(env, tmp_path, theirs_has_the_requests, users)
        posts = theirs.take()
    finally:
        theirs.close()
    assert session.telemetry_mode == "user" and session.telemetry is None
    assert {k: session.env[k] for k in users} == users  # their environment, untouched
    names = log_names(posts)
    assert names.count("claude_code.api_request") >= len(env.stub.main_requests) > 0
    assert any(post["route"] == "metrics" for post in posts)

    from mlflow import MlflowClient

    run = MlflowClient(store).get_run(outcome.run_id)
    assert run.data.tags["claude.telemetry"] == "user exporter"
    assert not any(name.startswith("cli_") for name in run.data.metrics)
    assert rows[0].split()[:2] == ["Est.", "cost"]
