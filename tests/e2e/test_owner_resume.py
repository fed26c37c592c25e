"""History's `r` in a window on the owner's sessions starts the resumed conversation in the owner (issue 16
item 2): it outlives the window like the others. The real CLI against the stub resumes a real earlier
conversation."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from claude_tui.app import ClaudeTuiApp
from claude_tui.owner.attached import OwnerPump
from claude_tui.owner.client import OwnerClient
from claude_tui.session import SessionConfig
from claude_tui.widgets.attached_view import AttachedSessionView
from tests.e2e.test_lifecycle import ALLOWED, earlier_conversation, scenario
from tests.functional.test_owner_attach import quit_and_answer
from tests.helpers import wait_for


async def test_r_in_a_window_on_the_owner_resumes_in_the_owner(
    claude_env: Any, tmp_path: Path, owner_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = claude_env(scenario())
    earlier = earlier_conversation(env)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(env.config_dir))
    with OwnerClient.connect() as client:
        config = SessionConfig(command=sys.executable, cwd=tmp_path, track=False)
        first_id = client.spawn(config.to_dict(), [sys.executable, "-c", "input()"], cols=80, rows=24)

    def session_config(cwd: Path, claude_args: list[str]) -> SessionConfig:
        return SessionConfig(command=str(env.claude_bin), claude_args=[*claude_args, *ALLOWED], cwd=cwd,
                             env=env.env(), config_dir=env.config_dir, track=False)  # fmt: skip

    first = AttachedSessionView(OwnerPump.attach(first_id))
    app = ClaudeTuiApp(attached=[first], session_config=session_config)
    async with app.run_test(size=(140, 42)) as pilot:
        tab = app.session_tab
        await wait_for(pilot, lambda: app.focused is first.pane, 20, "the first pane")
        target = SimpleNamespace(cwd=env.work_dir, session_id=earlier)
        app.on_history_pane_resume_requested(SimpleNamespace(target=target))  # what `r` on its run posts
        await wait_for(
            pilot, lambda: len(tab.views) == 2 and tab.active is tab.views[1], 60, "the resumed one"
        )
        resumed = tab.views[1]
        assert isinstance(resumed, AttachedSessionView)
        owned = owner_server.sessions[resumed.owner_pump.session_id]
        argv = owned.pump.session.argv
        assert argv[0] == str(env.claude_bin) and argv[argv.index("--resume") + 1] == earlier
        assert owned.config.cwd == env.work_dir
        screen = lambda: "\n".join(resumed.pane.emulator.display)  # noqa: E731
        await wait_for(
            pilot, lambda: "List the files here" in screen(), 60, "the conversation", describe=screen
        )
        await quit_and_answer(pilot, "enter")  # detach: both run on in the owner
    assert [result.detached for result in app.results] == [True, True]
    assert owned.running and owner_server.sessions[first_id].running
