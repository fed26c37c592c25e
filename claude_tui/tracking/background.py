"""The logger process: `python -m claude_tui.tracking.background SPOOL` logs one finished spool as a run.

The session owner starts one per finished session, detached, so that neither the owner nor the UI imports
mlflow (about 3 s and 150 MB) and the UI can exit the moment the program does. It prints one JSON line:
`{"run_id": ..., "experiment_id": ..., "tracking_uri": ..., "ui_url": ...}`, or `{"error": "one line"}`
(exit status 1) with the spool kept for `claude-tui sync`. A store that does not answer is given up within
`GIVE_UP_AFTER` seconds (issue 13, item 2): the reachability check first, then MLflow's own HTTP timeout
and retries cut down from minutes.

The warm logger, `python -m claude_tui.tracking.background --serve URI [EXPERIMENT]`, is what the app starts
a moment after Claude's first frame (issue 19, target 1): while the session runs it imports mlflow and opens
the store in a thread of low priority (`warm_up`), and at the session's end it only logs. It reads the paths
of finished spools from its stdin, one a line, logs each as above (the line gets the `spool` too), and exits
at end of input: when the app exits or is killed. It never logs a spool it was not handed: a killed app's
spool is an orphan, logged by the next start as ever.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

GIVE_UP_AFTER = 10.0
"""Seconds after which an unreachable store is given up."""

HTTP_SETTINGS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "5", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1"}
"""MLflow's defaults (120 s, 7 retries with back-off) would keep a dead server's session for minutes; a
user's own settings win."""
NO_MLFLOW_TELEMETRY = {"MLFLOW_DISABLE_TELEMETRY": "true"}
"""MLflow's own usage telemetry, off unless the user turned it on: it reports to the internet, and when its
client gives up it removes `_MLFLOW_TELEMETRY_SESSION_ID` from `os.environ` while a request thread may be
copying the environment: 3 of 20 loggers failed so (`log-batch failed with exception
'_MLFLOW_TELEMETRY_SESSION_ID'`) in `benchmarks/bench_team.py` at load 28. Set by every claude-tui process
before it imports mlflow (`cli.main`, and here for a logger started by another program)."""


WARM_UP_NICENESS = 10
"""How much lower than the session the warm-up thread runs: its ~3 s of CPU must not slow Claude down."""


def logger_argv(spool: Path | str) -> list[str]:
    """The command line of a logger process for `spool`."""
    return [sys.executable, "-m", "claude_tui.tracking.background", str(spool)]


def warm_logger_argv(tracking_uri: str, experiment: str | None = None) -> list[str]:
    """The command line of a warm logger process for the store at `tracking_uri`."""
    argv = [sys.executable, "-m", "claude_tui.tracking.background", "--serve", tracking_uri]
    return argv + ([experiment] if experiment else [])


def start_logger(spool: Path | str) -> subprocess.Popen[bytes]:
    """Start a detached logger process for the finished `spool`; what it prints goes to `logger.log` in the
    data dir (its last line: the run, or why not). It outlives the caller: its own session, no terminal."""
    return _detached(logger_argv(spool), stdin=subprocess.DEVNULL)


def start_warm_logger(tracking_uri: str, experiment: str | None = None) -> subprocess.Popen[bytes]:
    """Start a detached warm logger for the store at `tracking_uri`: write the paths of finished spools to its
    `stdin`, one a line; close it (or exit) when there will be no more. Its output goes to `logger.log`."""
    return _detached(warm_logger_argv(tracking_uri, experiment), stdin=subprocess.PIPE)


def _detached(argv: list[str], stdin: int) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session, no terminal, its output appended to `logger.log` in the data dir."""
    from claude_tui.paths import data_dir

    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    log_fd = os.open(folder / "logger.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        return subprocess.Popen(
            argv, stdin=stdin, stdout=log_fd, stderr=log_fd, start_new_session=True, close_fds=True
        )
    finally:
        os.close(log_fd)


def log_one(path: str) -> dict[str, Any]:
    """Log the spool at `path`; the result line's dict (never raises)."""
    for name, value in {**HTTP_SETTINGS, **NO_MLFLOW_TELEMETRY}.items():
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
        _check_expiring(uri, spool.meta.get("experiment"), spool.meta.get("claude_config_dir"))
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


def _check_expiring(uri: str, experiment: str | None, config_dir: str | None) -> None:
    """With the store at hand: sessions Claude Code deletes soon that are not in it are left for the next
    command to report (`tracking.expiry`). Never fails the logging."""
    from claude_tui.paths import DEFAULT_EXPERIMENT
    from claude_tui.tracking import expiry

    with contextlib.suppress(Exception):
        expiry.check(uri, experiment or DEFAULT_EXPERIMENT, Path(config_dir) if config_dir else None)


