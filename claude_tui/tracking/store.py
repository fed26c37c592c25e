"""Which MLflow store to use, opening it safely, its experiment, and links into its UI.

mlflow is imported inside functions. Every path that opens a store (session end, sync, start-up recovery,
import, history, export, ui) gets its client from `tracking_client(uri)`, which first runs `prepare_store`:
MLflow migrates a new sqlite database in whichever process opens it first, with no lock between processes
(`SqlAlchemyStore.__init__` checks `_all_tables_exist` and runs the alembic upgrade), so twelve sessions
ending in the same second on a new store corrupted it. `prepare_store` holds an `fcntl.flock` on
`<database>.lock` around that first open, and repairs a store that an earlier version left half-migrated.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

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
        _make_private_dir(db.absolute().parent)
    return uri


DB_MODE = 0o600
"""A sqlite store claude-tui creates holds transcripts: only its owner may read it."""
DIR_MODE = 0o700
"""Folders claude-tui creates for a store and its artifacts."""
OPEN_LOCK_TIMEOUT = 300.0
"""Seconds to wait for another process that is creating or migrating the same store."""
LOCK_SUFFIX = ".lock"
"""The lock file beside a database (`mlflow.db.lock`)."""

_PREPARED: set[Path] = set()
_PREPARE_LOCK = threading.Lock()


def tracking_client(uri: str | None = None) -> Any:
    """An `MlflowClient` for the store, after `prepare_store` made sure it is safe to open."""
    from mlflow import MlflowClient

    uri = resolve_tracking_uri(uri)
    prepare_store(uri)
    return MlflowClient(uri)


def prepare_store(uri: str) -> None:
    """Create, migrate or repair a sqlite store under a lock shared by every process; once per process.

    A store at MLflow's schema is opened without waiting: the check reads its schema version with the
    stdlib. A new, empty, older or half-migrated one is opened (so MLflow creates or migrates it) only while
    holding an exclusive flock on `<database>.lock`; others wait for it, then find it ready. A new database
    file is created 0600 (its folder 0700). Stores that are not sqlite are left to MLflow.

    Raises:
        StoreProblem: a half-migrated store that could not be repaired (the line names the exact fix), or
            another process held the lock for `OPEN_LOCK_TIMEOUT` seconds.
    """
    db = sqlite_path(uri)
    if db is None:
        return
    db = db.absolute()
    with _PREPARE_LOCK:
        if db in _PREPARED:
            return
        from mlflow.store.db.utils import _get_latest_schema_revision

        head = _get_latest_schema_revision()
        if _schema_state(db, head) == "ready":
            _open_store(uri)
        else:
            with _store_lock(db):
                state = _schema_state(db, head)  # someone else may have done it while we waited
                if state == "missing":
                    _create_private_file(db)
                elif state == "half-migrated":
                    repair_half_migrated(db, uri)
                _open_store(uri)
        _PREPARED.add(db)


def _open_store(uri: str) -> None:
    """Build MLflow's store object for `uri` (cached by MLflow per URI: later clients reuse it)."""
    from mlflow import MlflowClient

    MlflowClient(uri)


def _schema_state(db: Path, head: str) -> str:
    """`ready` (at `head`), `missing`, `half-migrated` (`_alembic_tmp_*` tables left), or `needs-work`
    (empty, older, or unreadable: MLflow decides, under the lock)."""
    if not db.exists():
        return "missing"
    try:
        connection = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return "needs-work"
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if any(name.startswith("_alembic_tmp_") for name in tables):
            return "half-migrated"
        if "alembic_version" not in tables:
            return "needs-work"
        versions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
        return "ready" if versions == [head] else "needs-work"
    except sqlite3.Error:
        return "needs-work"
    finally:
        connection.close()


