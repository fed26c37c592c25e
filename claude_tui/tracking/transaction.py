"""Many sessions' MLflow writes in one sqlite transaction (the embedded store's fast path for `import`).

MLflow's SQL store opens a session and commits a transaction for every call: creating a run, its batch of
params, metrics and tags (three commits), the run's end, a trace's info, its spans. On the embedded sqlite
store each commit is a journal write and an fsync, about fifteen per imported session. `StoreTransaction`
makes every call this process makes to one sqlite store, through MLflow's own store methods, share one
connection and one transaction, committed once for many sessions: each MLflow call gets a SAVEPOINT instead
(SQLAlchemy's "join into an external transaction", `join_transaction_mode="create_savepoint"`), so what MLflow
commits or rolls back itself still behaves as it expects, and each session gets a SAVEPOINT of its own
(`session()`), so a session that fails is undone alone while the others are kept.

Nothing is in the store until `commit()` returns: a caller reports a session imported only then. Any other
store (an MLflow server, PostgreSQL) is left to MLflow's own per-call transactions (`open_transaction`
returns None). mlflow is imported inside functions only.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

BUSY_TIMEOUT_MS = 60_000
"""How long the transaction's start waits for another process that is writing the store (a live session's
logger, another import): sqlite takes one writer at a time."""


def sqlite_store(uri: str) -> Any | None:
    """MLflow's store object for `uri` when it is a SQL store on sqlite (the one every client of this
    process shares), else None."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
    from mlflow.tracking._tracking_service.utils import _get_store

    store = _get_store(uri)  # type: ignore[no-untyped-call]
    if not isinstance(store, SqlAlchemyStore) or store.db_type != "sqlite":
        return None
    if getattr(store, "read_engine", None) is not None:  # reads routed elsewhere would miss our writes
        return None
    return store


def has_session_run(store: Any, experiment_id: str, run_key: str, session_id: str) -> bool:
    """Whether the experiment has an active run for this process key (`schema.TAG_RUN_KEY`) or, when the
    session is its own first conversation, this session id: what `logger.find_session_run` looks for with
    two searches, in one query of the tags."""
    import sqlalchemy
    from mlflow.store.tracking.dbmodels.models import SqlRun, SqlTag

    from claude_tui.tracking import schema

    wanted = [(schema.TAG_RUN_KEY, run_key)]
    if session_id == run_key:
        wanted.append((schema.TAG_SESSION_ID, run_key))
    with store.ManagedSessionMaker() as session:
        found = (
            session.query(SqlTag.run_uuid)
            .join(SqlRun, SqlRun.run_uuid == SqlTag.run_uuid)
            .filter(
                SqlRun.experiment_id == int(experiment_id),
                SqlRun.lifecycle_stage == "active",
                sqlalchemy.or_(*(sqlalchemy.and_(SqlTag.key == k, SqlTag.value == v) for k, v in wanted)),
            )
            .first()
        )
    return found is not None


class StoreTransaction:
    """One open sqlite transaction that every MLflow call of this process on the store joins.

    Use `open_transaction(uri)`; then, per session, `with transaction.session(): ...` (a failure inside
    undoes that session's writes only and is re-raised), and finally `commit()` or `rollback()`. Only one
    thread may use the store while it is open: MLflow's calls from other threads would join it too.
    """

    def __init__(self, store: Any) -> None:
        import sqlalchemy.orm
        from mlflow.store.db.utils import _get_managed_session_maker

        self._store = store
        self._original = store.ManagedSessionMaker
        self._original_get_experiment = store.get_experiment
        self._connection = store.engine.connect()
        self.sessions = 0
        """Sessions whose writes are in the transaction."""
        try:
            # Connection settings first: `foreign_keys` is a no-op inside a transaction.
            for pragma in (
                "PRAGMA foreign_keys = ON",
                f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
                "PRAGMA case_sensitive_like = true",
            ):
                self._connection.exec_driver_sql(pragma)
            self._connection.commit()
            # IMMEDIATE: the write lock now (waiting up to the busy timeout for another writer), not at the
            # first write, where sqlite would refuse at once rather than wait.
            self._connection.exec_driver_sql("BEGIN IMMEDIATE")
            maker = sqlalchemy.orm.sessionmaker(
                bind=self._connection, join_transaction_mode="create_savepoint"
            )
            # No db_type: MLflow would repeat the connection's PRAGMAs (set above) in every session it opens.
            managed = _get_managed_session_maker(maker, None)  # type: ignore[no-untyped-call]
            store.ManagedSessionMaker = managed
            # MLflow reads the experiment again for every run, trace and batch of spans it writes (a
            # third of the queries of an imported session). Inside this transaction nobody else can
            # write the store (BEGIN IMMEDIATE holds its write lock), so each is read once.
            store.get_experiment = _ExperimentCache(self._original_get_experiment)
        except BaseException:
            self._close(commit=False)
            raise

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """One session's writes: kept when the block ends normally, else undone (and the error re-raised)."""
        savepoint = self._connection.begin_nested()
        try:
            yield
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()
        self.sessions += 1

    def commit(self) -> None:
        """Write everything to the store (one commit), then give MLflow its own sessions back."""
        self._close(commit=True)

    def rollback(self) -> None:
        """Drop everything written since the transaction began."""
        self._close(commit=False)

    def _close(self, commit: bool) -> None:
        if self._store.ManagedSessionMaker is not self._original:
            self._store.ManagedSessionMaker = self._original
        if "get_experiment" in vars(self._store):
            del self._store.get_experiment  # the class's method again
        try:
            if commit:
                self._connection.commit()
            else:
                self._connection.rollback()
        finally:
            self._connection.close()
            _OPEN.discard(id(self._store))


class _ExperimentCache:
    """`store.get_experiment` while a transaction is open: each experiment read once (by the store's own
    method, inside the transaction), the same entity returned after. A failed read is not kept."""

    def __init__(self, read: Any) -> None:
        self._read = read
        self._found: dict[str, Any] = {}

    def __call__(self, experiment_id: Any) -> Any:
        key = str(experiment_id)
        if key not in self._found:
            self._found[key] = self._read(experiment_id)
        return self._found[key]


_OPEN: set[int] = set()
_OPEN_LOCK = threading.Lock()


def open_transaction(uri: str) -> StoreTransaction | None:
    """A `StoreTransaction` on the store at `uri` when it is an embedded sqlite store and none is open on it
    already in this process; None otherwise (the caller logs with MLflow's own transactions)."""
    store = sqlite_store(uri)
    if store is None:
        return None
    with _OPEN_LOCK:
        if id(store) in _OPEN:
            return None
        _OPEN.add(id(store))
    try:
        return StoreTransaction(store)
    except BaseException:
        _OPEN.discard(id(store))
        raise
