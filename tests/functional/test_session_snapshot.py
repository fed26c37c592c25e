"""Snapshot of the Session tab: the recorded interactive Claude session replayed into the pane, the sidebar
filled from that session's real transcript, and a fixed clock (so the SVG is the same on every run)."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from typing import Any

from claude_tui.app import ClaudeTuiApp
from claude_tui.session import SessionConfig, TrackedSession
from claude_tui.widgets.sidebar import SessionSidebar
from claude_tui.widgets.terminal import TerminalPane
from tests.helpers import FixedClock, wait_for, wait_for_screen

DATA = Path(__file__).resolve().parent.parent / "data" / "streams"
STREAM = DATA / "claude_interactive.bin"
SESSION_ID = "5d0c3606-b32e-5dc2-afcf-dc2a27b6d2a5"
SIDEBAR_WIDTH = 34
CHROME_ROWS = 4  # header, tab bar (2 rows), footer
SIZE = (120 + SIDEBAR_WIDTH, 40 + CHROME_ROWS)
"""The recording is 120x40: give the pane exactly that."""


def build_app(tmp_path: Path) -> tuple[ClaudeTuiApp, TrackedSession]:
    config_dir = tmp_path / "claude-config"
    shutil.copytree(DATA / "claude_interactive", config_dir)
    player = tmp_path / "play.py"
    player.write_text(
        "import sys, time\n"
        f"sys.stdout.buffer.write(open({str(STREAM)!r}, 'rb').read())\n"
        "sys.stdout.flush()\ntime.sleep(120)\n"
    )
    config = SessionConfig(
        command="claude", cwd=Path("/tmp"), session_id=SESSION_ID, config_dir=config_dir, track=False
    )
    session = TrackedSession(config, argv=[sys.executable, str(player)], clock=FixedClock())
    session.start(120, 40)
    return ClaudeTuiApp(session), session


DRAWN_COUNTS = (r"Tool uses +11\b", r"Errors +1\b", r"Git ops +5\b", r"Sub-agent tools +2\b")
"""The recording's counts as the sidebar draws them."""


def test_session_tab_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    app, session = build_app(tmp_path)

    async def until_replayed(pilot: Any) -> None:
        pane = app.query_one(TerminalPane)
        sidebar = app.query_one(SessionSidebar)
        await wait_for(
            pilot,
            # The recording ends with the shell prompt the CLI left behind after /exit.
            lambda: (
                session.stats["tool_uses"] == 11
                and any("/exit" in line for line in pane.emulator.display)
                and sidebar.rows_mounted
            ),
            30,
            "the replayed session and its counts",
        )
        # The pane's last frame, and the sidebar and the header after a poll that read those counts.
        drawn = ("Resume this session with:", "12m 34s", "idle —", *(re.compile(p) for p in DRAWN_COUNTS))
        await wait_for_screen(pilot, *drawn, timeout=30)

    assert snap_compare(app, terminal_size=SIZE, run_before=until_replayed)
