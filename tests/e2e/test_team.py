"""claude-tui at team scale, end to end: MLflow's own server on PostgreSQL with basic auth (issue 17).

One server for the whole test session (`team` in conftest: PostgreSQL started by the test from Debian's
package, `mlflow server --app-name basic-auth` on it, artifacts proxied by the server). Through it, as team
members do: a live session of the real CLI (`claude-tui demo`), `import`, the History query and `export`;
then who each run is attributed to, that credentials are never stored, that a bearer token works for every
command, that per-experiment permissions hold, and that a refusal is one line naming the variable to set.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pexpect
import pytest

from claude_tui.terminal.emulator import TerminalEmulator
from tests.e2e.faults import claude_tui, command_spool
from tests.helpers import wait_until

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"
REALISTIC_ID = "093a2a76-521f-534f-9633-17c094a8787e"
COLS, ROWS = 160, 45
ALICE = "alice@team.example"
"""The `user` alice's settings file names."""


def member_env(team: Any, name: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """A team member's environment: the server, their credentials and their settings file."""
    settings = tmp_path / f"{name}-config.toml"
    if not settings.exists():
        settings.write_text(f'user = "{name}@team.example"\n')
    return {**team.env(name), "CLAUDE_TUI_CONFIG": str(settings), **extra}


def live_demo_session(env: dict[str, str], experiment: str) -> str:
    """`claude-tui demo --scenario parallel_tools` in a PTY, as a user runs it; returns the printed run id."""
    full = {k: v for k, v in {**os.environ, **env}.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_CODE"))}
    full.pop("CLAUDE_CONFIG_DIR", None)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "claude_tui", "demo", "--scenario", "parallel_tools", "--experiment", experiment],
        env=full,
        dimensions=(ROWS, COLS),
        timeout=10,
    )
    screen = TerminalEmulator(COLS, ROWS)
    output = bytearray()

    def wait_for(pattern: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, "\n".join(screen.display)):
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {pattern!r}; screen:\n" + "\n".join(screen.display))
            try:
                data = child.read_nonblocking(1 << 16, timeout=0.2)
            except pexpect.TIMEOUT:
                continue
            output.extend(data)
            screen.feed(data)

    try:
        wait_for(r"Tool uses\s+6\b")
        wait_for(r"✻ \w+ for \d+s")  # the turn has ended: the prompt box takes input again
        child.send("/exit")
        wait_for(r"❯\s*/exit")  # Claude has read it: an Enter in the same read would be part of a paste
        child.send("\r")
        child.expect(pexpect.EOF, timeout=180)
    finally:
        child.close(force=True)
    log = bytes(output).decode(errors="replace") + (child.before or b"").decode(errors="replace")
    # claude-tui exits at once and the session owner's logger process logs the session: `ls --json` gives
    # the run once it is logged.
    match = re.search(r"Logging session ([0-9a-f]{8}) ", log)
    assert match, log[-2000:]
    assert child.exitstatus == 0, log[-2000:]

    def logged_run() -> str | None:
        listed = claude_tui("ls", "--json", env=env)
        assert listed.returncode == 0, listed.stderr
        [session] = [s for s in json.loads(listed.stdout) if str(s["id"]).startswith(match.group(1))]
        assert session["state"] != "not logged", session
        return str(session["run_id"]) if session["state"] == "logged" else None

    run_id = wait_until(logged_run, 180, "the owner's logger process to log the live session")
    assert isinstance(run_id, str)
    return run_id


def traces_of(uri: str, experiment_id: str, run_id: str) -> list[Any]:
    import mlflow

    from claude_tui.tracking.store import global_tracking_uri

    with global_tracking_uri(uri):
        return list(mlflow.search_traces(locations=[experiment_id], run_id=run_id, return_type="list"))


def files_text(*roots: Path) -> str:
    """Every file under `roots`, as text (to search for a credential)."""
    texts = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                texts.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(texts)


def test_live_session_import_history_and_export_through_postgres_with_basic_auth(
    team: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, owner_processes: Any
) -> None:
    experiment = "team-sessions"
    env = member_env(team, "alice", tmp_path)
    home = Path(os.environ["CLAUDE_TUI_HOME"])

    live_run = live_demo_session(env, experiment)

    data = tmp_path / "transcripts"
    shutil.copytree(DATA / "realistic", data)
    imported = claude_tui("import", str(data), "--min-age", "0", "--experiment", experiment, env=env)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "imported 1" in imported.stdout, imported.stdout

    for name, value in env.items():  # the History query runs in this process, as the app's worker does
        monkeypatch.setenv(name, value)
    from claude_tui.history.query import RunQuery

    query = RunQuery(team.url, experiment)
    page = query.search()
    assert len(page.rows) == 2
    by_name = {row.run_id: row for row in page.rows}
    assert live_run in by_name and by_name[live_run].tools == 6
    busy = query.search("metrics.tool_uses > 10")  # filtered by the server
    assert [row.tools for row in busy.rows] == [11] and busy.rows[0].name.startswith("Add a farewell")

    exported = claude_tui("export", "--format", "json", "--experiment", experiment, env=env)
    assert exported.returncode == 0, exported.stderr
    rows = json.loads(exported.stdout)
    assert {row["run_id"] for row in rows} == set(by_name)

    # Attribution: the settings' user on the run, as MLflow's user_id too, and on the trace.
    from mlflow import MlflowClient

    client = MlflowClient(team.url)
    this_repo = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    for run_id in by_name:
        run = client.get_run(run_id)
        tags = run.data.tags
        assert run.info.user_id == ALICE and tags["mlflow.user"] == ALICE
        assert tags["host"] and "git.remote" not in tags  # neither work dir has a remote
        traces = traces_of(team.url, run.info.experiment_id, run_id)
        assert len(traces) == (2 if run_id != live_run else 1)  # one per turn; the imported session has two
        for trace in traces:
            metadata = trace.info.trace_metadata
            assert metadata["mlflow.trace.user"] == ALICE
            assert metadata["mlflow.trace.session"] == tags["claude.session_id"]
            # The session's git state, not that of the directory the logger ran in (this repository).
            assert metadata["mlflow.source.git.branch"] == tags.get("git.branch", "")
            assert metadata["mlflow.source.git.commit"] == tags.get("git.commit", "")
            assert metadata["mlflow.source.git.commit"] != this_repo
    assert by_name[live_run].name.startswith("Give me an overview")

    # The password is nowhere: not in the database, the artifacts, the spools or the data dir, not printed.
    password = team.users["alice"]
    assert password not in team.postgres.dump("mlflow")
    assert password not in files_text(team.artifacts, home)
    assert password not in imported.stdout + imported.stderr + exported.stdout + exported.stderr


