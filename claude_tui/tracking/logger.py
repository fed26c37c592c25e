"""Log one session spool as one MLflow run: tags, params, metrics, series, artifacts and a trace.

`log_spool(spool)` is idempotent. It looks the session up first (`tags.claude.session_id`) and only completes
what a previous, interrupted attempt left out, so a session never becomes two runs; an flock on the spool's
`sync.lock` keeps two processes from logging the same spool at once. The spool is removed only after the store
has confirmed the run, its params, metrics and tags, every artifact (each write call raises unless the store
took it) and the trace (looked up by its id: MLflow's exporter does not report failures). mlflow is imported
inside functions only: call this from a thread worker.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from claude_tui.claude_code import session_files
from claude_tui.paths import DEFAULT_EXPERIMENT
from claude_tui.tracking import limits, schema
from claude_tui.tracking.errors import StoreProblem, describe, one_line
from claude_tui.tracking.limits import experiment_problem, fit_metric_key, fit_params, fit_tags
from claude_tui.tracking.record import SessionRecord, TracePlan
from claude_tui.tracking.redact import Redactor
from claude_tui.tracking.spool import EVENTS, RECORDING, SUMMARY, SYNC_LOCK, RunSpool, lock_within
from claude_tui.tracking.store import (
    get_or_create_experiment,
    global_tracking_uri,
    quiet_mlflow,
    resolve_tracking_uri,
    run_ui_url,
    tracking_client,
    ui_base_url,
)

RECOVERABLE = (RECORDING, EVENTS, SUMMARY)
"""What a spool without a readable meta still has to log."""

Progress = Callable[[str, float], None]
"""`progress(stage, fraction)`: what the logger is doing and how far it got (0.0 to 1.0)."""

WARNINGS_TAG = schema.TAG_LOGGING_WARNINGS
LOCK_TIMEOUT = 600.0
"""Seconds to wait for another process that is logging the same spool."""
SYNC_TRACE_EXPORT = ("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")
"""Set (unless set already) when a process first logs a spool: MLflow then writes each trace while the
session's trace is built, with no background queue to wait for."""


class LoggingError(StoreProblem):
    """Logging a spool failed; `str()` is one line fit for the user (the spool is kept), `cause` the kind
    of failure when it is a known one (`tracking.errors.Cause`)."""


class SpoolBusy(LoggingError):
    """The spool's session is still running in a live app."""


@dataclass(frozen=True)
class LoggedRun:
    """The MLflow run a spool became."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    status: str
    """The run's status: FINISHED, or KILLED for an orphaned session."""
    created: bool = True
    """False when the run already existed (a previous sync) and was only completed."""
    spool_removed: bool = False
    ui_url: str | None = None
    """The run's page when the store is an MLflow server (local stores need `claude-tui ui`)."""
    logged_elsewhere: bool = False
    """Another process logged the spool (and removed it) while this one waited for its lock."""
    warnings: tuple[str, ...] = ()
    """What MLflow would have refused and was dropped or cut instead (also in the run's `WARNINGS_TAG`)."""
    artifact_uri: str | None = None
    """Where the run's artifacts went (an import that rolls back its transaction removes them)."""


def find_session_run(
    client: Any, experiment_id: str, run_key: str, session_id: str | None = None
) -> Any | None:
    """The (oldest) run logged for a tracked process (`schema.TAG_RUN_KEY`) in this experiment, or None.

    A run logged before that tag existed (or cut off before its tags) is found by `claude.session_id` when
    the process's first conversation is its own (`session_id` is `run_key`, or not given): a process that
    began by resuming an earlier conversation shares that session id with the earlier run.
    """
    filters = [schema.run_key_filter(run_key)]
    if session_id is None or session_id == run_key:
        filters.append(schema.session_filter(run_key))
    for search in filters:
        runs = client.search_runs(
            [experiment_id], search, max_results=10, order_by=["attributes.start_time ASC"]
        )
        if runs:
            return runs[0]
    return None


def runs_holding(client: Any, experiment_id: str, session_ids: list[str], exclude: str) -> list[str]:
    """The ids of runs (other than `exclude`) that hold any of these conversations: as their first
    (`claude.session_id`) or a later one (`claude.session_ids`), oldest first."""
    found: dict[str, float] = {}
    for session_id in session_ids:
        for search in (schema.session_filter(session_id), schema.holds_conversation_filter(session_id)):
            for run in client.search_runs([experiment_id], search, max_results=20):
                held = (run.data.tags.get(schema.TAG_SESSION_IDS) or "").split(",")
                first = run.data.tags.get(schema.TAG_SESSION_ID)
                if run.info.run_id != exclude and (first == session_id or session_id in held):
                    found[run.info.run_id] = run.info.start_time or 0
    return sorted(found, key=lambda run_id: found[run_id])


