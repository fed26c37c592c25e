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
from tests.helpers import type_prompt, wait_for, wait_until

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
        await wait_for(pilot, lambda: app.focused is tab.views[0].pane, 30, "the pane to take the keys")
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
        commands = lambda: (first.stats["commands_executed"], second.stats["commands_executed"])  # noqa: E731
        await wait_for(
            pilot, lambda: commands() == (3, 5), 60, "both turns to end", describe=lambda: str(commands())
        )
        listed = lambda: tab.views[1].query_one("SessionList").entries  # type: ignore[attr-defined]  # noqa: E731
        await wait_for(
            pilot, lambda: [entry.tool_uses for entry in listed()] == [3, 5], 30, "the list's counts"
        )
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


def counted(take: Any, view: Any, taken: dict[Any, int]) -> Any:
    """`view._take_snapshot` that counts the snapshots it took in `taken[view]`."""

    def take_and_count() -> Any:
        snapshot = take()
        taken[view] += snapshot is not None
        return snapshot

    return take_and_count


async def test_a_background_permission_prompt_marks_its_entry_rings_once_and_w_goes_there(
    claude_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16 item 4: session 2, in the background, runs a tool outside `--allowedTools`; the CLI asks for
    permission. Its entry gets the attention mark, the outer terminal rings once (not once per poll, not
    once per hook), and `ctrl+]` `w` shows it; answering the prompt there lets its turn end."""
    from claude_tui.widgets import session_view
    from claude_tui.widgets.session_list import SessionList
    from tests.e2e.test_lifecycle import scenario, tracked

    env = claude_env(scenario())
    written: list[str] = []
    monkeypatch.setattr(session_view, "write_to_outer_terminal", lambda app, text: written.append(text))
    first = tracked(env, None, track=False)  # hooks on, no store: nothing to log
    app = ClaudeTuiApp(first)
    bells: list[int] = []
    monkeypatch.setattr(app, "bell", lambda: bells.append(1))

    def rings() -> int:
        """BELs that reached the outer terminal: the app's bell and those in the sequences written."""
        return len(bells) + sum(text.count("\x07") - text.count("\x1b]") for text in written)

    async with app.run_test(size=(120, 40)) as pilot:
        tab = app.session_tab
        one = tab.views[0]
        await wait_for(pilot, lambda: "❯" in "\n".join(one.pane.emulator.display), 60, "Claude's prompt (1)")
        await chord(pilot, "n")
        await wait_for(pilot, lambda: dialog_open(app), 30, "the new-session dialog")
        await pilot.press("enter")  # no first prompt: it is typed once the session is in the background
        await wait_for(pilot, lambda: len(tab.views) == 2 and tab.active is tab.views[1], 30, "session 2")
        two = tab.views[1]
        await wait_for(pilot, lambda: "❯" in "\n".join(two.pane.emulator.display), 60, "Claude's prompt (2)")
        await chord(pilot, "1")
        await wait_for(pilot, lambda: tab.active is one and app.focused is one.pane, 30, "session 1 shown")
        assert not tab.attention(two) and rings() == 0

        await type_prompt(pilot, two.pane, "Run a python check")  # into the background session's program

        def screen_two() -> str:
            return "\n".join(two.pane.emulator.display)

        asked = "Do you want to proceed?"
        await wait_for(pilot, lambda: asked in screen_two(), 120, "the permission prompt")
        await wait_for(pilot, lambda: tab.attention(two), 30, "the mark", describe=lambda: two.state)
        assert two.state == "waiting" and tab.active is one and one.state != "waiting"
        listed = one.query_one(SessionList).entries
        assert [(entry.number, entry.attention, entry.state) for entry in listed] == [
            (1, False, one.state),
            (2, True, "waiting"),
        ]
        await wait_for(pilot, lambda: rings() >= 1, 30, "the outer terminal's bell")
        # A ring per poll or per hook would come with the next polls: three more snapshots of each session
        # (session 2 in the background, still waiting) are counted, not waited for by the clock.
        taken = {view: 0 for view in (one, two)}
        for view in (one, two):
            monkeypatch.setattr(view, "_take_snapshot", counted(view._take_snapshot, view, taken))
        await wait_for(pilot, lambda: min(taken.values()) >= 3, 60, "three more polls of each session")
        assert rings() == 1, (bells, written)
        assert [text for text in written if "waiting for you: permission for Bash" in text]

        await chord(pilot, "w")
        await wait_for(pilot, lambda: tab.active is two and app.focused is two.pane, 30, "w: session 2")
        assert not tab.attention(two)
        await pilot.press("enter")  # 1. Yes
        await wait_for(pilot, lambda: "The check printed 42." in screen_two(), 120, "the turn's end")
        await wait_for(pilot, lambda: two.state != "waiting", 30, "session 2 to work on")
        assert rings() == 1
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.return_value is not None, 120, "both sessions to end")
