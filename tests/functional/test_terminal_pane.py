"""TerminalPane driven with Pilot: real programs in a real PTY (bash, python, the real Claude CLI)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip

from claude_tui.terminal.pty_session import ExitStatus
from claude_tui.widgets.terminal import TerminalPane
from tests import helpers

PROMPT = "PANE$ "
BASH = ["bash", "--norc", "--noprofile"]
BASH_ENV = {"PS1": PROMPT, "PROMPT_COMMAND": None, "HISTFILE": "/dev/null"}


class PaneApp(App[None]):
    """One pane filling the screen, plus an app binding to prove the release key works."""

    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("x", "app_key", "App key")]

    def __init__(self, command: Sequence[str] | None, **kwargs: Any) -> None:
        super().__init__()
        self.command = command
        self.kwargs = kwargs
        self.exits: list[ExitStatus] = []
        self.app_keys = 0
        self.released = 0
        self.titles: list[str] = []

    def compose(self) -> ComposeResult:
        yield TerminalPane(self.command, id="pane", **self.kwargs)

    def on_mount(self) -> None:
        self.query_one(TerminalPane).focus()

    @on(TerminalPane.Exited)
    def _exited(self, event: TerminalPane.Exited) -> None:
        self.exits.append(event.status)

    @on(TerminalPane.ReleaseFocus)
    def _released(self) -> None:
        self.released += 1

    @on(TerminalPane.TitleChanged)
    def _title(self, event: TerminalPane.TitleChanged) -> None:
        self.titles.append(event.title)

    def action_app_key(self) -> None:
        self.app_keys += 1


def screen_text(pane: TerminalPane) -> str:
    return "\n".join(line.rstrip() for line in pane.emulator.display)


def all_text(pane: TerminalPane) -> str:
    return "\n".join([*pane.emulator.history_lines(), screen_text(pane)])


async def wait_for(
    pilot: Pilot[Any], predicate: Callable[[], bool], timeout: float = 15.0, what: str = ""
) -> None:
    """`tests.helpers.wait_for`, failing with the pane's screen."""
    pane = pilot.app.query_one(TerminalPane)
    await helpers.wait_for(pilot, predicate, timeout, what, describe=lambda: f"screen:\n{screen_text(pane)}")


def foreground_command(fd: int) -> str:
    """The name of the terminal's foreground process group's leader (what ctrl+c would interrupt)."""
    try:
        return Path(f"/proc/{os.tcgetpgrp(fd)}/comm").read_text().strip()
    except OSError:
        return ""


def keys_for(text: str) -> list[str]:
    """Pilot key names for typing `text`."""
    return ["space" if c == " " else c for c in text]


async def type_line(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*keys_for(text), "enter")


# A program that puts its terminal in raw mode and appends every byte it reads to a file.
KEY_LOGGER = r"""
import os, sys, tty
log = open(sys.argv[1], "ab", buffering=0)
modes = sys.argv[2] if len(sys.argv) > 2 else ""
tty.setraw(0)
sys.stdout.write(modes + "READY\r\n")
sys.stdout.flush()
while True:
    data = os.read(0, 4096)
    log.write(data)
    if b"\x04" in data:
        break
"""


@pytest.fixture
def key_logger(tmp_path: Path) -> Callable[[str], tuple[list[str], Path]]:
    script = tmp_path / "keylog.py"
    script.write_text(KEY_LOGGER)

    def make(modes: str = "") -> tuple[list[str], Path]:
        log = tmp_path / f"keys{len(modes)}.bin"
        log.write_bytes(b"")
        return [sys.executable, str(script), str(log), modes], log

    return make


# -- bash ----------------------------------------------------------------------------------------------------


