"""git_state and capture_changes: new files included, user's index untouched, output capped."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from claude_tui.tracking.gitinfo import (
    capture_changes,
    git_state,
    remote_without_credentials,
    repository_info,
)

GIT_ENV = {
    "GIT_AUTHOR_NAME": "T",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "T",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "app.py").write_text("print('hi')\n")
    (path / ".gitignore").write_text("*.log\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "init")
    return path


def test_state_of_a_clean_and_a_dirty_repo(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    assert git_state(repo) == {"commit": head, "branch": "main", "dirty": False}
    (repo / "new.txt").write_text("x\n")
    assert git_state(repo)["dirty"] is True
    git(repo, "checkout", "-q", "--detach")
    assert git_state(repo)["branch"] is None


def test_state_in_a_subfolder_an_ignored_file_and_a_repo_without_commits(repo: Path, tmp_path: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    (repo / "sub").mkdir()
    (repo / "debug.log").write_text("ignored\n")
    assert git_state(repo / "sub") == {"commit": head, "branch": "main", "dirty": False}
    (repo / "app.py").write_text("print('changed')\n")
    assert git_state(repo / "sub")["dirty"] is True
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "trunk")
    assert git_state(empty) == {"commit": None, "branch": "trunk", "dirty": False}


def test_state_outside_a_repo_is_all_none(tmp_path: Path) -> None:
    assert git_state(tmp_path) == {"commit": None, "branch": None, "dirty": None}
    assert git_state(tmp_path / "missing") == {"commit": None, "branch": None, "dirty": None}


def test_changes_include_new_files_and_commits_but_not_ignored_ones(repo: Path) -> None:
    start = git(repo, "rev-parse", "HEAD").strip()
    (repo / "app.py").write_text("print('hi')\nprint('bye')\n")
    (repo / "brand_new.py").write_text("NEW = 1\n")
    (repo / "debug.log").write_text("ignored\n")
    (repo / "committed.txt").write_text("c\n")
    git(repo, "add", "committed.txt")
    git(repo, "commit", "-q", "-m", "Add committed file")
    index_before = (repo / ".git" / "index").read_bytes()
    diff, commits = capture_changes(repo, start)
    assert "+print('bye')" in diff
    assert "brand_new.py" in diff and "+NEW = 1" in diff
    assert "committed.txt" in diff
    assert "debug.log" not in diff
    assert "Add committed file" in commits and "init" not in commits.split("Add committed file")[1]
    # The user's index is exactly as it was: the new file is still untracked.
    assert (repo / ".git" / "index").read_bytes() == index_before
    assert "?? brand_new.py" in git(repo, "status", "--porcelain")


def test_changes_are_capped_with_a_note(repo: Path) -> None:
    start = git(repo, "rev-parse", "HEAD").strip()
    (repo / "big.txt").write_text("line of text\n" * 10_000)
    diff, _ = capture_changes(repo, start, max_bytes=1000)
    assert len(diff.encode()) < 1200
    assert "truncated" in diff and "kept the first 1,000" in diff


def test_changes_without_a_repo_or_commit_say_so(tmp_path: Path, repo: Path) -> None:
    assert "not a git repository" in capture_changes(tmp_path, "abc")[0]
    assert "no start commit" in capture_changes(repo, None)[0]
    assert "not found" in capture_changes(repo, "0" * 40)[0]


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://alice:ghp_secret123@github.com/org/widget.git", "https://github.com/org/widget.git"),
        ("https://oauth2:glpat-xyz@gitlab.example.com:8443/a/b", "https://gitlab.example.com:8443/a/b"),
        ("https://token@host/x.git", "https://host/x.git"),
        ("git@github.com:org/widget.git", "git@github.com:org/widget.git"),
        ("ssh://git@host/org/widget", "ssh://git@host/org/widget"),
        ("ssh://git:pw@host/org/widget", "ssh://host/org/widget"),
        ("/srv/git/widget.git", "/srv/git/widget.git"),
    ],
)
def test_remote_urls_lose_their_credentials(url: str, clean: str) -> None:
    assert remote_without_credentials(url) == clean


def test_repository_info_reads_the_session_s_work_dir(repo: Path, tmp_path: Path) -> None:
    git(repo, "remote", "add", "origin", "https://alice:s3cret-token@git.example.com/team/widget.git")
    git(repo, "config", "user.email", "alice@team.example")
    info = repository_info(repo / "sub" if (repo / "sub").is_dir() else repo)
    assert info == {
        "remote": "https://git.example.com/team/widget.git",
        "repository": "widget",
        "email": "alice@team.example",
    }
    plain = tmp_path / "plain"
    plain.mkdir()
    git(plain, "init", "-q")
    git(plain, "config", "user.email", "")
    assert repository_info(plain) == {"remote": None, "repository": "plain", "email": None}
    assert repository_info(tmp_path / "gone") == {"remote": None, "repository": None, "email": None}