@contextlib.contextmanager
def _sync_lock(spool: RunSpool, timeout: float = LOCK_TIMEOUT) -> Iterator[bool]:
    """Hold the spool's sync lock; yields False when the spool vanished (another sync logged it)."""
    try:
        fd = os.open(spool.path / SYNC_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    except FileNotFoundError:
        yield False
        return
    try:
        if not lock_within(fd, timeout, poll=0.1):
            raise LoggingError(f"another process is still logging {spool.path.name}")
        # Another sync that logged the spool removed the folder (its meta first of all). A spool recovered
        # without a meta is still there while any of its files is.
        kept = ("meta.json",) if not spool.meta_unreadable else ("meta.json", *RECOVERABLE)
        yield any((spool.path / name).exists() for name in kept)
    finally:
        os.close(fd)


def log_spool(
    spool: RunSpool | Path | str,
    *,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    progress: Progress | None = None,
    source: str = schema.SOURCE_LIVE,
    remove: bool = True,
) -> LoggedRun:
    """Log a finished or orphaned spool as one MLflow run (or complete the run a previous attempt began).

    Args:
        spool: the spool (or its folder).
        tracking_uri: the store; default the spool's `meta.tracking_uri`, else `resolve_tracking_uri()`.
        experiment: the experiment name; default the spool's `meta.experiment`, else `claude-sessions`.
        progress: called with `(stage, fraction)` as logging proceeds.
        source: the `source` tag: `live` for sessions run in the app, `import` for imported ones.
        remove: delete the spool once the store confirmed everything.

    Raises:
        SpoolBusy: the session is still running.
        LoggingError: anything failed (store unreachable, upload failed, not confirmed); one-line message.
    """
    if not isinstance(spool, RunSpool):
        spool = RunSpool.open(spool)
    report: Progress = progress or (lambda stage, fraction: None)
    # Before MLflow builds its trace exporter: its async queue polls once a second, and the flush that
    # confirms a trace waited for it (1-2 s of sleep per session in the logger process of a live session).
    # A process whose MLflow already exports asynchronously (or whose user chose it) keeps that.
    os.environ.setdefault(*SYNC_TRACE_EXPORT)

    uri = resolve_tracking_uri(tracking_uri or spool.meta.get("tracking_uri"))
    experiment_name = experiment or spool.meta.get("experiment") or DEFAULT_EXPERIMENT
    with _sync_lock(spool) as present:
        if not present:
            with _as_logging_error(uri):
                return _already_logged(spool.session_id, uri, experiment_name)
        if spool.is_live:
            raise SpoolBusy(f"session {spool.session_id} is still running")
        report("reading the session", 0.05)
        with _as_logging_error(uri):
            record = SessionRecord.from_spool(spool)
            logged = _log_record(spool, record, uri, experiment_name, report, source)
        if remove:
            report("removing the spool", 0.97)
            spool.close()
            shutil.rmtree(spool.path, ignore_errors=True)
            logged = LoggedRun(**{**logged.__dict__, "spool_removed": not spool.path.exists()})
        report("done", 1.0)
        return logged


@contextlib.contextmanager
def _as_logging_error(uri: str) -> Iterator[None]:
    """Turn any failure inside into a `LoggingError` whose message names the real cause in one line."""
    try:
        yield
    except LoggingError:
        raise
    except Exception as exc:
        failure = describe(exc, uri)
        raise LoggingError(failure.line, failure.cause) from exc


def _already_logged(session_id: str, uri: str, experiment_name: str) -> LoggedRun:
    client = tracking_client(uri)
    experiment_id = get_or_create_experiment(experiment_name, uri, client)
    run = find_session_run(client, experiment_id, session_id)  # the spool's id: the run key
    if run is None:
        raise LoggingError(f"spool of session {session_id} vanished before it was logged")
    return LoggedRun(
        run.info.run_id,
        experiment_id,
        uri,
        run.info.status,
        created=False,
        spool_removed=True,
        logged_elsewhere=True,
    )


def _log_record(
    spool: RunSpool, record: SessionRecord, uri: str, experiment_name: str, report: Progress, source: str
) -> LoggedRun:
    from mlflow.entities import Metric, Param, RunTag

    report("connecting to the tracking store", 0.1)
    quiet_mlflow()
    client = tracking_client(uri)
    # MLflow refuses a whole batch for one bad key: what it would refuse is dropped or cut, with a warning
    # kept on the run itself (and returned), instead of failing this and every later attempt.
    warnings: list[str] = []
    if experiment_problem(experiment_name):
        warnings.append(f"experiment {DEFAULT_EXPERIMENT!r} used: {experiment_problem(experiment_name)}")
        experiment_name = DEFAULT_EXPERIMENT
    experiment_id = get_or_create_experiment(experiment_name, uri, client)
    existing = find_session_run(client, experiment_id, record.run_key, record.session_id)
    tags, params, points = _run_contents(record, source, warnings)
    start_ms = int(record.start_time * 1000)
    end_ms = int(record.end_time * 1000)
    if existing is None:
        run = _create_run(client, experiment_id, record.session_id, record.run_key, start_ms, tags)
        created = True
        have_params: dict[str, str] = {}
        have_metrics: set[str] = set()
        have_tags: dict[str, str] = dict(run.data.tags)
    else:
        run = existing
        created = False
        have_params = dict(run.data.params)
        have_metrics = set(run.data.metrics)
        have_tags = dict(run.data.tags)
    run_id = run.info.run_id
    resumed = record.lifecycle.resumed_from if record.lifecycle is not None else []
    if resumed and schema.TAG_RESUMED_FROM_RUN not in have_tags:
        earlier = runs_holding(client, experiment_id, resumed, exclude=run_id)
        if earlier:
            tags[schema.TAG_RESUMED_FROM_RUN] = ",".join(earlier)[: limits.TAG_VALUE_MAX]

    report("logging params, tags and metrics", 0.2)
    batch_metrics = [Metric(*point) for point in points if point[0] not in have_metrics]
    batch_params = [Param(k, v) for k, v in params.items() if k not in have_params]
    batch_tags = [RunTag(k, v) for k, v in tags.items() if have_tags.get(k) != v]
    if batch_metrics or batch_params or batch_tags:
        client.log_batch(run_id, metrics=batch_metrics, params=batch_params, tags=batch_tags)

    # The traces go first: MLflow may write them from a background thread while we stage and upload
    # artifacts.
    report("building the trace", 0.35)
    with trace_writes():
        # A run this call created has no trace yet; a second attempt sends only the turns the store lacks.
        have = set() if created else _run_trace_keys(uri, experiment_id, run_id)
        traces = [plan for plan in record.trace_plans() if plan.key not in have]
        trace_ids = emit_traces(uri, experiment_id, run_id, record, traces, flush=False) if traces else []

        report("uploading artifacts", 0.55)
        _upload_artifacts(spool, record, _artifact_repo(run.info.artifact_uri, uri), created)

        report("writing the trace", 0.75)
        if trace_ids:
            _flush_traces()

        report("verifying", 0.85)
        if run.info.status != record.status or run.info.end_time != end_ms:
            client.set_terminated(run_id, status=record.status, end_time=end_ms)
        for trace_id in trace_ids:
            _confirm_trace(uri, run_id, trace_id)
    base = ui_base_url(uri)
    return LoggedRun(
        run_id,
        experiment_id,
        uri,
        record.status,
        created=created,
        ui_url=run_ui_url(base, experiment_id, run_id) if base else None,
        warnings=tuple(warnings),
        artifact_uri=run.info.artifact_uri,
    )


def _run_contents(
    record: SessionRecord, source: str, warnings: list[str]
) -> tuple[dict[str, str], dict[str, str], list[tuple[str, float, int, int]]]:
    """A new run's tags, params and metric points `(key, value, timestamp ms, step)`: the series, then
    every final value at the run's end. What MLflow would refuse is cut or dropped, with a warning in
    `warnings` and (with any earlier ones) in the `WARNINGS_TAG` tag."""
    tags = fit_tags(record.tags(source), warnings)
    params = fit_params(record.params(), warnings)
    if warnings:
        tags[WARNINGS_TAG] = "; ".join(warnings)[: limits.TAG_VALUE_MAX]
    end_ms = int(record.end_time * 1000)
    step = record.final_step()
    points = [(fit_metric_key(key), value, int(ts * 1000), s) for key, value, s, ts in record.series()]
    points += [(fit_metric_key(key), value, end_ms, step) for key, value in record.metrics().items()]
    return tags, params, points


def _create_run(
    client: Any,
    experiment_id: str,
    session_id: str,
    run_key: str,
    start_ms: int,
    tags: dict[str, str],
    *,
    every_tag: bool = False,
) -> Any:
    """Create the run with the tags that find it again (an interrupted attempt is found next time), or
    with all of `tags` (`every_tag`: inside a transaction, where the run and its tags land together)."""
    found = {schema.TAG_SESSION_ID: session_id, schema.TAG_RUN_KEY: run_key}
    # `mlflow.user` at creation is what MLflow makes the run's `user_id` (else "unknown").
    found |= {schema.TAG_USER: tags[schema.TAG_USER]} if schema.TAG_USER in tags else {}
    if every_tag:
        from mlflow.utils.validation import _validate_tag

        for key, value in tags.items():
            _validate_tag(key, value)  # as `log_batch` would: MLflow's create_run takes any
        found = {**tags, **found}
    return client.create_run(
        experiment_id, start_time=start_ms, tags=found, run_name=tags.get(schema.TAG_RUN_NAME)
    )


@contextlib.contextmanager
def _new_run_without_inputs(store: Any) -> Iterator[None]:
    """MLflow's `create_run` on this store without reading the new run's dataset inputs back (a join of
    three tables, a third of the call): a run created a moment ago has none."""
    store._get_run_inputs = lambda session, run_uuids: [[] for _ in run_uuids]
    try:
        yield
    finally:
        del store._get_run_inputs  # the class's method again


def insert_new_run_data(
    store: Any, run_id: str, metrics: list[Any], params: list[Any], end: tuple[str, int] | None = None
) -> None:
    """A new run's params and metrics (with its latest value of each metric) inserted in one session of
    MLflow's sqlite store: what `log_batch` writes for a run that has none yet, without its four reads of
    the run and of the metrics it has (a run the import just created in its transaction has nothing).
    With `end` (status, end time in ms), the run's end as `set_terminated` sets it, in the same session
    (MLflow's reads the run and its tags, params and metrics back first); it raises unless the run is there
    and active, as MLflow's does.

    As MLflow's `log_batch`: every entry validated by MLflow's rules (raises as it would), identical
    metric points logged once, NaN stored as 0 with `is_nan`, infinities as the largest floats, and each
    key's latest value the point with the greatest (step, timestamp, value), the first of equals.
    """
    from mlflow.entities import LifecycleStage, RunStatus
    from mlflow.exceptions import MlflowException
    from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlParam, SqlRun
    from mlflow.utils.validation import _validate_batch_log_data, _validate_param_keys_unique

    metrics, params, _ = _validate_batch_log_data(metrics, params, [])
    _validate_param_keys_unique(params)
    rows: list[Any] = []
    latest: dict[str, Any] = {}
    seen: set[Any] = set()
    for metric in metrics:
        if metric in seen:
            continue
        seen.add(metric)
        is_nan, value = store.sanitize_metric_value(metric.value)
        row = SqlMetric(
            run_uuid=run_id,
            key=metric.key,
            value=value,
            timestamp=metric.timestamp,
            step=metric.step,
            is_nan=is_nan,
        )
        rows.append(row)
        best = latest.get(metric.key)
        if best is None or (row.step, row.timestamp, row.value) > (best.step, best.timestamp, best.value):
            latest[metric.key] = row
    with store.ManagedSessionMaker(read_only=False) as session:
        session.add_all(SqlParam(run_uuid=run_id, key=param.key, value=param.value) for param in params)
        session.add_all(rows)
        session.add_all(
            SqlLatestMetric(
                run_uuid=run_id, key=m.key, value=m.value, timestamp=m.timestamp, step=m.step, is_nan=m.is_nan
            )
            for m in latest.values()
        )
        if end is not None:
            status, end_time = RunStatus.to_string(RunStatus.from_string(end[0])), end[1]
            ended = (
                session.query(SqlRun)
                .filter(SqlRun.run_uuid == run_id, SqlRun.lifecycle_stage == LifecycleStage.ACTIVE)
                .update({SqlRun.status: status, SqlRun.end_time: end_time}, synchronize_session=False)
            )
            if ended != 1:
                raise MlflowException(f"Run with id={run_id} not found or not active")


# -- a new run prepared away from the store (the import's parsing pool) -----------------------------------

PLANNED_ARTIFACTS = "run-artifacts"
"""The folder in a spool where `plan_run` stages the run's artifacts."""
RUN_ID_STAND_IN = "0" * 32
"""The run id in a planned trace's metadata while `write_plan` builds it, before the run exists (as long as
MLflow's run ids, so the trace's size that MLflow records is the same)."""


@dataclass(frozen=True)
class RunPlan:
    """Everything a new run of one finished spool holds, prepared without the store and without MLflow:
    what `write_plan` sends to it. Built by `plan_run` in the import's parsing processes (which then never
    import MLflow: about 4 CPU s each, its import and the store its tracing opens), so the one process that
    writes the store (sqlite takes one writer) only builds the traces and writes; picklable plain data."""

    session_id: str
    run_key: str
    tags: dict[str, str]
    params: dict[str, str]
    metrics: list[tuple[str, float, int, int]]
    """`(key, value, timestamp ms, step)`."""
    start_ms: int
    end_ms: int
    status: str
    warnings: tuple[str, ...]
    artifacts: Path
    """The staged artifacts (redacted), uploaded as they are."""
    trace_plans: list[TracePlan]
    """One per trace, redacted, each with its conversation's id redacted too (`TracePlan.session_id`)."""
    trace_metadata: dict[str, str]
    """`trace_metadata(record)`: what every trace of the run carries about its session (redacted)."""


def plan_run(spool_path: Path, *, source: str = schema.SOURCE_IMPORT) -> RunPlan | None:
    """The run a finished spool becomes when its session is not in the store yet, built as `log_spool`
    builds it (record, redaction, artifacts staged in the spool, the traces' plans) with nothing sent to
    the store and no MLflow imported. None when the spool needs what only the store knows (a session that
    resumed earlier ones links their runs): `log_spool` logs that one.
    """
    spool = RunSpool.open(spool_path)
    record = SessionRecord.from_spool(spool)
    if record.lifecycle is not None and record.lifecycle.resumed_from:
        return None
    warnings: list[str] = []
    tags, params, points = _run_contents(record, source, warnings)
    staging = spool.path / PLANNED_ARTIFACTS
    shutil.rmtree(staging, ignore_errors=True)
    stage_artifacts(spool, record, staging)
    plans = [replace(plan, session_id=str(record.clean(plan.session_id))) for plan in record.trace_plans()]
    return RunPlan(
        session_id=record.session_id,
        run_key=record.run_key,
        tags=tags,
        params=params,
        metrics=points,
        start_ms=int(record.start_time * 1000),
        end_ms=int(record.end_time * 1000),
        status=record.status,
        warnings=tuple(warnings),
        artifacts=staging,
        trace_plans=plans,
        trace_metadata=trace_metadata(record),
    )


def write_plan(plan: RunPlan, *, tracking_uri: str, experiment_id: str) -> LoggedRun | None:
    """Write a planned run: its traces built first (`planned_trace`), then the run with its tags, its
    params and metrics (in the import's transaction, its end with them), each trace's info, every span of
    the run in one call, the staged artifacts (on another store, then the run's end). Every call raises
    unless the store took what it sent. None, with nothing written, when the session has a run already (a
    previous attempt was cut off: `log_spool` completes that one) or its traces could not be built here
    (`log_spool` builds them through MLflow's tracing, and says what is wrong).
    """
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracing.client import TracingClient

    from claude_tui.tracking.transaction import has_session_run, sqlite_store

    quiet_mlflow()
    client = tracking_client(tracking_uri)
    store = sqlite_store(tracking_uri)
    if store is not None:
        if has_session_run(store, experiment_id, plan.run_key, plan.session_id):
            return None
    elif find_session_run(client, experiment_id, plan.run_key, plan.session_id) is not None:
        return None
    try:
        traces = _built_traces(tracking_uri, experiment_id, plan)
    except Exception:  # another MLflow than the one `planned_trace` follows: `log_spool` uses its tracing
        return None
    metrics = [Metric(*point) for point in plan.metrics]
    params = [Param(k, v) for k, v in plan.params.items()]
    if store is not None:
        # In the import's transaction: the run with every tag, then its params and metrics inserted at once.
        with _new_run_without_inputs(store):
            run = _create_run(
                client, experiment_id, plan.session_id, plan.run_key, plan.start_ms, plan.tags, every_tag=True
            )
        run_id = run.info.run_id
        insert_new_run_data(store, run_id, metrics, params, end=(plan.status, plan.end_ms))
    else:
        run = _create_run(client, experiment_id, plan.session_id, plan.run_key, plan.start_ms, plan.tags)
        run_id = run.info.run_id
        have_tags = dict(run.data.tags)
        client.log_batch(
            run_id,
            metrics=metrics,
            params=params,
            tags=[RunTag(k, v) for k, v in plan.tags.items() if have_tags.get(k) != v],
        )
    # The store itself: `TracingClient`'s methods are `trace_writes`' while an import runs. Every info
    # first (MLflow's fast path for spans of a trace it has), then the run's spans in one call: MLflow's
    # `log_spans` takes spans of several traces, one session and one insert for them all.
    traces_store = TracingClient(tracking_uri).store
    for info, _ in traces:
        info.trace_metadata[schema.TRACE_SOURCE_RUN] = run_id
        traces_store.start_trace(trace_info=info)
    spans = [span for _, trace_spans in traces for span in trace_spans]
    if spans:
        with spans_upserted_in_one_statement():
            traces_store.log_spans(location=experiment_id, spans=spans)
    _artifact_repo(run.info.artifact_uri, tracking_uri).log_artifacts(str(plan.artifacts))
    if store is None:  # in the import's transaction, the run's end went in with its params and metrics
        client.set_terminated(run_id, status=plan.status, end_time=plan.end_ms)
    return LoggedRun(
        run_id,
        experiment_id,
        tracking_uri,
        plan.status,
        warnings=plan.warnings,
        artifact_uri=run.info.artifact_uri,
    )


@contextlib.contextmanager
def spans_upserted_in_one_statement() -> Iterator[None]:
    """MLflow's `log_spans` on sqlite with its span rows sent as one upsert statement and many parameter
    sets (`executemany`), compiled once for the process, instead of one statement with a VALUES row per span.

    SQLAlchemy compiles that multi-row statement afresh for every number of rows (each run has its own):
    a third of `log_spans`' CPU. The rows, the columns updated on a conflict and the order are MLflow's
    (`sqlalchemy_store._bulk_upsert`); sqlite applies the rows of either statement one by one, so what is
    stored is the same. Anything but sqlite, or rows with different columns, goes to MLflow's own.
    """
    from mlflow.store.tracking import sqlalchemy_store

    original = sqlalchemy_store._bulk_upsert

    def bulk_upsert(session: Any, model_class: type, rows: list[dict[str, Any]]) -> None:
        if not rows or session.bind.dialect.name != "sqlite" or len({frozenset(r) for r in rows}) != 1:
            original(session, model_class, rows)
            return
        from sqlalchemy.dialects.sqlite import insert

        table = model_class.__table__  # type: ignore[attr-defined]
        keys = [column.name for column in table.primary_key.columns]
        columns = [c.name for c in table.columns if not c.computed and c.name in rows[0]]
        update = [name for name in columns if name not in keys]
        statement = insert(table)
        if update:
            statement = statement.on_conflict_do_update(
                index_elements=keys, set_={name: statement.excluded[name] for name in update}
            )
        else:
            statement = statement.on_conflict_do_nothing()
        session.execute(statement, rows)

    sqlalchemy_store._bulk_upsert = bulk_upsert
    try:
        yield
    finally:
        sqlalchemy_store._bulk_upsert = original


def _built_traces(uri: str, experiment_id: str, plan: RunPlan) -> list[tuple[Any, list[Any]]]:
    """The planned run's traces, each trace's `TraceInfo` (its run id `RUN_ID_STAND_IN`) and its finished
    spans in the order MLflow's exporter sends them (as each ends: children first, the root last), built
    without OpenTelemetry's tracer (`planned_trace`)."""
    with global_tracking_uri(uri):  # what MLflow's span and preview code ask about the store
        return [
            planned_trace(experiment_id, RUN_ID_STAND_IN, plan.session_id, plan.trace_metadata, trace)
            for trace in plan.trace_plans
        ]


@functools.lru_cache(maxsize=1)
def _trace_env_metadata() -> dict[str, str]:
    """What MLflow's span processor puts in every trace's metadata about the logging process
    (`mlflow.tracing.utils.environment.resolve_env_metadata`) but its git state: a session's trace carries
    the session's (`trace_metadata` always sets those keys), and MLflow's imports GitPython for it."""
    from mlflow.tracking.context.git_context import GitRunContext
    from mlflow.tracking.context.registry import resolve_tags
    from mlflow.utils.mlflow_tags import TRACE_RESOLVE_TAGS_ALLOWLIST

    tags = resolve_tags(ignore=[GitRunContext])  # type: ignore[list-item]
    return {key: value for key, value in tags.items() if key in TRACE_RESOLVE_TAGS_ALLOWLIST}


@functools.lru_cache(maxsize=1)
def _span_parts() -> tuple[Any, Any, Any]:
    """One OpenTelemetry resource, one set of span limits and the tracer's own id generator for every span
    `planned_trace` makes (a span built without a resource detects one afresh, in a thread pool)."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanLimits
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    return Resource.get_empty(), SpanLimits(), RandomIdGenerator()


def planned_trace(
    experiment_id: str, run_id: str, session_id: str, metadata: dict[str, str], plan: TracePlan
) -> tuple[Any, list[Any]]:
    """The trace `_emit_planned` sends through MLflow's tracing, field for field, built directly: its
    `TraceInfo` and its spans in the order MLflow's exporter sends them (each as it ends). `metadata` is
    `trace_metadata(record)` (it always names the session's git state: MLflow's would be this process's).

    MLflow's tracer runs each span through its span processors and exporter (a trace manager, span
    registries, locks, an export per span and per trace; and the first trace of a process imports
    GitPython and MLflow's pyfunc): about half of the writer's cost of a trace. Here each span is an
    OpenTelemetry SDK span with no span processor, wrapped in MLflow's own `LiveSpan`, which sets its
    attributes, inputs, outputs, status and log level as it does for `start_span_no_context`; the trace's
    info is filled in as MLflow's span processor and exporter fill it (`MlflowV3SpanProcessor._start_trace`,
    `_update_trace_info`, `InMemoryTraceManager.pop_trace`, `add_size_stats_to_trace_metadata`), with
    MLflow's helpers for each part. `test_import_batch.py` compares both, field by field, also through the
    store (`mlflow.search_traces`).
    """
    from mlflow.entities import LiveSpan, Trace, TraceData, TraceInfo, TraceLocation, TraceState
    from mlflow.tracing.constant import (
        MAX_CHARS_IN_TRACE_INFO_METADATA,
        TRACE_SCHEMA_VERSION,
        TRACE_SCHEMA_VERSION_KEY,
        TRUNCATION_SUFFIX,
        SpanAttributeKey,
        TraceMetadataKey,
        TraceTagKey,
    )
    from mlflow.tracing.utils import (
        add_size_stats_to_trace_metadata,
        aggregate_usage_from_spans,
        exclude_immutable_tags,
        generate_mlflow_trace_id_from_otel_trace_id,
        update_trace_state_from_span_conditionally,
    )
    from mlflow.tracing.utils.truncation import set_request_response_preview
    from opentelemetry import trace as trace_api
    from opentelemetry.sdk.trace import _Span

    def truncated(value: str | None) -> str:  # MLflow's `BaseMlflowSpanProcessor._truncate_metadata`
        if not value:
            return ""
        if len(value) > MAX_CHARS_IN_TRACE_INFO_METADATA:
            value = value[: MAX_CHARS_IN_TRACE_INFO_METADATA - len(TRUNCATION_SUFFIX)] + TRUNCATION_SUFFIX
        return value

    resource, limits, ids = _span_parts()
    # As OpenTelemetry's tracer makes them: its random ids, sampled, the trace id flagged random.
    flags = trace_api.TraceFlags(trace_api.TraceFlags.SAMPLED | trace_api.TraceFlags.RANDOM_TRACE_ID)
    otel_trace_id = ids.generate_trace_id()
    trace_id = generate_mlflow_trace_id_from_otel_trace_id(otel_trace_id)
    root = plan.spans[0]
    info = TraceInfo(
        trace_id=trace_id,
        trace_location=TraceLocation.from_experiment_id(experiment_id),
        request_time=_ns(root.start) // 1_000_000,
        execution_duration=None,
        state=TraceState.IN_PROGRESS,
        trace_metadata={
            **_trace_env_metadata(),
            TRACE_SCHEMA_VERSION_KEY: str(TRACE_SCHEMA_VERSION),
            schema.TRACE_SOURCE_RUN: run_id,
            **metadata,
            schema.TRACE_SESSION: plan.session_id,
        },
        tags={
            TraceTagKey.TRACE_NAME: root.name,
            **exclude_immutable_tags({schema.TAG_SESSION_ID: session_id, schema.TRACE_TAG_KEY: plan.key}),
        },
    )
    spans: list[Any] = []
    for spec in plan.spans:
        start = _ns(spec.start)
        # What MLflow's `start_detached_span` hands its tracer.
        attributes = {SpanAttributeKey.START_TIME_NS: json.dumps(start)}
        if spec.parent is None:
            attributes[SpanAttributeKey.EXPERIMENT_ID] = json.dumps(experiment_id)
        otel_span = _Span(
            name=spec.name,
            context=trace_api.SpanContext(
                otel_trace_id, ids.generate_span_id(), is_remote=False, trace_flags=flags
            ),
            parent=None if spec.parent is None else spans[spec.parent]._span.get_span_context(),
            resource=resource,
            attributes=attributes,
            limits=limits,
        )
        otel_span.start(start_time=start)
        span = LiveSpan(otel_span, trace_id)
        span.set_span_type(spec.span_type)
        if spec.inputs is not None:
            span.set_inputs(spec.inputs)
        span.set_attributes(spec.attributes or {})
        spans.append(span)
    if plan.request:  # `_set_previews`
        info.request_preview = plan.request[:PREVIEW_MAX]
    if plan.response:
        info.response_preview = plan.response[:PREVIEW_MAX]
    for spec, span in zip(reversed(plan.spans), reversed(spans), strict=True):
        assert spec.end is not None
        span.end(outputs=spec.outputs, status="ERROR" if spec.error else "OK", end_time_ns=_ns(spec.end))
    root_span = spans[0]._span
    info.request_time = root_span.start_time // 1_000_000
    info.execution_duration = (root_span.end_time - root_span.start_time) // 1_000_000
    update_trace_state_from_span_conditionally(Trace(info, TraceData()), root_span)
    info.trace_metadata[TraceMetadataKey.INPUTS] = truncated(
        root_span.attributes.get(SpanAttributeKey.INPUTS)
    )
    info.trace_metadata[TraceMetadataKey.OUTPUTS] = truncated(
        root_span.attributes.get(SpanAttributeKey.OUTPUTS)
    )
    if usage := aggregate_usage_from_spans(spans):
        info.trace_metadata[TraceMetadataKey.TOKEN_USAGE] = json.dumps(usage)
    data = TraceData(spans=[span.to_immutable_span() for span in spans])
    set_request_response_preview(info, data)
    add_size_stats_to_trace_metadata(Trace(info, data))
    return info, spans[::-1]


def _upload_artifacts(spool: RunSpool, record: SessionRecord, repo: Any, created: bool) -> None:
    """Stage the run's artifacts and upload, in one call, those the run does not have yet.

    `repo` is the run's artifact repository, built from the run's own artifact URI: MLflow's client would
    look the run up again for every upload and every folder it lists. A run just created has none yet.
    """
    with tempfile.TemporaryDirectory(prefix="claude-tui-artifacts-") as staging_dir:
        staging = Path(staging_dir)
        wanted = stage_artifacts(spool, record, staging)
        present = set() if created else _list_artifacts(repo)
        missing = [p for p in wanted if p not in present]
        if missing:
            upload = staging if len(missing) == len(wanted) else _only(staging, missing)
            repo.log_artifacts(str(upload))


def _only(staging: Path, paths: list[str]) -> Path:
    """A sibling folder holding only `paths` from `staging` (to upload what a previous attempt missed)."""
    subset = staging.parent / (staging.name + "-missing")
    for rel in paths:
        target = subset / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(staging / rel, target)
    return subset


def _artifact_repo(artifact_uri: str, uri: str) -> Any:
    """The artifact repository of a run whose artifact URI is known (no store lookup)."""
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    return get_artifact_repository(artifact_uri, tracking_uri=uri)


def _list_artifacts(repo: Any, path: str | None = None) -> set[str]:
    """Every artifact file under a run's artifact repository, as relative paths."""
    found: set[str] = set()
    for info in repo.list_artifacts(path):
        if info.is_dir:
            found |= _list_artifacts(repo, info.path)
        else:
            found.add(info.path)
    return found


def _run_trace_keys(uri: str, experiment_id: str, run_id: str) -> set[str]:
    """Which of a run's traces the store holds (`schema.TRACE_TAG_KEY`: `turn N`, `session`), page by page,
    without their spans. A trace logged before the key existed counts as the whole session."""
    client = tracking_client(uri)
    keys: set[str] = set()
    token: str | None = None
    while True:
        page = client.search_traces(
            locations=[experiment_id], run_id=run_id, include_spans=False, max_results=500, page_token=token
        )
        keys.update(trace.info.tags.get(schema.TRACE_TAG_KEY, "session") for trace in page)
        token = page.token
        if not token:
            return keys


def _confirm_trace(uri: str, run_id: str, trace_id: str) -> None:
    """Raise LoggingError unless the store took the trace just sent.

    Everything else is confirmed by the write calls themselves: `create_run`, `log_batch`,
    `set_terminated` and the artifact upload raise when the store did not take what they sent (a SQL store
    commits each in one transaction; a server answers only after it did). MLflow's trace exporter swallows
    its errors instead: `trace_writes` keeps what its two store calls returned; a trace it did not see
    written (another MLflow, a store without span logging) is looked up by its id in the store.
    """
    outcome = trace_outcome(trace_id)
    if outcome is None:
        return
    if isinstance(outcome, str):
        raise LoggingError(f"the store did not confirm run {run_id}: missing trace ({outcome})")
    from mlflow.tracing.client import TracingClient

    try:
        TracingClient(uri).store.get_trace_info(trace_id)
    except Exception as exc:
        missing = f"missing trace ({one_line(exc)})"
        raise LoggingError(f"the store did not confirm run {run_id}: {missing}") from exc


class _TraceWrites:
    """What `trace_writes` holds: spans waiting for their trace, and how each trace's writes went."""

    def __init__(self) -> None:
        self.depth = 0
        self.original: tuple[Any, Any] | None = None
        self.pending: dict[str, list[Any]] = {}
        self.outcomes: dict[str, str | None] = {}
        """Trace id -> None when the store took the trace and its spans, else the one-line failure."""


_TRACE_WRITES = _TraceWrites()
_TRACE_WRITES_LOCK = threading.Lock()


@contextlib.contextmanager
def trace_writes() -> Iterator[None]:
    """Write each trace in two store calls, its info then all its spans, and remember how they went.

    MLflow's exporter logs every span as it ends (one store transaction each), then the trace's info when
    its root ends; a SQL store then finds the trace already created by the spans and takes a slow merge
    path. Here the spans wait (the session trace is built children first, root last: `emit_traces`), and
    when MLflow sends the trace's info it is written first, then every span in one `log_spans` call. The
    exporter swallows store errors; `trace_outcome` tells the logger what the two calls returned instead.
    Re-entrant (an import holds it around every session); a trace whose root never ends is not written.
    """
    try:
        from mlflow.tracing.client import TracingClient
        from mlflow.tracing.constant import SpansLocation, TraceTagKey
    except ImportError:  # pragma: no cover - another MLflow layout: MLflow's own way, confirmed by a read
        yield
        return
    state = _TRACE_WRITES
    with _TRACE_WRITES_LOCK:
        state.depth += 1
        if state.depth == 1:
            state.original = (TracingClient.log_spans, TracingClient.start_trace)
            original_log_spans, original_start_trace = state.original

            def log_spans(self: Any, location: str, spans: list[Any], *args: Any, **kwargs: Any) -> list[Any]:
                for span in spans:
                    state.pending.setdefault(span.trace_id, []).append(span)
                return list(spans)

            def start_trace(self: Any, trace_info: Any, *args: Any, **kwargs: Any) -> Any:
                trace_id = trace_info.trace_id
                spans = state.pending.pop(trace_id, [])
                try:
                    info = original_start_trace(self, trace_info, *args, **kwargs)
                except Exception as exc:
                    state.outcomes[trace_id] = one_line(exc)
                    raise
                if spans:
                    try:
                        original_log_spans(self, trace_info.experiment_id, spans)
                    except Exception as exc:
                        if isinstance(exc, NotImplementedError) or "not supported" in str(exc):
                            # A store without span logging: MLflow uploads the spans as an artifact
                            # itself (and the logger confirms the trace by reading it back).
                            return info
                        state.outcomes[trace_id] = one_line(exc)
                        raise
                    # What the store just set; MLflow's exporter would otherwise also upload the spans.
                    info.tags[TraceTagKey.SPANS_LOCATION] = SpansLocation.TRACKING_STORE.value
                state.outcomes[trace_id] = None
                return info

            TracingClient.log_spans = log_spans  # type: ignore[method-assign]
            TracingClient.start_trace = start_trace  # type: ignore[method-assign]
    try:
        yield
    finally:
        with _TRACE_WRITES_LOCK:
            state.depth -= 1
            if state.depth == 0 and state.original is not None:
                TracingClient.log_spans, TracingClient.start_trace = state.original  # type: ignore[method-assign]
                state.original = None
                state.pending.clear()
                state.outcomes.clear()


def trace_outcome(trace_id: str) -> str | bool | None:
    """How the store answered the writes of a trace: None (taken), the failure line, or False (not seen)."""
    return _TRACE_WRITES.outcomes.pop(trace_id, False)


# -- artifacts ----------------------------------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def stage_artifacts(spool: RunSpool, record: SessionRecord, staging: Path) -> list[str]:
    """Write every artifact of the run into `staging` (redacted unless the session opted out).

    Returns the relative paths written: `transcript/raw.cast`, `transcript/clean.txt`, `claude/<id>.jsonl`
    (and `claude/<id>/subagents/...`) for every conversation, `events.jsonl`, `lifecycle.jsonl`,
    `telemetry.jsonl` (the CLI's own telemetry, when it came), `summary.json`, `git/changes.diff`,
    `git/commits.txt`; with `content = "metadata"` only `summary.json`.
    """
    clean = record.clean
    summary = _summary(record)
    _write(staging / "summary.json", json.dumps(clean(summary), indent=2, ensure_ascii=False, default=str))
    if record.metadata_only:  # counts, timings, tokens and cost: the summary, the metrics and the trace
        return ["summary.json"]
    if spool.recording_path.is_file():
        cast_text = _read_text(spool.recording_path)
        _write(
            staging / "transcript/raw.cast",
            redact_cast(cast_text, record.redactor) if record.redact else cast_text,
        )
    clean_file = spool.path / "clean.txt"
    if clean_file.is_file():
        clean_text = _read_text(clean_file)
    else:
        clean_text = replay_clean_text(spool.recording_path) if spool.recording_path.is_file() else ""
    _write(staging / "transcript/clean.txt", clean(clean_text))
    for transcript in record.transcripts or ([record.transcript_path] if record.transcript_path else []):
        for item in session_files(transcript):
            rel = item.relative_to(transcript.parent).as_posix()
            _write(staging / "claude" / rel, clean(_read_text(item)))
    if spool.events_path.is_file():
        _write(staging / "events.jsonl", clean(_read_text(spool.events_path)))
    if spool.telemetry_path.is_file():
        _write(staging / "telemetry.jsonl", clean(_read_text(spool.telemetry_path)))
    if spool.lifecycle_path.is_file():
        _write(staging / "lifecycle.jsonl", clean(_read_text(spool.lifecycle_path)))
    diff_file, commits_file = spool.path / "git/changes.diff", spool.path / "git/commits.txt"
    if diff_file.is_file() or commits_file.is_file():
        diff = _read_text(diff_file) if diff_file.is_file() else ""
        commits = _read_text(commits_file) if commits_file.is_file() else ""
    else:
        diff, commits = _capture_now(record)
    if diff or commits or (record.meta.get("git") or {}).get("commit"):
        _write(staging / "git/changes.diff", clean(diff))
        _write(staging / "git/commits.txt", clean(commits))
    return sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())


