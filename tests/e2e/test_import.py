"""`claude-tui import` of real CLI transcripts (tests/data/transcripts) into a temp sqlite MLflow store.

Each imported run must be the run a tracked session gives for what a transcript can supply: tags with
`source=import`, params, metrics equal to `claude-tui stats --json` of its transcript, start/end at the first
and last record, the transcript artifacts (no recording) and a trace. A second import adds nothing; corrupt
files are reported and skipped while the rest import; a session already logged live is left alone.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pexpect
import pytest
from click.testing import CliRunner

from claude_tui.cli import main
from claude_tui.parsing import TranscriptTail
from claude_tui.parsing.events import ToolCall
from claude_tui.scenarios import load_scenario
from claude_tui.tracking import schema
from claude_tui.tracking.logger import log_spool
from claude_tui.tracking.spool import RunSpool
from tests.support.transcripts import copy_all

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"
MANIFEST = json.loads((DATA.parent / "manifest.json").read_text())["transcripts"]
NAMES = sorted(MANIFEST)
EXPERIMENT = "claude-sessions"


def transcript_of(root: Path, name: str) -> Path:
    (path,) = root.glob(f"{name}/projects/*/{MANIFEST[name]['session_id']}.jsonl")
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A copy of the committed transcripts plus a garbage file and an empty one beside a real session."""
    root = copy_all(tmp_path / "data")
    folder = transcript_of(root, "failing").parent
    (folder / "garbage.jsonl").write_bytes(os.urandom(2048).replace(b"\n", b" ") + b"\n{half a record\n")
    (folder / "empty.jsonl").write_bytes(b"")
    return root


def run_import(*args: str) -> Any:
    result = CliRunner().invoke(main, ["import", *args])
    assert "Traceback" not in result.output, result.output
    return result


def session_runs(uri: str) -> list[Any]:
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return [] if experiment is None else client.search_runs([experiment.experiment_id], max_results=1000)


def cli_stats(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["stats", "--json", str(path)])
    assert result.exit_code == 0, result.output
    (stats,) = json.loads(result.output)
    return dict(stats)


def all_artifacts(client: Any, run_id: str, path: str | None = None) -> set[str]:
    found: set[str] = set()
    for info in client.list_artifacts(run_id, path):
        found |= all_artifacts(client, run_id, info.path) if info.is_dir else {info.path}
    return found


def run_traces(uri: str, experiment_id: str, run_id: str) -> list[Any]:
    import mlflow

    from claude_tui.tracking.store import global_tracking_uri

    with global_tracking_uri(uri):
        return list(mlflow.search_traces(locations=[experiment_id], run_id=run_id, return_type="list"))


