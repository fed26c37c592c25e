"""The Session tab with programs other than Claude: screen-parser counts, alerts, exits, a failing store."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Footer, Sparkline, Tab, Tabs
from textual.widgets._footer import FooterKey
from textual.widgets._header import HeaderIcon

from claude_tui.app import ClaudeTuiApp
from claude_tui.commands.run import print_outcome
from claude_tui.config import Alert
from claude_tui.session import SessionConfig, SessionResult, TrackedSession
from claude_tui.widgets.header import FirstLine, TitleLine
from claude_tui.widgets.session_view import SessionView
from claude_tui.widgets.sidebar import SessionSidebar, StatRow
from claude_tui.widgets.tab_switcher import fill_in_chrome
from claude_tui.widgets.terminal import TerminalPane
from tests.helpers import wait_for

# What Claude Code draws for two tool calls, one failed (NBSP after ⎿, as the real CLI writes it).
FAKE_CLAUDE_SCREEN = (
    "❯\u00a0list the files\n"
    "● Bash(ls -la /nonexistent)\n"
    "  ⎿\u00a0\u00a0Error: Exit code 2\n"
    "● Read(app.py)\n"
    "  ⎿\u00a0\u00a0Read 6 lines\n"
)


def script(tmp_path: Path, body: str) -> list[str]:
    """A python program (argv) that runs `body`."""
    path = tmp_path / "prog.py"
    path.write_text(body)
    return [sys.executable, str(path)]


def script_session(tmp_path: Path, body: str, **config: Any) -> TrackedSession:
    """A started session (80x20) of a python program that runs `body`; `config` goes to `SessionConfig`."""
    argv = script(tmp_path, body)
    session = TrackedSession(SessionConfig(command=argv[0], cwd=tmp_path, **config), argv=argv)
    session.start(80, 20)
    return session


def drawn(widget: Any) -> list[str]:
    """The lines a widget draws, as text."""
    return ["".join(seg.text for seg in line) for line in widget.render_lines(widget.region.reset_offset)]


def active_tabs(app: ClaudeTuiApp) -> list[str]:
    """The active tab of the app's tab bar, once it is there and mounted: a Tabs is in the DOM before its own
    mount handler has made a tab active."""
    return [tabs.active for tabs in app.query("#tab-bar Tabs").results(Tabs)]


class FakeStore:
    """Stands in for `tracking.logger.log_spool`: records what it was given."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[Any] = []
        self.error = error

    def __call__(self, spool: Any, **kwargs: Any) -> Any:
        self.calls.append((spool, kwargs))
        if self.error:
            raise self.error
        kwargs["progress"]("logging", 0.5)
        return type("Logged", (), {"run_id": "r1", "experiment_id": "7", "tracking_uri": "fake://"})()


async def test_screen_parser_counts_and_alert(tmp_path: Path) -> None:
    body = f"import sys, time\nsys.stdout.write({FAKE_CLAUDE_SCREEN!r})\nsys.stdout.flush()\ntime.sleep(30)\n"
    session = script_session(tmp_path, body, alerts=[Alert.parse("errors>=1")])
    store = FakeStore()
    app = ClaudeTuiApp(session, log_spool=store)
    async with app.run_test(size=(120, 30)) as pilot:
        # A line without a closing parenthesis (the error) is reported once it stayed the same for a pass.
        await wait_for(
            pilot,
            lambda: session.stats["tool_uses"] == 2 and session.stats["errors_encountered"] == 1,
            15,
            "the screen parser to count tools and the error",
        )
        await pilot.pause(0.5)
        await wait_for(pilot, lambda: app.query_one(SessionSidebar).rows_mounted, 15, "the sidebar's rows")
        assert session.source == "screen"
        assert session.stats["commands_executed"] == 1
        assert session.stats["errors_encountered"] == 1
        errors_row = app.query_one("#stat-errors_encountered", StatRow)
        assert errors_row.has_class("-alert") and errors_row.has_class("-bad")
        assert any("errors>=1" in str(n.message) for n in app._notifications)
        # The same lines redrawn (the program is still on screen) must not count twice.
        await pilot.pause(1.5)
        assert session.stats["tool_uses"] == 2
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")
    outcome = app.return_value
    assert isinstance(outcome, SessionResult) and outcome.run_id == "r1"
    assert outcome.signal is not None or outcome.exit_code not in (None, 0)
    spool, _ = store.calls[0]
    summary = json.loads((spool.path / "summary.json").read_text())
    assert summary["stats"]["commands_executed"] == 1
    assert summary["stats_source"] == "screen"
    events = [json.loads(line) for line in (spool.path / "events.jsonl").read_text().splitlines()]
    assert sum(1 for e in events if e["type"] == "tool_call") == 2


