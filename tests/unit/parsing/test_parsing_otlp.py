"""The CLI's own OpenTelemetry (`claude_tui.parsing.otlp`): payloads recorded from the pinned CLI, and
hand-made ones for the shapes OTLP/JSON allows that the CLI happened not to send."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claude_tui.parsing.otlp import (
    METRIC_NAMES,
    CliApiError,
    CliApiRequest,
    CliOtherEvent,
    CliTelemetry,
    CliToolDecision,
    CliToolResult,
    CliUserPrompt,
    MetricPoint,
    OtlpError,
    TelemetryIntake,
    decode_logs,
    decode_metrics,
    percentile,
    telemetry_from_dict,
    telemetry_to_dict,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "otlp"
RECORDED = sorted(path.stem for path in DATA.glob("*.json"))


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


def decoded(post: dict[str, Any]) -> list[Any]:
    return decode_logs(post["body"]) if post["route"] == "logs" else decode_metrics(post["body"])


def folded(name: str) -> CliTelemetry:
    telemetry = CliTelemetry()
    for process in recorded(name)["processes"]:
        for post in process["posts"]:
            telemetry.apply_all(decoded(post))
    return telemetry


def cost_state_totals(name: str) -> dict[str, float]:
    """What the CLI's own `cost-state` records say, summed over the conversations of the data set (the last
    process's view: a resumed conversation's record carries the earlier processes' part too)."""
    states = recorded(name)["processes"][-1]["cost_state"]
    totals = {"cost": 0.0, "input": 0, "output": 0, "cache_read": 0, "cache_creation": 0}
    for state in states.values():
        totals["cost"] += state["totalCostUSD"]
        for usage in state["modelUsage"].values():
            totals["input"] += usage["inputTokens"]
            totals["output"] += usage["outputTokens"]
            totals["cache_read"] += usage["cacheReadInputTokens"]
            totals["cache_creation"] += usage["cacheCreationInputTokens"]
    return totals


def test_every_data_set_is_recorded() -> None:
    assert RECORDED == ["api_errors", "cumulative", "interactive", "print", "subagent"]
    for name in RECORDED:
        assert recorded(name)["cli_version"] == "2.1.328"


@pytest.mark.parametrize("name", RECORDED)
def test_the_cli_totals_equal_its_own_cost_state(name: str) -> None:
    telemetry = folded(name)
    expected = cost_state_totals(name)
    metrics = telemetry.to_dict()
    assert list(metrics) == list(METRIC_NAMES)
    assert metrics["cli_cost_usd"] == pytest.approx(expected["cost"], abs=1e-9)
    assert metrics["cli_input_tokens"] == expected["input"]
    assert metrics["cli_output_tokens"] == expected["output"]
    assert metrics["cli_cache_read_tokens"] == expected["cache_read"]
    assert metrics["cli_cache_creation_tokens"] == expected["cache_creation"]


@pytest.mark.parametrize("name", RECORDED)
def test_events_and_metrics_say_the_same(name: str) -> None:
    """The two sources `CliTelemetry` takes the larger of agree once the CLI has exited."""
    telemetry = folded(name)
    events_cost = sum(r.cost_usd for r in telemetry.requests)
    assert (telemetry.metric_total("cost.usage") or 0.0) == pytest.approx(events_cost, abs=1e-9)
    for kind, metric_type in (("input", "input"), ("output", "output"), ("cache_read", "cacheRead")):
        events = sum(getattr(r, f"{kind}_tokens") for r in telemetry.requests)
        assert round(telemetry.metric_total("token.usage", type=metric_type) or 0) == events


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "print",
            {"api_requests": 8, "api_errors": 0, "tool_results": 7, "tool_failures": 1, "user_prompts": 1},
        ),
        (
            "subagent",
            {"api_requests": 6, "api_errors": 0, "tool_results": 4, "tool_failures": 1, "user_prompts": 1},
        ),
        (
            "interactive",
            {"api_requests": 12, "api_errors": 0, "tool_results": 7, "tool_failures": 1, "user_prompts": 6},
        ),
        (
            "api_errors",
            {"api_requests": 1, "api_errors": 2, "tool_results": 1, "tool_failures": 0, "user_prompts": 2},
        ),
        (
            "cumulative",
            {"api_requests": 7, "api_errors": 0, "tool_results": 6, "tool_failures": 5, "user_prompts": 1},
        ),
    ],
)
def test_counts_of_the_recorded_sessions(name: str, expected: dict[str, int]) -> None:
    summary = folded(name).summary()
    assert {key: summary[key] for key in expected} == expected