def _summary(record: SessionRecord) -> dict[str, Any]:
    """The session's summary; for an orphan, the one the app never wrote, from what the spool holds."""
    if record.summary is not None:
        return record.summary
    return {
        "end_time": record.end_time,
        "exit_code": None,
        "signal": None,
        "killed": True,
        "orphan": True,
        "stats": record.stats,
        "stats_source": record.stats_source,
        "telemetry": record.telemetry,
    }


def _capture_now(record: SessionRecord) -> tuple[str, str]:
    """The git changes, captured at logging time (the app died before it could)."""
    commit = (record.meta.get("git") or {}).get("commit")
    cwd = record.meta.get("cwd")
    if not commit or not cwd or not Path(cwd).is_dir():
        return "", ""
    from claude_tui.tracking.gitinfo import capture_changes

    diff, commits = capture_changes(cwd, commit)
    note = "[claude-tui: captured when the session was logged, not when it ended]\n"
    return note + diff, commits


def redact_cast(text: str, redactor: Redactor | None = None) -> str:
    """An asciicast v2 file with secrets masked in its header and its output/input streams.

    Output is redacted as one stream (a key the PTY delivered in two reads is still found); every event
    keeps its time. Lines that are not JSON (a recording cut off mid-line) are redacted as plain text.
    """
    redactor = redactor or Redactor()
    lines = text.splitlines()
    if not lines:
        return text
    out: list[str | None] = [None] * len(lines)
    streams: dict[str, list[tuple[int, list[Any]]]] = {}
    for index, line in enumerate(lines):
        try:
            item = json.loads(line)
        except ValueError:
            out[index] = redactor.text(line)
            continue
        if isinstance(item, list) and len(item) >= 3 and isinstance(item[2], str):
            streams.setdefault(str(item[1]), []).append((index, item))
        else:
            out[index] = json.dumps(redactor.obj(item), ensure_ascii=False)
    for items in streams.values():
        redacted = redactor.chunks([item[2] for _, item in items])
        for (index, item), data in zip(items, redacted, strict=True):
            out[index] = json.dumps([item[0], item[1], data, *item[3:]], ensure_ascii=False)
    return "\n".join(line for line in out if line is not None) + "\n"


