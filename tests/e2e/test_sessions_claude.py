"""Several sessions of the real CLI (against the stub) in one window (issue 16): two sessions counting
independently, each into its own MLflow run.

Session 1 is started with the prompt "count to three" (three Bash calls), session 2 through the new-session
dialog (`ctrl+]` `n`) with "count to five" (five Bash calls); one stub serves both (it matches each turn by
its prompt). The counts are checked live in each session's stats, and then in the two runs `ctrl+q` leaves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from claude_tui.app import ClaudeTuiApp
from claude_tui.claude_env import SCRIPTED_FLAGS
from claude_tui.session import SessionConfig, TrackedSession
from tests.functional.test_sessions import chord, dialog_open
from tests.helpers import wait_for, wait_until

pytestmark = pytest.mark.slow


def counting(name: str, count: int) -> dict[str, Any]:
    """A turn that runs `echo <name> <i>` `count` times, one Bash call per step, then says it is done."""
    steps: list[list[dict[str, Any]]] = [
        [{"tool": "Bash", "input": {"command": f"echo {name} {i}", "description": f"Count {i}"}}]
        for i in range(1, count + 1)
    ]
    return {"match": f"count to {name}", "steps": [*steps, [{"text": f"Counted to {name}."}]]}


SCENARIO = {"turns": [counting("three", 3), counting("five", 5)]}


async def test_two_sessions_count_independently_into_two_runs(claude_env: Any, tmp_path: Path) -> None:
    env = claude_env(SCENARIO)
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = SessionConfig(
        command=str(env.claude_bin),
        claude_args=list(SCRIPTED_FLAGS),
        prompt="count to three",
        cwd=env.work_dir,
        env=env.env(),
        config_dir=env.config_dir,
        tracking_uri=store,
        experiment="sessions",
    )
    first = TrackedSession(config)
    first.start(86, 36)
    app = ClaudeTuiApp(first, tracking_uri=store, experiment="sessions")
    async with app.run_test(size=(120, 40)) as pilot:
        tab = app.session_tab
        await pilot.pause(1.0)
        await chord(pilot, "n")
        await wait_for(pilot, lambda: dialog_open(app), 30, "the new-session dialog")
        app.screen.query_one("#prompt", Input).value = "count to five"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(tab.views) == 2, 30, "the second session")
        second = tab.views[1].session
        assert second.config.session_id != first.config.session_id
        assert second.config.env == config.env and second.config.claude_args == list(SCRIPTED_FLAGS)

        def counted() -> bool:
            return first.stats["tool_uses"] == 3 and second.stats["tool_uses"] == 5

        await wait_for(
            pilot, counted, 180, "both sessions to count", describe=lambda: f"{first.stats} {second.stats}"
        )
        await pilot.pause(1.0)  # both turns end
        assert (first.stats["commands_executed"], second.stats["commands_executed"]) == (3, 5)
        listed = tab.views[1].query_one("SessionList").entries  # type: ignore[attr-defined]
        assert [entry.tool_uses for entry in listed] == [3, 5]
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.return_value is not None, 120, "both sessions to be logged")

    # The app exits at once; a logger process per session logs it and removes its spool.
    assert len(app.results) == 2 and all(result.handed_off and not result.error for result in app.results)
    spools = [result.spool for result in app.results]
    assert None not in spools
    wait_until(lambda: not any(spool.exists() for spool in spools if spool), 180, "the loggers to log them")
    from mlflow import MlflowClient

    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("sessions")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    by_session = {run.data.tags["claude.session_id"]: run for run in runs}
    assert set(by_session) == {first.config.session_id, second.config.session_id}
    for session, count in ((first, 3), (second, 5)):
        metrics = by_session[session.config.session_id].data.metrics
        assert (metrics["tool_uses"], metrics["commands_executed"]) == (count, count)
        assert metrics["user_prompts"] == 1
