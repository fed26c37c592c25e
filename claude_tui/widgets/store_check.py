"""What the app does about its store a moment after start-up (`ClaudeTuiApp.AFTER_START`, off Claude's
first frame): sessions not logged yet (killed ones, and those a store did not take) are logged by a detached
`sync`, a tracking server is asked whether it answers, and the logger process is started to warm up
(`SpoolLogger.warm`: it imports mlflow and opens the store while the session runs, so that its end only logs;
issue 19, target 1).

A server that does not answer only warns (in the header and a notification): it may be back before the
session ends, and if not, the session is kept and logged by a later start or `claude-tui sync`.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import App

if TYPE_CHECKING:
    from claude_tui.tracking.spool_logger import SpoolLogger

__all__ = ["check_store_after_start"]


def check_store_after_start(app: App[Any], store: SpoolLogger) -> None:
    """Log every session not logged yet, only if there are any; ask `store`'s tracking server whether it
    answers (in a thread worker of `app`: a server that hangs never freezes the screen); warm its logger up
    (the app closes it when its sessions have ended)."""
    from claude_tui.tracking import recovery

    recovery.log_pending_in_background()
    _warm_logger(app, store)
    tracking_uri = store.tracking_uri
    if tracking_uri is not None and tracking_uri.startswith(("http://", "https://")):
        app.run_worker(
            partial(_check_server, app, tracking_uri),
            thread=True,
            exclusive=True,
            group="store-check",
            exit_on_error=False,
        )


def _warm_logger(app: App[Any], store: SpoolLogger) -> None:
    """Start `store`'s logger process (a fork and exec: in a thread worker of `app`); once per app."""
    app.run_worker(store.warm, thread=True, group="warm-logger", exit_on_error=False)


def _check_server(app: App[Any], tracking_uri: str) -> None:
    from claude_tui.tracking.reach import store_reachable

    reachable = store_reachable(tracking_uri)
    if not reachable:
        app.call_from_thread(_warn, app, reachable.reason)


def _warn(app: App[Any], reason: str) -> None:
    app.sub_title = f"{app.sub_title} · tracking store not answering"
    app.notify(
        f"{reason}. The session is recorded; it is logged when the store answers.",
        title="Tracking store",
        severity="warning",
        timeout=10,
    )
