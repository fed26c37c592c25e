"""Issue 18, as a new user meets it in the Session tab: keys you can see, a sidebar that fits the terminal,
the demo's hint that stays visible and moves on."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from textual.widgets._footer import FooterKey

from claude_tui.app import ClaudeTuiApp
from claude_tui.session import SessionConfig, TrackedSession
from claude_tui.widgets.sidebar import SessionSidebar
from claude_tui.widgets.terminal import TerminalPane
from tests.helpers import wait_for


def program_session(tmp_path: Path, body: str) -> TrackedSession:
    """An untracked session of a python program running `body`."""
    path = tmp_path / "prog.py"
    path.write_text(body)
    argv = [sys.executable, str(path)]
    session = TrackedSession(SessionConfig(command=argv[0], cwd=tmp_path, track=False), argv=argv)
    session.start(80, 20)
    return session


IN_THE_PANE = {"ctrl+q", "ctrl+backslash", "ctrl+right_square_bracket"}
"""Quit, the command palette (priority bindings) and the pane's own key: what works while it has the keys."""


def footer_keys(app: ClaudeTuiApp) -> set[str]:
    return {key.key for key in app.query(FooterKey)}


async def filled_in(pilot: Any) -> None:
    app = pilot.app
    await wait_for(
        pilot,
        lambda: app.query_one(SessionSidebar).rows_mounted and app.query(FooterKey),
        20,
        "the counters and the footer",
    )
    await pilot.pause()


async def test_footer_shows_the_keys_that_work_where_the_keyboard_is(tmp_path: Path) -> None:
    """In the pane only ctrl+] (and the priority ctrl+q) reach claude-tui; the footer says so, and shows the
    app's own keys once ctrl+] has handed the keyboard over."""
    app = ClaudeTuiApp(program_session(tmp_path, "import time; time.sleep(60)\n"))
    async with app.run_test(size=(120, 30)) as pilot:
        await filled_in(pilot)
        assert app.focused is app.query_one(TerminalPane)
        assert footer_keys(app) == IN_THE_PANE
        await pilot.press("ctrl+right_square_bracket")
        # The footer waits a moment for a chord's second key (`KeysFooter.CHORD_SETTLE`), then shows them.
        await wait_for(
            pilot, lambda: {"ctrl+q", "t", "s", "h", "b"} <= footer_keys(app), 10, "the app's keys"
        )
        assert "ctrl+right_square_bracket" not in footer_keys(app)
        await pilot.press("t")
        await pilot.pause()
        assert footer_keys(app) == IN_THE_PANE
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")


async def test_sidebar_folds_in_a_narrow_terminal_and_b_toggles_it(tmp_path: Path) -> None:
    """At 80 columns the counters fold into one status line and the pane takes the whole width; `b` unfolds
    them (and folds them again); at 120 columns the sidebar stands beside the pane."""
    app = ClaudeTuiApp(program_session(tmp_path, "import time; time.sleep(60)\n"))
    async with app.run_test(size=(80, 24)) as pilot:
        await filled_in(pilot)
        sidebar = app.query_one(SessionSidebar)
        pane = app.query_one(TerminalPane)
        assert sidebar.folded and pane.size.width == 80 and sidebar.size.height == 1
        await wait_for(
            pilot, lambda: "nothing to count" in str(sidebar.query_one("#status-line").render()), 10, "status"
        )
        await pilot.press("ctrl+right_square_bracket", "b")
        await pilot.pause()
        assert not sidebar.folded and pane.size.width == 80 - 34
        await pilot.press("b")
        await pilot.pause()
        assert sidebar.folded and pane.size.width == 80
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")
    app = ClaudeTuiApp(program_session(tmp_path, "import time; time.sleep(60)\n"))
    async with app.run_test(size=(120, 30)) as pilot:
        await filled_in(pilot)
        sidebar = app.query_one(SessionSidebar)
        assert not sidebar.folded and app.query_one(TerminalPane).size.width == 120 - 34
        await pilot.press("ctrl+right_square_bracket", "b")
        await pilot.pause()
        assert sidebar.folded and app.query_one(TerminalPane).size.width == 120
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")


