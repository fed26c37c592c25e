"""The logger process: `python -m claude_tui.tracking.background SPOOL` logs one finished spool as a run.

The session owner starts one per finished session, detached, so that neither the owner nor the UI imports
mlflow (about 3 s and 150 MB) and the UI can exit the moment the program does. It prints one JSON line:
`{"run_id": ..., "experiment_id": ..., "tracking_uri": ..., "ui_url": ...}`, or `{"error": "one line"}`
(exit status 1) with the spool kept for `claude-tui sync`. A store that does not answer is given up within
`GIVE_UP_AFTER` seconds (issue 13, item 2): the reachability check first, then MLflow's own HTTP timeout
and retries cut down from minutes.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

GIVE_UP_AFTER = 10.0
"""Seconds after which an unreachable store is given up."""

HTTP_SETTINGS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "5", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1"}
"""MLflow's defaults (120 s, 7 retries with back-off) would keep a dead server's session for minutes; a
user's own settings win."""


def log_one(path: str) -> dict[str, Any]:
    """Log the spool at `path`; the result line's dict (never raises)."""
    for name, value in HTTP_SETTINGS.items():
        os.environ.setdefault(name, value)
    from claude_tui.tracking.errors import one_line

    try:
        from claude_tui.tracking.logger import log_spool
        from claude_tui.tracking.spool import RunSpool
        from claude_tui.tracking.store import quiet_mlflow, resolve_tracking_uri
        from claude_tui.tracking.sync import store_reachable

        spool = RunSpool.open(path)
        uri = resolve_tracking_uri(spool.meta.get("tracking_uri"))
        reachable = store_reachable(uri)
        if not reachable:
            return {"error": reachable.reason, "tracking_uri": uri}
        quiet_mlflow()
        logged = log_spool(spool, tracking_uri=uri)
    except Exception as exc:  # the spool stays; the owner reports the line
        return {"error": one_line(exc)}
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
