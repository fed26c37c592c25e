"""Every conversation of a tracked process, with the real CLI in the app's pane and a real MLflow store.

The scenario is `tests/data/hooks/scenario.json` (the one the hook payloads were recorded with): "List the
files here" runs Bash `ls`, "Read the app for me" a Read, "Run a python check" a Bash command outside the
allowed tools (the CLI asks for permission), "Go on where we were" answers with text only.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from claude_tui.app import ClaudeTuiApp
from claude_tui.parsing import SessionStats, TranscriptTail
from claude_tui.session import SessionConfig, SessionResult, TrackedSession
from claude_tui.widgets.sidebar import SessionSidebar, StatRow
from claude_tui.widgets.terminal import TerminalPane
from tests.helpers import logged_run_id, type_prompt, wait_for, wait_until_logged

pytestmark = pytest.mark.slow

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "hooks" / "scenario.json"
ALLOWED = (
    "--permission-mode",
    "acceptEdits",
    "--allowedTools",
    "Read",
    "Edit",
    "Write",
    "Bash(ls)",
    "Bash(ls:*)",
)
"""Scripted runs without plain Bash: `python3 -c ...` asks for permission, `ls` does not."""
COUNTED = ("user_prompts", "tool_uses", "commands_executed", "files_read", "input_tokens", "output_tokens")


def scenario() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCENARIO.read_text())
    return data


def sidebar_value(app: ClaudeTuiApp, stat: str) -> str:
    """The value part of a sidebar row as drawn; "" before the rows are there."""
    if not app.query_one(SessionSidebar).rows_mounted:
        return ""
    return app.query_one(f"#stat-{stat}", StatRow).text.split()[-1]


def stats_of(paths: list[tuple[Path, float | None]]) -> dict[str, Any]:
    """Stats of several transcripts read whole (with `since` for the part of a resumed one)."""
    stats = SessionStats()
    for path, since in paths:
        for event in TranscriptTail(path, since=since).poll(final=True):
            stats.apply(event)
    return stats.to_dict()


async def type_line(pilot: Any, pane: TerminalPane, text: str) -> None:
    """Type a line into Claude and submit it; typed again while the box stays empty for 10 s: these tests
    type right after `/clear` and `/resume` redraw the prompt box, and keys Claude reads while it swaps
    screens are lost (once at load 6-8, 'Go on where we were' typed at the resumed conversation's
    SessionStart hook never showed in 60 s)."""
    await type_prompt(pilot, pane, text, retype_after=10.0)


async def first_turn(pilot: Any, app: ClaudeTuiApp, session: TrackedSession, prompt: str) -> TerminalPane:
    """Wait for Claude's prompt box, type `prompt`, wait for its turn to end; the pane."""
    pane = app.query_one(TerminalPane)
    await wait_for(pilot, lambda: "❯" in "\n".join(pane.emulator.display), 60, "Claude's prompt")
    await type_line(pilot, pane, prompt)
    await wait_for(pilot, lambda: session.stats["turns"] >= 1, 120, "the first turn")
    return pane


def tracked(env: Any, store: str | None, **extra: Any) -> TrackedSession:
    config = SessionConfig(
        command=str(env.claude_bin),
        claude_args=list(ALLOWED),
        cwd=env.work_dir,
        env=env.env(),
        config_dir=env.config_dir,
        tracking_uri=store,
        experiment="lifecycle",
        **extra,
    )
    session = TrackedSession(config)
    session.start(100, 36)
    return session


