"""`SpoolLogger`: how the live app logs a finished session: it hands the spool to a logger process.

Importing mlflow takes ~3 s and ~150 MB, and logging a session up to a second more: in the UI process the
user waited for both at the end of every session, and held their memory for the whole of it (issue 19). So
the app only checks that the store can be reached (a local folder's rights, or an HTTP server's `/health`:
~0.1 s, `reach.REACHABLE_TIMEOUT` at most), releases the spool and starts a detached logger process
(`python -m claude_tui.tracking.background SPOOL`, `background.start_logger`) that imports mlflow, logs the
run and removes the spool; the app exits at once. A store that cannot be reached keeps the spool, for the
next start's background sync or `claude-tui sync`. Pure: no mlflow here.

A fresh logger process spends ~3 s importing mlflow and up to as long again opening a new store before it
logs, so the run reached the store seconds after the user was back at the shell. `warm()`, which the app
calls a moment after Claude's first frame, starts the logger process early (`background.start_warm_logger`:
it imports and opens the store while the session runs, at low priority); a finished spool's path then goes
to it down a pipe and the run is in the store within a second of the exit. A warm logger that is gone is
replaced by a fresh one for that spool; `close()` (the app's exit, or its death) ends its input.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import subprocess

    from claude_tui.tracking.spool import RunSpool

__all__ = ["HandedOff", "LogSpool", "Progress", "SpoolLogger", "StoreUnreachable"]

Progress = Callable[[str, float], None]
"""`progress(stage, fraction)`: what the logger is doing and how far it got (0.0 to 1.0)."""

LogSpool = Callable[..., Any]
"""`tracking.logger.log_spool` or a stand-in with its signature (tests pass a fake store)."""


class StoreUnreachable(Exception):
    """The store cannot take the session now; the message names it and why, in one line."""


@dataclass(frozen=True)
class HandedOff:
    """The spool went to a logger process: the run is in the store a moment later."""

    pid: int
    """The logger process."""
    tracking_uri: str
    """The store it logs to."""
    run_id: None = None
    experiment_id: None = None


class SpoolLogger:
    """Logs finished session spools to one store (`tracking_uri`, `experiment`).

    Args:
        tracking_uri: the store (None: `$MLFLOW_TRACKING_URI`, else the embedded one).
        experiment: the experiment's name.
        log_spool: logs a spool in this process, in the caller's thread (tests pass a fake store); by
            default the spool goes to a logger process.
    """

    def __init__(self, tracking_uri: str | None, experiment: str, log_spool: LogSpool | None = None) -> None:
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self._log_spool = log_spool
        self._warm: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def warm_pid(self) -> int | None:
        """The warm logger's process id while it runs (None before `warm()`, after `close()`, once gone)."""
        warm = self._warm
        return warm.pid if warm is not None and warm.poll() is None else None

    def warm(self) -> None:
        """Start the logger process now, so that a session's end only logs (a second at most: call it in a
        thread). Nothing for a stand-in store; once only; a logger that cannot start is left to `log`."""
        from claude_tui.tracking.background import start_warm_logger
        from claude_tui.tracking.store import resolve_tracking_uri

        with self._lock:
            if self._log_spool is not None or self._warm is not None:
                return
            with contextlib.suppress(OSError):
                self._warm = start_warm_logger(resolve_tracking_uri(self.tracking_uri), self.experiment)

    def close(self) -> None:
        """End the warm logger's input: it logs what it was handed, then exits."""
        with self._lock:
            warm, self._warm = self._warm, None
        if warm is not None and warm.stdin is not None:
            with contextlib.suppress(OSError):
                warm.stdin.close()

    def log(self, spool: RunSpool, progress: Progress) -> Any:
        """Log a finished spool (blocking for a stand-in; a second at most otherwise: call it in a thread).

        Returns the run (`LoggedRun`: `run_id`, `experiment_id`, `tracking_uri`) from a stand-in, else a
        `HandedOff`; raises `StoreUnreachable` (the spool kept) when the store cannot take it now.
        """
        if self._log_spool is not None:
            return self._log_spool(
                spool, tracking_uri=self.tracking_uri, experiment=self.experiment, progress=progress
            )
        from claude_tui.tracking.background import start_logger
        from claude_tui.tracking.reach import store_reachable
        from claude_tui.tracking.store import resolve_tracking_uri

        uri = resolve_tracking_uri(self.tracking_uri)
        reachable = store_reachable(uri)
        if not reachable:
            spool.note_not_logged(reachable.reason)
            raise StoreUnreachable(reachable.reason)
        spool.close()  # the owner lock: the spool is finished, and the logger's from now on
        pid = self._hand_to_warm_logger(spool.path)
        return HandedOff(pid if pid is not None else start_logger(spool.path).pid, uri)

    def _hand_to_warm_logger(self, path: Path) -> int | None:
        """Send `path` to the warm logger; its pid, or None when there is none (or it is gone): then the
        spool is not its, and a fresh logger process must take it."""
        line = os.fsencode(path) + b"\n"
        with self._lock:
            warm = self._warm
            if warm is None or warm.stdin is None or warm.poll() is not None or line.count(b"\n") > 1:
                return None
            try:
                # One write of a line shorter than PIPE_BUF: the logger gets all of it or none of it.
                os.write(warm.stdin.fileno(), line)
            except OSError:
                return None
            return warm.pid
