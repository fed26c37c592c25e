"""Several sessions in one window (issue 16, item 1): the list, the new-session dialog, the ctrl+] chord,
closing one, the palette, and a worktree's keep-or-remove question (item 3). Programs are small python
scripts (the real CLI's tests are in tests/e2e/test_sessions_claude.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from textual import events
from textual.widgets import Input

from claude_tui.app import ClaudeTuiApp
from claude_tui.screens.choice import ChoiceScreen
from claude_tui.screens.logging import LoggingScreen
from claude_tui.screens.new_session import NewSessionScreen
from claude_tui.session import SessionConfig, TrackedSession
from claude_tui.widgets.session_list import SessionList
from claude_tui.widgets.session_tab import SessionTab
from claude_tui.widgets.session_view import SessionView
from claude_tui.widgets.sidebar import StatRow
from tests.helpers import wait_for

CHORD = "ctrl+right_square_bracket"

ECHO = (
    "import sys\n"
    "print('ready', sys.argv[-1], flush=True)\n"
    "for line in sys.stdin:\n"
    "    print('got', sys.argv[-1], line.strip(), flush=True)\n"
)
"""A program that says which one it is, then echoes each line typed into it."""


class FakeStore:
    """Stands in for `tracking.logger.log_spool`: notes each spool it logs."""

    def __init__(self) -> None:
        self.spools: list[Any] = []

    def __call__(self, spool: Any, **kwargs: Any) -> Any:
        self.spools.append(spool)
        run_id = f"run-{len(self.spools)}"
        return type("Logged", (), {"run_id": run_id, "experiment_id": "7", "tracking_uri": "fake://"})()


def echo_script(tmp_path: Path) -> Path:
    path = tmp_path / "echo.py"
    path.write_text(ECHO)
    return path


def first_session(tmp_path: Path, name: str = "one", **config: Any) -> TrackedSession:
    """A started session running `echo.py NAME` in `tmp_path` (the template of the sessions opened after)."""
    script = echo_script(tmp_path)
    config = {"cwd": tmp_path, **config}
    session = TrackedSession(SessionConfig(command=sys.executable, prompt=str(script), **config))
    session.start(80, 20)
    return session


async def chord(pilot: Any, key: str) -> None:
    """ctrl+] then `key`, typed one after the other as a person does (the Session tab takes the keyboard
    first: a key sent before would still go to the pane's program)."""
    app = pilot.app
    await pilot.press(CHORD)
    await wait_for(pilot, lambda: app.session_tab.has_keys, 30, "the Session tab to take the keys")
    await pilot.press(key)


def dialog_open(app: ClaudeTuiApp) -> bool:
    """The new-session dialog is up, with its fields."""
    return isinstance(app.screen, NewSessionScreen) and bool(app.screen.query("#prompt"))


def shown_text(app: ClaudeTuiApp) -> str:
    tab = app.query_one(SessionTab)
    assert tab.active is not None
    return "\n".join(tab.active.pane.emulator.display)


async def open_second(
    pilot: Any, app: ClaudeTuiApp, tmp_path: Path, name: str = "two"
) -> tuple[SessionView, SessionView]:
    """ctrl+] n, then the dialog: the same program, a script argument of its own (as its first prompt)."""
    script = tmp_path / f"{name}.py"
    script.write_text(ECHO.replace("sys.argv[-1]", repr(name)))
    await chord(pilot, "n")
    await wait_for(pilot, lambda: dialog_open(app), 30, "the new-session dialog")
    app.screen.query_one("#prompt", Input).value = str(script)
    await pilot.press("enter")
    tab = app.query_one(SessionTab)
    await wait_for(
        pilot, lambda: len(tab.views) == 2 and tab.active is tab.views[1], 30, "the second session"
    )
    await wait_for(pilot, lambda: f"ready {name}" in shown_text(app), 30, "the second program's first line")
    return tab.views[0], tab.views[1]


async def test_two_sessions_switch_by_chord_and_keys_go_to_the_shown_one(tmp_path: Path) -> None:
    store = FakeStore()
    app = ClaudeTuiApp(first_session(tmp_path), log_spool=store)
    async with app.run_test(size=(120, 30)) as pilot:
        tab = app.query_one(SessionTab)
        await wait_for(pilot, lambda: "ready" in shown_text(app), 30, "the first program")
        session_list = tab.views[0].query_one(SessionList)
        assert not session_list.has_class("-shown"), "one session: no list, the sidebar as it always was"

        await open_second(pilot, app, tmp_path)
        one, two = tab.views
        assert app.focused is two.pane
        listed = two.query_one(SessionList)
        assert listed.has_class("-shown") and [e.number for e in listed.entries] == [1, 2]
        assert [e.active for e in listed.entries] == [False, True]
        assert listed.entries[1].name.endswith("two.py")

        for keys, shown in (("1", one), ("2", two), ("p", one), ("right_square_bracket", two)):
            await chord(pilot, keys)
            assert tab.active is shown and shown.display and app.focused is shown.pane, keys
            assert not (one if shown is two else two).display
        await chord(pilot, "left_square_bracket")
        assert tab.active is one

        await pilot.press(*"hello", "enter")
        await wait_for(pilot, lambda: "got" in shown_text(app), 30, "the echo in session 1")
        assert "hello" not in "\n".join(two.pane.emulator.display), "keys went to the shown session only"

        await chord(pilot, "9")  # no such session: nothing changes
        assert tab.active is one

        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 30, "both sessions to end")
    assert len(store.spools) == 2 and len({spool.path for spool in store.spools}) == 2
    assert sorted(result.run_id for result in app.results) == ["run-1", "run-2"]


