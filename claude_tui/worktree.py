"""Git worktrees for sessions: `--worktree [BRANCH]` runs a session in a checkout and branch of its own.

Parallel sessions in one repository would edit the same files. Each session started with `--worktree` gets a
linked worktree (`git worktree add`): its own folder and branch, sharing the repository's objects, so the
sessions' changes stay apart until someone merges them.

Where: the `worktree_dir` setting (`config.toml`), default `{repo}/../{name}.worktrees`, where `{repo}` is the
main repository's top folder and `{name}` its folder name (a relative setting is relative to `{repo}`); each
branch gets a folder in it named after the branch (`/` becomes `-`). A session started in a sub-folder of the
repository starts in the same sub-folder of its worktree.

Which branch: the one given; else `claude/<the first prompt as a slug>-<4 hex>` or `claude/<8 hex>`. A new
branch starts at the repository's current commit; an existing one is checked out; a branch that already has a
worktree of its own (a session's worktree kept earlier) is reused as it is.

At the end the person chooses: keep (the default) or remove. `remove` refuses a worktree with uncommitted
changes or untracked files unless told to go ahead after being asked, and deletes the branch only when this
session created it and it holds no commit of its own (commits are never lost: the branch stays).

Pure: runs the `git` program; no Textual, no MLflow.
"""

from __future__ import annotations

import os.path
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claude_tui.tracking.gitinfo import run_git

__all__ = [
    "DEFAULT_FOLDER",
    "Worktree",
    "WorktreeChanges",
    "WorktreeDirty",
    "WorktreeError",
    "changes",
    "create",
    "default_branch",
    "discard_unused",
    "remove",
    "worktree_folder",
]

DEFAULT_FOLDER = "{repo}/../{name}.worktrees"
"""Where worktrees go unless the `worktree_dir` setting says otherwise: beside the repository."""

BRANCH_PREFIX = "claude/"
"""The prefix of the branches claude-tui names itself."""


class WorktreeError(Exception):
    """A worktree that cannot be made or removed; the message is one line for the person."""


class WorktreeDirty(WorktreeError):
    """`remove` refused: the worktree holds work that is not committed."""


