"""Claude Code's own OpenTelemetry as it exports it (OTLP/http-json): payloads in, typed events, totals out.

A tracked `claude` is told to export its telemetry to claude-tui's endpoint (`claude_code.telemetry_env`):
log records ("events") to `.../v1/logs` every second and metric points to `.../v1/metrics` every few
seconds, and both once more when it exits. This module reads those payloads; it knows nothing of HTTP.

- `decode_logs(body)` -> the events claude-tui uses: `CliApiRequest` (cost_usd, tokens, model, duration_ms,
  ttft_ms), `CliApiError`, `CliToolResult`, `CliToolDecision`, `CliUserPrompt`; any other event the CLI
  sends (`assistant_response`, `plugin_loaded`, `compaction`, ...) becomes a `CliOtherEvent` that keeps
  only its name (it is counted, never dropped in silence).
- `decode_metrics(body)` -> `MetricPoint`s of every metric (`cost.usage`, `token.usage`,
  `active_time.total`, `session.count`, ...), the `claude_code.` prefix taken off.
- `CliTelemetry` folds both into what a run logs (`to_dict()`: `cli_cost_usd`, `cli_input_tokens`,
  `cli_output_tokens`, `cli_cache_read_tokens`, `cli_cache_creation_tokens`, `api_requests`, `api_errors`,
  `ttft_ms_p50`, `ttft_ms_p95`) and a fuller `summary()`.
- `telemetry_to_dict` / `telemetry_from_dict`: the line format of a spool's `telemetry.jsonl`.
- `TelemetryIntake`: one session's receiving end: `logs(body)` / `metrics(body)` keep a posted payload (on
  the endpoint's thread, nothing more), `take()` decodes what came since and folds it into its `CliTelemetry`.

Measured on the pinned CLI 2.1.328 (payloads in `tests/data/otlp/`): every API request the CLI bills gives
one `api_request` event, side requests and `/compact`'s summary included (`query_source` says which), and
the events' `cost_usd` sum to the CLI's own `cost-state` total and to its `cost.usage` metric. Metrics come
as deltas (`aggregationTemporality` 1) unless the user's environment asks for cumulative ones (2); both are
read. Attribute values arrive typed or as strings (`"success": "true"`, `"duration_ms": "340"`); both are
read. Pure: stdlib only.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = [
    "METRIC_NAMES",
    "CliApiError",
    "CliApiRequest",
    "CliOtherEvent",
    "CliTelemetry",
    "CliToolDecision",
    "CliToolResult",
    "CliUserPrompt",
    "MetricPoint",
    "OtlpError",
    "TelemetryEvent",
    "TelemetryIntake",
    "decode_logs",
    "decode_metrics",
    "percentile",
    "telemetry_from_dict",
    "telemetry_to_dict",
]

PREFIX = "claude_code."
"""The CLI's event names (`claude_code.api_request`) and metric names (`claude_code.cost.usage`) start so."""

DELTA = 1
CUMULATIVE = 2
"""OTLP's `aggregationTemporality` values."""

TOKEN_TYPES = {
    "input": "input",
    "output": "output",
    "cacheRead": "cache_read",
    "cacheCreation": "cache_creation",
}
"""`token.usage`'s `type` attribute -> the token kind of `CliApiRequest`."""

METRIC_NAMES = (
    "cli_cost_usd",
    "cli_input_tokens",
    "cli_output_tokens",
    "cli_cache_read_tokens",
    "cli_cache_creation_tokens",
    "api_requests",
    "api_errors",
    "ttft_ms_p50",
    "ttft_ms_p95",
)
"""The keys of `CliTelemetry.to_dict()`, in order: what a run logs as metrics."""


class OtlpError(ValueError):
    """A payload is not OTLP/JSON (not JSON, or not an object); the message is one line."""