async def test_a_chord_typed_at_once_switches_and_gives_the_program_nothing(tmp_path: Path) -> None:
    """ctrl+] and the number queued together (a quick typist, a window busy adding sessions): both reach the
    pane before the keyboard has moved, and the number must still switch sessions, not go to the program
    (`bench_owner` lost 3 chords of 6 typed 0.05 s apart)."""
    app = ClaudeTuiApp(first_session(tmp_path), log_spool=FakeStore())
    async with app.run_test(size=(120, 30)) as pilot:
        one, two = await open_second(pilot, app, tmp_path)
        tab = app.session_tab
        for number, shown in (("1", one), ("2", two), ("1", one)):
            app.post_message(events.Key(CHORD, "\x1d"))
            app.post_message(events.Key(number, number))
            await wait_for(pilot, lambda shown=shown: tab.active is shown, 30, f"session {number} shown")
            await wait_for(pilot, lambda shown=shown: app.focused is shown.pane, 30, "its pane")
        for view, name in ((one, "echo.py"), (two, "two")):
            if tab.active is not view:
                await chord(pilot, "1" if view is one else "2")
                await wait_for(pilot, lambda view=view: app.focused is view.pane, 30, "the pane's keys")
            await pilot.press("enter")  # the program echoes the line typed into it: nothing
            await wait_for(pilot, lambda: "got" in shown_text(app), 30, "the program's echo")
            got = [line.rstrip() for line in view.pane.emulator.display if line.startswith("got")]
            assert got and got[0].endswith(name), f"keys reached the program: {got}"
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 30, "the app to exit")


async def test_close_one_session_logs_it_and_the_other_goes_on(tmp_path: Path) -> None:
    store = FakeStore()
    app = ClaudeTuiApp(first_session(tmp_path), log_spool=store)
    async with app.run_test(size=(120, 30)) as pilot:
        one, two = await open_second(pilot, app, tmp_path)
        tab = app.session_tab
        await chord(pilot, "x")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), 30, "the close question")
        await pilot.press("e")  # End it
        await wait_for(pilot, lambda: tab.views == [one], 30, "session 2 to be ended, logged and closed")
        assert not isinstance(app.screen, LoggingScreen), "session 1 runs on: no modal over it"
        assert tab.active is one and app.focused is one.pane
        assert not one.query_one(SessionList).has_class("-shown")
        assert len(store.spools) == 1 and store.spools[0].path == two.session.spool.path
        assert app.return_value is None, "the app goes on with session 1"

        await pilot.press(*"still here", "enter")
        await wait_for(pilot, lambda: "still here" in shown_text(app), 30, "session 1 to answer")
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 30, "the app to exit")
    assert [r.run_id for r in app.results] == ["run-1", "run-2"]


