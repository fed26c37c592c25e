"""Claude Code's on-disk layout and command line (`claude_tui.claude_code`), table-driven."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_tui import claude_code
from claude_tui.claude_code import (
    ENV_CLAUDE_BIN,
    config_dir,
    find_claude_binary,
    find_transcript,
    is_claude,
    is_subagent_file,
    program_argv,
    session_files,
    subagent_dir,
)


@pytest.mark.parametrize(
    ("command", "expected"),
    [("claude", True), ("/opt/bin/claude", True), ("claude.exe", True), ("bash", False), ("claude2", False)],
)
def test_is_claude(command: str, expected: bool) -> None:
    assert is_claude(command) is expected


def test_program_argv_gives_claude_a_session_id_and_ends_its_options() -> None:
    argv = program_argv(
        "/bin/claude", command="claude", session_id="S", args=["--allowedTools", "Bash"], prompt="go"
    )
    assert argv == ["/bin/claude", "--session-id", "S", "--allowedTools", "Bash", "--", "go"]
    assert program_argv("/bin/sh", command="sh", session_id="S", args=[], prompt="x") == ["/bin/sh", "x"]
    # The caller's own `--` already ends the options.
    assert program_argv("/c", command="claude", session_id="S", args=["--", "a"], prompt="b") == [
        "/c", "--session-id", "S", "--", "a", "b",
    ]  # fmt: skip


def test_find_claude_binary_prefers_the_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "claude"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv(ENV_CLAUDE_BIN, str(fake))
    assert find_claude_binary() == fake
    monkeypatch.setenv(ENV_CLAUDE_BIN, str(tmp_path / "missing"))
    assert find_claude_binary() is None


def test_config_dir_is_the_env_variable_else_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path))
    assert config_dir() == tmp_path
    assert config_dir({"CLAUDE_CONFIG_DIR": "/elsewhere"}) == Path("/elsewhere")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config_dir({}) == tmp_path / "home" / ".claude"


def test_transcript_lookup_by_id_and_subagent_files(tmp_path: Path) -> None:
    folder = tmp_path / claude_code.PROJECTS / "-srv-app"
    agents = folder / "s[1]" / claude_code.SUBAGENTS
    agents.mkdir(parents=True)
    transcript = folder / "s[1].jsonl"
    transcript.write_text("{}\n")
    (agents / "agent-a1.jsonl").write_text("{}\n")
    (agents / "agent-a1.meta.json").write_text("{}\n")
    # Glob characters in an id are taken literally.
    assert find_transcript(tmp_path, "s[1]") == transcript
    assert find_transcript(tmp_path, "s?1?") is None
    assert find_transcript(tmp_path / "none", "s[1]") is None
    assert subagent_dir(transcript) == agents
    assert is_subagent_file(agents / "agent-a1.jsonl") and not is_subagent_file(transcript)
    assert session_files(transcript) == [
        transcript, agents / "agent-a1.jsonl", agents / "agent-a1.meta.json",
    ]  # fmt: skip
