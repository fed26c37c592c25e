"""`QuietLinuxDriver`: Textual's Linux driver, with an input thread that sleeps while no key comes.

Textual's input thread waits for the terminal with a 0.1 s timeout, to see whether the app is stopping and to
time out a lone Escape (its parser's `tick`): ten wakeups a second for the whole session, about 0.1 % of a
CPU in an idle window (docs/terminal-pane.md#idle-cpu). This one waits without a timeout: a pipe written when
the driver's `exit_event` is set wakes it to stop, and it ticks the parser ten times a second only for
`TICK_FOR` seconds after input came (a partial escape sequence times out within a tenth of a second).

The rest is Textual's driver unchanged; `ClaudeTuiApp.get_driver_class` picks this one where Textual would
pick `LinuxDriver` (not when `TEXTUAL_DRIVER` names another; tests run headless, with no input thread).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
import time
from codecs import getincrementaldecoder
from typing import Any

from textual._xterm_parser import XTermParser
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver

__all__ = ["QuietLinuxDriver", "quiet_driver"]


class _WakingEvent(threading.Event):
    """A `threading.Event` that also writes a byte to `wake_fd` when set (wakes a `select` on its pipe)."""

    def __init__(self, wake_fd: int) -> None:
        super().__init__()
        self.wake_fd = wake_fd

    def set(self) -> None:
        super().set()
        with contextlib.suppress(OSError):  # the pipe is full (a wakeup is pending anyway) or closed
            os.write(self.wake_fd, b"\0")


class QuietLinuxDriver(LinuxDriver):
    """`LinuxDriver` whose input thread wakes for input and for the app's stop, not ten times a second."""

    TICK = 0.1
    """Seconds between the parser's ticks while they may matter (Textual's own interval)."""
    TICK_FOR = 1.0
    """Seconds after the last input during which the parser is ticked (its timeouts are a tenth of this)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self.exit_event = _WakingEvent(self._wake_write)

    def run_input_thread(self) -> None:
        """Wait for input (or the stop) and dispatch events: Textual's loop, without the idle timeout."""
        selector = selectors.SelectSelector()
        fileno = self.fileno
        selector.register(fileno, selectors.EVENT_READ)
        selector.register(self._wake_read, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        last_input = time.monotonic()
        try:
            while not self.exit_event.is_set():
                quiet = time.monotonic() - last_input > self.TICK_FOR
                for key, _mask in selector.select(None if quiet else self.TICK):
                    if key.fd == self._wake_read:
                        with contextlib.suppress(OSError):
                            os.read(self._wake_read, 4096)
                        continue
                    data = decode(os.read(fileno, 1024 * 4))
                    if not data:  # half a character (or piped stdin at its end): an empty feed means EOF
                        continue
                    last_input = time.monotonic()
                    for event in parser.feed(data):
                        self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)
        finally:
            selector.close()

    def close(self) -> None:
        super().close()
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)


def quiet_driver(driver: type[Driver]) -> type[Driver]:
    """The driver to use where Textual picked `driver`: this one for Textual's `LinuxDriver`."""
    return QuietLinuxDriver if driver is LinuxDriver else driver
