"""The organisation's settings file (issue 17, item 3): read before the user's, its locked keys refused from
the user's file and from flags in one line, its tags on every run, and `content = "metadata"`: no transcript,
recording or diff leaves the machine and the trace's tools carry no inputs or outputs, while counts, timings,
tokens and cost stay."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from claude_tui.cli import main
from tests.support.transcripts import install

pytestmark = pytest.mark.slow


@pytest.fixture
def org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An organisation file at `$CLAUDE_TUI_SYSTEM_CONFIG` (the test writes its content)."""
    path = tmp_path / "etc" / "config.toml"
    path.parent.mkdir()
    monkeypatch.setenv("CLAUDE_TUI_SYSTEM_CONFIG", str(path))
    return path


def cli(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def test_metadata_content_uploads_no_transcript_and_no_tool_contents(
    org: Path, tmp_path: Path, store_uri: str
) -> None:
    import mlflow
    from mlflow import MlflowClient

    from claude_tui.tracking.store import global_tracking_uri

    org.write_text(
        f'tracking_uri = "{store_uri}"\ncontent = "metadata"\nlocked = ["tracking_uri", "content"]\n'
        '[tags]\norg = "payments"\n'
    )
    path = install(tmp_path / "claude", "realistic", age_days=1)
    result = cli("import", str(path), "--min-age", "0")
    assert result.exit_code == 0, result.output
    stats = json.loads(cli("stats", "--json", str(path)).output)[0]

    client = MlflowClient(store_uri)
    experiment = client.get_experiment_by_name("claude-sessions")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.tags["org"] == "payments"
    # Counts, tokens and cost remain.
    for name in ("tool_uses", "commands_executed", "output_tokens", "cost_usd"):
        assert run.data.metrics[name] == pytest.approx(stats[name]), name
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["summary.json"]
    with global_tracking_uri(store_uri):
        traces = mlflow.search_traces(
            locations=[experiment.experiment_id], run_id=run.info.run_id, return_type="list"
        )
    tools = [span for trace in traces for span in trace.data.spans if span.span_type == "TOOL"]
    assert len(tools) == stats["tool_uses"]
    assert all(span.inputs is None and span.outputs is None for span in tools)
    # The timings stay: every tool span has its real duration.
    assert all(span.end_time_ns >= span.start_time_ns > 0 for span in tools)


def test_locked_keys_are_refused_in_one_line(org: Path, tmp_path: Path, store_uri: str) -> None:
    org.write_text(
        f'tracking_uri = "{store_uri}"\nredact = true\nrequired_tags = ["team"]\n'
        'locked = ["tracking_uri", "redact"]\n'
    )
    user = Path(os.environ["CLAUDE_TUI_CONFIG"])
    # The flags: every command that takes them.
    for args in (
        ["export", "--format", "json", "--tracking-uri", "sqlite:///elsewhere.db"],
        ["sync", "--tracking-uri", "sqlite:///elsewhere.db"],
        ["run", "--command", "true", "--no-redact", "--tag", "team=core"],
    ):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        (line,) = result.output.strip().splitlines()
        assert f"locked to {store_uri!r}" in line or "redact is locked to True" in line, line
        assert f"by {org} (the organisation's settings)" in line, line
    # The same value is no change.
    assert cli("export", "--format", "json", "--tracking-uri", store_uri).exit_code == 0
    # A required tag missing: one line saying how to give it.
    result = cli("run", "--command", "true")
    assert result.exit_code == 2
    assert result.output.strip() == (
        "claude-tui: the organisation's settings require the tag 'team': give --tag team=VALUE, "
        f"or set it under [tags] in {user}"
    )
    # The user's own file: every command refuses it, naming both files.
    user.write_text('tracking_uri = "sqlite:///mine.db"\n')
    for args in (["export", "--format", "json"], ["ls"], ["history"]):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.strip() == (
            f"claude-tui: {user}: tracking_uri is locked by {org} (the organisation's settings); "
            "remove it from your file"
        )