async def test_bash_echoes_typed_text_and_ctrl_c_interrupts_sleep() -> None:
    app = PaneApp(BASH, env=BASH_ENV)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(TerminalPane)
        await wait_for(pilot, lambda: PROMPT.strip() in screen_text(pane), what="the prompt")
        await type_line(pilot, "echo hello-$((6*7))")
        await wait_for(pilot, lambda: "\nhello-42\n" in screen_text(pane), what="echo output")
        assert "PANE$ echo hello-$((6*7))" in screen_text(pane)  # the typed text was echoed

        await type_line(pilot, "sleep 100; echo after-sleep")
        # ctrl+c must reach `sleep` itself: before bash's child has made itself the terminal's foreground job
        # and exec'd sleep (slow on a loaded machine), bash's own SIGINT handler takes the signal and the
        # sleep runs its 100 s.
        assert pane.pump is not None
        fd = pane.pump.fileno()
        await wait_for(pilot, lambda: foreground_command(fd) == "sleep", what="sleep in the foreground")
        started = time.monotonic()
        await pilot.press("ctrl+c")
        await wait_for(
            pilot, lambda: screen_text(pane).rstrip().endswith("^C\nPANE$"), what="prompt after ^C"
        )
        assert time.monotonic() - started < 10
        # ctrl+c killed the whole command line, as in a terminal: the echo after the sleep never ran.
        assert "after-sleep" not in [line.strip() for line in pane.emulator.display]
        assert app.is_running and pane.exit_status is None and app.exits == []

        # The app is still interactive: the pane keeps working after the interrupt.
        await type_line(pilot, "echo still-here")
        await wait_for(pilot, lambda: "\nstill-here\n" in screen_text(pane), what="second echo")

        await type_line(pilot, "exit 3")
        await wait_for(pilot, lambda: app.exits == [ExitStatus(3, None)], what="Exited(3)")
        assert "[process exited with status 3]" in screen_text(pane)
        assert pane.exit_status == ExitStatus(3, None)


async def test_resizing_the_app_resizes_the_program() -> None:
    app = PaneApp(BASH, env=BASH_ENV)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(TerminalPane)
        await wait_for(pilot, lambda: PROMPT.strip() in screen_text(pane), what="the prompt")
        await type_line(pilot, "echo size=$(tput cols)x$(tput lines)")
        await wait_for(pilot, lambda: "\nsize=80x24\n" in screen_text(pane), what="80x24")
        await pilot.resize_terminal(101, 33)
        await wait_for(pilot, lambda: pane.emulator.cols == 101 and pane.emulator.rows == 33, what="resize")
        await type_line(pilot, "echo size=$(tput cols)x$(tput lines)")
        await wait_for(pilot, lambda: "\nsize=101x33\n" in screen_text(pane), what="101x33")


async def test_scrollback_keys_and_snap_to_bottom() -> None:
    app = PaneApp(BASH, env=BASH_ENV)
    async with app.run_test(size=(60, 10)) as pilot:
        pane = app.query_one(TerminalPane)
        await wait_for(pilot, lambda: PROMPT.strip() in screen_text(pane), what="the prompt")
        await type_line(pilot, "seq 1 50")
        await wait_for(pilot, lambda: "\n50\n" in screen_text(pane), what="seq output")
        await pilot.press("shift+pageup")
        assert pane.scroll_offset_lines == 9
        top = pane.render_line(0).text.rstrip()
        assert top == pane.emulator.history_lines()[-9]
        await pilot.press("shift+pagedown")
        assert pane.scroll_offset_lines == 0
        await pilot.press("shift+pageup")
        await type_line(pilot, "echo back")  # typing (and the output it causes) snaps to the bottom
        await wait_for(pilot, lambda: "\nback\n" in screen_text(pane), what="echo back")
        assert pane.scroll_offset_lines == 0


async def test_mouse_wheel_scrolls_the_scrollback() -> None:
    app = PaneApp(BASH, env=BASH_ENV)
    async with app.run_test(size=(60, 10)) as pilot:
        pane = app.query_one(TerminalPane)
        await wait_for(pilot, lambda: PROMPT.strip() in screen_text(pane), what="the prompt")
        await type_line(pilot, "seq 1 50")
        await wait_for(pilot, lambda: "\n50\n" in screen_text(pane), what="seq output")
        assert not pane.emulator.mouse_tracking
        for _ in range(2):
            pane.post_message(events.MouseScrollUp(pane, 1, 1, 0, 0, 0, False, False, False))
        up = 2 * TerminalPane.SCROLL_LINES
        await wait_for(pilot, lambda: pane.scroll_offset_lines == up, what="two wheel steps up")
        assert pane.render_line(0).text.rstrip() == pane.emulator.history_lines()[-6]
        pane.post_message(events.MouseScrollDown(pane, 1, 1, 0, 0, 0, False, False, False))
        down = TerminalPane.SCROLL_LINES
        await wait_for(pilot, lambda: pane.scroll_offset_lines == down, what="one wheel step down")


