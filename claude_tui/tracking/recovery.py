"""Orphan recovery at start-up: find spools whose app died, and log them in a detached process.

Every claude-tui start calls `recover_orphans_in_background()`, so this module imports only the spool (no
logger, no parsing, no mlflow): the check is a directory listing and one flock per spool, and only when there
is an orphan does it start a detached `claude-tui sync --orphans-only` subprocess. The app never waits for the
store at start-up, and the orphan still gets logged if the app quits right away.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from claude_tui.tracking.spool import RunSpool, list_spools


def orphan_spools(root: Path | None = None) -> list[RunSpool]:
    """The spools whose app died before the session ended."""
    return [spool for spool in list_spools(root) if spool.is_orphan]


def pending_spools(root: Path | None = None) -> list[RunSpool]:
    """The spools not logged yet: orphans, and sessions that ended but whose logging failed (one a logger or
    a `sync` is logging right now is not pending)."""
    return [spool for spool in list_spools(root) if not spool.is_live and not spool.being_logged]


def log_pending_in_background(root: Path | None = None) -> subprocess.Popen[bytes] | None:
    """Log every spool not logged yet (`pending_spools`), finished ones too, in a detached `claude-tui sync`
    (issue 13, item 3): what the app runs after its first frame. None when there is nothing to log."""
    return recover_orphans_in_background(root, finished_too=True)


def recover_orphans_in_background(
    root: Path | None = None, *, finished_too: bool = False
) -> subprocess.Popen[bytes] | None:
    """Log orphaned spools without slowing the caller: a detached `claude-tui sync --orphans-only` (with
    `finished_too`, a `claude-tui sync` of every pending spool).

    Returns the started process (None when there was no orphan, so nothing was started). Its output goes
    to `sync.log` in the data directory. The child is in its own session, so it finishes even when the app
    that started it quits at once; the per-spool sync lock keeps it from clashing with a manual sync.
    """
    try:
        if not (pending_spools(root) if finished_too else orphan_spools(root)):
            return None
        from claude_tui.paths import data_dir

        log_path = data_dir() / "sync.log"
        argv = [sys.executable, "-m", "claude_tui", "sync", "--quiet"]
        if not finished_too:
            argv.append("--orphans-only")
        if root is not None:
            argv += ["--spool-root", str(root)]
        with open(log_path, "ab") as log:
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
    except OSError:
        return None  # never let recovery break the app's start
