"""`claude-tui attach` in the app: an `OwnerPump` as the pane's program, against the real owner (in a thread
of the test) running a real program in a real PTY.

The pane shows the owner's screen as it is, keys and resizes reach the program through the owner, quitting
detaches (the program runs on), and a second window attached later starts from the same screen.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Footer, Tabs

from claude_tui.app import ClaudeTuiApp
from claude_tui.owner.attached import OwnerPump
from claude_tui.owner.client import OwnerClient, OwnerError
from claude_tui.screens.choice import ChoiceScreen
from claude_tui.session import SessionConfig
from claude_tui.widgets.attached_view import AttachedSessionView
from claude_tui.widgets.session_view import SessionView
from tests.helpers import wait_for, wait_until

PROGRAM = """import os, sys, time
print('ready', flush=True)
sys.stdout.write('\\a'); sys.stdout.flush()
for line in sys.stdin:
    line = line.strip()
    if line == 'size':
        print('size', *os.get_terminal_size(), flush=True)
    elif line == 'bell':
        sys.stdout.write('rung\\a\\n'); sys.stdout.flush()
    else:
        print('got', line[::-1], flush=True)
"""


def screen(pump: OwnerPump) -> str:
    return "\n".join([*pump.emulator.history_lines(), *pump.emulator.display])


async def quit_and_answer(pilot: Any, key: str) -> None:
    """ctrl+q, then `key` for the question it asks (Detach is the default), until the window closes."""
    app = pilot.app
    await pilot.press("ctrl+q")
    await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), 20, "the question")
    await pilot.press(key)
    await wait_for(pilot, lambda: app.return_value is not None, 30, "the window to close")


def spawn(tmp_path: Path, *, ring_at_start: bool = True) -> str:
    path = tmp_path / ("prog.py" if ring_at_start else "quiet.py")
    path.write_text(PROGRAM if ring_at_start else PROGRAM.replace("sys.stdout.write('\\a'); ", ""))
    config = SessionConfig(command=sys.executable, cwd=tmp_path, track=False)
    with OwnerClient.connect() as client:
        return client.spawn(config.to_dict(), [sys.executable, str(path)], cols=80, rows=24)


async def test_attach_shows_the_screen_keys_and_resizes_go_through_and_quitting_detaches(
    tmp_path: Path, owner_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_id = spawn(tmp_path)
    owned = owner_server.sessions[session_id]
    wait_until(lambda: "ready" in "\n".join(owned.pump.emulator.display), 20, "the program's first line")
    wait_until(lambda: owned.pump.emulator.bell_count == 1, 20, "the program's first bell")

    pump = OwnerPump.attach(session_id[:6])
    assert pump.session_id == session_id and "ready" in screen(pump)  # the screen as it is, at once
    view = AttachedSessionView(pump)
    app = ClaudeTuiApp(attached=[view])
    bells: list[int] = []
    monkeypatch.setattr(app, "bell", lambda: bells.append(1))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.focused is view.pane, 20, "the pane to take the keys")
        assert app.active_tab == "session"
        cols, rows = view.pane.content_size
        await wait_for(pilot, lambda: owned.pump.emulator.cols == cols, 20, "the program's terminal resized")
        await pilot.press("a", "b", "c", "enter")
        await wait_for(
            pilot, lambda: "got cba" in screen(pump), 20, "the echo", describe=lambda: screen(pump)
        )
        view.pane.send(b"size\r")
        await wait_for(pilot, lambda: f"size {cols} {rows}" in screen(pump), 20, "the program's size")
        assert bells == [], "the bell rung before the window attached rings no more"
        view.pane.send(b"bell\r")
        await wait_for(pilot, lambda: bells == [1], 20, "the program's bell, passed on once")
        await wait_for(pilot, lambda: view.snapshot is not None, 20, "the owner's counts")
        assert view.session.spool is None and view.session.config.track is False  # the owner records
        await quit_and_answer(pilot, "enter")  # Detach, the default
    [result] = app.results
    assert result.detached and result.session_id == session_id and result.exit_code is None

    with OwnerClient.connect() as client:
        wait_until(lambda: client.list_sessions()[0]["clients"] == 0, 20, "the owner to drop the window")
        [listed] = client.list_sessions()
    assert listed["state"] not in ("ended", "logged") and owned.running

    again = OwnerPump.attach(session_id)
    assert "got cba" in screen(again) and f"size {cols} {rows}" in screen(again)
    view = AttachedSessionView(again)
    app = ClaudeTuiApp(attached=[view])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.focused is view.pane, 20, "the pane to take the keys")
        view.pane.send(b"\x04")  # end of input: the program ends
        await wait_for(pilot, lambda: app.return_value is not None, 20, "the program's end")
    [result] = app.results
    assert result.exit_code == 0 and not result.detached and not result.handed_off  # untracked: no run


async def test_a_window_on_the_owner_s_session_gets_its_tab_bar_and_footer_after_the_first_frame(
    tmp_path: Path, owner_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a window's own session (docs/startup.md): the tab bar and the footer come with the counters
    (`SessionView.FilledIn`), into rows kept for them, not in the first frame (they cost ~25 ms of the
    window's CPU while Claude starts); the pane keeps its size when they come."""
    monkeypatch.setattr(SessionView, "FILL_IN_AFTER", 2.0)
    view = AttachedSessionView(OwnerPump.attach(spawn(tmp_path, ring_at_start=False)))
    app = ClaudeTuiApp(attached=[view])
    async with app.run_test(size=(120, 30)) as pilot:
        assert not app.query(Tabs) and not app.query(Footer)
        assert app.query("#tab-bar") and app.query("#footer-bar")  # their rows are kept
        await wait_for(pilot, lambda: app.focused is view.pane, 20, "the pane to take the keys")
        first_size = view.pane.size
        await wait_for(pilot, lambda: app.query(Tabs) and app.query(Footer), 20, "the tab bar and the footer")
        await pilot.pause()
        assert view.pane.size == first_size and app.active_tab == "session"
        assert app.query_one("#tab-bar Tabs", Tabs).active == "tab-session"
        view.detach()
        await wait_for(pilot, lambda: app.return_value is not None, 20, "the window to close")