async def test_program_exit_status_reaches_the_outcome(tmp_path: Path) -> None:
    session = script_session(tmp_path, "print('bye'); raise SystemExit(3)\n", track=False)
    app = ClaudeTuiApp(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")
    assert app.return_value == SessionResult(exit_code=3, signal=None)
    assert session.spool is None


async def test_store_failure_keeps_the_spool_and_says_how_to_retry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = script_session(tmp_path, "print('hello')\n")
    app = ClaudeTuiApp(session, log_spool=FakeStore(error=ConnectionRefusedError("store is down")))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")
    outcome = app.return_value
    assert outcome is not None and outcome.error == "ConnectionRefusedError: store is down"
    assert outcome.spool is not None and (outcome.spool / "summary.json").exists()
    assert (outcome.spool / "recording.cast").read_text().count("hello") == 1
    print_outcome(outcome)
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0] == "Session ended (exit status 0)."
    assert "claude-tui sync" in out[1] and len(out) == 2


async def test_release_key_hands_keys_to_the_app(tmp_path: Path) -> None:
    session = script_session(tmp_path, "import time; time.sleep(30)\n", track=False)
    app = ClaudeTuiApp(session)
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(TerminalPane)
        assert app.focused is pane
        await pilot.press("h")  # goes to the program, not to the History binding
        assert app.active_tab == "session"
        await pilot.press("ctrl+right_square_bracket")
        assert app.focused is not pane
        await pilot.press("h")
        assert app.active_tab == "history"
        await pilot.press("t")
        assert app.focused is pane and app.active_tab == "session"
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")


async def test_ctrl_q_ends_claude_gracefully(claude_env: Any) -> None:
    from claude_tui.claude_env import SCRIPTED_FLAGS

    env = claude_env("realistic")
    config = SessionConfig(
        command=str(env.claude_bin), claude_args=list(SCRIPTED_FLAGS), cwd=env.work_dir, env=env.env(),
        config_dir=env.config_dir, track=False,
    )  # fmt: skip
    session = TrackedSession(config)
    session.start(100, 30)
    app = ClaudeTuiApp(session)
    async with app.run_test(size=(140, 40)) as pilot:
        pane = app.query_one(TerminalPane)
        await wait_for(
            pilot, lambda: "shift+tab" in "\n".join(pane.emulator.display), 60, "Claude's prompt box"
        )
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.return_value is not None, 30, "the app to exit")
    # Claude left on its own (ctrl+c twice), so the session counts as a success, not as killed.
    assert app.return_value == SessionResult(exit_code=0, signal=None)


async def test_killed_sessions_are_looked_for_after_the_first_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orphan recovery (it may start a sync that imports mlflow) waits until Claude has drawn, then runs."""
    from claude_tui.tracking import recovery

    calls: list[float] = []
    monkeypatch.setattr(recovery, "log_pending_in_background", lambda: calls.append(time.monotonic()))
    monkeypatch.setattr(ClaudeTuiApp, "AFTER_START", 0.5)
    mounted: list[float] = []

    class TimedApp(ClaudeTuiApp):
        def on_mount(self) -> None:  # Textual runs ClaudeTuiApp.on_mount too (after this one)
            mounted.append(time.monotonic())  # timers count from here; a loaded machine only delays them

    session = script_session(tmp_path, "import time; print('drawn', flush=True); time.sleep(30)\n")
    app = TimedApp(session, log_spool=FakeStore())
    async with app.run_test(size=(120, 30)) as pilot:
        assert calls == []
        await wait_for(pilot, lambda: calls, 10, "the orphan check")
        assert calls[0] - mounted[0] >= 0.5
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")
    assert len(calls) == 1


def header_cells(app: ClaudeTuiApp) -> list[tuple[str, str, object]]:
    """The header's row as drawn: each cell's character, background, and (but for a blank) its colour."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return [
        (char, str(seg.style.bgcolor), None if char == " " else (str(seg.style.color), seg.style.dim))
        for strip in update.strips[0]
        for seg in strip
        if seg.style is not None
        for char in seg.text
    ]


