"""Which MLflow store to use, its experiment, and links into its UI. mlflow is imported inside functions."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

_URI_LOCK = threading.RLock()
"""MLflow's tracing exports to the *global* tracking URI: one logger at a time may switch it."""


def resolve_tracking_uri(uri: str | None = None) -> str:
    """`uri`, else `paths.default_tracking_uri()` (`$MLFLOW_TRACKING_URI`, else the embedded sqlite store).

    A plain path (no scheme) is taken as a sqlite database: the file itself when it ends in `.db`, else a
    folder holding `mlflow.db`. The folder of a local sqlite database is created.
    """
    if not uri:
        from claude_tui.paths import default_tracking_uri

        uri = default_tracking_uri()
    if "://" not in uri and not uri.startswith("databricks"):
        path = Path(uri).expanduser().absolute()
        uri = f"sqlite:///{path if path.suffix == '.db' else path / 'mlflow.db'}"
    db = sqlite_path(uri)
    if db is not None:
        # A folder we cannot create is reported by `sync.store_reachable` or by MLflow, in one line.
        with contextlib.suppress(OSError):
            db.parent.mkdir(parents=True, exist_ok=True)
    return uri


def sqlite_path(uri: str) -> Path | None:
    """The database file of a `sqlite:///` URI (None for any other store, or an in-memory database)."""
    if not uri.startswith("sqlite:") or ":memory:" in uri:
        return None
    path = unquote(urlparse(uri).path)
    if not path:
        return None
    # sqlite:////abs/path.db is absolute (path "//abs/path.db"); sqlite:///rel.db is relative to the cwd.
    return Path("/" + path.lstrip("/")) if path.startswith("//") else Path(path[1:])


def artifact_location(uri: str) -> str | None:
    """Where a new experiment in this store keeps artifacts.

    The embedded store uses `paths.default_artifact_root()`; any other local sqlite store an `artifacts`
    folder beside its database file (MLflow's own default, `./mlruns` in the current directory, would
    scatter artifacts wherever claude-tui happened to be started). Servers decide for themselves (None).
    """
    db = sqlite_path(uri)
    if db is None:
        return None
    from claude_tui.paths import data_dir, default_artifact_root

    if db.absolute() == (data_dir() / "mlflow.db").absolute():
        root = default_artifact_root()
    else:
        root = db.absolute().parent / "artifacts"
    root.mkdir(parents=True, exist_ok=True)
    return root.as_uri()


QUIET_LOGGERS = ("mlflow.store.db.utils", "mlflow.tracing.export.async_export_queue", "alembic")
"""MLflow loggers whose INFO lines (store migrations, "flushing the trace queue before exit") would land on
the user's terminal, under the TUI or after the app printed its result; they only say what we already do."""


def quiet_mlflow() -> None:
    """Raise the `QUIET_LOGGERS` to WARNING (unless they are quieter already, as on the command line)."""
    import logging

    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


def get_or_create_experiment(name: str, tracking_uri: str | None = None, client: Any = None) -> str:
    """The id of experiment `name`, created (or restored from the trash) when needed."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    quiet_mlflow()
    uri = resolve_tracking_uri(tracking_uri)
    client = client or MlflowClient(uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        return str(experiment.experiment_id)
    try:
        return str(client.create_experiment(name, artifact_location=artifact_location(uri)))
    except MlflowException:
        # Another process created it between our lookup and our create.
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return str(experiment.experiment_id)


def run_ui_url(base_url: str, experiment_id: str, run_id: str) -> str:
    """The MLflow UI page of a run, e.g. `http://127.0.0.1:5000/#/experiments/1/runs/abc`."""
    return f"{base_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def ui_base_url(tracking_uri: str) -> str | None:
    """The UI address of a store that serves one itself (an HTTP tracking server), else None."""
    if tracking_uri.startswith(("http://", "https://")):
        return tracking_uri.rstrip("/")
    return None


SPAN_BATCH_SIZE = "10000"
"""Spans per write when MLflow exports a trace (its default, 5, makes a 1000-span session trace take ~200
sqlite transactions: seconds instead of a fraction of one)."""


@contextmanager
def global_tracking_uri(uri: str) -> Iterator[None]:
    """Point MLflow's global tracking URI (which tracing exports to) at `uri` while logging.

    `mlflow.set_tracking_uri` also exports `MLFLOW_TRACKING_URI` to the environment: that is always put
    back, so the rest of the process and its children (`paths.default_tracking_uri()`, the next session's
    program) never see it. The module state is restored only when someone had set another URI explicitly;
    otherwise it stays on `uri`, because every switch rebuilds MLflow's tracer (about a second) and only
    claude-tui's logger sends traces in this process.
    """
    import os

    import mlflow
    from mlflow.tracking._tracking_service import utils

    with _URI_LOCK:
        previous_module = getattr(utils, "_tracking_uri", None)
        previous_env = os.environ.get("MLFLOW_TRACKING_URI")
        os.environ.setdefault("MLFLOW_ASYNC_TRACE_LOGGING_MAX_SPAN_BATCH_SIZE", SPAN_BATCH_SIZE)
        if previous_module != uri:
            mlflow.set_tracking_uri(uri)
        try:
            yield
        finally:
            if previous_env is None:
                os.environ.pop("MLFLOW_TRACKING_URI", None)
            else:
                os.environ["MLFLOW_TRACKING_URI"] = previous_env
            if previous_module is not None and previous_module != uri:
                mlflow.set_tracking_uri(previous_module)
