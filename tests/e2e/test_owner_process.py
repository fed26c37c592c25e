"""The owner as a real process with the pinned CLI against the stub: `--detach` starts a session without a
window, `ls --json` lists it as it works, and SIGTERM to the owner ends it gracefully and logs it, once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from claude_tui.claude_env import SCRIPTED_FLAGS
from claude_tui.scenarios import scenario_prompts
from tests.helpers import wait_until

pytestmark = pytest.mark.slow

CLAUDE_TUI = [sys.executable, "-m", "claude_tui"]


def run_cli(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLAUDE_TUI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def listed(env: dict[str, str], cwd: Path) -> list[dict[str, Any]]:
    result = run_cli(["ls", "--json"], env, cwd)
    assert result.returncode == 0, result.stderr
    sessions: list[dict[str, Any]] = json.loads(result.stdout)
    return sessions


def test_detach_ls_json_and_sigterm_to_the_owner(
    claude_env: Any, tmp_path: Path, owner_processes: Callable[[], list[int]]
) -> None:
    env = claude_env("realistic")
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    child_env = {**os.environ, **env.env(), "CLAUDE_TUI_HOME": os.environ["CLAUDE_TUI_HOME"]}
    assert listed(child_env, env.work_dir) == []
    prompt = scenario_prompts("realistic")[0]
    args = ["--detach", "--tracking-uri", store, "--experiment", "e2e", "--command", str(env.claude_bin),
            prompt, "--", *SCRIPTED_FLAGS]  # fmt: skip
    started = time.time()
    detached = run_cli(args, child_env, env.work_dir)
    assert detached.returncode == 0, detached.stdout + detached.stderr
    session_id = detached.stdout.split()[1]
    assert detached.stdout.startswith(f"Session {session_id} started in {env.work_dir}.")
    assert "ls` lists the sessions" in detached.stdout

    def first_turn_done() -> dict[str, Any] | None:
        sessions = listed(child_env, env.work_dir)
        done = [s for s in sessions if (s["tool_uses"] or 0) >= 7 and s["state"] == "idle"]
        return done[0] if done else None

    session = wait_until(first_turn_done, 120, "the detached session's first turn")
    assert session["id"] == session_id and session["cwd"] == str(env.work_dir)
    assert session["command"] == str(env.claude_bin) and session["title"].startswith("Add a farewell")
    assert session["errors_encountered"] == 1 and session["commands_executed"] >= 4
    assert session["exit_code"] is None and session["ended"] is None and session["clients"] == 0
    assert (
        started - 5
        < time.mktime(time.strptime(session["started"][:19], "%Y-%m-%dT%H:%M:%S"))
        < time.time() + 5
    )
    [owner] = owner_processes()
    assert session["owner_pid"] == owner

    os.kill(owner, signal.SIGTERM)  # ends every session gracefully, hands each to a logger, stops
    wait_until(lambda: not owner_processes(), 60, "the owner to stop")
    spool_root = Path(child_env["CLAUDE_TUI_HOME"]) / "spool"
    wait_until(
        lambda: not any(spool_root.iterdir()), 120, "the logger to log the session and remove its spool"
    )
    from mlflow import MlflowClient

    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("e2e")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.tags["claude.session_id"] == session_id
    assert run.info.status == "FINISHED" and run.data.metrics["success"] == 1, "Claude left on its own"
    assert run.data.metrics["tool_uses"] >= 7
    assert listed(child_env, env.work_dir) == []


def screen(pump: Any) -> str:
    """What an attached window's emulator holds: scrollback and screen, as text."""
    return "\n".join([*pump.emulator.history_lines(), *pump.emulator.display])