def test_attaching_to_no_such_session_says_so(owner_server: Any) -> None:
    with pytest.raises(OwnerError, match="no session nosuch"):
        OwnerPump.attach("nosuch")


async def test_a_signal_to_the_window_detaches(tmp_path: Path, owner_server: Any) -> None:
    """SIGHUP or SIGTERM of an attached window (its terminal closed) leaves the program running."""
    import signal

    session_id = spawn(tmp_path)
    view = AttachedSessionView(OwnerPump.attach(session_id))
    app = ClaudeTuiApp(attached=[view])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: "ready" in screen(view.owner_pump), 20, "the screen")
        app._end_on_signal(signal.SIGTERM)
        await wait_for(pilot, lambda: app.return_value is not None, 20, "the window to close")
    assert app.results[0].detached and owner_server.sessions[session_id].running


async def test_two_attached_sessions_a_background_wait_marks_its_entry_and_rings_once(
    tmp_path: Path, owner_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both of the owner's sessions in one window; the one in the background rings (without hooks, a bell
    means the program waits for you): its entry is marked, the terminal rings once, `w` goes there."""
    from claude_tui.widgets import session_view
    from tests.functional.test_sessions import chord

    ids = [spawn(tmp_path, ring_at_start=False), spawn(tmp_path, ring_at_start=False)]
    written: list[str] = []
    monkeypatch.setattr(session_view, "write_to_outer_terminal", lambda app, text: written.append(text))
    one, two = (AttachedSessionView(OwnerPump.attach(session_id)) for session_id in ids)
    app = ClaudeTuiApp(attached=[one, two])
    async with app.run_test(size=(120, 30)) as pilot:
        tab = app.session_tab
        await wait_for(
            pilot, lambda: one.snapshot is not None and two.snapshot is not None, 20, "both counts"
        )
        assert tab.active is one and not two.display and len(tab.views) == 2
        assert not tab.attention(two) and two.state != "waiting" and written == []
        # Hidden, it polls only when the owner says something (its news), not each second.
        assert two.poll_delay(0.0) == AttachedSessionView.HIDDEN_POLL_INTERVAL > one.poll_delay(0.0)
        two.pane.send(b"bell\r")
        await wait_for(pilot, lambda: tab.attention(two), 20, "the mark", describe=lambda: two.state)
        await pilot.pause(2.0)  # several polls, several stats messages from the owner
        assert len([text for text in written if "waiting for you" in text]) == 1, written
        await chord(pilot, "w")
        await wait_for(pilot, lambda: tab.active is two and app.focused is two.pane, 20, "w to show it")
        await quit_and_answer(pilot, "d")
    assert [result.detached for result in app.results] == [True, True]
    assert all(owner_server.sessions[session_id].running for session_id in ids)


async def test_quitting_asks_detach_the_default_or_end_all_and_the_footer_says_so(
    tmp_path: Path, owner_server: Any
) -> None:
    """Issue 16 item 2: ctrl+q in a window on the owner's sessions says what it does (detach) and asks:
    Escape cancels, Enter detaches (the programs run on), `e` ends them all (each program ended, as ctrl+q
    in a window's own session does)."""
    ids = [spawn(tmp_path, ring_at_start=False), spawn(tmp_path, ring_at_start=False)]
    views = [AttachedSessionView(OwnerPump.attach(session_id)) for session_id in ids]
    app = ClaudeTuiApp(attached=views)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.focused is views[0].pane, 20, "the pane to take the keys")
        assert app.screen.active_bindings["ctrl+q"].binding.description == "Quit (detach)"
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), 20, "the question")
        assert "2 sessions run in the session owner" in str(app.screen.query_one("#question").render())
        await pilot.press("escape")  # Cancel: nothing happens
        await wait_for(pilot, lambda: not isinstance(app.screen, ChoiceScreen), 20, "the question to go")
        await pilot.pause(0.3)
        assert app.return_value is None and all(not view.ending for view in views)
        await quit_and_answer(pilot, "e")  # End all
    assert [result.detached for result in app.results] == [False, False]
    owned = [owner_server.sessions[session_id] for session_id in ids]
    wait_until(lambda: not any(session.running for session in owned), 20, "the programs to be ended")


