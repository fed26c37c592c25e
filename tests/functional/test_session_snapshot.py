"""Snapshot of the Session tab: the recorded interactive Claude session replayed into the pane, the sidebar
filled from that session's real transcript, and a fixed clock (so the SVG is the same on every run)."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

from claude_tui.app import ClaudeTuiApp
from claude_tui.session import SessionConfig, TrackedSession
from claude_tui.widgets.sidebar import SessionSidebar
from claude_tui.widgets.terminal import TerminalPane
from tests.helpers import FixedClock

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


def test_session_tab_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    app, session = build_app(tmp_path)

    async def until_replayed(pilot: Any) -> None:
        pane = app.query_one(TerminalPane)
        sidebar = app.query_one(SessionSidebar)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            # The recording ends with the shell prompt the CLI left behind after /exit.
            replayed = any("/exit" in line for line in pane.emulator.display)
            if session.stats["tool_uses"] == 11 and replayed and sidebar.rows_mounted:
                break
            await pilot.pause(0.1)
        await pilot.pause(0.6)  # one more sidebar poll and frame

    assert snap_compare(app, terminal_size=SIZE, run_before=until_replayed)
