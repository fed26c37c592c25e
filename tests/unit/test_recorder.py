"""CastRecorder: asciicast v2 written as bytes arrive, round trip through read_cast."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from claude_tui.terminal import recorder as recorder_module
from claude_tui.terminal.cast import read_cast
from claude_tui.terminal.recorder import CastRecorder


def lines(path: Path) -> list[object]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_header_events_and_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "rec.cast"
    with CastRecorder(path, 100, 30, command="claude --model x", title="a title") as rec:
        rec.output(b"hello \x1b[31mred\x1b[0m\r\n")
        rec.resize(120, 40)
        rec.resize(120, 40)  # unchanged: no event
        rec.output("wide 漢字 ✻\r\n".encode())
        rec.input(b"secret")  # not recorded by default
    header, *events = lines(path)
    assert isinstance(header, dict)
    assert header["version"] == 2
    assert (header["width"], header["height"]) == (100, 30)
    assert header["command"] == "claude --model x"
    assert header["title"] == "a title"
    assert header["env"]["TERM"] == "xterm-256color"
    assert "SHELL" in header["env"]
    assert isinstance(header["timestamp"], int)
    assert [e[1:] for e in events] == [  # type: ignore[index]
        ["o", "hello \x1b[31mred\x1b[0m\r\n"],
        ["r", "120x40"],
        ["o", "wide 漢字 ✻\r\n"],
    ]
    times = [e[0] for e in events]  # type: ignore[index]
    assert times == sorted(times) and all(t >= 0 for t in times)
    cast = read_cast(path)
    assert not cast.truncated and not cast.raw
    assert (cast.width, cast.height) == (100, 30)
    assert (
        "".join(e.data for e in cast.events if e.code == "o") == "hello \x1b[31mred\x1b[0m\r\nwide 漢字 ✻\r\n"
    )


def test_file_mode_is_0600(tmp_path: Path) -> None:
    path = tmp_path / "rec.cast"
    path.write_text("old")
    path.chmod(0o644)
    CastRecorder(path, 80, 24).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(lines(path)) == 1  # truncated, header only


@pytest.mark.parametrize("split", [1, 2, 3])
def test_split_utf8_is_not_mangled(tmp_path: Path, split: int) -> None:
    data = "€✻😀".encode()  # 3 + 3 + 4 bytes
    path = tmp_path / "rec.cast"
    with CastRecorder(path, 80, 24) as rec:
        for i in range(0, len(data), split):
            rec.output(data[i : i + split])
    _, *events = lines(path)
    text = "".join(e[2] for e in events)  # type: ignore[index]
    assert text == "€✻😀"
    assert "\ufffd" not in text


def test_dangling_partial_character_is_written_on_close(tmp_path: Path) -> None:
    path = tmp_path / "rec.cast"
    with CastRecorder(path, 80, 24) as rec:
        rec.output(b"ok\xe2\x9c")  # the first two bytes of a three-byte character, then the end
    _, *events = lines(path)
    assert "".join(e[2] for e in events) == "ok\ufffd"  # type: ignore[index]


def test_input_events_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "rec.cast"
    with CastRecorder(path, 80, 24, record_input=True) as rec:
        rec.input(b"ls\r")
        rec.output(b"file\r\n")
    _, *events = lines(path)
    assert [e[1:] for e in events] == [["i", "ls\r"], ["o", "file\r\n"]]  # type: ignore[index]


def test_flushed_within_a_second_while_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(recorder_module.time, "monotonic", lambda: clock[0])
    path = tmp_path / "rec.cast"
    rec = CastRecorder(path, 80, 24)
    assert len(lines(path)) == 1  # the header is on disk at once
    rec.output(b"first\r\n")
    assert len(lines(path)) == 1  # buffered: less than a second since the last flush
    clock[0] += 0.5
    rec.output(b"second\r\n")
    assert len(lines(path)) == 1
    clock[0] += 0.6  # 1.1 s since the last flush: this output flushes everything
    rec.output(b"third\r\n")
    assert [e[2] for e in lines(path)[1:]] == ["first\r\n", "second\r\n", "third\r\n"]  # type: ignore[index]
    rec.output(b"fourth\r\n")
    clock[0] += 1.0
    rec.flush_if_due()  # the timer path: no new output needed
    assert len(lines(path)) == 5
    rec.close()
    rec.output(b"after close is ignored")
    assert len(lines(path)) == 5


def test_real_clock_flush_while_writing(tmp_path: Path) -> None:
    import time

    path = tmp_path / "rec.cast"
    rec = CastRecorder(path, 80, 24)
    deadline = time.monotonic() + 1.3
    n = 0
    while time.monotonic() < deadline:
        rec.output(b"x" * 100)
        n += 1
        time.sleep(0.01)
    # Everything but at most the last second of output is on disk while the file is still open.
    on_disk = len(lines(path)) - 1
    assert on_disk >= 1
    assert on_disk >= n * 0.1
    rec.close()
    assert len(lines(path)) - 1 == n
