"""`claude-tui demo` is a session of the owner like any other (issue 16 item 2): its stub server and its
scratch folders live in the owner as long as the session, so detaching leaves the demo running, `attach`
shows it (with the demo's advice in the sidebar) and it goes on answering, and once it is logged (once) its
folders go. The pinned CLI against the bundled scenario, real processes in PTYs."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from claude_tui.scenarios import scenario_prompts
from tests.e2e.test_owner_process import listed
from tests.e2e.test_owner_window import logged_once_by_the_owner, spawn_tui
from tests.e2e.test_session_exit import Screen, finished_runs
from tests.helpers import wait_until

pytestmark = pytest.mark.slow


def wait_re(screen: Screen, pattern: str, timeout: float = 90) -> re.Match[str]:
    """Wait until `pattern` matches the screen's text."""
    deadline = time.monotonic() + timeout
    while (match := re.search(pattern, screen.text())) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {pattern!r} on the screen:\n{screen.text()}")
        screen.read()
    return match


def type_prompt(screen: Screen, text: str) -> None:
    """Type `text` into Claude's prompt box, wait until Claude shows it there, then press Enter."""
    screen.child.send(text)
    wait_re(screen, "\u276f\\s*" + re.escape(text), timeout=60)
    screen.child.send("\r")


def test_a_demo_runs_in_the_owner_detach_leaves_it_running_attach_shows_it_then_its_folders_go(
    tmp_path: Path, owner_processes: Callable[[], list[int]]
) -> None:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("ANTHROPIC_", "CLAUDE_CODE"))
    }
    env.pop("CLAUDE_CONFIG_DIR", None)
    db = tmp_path / "mlflow.db"
    window = spawn_tui(["demo", "--tracking-uri", f"sqlite:///{db}"], env, tmp_path)
    try:
        window.wait_for("Next, type:")  # the demo's advice, in the sidebar
        wait_re(window, r"Tool uses\s+7\b")  # the first prompt was submitted for the user
        wait_re(window, r"✻ \w+ for \d+s")  # the first turn has ended
        [owner] = owner_processes()  # the program, its stub and its folders are the owner's
        window.child.send("\x11")  # ctrl+q
        window.wait_for("Quit claude-tui?")
        window.child.send("\r")  # Detach, the default
        assert window.wait_exit() == 0, window.printed_after_exit()
    finally:
        window.child.close(force=True)
    [session] = listed(env, tmp_path)
    assert f"Session {session['id'][:8]} runs on" in window.printed_after_exit()
    assert session["state"] not in ("ended", "logging", "logged", "not logged") and session["clients"] == 0
    work = Path(session["cwd"])
    root = work.parent
    assert root.name.startswith("claude-tui-demo-") and (work / ".git").is_dir()  # kept while it runs
    assert finished_runs(db, session["id"]) == []

    attached = spawn_tui(["attach", session["id"][:8]], env, tmp_path)
    try:
        attached.wait_for("Next, type:")  # the advice came with the session, from the owner
        wait_re(attached, r"Tool uses\s+7\b")
        # The stub in the owner still answers: the scenario's second turn runs.
        type_prompt(attached, scenario_prompts("realistic")[1])
        wait_re(attached, r"Tool uses\s+11\b", timeout=120)

        def idle() -> bool:  # the turn is over (the owner's word, from Claude's hooks): /exit is run
            for _ in range(10):
                attached.read()
            return bool(listed(env, tmp_path)[0]["state"] == "idle")

        wait_until(idle, 120, "the second turn to end")
        type_prompt(attached, "/exit")
        # The reviewer sub-agent may still run: Claude asks first, and Enter ("Exit and stop tasks") answers.
        deadline = time.monotonic() + 120
        while attached.child.isalive() and time.monotonic() < deadline:
            if "Background work is running" in attached.text():
                attached.child.send("\r")
                break
            attached.read()
        status = attached.wait_exit()
    finally:
        attached.child.close(force=True)
    logged_once_by_the_owner(attached, status, session["id"], db, env, tmp_path)
    # Logged: the owner stops its stub and removes the demo's folders.
    wait_until(lambda: not root.exists(), 60, "the demo's folders to go")
    assert owner_processes() == [owner]
