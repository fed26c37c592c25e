"""Snapshots of the Session tab with three sessions (issue 16): the list above the sidebar at 80x24, 120x40
and 200x50. SVGs in snapshots/test_sessions_snapshots/.

Fixed clock, fixed programs and fixed folders: session 1 draws what Claude draws for two tool calls (one
failed) and waits; session 2 ended and was logged; session 3 ended and its store failed (`not logged`).
Session 1 is shown.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from claude_tui.app import ClaudeTuiApp
from claude_tui.session import SessionConfig, TrackedSession
from claude_tui.widgets.session_tab import SessionTab
from claude_tui.widgets.sidebar import SessionSidebar
from claude_tui.worktree import Worktree
from tests.functional.test_snapshots import CLAUDE_SCREEN, DRAWN_COUNTS
from tests.helpers import FixedClock, screen_text, wait_for, wait_for_screen


class Store:
    """Logs every spool as run `r<n>`, except a session whose prompt asks for a failure."""

    def __call__(self, spool: Any, **kwargs: Any) -> Any:
        if "fail" in str(spool.meta.get("args")):
            raise ConnectionRefusedError("http://127.0.0.1:5000 refused the connection")
        return type("Logged", (), {"run_id": "r2", "experiment_id": "7", "tracking_uri": "fake://"})()


def session(tmp_path: Path, prompt: str, body: str, **config: Any) -> TrackedSession:
    program = tmp_path / f"{prompt.split()[0]}.py"
    program.write_text(body)
    settings = SessionConfig(command="python", cwd=Path("/tmp"), prompt=prompt, **config)
    started = TrackedSession(settings, argv=[sys.executable, str(program)], clock=FixedClock())
    started.start(80, 20)
    return started


def three_sessions(tmp_path: Path) -> ClaudeTuiApp:
    waits = f"import sys, time\nsys.stdout.write({CLAUDE_SCREEN!r})\nsys.stdout.flush()\ntime.sleep(120)\n"
    first = session(tmp_path, "fix the login bug", waits, track=False)
    worktree = Worktree(
        path=Path("/tmp/app.worktrees/claude-add-tests-1a2b"),
        branch="claude/add-tests-1a2b",
        repo=Path("/tmp/app"),
        cwd=Path("/tmp/app.worktrees/claude-add-tests-1a2b"),
        created=False,
    )
    second = session(tmp_path, "add tests for greet()", "print('done')\n", worktree=worktree)
    third = session(tmp_path, "fail to log this one", "print('done')\n")
    app = ClaudeTuiApp(first, log_spool=Store())

    async def open_others() -> None:
        for other in (second, third):
            await app.session_tab.open(app._open_session(other))
        app.session_tab.show(app.sessions[0])

    app.call_later(open_others)
    return app


async def settled(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ClaudeTuiApp)
    await wait_for(
        pilot,
        lambda: (
            len(app.sessions) == 3
            and [view.state for view in app.sessions] == ["idle", "logged", "not logged"]
            and app.sessions[0].session.stats["tool_uses"] == 2
            # The screen parser sees the failed call and the prompt a poll or two after the tool lines (a
            # fresh clone on CI snapped in between: "errs 0 · prompts 0", the title still the configured one).
            and app.sessions[0].session.stats["errors_encountered"] == 1
            and app.sessions[0].session.stats["user_prompts"] == 1
            and app.title == "claude-tui · list the files · idle"
            and app.sessions[0].query_one(SessionSidebar).rows_mounted
        ),
        30,
        "three sessions in their states",
    )
    # The pane's last frame, and the sidebar (or its folded line) and the header after a poll that read
    # those counts.
    await wait_for_screen(pilot, "Read 6 lines", "12m 34s", "idle —", *DRAWN_COUNTS, timeout=30)
    app.query_one(SessionTab).update_list()
    app.clear_notifications()  # "Not logged: ...", shown for a few seconds: not part of the picture
    await wait_for(pilot, lambda: "Not logged" not in screen_text(app), 10, "the notification to go")


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)], ids=["80x24", "120x40", "200x50"])
def test_three_sessions(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(three_sessions(tmp_path), terminal_size=size, run_before=settled)
