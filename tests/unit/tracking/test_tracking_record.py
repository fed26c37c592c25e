"""SessionRecord: a spool in MLflow terms (pure, no store): tags, params, metrics, series, spans."""

from __future__ import annotations

import getpass
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from claude_tui.parsing import SessionStats, event_to_dict
from claude_tui.parsing.events import (
    ApiError,
    AssistantText,
    Event,
    SessionMeta,
    TokenUsage,
    ToolCall,
    ToolResult,
    TurnEnd,
    UnknownRecord,
    UserPrompt,
)
from claude_tui.tracking.record import SessionRecord
from claude_tui.tracking.spool import RunSpool

T0 = 1_764_224_000.0


def session_events() -> list[Event]:
    """Two turns: a failing Bash, a git commit, and a sub-agent (Agent tool) with one failing call."""
    return [
        SessionMeta(ts=T0 + 1, model="claude-sonnet-4-5", version="2.1.328", permission_mode="acceptEdits"),
        UserPrompt(
            ts=T0 + 2, text="close-issue 583 and then   tidy up the whole repository please, thanks a lot!"
        ),
        TokenUsage(ts=T0 + 4, message_id="m1", model="claude-sonnet-4-5", input_tokens=100, output_tokens=10),
        AssistantText(ts=T0 + 4, text="Looking."),
        ToolCall(ts=T0 + 4, id="t1", name="Bash", input={"command": "ls nope"}),
        ToolResult(ts=T0 + 5, id="t1", is_error=True, preview="Exit code 2\nls: cannot access 'nope'"),
        TokenUsage(ts=T0 + 7, message_id="m2", model="claude-sonnet-4-5", input_tokens=120, output_tokens=20),
        # The transcript repeats a message's usage on each of its records: counted once.
        TokenUsage(ts=T0 + 7, message_id="m2", model="claude-sonnet-4-5", input_tokens=120, output_tokens=20),
        ToolCall(ts=T0 + 7, id="t2", name="Bash", input={"command": "git add a && git commit -m x"}),
        ToolResult(ts=T0 + 8, id="t2", preview="[main abc] x"),
        TurnEnd(ts=T0 + 9, duration=7.0),
        UserPrompt(ts=T0 + 70, text="review it with an agent"),
        ToolCall(ts=T0 + 71, id="t3", name="Agent", input={"prompt": "review"}),
        TokenUsage(ts=T0 + 72, message_id="s1", model="claude-haiku-4-5", input_tokens=50, sidechain=True),
        ToolCall(
            ts=T0 + 72, id="s-t1", name="Read", input={"file_path": "/w/a.py"}, sidechain=True, agent_id="a1"
        ),
        ToolResult(ts=T0 + 73, id="s-t1", preview="1\tx", sidechain=True),
        ToolCall(
            ts=T0 + 74, id="s-t2", name="Bash", input={"command": "cat x"}, sidechain=True, agent_id="a1"
        ),
        ToolResult(ts=T0 + 75, id="s-t2", is_error=True, preview="Exit code 1", sidechain=True),
        ToolResult(ts=T0 + 80, id="t3", preview="looks fine"),
        ApiError(ts=T0 + 81, message="overloaded"),
        TurnEnd(ts=T0 + 82, duration=12.0),
    ]


def make_spool(tmp_path: Path, events: list[Event], *, finished: bool = True, **meta: Any) -> RunSpool:
    base: dict[str, Any] = {
        "session_id": "sess-1",
        "command": "claude",
        "args": ["--permission-mode", "plan", "close-issue 583"],
        "cwd": "/w",
        "start_time": T0,
        "git": {"commit": "c0ffee", "branch": "main", "dirty": False},
        "tags": {"team": "core"},
        "pid": 0,
        "claude_config_dir": str(tmp_path / "no-claude"),
        "claude_version": None,
    }
    base.update(meta)
    spool = RunSpool.create(base, tmp_path / "spools")
    spool.append_events(event_to_dict(e) for e in events)
    if finished:
        spool.finish({"end_time": T0 + 90, "exit_code": 0, "signal": None, "killed": False})
    spool.close()
    return spool


def expected_stats(events: list[Event]) -> dict[str, Any]:
    stats = SessionStats()
    for event in events:
        stats.apply(event)
    return stats.to_dict()