# -- exact bytes ---------------------------------------------------------------------------------------------

KEY_CASES: list[tuple[str, bytes]] = [
    ("shift+tab", b"\x1b[Z"),
    ("up", b"\x1b[A"),
    ("down", b"\x1b[B"),
    ("right", b"\x1b[C"),
    ("left", b"\x1b[D"),
    ("escape", b"\x1b"),
    ("home", b"\x1b[H"),
    ("end", b"\x1b[F"),
    ("pageup", b"\x1b[5~"),
    ("pagedown", b"\x1b[6~"),
    ("insert", b"\x1b[2~"),
    ("delete", b"\x1b[3~"),
    ("f1", b"\x1bOP"),
    ("f4", b"\x1bOS"),
    ("f5", b"\x1b[15~"),
    ("f12", b"\x1b[24~"),
    ("ctrl+a", b"\x01"),
    ("ctrl+c", b"\x03"),
    ("ctrl+z", b"\x1a"),
    ("alt+x", b"\x1bx"),
    ("shift+up", b"\x1b[1;2A"),
    ("ctrl+left", b"\x1b[1;5D"),
    ("tab", b"\t"),
    ("backspace", b"\x7f"),
    ("enter", b"\r"),
    ("é", "é".encode()),
    ("space", b" "),
]


async def test_keys_reach_the_program_as_xterm_bytes(
    key_logger: Callable[[str], tuple[list[str], Path]],
) -> None:
    command, log = key_logger("")
    app = PaneApp(command)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(TerminalPane)
        await wait_for(pilot, lambda: "READY" in screen_text(pane), what="READY")
        for key, _ in KEY_CASES:
            await pilot.press(key)
        expected = b"".join(data for _, data in KEY_CASES)
        await wait_for(pilot, lambda: log.read_bytes() == expected, what="all key bytes", timeout=10)
        assert app.is_running and app.app_keys == 0  # ctrl+c, x, ... all went to the program
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: app.exits == [ExitStatus(0, None)], what="exit")


async def test_application_cursor_mode_and_focus_reports(
    key_logger: Callable[[str], tuple[list[str], Path]],
) -> None:
    command, log = key_logger("\x1b[?1h\x1b[?1004h")
    app = PaneApp(command)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(TerminalPane)
        await wait_for(pilot, lambda: "READY" in screen_text(pane), what="READY")
        assert pane.emulator.app_cursor_keys and pane.emulator.focus_events
        await pilot.press("up", "left", "home", "shift+up")
        await pilot.press("ctrl+right_square_bracket")  # release: focus out report, keys go to the app
        await pilot.press("x")
        await wait_for(pilot, lambda: app.app_keys == 1, what="the app's key")
        assert app.released == 1 and not pane.has_focus
        pane.focus()
        await wait_for(pilot, lambda: pane.has_focus, what="the pane's focus")
        await pilot.press("a")
        expected = b"\x1bOA\x1bOD\x1bOH\x1b[1;2A" + b"\x1b[O" + b"\x1b[I" + b"a"
        await wait_for(pilot, lambda: log.read_bytes() == expected, what="SS3 arrows and focus reports")


@pytest.mark.parametrize(
    ("modes", "expected"),
    [
        ("\x1b[?2004h", b"\x1b[200~one\rtwo \xe2\x9c\xbb\x1b[201~"),
        ("", b"one\rtwo \xe2\x9c\xbb"),
    ],
)
async def test_paste_is_bracketed_only_when_the_program_asks(
    key_logger: Callable[[str], tuple[list[str], Path]], modes: str, expected: bytes
) -> None:
    command, log = key_logger(modes)
    app = PaneApp(command)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(TerminalPane)
        await wait_for(pilot, lambda: "READY" in screen_text(pane), what="READY")
        assert pane.emulator.bracketed_paste is bool(modes)
        pane.post_message(events.Paste("one\ntwo ✻"))
        await wait_for(pilot, lambda: log.read_bytes() == expected, what="paste")


