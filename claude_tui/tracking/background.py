"""The logger process: `python -m claude_tui.tracking.background SPOOL` logs one finished spool as a run.

The session owner starts one per finished session, detached, so that neither the owner nor the UI imports
mlflow (about 3 s and 150 MB) and the UI can exit the moment the program does. It prints one JSON line:
`{"run_id": ..., "experiment_id": ..., "tracking_uri": ..., "ui_url": ...}`, or `{"error": "one line"}`
(exit status 1) with the spool kept for `claude-tui sync`. A store that does not answer is given up within
`GIVE_UP_AFTER` seconds (issue 13, item 2): the reachability check first, then MLflow's own HTTP timeout
and retries cut down from minutes.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

GIVE_UP_AFTER = 10.0
"""Seconds after which an unreachable store is given up."""

HTTP_SETTINGS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "5", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1"}
"""MLflow's defaults (120 s, 7 retries with back-off) would keep a dead server's session for minutes; a
user's own settings win."""


def logger_argv(spool: Path | str) -> list[str]:
    """The command line of a logger process for `spool`."""
    return [sys.executable, "-m", "claude_tui.tracking.background", str(spool)]


def start_logger(spool: Path | str) -> subprocess.Popen[bytes]:
    """Start a detached logger process for the finished `spool`; what it prints goes to `logger.log` in the
    data dir (its last line: the run, or why not). It outlives the caller: its own session, no terminal."""
    from claude_tui.paths import data_dir

    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    log_fd = os.open(folder / "logger.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        return subprocess.Popen(
            logger_argv(spool),
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=log_fd,
            start_new_session=True,
            close_fds=True,
        )
    finally:
        os.close(log_fd)


def log_one(path: str) -> dict[str, Any]:
    """Log the spool at `path`; the result line's dict (never raises)."""
    for name, value in HTTP_SETTINGS.items():
        os.environ.setdefault(name, value)
    from claude_tui.tracking.errors import one_line

    try:
        from claude_tui.tracking.logger import log_spool
        from claude_tui.tracking.reach import store_reachable
        from claude_tui.tracking.spool import RunSpool
        from claude_tui.tracking.store import quiet_mlflow, resolve_tracking_uri

        spool = RunSpool.open(path)
        uri = resolve_tracking_uri(spool.meta.get("tracking_uri"))
        reachable = store_reachable(uri)
        if not reachable:
            spool.note_not_logged(reachable.reason)
            return {"error": reachable.reason, "tracking_uri": uri}
        quiet_mlflow()
        logged = log_spool(spool, tracking_uri=uri)
    except Exception as exc:  # the spool stays; the owner reports the line, History shows it
        error = one_line(exc)
        with contextlib.suppress(Exception):
            RunSpool(Path(path), {}).note_not_logged(error)
        return {"error": error}
    return {
        "run_id": logged.run_id,
        "experiment_id": logged.experiment_id,
        "tracking_uri": logged.tracking_uri,
        "ui_url": logged.ui_url,
    }


def main(argv: list[str]) -> int:
    """Log the spool named by `argv[0]`; print the result line; 0 when logged."""
    if len(argv) != 1:
        print(json.dumps({"error": "usage: python -m claude_tui.tracking.background SPOOL"}))
        return 2
    result = log_one(argv[0])
    try:
        print(json.dumps(result), flush=True)
    except OSError:  # the owner that started us is gone: the run is in the store (or the spool kept) anyway
        pass
    return 1 if result.get("error") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
