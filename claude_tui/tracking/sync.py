"""Log every spool that is waiting: finished sessions the store missed, and orphans of killed apps.

`sync_spools()` is what `claude-tui sync` runs; what every claude-tui start runs is in `tracking.recovery`
(re-exported here), which stays light because it is on the start-up path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from claude_tui.tracking.errors import one_line
from claude_tui.tracking.logger import LoggingError, Progress, SpoolBusy, log_spool
from claude_tui.tracking.reach import REACHABLE_TIMEOUT, Reachability, store_reachable
from claude_tui.tracking.recovery import orphan_spools, recover_orphans_in_background
from claude_tui.tracking.spool import RunSpool, list_spools
from claude_tui.tracking.store import resolve_tracking_uri

__all__ = [
    "REACHABLE_TIMEOUT",
    "SyncResult",
    "orphan_spools",
    "recover_orphans_in_background",
    "store_reachable",
    "sync_spools",
]


@dataclass(frozen=True)
class SyncResult:
    """What happened to one spool."""

    spool: Path
    session_id: str
    ok: bool
    message: str
    """One line for the user."""
    run_id: str | None = None
    experiment_id: str | None = None
    status: str | None = None
    """The run's status (FINISHED/KILLED) when logged."""
    tracking_uri: str | None = None
    ui_url: str | None = None
    recovered: bool = False
    """The spool's meta.json was unreadable: logged from what was left as a KILLED run (`ok` is False)."""
    warnings: tuple[str, ...] = ()
    """Tags or params MLflow would have refused, dropped or cut to log the run (one line each)."""


def sync_spools(
    root: Path | None = None,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    progress: Progress | None = None,
    *,
    orphans_only: bool = False,
) -> list[SyncResult]:
    """Log every finished or orphaned spool under `root` (live ones are skipped); one result per spool.

    Each spool goes to `tracking_uri` if given, else the store recorded in its meta, else the settings
    file's, else the default; likewise its experiment.
    A failure keeps the spool and is reported in the result's one-line message; nothing raises.
    """
    from claude_tui.config import load_settings

    settings = load_settings()
    results: list[SyncResult] = []
    reachability: dict[str, Reachability] = {}
    for spool in list_spools(root):
        if spool.is_live or (orphans_only and not spool.is_orphan):
            continue
        uri = resolve_tracking_uri(tracking_uri or spool.meta.get("tracking_uri") or settings.tracking_uri)
        if uri not in reachability:
            reachability[uri] = store_reachable(uri)
        reachable = reachability[uri]
        if not reachable:
            result = SyncResult(spool.path, spool.session_id, False, reachable.reason, tracking_uri=uri)
        else:
            name = experiment or spool.meta.get("experiment") or settings.experiment
            result = _sync_one(spool, uri, name, progress)
        if not result.ok and not result.recovered and spool.path.exists():
            spool.note_not_logged(result.message)  # the History tab says why, not only sync.log
        results.append(result)
    return results


def _sync_one(spool: RunSpool, uri: str, experiment: str | None, progress: Progress | None) -> SyncResult:
    # Read before logging: another sync may log and remove the spool meanwhile, and a spool without its
    # summary.json would then look like an orphan.
    kind = "finished" if spool.is_finished else "orphan"
    try:
        logged = log_spool(spool, tracking_uri=uri, experiment=experiment, progress=progress)
    except SpoolBusy as exc:
        return SyncResult(spool.path, spool.session_id, False, str(exc), tracking_uri=uri)
    except LoggingError as exc:
        if spool.meta_unreadable:
            kind = spool.meta_unreadable
        return SyncResult(
            spool.path, spool.session_id, False, f"not logged ({kind}): {exc}", tracking_uri=uri
        )
    except Exception as exc:  # a bug must not stop the other spools from syncing
        message = f"not logged: {one_line(exc, uri)}"
        return SyncResult(spool.path, spool.session_id, False, message, tracking_uri=uri)
    # The run's status says what the session was: KILLED for an orphan, FINISHED for one that ended.
    kind = "orphan" if logged.status == "KILLED" else "finished"
    if logged.created:
        message = f"logged {kind} session as run {logged.run_id} ({logged.status})"
    elif logged.logged_elsewhere:
        message = f"already logged (by another sync) as run {logged.run_id} ({logged.status})"
    else:
        message = f"completed {kind} session as run {logged.run_id} ({logged.status})"
    if spool.meta_unreadable:
        # Logged, but the user must hear that part of the session was lost: a FAIL line, exit status 1.
        message = (
            f"{spool.meta_unreadable}: recovered the recording and events as run {logged.run_id} "
            f"({logged.status}); the command, its arguments, git state and tags are lost"
        )
    return SyncResult(
        spool.path,
        spool.session_id,
        not spool.meta_unreadable,
        message,
        run_id=logged.run_id,
        experiment_id=logged.experiment_id,
        status=logged.status,
        tracking_uri=uri,
        ui_url=logged.ui_url,
        recovered=bool(spool.meta_unreadable),
        warnings=logged.warnings,
    )