def test_what_the_requests_were_for() -> None:
    assert folded("interactive").summary()["requests_by_source"] == {"compact": 2, "repl_main_thread": 10}
    assert folded("subagent").summary()["requests_by_source"] == {
        "agent:builtin:general-purpose": 4,
        "sdk": 2,
    }
    interactive = folded("interactive")
    assert len(interactive.session_ids) == 2  # /clear started a second conversation in the same process
    assert interactive.other_events["compaction"] == 1


def test_api_errors_as_the_cli_reports_them() -> None:
    errors = folded("api_errors").errors
    assert [(e.status_code, e.attempt, e.error) for e in errors] == [
        (400, 1, "scripted failure"),
        # A 529 is retried (CLAUDE_CODE_MAX_RETRIES=1): one event, for the attempt that failed last.
        (529, 2, "Overloaded"),
    ]
    assert all(e.model == "claude-opus-5-5" and e.session_id for e in errors)


def test_cumulative_metrics_are_read_as_running_totals() -> None:
    """The user's environment may ask for cumulative metrics: their points repeat the total, so summing them
    (right for deltas) would count the session several times over."""
    points = [
        point
        for post in recorded("cumulative")["processes"][0]["posts"]
        if post["route"] == "metrics"
        for point in decode_metrics(post["body"])
        if point.name == "cost.usage"
    ]
    assert len(points) >= 3 and all(point.cumulative for point in points)
    assert sum(point.value for point in points) > 2 * cost_state_totals("cumulative")["cost"]
    assert folded("cumulative").metric_total("cost.usage") == pytest.approx(
        cost_state_totals("cumulative")["cost"]
    )


def test_the_interactive_cli_sends_deltas_as_it_goes() -> None:
    posts = recorded("interactive")["processes"][0]["posts"]
    metric_posts = [post for post in posts if post["route"] == "metrics"]
    assert len(metric_posts) >= 3
    points = [point for post in metric_posts for point in decode_metrics(post["body"])]
    assert not any(point.cumulative for point in points)
    costs = [point.value for point in points if point.name == "cost.usage"]
    assert len(costs) >= 2 and sum(costs) == pytest.approx(cost_state_totals("interactive")["cost"])


def test_a_recorded_api_request_in_full() -> None:
    first = next(
        event
        for post in recorded("print")["processes"][0]["posts"]
        if post["route"] == "logs"
        for event in decode_logs(post["body"])
        if isinstance(event, CliApiRequest)
    )
    assert first.model == "claude-opus-5-5"
    assert first.query_source == "sdk"
    assert first.input_tokens > 4000 and first.output_tokens > 0
    assert first.cost_usd == pytest.approx((first.input_tokens * 4 + first.output_tokens * 20) / 1e6)
    assert first.duration_ms is not None and first.ttft_ms is not None and first.ttft_ms <= first.duration_ms
    assert first.request_id and first.request_id.startswith("req_")
    assert first.ts is not None and first.ts > 1.7e9
    assert first.session_id == next(iter(recorded("print")["processes"][0]["cost_state"]))


@pytest.mark.parametrize("name", RECORDED)
def test_every_recorded_event_round_trips_through_the_spool_format(name: str) -> None:
    for process in recorded(name)["processes"]:
        for post in process["posts"]:
            for event in decoded(post):
                line = json.loads(json.dumps(telemetry_to_dict(event)))
                assert telemetry_from_dict(line) == event


