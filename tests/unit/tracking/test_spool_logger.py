"""`SpoolLogger`: logging at the end waits for the store's warm-up (two first opens of a new sqlite store
race over its migrations)."""

from __future__ import annotations

import sys
import threading
import time
import types
from typing import Any

import pytest

from claude_tui.tracking.spool_logger import SpoolLogger


class RecordingStore:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any], float]] = []

    def __call__(self, spool: Any, **kwargs: Any) -> str:
        self.calls.append((spool, kwargs, time.monotonic()))
        return "logged"


def test_log_waits_for_a_warm_up_in_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    from claude_tui.tracking import store as store_module

    warmed_at: list[float] = []

    def slow_experiment(name: str, uri: str | None) -> str:
        time.sleep(0.3)  # a new sqlite store's migrations
        warmed_at.append(time.monotonic())
        return "1"

    monkeypatch.setitem(sys.modules, "mlflow", types.ModuleType("mlflow"))  # importing the real one is slow
    monkeypatch.setattr(store_module, "get_or_create_experiment", slow_experiment)
    store = RecordingStore()
    logger = SpoolLogger("sqlite:///x.db", "exp", store)
    logger.expect_warm_up()
    threading.Thread(target=logger.warm_up).start()
    progress = lambda stage, fraction: None  # noqa: E731
    assert logger.log("spool", progress) == "logged"
    ((spool, kwargs, logged_at),) = store.calls
    assert spool == "spool"
    assert kwargs == {"tracking_uri": "sqlite:///x.db", "experiment": "exp", "progress": progress}
    assert logged_at >= warmed_at[0]


def test_a_stand_in_store_needs_no_warm_up_and_log_does_not_wait() -> None:
    logger = SpoolLogger(None, "exp", RecordingStore())
    assert not logger.needs_warm_up and SpoolLogger(None, "exp").needs_warm_up
    started = time.monotonic()
    logger.log("spool", lambda stage, fraction: None)
    assert time.monotonic() - started < 1
