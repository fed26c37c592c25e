"""Roll-ups: cost, tokens, sessions, errors and time grouped by user, repository, branch, issue, day or week.

`rollup(runs, keys)` folds `mlflow.entities.Run`s (any iterable: `RunQuery.iter_runs` streams them page by
page) into one `RollupRow` per group, holding only the groups, never the runs. `claude-tui export --group-by`
writes the rows; History's roll-up view (`widgets/history_rollup.py`) draws them. No Textual, no mlflow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from claude_tui.tracking import schema

NONE = "(none)"
"""The group of runs that lack the key's value (no issue number, no git repository, ...)."""


def _tag(name: str) -> Callable[[Any, dt.tzinfo | None], str | None]:
    return lambda run, tz: run.data.tags.get(name)


def _param(name: str) -> Callable[[Any, dt.tzinfo | None], str | None]:
    return lambda run, tz: run.data.params.get(name)


def _start(run: Any, tz: dt.tzinfo | None) -> dt.datetime | None:
    ms = run.info.start_time
    return None if ms is None else dt.datetime.fromtimestamp(ms / 1000, tz=tz)  # tz None: local time


def _day(run: Any, tz: dt.tzinfo | None) -> str | None:
    start = _start(run, tz)
    return start.date().isoformat() if start else None


def _week(run: Any, tz: dt.tzinfo | None) -> str | None:
    start = _start(run, tz)
    if start is None:
        return None
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


GROUP_KEYS: dict[str, Callable[[Any, dt.tzinfo | None], str | None]] = {
    "user": _tag(schema.TAG_USER),
    "repository": _tag(schema.TAG_REPOSITORY),
    "branch": _tag(schema.TAG_GIT_BRANCH),
    "issue": _param(schema.PARAM_ISSUE),
    "day": _day,
    "week": _week,
}
"""What a run can be grouped by, and how its value is read (day and week: of its start, ISO weeks)."""

SUMMED = {
    "errors": schema.ERRORS_ENCOUNTERED,
    **{
        name: name
        for name in (
            schema.TOOL_USES,
            schema.INPUT_TOKENS,
            schema.OUTPUT_TOKENS,
            schema.COST_USD,
            schema.DURATION_SECONDS,
            schema.ACTIVE_SECONDS,
        )
    },
}
"""Roll-up column -> the run metric it sums."""
COLUMNS = ("sessions", "failed", *SUMMED, "tokens")
"""The figures of a roll-up row, after its group keys (`tokens` = input + output)."""


class RollupError(ValueError):
    """A `--group-by` the roll-ups do not know; the message is one line."""


def parse_keys(text: str) -> list[str]:
    """`"user,week"` -> `["user", "week"]` (each key once, in order).

    Raises:
        RollupError: an unknown or empty key, naming the known ones.
    """
    keys: list[str] = []
    for word in text.split(","):
        key = word.strip().lower()
        if key not in GROUP_KEYS:
            raise RollupError(f"cannot group by {word.strip()!r}: choose from {', '.join(GROUP_KEYS)}")
        if key not in keys:
            keys.append(key)
    return keys


@dataclass
class RollupRow:
    """One group: its key values and the sums of its sessions."""

    group: tuple[str, ...]
    sessions: int = 0
    failed: int = 0
    """Sessions whose program did not exit cleanly (`success` = 0; imports have no outcome)."""
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SUMMED, 0.0))

    @property
    def tokens(self) -> float:
        """Input plus output tokens."""
        return self.sums[schema.INPUT_TOKENS] + self.sums[schema.OUTPUT_TOKENS]

    def as_dict(self, keys: Sequence[str]) -> dict[str, Any]:
        """A flat row: the group keys, then `COLUMNS` (whole numbers as int, cost rounded to the cent)."""
        row: dict[str, Any] = dict(zip(keys, self.group, strict=True))
        row["sessions"] = self.sessions
        row["failed"] = self.failed
        for name, value in self.sums.items():
            row[name] = round(value, 4) if name == schema.COST_USD else round(value)
        row["tokens"] = round(self.tokens)
        return row


def rollup(
    runs: Iterable[Any],
    keys: Sequence[str],
    *,
    tz: dt.tzinfo | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[RollupRow]:
    """Fold `runs` into one row per group of `keys`, biggest cost first (then most sessions, then by group).

    `progress(n)` is called every 1,000 runs with the number read so far.
    """
    readers = [GROUP_KEYS[key] for key in keys]
    groups: dict[tuple[str, ...], RollupRow] = {}
    for count, run in enumerate(runs, start=1):
        group = tuple((reader(run, tz) or NONE) for reader in readers)
        row = groups.get(group)
        if row is None:
            row = groups[group] = RollupRow(group)
        row.sessions += 1
        metrics = run.data.metrics
        if metrics.get(schema.SUCCESS) == 0:
            row.failed += 1
        for name, metric in SUMMED.items():
            value = metrics.get(metric)
            if value is not None and value == value:  # NaN adds nothing
                row.sums[name] += value
        if progress is not None and count % 1000 == 0:
            progress(count)
    return sorted(groups.values(), key=lambda r: (-r.sums[schema.COST_USD], -r.sessions, r.group))
