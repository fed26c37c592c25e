"""Claude Code's project folders as the pinned CLI itself names them, for work dirs with unusual names.

The real CLI runs once (`-p`, against the stub) in each of several work dirs: non-ASCII letters, an emoji,
spaces, dots and underscores, and a path long enough that the CLI cuts the folder name and adds a hash.
Then `claude-tui stats <session id>` and `claude-tui import --project DIR` (also through a symlink to the
work dir) must find each session, and `claude_code.project_dir_name` must give the folder the CLI wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from claude_tui.claude_env import ClaudeEnvironment
from claude_tui.cli import main
from claude_tui.stub_api import StubServer

pytestmark = pytest.mark.slow

SCENARIO = {"turns": [{"match": "Say hello", "steps": [[{"text": "Hello from an odd directory."}]]}]}

ODD_NAMES = (
    "café au lait",
    "emoji 😀 dir.with_dots-and_underscores",
    # 260+ characters in all: the CLI cuts the folder name at 200 and adds a hash of the path.
    "日本語 " + "x" * 150 + "/" + "ÿ" * 100,
)


@pytest.fixture(scope="module")
def sessions(
    tmp_path_factory: pytest.TempPathFactory, claude_bin: Path
) -> tuple[ClaudeEnvironment, dict[Path, str]]:
    """The CLI run once in each odd work dir of one environment: (environment, {work dir: session id})."""
    stub = StubServer(SCENARIO).start()
    try:
        env = ClaudeEnvironment.create(tmp_path_factory.mktemp("layout"), stub.url, claude_bin=claude_bin)
        made: dict[Path, str] = {}
        for name in ODD_NAMES:
            work = env.root / "odd" / name
            work.mkdir(parents=True)
            session_id = str(uuid.uuid4())
            done = subprocess_run(env, work, session_id)
            assert done.returncode == 0, done.stderr
            made[work] = session_id
        assert not stub.outbound_requests
        return env, made
    finally:
        stub.stop()


def subprocess_run(env: ClaudeEnvironment, work: Path, session_id: str) -> subprocess.CompletedProcess[str]:
    """One non-interactive run of the CLI with `session_id` in `work`."""
    return subprocess.run(
        env.argv("Say hello", session_id=session_id),
        cwd=work,
        env=env.env(),
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def claude_tui(
    sessions: tuple[ClaudeEnvironment, dict[Path, str]], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Any]:
    """`claude-tui ARGS...` in this process, with the environment's config dir as Claude's."""
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(sessions[0].config_dir))

    def run(*args: str) -> Any:
        result = CliRunner().invoke(main, list(args))
        assert "Traceback" not in result.output, result.output
        return result

    return run


def test_stats_finds_each_session_by_id(
    sessions: tuple[ClaudeEnvironment, dict[Path, str]], claude_tui: Callable[..., Any]
) -> None:
    _, made = sessions
    for work, session_id in made.items():
        result = claude_tui("stats", session_id, "--json")
        assert result.exit_code == 0, result.output
        (stats,) = json.loads(result.output)
        assert Path(stats["path"]).name == f"{session_id}.jsonl"
        assert (stats["cwd"], stats["user_prompts"]) == (str(work), 1)


def test_import_project_finds_each_work_dirs_session(
    sessions: tuple[ClaudeEnvironment, dict[Path, str]], claude_tui: Callable[..., Any]
) -> None:
    """`--project DIR` alone looks in DIR's project folder; each dir gets its own session and no other."""
    _, made = sessions
    for work, session_id in made.items():
        result = claude_tui("import", "--project", str(work), "--dry-run", "--min-age", "0")
        assert result.exit_code == 0, result.output
        assert f"would import {session_id}" in result.output
        assert "would import 1," in result.output, result.output


def test_import_project_through_a_symlink(
    sessions: tuple[ClaudeEnvironment, dict[Path, str]], claude_tui: Callable[..., Any], tmp_path: Path
) -> None:
    """The CLI records the real path; a project named through a symlink is the same directory."""
    env, made = sessions
    work, session_id = next(iter(made.items()))
    link = tmp_path / "link to work"
    link.symlink_to(work)
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = claude_tui("import", str(env.config_dir), "--project", str(link), "--dry-run", "--min-age", "0")
    assert result.exit_code == 0 and f"would import {session_id}" in result.output, result.output
    result = claude_tui("import", "--project", str(link), "--min-age", "0", "--tracking-uri", store)
    assert result.exit_code == 0, result.output
    assert f"imported {session_id} (run " in result.output and "imported 1," in result.output


def test_project_dir_name_is_the_folder_the_cli_wrote(
    sessions: tuple[ClaudeEnvironment, dict[Path, str]],
) -> None:
    from claude_tui import claude_code

    env, made = sessions
    for work, session_id in made.items():
        transcript = claude_code.find_transcript(env.config_dir, session_id)
        assert transcript is not None
        assert transcript.parent.name == claude_code.project_dir_name(os.path.realpath(work))
        assert claude_code.project_dirs(env.config_dir, work) == [transcript.parent]
    long_folder = claude_code.project_dir_name(os.path.realpath(list(made)[-1]))
    assert len(long_folder) > claude_code.MAX_FOLDER_CHARS  # the cut-and-hash case was exercised