def test_metrics_params_and_tags_of_a_finished_session(tmp_path: Path) -> None:
    events = session_events()
    record = SessionRecord.from_spool(make_spool(tmp_path, events, issue_number="123"))
    stats = expected_stats(events)
    assert record.stats_source == "events" and record.status == "FINISHED" and record.success
    metrics = record.metrics()
    for key in (
        "tool_uses",
        "commands_executed",
        "errors_encountered",
        "git_operations",
        "user_prompts",
        "subagent_tool_uses",
        "input_tokens",
        "output_tokens",
        "files_read",
    ):
        assert metrics[key] == stats[key], key
    assert metrics["tool_uses"] == 5 and metrics["errors_encountered"] == 3  # 2 failed tools + 1 API error
    assert metrics["input_tokens"] == 270  # m2 counted once
    assert (
        metrics["tool_uses.Bash"] == 3 and metrics["tool_uses.Agent"] == 1 and metrics["tool_uses.Read"] == 1
    )
    assert metrics["success"] == 1 and metrics["exit_code"] == 0 and metrics["duration_seconds"] == 90
    assert metrics["active_seconds"] == 19
    params = record.params()
    assert params == {
        "session_id": "sess-1",
        "command": "claude",
        "args": "--permission-mode plan 'close-issue 583'",
        "cwd": "/w",
        "procedure_name": "close-issue",  # from the prompt
        "issue_number": "123",  # the user's override beats the prompt's 583
        "model": "claude-sonnet-4-5",
        "permission_mode": "acceptEdits",  # what the transcript says beats the argv
    }
    tags = record.tags("import")
    assert tags == {
        "team": "core",
        "type": "claude_session",
        "mlflow.runName": "close-issue 583 and then tidy up the whole repository pleas…",
        "claude.session_id": "sess-1",
        "mlflow.source.name": "claude-tui",
        "git.branch": "main",
        "git.commit": "c0ffee",
        "claude.version": "2.1.328",
        "source": "import",
        # Attribution: the machine, and the login name (no settings `user`, no repository at /w).
        "host": socket.gethostname(),
        "mlflow.user": getpass.getuser(),
        "claude.session_ids": "sess-1",  # the one conversation it held
        "claude_tui.run_key": "sess-1",
    }
    assert len(tags["mlflow.runName"]) == 60


def test_a_model_without_a_price_leaves_no_cost_metric_and_names_the_model(tmp_path: Path) -> None:
    events = [
        UserPrompt(ts=T0 + 1, text="go"),
        TokenUsage(ts=T0 + 2, message_id="m1", model="claude-opus-5-5", input_tokens=1000, output_tokens=10),
        TokenUsage(ts=T0 + 3, message_id="m2", model="claude-opus-9-9", input_tokens=1000, output_tokens=10),
    ]
    record = SessionRecord.from_spool(make_spool(tmp_path / "a", events))
    assert "cost_usd" not in record.metrics()
    assert record.tags()["cost.unpriced_models"] == "claude-opus-9-9"
    priced = SessionRecord.from_spool(make_spool(tmp_path / "b", events[:2]))
    assert priced.metrics()["cost_usd"] == pytest.approx((1000 * 4 + 10 * 20) / 1e6)  # genai-prices' Opus 5.5
    assert "cost.unpriced_models" not in priced.tags()


def test_unknown_records_are_a_metric_and_listed_by_type_in_the_summary_stats(tmp_path: Path) -> None:
    events = [
        UserPrompt(ts=T0 + 1, text="go"),
        UnknownRecord(ts=T0 + 2, record_type="agent-handoff"),
        UnknownRecord(ts=T0 + 3, record_type="agent-handoff"),
    ]
    record = SessionRecord.from_spool(make_spool(tmp_path, events))
    assert record.metrics()["unknown_records"] == 2
    assert record.stats["unknown_records_by_type"] == {"agent-handoff": 2}


def test_series_are_cumulative_and_end_at_the_final_values(tmp_path: Path) -> None:
    record = SessionRecord.from_spool(make_spool(tmp_path, session_events()))
    series: dict[str, list[tuple[int, float]]] = {}
    for key, value, step, _ts in sorted(record.series(), key=lambda p: (p[0], p[2])):
        series.setdefault(key, []).append((step, value))
    metrics = record.metrics()
    for key in ("tool_uses", "errors_encountered", "commands_executed"):
        values = [v for _, v in series[key]]
        assert values == sorted(values), key
        assert values[-1] == metrics[key], key
    assert series["tool_uses"][0] == (4, 1.0)  # first tool call 4 s after the start
    assert series["errors_encountered"][-1] == (81, 3.0)


