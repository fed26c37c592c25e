"""`one_line`: the one home for turning an exception into the line the user sees."""

from __future__ import annotations

from claude_tui.tracking.errors import MAX_LINE, one_line


def test_type_and_first_line() -> None:
    error = ConnectionRefusedError("store is down\nsecond line")
    assert one_line(error) == "ConnectionRefusedError: store is down"


def test_an_empty_message_gives_the_type_alone() -> None:
    assert one_line(ValueError()) == "ValueError"
    assert one_line(ValueError("  \n ")) == "ValueError"


def test_long_messages_are_cut() -> None:
    assert one_line(OSError("x" * 1000)) == ("OSError: " + "x" * 1000)[:MAX_LINE]


def test_a_broken_str_still_gives_the_type() -> None:
    class Broken(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert one_line(Broken()) == "Broken"