@contextmanager
def _store_lock(db: Path, timeout: float = OPEN_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the exclusive flock on `<db>.lock` (created 0600 beside the database).

    A folder where no lock file can be made (read-only) goes on without it: nothing can be migrated there
    anyway, and MLflow's own error says so.
    """
    from claude_tui.tracking.errors import Cause, StoreProblem
    from claude_tui.tracking.spool import lock_within

    _make_private_dir(db.parent)
    try:
        fd = os.open(db.with_name(db.name + LOCK_SUFFIX), os.O_RDWR | os.O_CREAT, DB_MODE)
    except OSError:
        yield
        return
    try:
        if not lock_within(fd, timeout):
            raise StoreProblem(
                f"locked: another process has been creating or migrating {db} for {timeout:.0f} s",
                Cause.LOCKED,
            )
        yield
    finally:
        os.close(fd)


def _make_private_dir(folder: Path) -> None:
    """Create `folder` (and missing parents) 0700; an existing folder keeps its mode."""
    if folder.is_dir():
        return
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, DIR_MODE)


def _create_private_file(db: Path) -> None:
    """An empty database file only its owner may read (sqlite keeps the mode for its journal files too)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(db, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DB_MODE))


def repair_half_migrated(db: Path, uri: str) -> None:
    """Repair a store an interrupted (or raced) migration left with `_alembic_tmp_*` tables.

    alembic rebuilds a sqlite table T in four steps: create `_alembic_tmp_T`, copy T into it, drop T, rename
    the copy to T. A leftover copy beside its T holds nothing T does not: it is dropped. A copy whose T is
    gone was interrupted between the drop and the rename, so it holds all of T's rows: the rename is done.
    Then MLflow's migrations run again to the head revision. The database is copied first
    (`<db>.before-repair-<time>`) and put back if anything fails.

    Raises:
        StoreProblem: the store could not be repaired; the line names the exact commands that fix it.
    """
    from claude_tui.tracking.errors import Cause, StoreProblem, first_line, one_line

    with contextlib.closing(sqlite3.connect(db, timeout=30)) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    leftovers = sorted(name for name in tables if name.startswith("_alembic_tmp_"))
    steps = [
        f"DROP TABLE {name}"
        if name.removeprefix("_alembic_tmp_") in tables
        else f"ALTER TABLE {name} RENAME TO {name.removeprefix('_alembic_tmp_')}"
        for name in leftovers
    ]
    fix = f"sqlite3 {db} '{'; '.join(steps)}' && mlflow db upgrade {uri}"
    backup = db.with_name(f"{db.name}.before-repair-{time.strftime('%Y%m%dT%H%M%S')}")
    try:
        with (
            contextlib.closing(sqlite3.connect(db, timeout=30)) as source,
            contextlib.closing(sqlite3.connect(backup)) as copy,
        ):
            source.backup(copy)
        os.chmod(backup, DB_MODE)
    except (OSError, sqlite3.Error) as exc:
        raise StoreProblem(
            f"half-migrated: {db} needs repair but no backup could be written ({one_line(exc, uri)}); "
            f"back it up elsewhere, then: {fix}",
            Cause.HALF_MIGRATED,
        ) from exc
    try:
        with contextlib.closing(sqlite3.connect(db, timeout=30)) as connection:
            for step in steps:
                connection.execute(step)
            connection.commit()
        _upgrade(uri)
    except Exception as exc:
        shutil.copyfile(backup, db)
        raise StoreProblem(
            f"half-migrated: {db} could not be repaired ({first_line(exc)}); it is as it was, a copy is "
            f"{backup.name}; fix: {fix}",
            Cause.HALF_MIGRATED,
        ) from exc


def _upgrade(uri: str) -> None:
    """Run MLflow's migrations on `uri` to the head revision, as `mlflow db upgrade` does."""
    from mlflow.store.db.utils import _upgrade_db, _verify_schema, create_sqlalchemy_engine

    engine = create_sqlalchemy_engine(uri)
    try:
        _upgrade_db(engine)
        _verify_schema(engine)
    finally:
        engine.dispose()


def sqlite_path(uri: str) -> Path | None:
    """The database file of a `sqlite:///` URI (None for any other store, or an in-memory database)."""
    if not uri.startswith("sqlite:") or ":memory:" in uri:
        return None
    rest = uri[len("sqlite:") :]
    if not rest.startswith("//"):
        return None
    # What SQLAlchemy takes as the file: everything after the host part up to a query; a `#` is part of it.
    path = unquote(rest[2:].split("?", 1)[0])
    if not path or path == "/":
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
    _make_private_dir(root)  # it will hold transcripts
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
    from mlflow.exceptions import MlflowException

    quiet_mlflow()
    uri = resolve_tracking_uri(tracking_uri)
    client = client or tracking_client(uri)
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
