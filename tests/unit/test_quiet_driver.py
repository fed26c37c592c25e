"""`QuietLinuxDriver`: the window's input thread sleeps until a key comes or the app stops (issue 19,
target 2: Textual's wakes ten times a second for the whole session)."""

from __future__ import annotations

import asyncio
import os
import selectors
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from textual import events
from textual.app import App

from claude_tui.app import ClaudeTuiApp
from claude_tui.widgets.quiet_driver import QuietLinuxDriver
from tests.helpers import wait_until


@pytest.fixture
def driver(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[QuietLinuxDriver, int, list[Any], list[Any]]]:
    """A driver reading a pipe instead of the terminal: (driver, the pipe's write end, the events it made,
    the timeouts its input thread's selects waited with)."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTSTP, signal.SIGCONT)}

    async def make() -> QuietLinuxDriver:  # a driver is made inside the app's running loop
        return QuietLinuxDriver(App())  # (puts in its own SIGTSTP/SIGCONT handlers: restored below)

    quiet = asyncio.run(make())
    read, write = os.pipe()
    quiet.fileno = read
    made: list[Any] = []
    quiet.process_message = made.append  # type: ignore[method-assign]
    timeouts: list[Any] = []
    select = selectors.SelectSelector.select

    def recording_select(self: selectors.SelectSelector, timeout: float | None = None) -> Any:
        timeouts.append(timeout)
        return select(self, timeout)

    monkeypatch.setattr(selectors.SelectSelector, "select", recording_select)
    try:
        yield quiet, write, made, timeouts
    finally:
        quiet.exit_event.set()
        quiet.close()
        os.close(read)
        os.close(write)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def keys(made: list[Any]) -> list[str]:
    return [event.key for event in made if isinstance(event, events.Key)]


def test_the_input_thread_waits_without_a_timeout_once_input_is_quiet_and_wakes_to_stop(
    driver: tuple[QuietLinuxDriver, int, list[Any], list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fails on Textual's own driver, which waits 0.1 s at a time whatever happens."""
    quiet, write, made, timeouts = driver
    monkeypatch.setattr(QuietLinuxDriver, "TICK_FOR", 0.0)
    thread = threading.Thread(target=quiet.run_input_thread, daemon=True)
    thread.start()
    wait_until(lambda: None in timeouts)
    os.write(write, b"a")
    wait_until(lambda: keys(made) == ["a"])
    quiet.exit_event.set()
    thread.join(10)
    assert not thread.is_alive()
    assert 0.1 not in timeouts  # never ticked: no input was pending


def test_a_lone_escape_still_times_out_into_the_escape_key(
    driver: tuple[QuietLinuxDriver, int, list[Any], list[Any]],
) -> None:
    """The parser holds a lone ESC until its timeout: the thread ticks it while input is recent."""
    quiet, write, made, timeouts = driver
    thread = threading.Thread(target=quiet.run_input_thread, daemon=True)
    thread.start()
    os.write(write, b"\x1b")
    wait_until(lambda: "escape" in keys(made))
    assert QuietLinuxDriver.TICK in timeouts
    quiet.exit_event.set()
    thread.join(10)
    assert not thread.is_alive()


def test_the_app_uses_it_on_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEXTUAL_DRIVER", raising=False)
    assert ClaudeTuiApp().driver_class is QuietLinuxDriver
