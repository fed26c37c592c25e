"""A plain `claude-tui` window is a client of the session owner (issue 16 item 2, as tmux's model): its
sessions run in the owner, so when the window goes (SIGKILL, or its terminal hung up: SIGHUP) the session
runs on and its turn finishes, `claude-tui attach` shows its screen, and when its program ends the owner
logs it exactly once. The pinned CLI against the stub, real processes in PTYs."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pexpect
import pytest

from claude_tui.claude_env import SCRIPTED_FLAGS
from tests.e2e.test_owner_process import listed
from tests.e2e.test_session_exit import Screen, finished_runs, gone
from tests.e2e.test_sessions_claude import SCENARIO
from tests.helpers import wait_until

pytestmark = pytest.mark.slow


def spawn_tui(args: list[str], env: dict[str, str], cwd: Path) -> Screen:
    child = pexpect.spawn(
        sys.executable, ["-m", "claude_tui", *args], env=env, cwd=str(cwd), dimensions=(40, 140), timeout=30
    )
    return Screen(child, 140, 40)


@pytest.mark.parametrize("how", ["SIGKILL", "SIGHUP"])
def test_the_window_goes_the_session_works_on_attach_shows_it_and_it_is_logged_once(
    claude_env: Any, tmp_path: Path, owner_processes: Callable[[], list[int]], how: str
) -> None:
    env = claude_env(SCENARIO)
    db = tmp_path / "mlflow.db"
    child_env = {**os.environ, **env.env(), "CLAUDE_TUI_HOME": os.environ["CLAUDE_TUI_HOME"]}
    window = spawn_tui(
        ["--tracking-uri", f"sqlite:///{db}", "--experiment", "window", "--command", str(env.claude_bin),
         "--", *SCRIPTED_FLAGS], child_env, env.work_dir,
    )  # fmt: skip
    try:
        window.wait_for("shift+tab")  # Claude's prompt box, in the window's pane
        [owner] = owner_processes()  # the window started the owner; the program is the owner's
        [session] = listed(child_env, env.work_dir)
        assert session["clients"] == 1 and session["owner_pid"] == owner
        window.child.send("count to three")
        window.wait_for("count to three")
        window.child.send("\r")
        window.wait_for("echo three 1")  # the turn has started
        os.kill(window.child.pid, getattr(signal, how))
        wait_until(lambda: gone(window.child.pid), 60, f"the window to go on {how}")
    finally:
        window.child.close(force=True)

    def turn_done() -> dict[str, Any] | None:
        sessions = listed(child_env, env.work_dir)
        done = [s for s in sessions if s["tool_uses"] == 3 and s["state"] == "idle"]
        return done[0] if done else None

    # The turn goes on without a window: all three commands run, and the session waits for the next prompt.
    session = wait_until(turn_done, 120, "the turn to finish in the owner")
    assert session["clients"] == 0 and session["exit_code"] is None and owner_processes() == [owner]
    assert finished_runs(db, session["id"]) == []

    attached = spawn_tui(["attach", session["id"][:8]], child_env, env.work_dir)
    try:
        attached.wait_for("Counted to three.")  # its screen as the owner kept it
        status = attached.exit_claude()
    finally:
        attached.child.close(force=True)
    logged_once_by_the_owner(attached, status, session["id"], db, child_env, env.work_dir)


def logged_once_by_the_owner(
    window: Screen, status: int, session_id: str, db: Path, env: dict[str, str], cwd: Path
) -> None:
    """The window that showed the session as its program ended exited 0 saying the session is being logged;
    the owner logs it: one run in the store at `db`, and `ls` says `logged`."""
    assert status == 0, window.printed_after_exit()
    assert f"Logging session {session_id[:8]}" in window.printed_after_exit()
    runs = wait_until(lambda: finished_runs(db, session_id), 120, "the run in the store")
    wait_until(lambda: listed(env, cwd)[0]["state"] == "logged", 60, "the owner's word")
    assert len(runs) == 1 == len(finished_runs(db, session_id)), "one session, one run"