async def test_a_background_session_that_ends_stays_listed_until_closed(tmp_path: Path) -> None:
    store = FakeStore()
    app = ClaudeTuiApp(first_session(tmp_path), log_spool=store)
    async with app.run_test(size=(120, 30)) as pilot:
        one, two = await open_second(pilot, app, tmp_path)
        tab = app.session_tab
        await pilot.press("ctrl+d")  # session 2's program reads end of input and exits
        await wait_for(pilot, lambda: two.state == "logged", 30, "session 2 to be logged")
        assert not isinstance(app.screen, LoggingScreen)
        entries = two.query_one(SessionList).entries
        assert [e.state for e in entries] == [one.state, "logged"]
        await pilot.press("1")  # the pane of an ended program passes keys to the app: no chord needed
        assert tab.active is one
        entries = one.query_one(SessionList).entries
        assert entries[1].state == "logged"
        await chord(pilot, "2")
        await pilot.press("x")  # an ended session closes without a question
        await wait_for(pilot, lambda: tab.views == [one], 30, "session 2 to be closed")
        assert app.return_value is None
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 30, "the app to exit")


async def test_the_palette_lists_the_sessions(tmp_path: Path) -> None:
    app = ClaudeTuiApp(first_session(tmp_path), log_spool=FakeStore())
    async with app.run_test(size=(120, 30)) as pilot:
        tab = app.query_one(SessionTab)
        await open_second(pilot, app, tmp_path)
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        titles = [title for title in commands if title[:9] in ("Session 1", "Session 2")]
        assert len(titles) == 2 and titles[0].startswith("Session 1: ") and "two.py" in titles[1]
        assert "New session" in commands
        commands[titles[0]].callback()
        await pilot.pause()
        assert tab.active is tab.views[0]
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 30, "the app to exit")


def repository(path: Path) -> Path:
    path.mkdir()
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "t@example.com"],
        ["config", "user.name", "T"],
    ):
        subprocess.run(["git", *args], cwd=path, check=True)
    (path / "a.txt").write_text("a\n")
    subprocess.run(["git", "add", "a.txt"], cwd=path, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "start"], cwd=path, check=True)
    return path


async def test_a_worktree_session_asks_keep_or_remove_and_never_drops_uncommitted_work(
    tmp_path: Path,
) -> None:
    repo = repository(tmp_path / "repo")
    script = echo_script(tmp_path)
    app = ClaudeTuiApp(first_session(tmp_path, cwd=repo), log_spool=FakeStore())
    async with app.run_test(size=(120, 30)) as pilot:
        tab = app.query_one(SessionTab)
        await chord(pilot, "n")
        await wait_for(pilot, lambda: dialog_open(app), 30, "the new-session dialog")
        app.screen.query_one("#prompt", Input).value = str(script)
        app.screen.query_one("#branch", Input).value = "try-it"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(tab.views) == 2, 30, "the worktree session")
        two = tab.views[1]
        worktree = two.session.config.worktree
        assert (
            worktree is not None and worktree.branch == "try-it" and two.session.config.cwd == worktree.path
        )
        assert worktree.path.parent == tmp_path / "repo.worktrees"
        (worktree.path / "new.txt").write_text("uncommitted\n")

        await chord(pilot, "x")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), 30, "the close question")
        await pilot.press("e")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ChoiceScreen) and "worktree" in str(app.screen._title),
            30,
            "the worktree question",
        )
        await pilot.press("r")  # Remove ...
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ChoiceScreen) and "uncommitted" in str(app.screen._title),
            10,
            "the uncommitted-work question",
        )
        await pilot.press("escape")  # ... but Escape keeps it
        await wait_for(pilot, lambda: len(tab.views) == 1, 30, "session 2 to be closed")
        assert (worktree.path / "new.txt").read_text() == "uncommitted\n"
        assert tab.notes == [f"worktree kept: {worktree.path} (branch try-it)"]
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 30, "the app to exit")


