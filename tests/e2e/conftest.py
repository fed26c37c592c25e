"""Fixtures for the path into MLflow: real sessions of the CLI against the stub, spools built from them.

- `real_session(name)`: runs the bundled scenario `name` with the real CLI (`claude -p`, first prompt) and
  returns a `RealSession` (its transcript, work dir, config dir and scenario).
- `make_spool(session, ...)`: a spool as the app leaves it: meta, a live recording, `events.jsonl` from the
  transcript, `clean.txt`, git changes and (unless `finished=False`) `summary.json`.
- `store_uri`: a fresh sqlite tracking store in a temp dir.
- `mlflow_server`: a real `mlflow server` on 127.0.0.1; `auth_mlflow_server` the same with basic auth (admin
  password `ADMIN_PASSWORD`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from claude_tui.claude_env import ClaudeEnvironment
from claude_tui.parsing import TranscriptTail, event_to_dict
from claude_tui.scenarios import load_scenario
from claude_tui.terminal.recorder import CastRecorder
from claude_tui.tracking.gitinfo import capture_changes, git_state
from claude_tui.tracking.spool import RunSpool

STREAM = Path(__file__).resolve().parent.parent / "data" / "streams" / "claude_session.bin"
SESSION_SECONDS = 45.0
"""How long the spool says the session ran (the seed search `duration_seconds > 30` must find it)."""


@dataclass
class RealSession:
    """A finished run of the real CLI against the stub."""

    name: str
    scenario: dict[str, Any]
    env: ClaudeEnvironment
    session_id: str
    transcript: Path
    git_start: dict[str, Any]


@pytest.fixture
def real_session(claude_env: Callable[..., ClaudeEnvironment]) -> Callable[[str], RealSession]:
    """A factory running one bundled scenario's first prompt with the real CLI."""

    def make(name: str) -> RealSession:
        scenario = load_scenario(name)
        env = claude_env(name)
        git_start = git_state(env.work_dir)
        session_id = str(uuid.uuid4())
        proc = env.run(scenario["prompts"][0], session_id=session_id)
        assert proc.returncode == 0, proc.stderr[-2000:]
        transcript = env.transcript_path(session_id)
        assert transcript is not None, "the CLI wrote no transcript"
        return RealSession(name, scenario, env, session_id, transcript, git_start)

    return make


SpoolFactory = Callable[..., RunSpool]


@pytest.fixture
def make_spool(tmp_path: Path) -> SpoolFactory:
    """A factory for spools built from a `RealSession` (see the module docstring)."""

    def make(
        session: RealSession,
        *,
        finished: bool = True,
        exit_code: int | None = 0,
        output: list[bytes] | None = None,
        clean_text: str | None = None,
        root: Path | None = None,
        **meta_overrides: Any,
    ) -> RunSpool:
        end = time.time()
        meta: dict[str, Any] = {
            "session_id": session.session_id,
            "argv": [str(session.env.claude_bin), "--session-id", session.session_id],
            "command": "claude",
            "args": ["--permission-mode", "acceptEdits", session.scenario["prompts"][0]],
            "cwd": str(session.env.work_dir),
            "start_time": end - SESSION_SECONDS,
            "git": session.git_start,
            "tracking_uri": None,
            "experiment": "claude-sessions",
            "tags": {"team": "core"},
            "procedure_name": None,
            "issue_number": None,
            "redact": True,
            "claude_config_dir": str(session.env.config_dir),
            "transcript_path": None,
            "pid": 0,
            "claude_version": "2.1.328",
            "tui_version": "0.1.0",
            "terminal": {"cols": 120, "rows": 40},
        }
        meta.update(meta_overrides)
        spool = RunSpool.create(meta, root)
        recorder = CastRecorder(spool.recording_path, 120, 40, command="claude")
        for chunk in output if output is not None else [STREAM.read_bytes()]:
            recorder.output(chunk)
        recorder.close()
        tail = TranscriptTail(session.transcript)
        spool.append_events(event_to_dict(e) for e in tail.poll(final=True))
        if clean_text is not None:
            spool.write_file("clean.txt", clean_text)
        if session.git_start.get("commit"):
            diff, commits = capture_changes(session.env.work_dir, session.git_start["commit"])
            spool.write_file("git/changes.diff", diff)
            spool.write_file("git/commits.txt", commits)
        if finished:
            spool.finish({"end_time": end, "exit_code": exit_code, "signal": None, "killed": False})
        spool.close()
        return spool

    return make


@pytest.fixture
def store_uri(tmp_path: Path) -> str:
    """A fresh local sqlite tracking store."""
    folder = tmp_path / "store"
    folder.mkdir()
    return f"sqlite:///{folder / 'mlflow.db'}"


@contextlib.contextmanager
def running_mlflow_server(folder: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`mlflow server ARGS` on 127.0.0.1 with a sqlite backend in `folder`, in its own process group (the
    whole group is stopped after); yields its URL once `/health` answers."""
    from tests.support.team_server import START_TIMEOUT, free_port, stop_group, wait_until_up

    port = free_port()
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(mlflow_bin), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
             "--backend-store-uri", f"sqlite:///{folder / 'server.db'}",
             "--artifacts-destination", str(folder / "server-artifacts"), *args],
            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **(env or {})},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=folder,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_up(url, proc, log_path, START_TIMEOUT)
        except RuntimeError as exc:
            pytest.fail(str(exc))
        yield url
    finally:
        stop_group(proc)


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[str]:
    """`mlflow server` on 127.0.0.1 with a sqlite backend, in its own process group (killed after)."""
    with running_mlflow_server(tmp_path) as url:
        yield url


ADMIN_PASSWORD = "admin-password-for-tests"
"""The basic-auth server's admin password (MLflow wants at least 12 characters)."""


@pytest.fixture
def auth_mlflow_server(tmp_path: Path) -> Iterator[str]:
    """`mlflow server --app-name basic-auth` (user `admin`, password `ADMIN_PASSWORD`)."""
    config = tmp_path / "basic_auth.ini"
    config.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{tmp_path / 'basic_auth.db'}\n"
        "admin_username = admin\n"
        f"admin_password = {ADMIN_PASSWORD}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    env = {"MLFLOW_AUTH_CONFIG_PATH": str(config), "MLFLOW_FLASK_SERVER_SECRET_KEY": "tests-only-secret"}
    with running_mlflow_server(tmp_path, "--app-name", "basic-auth", env=env) as url:
        yield url


@pytest.fixture(scope="session")
def team() -> Iterator[Any]:
    """A team's set-up, once per test session: PostgreSQL started by the test and `mlflow server
    --app-name basic-auth` on it with proxied artifacts (`tests.support.team_server`, docs/team.md).

    Users `alice` and `bob` exist; `team.env(name)` is what a member's environment holds.
    """
    from tests.support.team_server import team_server

    with team_server() as server:
        server.create_user("alice", "alice-password-0123")
        server.create_user("bob", "bob-password-45678")
        yield server