async def test_attach_types_detaches_attaches_again_and_the_owner_logs_one_run(
    claude_env: Any, tmp_path: Path, owner_processes: Callable[[], list[int]]
) -> None:
    """Issue 16 item 2: `--detach`, then the window attached to it (`claude-tui attach`'s app): a prompt typed
    there runs, its answer and counts show; quitting detaches (`ls --json` still lists the session, running);
    attaching again shows the screen as it was, `/exit` ends the program, and the owner logs one run."""
    from claude_tui.app import ClaudeTuiApp
    from claude_tui.owner.attached import OwnerPump
    from claude_tui.widgets.attached_view import AttachedSessionView
    from tests.e2e.test_sessions_claude import SCENARIO
    from tests.helpers import type_prompt, wait_for

    env = claude_env(SCENARIO)
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    child_env = {**os.environ, **env.env(), "CLAUDE_TUI_HOME": os.environ["CLAUDE_TUI_HOME"]}
    args = ["--detach", "--tracking-uri", store, "--experiment", "attach", "--command", str(env.claude_bin),
            "--", *SCRIPTED_FLAGS]  # fmt: skip
    detached = run_cli(args, child_env, env.work_dir)
    assert detached.returncode == 0, detached.stdout + detached.stderr
    session_id = detached.stdout.split()[1]

    pump = OwnerPump.attach(session_id[:8])  # a prefix, as `attach ID` takes it
    view = AttachedSessionView(pump)
    app = ClaudeTuiApp(attached=[view])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot, lambda: "❯" in screen(pump), 60, "Claude's prompt", describe=lambda: screen(pump)
        )
        assert app.active_tab == "session" and app.focused is view.pane
        await type_prompt(pilot, view.pane, "count to three")
        await wait_for(
            pilot,
            lambda: "Counted to three." in screen(pump) and view.snapshot and view.snapshot.tool_uses == 3,
            120,
            "the answer and its counts",
            describe=lambda: f"{view.snapshot}\n{screen(pump)}",
        )
        assert view.snapshot is not None and view.snapshot.commands_executed == 3
        assert view.state in ("working", "idle")
        await pilot.press("ctrl+q")  # asks; Enter detaches
        await wait_for(pilot, lambda: len(app.screen_stack) > 1, 30, "the question")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.return_value is not None, 30, "the window to close")
    [result] = app.results
    assert result.detached and result.session_id == session_id and not result.handed_off

    [session] = listed(child_env, env.work_dir)
    assert session["id"] == session_id and session["state"] not in ("ended", "logging", "logged")
    assert session["tool_uses"] == 3 and session["exit_code"] is None
    wait_until(lambda: listed(child_env, env.work_dir)[0]["clients"] == 0, 30, "the owner to drop the window")

    again = OwnerPump.attach(session_id)
    assert "Counted to three." in screen(again)  # the screen as it is, before any new output
    view = AttachedSessionView(again)
    app = ClaudeTuiApp(attached=[view])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: view.snapshot is not None, 30, "the owner's counts")
        assert view.snapshot is not None and view.snapshot.tool_uses == 3
        await type_prompt(pilot, view.pane, "/exit")
        await wait_for(pilot, lambda: app.return_value is not None, 60, "the program to end")
    [result] = app.results
    assert result.exit_code == 0 and result.handed_off and not result.detached

    def logged() -> dict[str, Any] | None:
        sessions = listed(child_env, env.work_dir)
        return sessions[0] if sessions and sessions[0]["state"] == "logged" else None

    session = wait_until(logged, 180, "the owner to log the session")
    from mlflow import MlflowClient

    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("attach")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_id == session["run_id"]
    assert run.data.tags["claude.session_id"] == session_id
    assert (run.data.metrics["tool_uses"], run.data.metrics["user_prompts"]) == (3, 1)
    assert run.data.metrics["success"] == 1


def test_a_detached_claude_posts_its_hooks_and_telemetry_to_the_owner(
    claude_env: Any, tmp_path: Path, owner_processes: Callable[[], list[int]]
) -> None:
    """Issue 16 item 2 with issues 14/15: `--detach` exits at once, yet its Claude posts hooks and exports
    telemetry to the owner's own 127.0.0.1 endpoint (not the exiting process's): a permission prompt shows as
    `waiting` in `ls --json` (the PermissionRequest hook; Claude neither rings nor retitles for it), and the
    logged run carries the CLI's own telemetry. Before the owner served its endpoint, a detached Claude had
    no hooks and no telemetry (the run had no `claude.telemetry` tag, `ls` said `idle`)."""
    from tests.e2e.test_lifecycle import ALLOWED, scenario

    env = claude_env(scenario())
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    child_env = {**os.environ, **env.env(), "CLAUDE_TUI_HOME": os.environ["CLAUDE_TUI_HOME"]}
    args = ["--detach", "--tracking-uri", store, "--experiment", "hooks", "--command", str(env.claude_bin),
            "Run a python check", "--", *ALLOWED]  # fmt: skip
    detached = run_cli(args, child_env, env.work_dir)
    assert detached.returncode == 0, detached.stdout + detached.stderr
    session_id = detached.stdout.split()[1]

    def waiting() -> dict[str, Any] | None:
        sessions = listed(child_env, env.work_dir)
        return sessions[0] if sessions and sessions[0]["state"] == "waiting" else None

    wait_until(waiting, 120, "the permission prompt to show as waiting (a hook the owner received)")
    owners = owner_processes()
    assert len(owners) == 1, [Path(f"/proc/{pid}/cmdline").read_bytes()[:300] for pid in owners]
    [owner] = owners
    os.kill(owner, signal.SIGTERM)  # ends the session gracefully and logs it
    wait_until(lambda: not owner_processes(), 60, "the owner to stop")
    spool_root = Path(child_env["CLAUDE_TUI_HOME"]) / "spool"
    wait_until(lambda: not any(spool_root.iterdir()), 120, "the logger to log the session")
    from mlflow import MlflowClient

    client = MlflowClient(store)
    (run,) = client.search_runs([client.get_experiment_by_name("hooks").experiment_id])
    assert run.data.tags["claude.session_id"] == session_id
    assert run.data.tags.get("claude.telemetry") == "received", run.data.tags
    assert run.data.metrics["cli_input_tokens"] > 0
    assert run.data.metrics["permission_requests"] == 1