def warm_up(tracking_uri: str, experiment: str | None, store_lock: threading.Lock) -> None:
    """Do now what a spool's logging would do first: import mlflow and the logger, open (create or migrate)
    the store holding `store_lock`, look its experiment up. Never raises: logging does it all again anyway,
    and reports what fails."""
    with contextlib.suppress(Exception):
        from claude_tui.tracking.reach import store_reachable

        if not store_reachable(tracking_uri):
            return  # nothing to warm (the session's end checks again), and no mlflow to hold meanwhile
        from claude_tui.tracking import logger  # noqa: F401  (mlflow, and what logging a spool imports)
        from claude_tui.tracking.store import quiet_mlflow, tracking_client

        quiet_mlflow()
        with store_lock:
            client = tracking_client(tracking_uri)
            if experiment:
                client.get_experiment_by_name(experiment)


WarmUpWork = Callable[[str, "str | None", threading.Lock], None]
"""`warm_up` or a stand-in with its signature (tests)."""


class WarmUp(threading.Thread):
    """`warm_up` in a thread of lower priority (`WARM_UP_NICENESS`; Linux only, where niceness is per
    thread: the thread that logs keeps the normal priority)."""

    def __init__(self, tracking_uri: str, experiment: str | None, work: WarmUpWork = warm_up) -> None:
        self.store_lock = threading.Lock()
        """Held while the warm-up opens the store: creating or migrating it must not be cut short."""
        super().__init__(
            target=work, args=(tracking_uri, experiment, self.store_lock), daemon=True, name="warm-up"
        )
        self._tid: int | None = None
        self._niceness: int | None = None

    def run(self) -> None:
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError):
                tid = threading.get_native_id()
                self._niceness = os.getpriority(os.PRIO_PROCESS, tid)
                os.setpriority(os.PRIO_PROCESS, tid, self._niceness + WARM_UP_NICENESS)
                self._tid = tid
        super().run()

    def finish(self) -> None:
        """Wait for the warm-up (two threads importing mlflow at once break it: protobuf's descriptor pool
        refuses half-loaded files), at its normal priority again where that is allowed (it rarely is)."""
        if self.is_alive() and self._tid is not None and self._niceness is not None:
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, self._tid, self._niceness)
        self.join()

    def stop(self) -> None:
        """Make sure the warm-up is not opening the store, and never will: the process may end now. A
        migration cut short leaves a sqlite store half-migrated; an import cut short harms nothing."""
        self.store_lock.acquire()


def serve(
    tracking_uri: str, experiment: str | None, paths: IO[bytes], out: IO[str], work: WarmUpWork = warm_up
) -> int:
    """The warm logger: warm up in a thread (`work`); log every spool whose path comes in on `paths`, one a
    line, printing each result line to `out`, until end of input; 0 when all were logged. On return the
    warm-up is stopped (`WarmUp.stop`): the caller may end the process at once."""
    warming = WarmUp(tracking_uri, experiment, work)
    warming.start()
    status = 0
    for line in iter(paths.readline, b""):
        path = os.fsdecode(line.rstrip(b"\n"))
        if not path:
            continue
        warming.finish()
        result = log_one(path)
        status = 1 if result.get("error") else status
        _print({**result, "spool": path}, out)
    warming.stop()
    return status


def _print(result: dict[str, Any], out: IO[str]) -> None:
    try:
        print(json.dumps(result), file=out, flush=True)
    except OSError:  # the owner that started us is gone: the run is in the store (or the spool kept) anyway
        pass


def main(argv: list[str]) -> int:
    """Log the spool named by `argv[0]` (or serve: `--serve URI [EXPERIMENT]`); print the result line(s); 0
    when logged."""
    if argv[:1] == ["--serve"] and len(argv) in (2, 3):
        status = serve(argv[1], argv[2] if len(argv) == 3 else None, sys.stdin.buffer, sys.stdout)
        # Not a normal exit: the warm-up thread may still be importing (input ended early), and an
        # interpreter shutting down under a thread that imports can crash on its way out. It is not opening
        # the store (`serve` stopped it).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    if len(argv) != 1:
        usage = "usage: python -m claude_tui.tracking.background SPOOL | --serve URI [EXPERIMENT]"
        print(json.dumps({"error": usage}))
        return 2
    result = log_one(argv[0])
    _print(result, sys.stdout)
    return 1 if result.get("error") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
