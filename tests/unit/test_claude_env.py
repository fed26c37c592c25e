"""ClaudeEnvironment: the isolated config dir, git work dir and env vars the real CLI runs with."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from claude_tui.claude_code import project_dir_name
from claude_tui.claude_env import (
    DEFAULT_FILES,
    SCRIPTED_FLAGS,
    ClaudeEnvironment,
)
from tests.support.claude_cli import read_jsonl, tool_calls, tool_results


def test_create_lays_out_config_home_and_committed_work_dir(tmp_path: Path) -> None:
    env = ClaudeEnvironment.create(tmp_path / "sandbox", "http://127.0.0.1:9", claude_bin=Path("/bin/true"))
    config = json.loads((env.config_dir / ".claude.json").read_text())
    assert config["hasCompletedOnboarding"] is True
    assert config["theme"] == "dark"
    assert config["projects"][str(env.work_dir)]["hasTrustDialogAccepted"] is True
    assert config["customApiKeyResponses"]["approved"] == [env.api_key[-20:]]
    settings = json.loads((env.config_dir / "settings.json").read_text())
    assert settings["tui"] == "default"  # the classic main-screen renderer, not the alt-screen trial
    for rel, text in DEFAULT_FILES.items():
        assert (env.work_dir / rel).read_text() == text
    log = subprocess.run(
        ["git", "log", "--format=%s"],
        cwd=env.work_dir,
        env=env.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert log.stdout.splitlines() == ["Initial commit"]
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=env.work_dir, env=env.env(), capture_output=True, text=True
    )
    assert status.stdout == ""


def test_custom_files_replace_the_defaults(tmp_path: Path) -> None:
    env = ClaudeEnvironment.create(tmp_path, "http://127.0.0.1:9", files={"src/x.txt": "x\n"})
    assert (env.work_dir / "src" / "x.txt").read_text() == "x\n"
    assert not (env.work_dir / "app.py").exists()


def test_env_points_everything_into_the_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "real-token-must-not-leak")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    env = ClaudeEnvironment.create(tmp_path, "http://127.0.0.1:4321")
    variables = env.env({"EXTRA": "1"})
    assert variables["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:4321"
    assert variables["CLAUDE_CONFIG_DIR"] == str(env.config_dir)
    assert variables["HOME"] == str(env.home)
    assert variables["TMPDIR"] == str(env.tmp_dir)
    assert variables["DISABLE_AUTOUPDATER"] == "1"
    assert variables["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert variables["TERM"] == "xterm-256color"
    assert variables["HTTPS_PROXY"] == variables["HTTP_PROXY"] == "http://127.0.0.1:4321"  # the stub records
    assert "127.0.0.1" in variables["NO_PROXY"]
    assert variables["EXTRA"] == "1"
    assert "ANTHROPIC_AUTH_TOKEN" not in variables
    assert Path.home() != env.home


def test_argv_for_scripted_and_interactive_runs(tmp_path: Path) -> None:
    env = ClaudeEnvironment.create(tmp_path, "http://127.0.0.1:9", claude_bin=Path("/opt/claude"))
    scripted = env.argv("hello", session_id="abc")
    assert scripted[0] == "/opt/claude"
    assert scripted[1:3] == ["--session-id", "abc"]
    assert scripted[-5:] == ["-p", "hello", "--output-format", "stream-json", "--verbose"]
    assert "acceptEdits" in scripted
    assert env.argv() == ["/opt/claude", *SCRIPTED_FLAGS]


def test_argv_without_binary_says_how_to_get_one(tmp_path: Path) -> None:
    env = ClaudeEnvironment(root=tmp_path, base_url="http://127.0.0.1:9", claude_bin=None)
    with pytest.raises(FileNotFoundError, match="make setup"):
        env.argv("x")


def test_transcript_lookup_by_session_id(tmp_path: Path) -> None:
    env = ClaudeEnvironment.create(tmp_path, "http://127.0.0.1:9")
    folder = env.projects_dir / project_dir_name(env.work_dir)
    (folder / "s1" / "subagents").mkdir(parents=True)
    (folder / "s1.jsonl").write_text("{}\n")
    (folder / "s1" / "subagents" / "agent-a1.jsonl").write_text("{}\n")
    assert env.transcript_path("s1") == folder / "s1.jsonl"
    assert env.transcript_path("nope") is None
    assert env.transcripts() == [folder / "s1.jsonl"]
    assert env.subagent_transcripts("s1") == [folder / "s1" / "subagents" / "agent-a1.jsonl"]


def test_transcript_helpers_pair_calls_and_results(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    lines = [
        {
            "type": "assistant",
            "message": {"id": "m1", "content": [{"type": "tool_use", "id": "t1", "name": "Bash"}]},
        },
        {
            "type": "assistant",
            "message": {"id": "m1", "content": [{"type": "tool_use", "id": "t1", "name": "Bash"}]},
        },
        {
            "type": "user",
            "message": {"content": [{"type": "tool_result", "tool_use_id": "t1", "is_error": True}]},
        },
        {"type": "user", "message": {"content": "a prompt"}},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + '\n{"half": ')
    records = read_jsonl(path)
    assert len(records) == 4
    assert [call["id"] for call in tool_calls(records)] == ["t1"]
    assert tool_results(records)["t1"]["is_error"] is True


def test_conftest_isolates_data_dirs() -> None:
    assert "MLFLOW_TRACKING_URI" not in os.environ
    home = Path(os.environ["CLAUDE_TUI_HOME"])
    assert home.is_dir() and home != Path.home()
    assert Path(os.environ["CLAUDE_CONFIG_DIR"]) != Path.home() / ".claude"


def test_conftest_refuses_non_loopback_connections(request: pytest.FixtureRequest) -> None:
    # Ask pytest for the plugin: sys.modules["conftest"] may be another folder's conftest.py.
    conftest = next(
        plugin
        for plugin in request.config.pluginmanager.get_plugins()
        if str(getattr(plugin, "__file__", "")).endswith("tests/conftest.py")
    )
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("192.0.2.1", 9))  # TEST-NET-1: never routable
    assert conftest._violations == ["('192.0.2.1', 9)"]
    conftest._violations.clear()  # this test provoked it on purpose


@pytest.mark.slow
def test_claude_env_fixture_runs_the_real_cli(claude_env: Callable[..., ClaudeEnvironment]) -> None:
    env = claude_env({"turns": [{"match": "say hi", "steps": [[{"text": "hi there"}]]}]})
    result = env.run("please say hi", session_id="11111111-2222-3333-4444-555555555555", timeout=120)
    assert result.returncode == 0, result.stderr
    assert '"result":"hi there"' in result.stdout
    assert env.transcript_path("11111111-2222-3333-4444-555555555555") is not None
    assert env.stub is not None and env.stub.main_requests, "the CLI never reached the stub"


@pytest.mark.slow
def test_run_session_resumes_one_session(claude_env: Callable[..., ClaudeEnvironment]) -> None:
    script = {
        "turns": [
            {
                "match": "first",
                "steps": [[{"tool": "Bash", "input": {"command": "echo one"}}], [{"text": "1"}]],
            },
            {
                "match": "second",
                "steps": [[{"tool": "Bash", "input": {"command": "echo two"}}], [{"text": "2"}]],
            },
        ]
    }
    env = claude_env(script)
    session_id = "22222222-3333-4444-5555-666666666666"
    runs = env.run_session(["the first prompt", "the second prompt"], session_id, timeout=120)
    assert [done.returncode for done in runs] == [0, 0], runs[-1].stderr
    transcript = env.transcript_path(session_id)
    assert transcript is not None and env.transcripts() == [transcript]
    calls = tool_calls(read_jsonl(transcript))
    assert [call["input"]["command"] for call in calls] == ["echo one", "echo two"]
