"""A real session of the CLI (against the stub), spooled as the app does, logged into a sqlite MLflow store.

Checks the run holds exactly the listed tags, params, metrics (equal to the scenario's), artifacts, series
and a trace with one ERROR tool span nested under its sub-agent; every seed search finds or excludes it;
logging again never makes a second run; a real `mlflow server` works over HTTP.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from claude_tui.parsing import stats_for_transcript
from claude_tui.tracking import logger as logger_module
from claude_tui.tracking import schema
from claude_tui.tracking.logger import LoggingError, log_spool
from claude_tui.tracking.schema import session_filter
from claude_tui.tracking.spool import RunSpool

pytestmark = pytest.mark.slow

SEED_SEARCHES = {
    # search -> whether it finds the `subagent` session logged with issue 123 / close-issue
    "metrics.success = 1": True,
    "metrics.errors_encountered > 0": True,
    "metrics.commands_executed > 10": False,
    "metrics.duration_seconds > 30": True,
    'tags.type = "claude_session"': True,
    'params.issue_number = "123"': True,
    'params.procedure_name = "close-issue"': True,
    'params.issue_number = "124"': False,
    "metrics.success = 0": False,
}


def scenario_tools(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for turn in scenario["turns"] for step in turn["steps"] for item in step if "tool" in item]


def all_artifacts(client: Any, run_id: str, path: str | None = None) -> dict[str, int]:
    found: dict[str, int] = {}
    for info in client.list_artifacts(run_id, path):
        if info.is_dir:
            found.update(all_artifacts(client, run_id, info.path))
        else:
            found[info.path] = info.file_size
    return found


def run_traces(uri: str, experiment_id: str, run_id: str) -> list[Any]:
    import mlflow

    from claude_tui.tracking.store import global_tracking_uri

    with global_tracking_uri(uri):
        return list(mlflow.search_traces(locations=[experiment_id], run_id=run_id, return_type="list"))


@pytest.fixture
def subagent_spool(real_session: Callable[[str], Any], make_spool: Callable[..., RunSpool]) -> RunSpool:
    session = real_session("subagent")
    spool = make_spool(session, issue_number="123", procedure_name="close-issue")
    spool.session = session  # type: ignore[attr-defined]
    return spool


def test_run_holds_exactly_the_session(subagent_spool: RunSpool, store_uri: str) -> None:
    from mlflow import MlflowClient

    session: Any = subagent_spool.session  # type: ignore[attr-defined]
    stages: list[tuple[str, float]] = []
    logged = log_spool(subagent_spool, tracking_uri=store_uri, progress=lambda s, f: stages.append((s, f)))
    assert logged.created and logged.status == "FINISHED" and logged.spool_removed
    assert not subagent_spool.path.exists()
    assert stages[-1] == ("done", 1.0)
    assert [f for _, f in stages] == sorted(f for _, f in stages)

    client = MlflowClient(store_uri)
    runs = client.search_runs([logged.experiment_id], session_filter(session.session_id))
    assert [r.info.run_id for r in runs] == [logged.run_id]
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert (run.info.end_time - run.info.start_time) / 1000 == pytest.approx(45, abs=1)

    head = session.git_start
    work_dir = session.env.work_dir
    email = subprocess.run(
        ["git", "config", "user.email"], cwd=work_dir, capture_output=True, text=True, check=False
    ).stdout.strip()
    assert run.data.tags == {
        "type": "claude_session",
        "mlflow.runName": session.scenario["prompts"][0],
        "claude.session_id": session.session_id,
        "mlflow.source.name": "claude-tui",
        "git.branch": head["branch"],
        "git.commit": head["commit"],
        "claude.version": "2.1.328",
        "source": "live",
        "team": "core",
        # Attribution (issue 17): no settings user here, so git's user.email in the work dir (else the login);
        # the work dir has no remote, so the repository is named after its folder.
        "mlflow.user": email or getpass.getuser(),
        "host": socket.gethostname(),
        "git.repository": work_dir.name,
        "claude.session_ids": session.session_id,  # the one conversation it held
        "claude_tui.run_key": session.session_id,  # the id claude-tui gave the process
    }
    assert run.info.user_id == run.data.tags["mlflow.user"]
    assert set(run.data.params) == {
        "session_id", "command", "args", "cwd", "procedure_name", "issue_number", "model", "permission_mode",
    }  # fmt: skip
    assert run.data.params["issue_number"] == "123" and run.data.params["procedure_name"] == "close-issue"
    assert run.data.params["cwd"] == str(session.env.work_dir)
    assert run.data.params["permission_mode"] == "acceptEdits"

    # Metric values: what the scenario scripted, and what the transcript parser says.
    tools = scenario_tools(session.scenario)
    metrics = run.data.metrics
    assert metrics["tool_uses"] == len(tools)
    assert metrics["commands_executed"] == sum(t["tool"] == "Bash" for t in tools)
    for name in {t["tool"] for t in tools}:
        assert metrics[f"tool_uses.{name}"] == sum(t["tool"] == name for t in tools)
    assert metrics["subagent_tool_uses"] == len(tools) - 1  # everything but the Agent call itself
    assert metrics["errors_encountered"] == 1  # `cat nonexistent.cfg` is the scenario's one failure
    assert metrics["success"] == 1 and metrics["exit_code"] == 0
    assert metrics["duration_seconds"] == pytest.approx(45, abs=1)
    exact = stats_for_transcript(session.transcript).to_dict()
    for key in (
        "user_prompts",
        "files_read",
        "files_modified",
        "git_operations",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_creation_tokens",
        "malformed_lines",
        "unknown_records",
    ):
        assert metrics[key] == exact[key], key
    assert exact["cost_usd"] is not None  # the stub's model has a price (genai-prices)
    assert metrics["cost_usd"] == pytest.approx(exact["cost_usd"])
    expected_metrics = {*schema.STAT_METRICS, *schema.OUTCOME_METRICS} | {
        schema.tool_metric(name) for name in {t["tool"] for t in tools}
    }
    assert set(metrics) == expected_metrics

    for key in schema.SERIES_KEYS:
        history = sorted(client.get_metric_history(logged.run_id, key), key=lambda m: (m.step, m.timestamp))
        values = [m.value for m in history]
        assert values == sorted(values) and values[-1] == metrics[key], key
        assert all(0 <= m.step <= 46 for m in history)
        assert len(history) >= 2  # the session's progress, then its end

    artifacts = all_artifacts(client, logged.run_id)
    subagents = [
        p.relative_to(session.transcript.parent).as_posix()
        for p in session.transcript.with_suffix("").rglob("*")
        if p.is_file()
    ]
    assert subagents, "the sub-agent scenario writes sub-agent transcripts"
    assert set(artifacts) == {
        "transcript/raw.cast", "transcript/clean.txt", f"claude/{session.session_id}.jsonl", "events.jsonl",
        "summary.json", "git/changes.diff", "git/commits.txt", *(f"claude/{p}" for p in subagents),
    }  # fmt: skip
    assert artifacts["transcript/raw.cast"] > 1000 and artifacts[f"claude/{session.session_id}.jsonl"] > 1000
    clean = client.download_artifacts(logged.run_id, "transcript/clean.txt")
    # No clean.txt in this spool: replayed from the recording through the emulator (the recorded session
    # ends with Claude's exit message).
    assert "Resume this session with:" in Path(clean).read_text()

    traces = run_traces(store_uri, logged.experiment_id, logged.run_id)
    assert len(traces) == 1
    spans = traces[0].data.spans
    by_id = {s.span_id: s for s in spans}
    # One trace per turn (issue 17): this session's one prompt is the trace's root, its request and session.
    root = next(s for s in spans if s.parent_id is None)
    assert root.name == "turn 1" and root.span_type == "AGENT"
    assert root.inputs == {"prompt": session.scenario["prompts"][0]}
    assert traces[0].info.request_preview == session.scenario["prompts"][0]
    assert traces[0].info.response_preview and root.outputs == {"response": traces[0].info.response_preview}
    assert traces[0].info.trace_metadata["mlflow.trace.session"] == session.session_id
    assert traces[0].info.tags["claude.turn"] == "turn 1"
    tool_spans = [s for s in spans if s.span_type == "TOOL"]
    assert sorted(s.name for s in tool_spans) == sorted(t["tool"] for t in tools)
    errors = [s for s in spans if s.status.status_code == "ERROR"]
    assert len(errors) == 1
    failed = errors[0]
    assert failed.span_type == "TOOL" and failed.name == "Bash"
    assert failed.inputs["command"] == "cat nonexistent.cfg"
    assert "Exit code 1" in failed.outputs["result"]
    assert by_id[failed.parent_id].name == "Agent"  # the sub-agent's call sits under its Agent span
    llm = [s for s in spans if s.span_type == "LLM"]
    usage = [s.get_attribute("mlflow.chat.tokenUsage") for s in llm]
    assert sum(u["input_tokens"] for u in usage) == metrics["input_tokens"]
    assert sum(u["output_tokens"] for u in usage) == metrics["output_tokens"]
    for span in spans:
        if span.parent_id is not None:
            parent = by_id[span.parent_id]
            assert parent.start_time_ns <= span.start_time_ns <= span.end_time_ns <= parent.end_time_ns

    for search, found in SEED_SEARCHES.items():
        hits = client.search_runs([logged.experiment_id], search)
        assert ([r.info.run_id for r in hits] == [logged.run_id]) is found, search


def test_logging_again_completes_but_never_duplicates(
    subagent_spool: RunSpool, store_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient

    backup = tmp_path / "backup"
    shutil.copytree(subagent_spool.path, backup)

    # First attempt dies after the run, metrics and artifacts went in, before the trace: spool kept.
    def broken_trace(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("connection reset\nsecond line")

    monkeypatch.setattr(logger_module, "emit_traces", broken_trace)
    with pytest.raises(LoggingError) as failure:
        log_spool(subagent_spool, tracking_uri=store_uri)
    assert "\n" not in str(failure.value) and "connection reset" in str(failure.value)
    assert subagent_spool.path.exists()
    monkeypatch.undo()

    second = log_spool(subagent_spool, tracking_uri=store_uri)
    assert not second.created and second.spool_removed
    client = MlflowClient(store_uri)
    first_history = client.get_metric_history(second.run_id, "tool_uses")

    # The same session spooled again (e.g. a copy restored from backup) and synced: still one run.
    shutil.copytree(backup, subagent_spool.path)
    third = log_spool(subagent_spool, tracking_uri=store_uri, source="import")
    assert third.run_id == second.run_id and not third.created
    runs = client.search_runs([second.experiment_id], 'tags.type = "claude_session"')
    assert len(runs) == 1
    assert len(client.get_metric_history(second.run_id, "tool_uses")) == len(first_history)
    assert len(run_traces(store_uri, second.experiment_id, second.run_id)) == 1
    assert runs[0].data.tags["source"] == "import"  # tags are brought up to date


def test_a_new_run_is_confirmed_by_its_writes_not_read_back(
    subagent_spool: RunSpool, store_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: a new run has nothing to look up before writing, and what each write call returned is its
    confirmation; only the trace (whose exporter hides failures) is looked up, by its id."""
    import mlflow
    from mlflow import MlflowClient

    reads: list[str] = []

    def counted(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            reads.append(name)
            return original(*args, **kwargs)

        return wrapper

    reads_of = ((MlflowClient, "get_run"), (MlflowClient, "list_artifacts"), (mlflow, "search_traces"))
    for owner, name in reads_of:
        monkeypatch.setattr(owner, name, counted(name, getattr(owner, name)))
    logged = log_spool(subagent_spool, tracking_uri=store_uri)
    assert logged.created and logged.spool_removed
    assert reads == []
    monkeypatch.undo()
    assert len(run_traces(store_uri, logged.experiment_id, logged.run_id)) == 1
    assert "transcript/clean.txt" in all_artifacts(MlflowClient(store_uri), logged.run_id)


def test_the_trace_is_two_store_writes_info_first(
    subagent_spool: RunSpool, store_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: MLflow's exporter wrote each span as it ended (one transaction each), then the trace's info,
    which a SQL store then merged into the trace the spans had created. Now: the info, then every span."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    writes: list[tuple[str, int]] = []
    original_start, original_spans = SqlAlchemyStore.start_trace, SqlAlchemyStore.log_spans

    def start_trace(self: Any, trace_info: Any) -> Any:
        writes.append(("start_trace", 1))
        return original_start(self, trace_info)

    def log_spans(self: Any, location: str, spans: list[Any], *args: Any, **kwargs: Any) -> Any:
        writes.append(("log_spans", len(spans)))
        return original_spans(self, location, spans, *args, **kwargs)

    monkeypatch.setattr(SqlAlchemyStore, "start_trace", start_trace)
    monkeypatch.setattr(SqlAlchemyStore, "log_spans", log_spans)
    logged = log_spool(subagent_spool, tracking_uri=store_uri)
    monkeypatch.undo()
    (trace,) = run_traces(store_uri, logged.experiment_id, logged.run_id)
    assert writes == [("start_trace", 1), ("log_spans", len(trace.data.spans))]
    assert trace.info.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"


def test_a_logger_process_does_not_wait_for_mlflow_s_trace_queue(
    subagent_spool: RunSpool, store_uri: str
) -> None:
    """Issue 19, target 1: the process that logs a finished session (the owner's logger, `sync`) waited 1-2 s
    for MLflow's asynchronous trace queue, which polls once a second. Now it writes the trace itself."""
    script = textwrap.dedent(
        """
        import sys
        from mlflow.tracing.export.async_export_queue import AsyncTraceExportQueue
        queued = []
        put = AsyncTraceExportQueue.put
        def counted(self, task):
            queued.append(task)
            return put(self, task)
        AsyncTraceExportQueue.put = counted
        from claude_tui.tracking.logger import log_spool
        log_spool(sys.argv[1], tracking_uri=sys.argv[2])
        print(len(queued))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"}
    argv = [sys.executable, "-c", script, str(subagent_spool.path), store_uri]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-1] == "0"
    assert not subagent_spool.path.exists()


def test_a_trace_the_store_did_not_take_keeps_the_spool(
    subagent_spool: RunSpool, store_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow's trace exporter swallows a failed write: the logger must still notice and keep the spool."""
    from mlflow.tracing.client import TracingClient

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(TracingClient, "log_spans", refused)
    monkeypatch.setattr(TracingClient, "start_trace", refused)
    with pytest.raises(LoggingError, match=r"did not confirm .*trace"):
        log_spool(subagent_spool, tracking_uri=store_uri)
    assert subagent_spool.path.exists()
    monkeypatch.undo()
    second = log_spool(subagent_spool, tracking_uri=store_uri)
    assert not second.created and second.spool_removed
    assert len(run_traces(store_uri, second.experiment_id, second.run_id)) == 1


def test_two_processes_syncing_one_spool_make_one_run(subagent_spool: RunSpool, store_uri: str) -> None:
    from mlflow import MlflowClient

    from claude_tui.tracking.store import get_or_create_experiment

    # The store exists already (as it does after the first session); this test is about the spool lock.
    experiment_id = get_or_create_experiment("claude-sessions", store_uri)
    root = subagent_spool.path.parent
    argv = [
        sys.executable,
        "-m",
        "claude_tui",
        "sync",
        "--tracking-uri",
        store_uri,
        "--spool-root",
        str(root),
    ]
    procs = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in "ab"
    ]
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    runs = MlflowClient(store_uri).search_runs([experiment_id], 'tags.type = "claude_session"')
    assert len(runs) == 1, outputs
    assert not subagent_spool.path.exists()
    assert len(run_traces(store_uri, experiment_id, runs[0].info.run_id)) == 1


# -- a real MLflow server (the `mlflow_server` fixture is in conftest.py) ----------------------------------


def test_logs_over_http_to_a_real_mlflow_server(subagent_spool: RunSpool, mlflow_server: str) -> None:
    from mlflow import MlflowClient

    logged = log_spool(subagent_spool, tracking_uri=mlflow_server)
    assert logged.ui_url == f"{mlflow_server}/#/experiments/{logged.experiment_id}/runs/{logged.run_id}"
    assert logged.spool_removed
    client = MlflowClient(mlflow_server)
    run = client.get_run(logged.run_id)
    assert run.data.tags["type"] == "claude_session" and run.data.metrics["errors_encountered"] == 1
    assert "transcript/raw.cast" in all_artifacts(client, logged.run_id)
    traces = run_traces(mlflow_server, logged.experiment_id, logged.run_id)
    assert len(traces) == 1 and sum(s.status.status_code == "ERROR" for s in traces[0].data.spans) == 1
    with urllib.request.urlopen(f"{mlflow_server}/health", timeout=5) as reply:
        assert reply.status == 200
    assert json.loads(json.dumps(run.data.params))["issue_number"] == "123"
