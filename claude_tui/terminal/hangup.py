"""SIGTERM and SIGHUP for a process whose event loop may be stuck behind its own terminal.

A Textual app writes its frames through a writer thread with a bounded queue (30 frames). When the outer
terminal stops reading (a frozen or slow window) the thread blocks in `write`, the queue fills, and the app's
loop blocks in `Queue.put`; if the window then closes, the kernel's SIGHUP reaches a loop that never runs
again, so a handler registered with `loop.add_signal_handler` never runs. Seen under load: a claude-tui
whose window was gone lived on for 30+ minutes at 30 % CPU.

`SignalDoor` handles the signals without the loop: the C-level handler only writes the signal's number to
a pipe; a thread reads it and
- on SIGHUP, mutes the output (what was queued for the gone terminal is dropped, later frames too), which
  unblocks the loop;
- hands the signal to the loop (`on_signal`, run by the loop as before);
- if the loop has still not run that call after `stuck_after` seconds, ends the programs itself (SIGHUP,
  then SIGKILL) and exits the process: their spools stay unfinished on disk, and the next start (or
  `claude-tui sync`) logs them, as for a killed claude-tui. Nothing is lost; nothing hangs.

No Textual import: the writer is reached through the duck-typed `output` given.
"""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

STUCK_AFTER = 20.0
"""Seconds the loop gets to run a signal's handling before the door ends the programs and the process."""

STUCK_MESSAGE = (
    "claude-tui: the window did not answer the signal; its sessions are kept and the next start (or "
    "`claude-tui sync`) logs them\n"
)

KILL_AFTER = 2.0
"""Seconds between the emergency SIGHUP to the programs and their SIGKILL."""


def mute(output: Any) -> None:
    """Drop every frame still queued for a terminal that is gone, and every later one.

    `output` is Textual's `WriterThread` (the driver's `_writer_thread`): anything with a `write(text)` and
    a `_queue`; unknown shapes are left alone. The loop blocked in `Queue.put` returns once a slot frees."""
    pending = getattr(output, "_queue", None)
    if not isinstance(pending, queue.Queue):
        return
    output.write = _discard  # an instance attribute shadows the method: later frames go nowhere
    while True:
        try:
            pending.get_nowait()
        except queue.Empty:
            return


def _discard(_text: str) -> None:
    return


class SignalDoor:
    """SIGTERM/SIGHUP handling that does not depend on the event loop running (see the module)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        on_signal: Callable[[int], None],
        *,
        output: Callable[[], Any],
        programs: Callable[[], Iterable[Callable[[int], None]]],
        stuck_after: float = STUCK_AFTER,
        exit: Callable[[int], None] = os._exit,
    ) -> None:
        self._loop = loop
        self._on_signal = on_signal
        self._output = output
        self._programs = programs
        self._stuck_after = stuck_after
        self._exit = exit
        self._read, self._write = os.pipe()
        self._handled = threading.Event()
        self._watching = False

    @classmethod
    def for_app(
        cls,
        app: Any,
        on_signal: Callable[[int], None],
        programs: Callable[[], Iterable[Callable[[int], None]]],
    ) -> SignalDoor:
        """The door of a running Textual app (its loop, its driver's writer thread)."""
        return cls(
            asyncio.get_running_loop(),
            on_signal,
            output=lambda: getattr(getattr(app, "_driver", None), "_writer_thread", None),
            programs=programs,
        )

    def install(self, signals: Iterable[int] = (signal.SIGTERM, signal.SIGHUP)) -> None:
        """Handle `signals` from now on (call from the main thread)."""
        os.set_blocking(self._write, False)
        threading.Thread(target=self._watch, name="claude-tui-signals", daemon=True).start()
        for signum in signals:
            signal.signal(signum, self._handler)

    def _handler(self, signum: int, _frame: object) -> None:
        try:
            os.write(self._write, bytes([signum]))
        except OSError:  # the pipe is full: enough signals are on their way already
            pass

    def _watch(self) -> None:
        while True:
            data = os.read(self._read, 64)
            for signum in data:
                self._arrived(signum)

    def _arrived(self, signum: int) -> None:
        if signum == signal.SIGHUP:
            mute(self._output())
        self._handled.clear()
        self._loop.call_soon_threadsafe(self._run, signum)
        if self._watching:
            return
        self._watching = True
        if not self._handled.wait(self._stuck_after):
            self._emergency(signum)

    def _run(self, signum: int) -> None:
        self._handled.set()
        self._on_signal(signum)

    def _emergency(self, signum: int) -> None:
        """The loop is stuck: end the programs here (their spools stay for the next start) and exit."""
        senders = list(self._programs())  # each signals one program (its process group)
        for sig in (signal.SIGHUP, signal.SIGKILL):
            for send in senders:
                try:
                    send(sig)
                except OSError:
                    pass
            if sig == signal.SIGHUP and senders:
                time.sleep(KILL_AFTER)
        if signum != signal.SIGHUP:  # a terminal is still there to read it
            try:  # straight to the file descriptor: the app may hold sys.stderr
                os.write(2, STUCK_MESSAGE.encode())
            except OSError:
                pass
        self._exit(128 + signum)
