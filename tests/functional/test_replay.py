"""`claude-tui replay`: --print-screen (no UI), bad files, and the player's keys driven with Pilot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from claude_tui.cli import main
from claude_tui.replay_app import ReplayApp
from claude_tui.terminal.cast import read_cast
from claude_tui.terminal.recorder import CastRecorder
from claude_tui.widgets.terminal import TerminalPane
from tests.helpers import wait_for


def make_cast(path: Path, lines: int = 12, cols: int = 30, rows: int = 5) -> Path:
    """A recording made the way a session makes it: through CastRecorder."""
    with CastRecorder(path, cols, rows, command="demo", title="replay test") as recorder:
        for i in range(lines):
            recorder.output(f"line {i}\r\n".encode())
        recorder.output(b"\x1b[1;31mred\x1b[0m end")
    return path


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, ["replay", *args])


def test_print_screen_is_the_final_screen(tmp_path: Path) -> None:
    result = invoke(str(make_cast(tmp_path / "a.cast")), "--print-screen")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["line 8", "line 9", "line 10", "line 11", "red end"]


def test_print_screen_with_scrollback(tmp_path: Path) -> None:
    result = invoke(str(make_cast(tmp_path / "a.cast")), "--print-screen", "--scrollback")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [*(f"line {i}" for i in range(12)), "red end"]


def test_size_override_and_resize_events(tmp_path: Path) -> None:
    path = tmp_path / "r.cast"
    with CastRecorder(path, 10, 3) as recorder:
        recorder.output(b"abcdefghijklmnop\r\n")
        recorder.resize(20, 3)
        recorder.output(b"0123456789abcdefghij")
    # The recording's own sizes: wrapped at 10, then a 20-wide line after the resize event.
    assert invoke(str(path), "--print-screen").stdout.splitlines() == [
        "abcdefghij",
        "klmnop",
        "0123456789abcdefghij",
    ]
    # Forced to 8 columns (resize events ignored): everything wraps at 8.
    forced = invoke(str(path), "--print-screen", "--scrollback", "--cols", "8", "--rows", "4").stdout
    assert forced.splitlines() == ["abcdefgh", "ijklmnop", "01234567", "89abcdef", "ghij"]


def test_raw_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "raw.out"
    path.write_bytes(b"\x1b[32mhello\x1b[0m raw\r\nsecond line\r\n")
    result = invoke(str(path), "--print-screen")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["hello raw", "second line"]


def test_truncated_last_line_plays_the_rest_with_a_warning(tmp_path: Path) -> None:
    path = make_cast(tmp_path / "t.cast", lines=3)
    with open(path, "a") as f:
        f.write('[9.9, "o", "half writ')
    result = invoke(str(path), "--print-screen")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["line 0", "line 1", "line 2", "red end"]
    assert "last line cut off" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        (b"", "empty file"),
        (b'{"version": 2, "width": 8', "header is not valid JSON"),
        (b'{"version": 2, "width": 80, "height": 24}\n[0.1, "o", "a"]\ngarbage\n[0.2, "o", "b"]\n', "line 3"),
        (bytes(range(256)) * 64, "binary data"),
        (b'{"version": 9, "width": 80, "height": 24}\n', "unsupported asciicast version 9"),
    ],
)
@pytest.mark.parametrize("print_screen", [True, False])
def test_bad_files_exit_2_with_one_line(
    tmp_path: Path, content: bytes | None, message: str, print_screen: bool
) -> None:
    path = tmp_path / "bad.cast"
    if content is not None:
        path.write_bytes(content)
    result = invoke(str(path), *(["--print-screen"] if print_screen else []))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("claude-tui replay: ") and message in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_options_exit_2(tmp_path: Path) -> None:
    path = str(make_cast(tmp_path / "a.cast"))
    assert invoke(path, "--scrollback").exit_code == 2
    assert invoke(path, "--print-screen", "--cols", "0").exit_code == 2
    assert invoke(path, "--speed", "3").exit_code == 2


def test_print_screen_does_not_import_textual(tmp_path: Path) -> None:
    path = make_cast(tmp_path / "a.cast")
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom claude_tui.cli import main\n"
        f"r = CliRunner().invoke(main, ['replay', {str(path)!r}, '--print-screen'])\n"
        "print(r.exit_code, r.stdout.splitlines()[-1], 'textual' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "red", "end", "False"]


# -- the player ---------------------------------------------------------------------------------------------


def timed_cast(path: Path, count: int = 40, step: float = 0.1) -> Path:
    lines = [json.dumps({"version": 2, "width": 40, "height": 6})]
    lines += [json.dumps([round(i * step, 3), "o", f"frame {i}\r\n"]) for i in range(count)]
    path.write_text("\n".join(lines) + "\n")
    return path


def screen(app: ReplayApp) -> str:
    return "\n".join(app.query_one(TerminalPane).emulator.display)


async def test_player_play_pause_speed_instant(tmp_path: Path) -> None:
    app = ReplayApp(read_cast(timed_cast(tmp_path / "p.cast")))
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(TerminalPane)
        assert (pane.emulator.cols, pane.emulator.rows) == (40, 6)
        await wait_for(pilot, lambda: app.next_event >= 3, 30, "a few frames played")
        await pilot.press("space")  # pause
        assert not app.playing
        stopped_at = app.next_event
        assert 1 <= stopped_at < 40
        await pilot.pause(0.5)
        assert app.next_event == stopped_at  # nothing plays while paused
        assert "paused" in str(app.query_one("#status").render())
        await pilot.press("space")  # play again
        assert app.playing
        await pilot.press("plus", "plus")
        assert app.speed == 4.0
        assert "4x" in str(app.query_one("#status").render())
        await pilot.press("minus")
        assert app.speed == 2.0
        await pilot.press("i")  # instant: to the end
        await wait_for(pilot, lambda: app.finished, 30, "the end")
        assert "frame 39" in screen(app)
        assert "finished" in str(app.query_one("#status").render())
        await pilot.press("r")  # restart from the beginning, at 1x
        assert app.speed == 1.0 and app.playing and not app.finished
        assert "frame 39" not in screen(app)
        await pilot.press("q")
    assert app.return_code == 0


async def test_player_follows_resize_events(tmp_path: Path) -> None:
    path = tmp_path / "r.cast"
    with CastRecorder(path, 20, 4) as recorder:
        recorder.output(b"small\r\n")
        recorder.resize(50, 8)
        recorder.output(b"after the resize, a line longer than twenty\r\n")
    app = ReplayApp(read_cast(path), speed=float("inf"))

    async with app.run_test(size=(70, 14)) as pilot:
        await wait_for(pilot, lambda: app.finished, 30, "the end")
        pane = app.query_one(TerminalPane)
        assert (pane.emulator.cols, pane.emulator.rows) == (50, 8)
        assert "after the resize, a line longer than twenty" in screen(app)
        size = lambda: (pane.size.width, pane.size.height)  # noqa: E731
        await wait_for(pilot, lambda: size() == (50, 8), 30, "the widget to follow at the next layout")
        assert (pane.emulator.cols, pane.emulator.rows) == (50, 8)
        assert "after the resize, a line longer than twenty" in screen(app)


async def test_player_feeds_a_big_raw_file_in_slices(tmp_path: Path) -> None:
    path = tmp_path / "big.out"
    path.write_bytes(b"".join(b"raw line %d\r\n" % i for i in range(20000)))
    app = ReplayApp(read_cast(path), speed=float("inf"))
    assert len(app.events) > 10  # one raw event, cut into slices
    async with app.run_test(size=(90, 30)) as pilot:
        await wait_for(pilot, lambda: app.finished, 60, "the end")
        assert "raw line 19999" in screen(app)


# -- hostile recordings (issue 13) ---------------------------------------------------------------------------


def replay_in_subprocess(
    path: Path, *args: str, memory_mb: int | None = None
) -> subprocess.CompletedProcess[str]:
    """`claude-tui replay PATH ARGS` in a child process, its address space limited to `memory_mb`."""
    limit = (
        f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({memory_mb << 20}, {memory_mb << 20}))\n"
        if memory_mb
        else ""
    )
    code = (
        f"{limit}import sys\nfrom claude_tui.cli import main\n"
        f"sys.argv = ['claude-tui', 'replay', {str(path)!r}, *{list(args)!r}]\nmain()\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("claim", ["header", "resize event"])
def test_a_lying_size_is_capped_and_said_in_one_line(tmp_path: Path, claim: str) -> None:
    """A cast claiming a 100000x100000 screen (17 bytes a cell: 170 GB) plays in 2000x2000 within 600 MB."""
    path = tmp_path / "lying.cast"
    header = {
        "version": 2,
        "width": 100_000 if claim == "header" else 40,
        "height": 100_000 if claim == "header" else 5,
    }
    events = [[0.0, "o", "hello\r\n"]]
    if claim == "resize event":
        events.append([0.1, "r", "100000x100000"])
    events.append([0.2, "o", "\x1b[2000;1997Hend"])
    path.write_text("\n".join(json.dumps(line) for line in [header, *events]) + "\n")
    result = replay_in_subprocess(path, "--print-screen", memory_mb=600)
    assert result.returncode == 0, result.stderr[-2000:]
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("claude-tui replay: warning: "), result.stderr[
        -2000:
    ]
    assert "100000x100000" in warnings[0] and "2000x2000" in warnings[0]
    lines = result.stdout.splitlines()
    assert lines[0] == "hello"
    # The cursor went to the last row of a 2000x2000 screen, not of the claimed one.
    assert len(lines) == 2000 and lines[-1] == " " * 1996 + "end"


def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.cast"
    os.mkfifo(fifo)
    for args in (["--print-screen"], []):
        result = replay_in_subprocess(fifo, *args)
        assert result.returncode == 2
        assert result.stderr.splitlines() == [f"claude-tui replay: {fifo}: is a FIFO, not a recording file"]
