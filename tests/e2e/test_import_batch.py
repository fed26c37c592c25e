"""The embedded store's fast path of `claude-tui import`: many sessions in one sqlite transaction.

What it writes must read back exactly as what MLflow's own one-transaction-per-call path writes (through
`mlflow.search_runs`, the artifacts, the traces and the History tab's `RunQuery`), and no session may be
lost or logged twice when one session fails inside a batch, when the batch's commit fails, or when the
import is interrupted with a batch open.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from claude_tui.history.query import RunQuery
from claude_tui.tracking import importer, logger, schema, transaction
from claude_tui.tracking.importer import import_sessions
from tests.support.transcripts import copy_all

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"
MANIFEST = json.loads((DATA.parent / "manifest.json").read_text())["transcripts"]
EXPERIMENT = "claude-sessions"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A copy of the committed transcripts (six real sessions), as old as finished ones."""
    return copy_all(tmp_path / "data")


def _import(data: Path, uri: str, jobs: int = 1) -> importer.ImportSummary:
    return import_sessions([data], tracking_uri=uri, experiment=EXPERIMENT, jobs=jobs)


def _runs(uri: str) -> list[Any]:
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return [] if experiment is None else client.search_runs([experiment.experiment_id], max_results=1000)


def store_view(uri: str) -> dict[str, Any]:
    """Everything the store holds about each session, keyed by session id, with the ids the store made up
    (run, trace and span ids) replaced by their order of appearance, so two stores can be compared."""
    import mlflow
    from mlflow import MlflowClient

    from claude_tui.tracking.store import global_tracking_uri

    client = MlflowClient(uri)
    query = RunQuery(uri, EXPERIMENT)
    store = uri.removeprefix("sqlite:///").removesuffix("/mlflow.db")
    view: dict[str, Any] = {}
    for run in _runs(uri):
        run_id = run.info.run_id
        made_up = [run_id]
        details = query.details(run_id)
        with global_tracking_uri(uri):
            traces = mlflow.search_traces(
                locations=[run.info.experiment_id], run_id=run_id, return_type="list"
            )
        trace_views = []
        for trace in sorted(traces, key=lambda t: t.info.tags.get(schema.TRACE_TAG_KEY, "")):
            made_up.append(trace.info.trace_id)
            made_up.extend(span.span_id for span in trace.data.spans)
            trace_views.append(
                {"info": trace.info.to_dict(), "spans": [span.to_dict() for span in trace.data.spans]}
            )
        session = {
            "info": {
                "status": run.info.status,
                "start_time": run.info.start_time,
                "end_time": run.info.end_time,
                "run_name": run.info.run_name,
                "user_id": run.info.user_id,
                "lifecycle_stage": run.info.lifecycle_stage,
                "artifact_uri": run.info.artifact_uri,
            },
            "params": run.data.params,
            "metrics": run.data.metrics,
            "tags": run.data.tags,
            "history": {
                key: sorted((m.step, m.timestamp, m.value) for m in client.get_metric_history(run_id, key))
                for key in sorted(run.data.metrics)
            },
            "details": {**details.__dict__, "row": details.row.__dict__},
            "artifacts": {path: query.read_text(run_id, path) for path in details.artifacts},
            "traces": trace_views,
        }
        text = json.dumps(session, sort_keys=True, default=str).replace(store, "<store>")
        for index, value in enumerate(dict.fromkeys(made_up)):
            text = text.replace(value, f"<id {index}>")
        # A span's trace id inside its own dict is the hex of the trace's id (`tr-<hex>`).
        text = re.sub(r'"trace_id": "[^"]*"', '"trace_id": "<trace>"', text)
        text = _number_span_ids(text)
        view[run.data.tags[schema.TAG_SESSION_ID]] = json.loads(text)
    return view


def _number_span_ids(text: str) -> str:
    """Span ids as `Span.to_dict` encodes them (base64) replaced by their order of appearance."""
    spans: dict[str, str] = {}
    return re.sub(
        r'"(parent_span_id|span_id)": "([^"]+)"',
        lambda m: f'"{m[1]}": "<span {spans.setdefault(m[2], str(len(spans)))}>"',
        text,
    )


