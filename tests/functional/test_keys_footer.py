"""A session switch costs no footer rebuild, and the chord's keys still show once the person waits
(`KeysFooter`; issue 16 item 5: the footer was rebuilt twice per switch, a third of its CPU)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets._footer import FooterKey

from claude_tui.app import ClaudeTuiApp
from claude_tui.widgets.footer import KeysFooter
from claude_tui.widgets.session_tab import ChordKeys
from tests.functional.test_sessions import CHORD, FakeStore, first_session, open_second
from tests.helpers import wait_for


async def test_a_switch_typed_at_once_rebuilds_no_footer_and_a_pause_shows_the_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    composed: list[int] = []
    compose = KeysFooter.compose

    def counted(self: KeysFooter) -> Any:
        composed.append(1)
        return compose(self)

    monkeypatch.setattr(KeysFooter, "compose", counted)
    app = ClaudeTuiApp(first_session(tmp_path), log_spool=FakeStore())
    async with app.run_test(size=(120, 30)) as pilot:
        tab = app.session_tab
        one, two = await open_second(pilot, app, tmp_path)
        await wait_for(pilot, lambda: app.query(FooterKey), 20, "the footer's keys")
        await pilot.pause(KeysFooter.CHORD_SETTLE + 0.2)
        shown = {key.key for key in app.query(FooterKey)}
        assert "ctrl+right_square_bracket" in shown and "n" not in shown  # the pane's keys
        before = len(composed)
        for number in ("1", "2", "1"):
            await pilot.press(CHORD, number)  # as a person types the chord: at once
            view = tab.by_number(int(number))
            await wait_for(pilot, lambda view=view: app.focused is view.pane, 10, f"session {number}")
        await pilot.pause(KeysFooter.CHORD_SETTLE + 0.2)
        assert len(composed) == before, "the footer ends where it started: not rebuilt"
        assert tab.active is one

        await pilot.press(CHORD)  # and waits: the keys the chord opened show
        assert isinstance(app.focused, ChordKeys) and tab.has_keys
        await wait_for(pilot, lambda: "n" in {key.key for key in app.query(FooterKey)}, 10, "the tab's keys")
        assert len(composed) == before + 1
        await pilot.press("2")
        await wait_for(pilot, lambda: app.focused is two.pane, 10, "session 2")
        await wait_for(
            pilot, lambda: "n" not in {key.key for key in app.query(FooterKey)}, 10, "the pane's keys"
        )
        await app.action_quit()
        await wait_for(pilot, lambda: app.return_value is not None, 30, "the app to exit")