# -- hand-made payloads ------------------------------------------------------------------------------------


def attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": value}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def logs(*records: dict[str, Any]) -> dict[str, Any]:
    return {"resourceLogs": [{"resource": {}, "scopeLogs": [{"scope": {}, "logRecords": list(records)}]}]}


def record(name: str | None, ts_ns: int = 1_800_000_000_000_000_000, **attributes: Any) -> dict[str, Any]:
    items = [attr("session.id", "s1"), *(attr(k.replace("__", "."), v) for k, v in attributes.items())]
    if name is not None:
        items.append(attr("event.name", name))
    return {"timeUnixNano": str(ts_ns), "body": {"stringValue": f"claude_code.{name}"}, "attributes": items}


def metrics(name: str, kind: str, points: list[dict[str, Any]], temporality: Any = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"dataPoints": points}
    if kind != "gauge":
        body["aggregationTemporality"] = temporality
    metric = {"name": f"claude_code.{name}", kind: body}
    return {"resourceMetrics": [{"scopeMetrics": [{"metrics": [metric]}]}]}


def point(
    value: Any, start: int = 1, end: int = 2, key: str = "asDouble", **attributes: Any
) -> dict[str, Any]:
    return {
        "attributes": [
            attr("session.id", "s1"),
            attr("user.id", "u"),
            *(attr(k, v) for k, v in attributes.items()),
        ],
        "startTimeUnixNano": str(start * 1_000_000_000),
        "timeUnixNano": str(end * 1_000_000_000),
        key: value,
    }


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            logs(
                record(
                    "api_request", model="m", cost_usd=0.5, input_tokens="10", output_tokens=2, ttft_ms="7"
                )
            ),
            CliApiRequest(
                ts=1.8e9,
                session_id="s1",
                model="m",
                cost_usd=0.5,
                input_tokens=10,
                output_tokens=2,
                ttft_ms=7.0,
            ),
        ),
        (  # the exact micro-dollars win over the float
            logs(record("api_request", cost_usd=0.018799999999999997, cost_usd_micros=18800)),
            CliApiRequest(ts=1.8e9, session_id="s1", cost_usd=0.0188),
        ),
        (
            logs(
                record(
                    "tool_result",
                    tool_name="Bash",
                    success="false",
                    duration_ms="57",
                    error_type="ShellError",
                )
            ),
            CliToolResult(
                ts=1.8e9,
                session_id="s1",
                tool_name="Bash",
                success=False,
                duration_ms=57.0,
                error="ShellError",
            ),
        ),
        (
            logs(record("tool_decision", tool_name="Edit", decision="reject", source="user_temporary")),
            CliToolDecision(
                ts=1.8e9, session_id="s1", tool_name="Edit", decision="reject", source="user_temporary"
            ),
        ),
        (
            logs(record("api_error", error="boom", status_code="500", attempt=3, event__sequence="12")),
            CliApiError(ts=1.8e9, session_id="s1", sequence=12, error="boom", status_code=500, attempt=3),
        ),
        (
            logs(record("user_prompt", prompt__id="p1", prompt_length="64", prompt="<REDACTED>")),
            CliUserPrompt(ts=1.8e9, session_id="s1", prompt_id="p1", prompt_length=64),
        ),
        (
            logs(record("mcp_server_connection")),
            CliOtherEvent(ts=1.8e9, session_id="s1", name="mcp_server_connection"),
        ),
        (  # no event.name attribute: the body names the event
            logs({**record(None), "body": {"stringValue": "claude_code.api_request"}}),
            CliApiRequest(ts=1.8e9, session_id="s1"),
        ),
    ],
)
def test_log_records(payload: dict[str, Any], expected: Any) -> None:
    assert decode_logs(json.dumps(payload).encode()) == [expected]


