"""Roll-ups (issue 17, item 7): sessions, failures, errors, tokens, cost and time per group."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from claude_tui.history.rollup import NONE, RollupError, parse_keys, rollup

MONDAY = int(dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC).timestamp() * 1000)
DAY_MS = 86_400_000


def run(
    user: str | None, start: int, *, issue: str = "", cost: float = 1.0, success: float | None = 1
) -> Any:
    tags = {"mlflow.user": user, "git.repository": "api", "git.branch": "main"} if user else {}
    metrics = {"errors_encountered": 2.0, "input_tokens": 100.0, "output_tokens": 10.0, "cost_usd": cost}
    metrics |= {"duration_seconds": 60.0, "active_seconds": 30.0, "tool_uses": 4.0}
    if success is not None:
        metrics["success"] = success
    return SimpleNamespace(
        info=SimpleNamespace(start_time=start),
        data=SimpleNamespace(tags=tags, params={"issue_number": issue} if issue else {}, metrics=metrics),
    )


RUNS = [
    run("alice", MONDAY, issue="12", cost=2.0),
    run("alice", MONDAY + DAY_MS, cost=float("nan"), success=0),
    run("bob", MONDAY + 7 * DAY_MS, issue="12", success=None),
    run(None, MONDAY - DAY_MS),
]


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["user"], {("alice",): (2, 1, 2.0), ("bob",): (1, 0, 1.0), (NONE,): (1, 0, 1.0)}),
        (
            ["user", "week"],
            {
                ("alice", "2026-W49"): (2, 1, 2.0),
                ("bob", "2026-W50"): (1, 0, 1.0),
                (NONE, "2026-W48"): (1, 0, 1.0),
            },
        ),
        (["issue"], {("12",): (2, 0, 3.0), (NONE,): (2, 1, 1.0)}),
        (
            ["day"],
            {
                ("2026-11-30",): (1, 0, 2.0),
                ("2026-12-01",): (1, 1, 0.0),
                ("2026-12-07",): (1, 0, 1.0),
                ("2026-11-29",): (1, 0, 1.0),
            },
        ),
        (["repository", "branch"], {("api", "main"): (3, 1, 3.0), (NONE, NONE): (1, 0, 1.0)}),
    ],
)
def test_groups_sum_their_sessions(keys: list[str], expected: dict[tuple[str, ...], Any]) -> None:
    rows = rollup(RUNS, keys, tz=dt.UTC)
    assert {row.group: (row.sessions, row.failed, row.sums["cost_usd"]) for row in rows} == expected
    # Every figure adds up to the whole, whatever the grouping.
    assert sum(row.sessions for row in rows) == len(RUNS)
    assert sum(row.tokens for row in rows) == 110 * len(RUNS)
    assert sum(row.sums["errors"] for row in rows) == 2 * len(RUNS)


def test_rows_are_ordered_by_cost_and_flatten_with_their_keys() -> None:
    rows = rollup(RUNS, ["user"], tz=dt.UTC)
    assert [row.group for row in rows] == [("alice",), (NONE,), ("bob",)]
    assert rows[0].as_dict(["user"]) == {
        "user": "alice",
        "sessions": 2,
        "failed": 1,
        "errors": 4,
        "tool_uses": 8,
        "input_tokens": 200,
        "output_tokens": 20,
        "cost_usd": 2.0,
        "duration_seconds": 120,
        "active_seconds": 60,
        "tokens": 220,
    }


def test_progress_every_thousand_runs() -> None:
    seen: list[int] = []
    rollup([RUNS[0]] * 2500, ["user"], progress=seen.append)
    assert seen == [1000, 2000]


@pytest.mark.parametrize(
    ("text", "keys"), [("user", ["user"]), ("User, week", ["user", "week"]), ("day,day", ["day"])]
)
def test_parse_keys(text: str, keys: list[str]) -> None:
    assert parse_keys(text) == keys


@pytest.mark.parametrize("text", ["", "team", "user,,week"])
def test_parse_keys_refuses(text: str) -> None:
    with pytest.raises(RollupError, match="choose from user, repository, branch, issue, day, week"):
        parse_keys(text)