async def test_mouse_wheel_goes_to_a_program_that_asked_for_it(
    key_logger: Callable[[str], tuple[list[str], Path]],
) -> None:
    command, log = key_logger("\x1b[?1000h\x1b[?1006h")
    app = PaneApp(command)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(TerminalPane)
        await wait_for(pilot, lambda: "READY" in screen_text(pane), what="READY")
        pane.post_message(
            events.MouseScrollUp(pane, 4, 2, 0, 0, 0, False, False, False, screen_x=4, screen_y=2)
        )
        await pilot.click(TerminalPane, offset=(10, 5))
        await wait_for(
            pilot,
            lambda: log.read_bytes() == b"\x1b[<64;5;3M\x1b[<0;11;6M\x1b[<0;11;6m",
            what="SGR wheel and click reports",
        )
        assert pane.scroll_offset_lines == 0


# -- full-screen programs ------------------------------------------------------------------------------------

ALT_SCREEN = r"""
import os, sys, tty
tty.setraw(0)
sys.stdout.write("\x1b[?1049h\x1b[H\x1b[2JINSIDE-ALT\r\n\x1b]0;alt title\x07")
sys.stdout.flush()
os.read(0, 1)
sys.stdout.write("\x1b[?1049l")
sys.stdout.flush()
"""


async def test_alternate_screen_program_restores_the_screen(tmp_path: Path) -> None:
    script = tmp_path / "alt.py"
    script.write_text(ALT_SCREEN)
    app = PaneApp(BASH, env=BASH_ENV)
    async with app.run_test(size=(70, 15)) as pilot:
        pane = app.query_one(TerminalPane)
        await wait_for(pilot, lambda: PROMPT.strip() in screen_text(pane), what="the prompt")
        await type_line(pilot, "echo before-alt")
        await wait_for(pilot, lambda: "\nbefore-alt\n" in screen_text(pane), what="before-alt")
        before = screen_text(pane)
        await type_line(pilot, f"{sys.executable} {script}")
        await wait_for(pilot, lambda: "INSIDE-ALT" in screen_text(pane), what="alternate screen")
        assert pane.emulator.in_alternate_screen
        assert "before-alt" not in screen_text(pane)
        await wait_for(pilot, lambda: app.titles[-1:] == ["alt title"], what="title message")
        await pilot.press("q")
        await wait_for(pilot, lambda: not pane.emulator.in_alternate_screen, what="leaving the alt screen")
        await wait_for(pilot, lambda: screen_text(pane).count(PROMPT.strip()) == 3, what="prompt")
        after = screen_text(pane)
        assert after.startswith(before.rstrip())  # the main screen is back as it was, then the new prompt
        assert "INSIDE-ALT" not in all_text(pane)  # and the scrollback holds no alternate-screen content


async def test_less_opens_and_quits(tmp_path: Path) -> None:
    text = tmp_path / "file.txt"
    text.write_text("".join(f"less line {i}\n" for i in range(200)))
    app = PaneApp(["less", str(text)], env={"LESS": None, "LESSHISTFILE": "/dev/null"})
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        await wait_for(pilot, lambda: "less line 0" in screen_text(pane), what="less")
        assert pane.emulator.in_alternate_screen
        await pilot.press("space")
        await wait_for(pilot, lambda: "less line 11" in screen_text(pane), what="next page")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.exits == [ExitStatus(0, None)], what="less exit")
        assert not pane.emulator.in_alternate_screen
        assert "less line" not in all_text(pane)


# -- the real Claude Code CLI --------------------------------------------------------------------------------