async def test_clear_between_two_prompts_counts_both_halves(claude_env: Any, tmp_path: Path) -> None:
    env = claude_env(scenario())
    # The person's own hook, in their settings.json: it must keep running beside claude-tui's.
    user_log = tmp_path / "user-hook.log"
    settings_path = env.config_dir / "settings.json"
    settings = json.loads(settings_path.read_text())
    settings["hooks"] = {
        "UserPromptSubmit": [{"hooks": [{"type": "command", "command": f"echo prompt >> {user_log}"}]}]
    }
    settings_path.write_text(json.dumps(settings))
    before = settings_path.read_text()
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    session = tracked(env, store)
    app = ClaudeTuiApp(session, tracking_uri=store, experiment="lifecycle")
    first = session.config.session_id

    async with app.run_test(size=(140, 42)) as pilot:
        pane = await first_turn(pilot, app, session, "List the files here")
        assert session.lifecycle.hooks_seen
        await type_line(pilot, pane, "/clear")
        await wait_for(pilot, lambda: len(session.lifecycle.conversations) == 2, 60, "the new conversation")
        await type_line(pilot, pane, "Read the app for me")
        await wait_for(pilot, lambda: session.stats["user_prompts"] >= 2 and session.stats["turns"] >= 2, 120,
                       "the second turn")  # fmt: skip
        shown = {"user_prompts": "2", "tool_uses": "2", "commands_executed": "1"}
        await wait_for(pilot, lambda: all(sidebar_value(app, k) == v for k, v in shown.items()), 30,
                       "the sidebar's counts (its next poll)")  # fmt: skip
        second = session.lifecycle.session_ids[1]
        transcripts = [env.transcript_path(first), env.transcript_path(second)]
        assert all(transcripts)
        expected = stats_of([(p, None) for p in transcripts if p])
        halves = [stats_of([(p, None)]) for p in transcripts if p]
        assert [h["user_prompts"] for h in halves] == [1, 1]
        for stat in COUNTED:
            assert session.stats[stat] == expected[stat], stat
        assert sidebar_value(app, "user_prompts") == "2"
        assert sidebar_value(app, "tool_uses") == "2"
        assert sidebar_value(app, "commands_executed") == "1"
        assert session.snapshot().state == "idle"
        await type_line(pilot, pane, "/exit")
        await wait_for(pilot, lambda: app.return_value is not None, 120, "the session to be logged")

    outcome = app.return_value
    assert isinstance(outcome, SessionResult) and outcome.error is None, outcome
    assert outcome.exit_code == 0
    run_id = logged_run_id(outcome)
    from mlflow import MlflowClient

    client = MlflowClient(store)
    run = client.get_run(run_id)
    tags, metrics = run.data.tags, run.data.metrics
    assert tags["claude.session_id"] == first
    assert tags["claude.session_ids"] == f"{first},{second}"
    for stat in COUNTED:
        assert metrics[stat] == expected[stat], stat
    assert metrics["conversations"] == 2
    claude_files = {a.path for a in client.list_artifacts(run_id, "claude")}
    assert {f"claude/{first}.jsonl", f"claude/{second}.jsonl"} <= claude_files
    # The person's hook ran for both prompts; their settings file holds their hooks and none of ours (the
    # CLI itself rewrites the file, sorted, with an `env` it migrated from `autoUpdates`).
    assert user_log.read_text().splitlines() == ["prompt", "prompt"]
    after = settings_path.read_text()
    assert json.loads(after)["hooks"] == json.loads(before)["hooks"]
    assert "127.0.0.1" not in after

    # `claude-tui import` afterwards finds both conversations in the store already.
    from claude_tui.tracking.importer import import_sessions

    report = import_sessions([env.config_dir], tracking_uri=store, experiment="lifecycle", jobs=1)
    assert not report.imported, [o.session_id for o in report.imported]
    assert len(client.search_runs([run.info.experiment_id])) == 1


def logged_earlier(env: Any, store: str) -> tuple[str, Path, str]:
    """An earlier interactive conversation, imported into `store`: its session id, transcript and run id."""
    from claude_tui.tracking.importer import import_sessions

    earlier = earlier_conversation(env)
    path = env.transcript_path(earlier)
    assert path is not None
    imported = import_sessions([path], tracking_uri=store, experiment="lifecycle", jobs=1)
    [run_id] = [o.run_id for o in imported.imported]
    assert run_id
    return earlier, path, run_id


