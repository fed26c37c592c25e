"""A tracked Claude's own telemetry: its environment points at the session's route on the endpoint; what is
posted there reaches the sidebar's cost, the spool (`telemetry.jsonl`, the summary) and the run's record.

The payloads are those the pinned CLI posted (tests/data/otlp/, `record_otlp.py`), posted here through the
endpoint's own routing; test_cli_telemetry.py (e2e) has the real CLI post them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claude_tui.claude_code import telemetry_env
from claude_tui.lifecycle.endpoint import OTLP_ROUTE, Reply, shared
from claude_tui.parsing.otlp import CliTelemetry, decode_logs, decode_metrics
from claude_tui.session import SessionConfig, TrackedSession
from claude_tui.tracking import schema
from claude_tui.tracking.record import SessionRecord

DATA = Path(__file__).resolve().parents[1] / "data" / "otlp"


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


def claude_config(tmp_path: Path, **fields: Any) -> SessionConfig:
    return SessionConfig(
        command="claude",
        cwd=tmp_path,
        config_dir=tmp_path / "claude-config",
        tracking_uri="sqlite://",
        **fields,
    )


def post_all(session: TrackedSession, posts: list[dict[str, Any]]) -> None:
    """Post recorded payloads to the URL the session's program was given, as the CLI does."""
    base = session.env["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert base is not None
    path = base.split("/", 3)[3]
    for post in posts:
        reply = shared().dispatch(f"/{path}/v1/{post['route']}", json.dumps(post["body"]).encode(), {})
        assert reply == Reply()


def test_a_tracked_claude_exports_to_its_session_and_the_cost_is_the_clis(tmp_path: Path) -> None:
    session = TrackedSession(claude_config(tmp_path))
    assert session.telemetry_mode == "cli" and session.telemetry is not None
    url = session.config.telemetry_routes().url(OTLP_ROUTE)  # type: ignore[union-attr]
    assert session.env == {**telemetry_env(url)}
    session.start(80, 24)
    assert session.spool is not None and session.spool.meta["telemetry"] == "cli"
    snap = session.snapshot()
    assert snap.cost_source == "estimate" and snap.cost_usd == 0  # nothing came yet

    process = recorded("print")["processes"][0]
    post_all(session, process["posts"])
    assert session.poll() is True
    expected = CliTelemetry()
    for post in process["posts"]:
        expected.apply_all((decode_logs if post["route"] == "logs" else decode_metrics)(post["body"]))
    (cost_state,) = process["cost_state"].values()
    snap = session.snapshot()
    assert snap.cost_source == "cli"
    assert snap.cost_usd == expected.cost_usd == pytest.approx(cost_state["totalCostUSD"], abs=1e-6)
    lines = session.spool.telemetry_path.read_text().splitlines()
    assert len(lines) == expected.events

    # The end: the summary carries the telemetry, and the run is logged with it (also from a spool alone).
    session.finish(0, None, [])
    summary = json.loads((session.spool.path / "summary.json").read_text())
    assert summary["telemetry"]["cli_cost_usd"] == expected.cost_usd
    record = SessionRecord.from_spool(session.spool)
    assert record.metrics()[schema.CLI_COST_USD] == expected.cost_usd
    assert record.tags()[schema.TAG_TELEMETRY] == schema.TELEMETRY_RECEIVED
    # Routes are gone with the session: a late post finds nothing.
    assert shared().dispatch(f"/{url.split('/', 3)[3]}/v1/logs", b"{}", {}).status == 404


def test_the_users_own_export_is_left_alone(tmp_path: Path) -> None:
    users = {"CLAUDE_CODE_ENABLE_TELEMETRY": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example"}
    session = TrackedSession(claude_config(tmp_path, env=dict(users)))
    assert (session.telemetry_mode, session.telemetry, session.env) == ("user", None, users)
    session.start(80, 24)
    assert session.spool is not None and session.spool.meta["telemetry"] == "user"
    session.finish(0, None, [])
    record = SessionRecord.from_spool(session.spool)
    assert record.tags()[schema.TAG_TELEMETRY] == schema.TELEMETRY_USER
    assert not any(name.startswith("cli_") for name in record.metrics())


def test_another_program_gets_no_telemetry_environment(tmp_path: Path) -> None:
    session = TrackedSession(
        SessionConfig(command="bash", cwd=tmp_path, env={"A": "1"}, tracking_uri="sqlite://")
    )
    assert (session.telemetry_mode, session.telemetry, session.env) == (None, None, {"A": "1"})
