"""read_cast: asciicast v2 (and v1/v3), raw files, truncated and broken files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from claude_tui.terminal.cast import CastError, CastEvent, read_cast

HEADER: dict[str, object] = {"version": 2, "width": 90, "height": 20, "timestamp": 1700000000}


def write_cast(path: Path, events: list[list[object]], header: dict[str, object] = HEADER) -> Path:
    path.write_text("\n".join(json.dumps(x) for x in [header, *events]) + "\n")
    return path


def test_v2(tmp_path: Path) -> None:
    cast = read_cast(
        write_cast(tmp_path / "a.cast", [[0.5, "o", "hi"], [1.25, "r", "100x30"], [2, "i", "x"]])
    )
    assert (cast.width, cast.height) == (90, 20)
    assert cast.events == [
        CastEvent(0.5, "o", "hi"),
        CastEvent(1.25, "r", "100x30"),
        CastEvent(2.0, "i", "x"),
    ]
    assert [e.code for e in cast.output()] == ["o", "r"]
    assert cast.duration == 2.0
    assert not cast.truncated


def test_truncated_last_line_keeps_the_rest(tmp_path: Path) -> None:
    path = write_cast(tmp_path / "a.cast", [[0.1, "o", "one"], [0.2, "o", "two"]])
    with open(path, "a") as f:
        f.write('[0.3, "o", "thr')  # the writer died mid-line
    cast = read_cast(path)
    assert cast.truncated
    assert [e.data for e in cast.events] == ["one", "two"]


def test_broken_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "a.cast"
    path.write_text(json.dumps(HEADER) + '\n[0.1, "o", "one"]\nnot json\n[0.2, "o", "two"]\n')
    with pytest.raises(CastError, match=r"line 3 is not an asciicast event"):
        read_cast(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"  \n", "empty file"),
        (b'{"version": 2, "wid', "header is not valid JSON"),
        (b'{"version": 7, "width": 80, "height": 24}\n', "unsupported asciicast version 7"),
        (b'{"version": 2}\n', "no width/height"),
        (b"[1, 2, 3]\n", None),  # a JSON list is not a header: treated as text output, accepted
        (bytes(range(256)) * 100, "binary data"),
        (os.urandom(4096), "binary data"),
        (b"{" + bytes(range(256)) * 16, "binary data"),  # garbage that starts like a JSON header
    ],
)
def test_bad_files(tmp_path: Path, content: bytes, message: str | None) -> None:
    path = tmp_path / "bad.cast"
    path.write_bytes(content)
    if message is None:
        assert read_cast(path).raw
        return
    with pytest.raises(CastError) as info:
        read_cast(path)
    text = str(info.value)
    assert message in text
    assert "\n" not in text and str(path) in text


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(CastError, match="cannot read"):
        read_cast(tmp_path / "nope.cast")
    with pytest.raises(CastError, match="is a directory"):
        read_cast(tmp_path)


def test_raw_terminal_output(tmp_path: Path) -> None:
    data = "\x1b[1;32mgreen\x1b[0m 漢字\r\n".encode() * 50
    path = tmp_path / "raw.bin"
    path.write_bytes(data)
    cast = read_cast(path)
    assert cast.raw
    assert (cast.width, cast.height) == (80, 24)
    assert "".join(e.data for e in cast.output()).encode() == data


def test_v3_intervals_and_v1(tmp_path: Path) -> None:
    v3 = tmp_path / "v3.cast"
    v3.write_text(
        json.dumps({"version": 3, "term": {"cols": 70, "rows": 15}})
        + '\n# a comment\n[0.5, "o", "a"]\n[0.25, "o", "b"]\n[1.0, "x", "0"]\n'
    )
    cast = read_cast(v3)
    assert (cast.width, cast.height) == (70, 15)
    assert [(e.time, e.code) for e in cast.events] == [(0.5, "o"), (0.75, "o"), (1.75, "x")]
    v1 = tmp_path / "v1.json"
    v1.write_text(
        json.dumps({"version": 1, "width": 60, "height": 10, "stdout": [[0.5, "a"], [0.5, "b"]]}, indent=2)
    )
    cast = read_cast(v1)
    assert (cast.width, cast.height) == (60, 10)
    assert cast.events == [CastEvent(0.5, "o", "a"), CastEvent(1.0, "o", "b")]
