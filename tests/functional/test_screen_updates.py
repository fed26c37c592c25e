"""`FrameTimer`: the main screen's updates, 60 a second at most; a change after a quiet spell at once."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App
from textual.screen import Screen

from claude_tui.screens.main import FrameTimer, MainScreen, UpdateBudget


@pytest.mark.parametrize(
    ("takes", "expected"),
    [
        # (seconds since the start, wanted wait) with an interval of 1 s and a burst of 2:
        ([0.0], [0.0]),  # at once after a quiet spell
        ([0.0, 0.001], [0.0, 0.0]),  # a second update right after the first (the clock's, then an echo)
        ([0.0, 0.001, 0.002], [0.0, 0.0, 0.998]),  # a third waits for the next token
        ([0.0, 0.001, 0.5], [0.0, 0.0, 0.5]),  # half a token has come since
        ([0.0, 0.0, 5.0, 5.0, 5.0], [0.0, 0.0, 0.0, 0.0, 1.0]),  # a quiet spell fills it, up to the burst
    ],
)
def test_the_update_budget_lets_two_updates_through_then_one_per_interval(
    takes: list[float], expected: list[float]
) -> None:
    budget = UpdateBudget(1.0, 2.0, now=0.0)
    assert [round(budget.take(now), 3) for now in takes] == expected


def test_a_sustained_stream_of_changes_gets_one_update_per_interval() -> None:
    budget = UpdateBudget(1 / 60, 2.0, now=0.0)
    now, updates = 0.0, 0
    while now < 10.0:  # each change asks again when told to
        wait = budget.take(now)
        if wait == 0:
            updates += 1
            wait = 0.001  # the next change comes a millisecond after the update
        now += wait
    assert 600 <= updates <= 602  # 60 a second, and the burst of two at the start


class Quiet(App[None]):
    def get_default_screen(self) -> Screen[None]:
        return MainScreen(id="_default")


async def test_the_main_screen_updates_through_a_frame_timer() -> None:
    app = Quiet()
    async with app.run_test():
        assert isinstance(app.screen._update_timer, FrameTimer)


async def test_a_change_after_a_quiet_spell_is_drawn_at_once_even_right_after_an_update() -> None:
    """Textual's timer puts the first tick after a pause on its grid: an interval (here an hour) after it
    started, and the one after at least an interval later (it failed with Textual's timer)."""
    app = Quiet()
    async with app.run_test():
        ticked = asyncio.Event()

        def tick() -> None:
            timer.pause()  # as the screen's update does
            ticked.set()

        timer = FrameTimer(app.screen, 3600.0, callback=tick, pause=True)
        timer._start()
        try:
            for _ in range(2):  # an update after a quiet spell, then a change right after it
                ticked.clear()
                timer.resume()
                await asyncio.wait_for(ticked.wait(), timeout=60)
        finally:
            timer.stop()