def test_records_without_a_name_and_odd_shapes_are_skipped() -> None:
    payload = {
        "resourceLogs": [
            {
                "scopeLogs": [
                    {"logRecords": [{"attributes": [attr("x", 1)]}, "not a record", {"attributes": "no"}]}
                ]
            },
            {"scopeLogs": "not a list"},
            "not an object",
        ]
    }
    assert decode_logs(payload) == []
    assert decode_logs(b"{}") == [] and decode_metrics(b"{}") == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not OTLP/JSON"),
        (b"\x0a\x04\x12\x02", "not OTLP/JSON"),  # protobuf: the exporter's protocol is not http/json
        (b"[1, 2]", "a JSON list, not an object"),
        (b'"text"', "a JSON str, not an object"),
    ],
)
def test_what_is_not_otlp_json_is_one_line(body: bytes, message: str) -> None:
    for decode in (decode_logs, decode_metrics):
        with pytest.raises(OtlpError, match=message) as caught:
            decode(body)
        assert "\n" not in str(caught.value)


def test_metric_points_of_every_kind() -> None:
    sums = decode_metrics(metrics("token.usage", "sum", [point(5, key="asInt", type="input", model="m")]))
    assert sums == [
        MetricPoint(
            ts=2.0,
            name="token.usage",
            value=5.0,
            attributes={"type": "input", "model": "m"},
            start=1.0,
            session_id="s1",
        )
    ]
    assert decode_metrics(metrics("x", "sum", [point("7", key="asInt")], temporality=2))[0].cumulative
    assert decode_metrics(metrics("x", "sum", [point(1)], temporality="AGGREGATION_TEMPORALITY_CUMULATIVE"))[
        0
    ].cumulative
    assert not decode_metrics(metrics("x", "gauge", [point(3.5)]))[0].cumulative
    histogram = decode_metrics(metrics("x", "histogram", [{**point(0), "sum": 12.5, "count": "3"}]))
    assert [p.value for p in histogram] == [12.5]
    assert decode_metrics(metrics("x", "sum", [point("not a number"), point(None)])) == []


def test_deltas_add_up_and_cumulative_points_replace_each_other() -> None:
    telemetry = CliTelemetry()
    telemetry.apply_all(decode_metrics(metrics("cost.usage", "sum", [point(0.25, 1, 2), point(0.5, 2, 3)])))
    telemetry.apply_all(
        decode_metrics(metrics("cost.usage", "sum", [point(1.0, 10, 11), point(1.5, 10, 12)], temporality=2))
    )
    assert telemetry.metric_total("cost.usage") == pytest.approx(0.75 + 1.5)
    telemetry.apply_all(decode_metrics(metrics("cost.usage", "sum", [point(1.0, 10, 11)], temporality=2)))
    assert telemetry.metric_total("cost.usage") == pytest.approx(0.75 + 1.5)  # an older point changes nothing
    assert telemetry.metric_total("token.usage") is None


def test_a_payload_that_comes_twice_counts_once() -> None:
    payload = logs(
        record("api_request", cost_usd=0.25, input_tokens=100, event__sequence=1),
        record("api_request", cost_usd=0.5, input_tokens=50, event__sequence=2),
    )
    telemetry = CliTelemetry()
    for _ in range(2):
        telemetry.apply_all(decode_logs(payload))
        telemetry.apply_all(decode_metrics(metrics("cost.usage", "sum", [point(0.75)])))
    assert (telemetry.cost_usd, telemetry.tokens("input"), len(telemetry.requests)) == (0.75, 150, 2)


def test_the_larger_source_wins_while_the_other_lags() -> None:
    """Events come every second, metrics every few: whichever has seen more requests is the total so far."""
    telemetry = CliTelemetry()
    telemetry.apply_all(decode_metrics(metrics("cost.usage", "sum", [point(0.25)])))
    telemetry.apply_all(decode_metrics(metrics("token.usage", "sum", [point(100, type="input")])))
    assert (telemetry.cost_usd, telemetry.tokens("input"), telemetry.has_cost) == (0.25, 100, True)
    telemetry.apply_all(
        decode_logs(logs(record("api_request", cost_usd=0.25, input_tokens=100, event__sequence=1)))
    )
    telemetry.apply_all(
        decode_logs(logs(record("api_request", cost_usd=0.5, input_tokens=60, event__sequence=2)))
    )
    assert (telemetry.cost_usd, telemetry.tokens("input")) == (0.75, 160)
    assert telemetry.to_dict()["api_requests"] == 2