def test_span_plan_nests_turns_llm_calls_tools_and_sub_agents(tmp_path: Path) -> None:
    plan = SessionRecord.from_spool(make_spool(tmp_path, session_events())).span_plan()
    root = plan[0]
    assert root.name == "claude_session" and root.parent is None
    assert (root.start, root.end) == (T0, T0 + 90)
    turns = [i for i, s in enumerate(plan) if s.span_type == "CHAIN"]
    assert [plan[i].name for i in turns] == ["turn 1", "turn 2"]
    assert (plan[turns[0]].start, plan[turns[0]].end) == (T0 + 2, T0 + 9)
    assert plan[turns[1]].attributes["api_errors"] == ["overloaded"]
    tools = {s.attributes["tool_use_id"]: (i, s) for i, s in enumerate(plan) if s.span_type == "TOOL"}
    agent_index = tools["t3"][0]
    assert tools["t1"][1].parent == turns[0] and tools["t1"][1].error
    assert tools["s-t1"][1].parent == agent_index and tools["s-t2"][1].parent == agent_index
    assert [t for t, (_, s) in tools.items() if s.error] == ["t1", "s-t2"]
    assert (tools["t1"][1].start, tools["t1"][1].end) == (T0 + 4, T0 + 5)
    llm = [s for s in plan if s.span_type == "LLM"]
    assert len(llm) == 3  # m1, m2 (once), s1
    assert sum(s.attributes["mlflow.chat.tokenUsage"]["input_tokens"] for s in llm) == 270
    assert llm[0].outputs["text"] == "Looking."
    assert next(s for s in llm if s.name == "claude-haiku-4-5").parent == agent_index
    for spec in plan[1:]:
        parent = plan[spec.parent if spec.parent is not None else 0]
        assert spec.end is not None and parent.end is not None
        assert parent.start <= spec.start <= spec.end <= parent.end


def test_orphan_is_killed_unsuccessful_and_ends_at_its_last_activity(tmp_path: Path) -> None:
    events = session_events()[:6]
    record = SessionRecord.from_spool(make_spool(tmp_path, events, finished=False))
    assert record.orphan and record.status == "KILLED" and not record.success
    metrics = record.metrics()
    assert metrics["success"] == 0 and "exit_code" not in metrics
    assert record.end_time >= T0 + 5


def test_no_prompt_and_no_events_still_gives_a_record(tmp_path: Path) -> None:
    record = SessionRecord.from_spool(make_spool(tmp_path, [], command="bash", args=[]))
    assert record.stats_source == "none"
    cwd = record.meta["cwd"]
    assert record.run_name() == f"bash · {cwd}"  # not "(no prompt)": the program and where it ran
    assert record.metrics()["tool_uses"] == 0
    assert record.series() == []
    assert [s.name for s in record.span_plan()] == ["claude_session"]


def test_summary_stats_are_the_last_resort(tmp_path: Path) -> None:
    spool = make_spool(tmp_path, [], finished=False)
    stats = {"tool_uses": 7, "commands_executed": 4, "first_prompt": "hello"}
    spool.finish({"end_time": T0 + 10, "exit_code": 1, "stats": stats})
    record = SessionRecord.from_spool(spool)
    assert record.stats_source == "summary"
    assert record.metrics()["tool_uses"] == 7 and record.metrics()["success"] == 0
    assert record.run_name() == "hello"


def test_non_zero_exit_or_kill_is_not_success(tmp_path: Path) -> None:
    for summary, success in [
        ({"exit_code": 0, "killed": False, "signal": None}, True),
        ({"exit_code": 2, "killed": False, "signal": None}, False),
        ({"exit_code": 0, "killed": True, "signal": None}, False),
        ({"exit_code": None, "killed": False, "signal": 9}, False),
    ]:
        spool = make_spool(
            tmp_path / str(len(summary)) / str(success) / str(summary["signal"]), [], finished=False
        )
        spool.finish({"end_time": T0 + 1, **summary})
        assert SessionRecord.from_spool(spool).success is success, summary
        assert SessionRecord.from_spool(spool).metrics()["success"] == float(success), summary


def test_unknown_end_logs_no_success_metric(tmp_path: Path) -> None:
    # An imported transcript: no exit code, no signal, not killed. "Failed" would be a false claim.
    spool = make_spool(tmp_path, [], finished=False)
    spool.finish({"end_time": T0 + 1, "exit_code": None, "killed": False, "signal": None})
    metrics = SessionRecord.from_spool(spool).metrics()
    assert "success" not in metrics and "exit_code" not in metrics