async def test_n_in_an_attached_window_starts_the_session_in_the_owner(
    tmp_path: Path, owner_server: Any
) -> None:
    """Issue 16 item 2: a session opened with `n` in a window on the owner's sessions is the owner's too (it
    outlives the window), started from the first session's config."""
    from tests.functional.test_sessions import chord, dialog_open

    session_id = spawn(tmp_path, ring_at_start=False)
    view = AttachedSessionView(OwnerPump.attach(session_id))
    app = ClaudeTuiApp(attached=[view])
    async with app.run_test(size=(120, 30)) as pilot:
        tab = app.session_tab
        await wait_for(pilot, lambda: app.focused is view.pane, 20, "the pane to take the keys")
        await chord(pilot, "n")
        await wait_for(pilot, lambda: dialog_open(app), 20, "the new-session dialog")
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(tab.views) == 2 and tab.active is tab.views[1], 30, "session 2")
        second = tab.views[1]
        assert isinstance(second, AttachedSessionView)
        new_id = second.owner_pump.session_id
        assert new_id in owner_server.sessions and new_id != session_id
        owned = owner_server.sessions[new_id]
        assert owned.config.cwd == tmp_path and owned.config.track is False  # the first session's config
        await quit_and_answer(pilot, "enter")
    assert [result.detached for result in app.results] == [True, True]
    assert owner_server.sessions[session_id].running and owner_server.sessions[new_id].running


SCROLLED = """import sys, time
name = sys.argv[1]
for n in range(300):
    print(name, 'scrolled', n)
print(name, 'ready', flush=True)
time.sleep(3600)
"""


async def test_attach_draws_the_shown_session_first_and_adds_the_others_after(
    tmp_path: Path, owner_server: Any
) -> None:
    """Issue 16 item 5: `claude-tui attach` asks for every session at once, restores the shown one's screen
    before the first frame and its scrollback right after, and adds the others after the first frame, in
    the list's order; `ctrl+]` and the number of one still coming shows it when it comes."""
    import threading
    from functools import partial

    from claude_tui.widgets.attached_view import take_later
    from tests.functional.test_sessions import chord

    path = tmp_path / "scrolled.py"
    path.write_text(SCROLLED)
    with OwnerClient.connect() as client:
        ids = [
            client.spawn(
                SessionConfig(command=sys.executable, cwd=tmp_path, track=False).to_dict(),
                [sys.executable, str(path), f"S{n}"],
                cols=80,
                rows=24,
            )
            for n in (1, 2, 3)
        ]

    def drawn(n: int, lines: list[str]) -> bool:
        return f"S{n} ready" in "\n".join(lines)

    for n, session_id in enumerate(ids, 1):
        owned = owner_server.sessions[session_id].pump.emulator
        wait_until(partial(lambda n, owned: drawn(n, owned.display), n, owned), 20, f"session {n}'s screen")

    asked = [OwnerPump.ask_attach(session_id) for session_id in ids]
    first = OwnerPump.take(asked[0], None)
    assert "S1 ready" in "\n".join(first.emulator.display)  # the screen, at once
    assert first.emulator.history_size == 0  # its scrollback comes in the stream, after it
    release = threading.Event()
    held = take_later(asked[2])

    def third() -> Any:
        release.wait(30)  # held back until the person has asked for it
        return held()

    app = ClaudeTuiApp(attached=[AttachedSessionView(first, later=[take_later(asked[1]), third])])
    async with app.run_test(size=(120, 30)) as pilot:
        tab = app.session_tab
        await wait_for(pilot, lambda: app.focused is tab.views[0].pane, 20, "the first pane")
        await wait_for(pilot, lambda: "S1 scrolled 0" in screen(first), 20, "the scrollback")
        assert len(tab.views) == 1 and tab.coming == 2
        await chord(pilot, "3")
        await pilot.pause(0.1)
        assert tab.active is tab.views[0]  # not there yet: nothing else happens
        release.set()
        await wait_for(pilot, lambda: len(tab.views) == 3 and tab.coming == 0, 30, "the others")
        views = [view for view in tab.views if isinstance(view, AttachedSessionView)]
        assert [view.owner_pump.session_id for view in views] == ids  # the list's order
        await wait_for(pilot, lambda: tab.active is views[2], 20, "session 3, asked for")
        await wait_for(pilot, lambda: app.focused is views[2].pane, 20, "its pane to take the keys")
        for n, view in enumerate(views, 1):
            pump = view.owner_pump
            scrolled = partial(lambda n, pump: f"S{n} scrolled 0" in screen(pump), n, pump)
            await wait_for(pilot, scrolled, 20, f"session {n}'s scrollback")
            assert drawn(n, pump.emulator.display)
        await quit_and_answer(pilot, "enter")
    assert [result.detached for result in app.results] == [True, True, True]
    assert all(owner_server.sessions[session_id].running for session_id in ids)