def earlier_conversation(env: Any, prompt: str = "List the files here") -> str:
    """A conversation of an earlier interactive process (one prompt, then /exit): its session id."""
    import uuid

    from tests.support.claude_cli import InteractiveClaude

    session_id = str(uuid.uuid4())
    claude = InteractiveClaude(env, session_id=session_id)
    claude.env.argv = lambda prompt=None, *, session_id=None, extra=(): [  # type: ignore[method-assign]
        str(env.claude_bin), "--session-id", session_id or "", *ALLOWED, *extra,
    ]  # fmt: skip
    with claude:
        assert claude.wait_for_text("❯", 60)
        claude.pump(1.0)
        claude.submit(prompt)
        assert claude.wait_for_turn_end(120)
        assert claude.exit() == 0
    return session_id


async def test_an_in_pane_resume_counts_only_the_new_part_and_links_the_earlier_run(
    claude_env: Any, tmp_path: Path
) -> None:
    env = claude_env(scenario())
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    earlier, earlier_path, earlier_run = logged_earlier(env, store)
    from claude_tui.tracking.importer import import_sessions

    session = tracked(env, store)
    app = ClaudeTuiApp(session, tracking_uri=store, experiment="lifecycle")
    first = session.config.session_id
    async with app.run_test(size=(140, 42)) as pilot:
        pane = await first_turn(pilot, app, session, "Read the app for me")
        await type_line(pilot, pane, "/resume")
        screen = lambda: "\n".join(pane.emulator.display)  # noqa: E731
        listed = "the earlier conversation listed"
        await wait_for(pilot, lambda: "List the files here" in screen(), 60, listed, describe=screen)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: len(session.lifecycle.conversations) == 2, 60, "the resumed conversation"
        )
        # The picker gone, the earlier conversation drawn (its answer is not in the picker's list).
        drawn = "There are two files"
        await wait_for(pilot, lambda: drawn in screen(), 60, "the conversation drawn", describe=screen)
        await type_line(pilot, pane, "Go on where we were")
        await wait_for(pilot, lambda: session.stats["user_prompts"] >= 2 and session.stats["turns"] >= 2, 120,
                       "the turn in the resumed conversation")  # fmt: skip
        shown = {"user_prompts": "2", "commands_executed": "0"}
        await wait_for(pilot, lambda: all(sidebar_value(app, k) == v for k, v in shown.items()), 30,
                       "the sidebar's counts (its next poll)")  # fmt: skip
        resumed = session.lifecycle.conversations[1]
        assert (resumed.session_id, resumed.source) == (earlier, "resume")
        own = env.transcript_path(first)
        assert own is not None
        expected = stats_of([(own, None), (earlier_path, resumed.since)])
        assert expected["user_prompts"] == 2 and expected["tool_uses"] == 1  # the earlier `ls` is not ours
        for stat in COUNTED:
            assert session.stats[stat] == expected[stat], stat
        assert sidebar_value(app, "user_prompts") == "2"
        assert sidebar_value(app, "commands_executed") == "0"
        await type_line(pilot, pane, "/exit")
        await wait_for(pilot, lambda: app.return_value is not None, 120, "the session to be logged")

    outcome = app.return_value
    assert isinstance(outcome, SessionResult) and outcome.error is None and outcome.exit_code == 0, outcome
    run_id = logged_run_id(outcome)
    from mlflow import MlflowClient

    client = MlflowClient(store)
    run = client.get_run(run_id)
    tags, metrics = run.data.tags, run.data.metrics
    assert tags["claude.session_ids"] == f"{first},{earlier}"
    assert tags["claude.resumed_from"] == earlier
    assert tags["claude.resumed_from_run"] == earlier_run
    for stat in COUNTED:
        assert metrics[stat] == expected[stat], stat
    # Neither conversation is imported again: one is the earlier run's, both are the live run's.
    again = import_sessions([env.config_dir], tracking_uri=store, experiment="lifecycle", jobs=1)
    assert not again.imported, [o.session_id for o in again.imported]
    assert len(client.search_runs([run.info.experiment_id])) == 2