# -- the events --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class CliApiRequest:
    """One API request the CLI made and billed (`api_request`)."""

    ts: float | None = None
    session_id: str | None = None
    sequence: int | None = None
    """The event's `event.sequence`: its number in the process's stream of events."""
    model: str | None = None
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    duration_ms: float | None = None
    ttft_ms: float | None = None
    """Time to the first token of the reply."""
    request_id: str | None = None
    query_source: str | None = None
    """What the request was for: the conversation (`repl_main_thread`, `sdk`), `compact`, an agent, ..."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CliApiError:
    """An API request that failed for good, after the CLI's retries (`api_error`)."""

    ts: float | None = None
    session_id: str | None = None
    sequence: int | None = None
    model: str | None = None
    error: str = ""
    status_code: int | None = None
    attempt: int | None = None
    """The attempt that failed last (1 when it was not retried)."""
    duration_ms: float | None = None
    request_id: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CliToolResult:
    """A tool call finished (`tool_result`)."""

    ts: float | None = None
    session_id: str | None = None
    sequence: int | None = None
    tool_name: str = ""
    tool_use_id: str | None = None
    success: bool = True
    duration_ms: float | None = None
    error: str | None = None
    """Why it failed, as the CLI names it (`ShellError`, ...)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CliToolDecision:
    """The CLI decided whether a tool call may run (`tool_decision`): `accept` or `reject`, and why."""

    ts: float | None = None
    session_id: str | None = None
    sequence: int | None = None
    tool_name: str = ""
    tool_use_id: str | None = None
    decision: str = ""
    source: str | None = None
    """Who decided: `config` (allowed by the settings), `user_temporary`, `user_permanent`, ..."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CliUserPrompt:
    """A prompt reached the CLI (`user_prompt`); its text is not exported unless the user asked for it."""

    ts: float | None = None
    session_id: str | None = None
    sequence: int | None = None
    prompt_id: str | None = None
    prompt_length: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CliOtherEvent:
    """Another event of the CLI (`assistant_response`, `compaction`, `plugin_loaded`, ...): its name only."""

    ts: float | None = None
    session_id: str | None = None
    sequence: int | None = None
    name: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class MetricPoint:
    """One data point of a CLI metric (`name` without the `claude_code.` prefix, e.g. `cost.usage`)."""

    ts: float | None = None
    """The end of the point's interval."""
    name: str
    value: float
    attributes: dict[str, str] = field(default_factory=dict)
    """The point's own attributes (`type`, `model`, `query_source`, ...), not the common ones (`user.id`,
    `session.id`, ...), as strings."""
    start: float | None = None
    """The start of the point's interval."""
    cumulative: bool = False
    """True for a running total since `start`; False for a delta (the CLI's default)."""
    session_id: str | None = None

    @property
    def series(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The point's series: its name and attributes."""
        return self.name, tuple(sorted(self.attributes.items()))


TelemetryEvent = (
    CliApiRequest
    | CliApiError
    | CliToolResult
    | CliToolDecision
    | CliUserPrompt
    | CliOtherEvent
    | MetricPoint
)

_TYPES: dict[str, type[Any]] = {
    "api_request": CliApiRequest,
    "api_error": CliApiError,
    "tool_result": CliToolResult,
    "tool_decision": CliToolDecision,
    "user_prompt": CliUserPrompt,
    "other": CliOtherEvent,
    "metric": MetricPoint,
}
_TYPE_NAMES = {cls: name for name, cls in _TYPES.items()}
_FIELDS = {cls: tuple(f.name for f in fields(cls)) for cls in _TYPES.values()}

COMMON_ATTRIBUTES = frozenset(
    {
        "user.id",
        "session.id",
        "organization.id",
        "user.account_uuid",
        "user.email",
        "app.version",
        "terminal.type",
        "anthropic.provider",
        "anthropic.custom_base_url",
    }
)
"""Attributes the CLI puts on every event and point: the metric points keep none of them."""


# -- reading OTLP/JSON -------------------------------------------------------------------------------------


def _load(body: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        return body
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OtlpError(f"not OTLP/JSON: {str(exc).splitlines()[0][:200]}") from None
    if not isinstance(data, dict):
        raise OtlpError(f"not OTLP/JSON: a JSON {type(data).__name__}, not an object")
    return data


def _value(any_value: Any) -> Any:
    """An OTLP `AnyValue` as a Python value (int64s may come as strings, as OTLP/JSON allows)."""
    if not isinstance(any_value, dict):
        return None
    for key, value in any_value.items():
        if key == "stringValue" or key == "boolValue" or key == "bytesValue":
            return value
        if key == "intValue":
            return _int(value)
        if key == "doubleValue":
            return _float(value)
        if key == "arrayValue":
            return [_value(v) for v in (value or {}).get("values") or []]
        if key == "kvlistValue":
            return _attributes((value or {}).get("values"))
    return None


def _attributes(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    found: dict[str, Any] = {}
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            found[item["key"]] = _value(item.get("value"))
    return found


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> Iterable[dict[str, Any]]:
    return (item for item in _list(value) if isinstance(item, dict))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            number = _float(value)
            return int(number) if number is not None else None
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _bool(value: Any, default: bool = True) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
    if isinstance(value, int | float):
        return bool(value)
    return default


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _seconds(nanos: Any) -> float | None:
    number = _int(nanos)
    return number / 1e9 if number else None


def _cost(attributes: Mapping[str, Any]) -> float:
    """An `api_request`'s cost: `cost_usd_micros` when the CLI sent it (exact), else `cost_usd`."""
    micros = _int(attributes.get("cost_usd_micros"))
    if micros is not None:
        return micros / 1e6
    return _float(attributes.get("cost_usd")) or 0.0


def _event(attributes: Mapping[str, Any], name: str, ts: float | None) -> TelemetryEvent:
    a = attributes
    common: dict[str, Any] = {
        "ts": ts,
        "session_id": _str(a.get("session.id")),
        "sequence": _int(a.get("event.sequence")),
    }
    if name == "api_request":
        return CliApiRequest(
            **common,
            model=_str(a.get("model")),
            cost_usd=_cost(a),
            input_tokens=_int(a.get("input_tokens")) or 0,
            output_tokens=_int(a.get("output_tokens")) or 0,
            cache_read_tokens=_int(a.get("cache_read_tokens")) or 0,
            cache_creation_tokens=_int(a.get("cache_creation_tokens")) or 0,
            duration_ms=_float(a.get("duration_ms")),
            ttft_ms=_float(a.get("ttft_ms")),
            request_id=_str(a.get("request_id")),
            query_source=_str(a.get("query_source")),
        )
    if name == "api_error":
        return CliApiError(
            **common,
            model=_str(a.get("model")),
            error=_str(a.get("error")) or "",
            status_code=_int(a.get("status_code")),
            attempt=_int(a.get("attempt")),
            duration_ms=_float(a.get("duration_ms")),
            request_id=_str(a.get("request_id")),
        )
    if name == "tool_result":
        return CliToolResult(
            **common,
            tool_name=_str(a.get("tool_name")) or "",
            tool_use_id=_str(a.get("tool_use_id")),
            success=_bool(a.get("success")),
            duration_ms=_float(a.get("duration_ms")),
            error=_str(a.get("error_type") or a.get("error")),
        )
    if name == "tool_decision":
        return CliToolDecision(
            **common,
            tool_name=_str(a.get("tool_name")) or "",
            tool_use_id=_str(a.get("tool_use_id")),
            decision=_str(a.get("decision")) or "",
            source=_str(a.get("source")),
        )
    if name == "user_prompt":
        return CliUserPrompt(
            **common, prompt_id=_str(a.get("prompt.id")), prompt_length=_int(a.get("prompt_length"))
        )
    return CliOtherEvent(**common, name=name)


def decode_logs(body: bytes | str | Mapping[str, Any]) -> list[TelemetryEvent]:
    """The CLI's events in an OTLP/JSON logs payload (`ExportLogsServiceRequest`), in payload order.

    A record's event name is its `event.name` attribute, else its body with the `claude_code.` prefix taken
    off. Records without a name are left out; parts of an unexpected shape are skipped. Raises `OtlpError`
    when the payload is not a JSON object.
    """
    data = _load(body)
    events: list[TelemetryEvent] = []
    for resource_logs in _dicts(data.get("resourceLogs")):
        for scope_logs in _dicts(resource_logs.get("scopeLogs")):
            for record in _dicts(scope_logs.get("logRecords")):
                attributes = _attributes(record.get("attributes"))
                name = _str(attributes.get("event.name"))
                if not name:
                    body_value = _value(record.get("body"))
                    name = body_value.removeprefix(PREFIX) if isinstance(body_value, str) else None
                if not name:
                    continue
                ts = _seconds(record.get("timeUnixNano")) or _seconds(record.get("observedTimeUnixNano"))
                events.append(_event(attributes, name, ts))
    return events


def decode_metrics(body: bytes | str | Mapping[str, Any]) -> list[MetricPoint]:
    """The data points in an OTLP/JSON metrics payload (`ExportMetricsServiceRequest`).

    Sums and gauges give their value (`asDouble` or `asInt`); histograms their sum. Raises `OtlpError` when
    the payload is not a JSON object.
    """
    data = _load(body)
    points: list[MetricPoint] = []
    for resource_metrics in _dicts(data.get("resourceMetrics")):
        for scope_metrics in _dicts(resource_metrics.get("scopeMetrics")):
            for metric in _dicts(scope_metrics.get("metrics")):
                name = _str(metric.get("name"))
                if not name:
                    continue
                name = name.removeprefix(PREFIX)
                for kind in ("sum", "gauge", "histogram"):
                    data_points = metric.get(kind)
                    if isinstance(data_points, dict):
                        points += _points(name, kind, data_points)
    return points


def _points(name: str, kind: str, body: Mapping[str, Any]) -> list[MetricPoint]:
    temporality = body.get("aggregationTemporality")
    cumulative = kind != "gauge" and (
        temporality == CUMULATIVE or temporality == "AGGREGATION_TEMPORALITY_CUMULATIVE"
    )
    points: list[MetricPoint] = []
    for point in _dicts(body.get("dataPoints")):
        if kind == "histogram":
            value = _float(point.get("sum"))
        else:
            value = _float(point["asDouble"]) if "asDouble" in point else _float(point.get("asInt"))
        if value is None:
            continue
        attributes = _attributes(point.get("attributes"))
        points.append(
            MetricPoint(
                ts=_seconds(point.get("timeUnixNano")),
                name=name,
                value=value,
                attributes={
                    key: "" if v is None else str(v)
                    for key, v in attributes.items()
                    if key not in COMMON_ATTRIBUTES
                },
                start=_seconds(point.get("startTimeUnixNano")),
                cumulative=cumulative,
                session_id=_str(attributes.get("session.id")),
            )
        )
    return points


# -- the spool's line format -------------------------------------------------------------------------------


def telemetry_to_dict(event: TelemetryEvent) -> dict[str, Any]:
    """`{"type": "api_request", "ts": ..., ...fields}`: one line of a spool's `telemetry.jsonl`."""
    out: dict[str, Any] = {"type": _TYPE_NAMES[type(event)]}
    for name in _FIELDS[type(event)]:
        out[name] = getattr(event, name)
    return out


def telemetry_from_dict(data: Mapping[str, Any]) -> TelemetryEvent:
    """The event `telemetry_to_dict` gave; unknown fields are ignored. `ValueError` for an unknown type or a
    value of the wrong kind."""
    cls = _TYPES.get(str(data.get("type")))
    if cls is None:
        raise ValueError(f"unknown telemetry event type {data.get('type')!r}")
    values = {name: data[name] for name in _FIELDS[cls] if name in data}
    try:
        event: TelemetryEvent = cls(**values)
    except TypeError as exc:
        raise ValueError(f"bad {data.get('type')} event: {exc}") from None
    if isinstance(event, MetricPoint) and not (
        isinstance(event.value, int | float) and isinstance(event.attributes, dict)
    ):
        raise ValueError("bad metric event: value must be a number and attributes an object")
    return event


# -- the totals --------------------------------------------------------------------------------------------


def percentile(values: Iterable[float], pct: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least `pct` % of the values at or below it
    (an observed value, never an interpolation); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class CliTelemetry:
    """The CLI's own accounting of one tracked process, folded from its telemetry events and metric points.

    Both sources count the same requests: the events' sums are up to date to the last logs export (every
    second), the metrics' to the last metrics export (every few seconds), and both are exported once more at
    exit. So each total is the larger of the two: the one that has seen more (each only ever grows). An
    event or a point that comes twice (an exporter's retry) counts once.

    A `claude` that the session's own commands start (`claude -p` in a Bash call) inherits the environment,
    so its telemetry comes here too: `session_ids` then lists its conversation beside the session's.
    """

    def __init__(self) -> None:
        self.events = 0
        """Events and points folded (not counting repeats)."""
        self.requests: list[CliApiRequest] = []
        self.errors: list[CliApiError] = []
        self.tool_results = 0
        self.tool_failures = 0
        self.tool_decisions: dict[str, int] = {}
        """Decisions by kind (`accept`, `reject`)."""
        self.user_prompts = 0
        self.other_events: dict[str, int] = {}
        """The CLI's other events, by name."""
        self.session_ids: list[str] = []
        """The conversations the events came from, in order of first appearance."""
        self._seen: set[tuple[Any, ...]] = set()
        self._delta: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._cumulative: dict[tuple[Any, ...], tuple[float, float]] = {}

    # -- folding --------------------------------------------------------------------------------------------

    def apply(self, event: TelemetryEvent) -> None:
        """Fold one event or metric point."""
        key = self._identity(event)
        if key is not None:
            if key in self._seen:
                return
            self._seen.add(key)
        self.events += 1
        if event.session_id and event.session_id not in self.session_ids:
            self.session_ids.append(event.session_id)
        if isinstance(event, MetricPoint):
            self._apply_point(event)
        elif isinstance(event, CliApiRequest):
            self.requests.append(event)
        elif isinstance(event, CliApiError):
            self.errors.append(event)
        elif isinstance(event, CliToolResult):
            self.tool_results += 1
            self.tool_failures += not event.success
        elif isinstance(event, CliToolDecision):
            self.tool_decisions[event.decision] = self.tool_decisions.get(event.decision, 0) + 1
        elif isinstance(event, CliUserPrompt):
            self.user_prompts += 1
        else:
            self.other_events[event.name] = self.other_events.get(event.name, 0) + 1

    def apply_all(self, events: Iterable[TelemetryEvent]) -> None:
        """Fold several events and points in order."""
        for event in events:
            self.apply(event)

    @staticmethod
    def _identity(event: TelemetryEvent) -> tuple[Any, ...] | None:
        if isinstance(event, MetricPoint):
            return ("metric", event.series, event.start, event.ts, event.cumulative)
        if event.sequence is None:
            return None
        # The sequence numbers a process's events; the time tells a resumed conversation's next process apart.
        return (type(event).__name__, event.session_id, event.sequence, event.ts)

    def _apply_point(self, point: MetricPoint) -> None:
        if point.cumulative:
            key = (*point.series, point.start)
            ts = point.ts or 0.0
            previous = self._cumulative.get(key)
            if previous is None or ts >= previous[0]:
                self._cumulative[key] = (ts, point.value)
        else:
            self._delta[point.series] = self._delta.get(point.series, 0.0) + point.value

    # -- reading --------------------------------------------------------------------------------------------

    @property
    def received(self) -> bool:
        """Whether anything arrived at all."""
        return self.events > 0

    def metric_total(self, name: str, **attributes: str) -> float | None:
        """The sum of metric `name` over its series whose attributes include `attributes`; None when no point
        of it arrived."""
        wanted = set(attributes.items())
        total = 0.0
        found = False
        for (series_name, series_attributes), value in self._delta.items():
            if series_name == name and wanted <= set(series_attributes):
                total += value
                found = True
        for (series_name, series_attributes, _start), (_ts, value) in self._cumulative.items():
            if series_name == name and wanted <= set(series_attributes):
                total += value
                found = True
        return total if found else None

    @property
    def has_cost(self) -> bool:
        """Whether the CLI has reported what the session cost (a request, or its cost metric)."""
        return bool(self.requests) or self.metric_total("cost.usage") is not None

    @property
    def cost_usd(self) -> float:
        """The CLI's own cost of the session in USD (micro-dollar precision)."""
        events = sum(round(r.cost_usd * 1e6) for r in self.requests) / 1e6
        return round(max(events, self.metric_total("cost.usage") or 0.0), 6)

    def tokens(self, kind: str) -> int:
        """Tokens of one kind (`input`, `output`, `cache_read`, `cache_creation`) the CLI counted."""
        field_name = f"{kind}_tokens"
        events: int = sum(getattr(r, field_name) for r in self.requests)
        metric_type = next(t for t, k in TOKEN_TYPES.items() if k == kind)
        metric = self.metric_total("token.usage", type=metric_type) or 0.0
        return max(events, round(metric))

    def active_seconds(self, kind: str | None = None) -> float | None:
        """`active_time.total` (seconds the CLI was busy, `cli`, or the person was typing, `user`)."""
        return self.metric_total("active_time.total", **({"type": kind} if kind else {}))

    def to_dict(self) -> dict[str, float | int | None]:
        """The run's metrics from the telemetry (`METRIC_NAMES`); empty when nothing arrived."""
        if not self.received:
            return {}
        ttft = [r.ttft_ms for r in self.requests if r.ttft_ms is not None]
        values: dict[str, float | int | None] = {
            "cli_cost_usd": self.cost_usd,
            "cli_input_tokens": self.tokens("input"),
            "cli_output_tokens": self.tokens("output"),
            "cli_cache_read_tokens": self.tokens("cache_read"),
            "cli_cache_creation_tokens": self.tokens("cache_creation"),
            "api_requests": len(self.requests),
            "api_errors": len(self.errors),
            "ttft_ms_p50": percentile(ttft, 50),
            "ttft_ms_p95": percentile(ttft, 95),
        }
        return values

    def summary(self) -> dict[str, Any]:
        """Everything the telemetry said, for `summary.json`: the metrics, and what they come from."""
        by_model: dict[str, dict[str, float | int]] = {}
        for request in self.requests:
            model = by_model.setdefault(request.model or "(unknown)", {"requests": 0, "cost_usd": 0.0})
            model["requests"] = int(model["requests"]) + 1
            model["cost_usd"] = round(float(model["cost_usd"]) + request.cost_usd, 6)
        by_source: dict[str, int] = {}
        for request in self.requests:
            source = request.query_source or "(unknown)"
            by_source[source] = by_source.get(source, 0) + 1
        return {
            **self.to_dict(),
            "events": self.events,
            "session_ids": list(self.session_ids),
            "requests_by_model": by_model,
            "requests_by_source": dict(sorted(by_source.items())),
            "metric_cost_usd": self.metric_total("cost.usage"),
            "active_seconds_cli": self.active_seconds("cli"),
            "active_seconds_user": self.active_seconds("user"),
            "tool_results": self.tool_results,
            "tool_failures": self.tool_failures,
            "tool_decisions": dict(sorted(self.tool_decisions.items())),
            "user_prompts": self.user_prompts,
            "errors": [e.error[:200] for e in self.errors[-20:]],
            "other_events": dict(sorted(self.other_events.items())),
        }


# -- the receiving end ---------------------------------------------------------------------------------------

LOGS_ROUTE = "v1/logs"
METRICS_ROUTE = "v1/metrics"
"""Where an OTLP/http exporter posts, below the base URL it is given (`OTEL_EXPORTER_OTLP_ENDPOINT`)."""


class TelemetryIntake:
    """One session's telemetry as it is posted: kept on arrival, decoded and folded when `take()` is called.

    `logs` and `metrics` are the handlers of the session's `<otlp>/v1/logs` and `<otlp>/v1/metrics` routes:
    they run on the endpoint's thread and only append (a deque is safe across threads), so the CLI's export
    is answered at once. `take()` runs in the session's poll: it decodes the payloads that came since the last
    call, folds them into `telemetry`, and returns the new events and points (for the spool). A payload that
    is not OTLP/JSON is counted in `rejected` (its error in `last_error`) and lost alone.
    """

    def __init__(self) -> None:
        self.telemetry = CliTelemetry()
        self.payloads = 0
        """Payloads taken so far."""
        self.rejected = 0
        self.last_error: str | None = None
        self._posted: deque[tuple[str, bytes]] = deque()

    def logs(self, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        """Keep a logs payload (the handler of `v1/logs`; answers 200 with no body)."""
        self._posted.append((LOGS_ROUTE, body))

    def metrics(self, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        """Keep a metrics payload (the handler of `v1/metrics`)."""
        self._posted.append((METRICS_ROUTE, body))

    @property
    def pending(self) -> bool:
        """Whether payloads wait for `take()`."""
        return bool(self._posted)

    def take(self) -> list[TelemetryEvent]:
        """Decode and fold what was posted since the last call: the new events and points, as they came."""
        taken: list[TelemetryEvent] = []
        while self._posted:
            route, body = self._posted.popleft()
            self.payloads += 1
            try:
                decoded: list[TelemetryEvent] = []
                decoded += decode_logs(body) if route == LOGS_ROUTE else decode_metrics(body)
            except OtlpError as exc:
                self.rejected += 1
                self.last_error = str(exc)
                continue
            for event in decoded:
                before = self.telemetry.events
                self.telemetry.apply(event)
                if self.telemetry.events > before:  # not a repeat
                    taken.append(event)
        return taken
