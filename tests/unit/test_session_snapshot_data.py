"""`TrackedSession.snapshot()` gives the sidebar a typed `SessionSnapshot` that survives a JSON round trip."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from claude_tui.config import Alert
from claude_tui.session import SessionConfig, TrackedSession
from claude_tui.snapshot import SessionSnapshot

SCREEN = [
    "❯\u00a0fix the login bug",
    "● Bash(ls -la /nonexistent)",
    "  ⎿\u00a0\u00a0Error: Exit code 2",
    "● Read(app.py)",
    "  ⎿\u00a0\u00a0Read 6 lines",
    "● Bash(git status && git diff)",
    "  ⎿\u00a0\u00a0On branch main",
    "",
]


class Clock:
    """1000 s, then 1075 s at every later reading."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        now, self.now = self.now, 1075.0
        return now


def screen_session(alerts: list[Alert]) -> TrackedSession:
    config = SessionConfig(command=sys.executable, cwd=Path("/"), track=False, alerts=alerts)
    session = TrackedSession(config, argv=[sys.executable], clock=Clock())
    session.poll(SCREEN, final=True)
    return session


def test_the_snapshot_holds_the_counts_typed() -> None:
    snapshot = screen_session([Alert.parse("errors>=1"), Alert.parse("tools>=10")]).snapshot()
    assert snapshot.source == "screen"
    assert (snapshot.tool_uses, snapshot.commands_executed, snapshot.errors_encountered) == (3, 2, 1)
    assert snapshot.git_operations == 2 and snapshot.user_prompts == 1
    assert snapshot.tool_uses_by_name == (("Bash", 2), ("Read", 1))  # most used first
    assert snapshot.last_error is not None and "Exit code 2" in snapshot.last_error
    assert snapshot.elapsed_seconds == 75.0 and snapshot.activity_per_minute == (0, 3)
    assert snapshot.title == "fix the login bug"
    assert snapshot.cost_usd == 0.0 and snapshot.models == ()
    # An alert fires once: in the first snapshot after its threshold was crossed, then it only stays marked.
    assert snapshot.alerted_metrics == ("errors_encountered",)
    assert snapshot.new_alerts == ("Alert: errors>=1 (now 1)",)


def test_an_alert_notifies_once() -> None:
    session = screen_session([Alert.parse("errors>=1")])
    assert session.snapshot().new_alerts
    again = session.snapshot()
    assert again.new_alerts == () and again.alerted_metrics == ("errors_encountered",)


def test_the_snapshot_round_trips_through_json() -> None:
    snapshot = screen_session([Alert.parse("errors>=1")]).snapshot()
    assert SessionSnapshot.from_dict(json.loads(json.dumps(snapshot.to_dict()))) == snapshot
    assert SessionSnapshot.from_dict({"tool_uses": 4, "from_a_newer_version": 1}) == SessionSnapshot(
        tool_uses=4
    )