ROOT = Path(__file__).resolve().parents[2]


def claude_tui_env(env: Any, tmp_path: Path) -> dict[str, str]:
    """What `claude-tui` runs with in the tmux tests: the sandbox's Claude environment, its own data dir, and
    the pinned `claude` first on PATH."""
    values = env.env()
    values["PATH"] = f"{Path(env.claude_bin).parent}{os.pathsep}{values['PATH']}"
    values["CLAUDE_TUI_HOME"] = str(tmp_path / "claude-tui-home")
    values["CLAUDE_TUI_CONFIG"] = str(tmp_path / "no-config.toml")
    # MLflow's own usage telemetry would go through the sandbox's proxy (the stub), which fails the test.
    values["MLFLOW_DISABLE_TELEMETRY"] = "true"
    return values


def exit_claude(tmux: Any, window: str, status: Path, timeout: float = 120.0) -> tuple[int, str]:
    """Type /exit into Claude in `window`, wait for claude-tui to end; its exit status and what it printed."""
    tmux.type_line(window, "/exit", retype_after=10)
    deadline = time.monotonic() + timeout
    while not status.is_file() or not status.read_text().strip():
        assert time.monotonic() < deadline, "claude-tui did not end"
        time.sleep(0.2)
    return int(status.read_text()), tmux.screen(window, history=True)


@pytest.mark.parametrize("how", ["--resume", "--continue"])
def test_claude_tui_resumes_and_continues_a_conversation(claude_env: Any, tmp_path: Path, how: str) -> None:
    """`claude-tui -- --resume ID` / `-- --continue`: exit 0, the run counts only what this process did,
    and links the conversation's earlier run (the real command, the fast-start path, in tmux)."""
    from mlflow import MlflowClient

    from claude_tui.tracking.importer import import_sessions
    from tests.support.tmux import TmuxWindows

    env = claude_env(scenario())
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    earlier, _, earlier_run = logged_earlier(env, store)
    resume = ["--resume", earlier] if how == "--resume" else ["--continue"]
    argv = [str(ROOT / ".venv" / "bin" / "claude-tui"), "--tracking-uri", store, "--experiment", "lifecycle",
            "--", *resume, *ALLOWED]  # fmt: skip
    tmux = TmuxWindows(tmp_path)
    try:
        status = tmux.run("tui", argv, claude_tui_env(env, tmp_path), env.work_dir)
        tmux.wait_for_text("tui", "List the files here", 60)  # the resumed conversation is on screen
        tmux.wait_for_text("tui", "❯", 30)
        tmux.type_line("tui", "Go on where we were", retype_after=10)
        tmux.wait_for_text("tui", "Going on.", 120)
        code, shown = exit_claude(tmux, "tui", status)
    finally:
        tmux.close()
    assert code == 0, shown
    assert "Session ended (exit status 0)." in shown and "in the background" in shown, shown
    wait_until_logged(tmp_path / "claude-tui-home" / "spool")
    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("lifecycle")
    assert experiment is not None
    runs = [r for r in client.search_runs([experiment.experiment_id]) if r.info.run_id != earlier_run]
    [run] = runs
    tags, metrics = run.data.tags, run.data.metrics
    assert tags["claude.session_id"] == earlier and tags["claude.session_ids"] == earlier
    assert tags["claude_tui.run_key"] != earlier  # logging again never completes the earlier run instead
    assert tags["claude.resumed_from"] == earlier
    assert tags["claude.resumed_from_run"] == earlier_run
    assert metrics["success"] == 1 and metrics["exit_code"] == 0
    # Only this process's part: its one prompt and text answer, not the earlier prompt and its `ls`.
    assert metrics["user_prompts"] == 1 and metrics["tool_uses"] == 0 and metrics["commands_executed"] == 0
    assert metrics["output_tokens"] > 0
    again = import_sessions([env.config_dir], tracking_uri=store, experiment="lifecycle", jobs=1)
    assert not again.imported


