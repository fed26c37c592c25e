"""Fidelity: every stream of the corpus gives the same screen and scrollback text in our emulator as in tmux.

Each stream (tests/data/streams/) is fed to :class:`TerminalEmulator` and, at the same size, ``cat`` raw into
a tmux pane (own server socket per test, status line off, history-limit 10000). The pane runs
``stty raw -echo; cat FILE; tmux wait-for -S done; sleep`` so nothing but the stream reaches the pane, and the
test waits for the ``done`` signal before capturing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import pytest

from claude_tui.terminal import TerminalEmulator

STREAMS = Path(__file__).resolve().parent.parent / "data" / "streams"

SIZES: dict[str, tuple[int, int]] = {
    name: (cols, rows) for name, (cols, rows) in json.loads((STREAMS / "sizes.json").read_text()).items()
}
"""Size each stream was recorded at (`sizes.json`, written by tests/data/streams/record_streams.py; the
claude_*.bin streams by the stub harness at 120x40)."""


class Capture(NamedTuple):
    """What a terminal shows: screen lines and history lines (each rstripped) and the cursor (x, y)."""

    screen: list[str]
    history: list[str]
    cursor: tuple[int, int]


def tmux_capture(
    data: bytes,
    cols: int,
    rows: int,
    tmp_path: Path,
    resizes: Sequence[tuple[int, int]] = (),
    after: bytes = b"",
) -> Capture:
    """Show ``data`` in a tmux pane of ``cols`` x ``rows``, resize it, show ``after``; return the result."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (the set-up installs it from Debian's packages)")
    stream = tmp_path / "stream.bin"
    stream.write_bytes(data)
    stream_after = tmp_path / "after.bin"
    stream_after.write_bytes(after)
    conf = tmp_path / "tmux.conf"
    conf.write_text("set -g history-limit 10000\nset -g status off\nset -g default-terminal xterm-256color\n")
    # A socket of our own in the test's temp dir: a private server, and no socket file left behind.
    socket = tmp_path / f"tmux-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env.pop("TMUX", None)
    base = ["tmux", "-u", "-S", str(socket), "-f", str(conf)]
    signal = f"tmux -S {socket} wait-for"
    pane_cmd = (
        f"stty raw -echo; cat {stream}; {signal} -S shown; {signal} resized; cat {stream_after}; "
        f"{signal} -S done; sleep 600"
    )
    try:
        subprocess.run(
            [*base, "new-session", "-d", "-x", str(cols), "-y", str(rows), "sh", "-c", pane_cmd],
            check=True,
            env=env,
            timeout=30,
        )
        subprocess.run([*base, "wait-for", "shown"], check=True, env=env, timeout=60)
        for width, height in resizes:
            subprocess.run(
                [*base, "resize-window", "-x", str(width), "-y", str(height)], check=True, env=env, timeout=30
            )
        if resizes:
            cols, rows = resizes[-1]
        subprocess.run([*base, "wait-for", "-S", "resized"], check=True, env=env, timeout=60)
        subprocess.run([*base, "wait-for", "done"], check=True, env=env, timeout=60)
        # The pane's `wait-for -S` can reach the server before it has read the last output from the pty:
        # capture until two captures in a row agree.
        previous: tuple[bytes, bytes, str] | None = None
        for _ in range(50):
            screen = subprocess.run(
                [*base, "capture-pane", "-p"], check=True, env=env, capture_output=True, timeout=30
            ).stdout
            everything = subprocess.run(
                [*base, "capture-pane", "-p", "-S", "-"], check=True, env=env, capture_output=True, timeout=30
            ).stdout
            cursor_text = subprocess.run(
                [*base, "display-message", "-p", "#{cursor_x} #{cursor_y}"],
                check=True,
                env=env,
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout
            if previous == (screen, everything, cursor_text):
                break
            previous = (screen, everything, cursor_text)
        cursor = cursor_text.split()
    finally:
        subprocess.run([*base, "kill-server"], env=env, capture_output=True, timeout=30)
    screen_lines = [line.rstrip() for line in screen.decode("utf-8", "replace").split("\n")][:rows]
    all_lines = [line.rstrip() for line in everything.decode("utf-8", "replace").split("\n")]
    # capture-pane ends with a newline: drop the empty tail, then the screen rows are the last `rows` lines.
    if all_lines and all_lines[-1] == "":
        all_lines.pop()
    history = all_lines[: len(all_lines) - rows]
    # tmux reports x == cols while a wrap is pending; we report the last column, where a terminal shows it.
    return Capture(screen_lines, history, (min(int(cursor[0]), cols - 1), int(cursor[1])))


def emulate(data: bytes, cols: int, rows: int) -> Capture:
    """Feed ``data`` to our emulator; return what it shows."""
    emulator = TerminalEmulator(cols=cols, rows=rows, history=10_000)
    emulator.feed(data)
    return shown(emulator)


def shown(emulator: TerminalEmulator) -> Capture:
    """What our emulator shows, in the form of :func:`tmux_capture`."""
    return Capture(
        [line.rstrip() for line in emulator.display],
        [line.rstrip() for line in emulator.history_lines()],
        emulator.cursor,
    )


def corpus() -> list[str]:
    """Names of the streams present (claude_interactive.bin appears once the stub harness records it)."""
    return sorted(p.name for p in STREAMS.glob("*.bin"))


@pytest.mark.parametrize("name", corpus())
def test_stream_matches_tmux(name: str, tmp_path: Path) -> None:
    data = (STREAMS / name).read_bytes()
    cols, rows = SIZES[name]
    tmux = tmux_capture(data, cols, rows, tmp_path)
    ours = emulate(data, cols, rows)
    assert ours.screen == tmux.screen
    assert ours.history == tmux.history
    assert ours.cursor == tmux.cursor


def test_corpus_covers_the_required_programs() -> None:
    names = set(corpus())
    for required in (
        "less_file.bin",
        "vim_file.bin",
        "git_log_color.bin",
        "curses_redraw.bin",
        "cjk_emoji.bin",
    ):
        assert required in names
    assert names & {"claude_interactive.bin", "claude_session.bin"}, "no recorded Claude Code stream"
    assert set(SIZES) >= names, "every stream needs its recorded size in SIZES"


def test_alternate_screen_streams_leave_no_trace_in_tmux_or_ours(tmp_path: Path) -> None:
    """less and vim use the alternate screen: after they quit, neither screen nor history shows the file."""
    for name in ("less_file.bin", "vim_file.bin"):
        data = (STREAMS / name).read_bytes()
        assert b"\x1b[?1049h" in data
        cols, rows = SIZES[name]
        ours = emulate(data, cols, rows)
        assert not any("quick brown fox" in line for line in ours.screen + ours.history)
        tmux = tmux_capture(data, cols, rows, tmp_path)
        assert not any("quick brown fox" in line for line in tmux.screen + tmux.history)
        # ... and while they ran, the file was on the (alternate) screen.
        middle = emulate(data[: data.index(b"\x1b[?1049l")], cols, rows)
        assert any("quick brown fox" in line for line in middle.screen)
        assert middle.history == ours.history


@pytest.mark.parametrize("name", ["curses_redraw.bin", "cjk_emoji.bin", "sequences_edit.bin"])
def test_byte_by_byte_feeding_matches_tmux(name: str, tmp_path: Path) -> None:
    data = (STREAMS / name).read_bytes()
    cols, rows = SIZES[name]
    emulator = TerminalEmulator(cols=cols, rows=rows)
    for i in range(len(data)):
        emulator.feed(data[i : i + 1])
    assert shown(emulator) == tmux_capture(data, cols, rows, tmp_path)


@pytest.mark.parametrize("percent", [20, 40, 60, 80, 90])
@pytest.mark.parametrize("name", [n for n in corpus() if n.startswith("claude_")])
def test_claude_stream_prefixes_match_tmux(name: str, percent: int, tmp_path: Path) -> None:
    """The whole Claude session ends on its exit message; cut it mid-session (even mid-sequence) too."""
    data = (STREAMS / name).read_bytes()
    data = data[: len(data) * percent // 100]
    cols, rows = SIZES[name]
    tmux = tmux_capture(data, cols, rows, tmp_path)
    assert any(line.strip() for line in tmux.screen), "the cut shows nothing: the test would prove nothing"
    assert emulate(data, cols, rows) == tmux


def _unit_screen_cases() -> list[tuple[str, bytes]]:
    """The table of tests/unit/test_emulator.py, so its expectations are checked against tmux too."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "unit" / "test_emulator.py"
    spec = importlib.util.spec_from_file_location("_unit_emulator_cases", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # Left out, where we deliberately differ from what `capture-pane` prints: C1 controls and invalid UTF-8
    # (tmux draws them, programs do not send them); DEC line drawing (capture-pane prints the ASCII codes
    # "lqk", the pane shows lines, as we do); a wide character whose right half is overwritten (tmux 3.3a
    # keeps the whole character, xterm and we blank its left half).
    skip = ("c1 ignored", "invalid utf8", "dec graphics", "shift out", "overwrite half of wide")
    return [(name, data) for name, data, _ in module.SCREEN_CASES if name not in skip]


@pytest.mark.parametrize(("name", "data"), _unit_screen_cases(), ids=[c[0] for c in _unit_screen_cases()])
def test_unit_table_matches_tmux(name: str, data: bytes, tmp_path: Path) -> None:
    assert emulate(data, 20, 5) == tmux_capture(data, 20, 5, tmp_path)


HISTORY_CASES = {
    "reset pushes screen": b"aa\r\nbb\x1bcxy",
    "clear pushes used rows": b"1\r\n2\r\n3\r\n4\r\n5\r\n6\r\n7\x1b[2J\x1b[Hq",
    "clear keeps colored blank rows": b"\x1b[41m  \x1b[0m\r\n\r\nz\x1b[2J",
    "region scroll feeds history": b"a\r\nb\r\nc\r\nd\r\ne\x1b[2;4r\x1b[4;1H\n\n\nx\x1b[r",
    "scroll up feeds history": b"a\r\nb\r\nc\x1b[2S",
    "delete line does not": b"a\r\nb\r\nc\x1b[1;1H\x1b[2M",
    "alternate screen does not": b"a\x1b[?1049h" + b"alt\r\n" * 9 + b"\x1b[?1049lz",
    "bulk lines after text": b"abc" + b"".join(b"%d\r\n" % i for i in range(40)) + b"end",
}


@pytest.mark.parametrize("data", list(HISTORY_CASES.values()), ids=list(HISTORY_CASES))
def test_history_rules_match_tmux(data: bytes, tmp_path: Path) -> None:
    assert emulate(data, 20, 5) == tmux_capture(data, 20, 5, tmp_path)


MAIN_THEN_ALT = b"".join(b"main %d\r\n" % i for i in range(12)) + b"cursor\x1b[?1049h\x1b[Halt one\r\nalt two"

# (data, resizes, data after the resizes)
RESIZE_CASES: dict[str, tuple[bytes, list[tuple[int, int]], bytes]] = {
    "grow pulls scrollback back": (
        b"".join(b"line %d\r\n" % i for i in range(30)) + b"tail",
        [(20, 10)],
        b"",
    ),
    "shrink pushes top rows": (b"".join(b"line %d\r\n" % i for i in range(30)) + b"tail", [(20, 3)], b""),
    "shrink drops blank rows below cursor": (b"a\r\nb\r\nc", [(20, 3)], b""),
    "shrink with cursor high": (b"".join(b"l%d\r\n" % i for i in range(8)) + b"\x1b[2;3H", [(20, 2)], b""),
    "grow then shrink": (b"".join(b"line %d\r\n" % i for i in range(30)) + b"tail", [(20, 12), (20, 4)], b""),
    "narrower and taller": (b"".join(b"row %d\r\n" % i for i in range(12)) + b"end", [(10, 8)], b""),
    "wider": (b"".join(b"row %d\r\n" % i for i in range(12)) + b"end", [(30, 5)], b""),
    "output after resize": (b"a\r\nb\r\nc", [(20, 3)], b"\r\nafter\x1b[1;1Htop"),
    "alt screen shrunk": (MAIN_THEN_ALT, [(20, 3)], b""),
    "alt screen shrunk then left": (MAIN_THEN_ALT, [(20, 3)], b"\x1b[?1049lX"),
    "alt screen grown then left": (MAIN_THEN_ALT, [(20, 9)], b"\x1b[?1049lX"),
    # Narrower than a line would make tmux re-wrap it, which we do not do: 8 columns fit every line.
    "alt screen narrowed then left": (MAIN_THEN_ALT, [(8, 5)], b"\x1b[?1049lX"),
}


@pytest.mark.parametrize(("data", "resizes", "after"), list(RESIZE_CASES.values()), ids=list(RESIZE_CASES))
def test_resize_matches_tmux(
    data: bytes, resizes: list[tuple[int, int]], after: bytes, tmp_path: Path
) -> None:
    emulator = TerminalEmulator(20, 5)
    emulator.feed(data)
    for cols, rows in resizes:
        emulator.resize(cols, rows)
    emulator.feed(after)
    assert shown(emulator) == tmux_capture(data, 20, 5, tmp_path, resizes, after)