def _counted_commits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sessions each batch's commit held, in order; no batch is committed for time."""
    commits: list[int] = []
    real_commit = transaction.StoreTransaction.commit

    def counting_commit(self: transaction.StoreTransaction) -> None:
        commits.append(self.sessions)
        real_commit(self)

    monkeypatch.setattr(transaction.StoreTransaction, "commit", counting_commit)
    monkeypatch.setattr(importer, "BATCH_SECONDS", 3600.0)
    return commits


def test_a_batch_reads_back_as_mlflow_own_path_writes_it(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = _counted_commits(monkeypatch)
    monkeypatch.setattr(importer, "POOL_MIN_FILES", 2)  # the runs planned in spawned parsing processes
    written: list[str] = []
    real_write_plan = logger.write_plan

    def write_plan(plan: logger.RunPlan, **kwargs: Any) -> Any:
        written.append(plan.session_id)
        return real_write_plan(plan, **kwargs)

    monkeypatch.setattr(logger, "write_plan", write_plan)
    prepared_here: list[Path] = []  # a worker's failure is retried here: none may be
    real_prepare = importer.prepare_session

    def prepare_session(path: Path, options: importer.PrepareOptions) -> importer.Prepared:
        prepared_here.append(path)
        return real_prepare(path, options)

    monkeypatch.setattr(importer, "prepare_session", prepare_session)
    batched_uri = f"sqlite:///{tmp_path / 'batched' / 'mlflow.db'}"
    batched = _import(data, batched_uri, jobs=2)
    assert len(batched.imported) == len(MANIFEST) and not batched.failed
    # Each through a transaction; how many share one depends on the pool (a batch is committed before
    # waiting for a worker), so only their sum is certain.
    assert sum(commits) == len(MANIFEST), commits
    assert sorted(written) == sorted(m["session_id"] for m in MANIFEST.values()), "each planned in the pool"
    assert prepared_here == []

    # MLflow's own transactions, one per call, and each run built by `log_spool` in this process.
    monkeypatch.setattr(importer, "BATCH_SESSIONS", 1)
    monkeypatch.setattr(importer, "PLAN_IN_POOL", False)
    own_uri = f"sqlite:///{tmp_path / 'own' / 'mlflow.db'}"
    own = _import(data, own_uri)
    assert len(own.imported) == len(MANIFEST) and sum(commits) == len(MANIFEST)

    batched_view, own_view = store_view(batched_uri), store_view(own_uri)
    assert set(batched_view) == {m["session_id"] for m in MANIFEST.values()}
    for session_id, expected in own_view.items():
        got = batched_view[session_id]
        assert got["traces"] and got["artifacts"] and got["history"], session_id
        for part in expected:
            assert got[part] == expected[part], (session_id, part)


def test_a_session_that_fails_in_a_batch_is_undone_alone(
    data: Path, store_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claude_tui.tracking import logger

    bad = MANIFEST["realistic"]["session_id"]
    real_repo = logger._artifact_repo

    def artifact_repo(artifact_uri: str, uri: str) -> Any:
        repo = real_repo(artifact_uri, uri)
        real_log_artifacts = repo.log_artifacts

        def log_artifacts(local_dir: str, artifact_path: str | None = None) -> None:
            # After the run, its params, metrics and traces were written.
            if (Path(local_dir) / "claude" / f"{bad}.jsonl").exists():
                raise OSError(28, "No space left on device")
            real_log_artifacts(local_dir, artifact_path)

        repo.log_artifacts = log_artifacts
        return repo

    monkeypatch.setattr(logger, "_artifact_repo", artifact_repo)
    summary = _import(data, store_uri)
    assert [o.session_id for o in summary.failed] == [bad]
    assert "No space left on device" in summary.failed[0].reason or "disk" in summary.failed[0].reason
    runs = _runs(store_uri)
    assert sorted(r.data.tags[schema.TAG_SESSION_ID] for r in runs) == sorted(
        m["session_id"] for m in MANIFEST.values() if m["session_id"] != bad
    )

    monkeypatch.setattr(logger, "_artifact_repo", real_repo)
    again = _import(data, store_uri)
    assert [o.session_id for o in again.imported] == [bad]
    assert len(_runs(store_uri)) == len(MANIFEST)


def test_a_commit_that_fails_logs_the_batch_one_by_one(
    data: Path, store_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_commit = transaction.StoreTransaction.commit
    refused: list[int] = []

    def refusing_commit(self: transaction.StoreTransaction) -> None:
        refused.append(self.sessions)
        self.rollback()
        raise RuntimeError("database is locked")

    monkeypatch.setattr(transaction.StoreTransaction, "commit", refusing_commit)
    monkeypatch.setattr(importer, "BATCH_SECONDS", 3600.0)
    summary = _import(data, store_uri)
    monkeypatch.setattr(transaction.StoreTransaction, "commit", real_commit)
    assert refused == [len(MANIFEST)]
    assert len(summary.imported) == len(MANIFEST) and not summary.failed
    runs = _runs(store_uri)
    assert sorted(r.data.tags[schema.TAG_SESSION_ID] for r in runs) == sorted(
        m["session_id"] for m in MANIFEST.values()
    )
    assert {o.run_id for o in summary.imported} == {r.info.run_id for r in runs}
    # The rolled-back runs' artifact folders went with them: only the runs in the store have one.
    (root,) = {Path(r.info.artifact_uri.removeprefix("file://")).parent.parent for r in runs}
    assert sorted(p.name for p in root.iterdir()) == sorted(r.info.run_id for r in runs)


def test_an_interrupted_import_reports_nothing_it_did_not_commit(
    data: Path, store_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claude_tui.tracking import logger

    reported: list[importer.SessionOutcome] = []
    real_write_plan = logger.write_plan
    logged: list[str] = []

    def write_plan(plan: logger.RunPlan, **kwargs: Any) -> Any:
        logged.append(plan.session_id)
        if len(logged) == 4:  # the second batch holds the third session, uncommitted
            raise KeyboardInterrupt
        return real_write_plan(plan, **kwargs)

    monkeypatch.setattr(importer, "BATCH_SESSIONS", 2)
    monkeypatch.setattr(importer, "BATCH_SECONDS", 3600.0)
    monkeypatch.setattr(logger, "write_plan", write_plan)
    with pytest.raises(KeyboardInterrupt):
        import_sessions(
            [data],
            tracking_uri=store_uri,
            experiment=EXPERIMENT,
            jobs=1,
            progress=lambda outcome, done, total: reported.append(outcome),
        )
    runs = _runs(store_uri)
    assert [o.kind for o in reported] == ["imported", "imported"]
    assert {o.run_id for o in reported} == {r.info.run_id for r in runs}
    (root,) = {Path(r.info.artifact_uri.removeprefix("file://")).parent.parent for r in runs}
    assert sorted(p.name for p in root.iterdir()) == sorted(r.info.run_id for r in runs)

    monkeypatch.setattr(logger, "write_plan", real_write_plan)
    again = _import(data, store_uri)
    assert len(again.imported) == len(MANIFEST) - 2 and len(again.skipped) == 2
    assert len(_runs(store_uri)) == len(MANIFEST)


def test_a_run_an_earlier_import_left_running_is_completed_not_doubled(data: Path, store_uri: str) -> None:
    from mlflow import MlflowClient

    from claude_tui.tracking.store import get_or_create_experiment, tracking_client

    session_id = MANIFEST["parallel_tools"]["session_id"]
    experiment_id = get_or_create_experiment(EXPERIMENT, store_uri)
    cut_off = tracking_client(store_uri).create_run(
        experiment_id, tags={schema.TAG_SESSION_ID: session_id, schema.TAG_RUN_KEY: session_id}
    )
    summary = _import(data, store_uri)
    assert len(summary.imported) == len(MANIFEST) and not summary.failed
    runs = {r.data.tags[schema.TAG_SESSION_ID]: r for r in _runs(store_uri)}
    assert len(runs) == len(_runs(store_uri)) == len(MANIFEST)
    completed = runs[session_id]
    assert completed.info.run_id == cut_off.info.run_id and completed.info.status == "FINISHED"
    assert completed.data.tags["source"] == "import" and completed.data.metrics["tool_uses"] > 0
    artifacts = [a.path for a in MlflowClient(store_uri).list_artifacts(completed.info.run_id)]
    assert "summary.json" in artifacts and "transcript" in artifacts


def test_the_parsing_processes_plan_runs_without_mlflow(data: Path, tmp_path: Path) -> None:
    """The pool's processes build each run as plain data: importing MLflow (and opening the store its
    tracing opens) cost each process about 4 CPU s, more than it then spent on a hundred sessions."""
    import subprocess
    import sys

    (transcript,) = (data / "realistic").glob(f"projects/*/{MANIFEST['realistic']['session_id']}.jsonl")
    script = f"""
import sys
from pathlib import Path
from claude_tui.tracking import importer
options = importer.PrepareOptions(
    spool_root=Path({str(tmp_path / "spools")!r}), tracking_uri="sqlite:///unused.db",
    experiment={EXPERIMENT!r}, experiment_id="1", now=9e9,
)
Path(options.spool_root).mkdir()
prepared = importer.prepare_session(Path({str(transcript)!r}), options)
assert prepared.plan is not None, prepared.outcome
heavy = ("mlflow", "opentelemetry", "sqlalchemy")
print(len(prepared.plan.trace_plans), sorted(m for m in heavy if m in sys.modules))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "CLAUDE_TUI_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stderr
    traces, loaded = done.stdout.split(" ", 1)
    assert int(traces) > 0 and loaded.strip() == "[]"


def test_a_session_whose_spans_the_store_refuses_is_undone_alone_and_imported_once_later(
    data: Path, store_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's spans go to the store in one call after its traces' infos: refused, the run, its params,
    metrics and trace infos are undone with it; the other sessions of the batch keep theirs."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    bad = MANIFEST["realistic"]["session_id"]
    real_log_spans = SqlAlchemyStore.log_spans
    calls: list[int] = []

    def log_spans(self: Any, location: str, spans: list[Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(len({span.trace_id for span in spans}))
        if any(bad in str(span.to_dict()) for span in spans):
            raise RuntimeError("spans refused by the store")
        return real_log_spans(self, location, spans, *args, **kwargs)

    monkeypatch.setattr(SqlAlchemyStore, "log_spans", log_spans)
    monkeypatch.setattr(importer, "BATCH_SECONDS", 3600.0)
    summary = _import(data, store_uri)
    assert [o.session_id for o in summary.failed] == [bad], summary.failed
    assert "spans refused by the store" in summary.failed[0].reason
    assert max(calls) > 1, "one call for all the traces of a run"
    kept = {r.data.tags[schema.TAG_SESSION_ID] for r in _runs(store_uri)}
    assert kept == {m["session_id"] for m in MANIFEST.values()} - {bad}
    view = store_view(store_uri)
    assert all(session["traces"] for session in view.values())

    monkeypatch.setattr(SqlAlchemyStore, "log_spans", real_log_spans)
    again = _import(data, store_uri)
    assert [o.session_id for o in again.imported] == [bad] and not again.failed
    assert len(_runs(store_uri)) == len(MANIFEST)
    assert store_view(store_uri)[bad]["traces"]


def test_the_experiment_is_read_once_per_transaction_and_mlflow_own_method_is_back_after(
    data: Path, store_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    reads: list[str] = []
    real_get_experiment = SqlAlchemyStore.get_experiment

    def get_experiment(self: Any, experiment_id: str) -> Any:
        reads.append(str(experiment_id))
        return real_get_experiment(self, experiment_id)

    monkeypatch.setattr(SqlAlchemyStore, "get_experiment", get_experiment)
    commits = _counted_commits(monkeypatch)
    summary = _import(data, store_uri)
    assert len(summary.imported) == len(MANIFEST) and commits == [len(MANIFEST)]
    # Once inside the batch's transaction (MLflow read it for every run, trace and batch of spans).
    assert len(reads) <= 3, reads
    store = transaction.sqlite_store(store_uri)
    assert "get_experiment" not in vars(store)
    before = len(reads)
    store.get_experiment(reads[0])
    store.get_experiment(reads[0])
    assert len(reads) == before + 2, "outside a transaction, MLflow reads it every time"


def test_a_new_run_s_inputs_are_not_read_back_and_mlflow_own_method_is_back_after(
    data: Path, store_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow's `create_run` reads the new run's dataset inputs back (a join of three tables); the import's
    writer creates runs that have none, so it skips that read, and only while it creates them."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    reads: list[list[str]] = []
    real_get_run_inputs = SqlAlchemyStore._get_run_inputs

    def get_run_inputs(self: Any, session: Any, run_uuids: list[str]) -> Any:
        reads.append(list(run_uuids))
        return real_get_run_inputs(self, session, run_uuids)

    monkeypatch.setattr(SqlAlchemyStore, "_get_run_inputs", get_run_inputs)
    summary = _import(data, store_uri)
    assert len(summary.imported) == len(MANIFEST) and not summary.failed
    assert reads == []
    store = transaction.sqlite_store(store_uri)
    assert "_get_run_inputs" not in vars(store)
    runs = _runs(store_uri)
    assert len(reads) == 1, "outside the writer's create_run, MLflow reads them"
    assert all(run.inputs.dataset_inputs == [] for run in runs)


def test_a_new_runs_params_and_metrics_inserted_at_once_read_back_as_log_batch_writes_them(
    tmp_path: Path,
) -> None:
    """The import's writer inserts a new run's params and metrics in one session
    (`logger.insert_new_run_data`) instead of MLflow's `log_batch` (which reads the run four times): the run
    must read back the same, also for the points MLflow treats specially (NaN, infinities, a repeated point,
    several points at one step), and with the run's end as `set_terminated` sets it."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment_id = client.create_experiment("e")
    nan, inf = float("nan"), float("inf")
    points = [
        ("a", 1.0, 1000, 0),
        ("a", 3.0, 1000, 2),
        ("a", 2.0, 999, 2),  # an earlier point at the same step: not the latest
        ("a", 5.0, 1000, 2),  # same step and time, greater value: the latest
        ("a", 5.0, 1000, 2),  # the same point again: logged once
        ("b", nan, 2000, 1),
        ("c", inf, 3000, 0),
        ("c", -inf, 3000, 1),
        ("d", 0.0, 4000, 3),
        ("d", 7.0, 4000, 1),  # a lower step later in the list
    ]
    params = [Param("model", "claude"), Param("cwd", "/srv/app")]
    seen = []
    for insert in (False, True):
        run_id = client.create_run(experiment_id).info.run_id
        metrics = [Metric(*point) for point in points]
        if insert:
            end = ("FINISHED", 5000)
            logger.insert_new_run_data(transaction.sqlite_store(uri), run_id, metrics, params, end=end)
        else:
            client.log_batch(run_id, metrics=metrics, params=params)
            client.set_terminated(run_id, status="FINISHED", end_time=5000)
        run = client.get_run(run_id)
        history = {
            key: sorted((m.step, m.timestamp, repr(m.value)) for m in client.get_metric_history(run_id, key))
            for key in "abcd"
        }
        latest = {key: repr(value) for key, value in run.data.metrics.items()}
        seen.append((run.data.params, latest, history, run.info.status, run.info.end_time))
    assert seen[1] == seen[0]
    assert seen[0][3:] == ("FINISHED", 5000)
    # As `set_terminated`: a run that is not there (or deleted) is refused, and nothing is written.
    from mlflow.exceptions import MlflowException

    gone = client.create_run(experiment_id).info.run_id
    client.delete_run(gone)
    with pytest.raises(MlflowException):
        logger.insert_new_run_data(transaction.sqlite_store(uri), gone, [], params, end=("FINISHED", 1))
    assert MlflowClient(uri).get_run(gone).data.params == {}
    assert seen[0][1]["a"] == "5.0" and seen[0][1]["d"] == "0.0" and len(seen[0][2]["a"]) == 4


def test_a_runs_spans_go_in_one_statement_compiled_once(data: Path, store_uri: str) -> None:
    """The writer sends each run's spans as one upsert with many parameter sets (`executemany`), the same
    SQL for every run: MLflow's own multi-row statement differs with each run's number of spans, and
    SQLAlchemy compiled it afresh for every run (a third of `log_spans`)."""
    import sqlalchemy
    from mlflow import MlflowClient

    inserts: list[tuple[str, bool, int]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().startswith("INSERT INTO spans"):
            inserts.append((statement, many, len(parameters) if many else 1))

    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", seen)
    try:
        summary = _import(data, store_uri)
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", seen)
    assert len(summary.imported) == len(MANIFEST) and not summary.failed
    client = MlflowClient(store_uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    traces = client.search_traces(locations=[experiment.experiment_id], max_results=500)
    stored = sum(len(trace.data.spans) for trace in traces)
    assert stored > len(MANIFEST) and len({rows for _, _, rows in inserts}) > 1, "runs of different sizes"
    assert [many for _, many, _ in inserts] == [True] * len(MANIFEST), inserts
    assert len({statement for statement, _, _ in inserts}) == 1
    assert sum(rows for _, _, rows in inserts) == stored


def test_spans_upserted_in_one_statement_store_what_mlflow_own_upsert_stores(tmp_path: Path) -> None:
    """`logger.spans_upserted_in_one_statement` against MLflow's `_bulk_upsert` on the same rows, a span
    sent twice among them (sqlite applies either statement's rows in order: the later one wins)."""
    import sqlalchemy
    from mlflow.store.tracking import sqlalchemy_store
    from mlflow.store.tracking.dbmodels.models import SqlSpan

    def row(span_id: str, name: str) -> dict[str, Any]:
        return {
            "trace_id": "tr-1",
            "experiment_id": 0,
            "span_id": span_id,
            "parent_span_id": None,
            "name": name,
            "type": "TOOL",
            "status": "OK",
            "start_time_unix_nano": 1,
            "end_time_unix_nano": 2,
            "content": json.dumps({"name": name}),
        }

    rows = [row("a", "first"), row("b", "other"), row("a", "again")]
    stored = []
    for patched in (False, True):
        engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / f'{patched}.db'}")
        SqlSpan.__table__.create(engine)
        with sqlalchemy.orm.Session(engine) as session:
            with logger.spans_upserted_in_one_statement() if patched else contextlib.nullcontext():
                sqlalchemy_store._bulk_upsert(session, SqlSpan, [dict(r) for r in rows])
                sqlalchemy_store._bulk_upsert(session, SqlSpan, [row("b", "updated")])
            session.commit()
            stored.append(session.execute(sqlalchemy.text("SELECT * FROM spans ORDER BY span_id")).all())
    assert stored[1] == stored[0]
    assert [(r.span_id, r.name) for r in stored[0]] == [("a", "again"), ("b", "updated")]


def _through_mlflow_tracing(uri: str, experiment_id: str, plan: Any, metadata: dict[str, str]) -> Any:
    """A trace built by MLflow's own tracing (`logger._emit_planned`), its info and spans kept as its
    exporter hands them to the store."""
    import mlflow
    from mlflow.tracing.client import TracingClient
    from mlflow.tracing.constant import SpansLocation, TraceTagKey

    from claude_tui.tracking.store import global_tracking_uri

    kept: dict[str, Any] = {"spans": []}

    def log_spans(self: Any, location: str, spans: list[Any], *args: Any, **kwargs: Any) -> list[Any]:
        kept["spans"].extend(spans)
        return list(spans)

    def start_trace(self: Any, trace_info: Any, *args: Any, **kwargs: Any) -> Any:
        kept["info"] = trace_info
        returned = copy.deepcopy(trace_info)
        # As the store answers once it holds the spans: MLflow's exporter then uploads no span file.
        returned.tags[TraceTagKey.SPANS_LOCATION] = SpansLocation.TRACKING_STORE.value
        return returned

    with pytest.MonkeyPatch.context() as patch, global_tracking_uri(uri):
        patch.setenv(*logger.SYNC_TRACE_EXPORT)
        patch.setattr(TracingClient, "log_spans", log_spans)
        patch.setattr(TracingClient, "start_trace", start_trace)
        logger._emit_planned(experiment_id, logger.RUN_ID_STAND_IN, "session-1", metadata, plan)
        mlflow.flush_trace_async_logging()  # a process whose MLflow was set up to export asynchronously
    return kept["info"], kept["spans"]


def _trace_view(info: Any, spans: list[Any]) -> Any:
    """A trace's info and spans as dicts, its made-up ids replaced by their order of appearance."""
    text = json.dumps({"info": info.to_dict(), "spans": [s.to_dict() for s in spans]}, sort_keys=True)
    for index, value in enumerate([info.trace_id, *(s.span_id for s in spans)]):
        text = text.replace(value, f"<id {index}>")
    text = re.sub(r'"trace_id": "[^"]*"', '"trace_id": "<trace>"', text)
    return json.loads(_number_span_ids(text))


def test_a_planned_trace_is_the_one_mlflow_own_tracing_builds(tmp_path: Path) -> None:
    """`logger.planned_trace` (the writer's traces without OpenTelemetry's tracer) against MLflow's tracing
    on the same plans, field by field: nested spans, a failed tool, a failed turn, text past MLflow's
    metadata limit, non-ASCII text, token usage, no inputs or outputs, a turn without previews."""
    from mlflow import MlflowClient

    from claude_tui.tracking.record import SpanSpec, TracePlan
    from claude_tui.tracking.store import global_tracking_uri

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    experiment_id = MlflowClient(uri).create_experiment("e")
    usage = {"input_tokens": 120, "output_tokens": 8, "total_tokens": 128}
    long = "ünïcode ✓ " * 60  # past MLflow's 250 characters of trace metadata
    turn = TracePlan(
        key="turn 1",
        session_id="conversation-1",
        request="Run the checks",
        response=long,
        spans=[
            SpanSpec(
                "turn 1",
                "AGENT",
                100.0,
                109.5,
                None,
                {"prompt": "Run the checks"},
                {"response": long},
                {"turn": 1, "cwd": "/srv/app"},
            ),
            SpanSpec(
                "claude-sonnet-4-5",
                "LLM",
                100.25,
                101.0,
                0,
                None,
                {"text": "ok"},
                {"mlflow.chat.tokenUsage": usage, "mlflow.llm.model": "claude-sonnet-4-5"},
            ),
            SpanSpec("Task", "AGENT", 101.0, 108.0, 0, {"prompt": "look around"}, None, {}),
            SpanSpec(
                "Bash", "TOOL", 101.5, 102.0, 2, {"command": "make check"}, "Exit code 2", {}, error=True
            ),
            SpanSpec("Read", "TOOL", 102.0, 102.125, 2, {"file_path": "/srv/app/ü.txt"}, long, {}),
        ],
    )
    failed = TracePlan(
        key="turn 2",
        session_id="conversation-1",
        request="",
        response="",
        spans=[SpanSpec("turn 2", "AGENT", 110.0, 111.0, None, None, None, {"turn": 2}, error=True)],
    )
    metadata = {  # as `logger.trace_metadata` makes it: the session's git state, not this process's
        schema.TRACE_SESSION: "conversation-1",
        schema.TRACE_USER: "me",
        schema.TAG_USER: "me",
        schema.TRACE_SOURCE_NAME: schema.SOURCE_NAME,
        schema.TRACE_GIT_COMMIT: "",
        schema.TRACE_GIT_BRANCH: "main",
        schema.TRACE_GIT_REPO_URL: "",
    }
    for plan in (turn, failed):
        expected = _trace_view(*_through_mlflow_tracing(uri, experiment_id, plan, metadata))
        with global_tracking_uri(uri):
            got = _trace_view(
                *logger.planned_trace(experiment_id, logger.RUN_ID_STAND_IN, "session-1", metadata, plan)
            )
        for part in ("info", "spans"):
            assert got[part] == expected[part], (plan.key, part)
        assert len(got["spans"]) == len(plan.spans) and got["spans"][-1]["parent_span_id"] is None


def test_the_objects_alive_before_an_import_are_left_to_it_uncollected_and_given_back_after(
    data: Path, store_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While it imports, the writer's cyclic collector skips the objects that were alive before (MLflow's
    modules, the store's set-up: each full collection walked them all); afterwards they are collected as
    before."""
    import gc

    frozen: list[int] = []
    real_write_plan = logger.write_plan

    def write_plan(plan: logger.RunPlan, **kwargs: Any) -> Any:
        frozen.append(gc.get_freeze_count())
        return real_write_plan(plan, **kwargs)

    monkeypatch.setattr(logger, "write_plan", write_plan)
    # An app run earlier in this test process froze its own objects (`terminal.collector`): start from
    # nothing frozen, as `claude-tui import` does, and put a freeze back after.
    frozen_before = gc.get_freeze_count()
    gc.unfreeze()
    try:
        summary = _import(data, store_uri)
        assert len(summary.imported) == len(MANIFEST) and not summary.failed
        assert len(frozen) == len(MANIFEST) and min(frozen) > 10_000, frozen
        assert gc.get_freeze_count() == 0
    finally:
        if frozen_before:
            gc.freeze()