def test_a_permission_prompt_is_waiting_for_you_rings_tmux_and_runs_the_notify_command(
    claude_env: Any, tmp_path: Path
) -> None:
    """A tool outside `--allowedTools`: the CLI asks; the header says "waiting for you", the tmux window
    gets the bell, `--notify-command` runs with the reason; the run has the permission and the wait."""
    from mlflow import MlflowClient

    from tests.support.tmux import TmuxWindows

    env = claude_env(scenario())
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    notified = tmp_path / "notified.txt"
    command = f'printf "%s|%s\\n" "$CLAUDE_TUI_STATE" "$CLAUDE_TUI_REASON" >> {notified}'
    argv = [str(ROOT / ".venv" / "bin" / "claude-tui"), "--tracking-uri", store, "--experiment", "lifecycle",
            "--notify-command", command, "--", *ALLOWED]  # fmt: skip
    tmux = TmuxWindows(tmp_path)
    try:
        status = tmux.run("tui", argv, claude_tui_env(env, tmp_path), env.work_dir)
        tmux.select("tui")
        tmux.wait_for_text("tui", "❯", 60)
        tmux.type_line("tui", "Run a python check", retype_after=10)
        tmux.select("home")  # the person looks elsewhere
        shown = tmux.wait_for_text("tui", "Do you want to proceed?", 120)
        deadline = time.monotonic() + 30
        while not (notified.is_file() and tmux.flag("tui", "window_bell_flag") == "1"):
            assert time.monotonic() < deadline, (tmux.flag("tui", "window_bell_flag"), notified.is_file())
            time.sleep(0.2)
        shown = tmux.wait_for_text("tui", "waiting for you", 10)
        assert notified.read_text().splitlines() == ["waiting|permission for Bash"]
        time.sleep(2.0)  # a wait the run must show
        tmux.select("tui")
        tmux.keys("tui", "Enter")  # 1. Yes
        tmux.wait_for_text("tui", "The check printed 42.", 120)
        code, shown = exit_claude(tmux, "tui", status)
    finally:
        tmux.close()
    assert code == 0, shown
    wait_until_logged(tmp_path / "claude-tui-home" / "spool")
    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("lifecycle")
    assert experiment is not None
    [run] = client.search_runs([experiment.experiment_id])
    metrics = run.data.metrics
    assert metrics["permission_requests"] == 1 and metrics["permission_denials"] == 0
    assert metrics["waiting_seconds"] >= 2.0
    assert metrics["working_seconds"] > 0
    assert metrics["commands_executed"] == 1 and metrics["errors_encountered"] == 0


