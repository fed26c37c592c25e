"""One bad value never poisons a session (issue 13, item 8).

- A `--tag` MLflow would refuse is refused at start, in one line, exit status 2, before a session exists
  (it used to be accepted, then failed the session's logging and every later sync).
- A spool that holds one anyway (written by an earlier version, or by hand), or a tool name too long for a
  metric key, is logged: the bad key dropped or cut, with a warning on the command line and on the run.
- A settings file with a value of the wrong type is refused by every command alike, in one line naming
  the key (`sync`, `export` and `stats` used to ignore what `run` rejected).
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.e2e.faults import claude_tui, command_spool

pytestmark = pytest.mark.slow

LONG_KEY = "k" * 251


def test_a_tag_mlflow_would_refuse_is_refused_at_start(tmp_path: Path, owner_processes: Any) -> None:
    home = Path(os.environ["CLAUDE_TUI_HOME"])
    child = pexpect.spawn(
        sys.executable,
        ["-m", "claude_tui", "--tag", f"{LONG_KEY}=x", "--command", "true"],
        cwd=str(tmp_path),
        env=dict(os.environ),
        dimensions=(40, 120),
        timeout=60,
    )
    child.expect(pexpect.EOF)
    child.close()
    output = (child.before or b"").decode(errors="replace").strip()
    assert child.exitstatus == 2, output
    assert output.splitlines() == [
        f"claude-tui: --tag: the key '{'k' * 37}...' is 251 characters long; MLflow allows 250"
    ]
    assert not list((home / "spool").glob("*")) if (home / "spool").exists() else True  # no session began


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--tag", "a/../b=1"], "--tag: the key 'a/../b' reads as a file path that names another one ('b')"),
        (["--tag", "bad!=1"], "--tag: the key 'bad!' may only hold letters, digits, spaces and _ - . : /"),
        (
            ["--experiment", "e" * 501],
            "--experiment: the experiment name is 501 characters long; MLflow allows 500",
        ),
    ],
)
def test_other_refused_values_at_start(tmp_path: Path, option: list[str], message: str) -> None:
    result = claude_tui(*option, "--command", "true")
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"claude-tui: {message}\n")


def test_a_spool_holding_bad_values_is_logged_with_warnings(tmp_path: Path) -> None:
    spools = tmp_path / "spools"
    db = tmp_path / "store" / "mlflow.db"
    spool = command_spool(spools, tags={LONG_KEY: "poison", "team": "core", "note": "n" * 9000})
    tool = "mcp__" + "x" * 300  # an MCP tool name too long for the tool_uses.<name> metric key
    spool.append_events([{"type": "tool_call", "ts": 1.0, "id": "toolu_1", "name": tool, "input": {}}])
    spool.close()

    result = claude_tui("sync", "--spool-root", str(spools), "--tracking-uri", f"sqlite:///{db}")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"ok   {spool.session_id}: logged finished session as run ")
    assert lines[1:] == [
        f"warn {spool.session_id}: tag dropped: the key '{'k' * 37}...' is 251 characters long; "
        "MLflow allows 250",
    ]
    with sqlite3.connect(db) as connection:
        tags = dict(connection.execute("SELECT key, value FROM tags").fetchall())
        metrics = {key for (key,) in connection.execute("SELECT key FROM latest_metrics")}
    # A long value is cut by design (tracking.record.TAG_MAX), below MLflow's limit: no warning needed.
    assert tags["team"] == "core" and len(tags["note"]) == 5000 and LONG_KEY not in tags
    assert "is 251 characters long" in tags["claude.logging_warnings"]
    assert f"tool_uses.{tool}"[:250] in metrics  # cut to MLflow's 250, still counted


SETTINGS = [
    ('redact = "no"\n', "redact must be true or false (no quotes), got 'no'"),
    ("experiment = 5\n", "experiment must be a name in quotes, got 5"),
    ('tracking_uri = ""\n', "tracking_uri must be a URI in quotes, got ''"),
    (
        'experimnet = "typo"\n',
        "unknown setting 'experimnet' "
        "(known: tracking_uri, experiment, redact, worktree_dir, notify, notify_command, hooks, alerts, "
        "user, content, tags)",
    ),
    # The organisation's file (written by the test) locks `redact`.
    (
        "redact = false\n",
        "redact is locked by {system} (the organisation's settings); remove it from your file",
    ),
]
COMMANDS = [
    ["--command", "true"],
    ["sync"],
    ["export", "--format", "json"],
    ["stats", "{transcript}"],
    ["replay", "{transcript}", "--print-screen"],
    ["import", "{transcript}", "--dry-run"],
    ["history"],
    ["ui", "status"],
]


@pytest.mark.parametrize(
    ("content", "message"), SETTINGS, ids=["redact", "experiment", "uri", "unknown", "locked"]
)
def test_every_command_refuses_a_broken_settings_file_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, message: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(content)
    monkeypatch.setenv("CLAUDE_TUI_CONFIG", str(config))
    system = tmp_path / "system.toml"
    system.write_text('redact = true\nlocked = ["redact"]\n')
    monkeypatch.setenv("CLAUDE_TUI_SYSTEM_CONFIG", str(system))
    message = message.format(system=system)
    transcript = tmp_path / "t.jsonl"
    transcript.write_text("{}\n")
    answers = {}
    for command in COMMANDS:
        args = [word.format(transcript=transcript) for word in command]
        result = claude_tui(*args, timeout=60)
        answers[command[0]] = (result.returncode, result.stdout, result.stderr)
    expected = (2, "", f"claude-tui: {config}: {message}\n")
    assert answers == dict.fromkeys(answers, expected)