@pytest.mark.slow
async def test_real_claude_cli_shows_its_prompt_box_and_answers(claude_env: Callable[..., Any]) -> None:
    env = claude_env(
        {"turns": [{"match": "ping pane", "steps": [[{"text": "pong from the stub, via the pane"}]]}]}
    )
    child_env: dict[str, str | None] = {key: None for key in os.environ}
    child_env.update(env.env())  # exactly the sandbox's variables: nothing of ours leaks in
    app = PaneApp(env.argv(), cwd=env.work_dir, env=child_env)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(TerminalPane)
        await wait_for(pilot, lambda: "❯" in screen_text(pane), timeout=90, what="Claude's prompt box")
        assert "─" * 20 in screen_text(pane)  # the box's rules
        await pilot.pause(1.5)  # let its start-up queries pass before typing
        await pilot.press(*keys_for("ping pane"))
        await wait_for(pilot, lambda: "ping pane" in screen_text(pane), timeout=30, what="typed prompt")
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: "pong from the stub, via the pane" in all_text(pane), timeout=90, what="the answer"
        )
        assert app.titles and "Claude Code" in app.titles[-1]
        await pilot.press("ctrl+c")
        await pilot.pause(0.3)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: len(app.exits) == 1, timeout=30, what="claude exit")
        assert app.exits[0].success


# -- garbage and failures ------------------------------------------------------------------------------------


async def test_garbage_in_does_not_break_the_pane() -> None:
    app = PaneApp(None)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(TerminalPane)
        # Every C0 and C1 control, as raw 8-bit bytes and as UTF-8, plus ESC followed by each of them.
        controls = bytes(range(0x20)) + b"\x7f" + bytes(range(0x80, 0xA0))
        c1_utf8 = "".join(chr(c) for c in range(0x80, 0xA0)).encode()
        pane.feed(controls + c1_utf8 + b"".join(b"\x1b" + bytes([c]) for c in range(256)))
        pane.feed(b"\x1b[" + b"9" * 5000 + b"m\x1b]0;" + b"t" * 100_000 + b"\x1bP" + b"x" * 200_000)
        random = os.urandom(10 * 1024 * 1024)
        for start in range(0, len(random), 256 * 1024):
            pane.feed(random[start : start + 256 * 1024])
            await pilot.pause(0)
        pane.feed(b"\x1b\\\x1b[0m\x1bc\r\nalive after garbage\r\n")
        await pilot.pause(0.1)
        assert "alive after garbage" in screen_text(pane)
        assert pane.render_line(0).cell_length == 80
        await pilot.press("x")  # the app still answers keys (viewer panes let them through)
        await wait_for(pilot, lambda: app.app_keys == 1, what="the app's key")


async def test_garbage_from_a_real_program_through_the_pty() -> None:
    app = PaneApp(["head", "-c", "3000000", "/dev/urandom"])
    async with app.run_test(size=(80, 24)) as pilot:
        # A wait for the end, not a speed limit: 3 MB of garbage cost ~4 s of CPU here (15 s of wall clock at
        # load 30); a starved process may take far longer (the suite's own timeout is 300 s).
        await wait_for(pilot, lambda: len(app.exits) == 1, timeout=240, what="head to finish")
        assert app.exits[0].success
        await pilot.press("x")
        await wait_for(pilot, lambda: app.app_keys == 1, what="the app's key")


@pytest.mark.parametrize(
    ("command", "status", "message"),
    [
        (["true"], ExitStatus(0, None), "[process exited with status 0]"),
        (["sh", "-c", "echo bye; exit 7"], ExitStatus(7, None), "[process exited with status 7]"),
        (["sh", "-c", "kill -TERM $$"], ExitStatus(None, 15), "[process exited with signal 15 (SIGTERM)]"),
        (
            ["no-such-command-xyz"],
            ExitStatus(127, None),
            "claude-tui: command not found: no-such-command-xyz",
        ),
    ],
)
async def test_program_that_exits_at_once_or_does_not_exist(
    command: list[str], status: ExitStatus, message: str
) -> None:
    app = PaneApp(command)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(TerminalPane)
        await wait_for(pilot, lambda: len(app.exits) == 1, what="Exited")
        assert app.exits == [status]
        await wait_for(pilot, lambda: message in screen_text(pane), what=message)
        if "echo bye" in command[-1]:
            assert "bye" in screen_text(pane)
        await pilot.press("x")
        await wait_for(pilot, lambda: app.app_keys == 1, what="the app's key")
        assert app.is_running


