"""Snapshots of the states users see: the sidebar with an alert and with an error, the logging screen, the
replay player, the tab bar after the fill-in, and the Session tab at 80x24, 120x40 and 200x50. SVGs in
snapshots/test_snapshots/.

Each runs on a fixed clock and fixed input, so the SVG is the same on every run.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from claude_tui.app import ClaudeTuiApp
from claude_tui.replay_app import ReplayApp
from claude_tui.screens.logging import LoggingScreen
from claude_tui.session import SessionConfig, TrackedSession
from claude_tui.snapshot import SessionSnapshot
from claude_tui.terminal.cast import read_cast
from claude_tui.widgets.sidebar import SessionSidebar
from tests.helpers import FixedClock, wait_for, wait_for_screen

BUSY = SessionSnapshot(
    commands_executed=14,
    tool_uses=31,
    user_prompts=3,
    git_operations=4,
    subagent_tool_uses=6,
    files_read=9,
    files_modified=5,
    tool_uses_by_name=(("Bash", 14), ("Read", 9), ("Edit", 5), ("Agent", 2), ("Grep", 1)),
    input_tokens=182_400,
    output_tokens=23_950,
    cost_usd=3.1842,
    models=("claude-sonnet-4-5",),
    active_seconds=1250.0,
    elapsed_seconds=3725.0,
    activity_per_minute=(0, 2, 5, 9, 4, 1, 0, 3, 7, 2),
    source="transcript",
    title="close-issue 583",
    state="working",
    working_seconds=1250.0,
    waiting_seconds=95.0,
    permission_requests=3,
)
"""An hour-long session, no errors, working after three permissions that kept it waiting 1m 35s."""


class SidebarApp(App[None]):
    """The sidebar alone, at the width the app gives it, showing one snapshot."""

    CSS = "Screen { align: right top; }"

    def __init__(self, snapshot: SessionSnapshot, hint: str | None = None) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.hint = hint

    def compose(self) -> ComposeResult:
        yield SessionSidebar(hint=self.hint)

    async def on_mount(self) -> None:
        sidebar = self.query_one(SessionSidebar)
        await sidebar.mount_rows()
        sidebar.show(self.snapshot)


async def _rows_shown(pilot: Pilot[Any]) -> None:
    # BUSY's counts and time, and the last heading: what the snapshot shows.
    await wait_for_screen(pilot, "Bash 14", "1h 02m", "Tool activity / min")


def test_sidebar_with_an_alert(snap_compare: Any) -> None:
    """`--alert cost>2.5 --alert duration>=3600` crossed: both rows marked."""
    snapshot = SessionSnapshot(**{**BUSY.to_dict(), "alerted_metrics": ("cost_usd", "duration_seconds")})
    assert snap_compare(SidebarApp(snapshot), terminal_size=(34, 40), run_before=_rows_shown)


def test_sidebar_waiting_for_you(snap_compare: Any) -> None:
    """Claude asks for a permission: the state stands out, the wait counts."""
    values = BUSY.to_dict() | {
        "state": "waiting",
        "state_reason": "permission for Bash",
        "permission_requests": 4,
    }
    assert snap_compare(
        SidebarApp(SessionSnapshot.from_dict(values)), terminal_size=(34, 40), run_before=_rows_shown
    )


def test_sidebar_with_an_error(snap_compare: Any) -> None:
    """A failed command: the error count in red, its first line under the tool counts."""
    values = BUSY.to_dict() | {
        "errors_encountered": 2,
        "last_error": "Exit code 2 · ls: cannot access '/nonexistent': No such file or directory",
        "alerted_metrics": ("errors_encountered",),
    }
    snapshot = SessionSnapshot.from_dict(values)
    hint = "Next, type: add a test for greet()"
    assert snap_compare(SidebarApp(snapshot, hint), terminal_size=(34, 40), run_before=_rows_shown)


class LoggingApp(App[None]):
    def on_mount(self) -> None:
        screen = LoggingScreen()
        self.push_screen(screen)
        self.call_after_refresh(screen.set_progress, "artifacts: transcript/raw.cast", 0.6)


def test_logging_screen(snap_compare: Any) -> None:
    async def shown(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, LoggingScreen), 10, "the logging screen")
        await wait_for_screen(pilot, "artifacts: transcript/raw.cast", "60%")

    assert snap_compare(LoggingApp(), terminal_size=(80, 16), run_before=shown)


def test_replay_app(snap_compare: Any, tmp_path: Path) -> None:
    """A finished replay: the recording's last screen, its colours, and the status line."""
    path = tmp_path / "session.cast"
    events = [
        [0.1, "o", "\x1b[38;2;215;119;87m❯\x1b[0m list the files\r\n"],
        [0.6, "o", "\x1b[1;32m●\x1b[0m \x1b[1mBash\x1b[0m(ls)\r\n"],
        [0.9, "o", "  ⎿  README.md  app.py\r\n"],
        [1.4, "o", "\x1b[1;31m●\x1b[0m \x1b[1mBash\x1b[0m(cat missing.txt)\r\n"],
        [1.5, "o", "  ⎿  \x1b[31mError: Exit code 1\x1b[0m\r\n"],
        [2.0, "o", "\x1b[2m✻ Worked for 2s\x1b[0m\r\n"],
    ]
    header = {"version": 2, "width": 60, "height": 10, "title": "snapshot"}
    path.write_text("\n".join(json.dumps(line) for line in [header, *events]) + "\n")
    app = ReplayApp(read_cast(path), speed=math.inf)

    async def finished(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: app.finished, 10, "the replay to finish")
        await wait_for_screen(pilot, "Worked for 2s", "■ finished")  # the pane draws a frame later

    assert snap_compare(app, terminal_size=(60, 13), run_before=finished)


