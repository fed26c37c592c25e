"""Helpers shared by the Pilot tests (`tests.helpers`: pytest puts the project root on the path)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


async def wait_for(
    pilot: Any,
    predicate: Callable[[], Any],
    timeout: float = 15.0,
    what: str = "the condition",
    *,
    interval: float = 0.05,
    describe: Callable[[], str] | None = None,
) -> None:
    """Let the app run until `predicate()` holds; fail naming `what` (and `describe()`, e.g. the screen, when
    given) after `timeout` seconds. Workers and programs answer from other threads and processes, so the app
    must keep running meanwhile: `pilot.pause` does that."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            detail = f"\n{describe()}" if describe is not None else ""
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        await pilot.pause(interval)


class FixedClock:
    """A session clock for snapshots: starts at a fixed instant; every later reading is 12 min 34 s later."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return 1_800_000_000.0 if self.calls == 1 else 1_800_000_754.0


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "the condition") -> Any:
    """Poll `predicate` (outside an app) until it returns something true (and return that); fail naming
    `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.02)
