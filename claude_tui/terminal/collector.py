"""The garbage collector's policy for a process that draws a terminal pane."""

from __future__ import annotations

import gc

__all__ = ["freeze_after_fill_in", "settle_garbage_collector"]


def settle_garbage_collector() -> None:
    """After the first frame: freeze what start-up made, and collect again (`run_session` paused it).

    Objects alive after start-up (modules, widgets, CSS) live as long as the app: frozen, they stay out of
    every later full collection, which otherwise stalls the pane under heavy output
    (`benchmarks/bench_pane.py` measures the pane with and without this).
    """
    gc.freeze()
    gc.enable()


def freeze_after_fill_in() -> None:
    """After a session view filled in (its counters, the app's tab bar and footer, the parsers): collect once
    and freeze the survivors too, so that a full collection during a flood of output walks only what the
    flood made (a full collection of what the fill-in left took 3-7 ms of CPU at 200x50)."""
    gc.collect()
    gc.freeze()