# What Claude Code draws for two tool calls, one failed (NBSP after ❯ and ⎿, as the real CLI writes them).
CLAUDE_SCREEN = (
    "\x1b[38;2;215;119;87m❯\x1b[0m\u00a0list the files\r\n"
    "\x1b[1;31m●\x1b[0m \x1b[1mBash\x1b[0m(ls -la /nonexistent)\r\n"
    "  ⎿\u00a0\u00a0\x1b[31mError: Exit code 2\x1b[0m\r\n"
    "\x1b[1;32m●\x1b[0m \x1b[1mRead\x1b[0m(app.py)\r\n"
    "  ⎿\u00a0\u00a0Read 6 lines\r\n"
)


def claude_like_app(tmp_path: Path) -> tuple[ClaudeTuiApp, TrackedSession]:
    """The app on a program that draws what Claude draws for two tool calls, then waits."""
    program = tmp_path / "claude_like.py"
    program.write_text(
        f"import sys, time\nsys.stdout.write({CLAUDE_SCREEN!r})\nsys.stdout.flush()\ntime.sleep(120)\n"
    )
    config = SessionConfig(command="python", cwd=Path("/tmp"), track=False)
    session = TrackedSession(config, argv=[sys.executable, str(program)], clock=FixedClock())
    session.start(80, 20)
    return ClaudeTuiApp(session), session


DRAWN_COUNTS = (re.compile(r"tools 2 |Tool uses +2\b"), re.compile(r"errs 1 |Errors +1\b"))
"""The counts of CLAUDE_SCREEN as the sidebar or its folded status line draws them."""


def counted(app: ClaudeTuiApp, session: TrackedSession) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_for(
            pilot,
            lambda: (
                session.stats["tool_uses"] == 2
                and session.stats["errors_encountered"] == 1
                and app.query("#tab-bar Tabs")
                and app.query_one(SessionSidebar).rows_mounted
            ),
            30,
            "the counts and the tab bar",
        )
        # The pane's last frame, and the sidebar (or its folded line) and the header after a poll that read
        # those counts: each redraws on its own timer, a loaded machine can take a while.
        await wait_for_screen(pilot, "Read 6 lines", "12m 34s", "idle —", *DRAWN_COUNTS, timeout=30)

    return run_before


def test_tab_bar_after_the_fill_in(snap_compare: Any, tmp_path: Path) -> None:
    """A second in, the tab bar, the footer and the counters have come into the rows kept for them."""
    app, session = claude_like_app(tmp_path)
    assert snap_compare(app, terminal_size=(120, 30), run_before=counted(app, session))


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)], ids=["80x24", "120x40", "200x50"])
def test_session_tab_at(size: tuple[int, int], snap_compare: Any, tmp_path: Path) -> None:
    """The smallest usual terminal (the sidebar folded into one status line under the pane), a middling one
    and a wide one (the sidebar beside the pane)."""
    app, session = claude_like_app(tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=counted(app, session))