async def test_the_last_session_of_a_worktree_asks_before_the_app_exits(tmp_path: Path) -> None:
    """`claude-tui --worktree`: the program ends, the session is logged, then keep-or-remove is asked; a clean
    worktree is removed on "Remove", and the line saying so is what the command line prints."""
    from claude_tui.worktree import create

    repo = repository(tmp_path / "repo")
    script = tmp_path / "done.py"
    script.write_text("print('done')\n")
    config = SessionConfig(command=sys.executable, prompt=str(script), cwd=repo)
    config.worktree = create(repo, "quick-fix", session_id=config.session_id)
    config.cwd = config.worktree.cwd
    session = TrackedSession(config)
    session.start(80, 20)
    app = ClaudeTuiApp(session, log_spool=FakeStore())
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), 30, "the worktree question")
        assert app.return_value is None, "the app waits for the answer"
        await pilot.press("r")
        await wait_for(pilot, lambda: app.return_value is not None, 30, "the app to exit")
    assert app.return_value.run_id == "run-1"
    assert not config.worktree.path.exists()
    assert app.notes and app.notes[0].startswith(f"removed worktree {config.worktree.path}")


TOOL_LINE = (
    "import sys\n"
    "print('ready', flush=True)\n"
    "for line in sys.stdin:\n"
    "    print('● Bash(ls -la)', flush=True)\n"
)
"""A program whose screen the parser counts: a tool line for each line typed."""


async def test_a_hidden_session_s_sidebar_catches_up_when_it_is_shown(tmp_path: Path) -> None:
    """A session in the background goes on counting, but its sidebar is drawn when it is shown (before the
    switch's first frame, not a frame later): refreshing a hidden widget makes Textual arrange the whole
    screen (8 idle sessions: most of the window's CPU)."""
    script = tmp_path / "tools.py"
    script.write_text(TOOL_LINE)
    session = TrackedSession(SessionConfig(command=sys.executable, prompt=str(script), cwd=tmp_path))
    session.start(80, 20)
    app = ClaudeTuiApp(session, log_spool=FakeStore())
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: "ready" in shown_text(app), 30, "the first program")
        one, _two = await open_second(pilot, app, tmp_path)
        await wait_for(pilot, lambda: one.sidebar.rows_mounted, 30, "the first session's counters")
        row = one.sidebar.query_one("#stat-tool_uses", StatRow)
        one.pane.send(b"go\r")
        await wait_for(
            pilot, lambda: one.snapshot is not None and one.snapshot.tool_uses == 1, 30, "the hidden count"
        )
        assert row._shown != ("Tool uses", "1")  # counted, not drawn while hidden
        app.session_tab.show(one)
        assert row._shown == ("Tool uses", "1")  # drawn at once: the switch's first frame has it
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 30, "both sessions to end")


async def test_a_switch_renders_the_window_once(tmp_path: Path, monkeypatch: Any) -> None:
    """Switching sessions renders the whole window once: the new title repaints only the header's title line
    (Textual's title reactives repainted the whole screen, a second full render a frame later, and its header
    asked for a layout), and the shown pane is not redrawn whole again for a Resize to the size it had."""
    from textual._compositor import Compositor
    from textual.widgets._header import HeaderTitle

    app = ClaudeTuiApp(first_session(tmp_path), log_spool=FakeStore())
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: "ready" in shown_text(app), 30, "the first program")
        one, two = await open_second(pilot, app, tmp_path)
        title = app.query_one(HeaderTitle)
        await wait_for(pilot, lambda: two.session.title in str(title.content), 30, "the second's title")
        full_renders: list[int] = []
        pane_refreshes: list[int] = []
        render_full_update = Compositor.render_full_update

        def counted(self: Compositor, **kwargs: Any) -> Any:
            full_renders.append(1)
            return render_full_update(self, **kwargs)

        monkeypatch.setattr(Compositor, "render_full_update", counted)
        pane_refresh = one.pane.refresh
        monkeypatch.setattr(
            one.pane,
            "refresh",
            lambda *regions, **kw: pane_refreshes.append(len(regions)) or pane_refresh(*regions, **kw),
        )
        app.session_tab.show(one)
        await wait_for(pilot, lambda: one.session.title in str(title.content), 30, "the first's title")
        await pilot.pause(0.3)  # the frames a repaint of the whole screen would have come in
        assert len(full_renders) == 1
        # Redrawn whole only by Textual's focus (`focus()` and its Focus event), not for a Resize to its size:
        assert pane_refreshes.count(0) <= 2, pane_refreshes
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 30, "both sessions to end")