def replay_clean_text(recording: Path) -> str:
    """The recording played through the terminal emulator: scrollback, then the final screen, as text."""
    from claude_tui.terminal.cast import CastError, read_cast
    from claude_tui.terminal.emulator import TerminalEmulator

    try:
        cast = read_cast(recording)
    except CastError:
        return ""
    emulator = TerminalEmulator(cols=cast.width, rows=cast.height)
    for event in cast.output():
        if event.code == "o":
            emulator.feed(event.data.encode("utf-8"))
        elif event.code == "r":
            with contextlib.suppress(ValueError):
                cols, rows = (int(v) for v in event.data.split("x"))
                emulator.resize(cols, rows)
    lines = [line.rstrip() for line in [*emulator.history_lines(), *emulator.display]]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


# -- the trace ----------------------------------------------------------------------------------------------


PREVIEW_MAX = 1000
"""Characters of the prompt and the answer kept as a trace's request and response previews (as MLflow's
Claude Code integration)."""


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


def _flush_traces() -> None:
    import mlflow

    mlflow.flush_trace_async_logging()


def trace_metadata(record: SessionRecord) -> dict[str, str]:
    """The trace's metadata about its session: user and session (MLflow's Sessions page and user filter),
    and the git state and source of the *session* (MLflow would otherwise fill in the logging process's)."""
    git = record.meta.get("git") or {}
    values = {
        schema.TRACE_SESSION: record.session_id,
        schema.TRACE_USER: record.attribution.get("user"),
        schema.TAG_USER: record.attribution.get("user"),
        schema.TRACE_SOURCE_NAME: schema.SOURCE_NAME,
        schema.TRACE_GIT_COMMIT: git.get("commit") or "",
        schema.TRACE_GIT_BRANCH: git.get("branch") or record.stats.get("git_branch") or "",
        schema.TRACE_GIT_REPO_URL: record.attribution.get("remote") or "",
    }
    return {key: str(record.clean(value)) for key, value in values.items() if value is not None}