@pytest.mark.parametrize("width", [120, 81, 40])
async def test_the_first_frame_s_header_is_one_widget_drawn_as_the_header_s_three(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    """Each widget in the first frame costs CPU while Claude starts (docs/startup.md): the header is one
    widget there (`FirstLine`), and the icon, the title line and the clock's space that replace it with the
    counters draw the very same row (the title centered, an odd width, a title cut short)."""
    monkeypatch.setattr(SessionView, "FILL_IN_AFTER", 60.0)
    session = script_session(tmp_path, "import time; print('hi', flush=True); time.sleep(30)\n", track=False)
    app = ClaudeTuiApp(session)
    async with app.run_test(size=(width, 24)) as pilot:
        titled = lambda: "claude-tui" in app.query_one(FirstLine).render().plain  # noqa: E731
        await wait_for(pilot, lambda: app.query(FirstLine) and titled(), 15, "the first frame's header")
        await pilot.pause()
        first = header_cells(app)
        await fill_in_chrome(app.screen)
        await wait_for(
            pilot, lambda: app.query(HeaderIcon) and not app.query(FirstLine), 15, "the header's widgets"
        )
        await wait_for(pilot, lambda: "claude-tui" in str(app.query_one(TitleLine).render()), 15, "its title")
        await pilot.pause()
        assert header_cells(app) == first
        assert "claude-tui" in "".join(cell[0] for cell in first)


async def test_chrome_comes_after_the_first_frame_and_moves_nothing(tmp_path: Path) -> None:
    """The counters, the tab bar and the footer mount a moment after start (off Claude's first frame) into
    rows kept for them: the program's terminal keeps its size; then the counters show what was polled."""
    # A prompt line, so the counters have something to count (a program with nothing says so instead).
    body = "import time; print('hi\\n\u276f hello', flush=True); time.sleep(30)\n"
    session = script_session(tmp_path, body, track=False)
    app = ClaudeTuiApp(session)
    async with app.run_test(size=(120, 30)) as pilot:
        sidebar = app.query_one(SessionSidebar)
        pane = app.query_one(TerminalPane)
        assert not sidebar.rows_mounted and not sidebar.query(StatRow)
        assert not app.query(Tabs) and not app.query(Footer)
        assert not sidebar.query("#status-line, #hint")  # no hint given; the folded form's line comes later
        await wait_for(pilot, lambda: "hi" in pane.emulator.display[0], 15, "the program's output")
        first_size = pane.size
        filled_in = lambda: sidebar.rows_mounted and active_tabs(app) == ["tab-session"]  # noqa: E731
        await wait_for(pilot, filled_in, 15, "the rows and the tab bar")
        await pilot.pause()
        assert sidebar.query("#status-line")
        # Drawn right from the first frame they are in (set before the rows had a width of their own).
        await wait_for(pilot, lambda: not sidebar.has_class("-nothing"), 10, "the prompt to be counted")
        await pilot.pause()
        row = app.query_one("#stat-commands_executed", StatRow)
        assert drawn(row)[0].split() == ["Commands", "0"]
        await pilot.pause(0.3)
        assert pane.size == first_size and pane.emulator.cols == first_size.width
        assert app.query_one("#stat-commands_executed", StatRow).text.split() == ["Commands", "0"]
        assert "Elapsed" in app.query_one("#stat-elapsed", StatRow).text
        assert [str(tab.label) for tab in app.query(Tab)] == ["Session", "History"]
        assert app.query_one("#tab-bar Tabs", Tabs).active == "tab-session"
        footer_keys = {key.key for key in app.query(FooterKey)}
        # The pane has the keys: the footer shows what works there, not t/s/h (they go to the program).
        assert {"ctrl+q", "ctrl+right_square_bracket"} <= footer_keys and not {"t", "s", "h"} & footer_keys
        # No tool use yet: the activity sparkline is a flat baseline, not a solid block.
        sparkline = drawn(app.query_one(Sparkline))
        assert "█" not in "".join(sparkline) and set(sparkline[-1]) == {"▁"}
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")


async def test_tabs_switch_by_click_and_typing_never_goes_to_a_hidden_tab(tmp_path: Path) -> None:
    session = script_session(tmp_path, "import time; time.sleep(30)\n", track=False)
    app = ClaudeTuiApp(session, log_spool=FakeStore())
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(TerminalPane)
        assert app.focused is pane
        # From the command palette (the pane keeps the keyboard otherwise): the pane is hidden, so it
        # must not keep the focus, or what the user types next would go to the program unseen.
        app.action_show_tab("history")
        await pilot.pause()
        assert app.active_tab == "history" and app.focused is not pane
        assert not app.query_one("#session").display
        await wait_for(pilot, lambda: active_tabs(app) == ["tab-history"], 15, "the tab bar on History")
        await pilot.click("#tab-session")
        await pilot.pause()
        assert app.active_tab == "session" and app.query_one("#session").display
        await pilot.click("#tab-history")
        await pilot.pause()
        assert app.active_tab == "history" and app.query("#history-pane")
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")


async def test_chrome_waits_until_the_program_stops_drawing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a slow machine Claude may still be drawing its first screens when the fill-in is due: it waits for a
    quiet moment (here: a program that draws for 1.5 s), but not for ever (one that never stops)."""
    # Wider margins than the app's, so that a loaded test machine stalling the program does not count.
    monkeypatch.setattr(SessionView, "FILL_IN_QUIET", 0.6)
    monkeypatch.setattr(SessionView, "FILL_IN_LATEST", 15.0)
    drawing = "import time\nfor i in range(30):\n    print(i, flush=True); time.sleep(0.05)\n"
    drawing += "print('done', flush=True)\n"
    session = script_session(tmp_path, drawing + "time.sleep(30)\n", track=False)
    app = ClaudeTuiApp(session)
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(TerminalPane)
        sidebar = app.query_one(SessionSidebar)
        await wait_for(pilot, lambda: sidebar.rows_mounted, 10, "the sidebar's rows")
        assert any(line.startswith("done") for line in pane.emulator.display)
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")


async def test_chrome_comes_while_the_program_keeps_drawing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SessionView, "FILL_IN_LATEST", 1.5)
    endless = "import time\nwhile True:\n    print(time.time(), flush=True); time.sleep(0.05)\n"
    session = script_session(tmp_path, endless, track=False)
    app = ClaudeTuiApp(session)
    async with app.run_test(size=(120, 30)) as pilot:
        sidebar = app.query_one(SessionSidebar)
        await wait_for(
            pilot, lambda: sidebar.rows_mounted and active_tabs(app) and app.query(Footer), 15, "the fill-in"
        )
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")


async def test_an_idle_session_ticks_its_clock_without_laying_the_screen_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19, target 2 (idle CPU): the elapsed clock changes every second; with the folded form's status
    line updated (hidden or not) each tick re-laid the whole screen out. Each tick now redraws its row only,
    hidden rows are not touched, and a quiet session is polled once a second, when its clock changes."""
    idle = "import time\nprint('ready', flush=True)\ntime.sleep(60)\n"
    session = script_session(tmp_path, idle, track=False)
    seconds = [session.started_at]
    session._clock = lambda: seconds[0]
    app = ClaudeTuiApp(session)
    async with app.run_test(size=(160, 40)) as pilot:
        view = app.sessions[0]
        sidebar = view.sidebar
        await wait_for(pilot, lambda: sidebar.rows_mounted and app.query(Footer), 15, "the fill-in")
        await pilot.pause()
        assert not sidebar.folded
        layouts: list[float] = []
        relayout = type(app.screen)._refresh_layout

        def counted(screen: Any, *args: Any, **kwargs: Any) -> None:
            layouts.append(seconds[0])
            relayout(screen, *args, **kwargs)

        monkeypatch.setattr(type(app.screen), "_refresh_layout", counted)
        pane = app.query_one(TerminalPane)
        await wait_for(pilot, lambda: "ready" in pane.emulator.display[0], 15, "the program's output")
        # What start-up left to lay out (the footer told its keys, the program's first output) is done before
        # the clock ticks: under load it can come after the fill-in's pause. Not settled in 20 pauses: failed.
        for _ in range(20):
            layouts.clear()
            await pilot.pause(0.1)
            if not layouts:
                break
        elapsed = app.query_one("#stat-elapsed", StatRow)
        for tick in range(1, 4):
            seconds[0] += 1.0
            view._poll()
            await pilot.pause()
            assert elapsed.text.split() == ["Elapsed", f"{tick}s"]
        assert layouts == []
        # Folded, the status line shows the clock as it is now, and follows it.
        view.toggle_sidebar()
        await pilot.pause()
        status = app.query_one("#status-line")
        assert str(status.render()).endswith(" · 3s")
        seconds[0] += 1.0
        view._poll()
        await pilot.pause()
        assert str(status.render()).endswith(" · 4s")
        # Folded, the rows are not touched (a hidden widget's refresh rebuilds the screen's map); unfolded,
        # they show the clock as it is now.
        refreshed: list[str] = []
        monkeypatch.setattr(StatRow, "refresh", lambda row, *a, **k: refreshed.append(row.id))
        for _ in range(2):
            seconds[0] += 1.0
            view._poll()
            await pilot.pause()
        assert refreshed == [] and str(status.render()).endswith(" · 6s")
        monkeypatch.undo()
        view.toggle_sidebar()
        await pilot.pause()
        assert elapsed.text.split() == ["Elapsed", "6s"]
        # Polled four times a second while the program draws or its counts change, else once a second, just
        # after the clock's next second.
        busy = max(view.pane.last_frame_at, view._changed_at)
        assert view.poll_delay(busy) == SessionView.POLL_INTERVAL
        idle_delay = SessionView.IDLE_POLL_INTERVAL + SessionView.CLOCK_LAG
        assert view.poll_delay(busy + SessionView.IDLE_AFTER + 0.1) == pytest.approx(idle_delay)
        seconds[0] += 0.75
        view._poll()
        assert view.poll_delay(busy + SessionView.IDLE_AFTER + 0.1) == pytest.approx(idle_delay - 0.75)
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")


async def test_news_wakes_an_idle_sessions_poll(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19, target 2: an idle session is polled once a second, and a hook or the CLI's telemetry (the
    session's `on_news`, called on the endpoint's thread) does not wait for that poll."""
    import threading

    monkeypatch.setattr(SessionView, "IDLE_POLL_INTERVAL", 3600.0)  # only news can bring a poll now
    monkeypatch.setattr(SessionView, "IDLE_AFTER", 0.0)
    frozen: list[bool] = []  # the collector freezes what the fill-in made (for floods of output later)
    monkeypatch.setattr("claude_tui.widgets.session_view.freeze_after_fill_in", lambda: frozen.append(True))
    idle = "import time\nprint('ready', flush=True)\ntime.sleep(60)\n"
    session = script_session(tmp_path, idle, track=False)
    app = ClaudeTuiApp(session)
    async with app.run_test(size=(160, 40)) as pilot:
        view = app.sessions[0]
        polling = lambda: view.sidebar.rows_mounted and view._next_poll is not None  # noqa: E731
        await wait_for(pilot, polling, 15, "polling")
        await wait_for(pilot, lambda: frozen == [True], 15, "the collector's freeze after the fill-in")
        polls: list[float] = []
        poll = view._poll
        monkeypatch.setattr(view, "_poll", lambda: (polls.append(time.monotonic()), poll()))
        assert session.on_news is not None
        view._polled_at -= SessionView.POLL_INTERVAL  # polled long enough ago: the news polls at once
        news = threading.Thread(target=session.on_news)
        news.start()
        news.join()
        await wait_for(pilot, lambda: len(polls) == 1, 15, "the poll the news brought")
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 15, "the app to exit")
    assert session.on_news is None  # the view let go of it
