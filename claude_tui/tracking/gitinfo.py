"""Git state at session start and the changes a session made, without touching the user's index.

Pure: runs the `git` program with a timeout; every function returns something useful (None fields, empty
text) instead of raising when git is missing or the folder is not a repository.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

GIT_TIMEOUT = 20.0
"""Seconds any one git call may take (a huge work tree can be slow; a hung git must not hang the app)."""

DEFAULT_MAX_BYTES = 2_000_000
"""How much of the diff `capture_changes` keeps by default."""


def run_git(cwd: Path | str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run git without prompting: (exit status, stdout, stderr); status 127 with the reason as stderr when
    git is missing, cannot run in `cwd` or times out."""
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", **(env or {})}
    try:
        proc = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return 127, "", f"cannot run git: {exc}"
    out = proc.stdout.decode("utf-8", errors="replace")
    return proc.returncode, out, proc.stderr.decode("utf-8", errors="replace")


def _git(cwd: Path | str, *args: str, env: dict[str, str] | None = None) -> str | None:
    """Run git; its stdout, or None when git fails, is missing or times out."""
    status, out, _ = run_git(cwd, *args, env=env)
    return out if status == 0 else None


def git_state(cwd: Path | str) -> dict[str, Any]:
    """`{commit, branch, dirty}` of the repository containing `cwd`; all None outside a repository.

    `branch` is None on a detached HEAD; `commit` is None in a repository without commits.
    """
    state: dict[str, Any] = {"commit": None, "branch": None, "dirty": None}
    # One git run (it starts while Claude does: each costs CPU Claude would use, docs/startup.md). The v2
    # format's headers name the commit and branch; any other line is a change.
    status = (
        _git(cwd, "status", "--porcelain=v2", "--branch", "--untracked-files=normal")
        if Path(cwd).is_dir()
        else None
    )
    if status is None:
        return state
    headers = dict(
        line[2:].split(" ", 1) for line in status.splitlines() if line.startswith("# ") and " " in line[2:]
    )
    commit, branch = headers.get("branch.oid"), headers.get("branch.head")
    state["commit"] = commit if commit and commit != "(initial)" else None
    state["branch"] = branch if branch and branch != "(detached)" else None
    state["dirty"] = any(line and not line.startswith("#") for line in status.splitlines())
    return state


def _cap(text: str, max_bytes: int, what: str) -> str:
    data = text.encode("utf-8", errors="replace")
    if len(data) <= max_bytes:
        return text
    kept = data[:max_bytes].decode("utf-8", errors="ignore")
    return f"{kept}\n\n[claude-tui: {what} truncated: {len(data):,} bytes, kept the first {max_bytes:,}]\n"


def capture_changes(
    cwd: Path | str, start_commit: str | None, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[str, str]:
    """The session's changes: (work tree vs `start_commit` as a diff, commits made since `start_commit`).

    New untracked files are included: a temporary index (GIT_INDEX_FILE) is filled from HEAD and the new
    files are added to it with `git add -N` (intent-to-add, no blobs written), so the user's own index is
    never read-modify-written. Ignored files stay out. The diff is capped at `max_bytes` with a note. Outside
    a repository, or without a start commit, both texts say so in one line.
    """
    if not start_commit:
        return ("[claude-tui: no start commit recorded; no diff]\n", "")
    if _git(cwd, "rev-parse", "--is-inside-work-tree") is None:
        return ("[claude-tui: not a git repository]\n", "")
    if _git(cwd, "cat-file", "-e", f"{start_commit}^{{commit}}") is None:
        return (f"[claude-tui: start commit {start_commit} not found]\n", "")
    with tempfile.TemporaryDirectory(prefix="claude-tui-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        diff: str | None = None
        if _git(cwd, "read-tree", "HEAD", env=env) is not None:
            _git(cwd, "add", "-N", "--all", env=env)
            diff = _git(cwd, "diff", "--no-color", "--no-ext-diff", start_commit, env=env)
        if diff is None:
            # HEAD unreadable (e.g. mid-rebase): fall back to tracked files only.
            diff = _git(cwd, "diff", "--no-color", "--no-ext-diff", start_commit) or ""
    log_format = "--format=commit %H%nAuthor: %an <%ae>%nDate:   %aI%n%n    %s%n"
    log = _git(cwd, "log", "--no-color", "--stat", log_format, f"{start_commit}..HEAD")
    return (_cap(diff, max_bytes, "diff"), _cap(log or "", max_bytes, "commit log"))


def remote_without_credentials(url: str) -> str:
    """A remote URL with any user name, password or token taken out (`https://tok@host/x` -> `https://host/x`).

    scp-like remotes (`git@github.com:org/repo.git`) keep their SSH user: it is an account name, not a secret.
    """
    url = url.strip()
    if "://" not in url:
        return url
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    if parts.scheme in ("ssh", "git+ssh") and parts.password is None:
        return url  # ssh://git@host/x: the SSH user, no secret
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def repository_name(remote: str | None, toplevel: str | None) -> str | None:
    """The repository's short name: the last part of its remote's path without `.git`, else the name of its
    top-level folder (`git@github.com:org/claude-tui.git` -> `claude-tui`)."""
    if remote:
        tail = remote.rstrip("/").replace(":", "/").rsplit("/", 1)[-1]
        tail = tail.removesuffix(".git")
        if tail:
            return tail
    return Path(toplevel).name if toplevel else None


def user_email(cwd: Path | str) -> str | None:
    """git's `user.email` as seen from `cwd` (the repository's, else the global one); None when unset."""
    out = _git(cwd if Path(cwd).is_dir() else Path.home(), "config", "--get", "user.email")
    return out.strip() or None if out else None


def repository_info(cwd: Path | str) -> dict[str, str | None]:
    """`{remote, repository, email}` of the repository containing `cwd` (None values outside one).

    `remote` is the `origin` remote (else the first one), credentials removed; `email` is git's
    `user.email` there (the user's attribution when the settings name none). Two git runs, at logging time.
    """
    info: dict[str, str | None] = {"remote": None, "repository": None, "email": None}
    if not Path(cwd).is_dir():
        return info
    toplevel = _git(cwd, "rev-parse", "--show-toplevel")
    if toplevel is None:
        return info
    config = _git(cwd, "config", "--get-regexp", r"^(remote\..*\.url|user\.email)$") or ""
    remotes: dict[str, str] = {}
    for line in config.splitlines():
        key, _, value = line.partition(" ")
        if key == "user.email":
            info["email"] = value.strip() or None
        elif key.startswith("remote.") and value.strip():
            remotes[key[len("remote.") : -len(".url")]] = value.strip()
    remote = remotes.get("origin") or next(iter(remotes.values()), None)
    info["remote"] = remote_without_credentials(remote) if remote else None
    info["repository"] = repository_name(info["remote"], toplevel.strip())
    return info
