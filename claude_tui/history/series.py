"""Turn a metric's logged history into evenly spaced points for a small chart. Pure."""

from __future__ import annotations

from collections.abc import Sequence


def resample_cumulative(points: Sequence[tuple[int, float]], buckets: int) -> list[float]:
    """Values of a step-indexed series at `buckets` evenly spaced steps from 0 to the last step.

    Each bucket holds the last value logged at or before its step (a cumulative count stays flat between
    events); before the first point the value is 0. An empty series gives an empty list.
    """
    if not points or buckets <= 0:
        return []
    ordered = sorted(points)
    last_step = ordered[-1][0]
    out: list[float] = []
    index = 0
    current = 0.0
    for bucket in range(buckets):
        step = last_step * bucket / (buckets - 1) if buckets > 1 else last_step
        while index < len(ordered) and ordered[index][0] <= step:
            current = ordered[index][1]
            index += 1
        out.append(current)
    return out
