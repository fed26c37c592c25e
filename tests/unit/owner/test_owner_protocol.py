"""The owner's wire format and socket: frames cut anywhere, limits, sockets at paths of any length."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest

from claude_tui.owner import protocol
from claude_tui.owner.protocol import (
    INPUT,
    MESSAGE,
    OUTPUT,
    FrameReader,
    ProtocolError,
    connect_unix,
    decode_message,
    encode,
    encode_message,
    listen_socket,
)

FRAMES = [
    (MESSAGE, json.dumps({"op": "hello", "protocol": 1}).encode()),
    (OUTPUT, b"\x1b[31mred\x1b[0m \xe2\x86\x92 arrow"),
    (INPUT, b""),
    (OUTPUT, bytes(range(256)) * 40),
]


def test_frames_come_out_whole_however_the_stream_is_cut() -> None:
    stream = b"".join(encode(kind, payload) for kind, payload in FRAMES)
    for step in (1, 2, 3, 5, 7, 64, 4096, len(stream)):
        reader = FrameReader()
        got = []
        for start in range(0, len(stream), step):
            got += reader.feed(stream[start : start + step])
        assert got == FRAMES, step
        assert reader.pending == 0


def test_a_frame_too_big_is_refused_before_it_is_read() -> None:
    reader = FrameReader()
    with pytest.raises(ProtocolError):
        reader.feed(protocol.HEADER.pack(protocol.MAX_FRAME + 1, OUTPUT))


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[1, 2]", b'{"no": "op"}', b'{"op": 3}', b"\xff\xfe"],
)
def test_a_message_without_an_op_is_a_protocol_error(payload: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_message(payload)


def test_messages_round_trip() -> None:
    message = {"op": "spawn", "argv": ["claude", "--", "ünïcode"], "cols": 120}
    [(kind, payload)] = FrameReader().feed(encode_message(message))
    assert kind == MESSAGE and decode_message(payload) == message


@pytest.mark.parametrize("depth", [0, 12])
def test_sockets_at_any_path_length_are_private(tmp_path: Path, depth: int) -> None:
    """AF_UNIX paths stop at 107 bytes; a data dir deep in a temp folder must still work, and only its user
    may connect (0600 socket in a 0700 folder)."""
    folder = tmp_path.joinpath(*["a-long-folder-name"] * depth)
    folder.mkdir(parents=True, exist_ok=True)
    data_dir = folder / "data"
    path = protocol.socket_path(data_dir)
    assert depth == 0 or len(str(path)) > 107
    server = listen_socket(path)
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connect_unix(client, path)
        accepted, _ = server.accept()
        client.sendall(b"ping")
        assert accepted.recv(4) == b"ping"
        client.close()
        accepted.close()
        with pytest.raises(FileExistsError):
            listen_socket(path)  # a second owner on the same socket is refused
    finally:
        server.close()
    replacement = listen_socket(path)  # nobody answers on the old file: it is replaced
    replacement.close()


def test_every_owner_socket_is_found_this_versions_first(tmp_path: Path) -> None:
    mine = protocol.socket_path(tmp_path)
    older = protocol.socket_path(tmp_path, version="0.0.9")
    for path in (older, mine):
        path.touch()
    assert protocol.owner_sockets(tmp_path) == [mine, older]
