"""Nothing expires unseen (issue 17, item 8): sessions Claude Code will soon delete that are not in the store.

Claude Code deletes a transcript `cleanupPeriodDays` (30 by default, from its `settings.json`) after it
was last written. A session within `MARGIN_DAYS` of that and not in the store is at risk: it is reported
once, with the command that saves it (`claude-tui import --all`).

Two halves, so that nothing on a session's path waits for the store:
- `check(uri, experiment)` (imports mlflow, only when there are new candidates) runs where the store is at
  hand anyway: the logger process after a live session, and `claude-tui sync`. It leaves the notice in
  `<data dir>/expiry.json`.
- `take_notice()` (a file read) hands the notice out once: the command line prints it at the next command's
  start, and after a session's end. The ids it named are remembered as reported and never named again.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from claude_tui import claude_code

DEFAULT_CLEANUP_DAYS = 30
"""Claude Code's default `cleanupPeriodDays`."""
MARGIN_DAYS = 7
"""How long before Claude Code's clean-up a session counts as at risk."""
DAY = 86_400.0
PER_ID_SEARCHES = 50
"""Up to this many candidates are looked up one search each; more, with one paged search of the experiment."""


@dataclass(frozen=True)
class AtRisk:
    """A transcript Claude Code deletes within the margin."""

    session_id: str
    path: Path
    deleted_at: float
    """When Claude Code's clean-up deletes it (seconds since the epoch)."""


def cleanup_days(config_dir: Path) -> int:
    """Claude Code's `cleanupPeriodDays` from `<config>/settings.json` (the default when unset or wrong)."""
    try:
        value = json.loads((config_dir / "settings.json").read_text(encoding="utf-8")).get(
            "cleanupPeriodDays"
        )
    except (OSError, ValueError, AttributeError):
        return DEFAULT_CLEANUP_DAYS
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return DEFAULT_CLEANUP_DAYS
    return int(value)


def at_risk(config_dir: Path, now: float | None = None, margin_days: float = MARGIN_DAYS) -> list[AtRisk]:
    """The session transcripts under `config_dir` that Claude Code deletes within `margin_days` (a listing and
    a stat per file: no parsing, no store)."""
    now = time.time() if now is None else now
    keep = cleanup_days(config_dir) * DAY
    found = []
    for path in claude_code.session_transcripts(config_dir):
        try:
            deleted_at = path.stat().st_mtime + keep
        except OSError:
            continue
        if deleted_at - now <= margin_days * DAY:
            found.append(AtRisk(path.stem, path, deleted_at))
    return found


def _state_path() -> Path:
    from claude_tui.paths import data_dir

    return data_dir() / "expiry.json"


def _read_state() -> dict[str, list[str]]:
    try:
        state = json.loads(_state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"reported": [], "pending": []}
    if not isinstance(state, dict):
        return {"reported": [], "pending": []}
    return {key: [str(v) for v in state.get(key) or []] for key in ("reported", "pending")}


def _write_state(state: dict[str, list[str]]) -> None:
    path = _state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(state), encoding="utf-8")
    os.replace(temporary, path)


def check(uri: str, experiment: str, config_dir: Path | None = None, now: float | None = None) -> list[str]:
    """Find the at-risk sessions not in the store and not reported yet; leave them for `take_notice`.

    The store is asked only when there are new candidates (one search per id, or one paged search of the
    experiment when there are many). Returns the pending ids (empty when there is nothing to say).
    """
    config_dir = config_dir or claude_code.config_dir()
    state = _read_state()
    seen = set(state["reported"]) | set(state["pending"])
    candidates = [item.session_id for item in at_risk(config_dir, now) if item.session_id not in seen]
    if not candidates:
        return state["pending"]
    in_store = _in_store(uri, experiment, candidates)
    from claude_tui.tracking.importer import spooled_session_ids

    waiting = spooled_session_ids()  # `claude-tui sync` logs those
    state["pending"] += [sid for sid in candidates if sid not in in_store and sid not in waiting]
    _write_state(state)
    return state["pending"]


def _in_store(uri: str, experiment: str, candidates: list[str]) -> set[str]:
    from claude_tui.tracking.importer import known_session_ids

    if len(candidates) > PER_ID_SEARCHES:
        return known_session_ids(uri, experiment)
    from claude_tui.tracking.logger import find_session_run
    from claude_tui.tracking.store import tracking_client

    client = tracking_client(uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return set()
    return {sid for sid in candidates if find_session_run(client, found.experiment_id, sid) is not None}


def notice_line(count: int, days: int, command: str) -> str:
    """The one line that says so."""
    sessions = "1 Claude Code session is" if count == 1 else f"{count} Claude Code sessions are"
    return (
        f"{sessions} not in MLflow and will be deleted by Claude Code within {MARGIN_DAYS} days "
        f"(cleanupPeriodDays = {days}): run `{command} import --all` to keep them"
    )


def take_notice(config_dir: Path | None = None) -> str | None:
    """The pending notice, once: its ids are then remembered as reported. None when there is none (or the
    state cannot be read or written: the next check says it again)."""
    try:
        state = _read_state()
        if not state["pending"]:
            return None
        count = len(state["pending"])
        state["reported"] += state["pending"]
        state["pending"] = []
        _write_state(state)
    except OSError:
        return None
    from claude_tui.paths import own_command

    return notice_line(count, cleanup_days(config_dir or claude_code.config_dir()), own_command())


def clear_pending() -> None:
    """Forget the pending notice (an import just ran: what it named may be in the store now)."""
    try:
        state = _read_state()
        if state["pending"]:
            state["pending"] = []
            _write_state(state)
    except OSError:
        pass
