"""`--worktree`: a session's own checkout and branch, with real git; removal never loses uncommitted work."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from claude_tui import cli, worktree
from claude_tui.config import ConfigError, load_settings
from claude_tui.session import SessionConfig, TrackedSession
from claude_tui.tracking import schema
from claude_tui.tracking.record import SessionRecord
from claude_tui.worktree import Worktree, WorktreeDirty, WorktreeError

SESSION_ID = "1a2b3c4d-0000-4000-8000-000000000000"


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` (fails the test when git does)."""
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository `app` with one commit on `main` and a sub-folder `src`."""
    path = tmp_path / "app"
    (path / "src").mkdir(parents=True)
    (path / "src" / "main.py").write_text("print('hi')\n")
    git(path, "init", "-q", "-b", "main")
    git(path, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git(path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "first")
    return path


def branches(repo: Path) -> set[str]:
    return set(git(repo, "branch", "--format=%(refname:short)").split())


def test_a_new_branch_from_the_prompt_beside_the_repository(repo: Path) -> None:
    made = worktree.create(repo / "src", session_id=SESSION_ID, prompt="Fix the login bug!")
    assert made.branch == "claude/fix-the-login-bug-1a2b"
    assert made.path == repo.parent / "app.worktrees" / "claude-fix-the-login-bug-1a2b"
    assert made.cwd == made.path / "src"  # started in a sub-folder: the same sub-folder of the worktree
    assert (made.cwd / "main.py").read_text() == "print('hi')\n"
    assert git(made.path, "branch", "--show-current") == made.branch
    assert made.base_commit == git(repo, "rev-parse", "HEAD")
    assert git(repo, "branch", "--show-current") == "main"  # the repository itself is untouched
    assert worktree.default_branch(SESSION_ID) == "claude/1a2b3c4d"


def test_the_folder_setting(repo: Path, tmp_path: Path) -> None:
    assert worktree.worktree_folder(repo, "a/b", "wt") == repo / "wt" / "a-b"
    assert worktree.worktree_folder(repo, "x", "~/trees/{name}") == Path.home() / "trees" / "app" / "x"
    made = worktree.create(repo, "feature", session_id=SESSION_ID, folder=str(tmp_path / "trees" / "{name}"))
    assert made.path == tmp_path / "trees" / "app" / "feature"
    config = tmp_path / "config.toml"
    config.write_text('worktree_dir = "{repo}/../wt"\n')
    assert load_settings(config).worktree_dir == "{repo}/../wt"
    config.write_text("worktree_dir = 3\n")
    with pytest.raises(ConfigError, match="worktree_dir"):
        load_settings(config)


def test_an_existing_branch_is_checked_out_and_a_kept_worktree_reused(repo: Path) -> None:
    git(repo, "branch", "feature")
    first = worktree.create(repo, "feature", session_id=SESSION_ID)
    assert first.created and not first.new_branch
    again = worktree.create(repo / "src", "feature", session_id=SESSION_ID)
    assert again.path == first.path and not again.created
    assert again.cwd == first.path / "src"


@pytest.mark.parametrize(
    ("setup", "branch", "message"),
    [
        ("plain folder", None, "needs a git repository"),
        ("no commit", None, "has no commit yet"),
        ("repo", "fix the bug", "not a valid branch name (write --worktree=BRANCH)"),
        ("repo", "main", "is checked out in"),
    ],
)
def test_what_cannot_be_made_says_why_in_one_line(
    repo: Path, tmp_path: Path, setup: str, branch: str | None, message: str
) -> None:
    cwd = repo
    if setup == "plain folder":
        cwd = tmp_path / "plain"
        cwd.mkdir()
    elif setup == "no commit":
        cwd = tmp_path / "empty"
        cwd.mkdir()
        git(cwd, "init", "-q")
    with pytest.raises(WorktreeError, match=re.escape(message)) as caught:
        worktree.create(cwd, branch, session_id=SESSION_ID)
    assert "\n" not in str(caught.value)


def test_removing_a_clean_worktree_deletes_a_branch_without_commits(repo: Path) -> None:
    made = worktree.create(repo, session_id=SESSION_ID)
    assert worktree.changes(made).clean
    said = worktree.remove(made)
    assert not made.path.exists()
    assert made.branch not in branches(repo)
    assert "no commit of its own" in said


def test_removing_keeps_a_branch_with_commits(repo: Path) -> None:
    made = worktree.create(repo, "feature", session_id=SESSION_ID)
    (made.path / "new.py").write_text("x = 1\n")
    git(made.path, "add", "new.py")
    git(made.path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "work")
    assert worktree.changes(made).new_commits == 1
    said = worktree.remove(made)
    assert not made.path.exists()
    assert "feature" in branches(repo) and "kept" in said
    assert git(repo, "log", "-1", "--format=%s", "feature") == "work"


@pytest.mark.parametrize("what", ["untracked", "modified"])
def test_uncommitted_work_is_never_removed_without_asking(repo: Path, what: str) -> None:
    made = worktree.create(repo, session_id=SESSION_ID)
    if what == "untracked":
        (made.path / "notes.txt").write_text("precious\n")
    else:
        (made.cwd / "src" / "main.py").write_text("print('changed')\n")
    found = worktree.changes(made)
    assert not found.clean and found.describe() == "1 uncommitted change"
    with pytest.raises(WorktreeDirty, match="1 uncommitted change: not removed"):
        worktree.remove(made)
    assert made.path.is_dir() and made.branch in branches(repo)
    assert worktree.changes(made).uncommitted == found.uncommitted  # nothing was touched
    worktree.remove(made, force=True)  # the person said yes
    assert not made.path.exists()


def test_the_run_carries_the_worktree_and_its_branch(repo: Path) -> None:
    made = worktree.create(repo, "feature", session_id=SESSION_ID)
    config = SessionConfig(command="true", cwd=made.cwd, worktree=made)
    session = TrackedSession(config, argv=["true"])
    session.start(80, 24)
    session.finish(0, None, ["done"])
    assert session.spool is not None
    meta = session.spool.meta
    assert meta["git"]["branch"] == "feature" and meta["git"]["worktree"] == str(made.path)
    assert Worktree.from_dict(meta["worktree"]) == made
    tags = SessionRecord.from_spool(session.spool).tags()
    assert tags[schema.TAG_GIT_WORKTREE] == str(made.path)
    assert tags[schema.TAG_GIT_BRANCH] == "feature"


def test_the_command_line_refuses_a_folder_outside_a_repository(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.main, ["--worktree", "-C", str(tmp_path), "--no-track"])
    assert result.exit_code == 2
    assert result.output.strip() == f"claude-tui: --worktree needs a git repository: {tmp_path} is not in one"


def test_another_session_of_the_window_keeps_the_store_and_options_but_not_the_conversation(
    tmp_path: Path,
) -> None:
    from claude_tui.config import Alert
    from claude_tui.session import SessionConfig

    first = SessionConfig(
        command="claude",
        claude_args=["--resume", "abc", "--permission-mode", "acceptEdits"],
        prompt="first",
        cwd=tmp_path,
        env={"ANTHROPIC_BASE_URL": "http://127.0.0.1:1"},
        tags={"team": "core"},
        issue_number="12",
        tracking_uri="sqlite:///x.db",
        experiment="e",
        alerts=[Alert.parse("errors>=3")],
        config_dir=tmp_path / "config",
    )
    other = first.for_another_session(cwd=tmp_path / "b", prompt="second", command="claude")
    assert other.session_id != first.session_id and other.cwd == tmp_path / "b" and other.prompt == "second"
    # Its own hook routes: with the first's secret, each session would get the other's hooks.
    assert other.hook_secret != first.hook_secret
    assert other.hook_routes() is not first.hook_routes()
    assert other.claude_args == ["--permission-mode", "acceptEdits"]
    assert (other.env, other.tags, other.tracking_uri, other.experiment) == (
        first.env,
        first.tags,
        "sqlite:///x.db",
        "e",
    )
    assert other.alerts == first.alerts and other.config_dir == first.config_dir
    assert other.issue_number is None and other.worktree is None
    other.tags["x"] = "y"
    assert "x" not in first.tags, "the new session's values are its own"
    assert first.for_another_session(cwd=tmp_path, prompt=None, command="bash").claude_args == []


def test_a_worktree_session_config_reaches_the_owner_as_json(tmp_path: Path) -> None:
    import json

    from claude_tui.session import SessionConfig
    from claude_tui.worktree import Worktree

    worktree = Worktree(tmp_path / "w", "claude/x", tmp_path / "repo", tmp_path / "w", base_commit="abc")
    config = SessionConfig(cwd=tmp_path / "w", worktree=worktree)
    assert SessionConfig.from_dict(json.loads(json.dumps(config.to_dict()))).worktree == worktree