@dataclass(frozen=True)
class Worktree:
    """A session's worktree: where it is, its branch, and where the session runs in it."""

    path: Path
    """The worktree's top folder."""
    branch: str
    repo: Path
    """The main repository's top folder."""
    cwd: Path
    """Where the session runs: the worktree's counterpart of the folder it was started from."""
    base_commit: str | None = None
    """The branch's commit when the session started: commits after it are the session's."""
    created: bool = True
    """Whether this session added the worktree (False: it reused one kept from earlier)."""
    new_branch: bool = True
    """Whether this session created the branch (False: it checked out one that existed)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON object (the spool's meta, the owner's protocol)."""
        return {
            "path": str(self.path),
            "branch": self.branch,
            "repo": str(self.repo),
            "cwd": str(self.cwd),
            "base_commit": self.base_commit,
            "created": self.created,
            "new_branch": self.new_branch,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Worktree:
        """The worktree `to_dict` described."""
        return cls(
            path=Path(data["path"]),
            branch=str(data["branch"]),
            repo=Path(data["repo"]),
            cwd=Path(data.get("cwd") or data["path"]),
            base_commit=data.get("base_commit"),
            created=bool(data.get("created", True)),
            new_branch=bool(data.get("new_branch", False)),
        )


@dataclass(frozen=True)
class WorktreeChanges:
    """What a worktree holds that its repository does not have elsewhere."""

    uncommitted: tuple[str, ...]
    """Changed and untracked paths (`git status --porcelain` lines)."""
    new_commits: int
    """Commits on the branch since `Worktree.base_commit` (0 when unknown)."""

    @property
    def clean(self) -> bool:
        """Nothing uncommitted (commits are safe in the branch, whatever happens to the folder)."""
        return not self.uncommitted

    def describe(self) -> str:
        """`3 uncommitted changes, 2 commits`, for a question to the person."""
        parts = []
        if self.uncommitted:
            n = len(self.uncommitted)
            parts.append(f"{n} uncommitted change{'s' if n != 1 else ''}")
        if self.new_commits:
            parts.append(f"{self.new_commits} commit{'s' if self.new_commits != 1 else ''}")
        return ", ".join(parts) or "no changes"


def _git(cwd: Path, *args: str) -> str:
    """Run git; its stdout, or `WorktreeError` with git's own first line of complaint."""
    status, out, err = run_git(cwd, *args)
    if status != 0:
        lines = [line.strip() for line in err.splitlines() if line.strip()]
        reason = lines[0].removeprefix("fatal: ").removeprefix("error: ") if lines else f"status {status}"
        raise WorktreeError(f"git {args[0]} failed: {reason}")
    return out


def _repository(cwd: Path) -> tuple[Path, Path]:
    """(the top folder of the checkout holding `cwd`, the main repository's top folder)."""
    if not cwd.is_dir():
        raise WorktreeError(f"--worktree: {cwd} is not a folder")
    status, out, _ = run_git(
        cwd, "rev-parse", "--show-toplevel", "--path-format=absolute", "--git-common-dir"
    )
    lines = out.splitlines()
    if status != 0 or len(lines) != 2:
        raise WorktreeError(f"--worktree needs a git repository: {cwd} is not in one")
    top, common = Path(lines[0]), Path(lines[1])
    # The common dir of a normal repository is its `.git`; a bare one has no work tree to start from.
    main = common.parent if common.name == ".git" else top
    return top, main


def default_branch(session_id: str, prompt: str | None = None) -> str:
    """The branch a session gets when none is given: `claude/<prompt slug>-<4 hex>`, else `claude/<8 hex>`."""
    short = session_id.replace("-", "")
    slug = re.sub(r"[^a-z0-9]+", "-", (prompt or "").lower()).strip("-")[:40].rstrip("-")
    return f"{BRANCH_PREFIX}{slug}-{short[:4]}" if slug else f"{BRANCH_PREFIX}{short[:8]}"


def worktree_folder(repo: Path, branch: str, setting: str | None = None) -> Path:
    """The folder of `branch`'s worktree: `<setting>/<branch with / as ->` (see the module docstring)."""
    template = setting or DEFAULT_FOLDER
    base = Path(template.replace("{repo}", str(repo)).replace("{name}", repo.name)).expanduser()
    if not base.is_absolute():
        base = repo / base
    # `..` resolved textually: the folder need not exist yet.
    return Path(os.path.normpath(base)) / branch.replace("/", "-")


def _worktrees(repo: Path) -> dict[str, Path]:
    """Branch name -> worktree folder, for every checkout of the repository (the main one included)."""
    found: dict[str, Path] = {}
    path: Path | None = None
    for line in _git(repo, "worktree", "list", "--porcelain").splitlines():
        if line.startswith("worktree "):
            path = Path(line.removeprefix("worktree "))
        elif line.startswith("branch refs/heads/") and path is not None:
            found[line.removeprefix("branch refs/heads/")] = path
    return found


def create(
    cwd: Path,
    branch: str | None = None,
    *,
    session_id: str,
    prompt: str | None = None,
    folder: str | None = None,
) -> Worktree:
    """A worktree for a session started in `cwd` (see the module docstring for the folder and the branch).

    Raises `WorktreeError` with a one-line reason: not a repository, no commit yet, an invalid branch name,
    the branch checked out in the repository itself, the folder taken by something else.
    """
    top, repo = _repository(cwd.resolve())
    name = branch or default_branch(session_id, prompt)
    status, _, _ = run_git(repo, "check-ref-format", "--branch", name)
    if status != 0:
        raise WorktreeError(f"--worktree: {name!r} is not a valid branch name (write --worktree=BRANCH)")
    relative = cwd.resolve().relative_to(top)
    existing = _worktrees(repo)
    if name in existing:
        path = existing[name]
        if path in (repo, top):
            raise WorktreeError(
                f"--worktree: branch {name!r} is checked out in {path} itself; choose another branch"
            )
        base = _git(path, "rev-parse", "HEAD").strip() or None
        return Worktree(path, name, repo, _inside(path, relative), base, created=False, new_branch=False)
    path = worktree_folder(repo, name, folder)
    if path.exists() and any(path.iterdir()):
        raise WorktreeError(f"--worktree: {path} exists and is not a worktree of branch {name!r}")
    status, _, _ = run_git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{name}")
    if status == 0:
        base = _git(repo, "rev-parse", f"refs/heads/{name}").strip()
        _git(repo, "worktree", "add", "--quiet", str(path), name)
        return Worktree(path, name, repo, _inside(path, relative), base_commit=base, new_branch=False)
    status, out, _ = run_git(top, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if status != 0:
        raise WorktreeError(f"--worktree: the repository {repo} has no commit yet to start a branch from")
    base = out.strip()
    _git(repo, "worktree", "add", "--quiet", "-b", name, str(path), base)
    return Worktree(path, name, repo, _inside(path, relative), base_commit=base)


def _inside(path: Path, relative: Path) -> Path:
    """`path/relative` when that folder exists in the worktree (it may be untracked), else `path`."""
    candidate = path / relative
    return candidate if candidate.is_dir() else path


def changes(worktree: Worktree) -> WorktreeChanges:
    """What the worktree holds: uncommitted changes and untracked files, commits since the branch began."""
    if not worktree.path.is_dir():
        return WorktreeChanges((), 0)
    status = _git(worktree.path, "status", "--porcelain", "--untracked-files=normal")
    commits = 0
    if worktree.base_commit:
        count = _git(worktree.path, "rev-list", "--count", f"{worktree.base_commit}..HEAD").strip()
        commits = int(count) if count.isdigit() else 0
    return WorktreeChanges(tuple(line for line in status.splitlines() if line.strip()), commits)


def remove(worktree: Worktree, *, force: bool = False) -> str:
    """Remove the worktree's folder; say in one line what was done.

    Without `force`, a worktree with uncommitted changes or untracked files is kept (`WorktreeDirty`): ask
    the person first. The branch is deleted only when this session created it and it has no commit of its
    own; otherwise it stays, with its commits.
    """
    found = changes(worktree)
    if not found.clean and not force:
        raise WorktreeDirty(f"{worktree.path} has {found.describe()}: not removed")
    if worktree.path.is_dir():
        _git(worktree.repo, "worktree", "remove", *(["--force"] if force else []), str(worktree.path))
    else:
        _git(worktree.repo, "worktree", "prune")
    done = f"removed worktree {worktree.path}"
    tip = run_git(worktree.repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{worktree.branch}")[
        1
    ].strip()
    if worktree.new_branch and worktree.base_commit and tip == worktree.base_commit:
        _git(worktree.repo, "branch", "-D", worktree.branch)
        return f"{done} and its branch {worktree.branch} (it had no commit of its own)"
    if tip:
        return f"{done}; branch {worktree.branch} kept"
    return done


def discard_unused(worktree: Worktree) -> None:
    """Remove the worktree made for a session whose program never started (nothing can be in it); one that
    holds something after all stays, as every worktree with work in it does."""
    if worktree.created:
        try:
            remove(worktree)
        except WorktreeError:
            pass
