"""How often the owner polls a session (issue 16 item 5, idle CPU): each tick while it is busy, once a
second while it is idle; a hook or telemetry makes the next tick poll. How often it ticks (issue 19,
target 2): each `POLL_INTERVAL` while a session is busy, once a second while all are idle."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from claude_tui.owner.server import OwnedSession, OwnerServer, idle_poll_at


def due(*, news: bool = False, output_at: float = 0.0, polled_at: float = 10.0, state: str = "idle",
        now: float) -> bool:  # fmt: skip
    session = SimpleNamespace(
        _news=news, _last_output=output_at, _polled_at=polled_at, state=state,
        IDLE_POLL_INTERVAL=OwnedSession.IDLE_POLL_INTERVAL, POLL_INTERVAL=OwnedSession.POLL_INTERVAL,
    )  # fmt: skip
    return bool(OwnedSession._poll_due(session, now))  # type: ignore[arg-type]


def test_an_idle_session_is_polled_once_a_second() -> None:
    tick = OwnedSession.POLL_INTERVAL
    assert not due(now=10.0 + tick) and not due(now=10.0 + 2 * tick) and not due(now=10.0 + 3 * tick)
    assert due(now=10.0 + 4 * tick)  # the next tick that is a second on
    assert OwnedSession.IDLE_POLL_INTERVAL == 1.0


def test_output_news_or_work_poll_at_the_next_tick() -> None:
    now = 10.0 + OwnedSession.POLL_INTERVAL
    assert due(output_at=10.1, now=now)  # the program wrote since the last poll
    assert due(news=True, now=now)  # a hook or the CLI's telemetry came
    assert due(state="working", now=now)
    assert not due(output_at=9.9, now=now)  # output the last poll saw


def ticking(
    *, configured: bool = True, running: bool = True, first_poll_at: float = 0.0, **values: Any
) -> Any:
    """A stand-in session for `OwnedSession.next_tick_in` (as `due` builds one for `_poll_due`)."""
    session = SimpleNamespace(
        configured=configured, running=running, _terminating=False, _first_poll_at=first_poll_at,
        _news=False, _last_output=0.0, _polled_at=10.0, state="idle",
        IDLE_POLL_INTERVAL=OwnedSession.IDLE_POLL_INTERVAL, POLL_INTERVAL=OwnedSession.POLL_INTERVAL,
        UPKEEP_INTERVAL=OwnedSession.UPKEEP_INTERVAL,
    )  # fmt: skip
    vars(session).update(values)
    session.next_tick_in = lambda now: OwnedSession.next_tick_in(session, now)  # type: ignore[arg-type]
    return session


def next_tick(session: Any, now: float) -> float | None:
    return OwnedSession.next_tick_in(session, now)  # type: ignore[no-any-return]


def test_an_idle_session_needs_the_owner_s_tick_once_a_second() -> None:
    """Issue 19, target 2: the owner ticked 4 times a second whatever its sessions did; an idle session now
    needs one tick a second (its idle poll, the recording's flush and the exit check come together)."""
    assert next_tick(ticking(), now=10.0) == pytest.approx(OwnedSession.IDLE_POLL_INTERVAL)
    assert next_tick(ticking(), now=10.6) == pytest.approx(0.4)  # the next idle poll, not a quarter second
    assert next_tick(ticking(), now=12.0) == 0.0  # overdue: at once
    assert OwnedSession.UPKEEP_INTERVAL <= 1.0  # the recording is flushed once a second


def test_a_busy_session_needs_a_tick_each_poll_interval() -> None:
    for busy in ({"_news": True}, {"_last_output": 10.1}, {"state": "working"}):
        assert next_tick(ticking(**busy), now=10.1) == OwnedSession.POLL_INTERVAL


def test_a_session_before_its_first_poll_or_not_running_needs_no_early_tick() -> None:
    assert next_tick(ticking(first_poll_at=10.5), now=10.0) == pytest.approx(0.5)
    assert next_tick(ticking(first_poll_at=30.0), now=10.0) == OwnedSession.UPKEEP_INTERVAL
    assert next_tick(ticking(configured=False), now=10.0) is None  # spawned early, not claimed yet
    assert next_tick(ticking(running=False), now=10.0) is None
    assert next_tick(ticking(_terminating=True), now=10.0) is None


async def test_the_owner_ticks_idle_sessions_once_a_second_and_output_brings_the_tick_forward(
    tmp_path: Path,
) -> None:
    """The server's timer: the soonest tick any session needs, at most `IDLE_TICK` away; output or news in
    a quiet session brings it to within `POLL_INTERVAL` (its poll then comes as soon as before), and a
    later tick asked for does not put off one that is due sooner."""
    server = OwnerServer(tmp_path / "owner.sock", idle_exit=None)
    loop = asyncio.get_running_loop()
    server._loop = loop
    assert server.next_tick_in(time.monotonic()) == OwnerServer.IDLE_TICK  # no session
    idle = ticking()
    server.sessions["idle"] = idle
    assert server.next_tick_in(10.0) == pytest.approx(OwnedSession.IDLE_POLL_INTERVAL)
    server.sessions["busy"] = ticking(state="working")
    assert server.next_tick_in(10.0) == OwnedSession.POLL_INTERVAL  # the busiest decides
    server.sessions.clear()
    try:
        before = loop.time()
        server._arm_tick(OwnerServer.IDLE_TICK)
        armed = server._tick_handle
        assert armed is not None
        assert before + OwnerServer.IDLE_TICK <= armed.when() <= loop.time() + OwnerServer.IDLE_TICK
        server.tick_soon()  # the program wrote something
        sooner = server._tick_handle
        assert sooner is not None and sooner is not armed and armed.cancelled()
        assert sooner.when() <= loop.time() + OwnedSession.POLL_INTERVAL
        server._arm_tick(OwnerServer.IDLE_TICK)  # a later tick does not put it off
        assert server._tick_handle is sooner
        done = threading.Thread(target=server.tick_soon_threadsafe)  # a hook, on the endpoint's thread
        done.start()
        done.join()
        await asyncio.sleep(0)  # the loop runs the call the thread scheduled
        assert server._tick_handle is sooner
    finally:
        if server._tick_handle is not None:
            server._tick_handle.cancel()


def test_idle_sessions_are_polled_at_the_same_ticks_whatever_their_phases() -> None:
    """Issue 19, target 2: each idle session was polled a second after its own last poll, so 8 idle
    sessions woke the owner 8 times a second; their idle polls now fall on the whole seconds of the
    monotonic clock (0.5-1.5 s after the last poll), one tick for all."""
    interval = OwnedSession.IDLE_POLL_INTERVAL
    assert {idle_poll_at(polled, interval) for polled in (10.0, 10.2, 10.45)} == {11.0}
    assert idle_poll_at(10.6, interval) == 12.0  # a poll 0.6 s ago in that second: the next whole one
    for polled in (10.0, 10.3, 10.5, 10.99):
        assert 0.5 * interval <= idle_poll_at(polled, interval) - polled <= 1.5 * interval
    server = OwnerServer.__new__(OwnerServer)
    server.sessions = {str(p): ticking(_polled_at=p) for p in (10.0, 10.2, 10.45)}
    now = 10.5
    assert server.next_tick_in(now) == pytest.approx(0.5)
    assert all(due(polled_at=p, now=11.0) for p in (10.0, 10.2, 10.45))  # one tick polls them all
    assert not any(due(polled_at=p, now=10.9) for p in (10.0, 10.2, 10.45))
