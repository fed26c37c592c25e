"""A spool whose meta.json is truncated, garbage or gone is reported and recovered (issue 13, item 7).

Before: `claude-tui sync` skipped such a spool with "nothing to sync" and exit 0, forever. Now it prints a
FAIL line (exit 1) and logs what is left (session id from the folder name, the recording, the events) as a
KILLED run, tagged with why; the next sync has nothing left to report.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from claude_tui.tracking.spool import META, RunSpool, list_spools
from tests.e2e.faults import claude_tui, command_spool

pytestmark = pytest.mark.slow


def run_of(db: Path, session_id: str) -> dict[str, object]:
    """The run logged for a session, read straight from the sqlite store: status, tags, artifacts."""
    with sqlite3.connect(db) as connection:
        row = connection.execute(
            "SELECT runs.run_uuid, runs.status, runs.artifact_uri FROM runs JOIN tags USING (run_uuid) "
            "WHERE tags.key = 'claude.session_id' AND tags.value = ?",
            (session_id,),
        ).fetchall()
        assert len(row) == 1, row
        run_id, status, artifact_uri = row[0]
        tags = dict(
            connection.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,)).fetchall()
        )
    root = Path(artifact_uri.removeprefix("file://"))
    artifacts = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return {"status": status, "tags": tags, "artifacts": artifacts, "root": root}


def break_meta(spool: RunSpool, how: str) -> None:
    meta = spool.path / META
    text = meta.read_text()
    if how == "truncated":
        meta.write_text(text[: text.index('"args"')])  # session_id, argv, command survive; the rest is cut
    elif how == "garbage":
        meta.write_bytes(b"\x00\xff garbage \x9c" * 40)
    else:
        meta.unlink()


@pytest.mark.parametrize("how", ["truncated", "garbage", "missing"])
def test_a_spool_with_a_broken_meta_is_reported_and_recovered(tmp_path: Path, how: str) -> None:
    spools = tmp_path / "spools"
    db = tmp_path / "store" / "mlflow.db"
    healthy = command_spool(spools)
    broken = command_spool(spools, output=b"\x1b[1mrecorded output of the broken session\x1b[0m\r\n")
    broken.append_events([{"type": "tool_call", "ts": 1.0, "name": "Bash", "id": "toolu_1", "input": {}}])
    broken.close()
    break_meta(broken, how)

    result = claude_tui("sync", "--spool-root", str(spools), "--tracking-uri", f"sqlite:///{db}")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output and "nothing to sync" not in output
    lines = output.splitlines()
    assert f"ok   {healthy.session_id}: logged finished session as run " in output
    fail = next(line for line in lines if line.startswith("FAIL "))
    assert fail.startswith(f"FAIL {broken.session_id}: ")  # the session id, from the folder name
    assert "recovered the recording and events as run " in fail and "(KILLED)" in fail
    reason = {"truncated": "is not valid JSON", "garbage": "is not valid JSON", "missing": "no meta.json"}[
        how
    ]
    assert reason in fail, fail

    run = run_of(db, broken.session_id)
    assert run["status"] == "KILLED"
    tags = run["tags"]
    assert isinstance(tags, dict) and reason in tags["claude.meta_unreadable"]
    assert "transcript/raw.cast" in run["artifacts"] and "events.jsonl" in run["artifacts"]
    root = run["root"]
    assert isinstance(root, Path)
    assert "recorded output of the broken session" in (root / "transcript/raw.cast").read_text()
    assert json.loads((root / "events.jsonl").read_text().splitlines()[0])["name"] == "Bash"
    if how == "truncated":
        assert (
            tags["mlflow.source.name"] == "claude-tui"
            and run_of(db, healthy.session_id)["status"] == "FINISHED"
        )

    # Reported once, logged once: nothing is left behind to report forever.
    assert list_spools(spools) == []
    again = claude_tui("sync", "--spool-root", str(spools), "--tracking-uri", f"sqlite:///{db}")
    assert (again.returncode, again.stdout) == (0, "nothing to sync\n")
