"""`SpoolLogger`: a stand-in store logs in the caller's thread; the real path hands the finished spool to a
logger process, after checking the store can take it, and keeps the spool (saying why) when it cannot."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from claude_tui.tracking import background
from claude_tui.tracking.recovery import pending_spools
from claude_tui.tracking.spool import RunSpool
from claude_tui.tracking.spool_logger import HandedOff, SpoolLogger, StoreUnreachable


class RecordingStore:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any], float]] = []

    def __call__(self, spool: Any, **kwargs: Any) -> str:
        self.calls.append((spool, kwargs, time.monotonic()))
        return "logged"


def finished_spool(tmp_path: Path, uri: str) -> RunSpool:
    spool = RunSpool.create({"session_id": "s-1", "tracking_uri": uri, "start_time": time.time()}, tmp_path)
    spool.finish({"end_time": time.time(), "exit_code": 0, "signal": None, "killed": False})
    return spool


def test_a_stand_in_store_logs_in_the_callers_thread() -> None:
    store = RecordingStore()
    logger = SpoolLogger("sqlite:///x.db", "exp", store)
    progress = lambda stage, fraction: None  # noqa: E731
    assert logger.log("spool", progress) == "logged"
    ((spool, kwargs, _),) = store.calls
    assert spool == "spool"
    assert kwargs == {"tracking_uri": "sqlite:///x.db", "experiment": "exp", "progress": progress}


def test_the_spool_goes_to_a_logger_process_released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    spool = finished_spool(tmp_path, uri)
    started: list[tuple[Path, bool]] = []

    def start_logger(path: Path) -> subprocess.Popen[bytes]:
        started.append((path, spool.owner_alive()))
        return subprocess.Popen(["true"])

    monkeypatch.setattr(background, "start_logger", start_logger)
    handed = SpoolLogger(uri, "exp").log(spool, lambda stage, fraction: None)
    assert isinstance(handed, HandedOff) and handed.run_id is None and handed.tracking_uri == uri
    # The logger gets the spool with the owner lock released: it is finished, nobody runs it any more.
    assert started == [(spool.path, False)]


def test_a_dead_server_keeps_the_spool_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    uri = f"http://127.0.0.1:{port}"
    spool = finished_spool(tmp_path, uri)
    monkeypatch.setattr(background, "start_logger", lambda path: pytest.fail("no logger for a dead store"))
    with pytest.raises(StoreUnreachable) as caught:
        SpoolLogger(uri, "exp").log(spool, lambda stage, fraction: None)
    assert f"127.0.0.1:{port}" in str(caught.value) and "\n" not in str(caught.value)
    spool.close()
    [pending] = pending_spools(tmp_path)
    assert pending.path == spool.path and pending.not_logged_reason == str(caught.value)


def test_a_spool_being_logged_is_not_pending(tmp_path: Path) -> None:
    import fcntl
    import os

    from claude_tui.tracking.spool import SYNC_LOCK

    spool = finished_spool(tmp_path, f"sqlite:///{tmp_path / 'mlflow.db'}")
    spool.close()
    assert [pending.path for pending in pending_spools(tmp_path)] == [spool.path]
    fd = os.open(spool.path / SYNC_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # what a logger process holds while it logs
        assert pending_spools(tmp_path) == []
    finally:
        os.close(fd)
    assert [pending.path for pending in pending_spools(tmp_path)] == [spool.path]


def test_a_spool_goes_to_a_fresh_logger_when_the_warm_one_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    dead = subprocess.Popen(["true"], stdin=subprocess.PIPE)
    dead.wait()
    monkeypatch.setattr(background, "start_warm_logger", lambda uri, experiment: dead)
    started: list[Path] = []

    def start_logger(path: Path) -> subprocess.Popen[bytes]:
        started.append(path)
        return subprocess.Popen(["true"])

    monkeypatch.setattr(background, "start_logger", start_logger)
    logger = SpoolLogger(uri, "exp")
    logger.warm()
    assert logger.warm_pid is None  # it exited
    spool = finished_spool(tmp_path, uri)
    handed = logger.log(spool, lambda stage, fraction: None)
    assert started == [spool.path] and handed.pid != dead.pid


def test_a_stand_in_store_starts_no_logger_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "start_warm_logger", lambda uri, experiment: pytest.fail("no logger"))
    logger = SpoolLogger("sqlite:///x.db", "exp", RecordingStore())
    logger.warm()
    assert logger.warm_pid is None
    logger.close()


def test_the_warm_logger_never_ends_while_its_warm_up_opens_the_store() -> None:
    """The app exits (the logger's input ends) while the warm-up creates or migrates a new store: the process
    must not end before it is done (os._exit cut a migration short: a half-migrated store)."""
    import io
    import threading

    opening, release, done = threading.Event(), threading.Event(), threading.Event()

    def work(uri: str, experiment: str | None, store_lock: threading.Lock) -> None:
        with store_lock:
            opening.set()
            release.wait(60)
            done.set()

    returned = threading.Event()
    read_end, write_end = os.pipe()

    def run() -> None:
        with os.fdopen(read_end, "rb") as paths:
            background.serve("sqlite:///x.db", "exp", paths, io.StringIO(), work)
        returned.set()

    server = threading.Thread(target=run, daemon=True)
    server.start()
    assert opening.wait(60)
    os.close(write_end)  # the app exits
    assert not returned.wait(0.2)  # still opening the store: serve waits
    release.set()
    assert returned.wait(60) and done.is_set()