def emit_traces(
    uri: str,
    experiment_id: str,
    run_id: str,
    record: SessionRecord,
    plans: list[TracePlan] | None = None,
    *,
    flush: bool = True,
) -> list[str]:
    """Send the session's traces (`record.trace_plans()`: one per turn) to the store, linked to the run;
    returns their ids.

    As MLflow's own GenAI integrations do: each trace carries `mlflow.trace.session` (its conversation) and
    `mlflow.trace.user`, so MLflow's Sessions page shows the conversation turn by turn, and the prompt and
    Claude's last answer as its request and response. Spans are created with `mlflow.start_span_no_context`
    at their real start times and ended children first; the root carries `mlflow.sourceRun`
    (`schema.TRACE_SOURCE_RUN`) so the traces show in the run's Traces tab. MLflow writes them from a
    background thread: with `flush=False` the caller must `_flush_traces()` before relying on them.
    """
    import mlflow

    ids = []
    with global_tracking_uri(uri):
        for plan in record.trace_plans() if plans is None else plans:
            ids.append(_emit_trace(experiment_id, run_id, record, plan))
        if flush:
            mlflow.flush_trace_async_logging()
    return ids


def _emit_trace(experiment_id: str, run_id: str, record: SessionRecord, plan: TracePlan) -> str:
    session = str(record.clean(plan.session_id))
    return _emit_planned(
        experiment_id, run_id, record.session_id, trace_metadata(record), replace(plan, session_id=session)
    )


