"""`OwnerPump.take_snapshot`: the owner sends stats only when counts or states change (and every
`OwnedSession.STATS_EVERY` seconds), so the window runs the session's clocks on between them."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from claude_tui.owner import attached
from claude_tui.owner.attached import OwnerPump
from claude_tui.owner.protocol import encode_message
from claude_tui.snapshot import SessionSnapshot


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("state", "active", "waiting"), [("idle", 5.0, 1.0), ("working", 12.0, 1.0), ("waiting", 5.0, 8.0)]
)
def test_the_clocks_run_on_between_the_owner_s_stats(
    monkeypatch: pytest.MonkeyPatch, state: str, active: float, waiting: float
) -> None:
    clock = Clock()
    monkeypatch.setattr(attached.time, "monotonic", clock)
    ours, owners = socket.socketpair()
    with ours, owners:
        pump = OwnerPump(ours, Path("owner.sock"))
        ours.setblocking(False)
        sent = SessionSnapshot(state=state, elapsed_seconds=30.0, active_seconds=5.0, waiting_seconds=1.0)  # type: ignore[arg-type]
        owners.sendall(encode_message({"op": "stats", "snapshot": sent.to_dict()}))
        pump.pump(budget=1.0)
        clock.now += 7.0
        got = pump.take_snapshot()
    assert got is not None
    assert (got.elapsed_seconds, got.active_seconds, got.waiting_seconds) == (37.0, active, waiting)


def test_a_pane_on_the_owner_s_stream_does_not_wake_each_second_for_upkeep(tmp_path: Path) -> None:
    """Issue 19, target 2: the pane's upkeep timer (a Textual interval, once a second) flushes a local
    recording and looks for a local program's end; the owner records its programs and says when one ended
    in its stream, so an attached pane (and a viewer) sets no such timer."""
    from claude_tui.widgets.terminal import TerminalPane

    ours, owners = socket.socketpair()
    with ours, owners:
        assert not TerminalPane(pump=OwnerPump(ours, tmp_path / "owner.sock")).needs_upkeep
    assert not TerminalPane().needs_upkeep  # a viewer of fed bytes
    assert TerminalPane(command=["sh"]).needs_upkeep  # a program in this process's PTY