def test_imported_runs_equal_stats_and_a_second_import_adds_nothing(data: Path, store_uri: str) -> None:
    from mlflow import MlflowClient

    result = run_import(str(data), "--tracking-uri", store_uri, "--min-age", "0")
    assert result.exit_code == 1, result.output  # the two corrupt files failed; the rest imported
    garbage = transcript_of(data, "failing").parent / "garbage.jsonl"
    assert f"FAILED {garbage}: not a transcript: no records" in result.output
    assert "empty.jsonl: empty file" in result.output
    assert "imported 6, skipped 0, failed 2" in result.output

    client = MlflowClient(store_uri)
    runs = {run.data.tags["claude.session_id"]: run for run in session_runs(store_uri)}
    experiment_ids = list({run.info.experiment_id for run in runs.values()})
    assert client.search_runs(experiment_ids, "metrics.success = 0") == [], "imported is not failed"
    assert set(runs) == {MANIFEST[name]["session_id"] for name in NAMES}
    for name in NAMES:
        path = transcript_of(data, name)
        run = runs[MANIFEST[name]["session_id"]]
        stats = cli_stats(path)
        tags, params, metrics = run.data.tags, run.data.params, run.data.metrics

        # Metrics: exactly what `claude-tui stats --json` says for the transcript.
        expected = {k: float(stats[k]) for k in schema.STAT_METRICS if stats[k] is not None}
        expected |= {schema.tool_metric(t): float(n) for t, n in stats["tool_uses_by_name"].items()}
        assert {k: metrics[k] for k in expected} == expected, name
        # The cost, priced by genai-prices, is the CLI's own (its last cost-state record's totalCostUSD).
        cost_states = [json.loads(x) for x in path.read_text().splitlines() if '"cost-state"' in x]
        assert metrics["cost_usd"] == pytest.approx(cost_states[-1]["totalCostUSD"], rel=1e-3), name
        assert stats["tool_uses"] > 0 and stats["user_prompts"] == len(MANIFEST[name]["prompts"])
        assert "exit_code" not in metrics  # a transcript does not say how the program exited
        assert "success" not in metrics  # so the run is neither a success nor a failure

        # Tags and params a transcript can supply.
        assert tags["source"] == "import" and tags["type"] == "claude_session"
        assert tags["git.branch"] == stats["git_branch"] and stats["git_branch"]
        assert tags["claude.version"] == stats["claude_version"] and stats["claude_version"]
        if name != "secrets":  # its prompt is redacted in the run name
            assert stats["first_prompt"].startswith(tags["mlflow.runName"].rstrip("…"))
        assert params["session_id"] == MANIFEST[name]["session_id"]
        assert params["cwd"] == MANIFEST[name]["work_dir"] == stats["cwd"]
        assert params["model"] == stats["model"] and params["permission_mode"] == stats["permission_mode"]

        # Start and end: the first and last record.
        events = TranscriptTail(path).poll(final=True)
        stamps = [e.ts for e in events if e.ts is not None]
        assert run.info.start_time == int(min(stamps) * 1000)
        assert run.info.end_time == int(max(stamps) * 1000)
        assert run.info.status == "FINISHED"

        # Artifacts: the transcript and its sub-agent files, events, summary, a clean transcript; no cast.
        session_id = MANIFEST[name]["session_id"]
        extra = path.with_suffix("")
        subagent_files = {
            f"claude/{p.relative_to(path.parent).as_posix()}" for p in extra.rglob("*") if p.is_file()
        }
        assert (name in ("realistic", "subagent")) == bool(subagent_files)
        assert (
            all_artifacts(client, run.info.run_id)
            == {
                f"claude/{session_id}.jsonl",
                "events.jsonl",
                "summary.json",
                "transcript/clean.txt",
            }
            | subagent_files
        )
        clean = Path(client.download_artifacts(run.info.run_id, "transcript/clean.txt")).read_text()
        if name != "secrets":
            assert f"❯ {MANIFEST[name]['prompts'][0]}" in clean
        assert clean.count("● ") >= stats["tool_uses"] - stats["subagent_tool_uses"]
        if name == "secrets":
            uploaded = "".join(
                Path(client.download_artifacts(run.info.run_id, p)).read_text()
                for p in all_artifacts(client, run.info.run_id)
            )
            secrets = load_scenario("secrets")["secrets"]
            assert secrets and not [s for s in secrets if s in uploaded]

        # The traces: one per turn, linked to the run, a TOOL span per tool call.
        traces = run_traces(store_uri, run.info.experiment_id, run.info.run_id)
        assert len(traces) == len(MANIFEST[name]["prompts"])
        tools = [s for t in traces for s in t.data.spans if s.span_type == "TOOL"]
        assert len(tools) == sum(1 for e in events if isinstance(e, ToolCall)) == stats["tool_uses"]

    again = run_import(str(data), "--tracking-uri", store_uri, "--min-age", "0")
    assert again.exit_code == 1  # the corrupt files are reported again
    assert "imported 0, skipped 6, failed 2" in again.output
    assert "skipped: 6 already in the store" in again.output
    assert len(session_runs(store_uri)) == len(NAMES)


def test_session_logged_live_is_skipped(data: Path, store_uri: str, tmp_path: Path) -> None:
    live = transcript_of(data, "parallel_tools")
    session_id = MANIFEST["parallel_tools"]["session_id"]
    spool = RunSpool.create(
        {"session_id": session_id, "start_time": time.time() - 30, "transcript_path": str(live)},
        tmp_path / "spools",
    )
    spool.finish({"end_time": time.time(), "exit_code": 0, "signal": None, "killed": False})
    spool.close()
    logged = log_spool(spool, tracking_uri=store_uri)
    assert logged.created

    result = run_import(str(data / "parallel_tools"), str(data / "subagent"), "--tracking-uri", store_uri)
    assert result.exit_code == 0, result.output
    assert f"skipped {session_id}: already in the store" in result.output
    assert "imported 1, skipped 1, failed 0" in result.output
    runs = {r.data.tags["claude.session_id"]: r for r in session_runs(store_uri)}
    assert set(runs) == {session_id, MANIFEST["subagent"]["session_id"]}
    assert runs[session_id].info.run_id == logged.run_id
    assert runs[session_id].data.tags["source"] == "live"
    assert runs[MANIFEST["subagent"]["session_id"]].data.tags["source"] == "import"


def test_progress_bar_on_a_terminal(data: Path, tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "120"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "claude_tui", "import", str(data), "--dry-run", "--tracking-uri", str(tmp_path / "s")],
        env=env,
        encoding="utf-8",
        timeout=120,
        dimensions=(24, 120),
    )
    child.expect(pexpect.EOF)
    child.close()
    output = child.before or ""
    assert child.exitstatus == 1, output  # the garbage and empty files
    assert "checking" in output and "8/8" in output and "sessions/s" in output
    assert "would import 6, skipped 0, failed 2" in output


def test_unreachable_store_is_one_line_and_exit_1(data: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_import(str(data), "--tracking-uri", f"http://127.0.0.1:{port}")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"claude-tui import: unreachable: no answer from http://127.0.0.1:{port} (connection refused)"
    ]
