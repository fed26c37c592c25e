"""The MLflow schema (`tracking/schema.py`): the seed's promises verbatim, its stat names from parsing, and
no tag or metric name spelled out anywhere else in the package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from claude_tui.parsing import SessionStats
from claude_tui.tracking import schema

PACKAGE = Path(schema.__file__).resolve().parent.parent


def test_the_seed_searches_work_verbatim() -> None:
    """What the `claude-with-tracking` wrapper promised (/work/shared/seed/), spelled the same."""
    assert schema.SESSION_FILTER == 'tags.type = "claude_session"'
    assert schema.search_metric(schema.ERRORS_ENCOUNTERED) == "metrics.errors_encountered"
    assert schema.search_metric(schema.SUCCESS) == "metrics.success"
    assert schema.search_metric(schema.COMMANDS_EXECUTED) == "metrics.commands_executed"
    assert schema.search_metric(schema.DURATION_SECONDS) == "metrics.duration_seconds"
    assert schema.search_param(schema.PARAM_ISSUE) == "params.issue_number"
    assert schema.search_param(schema.PARAM_PROCEDURE) == "params.procedure_name"


def test_stat_metrics_are_the_numeric_stats_of_parsing() -> None:
    stats = SessionStats().to_dict()
    assert set(schema.STAT_METRICS) <= set(stats)
    for key, value in stats.items():
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if key in schema.STAT_METRICS:
            assert numeric or value is None, key  # None: a cost the price table cannot give
        elif numeric and key not in schema.NOT_METRICS:
            pytest.fail(f"stat {key!r} is neither logged nor listed in schema.NOT_METRICS")
    assert set(schema.SERIES_KEYS) <= set(schema.STAT_METRICS)
    assert not set(schema.OUTCOME_METRICS) & set(schema.STAT_METRICS)


def test_telemetry_metrics_are_the_cli_totals_of_parsing() -> None:
    from claude_tui.parsing.otlp import CliTelemetry, decode_logs

    telemetry = CliTelemetry()
    telemetry.apply_all(
        decode_logs({"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": "x"}}]}]}]})
    )
    assert tuple(telemetry.to_dict()) == schema.TELEMETRY_METRICS
    assert schema.CLI_COST_USD == "cli_cost_usd" and schema.API_ERRORS == "api_errors"
    logged = {*schema.STAT_METRICS, *schema.OUTCOME_METRICS}
    assert not set(schema.TELEMETRY_METRICS) & logged
    assert schema.TAG_TELEMETRY in schema.TAGS


@pytest.mark.parametrize(
    ("tool", "metric"),
    [("Bash", "tool_uses.Bash"), ("mcp__github__create_pr", "tool_uses.mcp__github__create_pr"),
     ("weird:tool*name", "tool_uses.weird_tool_name"), ("", "tool_uses._")],
)  # fmt: skip
def test_tool_metric(tool: str, metric: str) -> None:
    assert schema.tool_metric(tool) == metric


def test_session_filter_quotes_the_dotted_key_and_the_value() -> None:
    assert schema.session_filter("abc") == "tags.`claude.session_id` = 'abc'"
    assert schema.session_filter("a'b") == "tags.`claude.session_id` = 'a\\'b'"


# -- no name literal outside the schema ------------------------------------------------------------------

SEARCH_PREFIX = re.compile(r"^(tags|metrics|params)\.[\w`]")
"""A search-syntax name (`metrics.success`), not a bare prefix (`metrics.` naming a group of columns)."""
DOTTED_TAGS = {name for name in schema.TAGS if "." in name} | {schema.SESSION_TYPE}
"""Tag names (and the session marker) no other code has any reason to spell out."""
READERS = ("history",)
"""Packages that only read runs: there, no metric or param name may be spelled out either (the writers
also read the spool's meta and summary, whose keys share some of those names)."""


def _literals(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module that are not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_no_tag_or_metric_name_is_spelled_out_outside_the_schema() -> None:
    metric_and_param_names = {
        *schema.STAT_METRICS,
        *schema.OUTCOME_METRICS,
        *schema.TELEMETRY_METRICS,
        *schema.PARAMS,
    }
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel == Path("tracking/schema.py") or rel.parts[0] == "parsing":  # parsing names the stats
            continue
        reader = rel.parts[0] in READERS
        for line, text in _literals(path):
            if (
                text in DOTTED_TAGS
                or SEARCH_PREFIX.match(text)
                or (reader and text in metric_and_param_names)
            ):
                found.append(f"{rel}:{line}: {text!r}")
    assert found == [], "use the names in claude_tui/tracking/schema.py:\n" + "\n".join(found)
