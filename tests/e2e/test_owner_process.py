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
