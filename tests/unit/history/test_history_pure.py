"""Pure parts of the history package: filters, sort clauses, rows, URLs, export formats, series, replay."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from claude_tui.history.columns import CELL_PADDING, COLUMNS, DETAILS_MIN, split
from claude_tui.history.compare import compare_runs, format_metric
from claude_tui.history.export import columns_for, flatten_run, iso_utc, write_csv, write_json, write_rows
from claude_tui.history.query import (
    QUICK_FILTERS,
    SORT_KEYS,
    RunDetails,
    RunRow,
    combine_filters,
    order_by_for,
    row_from_run,
    today_start_ms,
)
from claude_tui.history.replay import MAX_IDLE, CastPlayer, load_recording
from claude_tui.history.ui_server import (
    ServerState,
    compare_url,
    default_artifact_root,
    is_remote,
    remote_base,
    run_url,
)


def fake_run(
    run_id: str = "r1",
    *,
    name: str = "fix it",
    start: int | None = 1_000,
    end: int | None = 61_000,
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> Any:
    info = SimpleNamespace(
        run_id=run_id, experiment_id=7, run_name=name, start_time=start, end_time=end, status="FINISHED"
    )
    data = SimpleNamespace(metrics=metrics or {}, params=params or {}, tags=tags or {})
    return SimpleNamespace(info=info, data=data)


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ((), ""),
        (("",), ""),
        (("metrics.success = 1",), "metrics.success = 1"),
        ((" metrics.success = 1 ", None, "  "), "metrics.success = 1"),
        (
            ('tags.type = "claude_session"', "metrics.success = 0"),
            'tags.type = "claude_session" AND metrics.success = 0',
        ),
    ],
)
def test_combine_filters(parts: tuple[str | None, ...], expected: str) -> None:
    assert combine_filters(*parts) == expected


def test_quick_filters() -> None:
    assert QUICK_FILTERS["failed"]() == "metrics.success = 0"
    assert QUICK_FILTERS["errors"]() == "metrics.errors_encountered > 0"
    today = QUICK_FILTERS["today"]()
    assert today.startswith("attributes.start_time >= ")
    ms = int(today.rsplit(" ", 1)[1])
    assert ms == today_start_ms()
    assert 0 <= dt.datetime.now().timestamp() * 1000 - ms < 86_400_000


def test_today_start_is_local_midnight() -> None:
    tz = dt.timezone(dt.timedelta(hours=-5))
    now = dt.datetime(2026, 3, 4, 1, 30, tzinfo=tz)
    assert today_start_ms(now) == int(dt.datetime(2026, 3, 4, tzinfo=tz).timestamp() * 1000)


@pytest.mark.parametrize("column", sorted(SORT_KEYS))
@pytest.mark.parametrize("descending", [True, False])
def test_order_by_for_every_column(column: str, descending: bool) -> None:
    clauses = order_by_for(column, descending)
    direction = "DESC" if descending else "ASC"
    assert clauses[: len(SORT_KEYS[column])] == [f"{c} {direction}" for c in SORT_KEYS[column]]
    if column != "start":
        assert clauses[-1] == "attributes.start_time DESC"  # ties newest first
    assert all(c.split(".")[0] in ("attributes", "metrics", "params") for c in clauses)


def test_row_from_run_maps_metrics_and_params() -> None:
    run = fake_run(
        metrics={"commands_executed": 4, "tool_uses": 9, "errors_encountered": 1, "success": 0,
                 "input_tokens": 100, "output_tokens": 20, "cost_usd": 0.5, "duration_seconds": 42},
        params={"procedure_name": "close-issue", "issue_number": "12"},
    )  # fmt: skip
    row = row_from_run(run)
    assert (row.run_id, row.experiment_id, row.name) == ("r1", "7", "fix it")
    assert (row.commands, row.tools, row.errors, row.success) == (4, 9, 1, 0)
    assert (row.procedure, row.issue, row.tokens, row.cost_usd) == ("close-issue", "12", 120, 0.5)
    assert row.duration_seconds == 42


def test_row_from_run_falls_back_to_run_times_and_tag_name() -> None:
    row = row_from_run(fake_run(name="", tags={"mlflow.runName": "from tag"}, params={"procedure_name": ""}))
    assert row.duration_seconds == 60.0
    assert row.name == "from tag"
    assert row.procedure is None and row.tokens is None


# --- URLs -------------------------------------------------------------------------------------------------


def test_run_url_matches_mlflow_route() -> None:
    assert run_url("http://127.0.0.1:5000/", "3", "abc") == "http://127.0.0.1:5000/#/experiments/3/runs/abc"


def test_compare_url_matches_mlflow_route() -> None:
    url = compare_url("http://h:1", "2", ["a", "b"])
    assert url == "http://h:1/#/compare-runs?runs=[%22a%22,%22b%22]&experiments=[%222%22]"
    # The UI JSON-parses both lists after URL-decoding them.
    from urllib.parse import parse_qs, urlparse

    query = parse_qs(urlparse(url.replace("#/compare-runs", "compare-runs")).query)
    assert json.loads(query["runs"][0]) == ["a", "b"]
    assert json.loads(query["experiments"][0]) == ["2"]
    several = compare_url("http://h:1", ["5", "2", "5"], ["x"])
    assert several.endswith("experiments=[%222%22,%225%22]")


@pytest.mark.parametrize(
    ("uri", "remote"),
    [("http://127.0.0.1:5000", True), ("https://mlflow.example/", True), ("sqlite:///x.db", False),
     ("/tmp/mlruns", False), ("file:///tmp/mlruns", False)],
)  # fmt: skip
def test_is_remote(uri: str, remote: bool) -> None:
    assert is_remote(uri) is remote


def test_remote_base_strips_slash() -> None:
    assert remote_base("https://mlflow.example/") == "https://mlflow.example"


def test_default_artifact_root(tmp_path: Path) -> None:
    from claude_tui import paths

    assert default_artifact_root(f"sqlite:///{paths.data_dir() / 'mlflow.db'}") == str(
        paths.default_artifact_root()
    )
    assert default_artifact_root(f"sqlite:///{tmp_path}/store/m.db") == str(tmp_path / "store" / "artifacts")


def test_server_state_url_brackets_ipv6() -> None:
    state = ServerState(1, 1, "::1", 5000, "sqlite:///x", "/a", "/l", 0.0)
    assert state.url == "http://[::1]:5000"
    assert ServerState(1, 1, "127.0.0.1", 80, "", "", "", 0.0).url == "http://127.0.0.1:80"


# --- export -----------------------------------------------------------------------------------------------


def test_flatten_and_columns() -> None:
    runs = [
        fake_run("a", metrics={"success": 1.0, "cost_usd": 0.25}, params={"model": "m"}, tags={"type": "t"}),
        fake_run("b", metrics={"errors_encountered": 2.0}, params={"issue_number": "5"}),
    ]
    rows = [flatten_run(run) for run in runs]
    assert rows[0]["start_time"] == "1970-01-01T00:00:01.000Z"
    assert rows[0]["metrics.success"] == 1.0 and rows[1]["params.issue_number"] == "5"
    assert columns_for(rows) == [
        "run_id", "run_name", "experiment_id", "status", "start_time", "end_time",
        "params.issue_number", "params.model", "metrics.cost_usd", "metrics.errors_encountered",
        "metrics.success", "tags.type",
    ]  # fmt: skip


def test_csv_round_trip() -> None:
    rows = [
        flatten_run(fake_run("a", name='say "hi", then\nstop', metrics={"success": 1.0, "cost_usd": 0.25})),
        flatten_run(fake_run("b", metrics={"errors_encountered": 2.0})),
    ]
    out = io.StringIO()
    write_csv(rows, out)
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["run_id"] for r in parsed] == ["a", "b"]
    assert parsed[0]["run_name"] == 'say "hi", then\nstop'
    assert parsed[0]["metrics.success"] == "1"  # whole numbers without ".0"
    assert parsed[0]["metrics.cost_usd"] == "0.25"
    assert parsed[0]["metrics.errors_encountered"] == "" and parsed[1]["metrics.errors_encountered"] == "2"


def test_json_is_strict_and_ordered() -> None:
    rows = [flatten_run(fake_run("a", metrics={"success": math.nan, "tool_uses": 3.0}, params={"x": "1"}))]
    out = io.StringIO()
    write_json(rows, out)
    loaded = json.loads(out.getvalue())  # would fail on a bare NaN only with strict parsers; check below
    assert "NaN" not in out.getvalue()
    assert loaded[0]["metrics.success"] is None and loaded[0]["metrics.tool_uses"] == 3.0
    assert list(loaded[0])[:7] == ["run_id", "run_name", "experiment_id", "status", "start_time", "end_time",
                                   "params.x"]  # fmt: skip


def test_write_rows_rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown export format 'xml'"):
        write_rows([], io.StringIO(), "xml")


def test_iso_utc() -> None:
    assert iso_utc(None) is None
    assert iso_utc(1_700_000_000_123) == "2023-11-14T22:13:20.123Z"


# --- compare ----------------------------------------------------------------------------------------------


def _details(name: str, params: dict[str, str], metrics: dict[str, float]) -> RunDetails:
    row = RunRow(name, "1", name, 0, 0, "FINISHED", *([None] * 10))
    return RunDetails(row, params, metrics, {"type": "claude_session"}, [], None)


def test_compare_flags_differences_and_missing_values() -> None:
    a = _details("a", {"model": "x", "issue_number": "1"}, {"success": 1.0, "cost_usd": 0.5})
    b = _details("b", {"model": "x"}, {"success": 0.0, "cost_usd": 0.5})
    rows = {(r.section, r.key): r for r in compare_runs([a, b])}
    assert rows[("params", "model")].values == ("x", "x") and not rows[("params", "model")].differs
    assert rows[("params", "issue_number")].values == ("1", None) and rows[("params", "issue_number")].differs
    assert rows[("metrics", "success")].values == ("1", "0") and rows[("metrics", "success")].differs
    assert not rows[("metrics", "cost_usd")].differs
    assert ("tags", "type") not in rows
    assert ("tags", "type") in {(r.section, r.key) for r in compare_runs([a, b], include_tags=True)}


@pytest.mark.parametrize(("value", "text"), [(3.0, "3"), (0.0123, "0.0123"), (2.5, "2.5"), (math.nan, "nan")])
def test_format_metric(value: float, text: str) -> None:
    assert format_metric(value) == text


# --- series -----------------------------------------------------------------------------------------------


# --- replay -----------------------------------------------------------------------------------------------


def _cast(events: list[tuple[float, str]]) -> bytes:
    lines = [json.dumps({"version": 2, "width": 100, "height": 30})]
    lines += [json.dumps([t, "o", text]) for t, text in events]
    lines.append(json.dumps([9.0, "i", "typed"]))
    return ("\n".join(lines) + "\n").encode()


def test_load_recording_v2_and_raw(tmp_path: Path) -> None:
    (tmp_path / "a.cast").write_bytes(_cast([(0.5, "a"), (1.0, "b")]))
    recording = load_recording(tmp_path / "a.cast")
    assert recording is not None and (recording.width, recording.height) == (100, 30)
    assert recording.events == [(0.5, b"a"), (1.0, b"b")]  # input events are not output
    (tmp_path / "raw").write_bytes(b"\x1b[1mplain bytes")
    raw = load_recording(tmp_path / "raw")
    assert raw is not None and raw.events == [(0.0, b"\x1b[1mplain bytes")]


def test_player_plays_in_time_and_speed() -> None:
    player = CastPlayer([(0.5, b"a"), (1.0, b"b"), (2.0, b"c")])
    assert player.advance(10) == b""  # paused: nothing is due
    assert player.toggle() is True
    assert player.advance(0.6) == b"a"
    player.faster()
    assert player.speed == 2.0
    assert player.advance(0.25) == b"b"  # 0.6 + 0.5 = 1.1 s of recording
    assert player.advance(0.5) == b"c"
    assert player.finished and not player.playing
    assert player.toggle() is True  # a finished recording starts over
    assert player.advance(0.0) == b"" and player.advance(0.5) == b"ab"  # still 2x


def test_player_compresses_idle_and_clamps_speed() -> None:
    player = CastPlayer([(0.0, b"a"), (100.0, b"b")])
    assert player.duration == MAX_IDLE
    for _ in range(10):
        player.slower()
    assert player.speed == 0.5
    for _ in range(10):
        player.faster()
    assert player.speed == 16.0


@pytest.mark.parametrize(
    ("total", "longest", "shown", "short"),
    [
        (80, 30, ["start", "name", "commands", "errors", "ok"], True),  # was start and name only
        (120, 30, ["start", "name", "duration", "commands", "tools", "errors", "ok", "cost"], True),
        (200, 60, [c.id for c in COLUMNS], False),
    ],
)
def test_history_columns_by_priority(total: int, longest: int, shown: list[str], short: bool) -> None:
    layout = split(total, longest)
    assert [column for column, _, _ in layout.columns] == shown and layout.short_start is short
    used = sum(width + CELL_PADDING for _, _, width in layout.columns) + 1 + layout.details_width
    assert used <= total and layout.details_width >= DETAILS_MIN


def test_history_split_fits_the_names_at_200_and_follows_the_user() -> None:
    layout = split(200, 60)
    assert dict((c, w) for c, _, w in layout.columns)["name"] == 60  # in full (was cut at 18)
    assert layout.details_width > 43  # the rest goes to the details (was a fixed 43)
    assert split(200, 60, details=100).details_width == 100
    assert split(200, 60, details=5).details_width == DETAILS_MIN
    assert split(200, 60, details=500).details_width == int(200 * 0.6)


@pytest.mark.parametrize(
    ("uri", "shared"),
    [
        ("sqlite:////tmp/mlflow.db", False),
        ("file:///tmp/mlruns", False),
        ("/tmp/mlruns", False),
        ("http://mlflow.internal", True),
        ("https://mlflow.internal:5000", True),
        ("postgresql+psycopg2://u@db/mlflow", True),
    ],
)
def test_default_mine_user_only_on_a_shared_store(
    uri: str, shared: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claude_tui.history.query import default_mine_user, is_shared_store

    settings = tmp_path / "config.toml"
    settings.write_text('user = "alice@team.example"\n')
    monkeypatch.setenv("CLAUDE_TUI_CONFIG", str(settings))
    assert is_shared_store(uri) is shared
    assert default_mine_user(uri) == ("alice@team.example" if shared else None)


def test_default_mine_user_falls_back_to_git_email(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from claude_tui.history.query import default_mine_user, mine_filter

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "config", "user.email", "o'hara@team.example"], check=True)
    assert default_mine_user("http://mlflow.internal", cwd=str(tmp_path)) == "o'hara@team.example"
    assert mine_filter("o'hara@team.example") == "tags.`mlflow.user` = 'o\\'hara@team.example'"
