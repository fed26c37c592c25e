"""Nothing lost: a session whose process is killed mid-session (the session owner, which runs the program) is
logged by the next sync as KILLED, exactly once; a store that refuses connections keeps the session for a
later sync."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pexpect
import pytest

from claude_tui.claude_env import SCRIPTED_FLAGS
from claude_tui.scenarios import scenario_prompts

pytestmark = pytest.mark.slow

CLAUDE_TUI = [sys.executable, "-m", "claude_tui"]


def spools(home: Path) -> list[Path]:
    root = home / "spool"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []


def tool_calls_in(spool: Path) -> int:
    events = spool / "events.jsonl"
    if not events.exists():
        return 0
    return sum(1 for line in events.read_text().splitlines() if json.loads(line).get("type") == "tool_call")


def run_cli(args: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    argv = [*CLAUDE_TUI, *args]
    return subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_claude_tui(args: list[str], env: dict[str, str], cwd: Path) -> Any:
    return pexpect.spawn(
        CLAUDE_TUI[0], [*CLAUDE_TUI[1:], *args], env=env, cwd=str(cwd), dimensions=(40, 140), timeout=60
    )


def test_sigkill_then_sync_logs_killed_once(
    claude_env: Any, tmp_path: Path, owner_processes: Callable[[], list[int]]
) -> None:
    env = claude_env("realistic")
    home = Path(os.environ["CLAUDE_TUI_HOME"])
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    child_env = {**os.environ, **env.env(), "CLAUDE_TUI_HOME": str(home)}
    prompt = scenario_prompts("realistic")[0]
    args = ["--tracking-uri", store, "--experiment", "e2e", "--command", str(env.claude_bin), prompt, "--",
            *SCRIPTED_FLAGS]  # fmt: skip
    child = start_claude_tui(args, child_env, env.work_dir)
    try:
        deadline = time.monotonic() + 120
        while not (spools(home) and tool_calls_in(spools(home)[0]) >= 3):
            assert time.monotonic() < deadline, "the session never got going"
            assert child.isalive(), "claude-tui ended on its own"
            try:
                child.read_nonblocking(65536, timeout=0.2)  # keep the PTY drained
            except pexpect.TIMEOUT:
                pass
        [owner] = owner_processes()  # holds the program's terminal and the spool's lock
        os.kill(owner, signal.SIGKILL)
        child.expect(pexpect.EOF)  # the window saw its owner go
    finally:
        child.close(force=True)
    (spool,) = spools(home)
    assert not (spool / "summary.json").exists()
    cast_lines = (spool / "recording.cast").read_text().splitlines()
    assert json.loads(cast_lines[0])["version"] == 2 and len(cast_lines) > 5

    first = run_cli(["sync", "--tracking-uri", store, "--experiment", "e2e"], child_env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "KILLED" in first.stdout
    assert not spool.exists(), "a logged spool is removed"
    second = run_cli(["sync", "--tracking-uri", store, "--experiment", "e2e"], child_env)
    assert second.returncode == 0, second.stdout + second.stderr

    from mlflow import MlflowClient

    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("e2e")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1, "one session is one run, however often sync runs"
    run = runs[0]
    assert run.info.status == "KILLED"
    assert run.data.metrics["success"] == 0
    assert run.data.metrics["tool_uses"] >= 3
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "transcript")}
    assert "transcript/raw.cast" in artifacts


def test_unreachable_store_keeps_the_session_until_sync(tmp_path: Path, owner_processes: Any) -> None:
    home = Path(os.environ["CLAUDE_TUI_HOME"])
    dead_store = f"http://127.0.0.1:{closed_port()}"
    child_env = {
        **os.environ,
        "CLAUDE_TUI_HOME": str(home),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
    }
    program = tmp_path / "prog.sh"
    program.write_text("#!/bin/sh\necho 'all done'\nsleep 4\n")  # past the app's mlflow warm-up
    program.chmod(0o755)
    child = start_claude_tui(["--tracking-uri", dead_store, "--command", str(program)], child_env, tmp_path)
    child.expect(pexpect.EOF, timeout=120)
    child.close()
    output = child.before.decode(errors="replace")
    assert child.exitstatus == 0, output
    assert "Not logged to MLflow" in output and "claude-tui sync" in output
    assert "Traceback" not in output
    (spool,) = spools(home)
    deadline = time.monotonic() + 60  # the owner's logger keeps it when the store does not answer
    while (spool / ".not-logged").exists() is False and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (spool / "summary.json").exists()

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    synced = run_cli(["sync", "--tracking-uri", store], child_env)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert not spool.exists()
    from mlflow import MlflowClient

    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("claude-sessions")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED" and run.data.metrics["success"] == 1
    assert run.data.params["command"] == str(program)
