"""A `--worktree` session runs in the session owner like any other (issue 16 items 2 and 3): the window
goes, the session runs on in its worktree; `attach` shows it; when it ends there the window asks Keep or
Remove (Keep, the default, keeps it), and the owner logs one run with `git.worktree` and `git.branch`.
The pinned CLI against the stub, real processes in PTYs."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from claude_tui.claude_env import SCRIPTED_FLAGS
from tests.e2e.test_owner_process import listed
from tests.e2e.test_owner_window import spawn_tui
from tests.e2e.test_session_exit import finished_runs, gone
from tests.e2e.test_sessions_claude import SCENARIO
from tests.helpers import wait_until

pytestmark = pytest.mark.slow


def test_a_worktree_session_outlives_the_window_and_is_logged_with_its_worktree(
    claude_env: Any, tmp_path: Path, owner_processes: Callable[[], list[int]]
) -> None:
    from mlflow import MlflowClient

    env = claude_env(SCENARIO)
    db = tmp_path / "mlflow.db"
    child_env = {**os.environ, **env.env(), "CLAUDE_TUI_HOME": os.environ["CLAUDE_TUI_HOME"]}
    folder = env.work_dir.parent / f"{env.work_dir.name}.worktrees" / "feature-x"
    window = spawn_tui(
        ["--worktree=feature/x", "--tracking-uri", f"sqlite:///{db}", "--experiment", "worktree",
         "--command", str(env.claude_bin), "--", *SCRIPTED_FLAGS], child_env, env.work_dir,
    )  # fmt: skip
    try:
        window.wait_for("shift+tab")  # Claude's prompt box, in the window's pane
        [owner] = owner_processes()
        [session] = listed(child_env, env.work_dir)
        assert session["owner_pid"] == owner and session["clients"] == 1
        assert Path(session["cwd"]).resolve() == folder.resolve()  # the owner runs it in the worktree
        os.kill(window.child.pid, signal.SIGKILL)
        wait_until(lambda: gone(window.child.pid), 60, "the window to go")
    finally:
        window.child.close(force=True)
    wait_until(lambda: listed(child_env, env.work_dir)[0]["clients"] == 0, 60, "the window's detach")
    assert listed(child_env, env.work_dir)[0]["exit_code"] is None  # it runs on without the window

    attached = spawn_tui(["attach", session["id"][:8]], child_env, env.work_dir)
    try:
        attached.wait_for("shift+tab")
        attached.child.send("/exit")
        attached.wait_for("/exit")
        attached.child.send("\r")
        attached.wait_for("Keep")  # the session's worktree: Keep (the default) or Remove
        attached.child.send("\r")
        assert attached.wait_exit() == 0, attached.printed_after_exit()
    finally:
        attached.child.close(force=True)
    assert f"Worktree kept: {folder}" in attached.printed_after_exit()
    [run_id] = wait_until(lambda: finished_runs(db, session["id"]), 120, "the run in the store")
    tags = MlflowClient(f"sqlite:///{db}").get_run(run_id).data.tags
    assert Path(tags["git.worktree"]).resolve() == folder.resolve() and tags["git.branch"] == "feature/x"
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=env.work_dir, capture_output=True, text=True)
    assert str(folder.resolve()) in worktrees.stdout  # kept