async def test_hint_stays_visible_folded_and_moves_on_after_the_follow_up(tmp_path: Path) -> None:
    """The demo's advice: the follow-up prompt while one prompt was typed, then "/exit" once the follow-up is
    in; at 80x24 it is on screen under the pane."""
    body = (
        "import sys, time\n"
        "sys.stdout.write('\\u276f\\u00a0first prompt\\r\\n'); sys.stdout.flush(); time.sleep(3)\n"
        "sys.stdout.write('\\u276f\\u00a0second prompt\\r\\n'); sys.stdout.flush(); time.sleep(60)\n"
    )
    hints = ["Next, type:\n  second prompt", "Now type /exit to end the session and log it."]
    app = ClaudeTuiApp(program_session(tmp_path, body), hint=hints)
    async with app.run_test(size=(80, 24)) as pilot:
        sidebar = app.query_one(SessionSidebar)
        hint = sidebar.query_one("#hint")
        assert sidebar.folded and hint.region.height == 2 and hint.region.bottom <= 24 - 1
        await wait_for(pilot, lambda: sidebar.hint == hints[1], 20, "the hint to move on")
        await pilot.pause()
        assert hint.region.height == 1 and hint.region.bottom <= 24 - 1
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")


class FakeStore:
    """Stands in for `tracking.logger.log_spool`: keeps the spool's summary."""

    def __init__(self) -> None:
        self.summaries: list[dict[str, Any]] = []

    def __call__(self, spool: Any, **kwargs: Any) -> Any:
        self.summaries.append(spool.summary)
        return type("Logged", (), {"run_id": "r1", "experiment_id": "1", "tracking_uri": "fake://"})()


@pytest.mark.parametrize("shell", ["bash", "zsh"])
async def test_a_shell_counts_its_commands_and_failures(shell: str, tmp_path: Path) -> None:
    """`--command bash`/`zsh` recorded 0 commands and 0 errors; with OSC 133 marks injected (the user's own
    rc file still read) it counts each command, each failed one, and git in them, and logs them."""
    from claude_tui.commands.run import build_config

    home = tmp_path / "home"
    home.mkdir()
    rc = ".bashrc" if shell == "bash" else ".zshrc"
    (home / rc).write_text("PS1='mine> '\nalias hello='echo hello from the rc file'\n")
    config = build_config(
        command=shell, prompt=None, claude_args=[], cwd=tmp_path, tracking_uri=None, experiment=None,
        tags=(), alerts=(), no_track=False, no_redact=False, env={"HOME": str(home)},
    )  # fmt: skip
    session = TrackedSession(config)
    session.start(80, 20)
    store = FakeStore()
    app = ClaudeTuiApp(session, log_spool=store)
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(TerminalPane)
        screen = lambda: "\n".join(pane.emulator.display)  # noqa: E731
        await wait_for(pilot, lambda: "mine>" in screen(), 20, "the user's own prompt", describe=screen)
        for line in ("hello", "false", "git --version", "ls /no/such/dir"):
            await pilot.press(*line, "enter")
            await pilot.pause(0.3)
        await wait_for(pilot, lambda: session.source == "shell" and session.stats["commands_executed"] == 4,
                       20, "four commands", describe=lambda: f"{session.stats}\n{screen()}")  # fmt: skip
        assert "hello from the rc file" in screen()
        stats = session.stats
        assert stats["errors_encountered"] == 2 and stats["git_operations"] == 1
        await wait_for(pilot, lambda: app.query_one("#stat-commands_executed").text.split()[-1] == "4", 10)
        await pilot.press(*"exit", "enter")
        await wait_for(pilot, lambda: app.return_value is not None, 20, "the app to exit")
    summary = store.summaries[0]
    # `exit` is a fifth command (its mark came with the shell's last output, taken at the end).
    assert summary["stats_source"] == "shell" and summary["stats"]["commands_executed"] == 5
    assert summary["stats"]["errors_encountered"] == 2


async def test_a_program_with_nothing_to_count_says_so(tmp_path: Path) -> None:
    app = ClaudeTuiApp(
        program_session(tmp_path, "import time; print('working', flush=True); time.sleep(60)\n")
    )
    async with app.run_test(size=(120, 30)) as pilot:
        await filled_in(pilot)
        sidebar = app.query_one(SessionSidebar)
        await wait_for(pilot, lambda: sidebar.has_class("-nothing"), 10, "the note")
        note = str(sidebar.query_one("#nothing").render())
        assert (
            note.startswith("Nothing to count: ") and not sidebar.query_one("#stat-commands_executed").display
        )
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")