def test_bearer_token_and_per_experiment_permissions(
    team: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = "team-permissions"
    alice = member_env(team, "alice", tmp_path)
    token = "bob-token-0b7d2c9e5a"
    team.add_token(token, "bob")
    bob = {
        "MLFLOW_TRACKING_URI": team.url,
        "MLFLOW_TRACKING_TOKEN": token,
        "CLAUDE_TUI_CONFIG": str(tmp_path / "bob-config.toml"),
    }
    (tmp_path / "bob-config.toml").write_text('user = "bob@team.example"\n')
    spools = tmp_path / "spools"

    # alice's experiment: bob (no permission by default on this server) is refused in one line.
    command_spool(spools)
    first = claude_tui("sync", "--spool-root", str(spools), "--experiment", experiment, env=alice)
    assert first.returncode == 0, first.stdout + first.stderr
    spool = command_spool(spools)
    refused = claude_tui("sync", "--spool-root", str(spools), "--experiment", experiment, env=bob)
    out = refused.stdout + refused.stderr
    assert refused.returncode == 1 and "Traceback" not in out, out
    assert "forbidden: " in out and "MLFLOW_TRACKING_USERNAME" in out and token not in out, out
    assert spool.path.exists()

    # The admin gives bob EDIT on it (docs/team.md): every command works with his token.
    from mlflow import MlflowClient

    for name, value in team.env("alice").items():
        monkeypatch.setenv(name, value)
    experiment_id = MlflowClient(team.url).get_experiment_by_name(experiment).experiment_id
    team.grant_experiment(experiment_id, "bob", "EDIT")
    synced = claude_tui("sync", "--spool-root", str(spools), "--experiment", experiment, env=bob)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    data = tmp_path / "transcripts"
    shutil.copytree(DATA / "failing", data)
    imported = claude_tui("import", str(data), "--min-age", "0", "--experiment", experiment, env=bob)
    assert imported.returncode == 0 and "imported 1" in imported.stdout, imported.stdout + imported.stderr
    exported = claude_tui("export", "--format", "json", "--experiment", experiment, env=bob)
    assert exported.returncode == 0, exported.stderr
    users = sorted(row["tags.mlflow.user"] for row in json.loads(exported.stdout))
    assert users == ["alice@team.example", "bob@team.example", "bob@team.example"]
    home = Path(os.environ["CLAUDE_TUI_HOME"])
    assert token not in team.postgres.dump("mlflow") + files_text(team.artifacts, home, spools)


@pytest.mark.parametrize(
    ("credentials", "wanted"),
    [
        ({}, "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN"),
        (
            {"MLFLOW_TRACKING_USERNAME": "alice", "MLFLOW_TRACKING_PASSWORD": "wrong-password-1"},
            "set MLFLOW_TRACKING_PASSWORD to 'alice''s password",
        ),
        ({"MLFLOW_TRACKING_TOKEN": "not-a-token-77"}, "set MLFLOW_TRACKING_TOKEN to a valid token"),
    ],
    ids=["none", "wrong-password", "wrong-token"],
)
def test_a_refused_login_is_one_line_naming_the_variable(
    team: Any, tmp_path: Path, credentials: dict[str, str], wanted: str
) -> None:
    spools = tmp_path / "spools"
    command_spool(spools)
    env = {"MLFLOW_TRACKING_URI": team.url, **credentials}
    for args in (
        ["sync", "--spool-root", str(spools)],
        ["import", str(DATA / "failing"), "--min-age", "0"],
        ["export"],
        ["history"],
    ):
        result = claude_tui(*args, env=env, timeout=120)
        out = (result.stdout + result.stderr).strip()
        assert result.returncode in (1, 2) and "Traceback" not in out, out
        line = next(line for line in out.splitlines() if "unauthorized" in line)
        assert f"unauthorized: {team.url} refused the credentials ({wanted})" in line, (args[0], out)
        for secret in credentials.values():
            if "wrong" in secret or "token" in secret:
                assert secret not in out