async def test_terminate_ends_the_program_and_posts_exited() -> None:
    app = PaneApp(["sleep", "100"])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(TerminalPane)
        await wait_for(pilot, lambda: pane.pump is not None, what="spawn")
        status = await pane.terminate(grace=2)
        assert status is not None and status.signal is not None
        await wait_for(pilot, lambda: app.exits == [status], what="Exited after terminate")


async def test_the_recorder_gets_every_chunk_and_the_size(tmp_path: Path) -> None:
    from claude_tui.terminal.cast import read_cast
    from claude_tui.terminal.recorder import CastRecorder

    recorder = CastRecorder(tmp_path / "rec.cast", 80, 24, command="seq")
    app = PaneApp(["seq", "1", "3000"], recorder=recorder)
    async with app.run_test(size=(70, 20)) as pilot:
        await wait_for(pilot, lambda: len(app.exits) == 1, what="seq done")
    recorder.close()
    expected = "".join(f"{i}\r\n" for i in range(1, 3001))
    cast = read_cast(tmp_path / "rec.cast")
    assert "".join(e.data for e in cast.events if e.code == "o") == expected
    assert ("r", "70x20") in [(e.code, e.data) for e in cast.events]  # the pane's size, recorded


async def test_an_adopted_pump_is_drawn_and_fitted_to_the_pane() -> None:
    """A program spawned before the app started (as `claude-tui` does) is read from mount on and resized to
    the pane at the first layout."""
    from claude_tui.terminal.pump import PtyPump

    pump = PtyPump.spawn(["sh", "-c", "echo early; read x; echo size=$(stty size)"], cols=100, rows=30)
    app = PaneApp(None, pump=pump)
    async with app.run_test(size=(70, 20)) as pilot:
        pane = app.query_one(TerminalPane)
        assert pane.pump is pump and pane.emulator is pump.emulator
        await wait_for(pilot, lambda: "early" in screen_text(pane), what="the early output")
        assert (pane.emulator.cols, pane.emulator.rows) == (70, 20)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.exits == [ExitStatus(0, None)], what="exit")
        assert "size=20 70" in screen_text(pane)


# -- snapshot ------------------------------------------------------------------------------------------------

SNAPSHOT_BYTES = (
    "\x1b[1;32m●\x1b[0m \x1b[1mBash\x1b[0m(git status)\r\n"
    "  ⎿  \x1b[2mOn branch main\x1b[0m\r\n"
    "\x1b[31mred\x1b[0m \x1b[38;5;208m256-orange\x1b[0m \x1b[38;2;80;160;255mtruecolor\x1b[0m "
    "\x1b[44;97m bg \x1b[0m\r\n"
    "\x1b[4munderline\x1b[0m \x1b[3mitalic\x1b[0m \x1b[7mreverse\x1b[0m \x1b[9mstrike\x1b[0m\r\n"
    "wide: 漢字 ✻ done\r\n"
    "\x1b[38;2;215;119;87m❯\x1b[0m type here"
).encode()


class SnapshotApp(App[None]):
    ENABLE_COMMAND_PALETTE = False

    def compose(self) -> ComposeResult:
        yield TerminalPane(id="pane")

    def on_mount(self) -> None:
        pane = self.query_one(TerminalPane)
        pane.focus()
        pane.feed(SNAPSHOT_BYTES)


async def test_a_frame_that_found_no_change_does_not_hold_back_the_next_output() -> None:
    """Frames are drawn at most MAX_FPS a second; one that found nothing to draw (an attached session's stats
    arrived) set the clock of that limit, and the key echoed just after it waited up to 1/60 s
    (`benchmarks/bench_owner.py` echo). Fails on the old code: the echo's frame was put off."""
    app = PaneApp(None)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(TerminalPane)
        pane.feed(b"first")
        await wait_for(pilot, lambda: "first" in screen_text(pane) and pane._frame_handle is None)
        await asyncio.sleep(2 / TerminalPane.MAX_FPS)  # the first output's frame is well in the past
        pane._frame()  # nothing changed since: nothing to draw
        pane.feed(b" echo")
        assert pane._frame_handle is None  # drawn at once, not put off
        await pilot.pause()
        assert "first echo" in screen_text(pane)


