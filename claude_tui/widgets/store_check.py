"""What the app does about its store a moment after start-up (`ClaudeTuiApp.AFTER_START`, off Claude's
first frame): sessions not logged yet (killed ones, and those a store did not take) are logged by a detached
`sync`, and a tracking server is asked whether it answers.

A server that does not answer only warns (in the header and a notification): it may be back before the
session ends, and if not, the session is kept and logged by a later start or `claude-tui sync`.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from textual.app import App

__all__ = ["check_store_after_start"]


def check_store_after_start(app: App[Any], tracking_uri: str | None) -> None:
    """Log every session not logged yet, only if there are any; ask a tracking server whether it answers
    (in a thread worker of `app`: a server that hangs never freezes the screen)."""
    from claude_tui.tracking import recovery

    recovery.log_pending_in_background()
    if tracking_uri is not None and tracking_uri.startswith(("http://", "https://")):
        app.run_worker(
            partial(_check_server, app, tracking_uri),
            thread=True,
            exclusive=True,
            group="store-check",
            exit_on_error=False,
        )


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