def _emit_planned(
    experiment_id: str, run_id: str, session_id: str, metadata: dict[str, str], plan: TracePlan
) -> str:
    """Build one trace through MLflow's tracing (its exporter sends it) from a plan already redacted:
    `metadata` is `trace_metadata(record)`, `plan.session_id` the turn's conversation, redacted."""
    import mlflow

    metadata = {
        schema.TRACE_SOURCE_RUN: run_id,
        **metadata,
        schema.TRACE_SESSION: plan.session_id,
    }
    spans: list[Any] = []
    for spec in plan.spans:
        kwargs: dict[str, Any] = {
            "name": spec.name,
            "span_type": spec.span_type,
            "inputs": spec.inputs,
            "attributes": spec.attributes,
            "start_time_ns": _ns(spec.start),
        }
        if spec.parent is None:
            kwargs["experiment_id"] = experiment_id
            kwargs["metadata"] = metadata
            kwargs["tags"] = {schema.TAG_SESSION_ID: session_id, schema.TRACE_TAG_KEY: plan.key}
        else:
            kwargs["parent_span"] = spans[spec.parent]
        spans.append(mlflow.start_span_no_context(**kwargs))
    trace_id = str(spans[0].trace_id)
    if not trace_id.startswith("tr-"):
        raise LoggingError("tracing is disabled in this process (no trace was recorded)")
    _set_previews(trace_id, plan.request, plan.response)
    for spec, span in zip(reversed(plan.spans), reversed(spans), strict=True):
        assert spec.end is not None
        span.end(outputs=spec.outputs, status="ERROR" if spec.error else "OK", end_time_ns=_ns(spec.end))
    return trace_id


def _set_previews(trace_id: str, request: str, response: str) -> None:
    """The trace's request and response previews as plain text (the prompt, Claude's answer), as MLflow's
    Claude Code integration sets them; MLflow would otherwise show the root span's JSON."""
    try:
        from mlflow.tracing.trace_manager import InMemoryTraceManager

        with InMemoryTraceManager.get_instance().get_trace(trace_id) as trace:
            if trace is not None and request:
                trace.info.request_preview = request[:PREVIEW_MAX]
            if trace is not None and response:
                trace.info.response_preview = response[:PREVIEW_MAX]
    except Exception:  # another MLflow layout: MLflow's own JSON previews stay
        return
