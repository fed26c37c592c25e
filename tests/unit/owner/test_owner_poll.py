"""How often the owner polls a session (issue 16 item 5, idle CPU): each tick while it is busy, once a
second while it is idle; a hook or telemetry makes the next tick poll."""

from __future__ import annotations

from types import SimpleNamespace

from claude_tui.owner.server import OwnedSession


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
