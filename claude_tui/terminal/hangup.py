"""SIGTERM and SIGHUP for a process whose event loop may be stuck behind its own terminal.

A Textual app writes its frames through a writer thread with a bounded queue (30 frames). When the outer
terminal stops reading (a frozen or slow window) the thread blocks in `write`, the queue fills, and the app's
loop blocks in `Queue.put`; if the window then closes, the kernel's SIGHUP reaches a loop that never runs
again, so a handler registered with `loop.add_signal_handler` never runs. Seen under load: a claude-tui
whose window was gone lived on for 30+ minutes at 30 % CPU.

`SignalDoor` handles the signals without the loop, and without the main thread: the kernel delivers a
process's signal to any of its threads, and a Python-level handler runs only in the main thread, so a main
thread blocked in `Queue.put` never runs it (a door that relied on it still hung 2 runs in 3 under
load). Python's C-level handler, whichever thread catches the signal, writes the signal's number
to the wakeup fd (`signal.set_wakeup_fd`): the door's pipe. A thread reads it and
- on SIGHUP, mutes the app's output (what was queued for the gone terminal is dropped, later frames too),
  which unblocks the loop;
- hands the signal to the loop (`on_signal`, run by the loop as before);
- if the loop has still not run that call after `stuck_after` seconds (a clock on its own thread: the
  reader goes on reading, so a SIGHUP after an unanswered SIGTERM still mutes), ends the programs itself
  (SIGHUP, then SIGKILL) and exits the process: their spools stay unfinished on disk, and the next start (or
  `claude-tui sync`) logs them, as for a killed claude-tui. Nothing is lost; nothing hangs;
- after the loop has closed (the app ended, the process finishes up), does what the signal's default action
  would: exits 128 + the signal, without a traceback.

No Textual import: the driver is reached through the duck-typed `output` given.
"""

from __future__ import annotations

import asyncio
import contextlib
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


def mute(driver: Any) -> None:
    """Drop every frame still queued for a terminal that is gone, and every later one.

    `driver` is the app's Textual driver: its `write` goes nowhere from now on (the kernel's hang-up also
    sends SIGCONT, on which Textual's driver restarts its application mode with a new writer thread: muting
    the thread alone let the new one fill and block the loop again). Its writer thread (`_writer_thread`:
    anything with a `write(text)` and a `_queue`) is muted and its queue drained, so a loop blocked in
    `Queue.put` returns. Unknown shapes are left alone."""
    if driver is None:
        return
    with contextlib.suppress(AttributeError):
        driver.write = _discard  # an instance attribute shadows the method
    writer: Any = getattr(driver, "_writer_thread", None)
    pending = getattr(writer, "_queue", None)
    if writer is None or not isinstance(pending, queue.Queue):
        return
    writer.write = _discard
    while True:
        try:
            pending.get_nowait()
        except queue.Empty:
            return


def _discard(_text: str) -> None:
    return


def _caught(_signum: int, _frame: object) -> None:
    """The Python-level handler: nothing (the door's thread does the work; see the module)."""


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
        self._signals: frozenset[int] = frozenset()
        self._chained = -1

    @classmethod
    def for_app(
        cls,
        app: Any,
        on_signal: Callable[[int], None],
        programs: Callable[[], Iterable[Callable[[int], None]]],
    ) -> SignalDoor:
        """The door of a running Textual app (its loop; its driver, muted on SIGHUP)."""
        return cls(
            asyncio.get_running_loop(),
            on_signal,
            output=lambda: getattr(app, "_driver", None),
            programs=programs,
        )

    def install(self, signals: Iterable[int] = (signal.SIGTERM, signal.SIGHUP)) -> None:
        """Handle `signals` from now on (call from the main thread)."""
        self._signals = frozenset(signals)
        os.set_blocking(self._write, False)
        self._chained = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, name="claude-tui-signals", daemon=True).start()
        for signum in self._signals:
            signal.signal(signum, _caught)  # the C-level handler writes the number to the wakeup fd

    def _watch(self) -> None:
        while True:
            data = os.read(self._read, 64)
            if self._chained != -1:  # whoever had the wakeup fd before still hears of every signal
                try:
                    os.write(self._chained, data)
                except OSError:
                    pass
            for signum in data:
                if signum in self._signals:
                    self._arrived(signum)

    def _arrived(self, signum: int) -> None:
        """Mute on SIGHUP, hand the signal to the loop, and start the stuck clock; returns at once, so a
        SIGHUP that follows a SIGTERM the loop has not answered is still heard (and mutes the output)."""
        if signum == signal.SIGHUP:
            mute(self._output())
        self._handled.clear()
        try:
            self._loop.call_soon_threadsafe(self._run, signum)
        except RuntimeError:  # the loop is closed: the app has ended, nothing else will answer the signal
            self._ended(signum)
            return
        if self._watching:
            return
        self._watching = True
        clock = threading.Thread(target=self._stuck_clock, args=(signum,), daemon=True)
        clock.start()

    def _stuck_clock(self, signum: int) -> None:
        if not self._handled.wait(self._stuck_after):
            self._emergency(signum)

    def _run(self, signum: int) -> None:
        self._handled.set()
        self._on_signal(signum)

    def _emergency(self, signum: int) -> None:
        """The loop is stuck: end the programs here (their spools stay for the next start) and exit."""
        self._end_programs()
        if signum != signal.SIGHUP:  # a terminal is still there to read it
            try:  # straight to the file descriptor: the app may hold sys.stderr
                os.write(2, STUCK_MESSAGE.encode())
            except OSError:
                pass
        self._exit(128 + signum)

    def _ended(self, signum: int) -> None:
        """The signal came after the app's loop closed (the process is on its way out): what the signal's
        default action would do. The app ended its programs as it closed (a spool not yet logged stays
        for the next start, as for a killed claude-tui)."""
        self._exit(128 + signum)

    def _end_programs(self) -> None:
        """SIGHUP each program, then (after `KILL_AFTER`) SIGKILL; a program already gone is skipped."""
        senders = list(self._programs())  # each signals one program (its process group)
        for sig in (signal.SIGHUP, signal.SIGKILL):
            for send in senders:
                try:
                    send(sig)
                except OSError:
                    pass
            if sig == signal.SIGHUP and senders:
                time.sleep(KILL_AFTER)
