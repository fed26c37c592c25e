"""The product, end to end: the real CLI in the app's pane, live sidebar counts, and the MLflow run it leaves.

The realistic scenario (claude_tui/scenarios/realistic.json) scripts, in its two prompts and one sub-agent:
Bash `git status`, Read app.py, Edit app.py, Write test_app.py, Bash python, Bash `cat CHANGELOG.md` (fails:
no such file), Bash `git add ... && git commit ...`; then Agent (sub-agent: Bash `git show --stat HEAD`, Read
app.py) and Bash `git log --oneline`. The expected numbers below are counted by hand from that file.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from claude_tui.app import ClaudeTuiApp
from claude_tui.claude_env import SCRIPTED_FLAGS
from claude_tui.scenarios import scenario_prompts
from claude_tui.session import SessionConfig, SessionResult, TrackedSession
from claude_tui.widgets.sidebar import SessionSidebar, StatRow
from claude_tui.widgets.terminal import TerminalPane
from tests.helpers import pane_text, type_exit, type_prompt, wait_for, wait_until

pytestmark = pytest.mark.slow

EXPECTED = {
    "tool_uses": 11,
    "commands_executed": 6,
    "git_operations": 5,  # status, add, commit, log, show
    "errors_encountered": 1,
    "user_prompts": 2,
    "subagent_tool_uses": 2,
    "files_read": 1,  # app.py, read twice
    "files_modified": 2,  # app.py (Edit), test_app.py (Write)
}
EXPECTED_BY_TOOL = {"Agent": 1, "Bash": 6, "Edit": 1, "Read": 2, "Write": 1}

SEED_SEARCHES = {
    # search -> whether the session must be found
    "metrics.success = 1": True,
    "metrics.errors_encountered > 0": True,
    "metrics.commands_executed > 10": False,
    "metrics.duration_seconds > 30": None,  # depends on how fast this machine runs the CLI: checked below
    'tags.type = "claude_session"': True,
    'params.issue_number = "123"': True,
    'params.procedure_name = "close-issue"': False,
    'params.procedure_name = "extract-best-frame" AND metrics.success = 0': False,
}


def sidebar_value(app: ClaudeTuiApp, stat: str) -> str:
    """The value part of a sidebar row as drawn (`Commands        6` -> `6`); "" before the rows are there."""
    if not app.query_one(SessionSidebar).rows_mounted:
        return ""
    row = app.query_one(f"#stat-{stat}", StatRow)
    return row.text.split()[-1]


async def test_tracked_session_counts_and_mlflow_run(claude_env: Any, tmp_path: Path) -> None:
    env = claude_env("realistic")
    prompts = scenario_prompts("realistic")
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = SessionConfig(
        command=str(env.claude_bin),
        claude_args=list(SCRIPTED_FLAGS),
        prompt=prompts[0],
        cwd=env.work_dir,
        env=env.env(),
        config_dir=env.config_dir,
        tracking_uri=store,
        experiment="e2e",
        tags={"team": "core"},
        issue_number="123",
    )
    session = TrackedSession(config)
    session.start(100, 36)
    app = ClaudeTuiApp(session, tracking_uri=store, experiment="e2e")

    async with app.run_test(size=(140, 42)) as pilot:
        pane = app.query_one(TerminalPane)
        assert app.focused is pane, "the pane has focus at start so typing goes to Claude"
        await wait_for(
            pilot,
            lambda: session.stats["turns"] >= 1 and session.stats["tool_uses"] >= 7,
            120,
            "the first turn",
        )
        await type_prompt(pilot, pane, prompts[1])
        await wait_for(
            pilot,
            lambda: session.stats["turns"] >= 2 and session.stats["tool_uses"] >= EXPECTED["tool_uses"],
            120,
            "the second turn",
        )
        shown = ("commands_executed", "tool_uses", "errors_encountered", "user_prompts", "git_operations")
        await wait_for(
            pilot,
            lambda: all(sidebar_value(app, stat) == str(EXPECTED[stat]) for stat in shown),
            30,
            "the sidebar to show the final counts (at its next poll)",
            describe=lambda: str({stat: sidebar_value(app, stat) for stat in shown}),
        )
        for stat, value in EXPECTED.items():
            assert session.stats[stat] == value, stat
        assert app.query_one("#stat-errors_encountered", StatRow).has_class("-bad")
        assert "cat: CHANGELOG.md" in str(app.query_one("#last-error").content)
        assert app.query_one(SessionSidebar).query_one("#tools-by-name").content

        # The reviewer sub-agent runs in the background and may outlast the turn's counts (or even its last
        # answer): a /exit then makes Claude ask (a session left running once at load 6-14). Typed once Claude
        # is idle after the turn's last answer, as a person would.
        done = lambda: "The history is clean" in pane_text(pane) and session.snapshot().state == "idle"  # noqa: E731
        await wait_for(
            pilot, done, 120, "Claude idle after the last answer", describe=lambda: pane_text(pane)
        )
        await type_exit(pilot, app, pane)

    outcome = app.return_value
    assert isinstance(outcome, SessionResult)
    assert outcome.error is None, outcome.error
    # The app exits at once; a logger process logs the session and removes its spool.
    assert outcome.exit_code == 0 and outcome.handed_off and outcome.run_id is None
    assert outcome.spool is not None and outcome.session_id == config.session_id
    spool = outcome.spool
    wait_until(lambda: not spool.exists(), 120, "the logger process to log the session")

    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient(store)
    [found] = client.search_runs(
        [client.get_experiment_by_name("e2e").experiment_id],
        filter_string=f"tags.`claude.session_id` = '{config.session_id}'",
    )
    outcome = dataclasses.replace(outcome, run_id=found.info.run_id)
    assert outcome.run_id is not None
    run = client.get_run(outcome.run_id)
    tags, params, metrics = run.data.tags, run.data.params, run.data.metrics
    assert tags["type"] == "claude_session"
    assert tags["claude.session_id"] == config.session_id
    assert tags["mlflow.source.name"] == "claude-tui"
    assert tags["mlflow.runName"].startswith("Add a farewell function")
    assert tags["git.branch"] == "main" and len(tags["git.commit"]) == 40
    assert tags["team"] == "core"
    assert params["session_id"] == config.session_id
    assert params["issue_number"] == "123"
    assert params["cwd"] == str(env.work_dir)
    for stat, value in EXPECTED.items():
        assert metrics[stat] == value, stat
    for tool, count in EXPECTED_BY_TOOL.items():
        assert metrics[f"tool_uses.{tool}"] == count, tool
    assert metrics["success"] == 1 and metrics["exit_code"] == 0
    assert metrics["input_tokens"] > 0 and metrics["output_tokens"] > 0
    history = client.get_metric_history(outcome.run_id, "tool_uses")
    assert [m.value for m in history][-1] == EXPECTED["tool_uses"]

    artifacts = {a.path for a in client.list_artifacts(outcome.run_id, "transcript")}
    assert {"transcript/raw.cast", "transcript/clean.txt"} <= artifacts
    claude_files = [a.path for a in client.list_artifacts(outcome.run_id, "claude")]
    assert f"claude/{config.session_id}.jsonl" in claude_files
    git_files = {a.path for a in client.list_artifacts(outcome.run_id, "git")}
    assert {"git/changes.diff", "git/commits.txt"} <= git_files
    commits = Path(client.download_artifacts(outcome.run_id, "git/commits.txt", str(tmp_path))).read_text()
    assert "Add farewell() and tests" in commits

    mlflow.set_tracking_uri(store)
    experiment_id = run.info.experiment_id
    traces = mlflow.search_traces(locations=[experiment_id], run_id=outcome.run_id, return_type="list")
    # One trace per turn (issue 17), as MLflow's GenAI integrations trace a conversation: the prompt as the
    # request, grouped by the session; the reviewer agent ran in the background and its spans are under it.
    traces.sort(key=lambda t: t.info.request_time)
    assert [t.info.request_preview for t in traces] == prompts
    assert {t.info.trace_metadata["mlflow.trace.session"] for t in traces} == {config.session_id}
    spans = [span for trace in traces for span in trace.data.spans]
    by_id = {s.span_id: s for s in spans}
    agent_work = [s for s in spans if s.get_attribute("agent_id")]
    assert agent_work and all(by_id[s.parent_id].name == "Agent" for s in agent_work)
    tool_spans = [s for s in spans if s.span_type == "TOOL"]
    assert len(tool_spans) == EXPECTED["tool_uses"]
    assert [s.status.status_code.value for s in tool_spans].count("ERROR") == 1

    duration = metrics["duration_seconds"]
    for search, found in SEED_SEARCHES.items():
        expected = duration > 30 if found is None else found
        hits = client.search_runs([run.info.experiment_id], filter_string=search)
        assert (outcome.run_id in {r.info.run_id for r in hits}) is expected, search