def test_nothing_received_gives_no_metrics() -> None:
    telemetry = CliTelemetry()
    assert (telemetry.received, telemetry.has_cost, telemetry.to_dict()) == (False, False, {})
    telemetry.apply_all(decode_logs(logs(record("plugin_loaded"))))
    assert telemetry.received and not telemetry.has_cost
    assert telemetry.to_dict() == {
        "cli_cost_usd": 0.0,
        "cli_input_tokens": 0,
        "cli_output_tokens": 0,
        "cli_cache_read_tokens": 0,
        "cli_cache_creation_tokens": 0,
        "api_requests": 0,
        "api_errors": 0,
        "ttft_ms_p50": None,
        "ttft_ms_p95": None,
    }


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [
        ([], 50, None),
        ([7.0], 50, 7.0),
        ([7.0], 95, 7.0),
        ([3.0, 1.0, 2.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        (list(range(1, 21)), 95, 19),
        (list(range(1, 21)), 100, 20),
        (list(range(1, 101)), 95, 95),
    ],
)
def test_percentiles_are_nearest_rank(values: list[float], pct: float, expected: float | None) -> None:
    assert percentile(values, pct) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"type": "span"}, "unknown telemetry event type"),
        ({"type": "metric", "name": "x"}, "bad metric event"),
        ({"type": "metric", "name": "x", "value": "1", "attributes": {}}, "value must be a number"),
        ({"type": "api_request", "bogus": 1, "ts": 1.0}, None),
    ],
)
def test_spool_lines_that_cannot_be_read(line: dict[str, Any], message: str | None) -> None:
    if message is None:
        assert telemetry_from_dict(line) == CliApiRequest(ts=1.0)
        return
    with pytest.raises(ValueError, match=message):
        telemetry_from_dict(line)


# -- the receiving end --------------------------------------------------------------------------------------


def test_the_intake_keeps_payloads_as_posted_and_folds_them_on_take() -> None:
    """The recorded payloads posted from several threads at once (the endpoint serves each request on its
    own), taken in between: nothing lost, nothing counted twice."""
    import threading

    posts = [post for process in recorded("interactive")["processes"] for post in process["posts"]]
    intake = TelemetryIntake()
    taken: list[Any] = []

    def post(items: list[dict[str, Any]]) -> None:
        for item in items:
            handler = intake.logs if item["route"] == "logs" else intake.metrics
            assert handler(json.dumps(item["body"]).encode(), {}) is None  # 200, no body

    threads = [threading.Thread(target=post, args=(posts[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        taken += intake.take()
    for thread in threads:
        thread.join()
    taken += intake.take()
    assert not intake.pending and intake.payloads == len(posts) and intake.rejected == 0
    assert intake.telemetry.to_dict() == folded("interactive").to_dict()
    assert len(taken) == intake.telemetry.events
    # Posted again (an exporter's retry): nothing new.
    post(posts)
    assert intake.take() == [] and intake.telemetry.to_dict() == folded("interactive").to_dict()


def test_a_payload_that_is_not_otlp_json_is_counted_and_lost_alone() -> None:
    intake = TelemetryIntake()
    intake.metrics(b"\x0a\x03abc")  # an exporter configured for http/protobuf
    intake.logs(json.dumps(logs(record("api_request", cost_usd=0.5, event__sequence=1))).encode())
    events = intake.take()
    assert [type(e) for e in events] == [CliApiRequest]
    assert (intake.rejected, intake.telemetry.cost_usd) == (1, 0.5)
    assert intake.last_error is not None and intake.last_error.startswith("not OTLP/JSON")