async def test_r_in_history_resumes_a_run_in_its_work_dir(
    claude_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`r` on a logged run opens a tracked session in the run's work dir that resumes its conversation; where
    the work dir is gone, one line says so."""
    from mlflow import MlflowClient

    from claude_tui.widgets.history import HistoryPane, RunTable

    env = claude_env(scenario())
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    earlier, _, earlier_run = logged_earlier(env, store)
    opened: list[tuple[Path, list[str]]] = []

    def session_config(cwd: Path, claude_args: list[str]) -> SessionConfig:
        opened.append((cwd, claude_args))
        return SessionConfig(
            command=str(env.claude_bin),
            claude_args=[*claude_args, *ALLOWED],
            cwd=cwd,
            env=env.env(),
            config_dir=env.config_dir,
            tracking_uri=store,
            experiment="lifecycle",
        )

    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(env.config_dir))  # where History looks for the transcript

    def history() -> ClaudeTuiApp:
        return ClaudeTuiApp(None, tracking_uri=store, experiment="lifecycle", initial_tab="history",
                            session_config=session_config)  # fmt: skip

    async def press_r(pilot: Any, app: ClaudeTuiApp, runs: int) -> None:
        pane = app.query_one(HistoryPane)
        await wait_for(pilot, lambda: len(pane.rows) == runs, 60, "the logged runs")
        await wait_for(pilot, lambda: app.focused is pane.query_one(RunTable), 30, "the table's focus")
        await pilot.press("r")

    app = history()
    async with app.run_test(size=(140, 42)) as pilot:
        await press_r(pilot, app, 1)
        # The view joins the list, then mounts its pane (a worker opens it): wait for the pane itself.
        opened_pane = lambda: bool(app.sessions) and bool(app.sessions[0].query("TerminalPane"))  # noqa: E731
        await wait_for(pilot, opened_pane, 60, "the resumed session's pane")
        assert opened == [(env.work_dir, ["--resume", earlier])]
        session = app.sessions[0].session
        terminal = app.sessions[0].pane
        screen = lambda: "\n".join(terminal.emulator.display)  # noqa: E731
        await wait_for(pilot, lambda: "List the files here" in screen(), 60, "the resumed conversation",
                       describe=screen)  # fmt: skip
        await wait_for(pilot, lambda: session.lifecycle.hooks_seen, 60, "the session's first hook")
        await type_line(pilot, terminal, "Go on where we were")
        await wait_for(pilot, lambda: session.stats["turns"] >= 1, 120, "the turn")
        assert app.active_tab == "session"
        await type_line(pilot, terminal, "/exit")
        await wait_for(pilot, lambda: app.return_value is not None, 120, "the session to be logged")
    outcome = app.return_value
    assert isinstance(outcome, SessionResult) and outcome.exit_code == 0, outcome
    run = MlflowClient(store).get_run(logged_run_id(outcome))
    assert run.data.tags["claude.resumed_from"] == earlier
    assert run.data.tags["claude.resumed_from_run"] == earlier_run
    assert run.data.params["cwd"] == str(env.work_dir)
    assert run.data.metrics["user_prompts"] == 1

    # The work dir gone: one line, no session.
    import shutil

    shutil.rmtree(env.work_dir)
    app = history()
    async with app.run_test(size=(140, 42)) as pilot:
        await press_r(pilot, app, 2)
        messages = lambda: [str(n.message) for n in app._notifications]  # noqa: E731
        await wait_for(pilot, lambda: any("is gone" in m for m in messages()), 30, "the refusal")
        assert [m for m in messages() if "is gone" in m] == [
            f"cannot resume: the work dir {env.work_dir} is gone"
        ]
        assert not app.sessions


async def test_without_hooks_a_clear_is_noticed_on_disk(claude_env: Any, tmp_path: Path) -> None:
    """Hooks disabled by policy (`disableAllHooks`): claude-tui registers none, and still follows the new
    transcript a /clear starts (the same process's, by the session id its records carry)."""
    env = claude_env(scenario())
    settings_path = env.config_dir / "settings.json"
    settings_path.write_text(json.dumps({**json.loads(settings_path.read_text()), "disableAllHooks": True}))
    session = tracked(env, None, track=False)
    assert session.routes is None and not any("127.0.0.1" in word for word in session.argv)
    app = ClaudeTuiApp(session)
    async with app.run_test(size=(140, 42)) as pilot:
        pane = await first_turn(pilot, app, session, "List the files here")
        await type_line(pilot, pane, "/clear")
        cleared = lambda: "List the files here" not in "\n".join(pane.emulator.display)  # noqa: E731
        await wait_for(pilot, cleared, 60, "the screen cleared (no hook says so)")
        await type_line(pilot, pane, "Read the app for me")
        await wait_for(
            pilot, lambda: len(session.lifecycle.conversations) == 2, 60, "the new transcript found"
        )
        await wait_for(pilot, lambda: session.stats["user_prompts"] == 2 and session.stats["turns"] >= 2, 120,
                       "the second turn counted")  # fmt: skip
        assert not session.lifecycle.hooks_seen
        assert [c.source for c in session.lifecycle.conversations] == ["startup", "found"]
        assert session.stats["tool_uses"] == 2
        await type_line(pilot, pane, "/exit")
        await wait_for(pilot, lambda: app.return_value is not None, 120, "the session's end")
