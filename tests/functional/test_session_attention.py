"""A program's bell and notifications reach the outer terminal; without hooks, its bell means it waits."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from claude_tui.app import ClaudeTuiApp
from claude_tui.session import SessionConfig, TrackedSession
from claude_tui.widgets import session_view
from claude_tui.widgets.sidebar import SessionSidebar
from tests.helpers import wait_for


@pytest.mark.parametrize("notify", [True, False])
async def test_bell_and_osc_notifications_pass_through_and_the_bell_means_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, notify: bool
) -> None:
    program = tmp_path / "prog.py"
    # The test creates `go` after the fill-in: the program is idle, then asks for attention (a fixed 1.5 s
    # could end before a loaded machine's fill-in).
    go = tmp_path / "go"
    program.write_text(
        "import os, sys, time\n"
        f"while not os.path.exists({str(go)!r}):\n    time.sleep(0.02)\n"
        "sys.stdout.write('ready\\n\\x1b]9;build done\\x07\\x1b]777;notify;T;B\\x07\\a')\n"
        "sys.stdout.flush()\ntime.sleep(30)\n"
    )
    written: list[str] = []
    monkeypatch.setattr(session_view, "write_to_outer_terminal", lambda app, text: written.append(text))
    config = SessionConfig(command=sys.executable, cwd=tmp_path, track=False, notify_terminal=notify)
    session = TrackedSession(config, argv=[sys.executable, str(program)])
    session.start(80, 20)
    app = ClaudeTuiApp(session)
    bells: list[Any] = []
    monkeypatch.setattr(app, "bell", lambda: bells.append(1))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.query_one(SessionSidebar).rows_mounted, 30, "the fill-in")
        go.touch()
        await wait_for(pilot, lambda: session.lifecycle.state == "waiting", 30, "the bell to mean waiting")
        ours = lambda: [text for text in written if "waiting for you: the program rang the bell" in text]  # noqa: E731
        await wait_for(
            pilot,
            lambda: "waiting for you" in app.title and (ours() or not notify),
            30,
            "the title and the outer terminal's notification",
            describe=lambda: f"{app.title!r} {written!r}",
        )
        assert session.lifecycle.reason == "the program rang the bell"
        assert "waiting for you" in app.title
        if notify:
            assert "\x1b]9;build done\x07\x1b]777;notify;T;B\x07" in written  # the program's own, as sent
            assert bells  # its BEL
            assert ours()[0].startswith("\x07")  # ours: BEL, OSC 9, OSC 777
        else:
            assert written == [] and bells == []
        await app.action_quit()