@pytest.mark.parametrize("redact", [True, False])
def test_redaction_applies_to_tags_params_and_spans_unless_opted_out(tmp_path: Path, redact: bool) -> None:
    key = "sk-ant-api03-FAKEfakeFAKEfake0123456789abcdefghij"
    events: list[Event] = [
        UserPrompt(ts=T0 + 1, text=f"use {key}"),
        ToolCall(ts=T0 + 2, id="t", name="Bash", input={"command": f"echo {key}"}),
        ToolResult(ts=T0 + 3, id="t", preview=key),
    ]
    record = SessionRecord.from_spool(make_spool(tmp_path, events, redact=redact, args=[f"use {key}"]))
    text = repr([record.tags(), record.params(), [vars(s) for s in record.span_plan()]])
    assert (key in text) is not redact


# -- the CLI's own telemetry --------------------------------------------------------------------------------


def recorded_telemetry(name: str = "print") -> list[dict[str, Any]]:
    """The spool lines of a data set the real CLI exported (tests/data/otlp/)."""
    import json

    from claude_tui.parsing.otlp import decode_logs, decode_metrics, telemetry_to_dict

    data = json.loads((Path(__file__).resolve().parents[2] / "data" / "otlp" / f"{name}.json").read_text())
    lines = []
    for post in data["processes"][0]["posts"]:
        decode = decode_logs if post["route"] == "logs" else decode_metrics
        lines += [telemetry_to_dict(event) for event in decode(post["body"])]
    return lines


def test_the_cli_telemetry_in_the_spool_becomes_cli_metrics_and_a_tag(tmp_path: Path) -> None:
    spool = make_spool(tmp_path, session_events(), telemetry="cli")
    spool.append_telemetry(recorded_telemetry())
    record = SessionRecord.from_spool(spool)
    metrics = record.metrics()
    assert metrics["cli_cost_usd"] == pytest.approx(0.166712)  # the CLI's own cost-state figure
    assert (metrics["cli_input_tokens"], metrics["cli_output_tokens"]) == (39208, 494)
    assert (metrics["api_requests"], metrics["api_errors"]) == (8, 0)
    assert 0 < metrics["ttft_ms_p50"] <= metrics["ttft_ms_p95"]
    assert "ttft_ms_p50" in metrics and metrics["cli_cache_read_tokens"] == 0
    assert record.tags()["claude.telemetry"] == "received"
    # The transcript's own figures stay what they are, beside the CLI's.
    assert metrics["input_tokens"] == 270


def test_a_killed_session_logs_the_telemetry_its_spool_holds(tmp_path: Path) -> None:
    spool = make_spool(tmp_path, session_events(), finished=False, telemetry="cli")
    spool.append_telemetry(recorded_telemetry("subagent"))
    record = SessionRecord.from_spool(spool)
    assert record.orphan
    assert record.metrics()["cli_cost_usd"] == pytest.approx(0.097064)
    assert record.metrics()["api_requests"] == 6


def test_unreadable_telemetry_lines_are_skipped_and_the_summary_is_the_last_resort(tmp_path: Path) -> None:
    spool = RunSpool.create({"session_id": "s", "start_time": T0, "pid": 0, "telemetry": "cli"}, tmp_path)
    spool.telemetry_path.write_text('not json\n{"type": "span"}\n[1]\n')
    spool.finish({"end_time": T0 + 5, "exit_code": 0, "telemetry": {"cli_cost_usd": 0.5, "api_requests": 2}})
    spool.close()
    record = SessionRecord.from_spool(spool)
    assert (record.metrics()["cli_cost_usd"], record.metrics()["api_requests"]) == (0.5, 2)
    assert "api_errors" not in record.metrics()


@pytest.mark.parametrize(("mode", "tag"), [("cli", "missing"), ("user", "user exporter"), (None, None)])
def test_without_telemetry_the_tag_says_why(tmp_path: Path, mode: str | None, tag: str | None) -> None:
    record = SessionRecord.from_spool(make_spool(tmp_path, session_events(), telemetry=mode))
    assert record.tags().get("claude.telemetry") == tag
    assert not {"cli_cost_usd", "api_requests", "ttft_ms_p50"} & set(record.metrics())


def test_the_store_s_credentials_are_masked_wherever_a_session_shows_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "hunter2-team-pass")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok9f8e7d6c5b4a")
    spool = RunSpool.create(
        {"session_id": "s-cred", "cwd": str(tmp_path), "tags": {"note": "tok9f8e7d6c5b4a"}}, tmp_path
    )
    spool.close()
    record = SessionRecord.from_spool(spool)
    assert record.clean("env shows hunter2-team-pass and tok9f8e7d6c5b4a").count("hunter2") == 0
    assert "tok9f8e7d6c5b4a" not in json.dumps(record.tags())
