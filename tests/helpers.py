"""Helpers shared by the Pilot tests (`tests.helpers`: pytest puts the project root on the path)."""

from __future__ import annotations

import dataclasses
import io
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


async def wait_for(
    pilot: Any,
    predicate: Callable[[], Any],
    timeout: float = 15.0,
    what: str = "the condition",
    *,
    interval: float = 0.05,
    describe: Callable[[], str] | None = None,
) -> None:
    """Let the app run until `predicate()` holds; fail naming `what` (and `describe()`, e.g. the screen, when
    given) after `timeout` seconds. Workers and programs answer from other threads and processes, so the app
    must keep running meanwhile: `pilot.pause` does that."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            detail = f"\n{describe()}" if describe is not None else ""
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        await pilot.pause(interval)


def screen_text(app: Any) -> str:
    """The app's screen as plain text, rendered as `App.export_screenshot` renders it (from the compositor:
    each widget's lines as last refreshed), so it is what a snapshot taken now would show."""
    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


async def wait_for_screen(pilot: Any, *shown: str | re.Pattern[str], timeout: float = 15.0) -> None:
    """Wait until the screen shows every text (or matches every pattern) in `shown`: a snapshot test waits
    for what its snapshot shows, not a fixed pause (on a loaded machine a pause ends before the frame)."""

    def showing() -> bool:
        text = screen_text(pilot.app)
        return all(part.search(text) if isinstance(part, re.Pattern) else part in text for part in shown)

    await wait_for(
        pilot, showing, timeout, f"the screen to show {shown}", describe=lambda: screen_text(pilot.app)
    )


class FixedClock:
    """A session clock for snapshots: starts at a fixed instant; every later reading is 12 min 34 s later."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return 1_800_000_000.0 if self.calls == 1 else 1_800_000_754.0


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "the condition") -> Any:
    """Poll `predicate` (outside an app) until it returns something true (and return that); fail naming
    `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.02)


def wait_until_logged(spools: Path, timeout: float = 180.0) -> None:
    """Wait until the logger process has logged every session spooled under `spools` (it removes a spool
    once the store has the run). Open the store only then: a client opened earlier races the logger's first
    open of a new store ("table ... already exists")."""
    wait_until(lambda: spools.is_dir() and not any(spools.iterdir()), timeout, "the logger to log the run")


def logged_run_id(outcome: Any, timeout: float = 180.0) -> str:
    """The run of a session the app handed to a logger process (`SessionResult.handed_off`), found by its
    run key (`schema.TAG_RUN_KEY`: the spool's session id) once the logger removed the spool (the app exits
    before the run exists): read with the stdlib from a sqlite store, else through MLflow."""
    from claude_tui.tracking.schema import run_key_filter

    assert outcome.handed_off and outcome.spool is not None and outcome.tracking_uri, outcome
    spool = outcome.spool
    wait_until(lambda: not spool.exists(), timeout, "the logger process to log the session")
    uri = str(outcome.tracking_uri)
    if uri.startswith("sqlite:///"):
        [(run_id, _status)] = session_runs(Path(uri.removeprefix("sqlite:///")), outcome.session_id)
        return str(run_id)
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    [run] = client.search_runs(experiments, filter_string=run_key_filter(outcome.session_id))
    return str(run.info.run_id)


def pane_text(pane: Any) -> str:
    """A terminal pane's scrollback and screen as text (what a failed wait shows)."""
    return "\n".join([*pane.emulator.history_lines(), *pane.emulator.display])


async def type_prompt(
    pilot: Any, pane: Any, text: str, timeout: float = 60, *, retype_after: float | None = None
) -> None:
    """Type `text` into Claude's prompt box in `pane`, wait until Claude has drawn it on its prompt line
    (`❯ text`: it has read the keys), then send Enter. Enter read in the same burst as the text is taken as
    part of a paste (a newline in the prompt), and any fixed pause between them is too short on a loaded
    machine.

    `retype_after`: for a prompt box Claude has just drawn anew (after `/clear`, or `/resume`'s picker): keys
    it reads while it swaps screens are dropped, so while the box stays empty that many seconds after a try,
    type the text again, as a person whose keys got lost does (a box with anything else in it is left as it
    is: the wait then fails showing it)."""

    def typed() -> bool:
        return any("\u276f" in line and text in line for line in pane.emulator.display)

    def empty() -> bool:
        return any(line.strip() == "\u276f" for line in pane.emulator.display)

    deadline = time.monotonic() + timeout
    pane.send(text.encode())
    while retype_after is not None and time.monotonic() + retype_after < deadline:
        tried = time.monotonic() + retype_after
        while not typed() and time.monotonic() < tried:
            await pilot.pause(0.05)
        if typed() or not empty():
            break
        pane.send(text.encode())
    what = f"Claude to show {text!r} in its prompt box"
    left = max(deadline - time.monotonic(), 1.0)
    await wait_for(pilot, typed, left, what, describe=lambda: pane_text(pane))
    pane.send(b"\r")


async def type_exit(pilot: Any, app: Any, pane: Any, timeout: float = 120) -> None:
    """Type `/exit` into Claude in `pane` and wait until the app has ended. A sub-agent still running in the
    background makes Claude ask first ("Background work is running"): Enter, its default ("Exit and stop
    tasks"), is what a person presses."""
    asks = "Background work is running"
    await type_prompt(pilot, pane, "/exit", timeout)
    ended = lambda: app.return_value is not None  # noqa: E731
    await wait_for(pilot, lambda: ended() or asks in pane_text(pane), timeout, "the session to end or ask",
                   describe=lambda: pane_text(pane))  # fmt: skip
    if not ended():
        pane.send(b"\r")
    await wait_for(pilot, ended, timeout, "the session to end", describe=lambda: pane_text(pane))


async def exit_claude(pilot: Any, app: Any, pane: Any, timeout: float = 120) -> Any:
    """Type `/exit` into the pane, wait until the app has ended and its logger process has logged the
    session, and check that it went well (exit status 0, no error); returns the app's `SessionResult` with
    the run's id (`logged_run_id`).
    """
    await type_exit(pilot, app, pane, timeout)
    outcome = app.return_value
    assert outcome.error is None, outcome.error
    assert outcome.exit_code == 0, outcome
    return dataclasses.replace(outcome, run_id=logged_run_id(outcome, timeout))


def session_runs(db: Path, run_key: str) -> list[tuple[str, str]]:
    """(run id, status) of every run of the tracked process `run_key` (its spool's session id,
    `schema.TAG_RUN_KEY`) in the sqlite store at `db`, read with the stdlib (no mlflow in the test's
    process); none while MLflow is still creating the store."""
    from claude_tui.tracking.schema import TAG_RUN_KEY

    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(
                "SELECT runs.run_uuid, runs.status FROM runs JOIN tags ON tags.run_uuid = runs.run_uuid "
                "WHERE tags.key = ? AND tags.value = ?",
                (TAG_RUN_KEY, run_key),
            ).fetchall()
    except sqlite3.OperationalError:
        return []
