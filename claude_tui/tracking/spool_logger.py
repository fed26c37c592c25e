"""`SpoolLogger`: the live app's way into the store: warmed up while the session runs, used at its end.

Importing mlflow takes ~3 s and a new sqlite store ~3 s more; done at the end of a session, the user would
wait for it. So the app warms the store up in the background a moment after start (`warm_up`, in a thread
worker), and `log` waits for that warm-up before it logs: two first opens of a new sqlite store at once
would race over its migrations. Pure: mlflow is imported inside `warm_up` only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claude_tui.tracking.spool import RunSpool

__all__ = ["LogSpool", "Progress", "SpoolLogger"]

Progress = Callable[[str, float], None]
"""`progress(stage, fraction)`: what the logger is doing and how far it got (0.0 to 1.0)."""

LogSpool = Callable[..., Any]
"""`tracking.logger.log_spool` or a stand-in with its signature (tests pass a fake store)."""


class SpoolLogger:
    """Logs finished session spools to one store (`tracking_uri`, `experiment`).

    Args:
        tracking_uri: the store (None: `$MLFLOW_TRACKING_URI`, else the embedded one).
        experiment: the experiment's name.
        log_spool: what logs a spool; default `tracking.logger.log_spool`. A stand-in needs no warm-up.
    """

    WARM_UP_WAIT = 60.0
    """Seconds `log` waits at most for a warm-up in progress."""

    def __init__(self, tracking_uri: str | None, experiment: str, log_spool: LogSpool | None = None) -> None:
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self._log_spool = log_spool
        self._warm = threading.Event()
        self._warm.set()

    @property
    def needs_warm_up(self) -> bool:
        """Whether the real store is used (a stand-in has nothing to warm up)."""
        return self._log_spool is None

    def expect_warm_up(self) -> None:
        """Say that `warm_up` is about to run (call it before starting the thread): `log` waits for it."""
        self._warm.clear()

    def warm_up(self) -> None:
        """Import mlflow and open the store (blocking: run it in a thread). Failures are ignored here: the
        real logging reports them, and keeps the spool."""
        try:
            import mlflow  # noqa: F401 - the import is the slow part being moved off the end

            from claude_tui.tracking.store import get_or_create_experiment, resolve_tracking_uri

            if not resolve_tracking_uri(self.tracking_uri).startswith(("http://", "https://")):
                # Local stores only: a remote server that is down would keep MLflow retrying for minutes.
                get_or_create_experiment(self.experiment, self.tracking_uri)
        except Exception:  # the store is checked again, and reported, when the session is logged
            pass
        finally:
            self._warm.set()

    def log(self, spool: RunSpool, progress: Progress) -> Any:
        """Log a finished spool as a run (blocking: run it in a thread); the run (`LoggedRun`: `run_id`,
        `experiment_id`, `tracking_uri`), or an exception whose message is for the user."""
        self._warm.wait(timeout=self.WARM_UP_WAIT)
        if self._log_spool is not None:
            log_spool: LogSpool = self._log_spool
        else:
            from claude_tui.tracking.logger import log_spool
        return log_spool(spool, tracking_uri=self.tracking_uri, experiment=self.experiment, progress=progress)
