"""The garbage collector's policy for a process that draws a terminal pane."""

from __future__ import annotations

import gc

__all__ = ["settle_garbage_collector"]


def settle_garbage_collector() -> None:
    """After the first frame: freeze what start-up made, and collect again (`run_session` paused it).

    Objects alive after start-up (modules, widgets, CSS) live as long as the app: frozen, they stay out of
    every later full collection, which otherwise stalls the pane under heavy output
    (`benchmarks/bench_pane.py` measures the pane with and without this).
    """
    gc.freeze()
    gc.enable()