class TwoPanes(App[None]):
    """Two panes taking turns, as two sessions' views do: one displayed, the other not."""

    ENABLE_COMMAND_PALETTE = False
    CSS = "Container { height: 1fr; }"

    def compose(self) -> ComposeResult:
        with Container(id="box-a"):
            yield TerminalPane(id="a")
        with Container(id="box-b"):
            yield TerminalPane(id="b")

    def show(self, name: str, *, focus: bool) -> TerminalPane:
        for box in self.query(Container):
            box.display = box.id == f"box-{name}"
        pane = self.query_one(f"#{name}", TerminalPane)
        if focus:
            pane.focus()
        return pane


def drawn(pane: TerminalPane) -> list[str]:
    """The pane's rows as the screen has them (Textual's cache of rendered lines, rendered where missing)."""
    width, height = pane.size
    return [strip.text.rstrip() for strip in pane.render_lines(Region(0, 0, width, height))]


@pytest.mark.parametrize("focus", [True, False])
async def test_a_pane_shown_again_draws_what_changed_while_it_was_hidden(focus: bool) -> None:
    """A hidden pane draws nothing as its output comes; shown again, the rows that changed are drawn, with
    or without the focus (without it, the old code kept showing the rows from before it was hidden)."""
    app = TwoPanes()
    async with app.run_test(size=(60, 12)) as pilot:
        a = app.show("a", focus=True)
        a.feed(b"first line\r\nsecond line")
        await wait_for(pilot, lambda: drawn(a)[:2] == ["first line", "second line"])
        app.show("b", focus=True)
        await pilot.pause()
        a.feed(b"\x1b[1;1Hchanged\x1b[K")
        await pilot.pause()
        app.show("a", focus=focus)
        await wait_for(pilot, lambda: drawn(a)[:2] == ["changed", "second line"], timeout=10)


async def test_a_pane_shown_again_renders_only_the_rows_that_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Textual repaints a whole widget when it gains the focus: a session switch rendered every row of the
    pane it showed (half the switch's frame, `benchmarks/bench_sessions.py`). The pane keeps its rendered
    rows and draws only those that changed while it was hidden, and the cursor's (fails on the old code)."""
    app = TwoPanes()
    async with app.run_test(size=(60, 12)) as pilot:
        a = app.show("a", focus=True)
        a.feed(b"".join(b"line %d\r\n" % n for n in range(8)))
        await wait_for(pilot, lambda: drawn(a)[7:8] == ["line 7"])
        app.show("b", focus=True)
        await pilot.pause()
        a.feed(b"\x1b[1;1Hchanged\x1b[K\x1b[9;1H")
        await pilot.pause()
        rendered: list[int] = []
        render_line = TerminalPane.render_line

        def spy(self: TerminalPane, y: int) -> Strip:
            if self is a:
                rendered.append(y)
            return render_line(self, y)

        monkeypatch.setattr(TerminalPane, "render_line", spy)
        app.show("a", focus=True)
        await wait_for(pilot, lambda: 0 in rendered)  # the screen's update drew the changed row
        await pilot.pause()
        assert len(set(rendered)) <= 3, sorted(set(rendered))  # the changed row and the cursor's
        assert drawn(a)[:2] == ["changed", "line 1"]


def test_feeding_a_viewer_before_the_app_runs() -> None:
    pane = TerminalPane()
    pane.feed(b"early \x1b[1mbytes\x1b[0m")
    assert pane.emulator.display[0].rstrip() == "early bytes"


def test_snapshot_colored_output_and_cursor(snap_compare: Any) -> None:
    async def settle(pilot: Pilot[Any]) -> None:
        await helpers.wait_for_screen(pilot, "type here")  # the pane draws on its own frame timer

    assert snap_compare(SnapshotApp(), terminal_size=(50, 8), run_before=settle)