async def test_a_session_in_the_background_is_not_redrawn_and_gets_its_counters_when_first_shown(
    tmp_path: Path, owner_server: Any
) -> None:
    """What a window attached to several sessions does for those in the background: nothing it can put off.
    Their panes are not refreshed as their output (or their scrollback, at attach) comes in: refreshing a
    hidden widget makes Textual arrange the whole screen, and showing the pane draws it whole; and their
    sidebars get their counters when first shown (8 sessions mounted 7 x 24 rows nobody saw)."""
    from claude_tui.widgets.attached_view import take_later
    from tests.functional.test_sessions import chord

    path = tmp_path / "scrolled.py"
    path.write_text(SCROLLED)
    with OwnerClient.connect() as client:
        scrolled = client.spawn(
            SessionConfig(command=sys.executable, cwd=tmp_path, track=False).to_dict(),
            [sys.executable, str(path), "S1"],
            cols=80,
            rows=24,
        )
    echo = spawn(tmp_path, ring_at_start=False)
    for session_id, text in ((scrolled, "S1 ready"), (echo, "ready")):
        owned = owner_server.sessions[session_id].pump.emulator
        wait_until(lambda owned=owned, text=text: text in "\n".join(owned.display), 20, f"{text!r}")
    asked = [OwnerPump.ask_attach(session_id) for session_id in (scrolled, echo)]
    first = OwnerPump.take(asked[0], None)
    app = ClaudeTuiApp(attached=[AttachedSessionView(first, later=[take_later(asked[1])])])
    async with app.run_test(size=(120, 30)) as pilot:
        tab = app.session_tab
        await wait_for(pilot, lambda: len(tab.views) == 2 and tab.coming == 0, 30, "the second session")
        shown, hidden = tab.views
        polling = lambda view: view._next_poll is not None  # noqa: E731  (the fill-in is done)
        await wait_for(pilot, lambda: polling(shown) and polling(hidden), 30, "both sessions' fill-in")
        assert shown.sidebar.rows_mounted and shown.sidebar.query("#stat-elapsed")
        assert not hidden.sidebar.rows_mounted and not hidden.sidebar.query("#stat-elapsed")
        refreshed: list[object] = []
        real_refresh = hidden.pane.refresh
        hidden.pane.refresh = lambda *regions, **kwargs: (
            refreshed.append(regions)
            or real_refresh(  # type: ignore[method-assign]
                *regions, **kwargs
            )
        )
        hidden.owner_pump.write(b"background\r")
        await wait_for(pilot, lambda: "got dnuorgkcab" in screen(hidden.owner_pump), 20, "its output")
        await pilot.pause(0.2)
        assert refreshed == [], "a pane in the background was redrawn"
        await chord(pilot, "2")
        await wait_for(
            pilot, lambda: tab.active is hidden and hidden.sidebar.rows_mounted, 20, "its counters"
        )
        await wait_for(pilot, lambda: bool(hidden.sidebar.query("#stat-elapsed")), 20, "the rows")
        await wait_for(pilot, lambda: "dnuorgkcab" in app.export_screenshot(), 20, "its screen drawn")
        # Drawn before, then in the background while output comes: shown again, it shows that output.
        await chord(pilot, "1")
        await wait_for(pilot, lambda: tab.active is shown, 20, "session 1")
        hidden.owner_pump.write(b"again\r")
        await wait_for(pilot, lambda: "got niaga" in screen(hidden.owner_pump), 20, "its output")
        await pilot.pause(0.2)
        await chord(pilot, "2")
        await wait_for(pilot, lambda: "niaga" in app.export_screenshot(), 20, "its new output drawn")
        await quit_and_answer(pilot, "enter")
