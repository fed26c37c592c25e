"""The end of a session happens off the event loop: the logging screen comes first and keeps redrawing while
the final poll, clean.txt and the git changes are collected (issue 12, item 5).

`git` is replaced by a slow stand-in for the session's end (a script on PATH that sleeps, then runs the real
git): git is not what is tested here, the app's responsiveness while it runs is.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claude_tui.app import ClaudeTuiApp
from claude_tui.screens.logging import LoggingScreen
from claude_tui.session import SessionConfig, TrackedSession
from tests.helpers import wait_for

GIT_DELAY = 0.5
"""Seconds each git run of the session's end takes (it runs git six times)."""


class FakeStore:
    """Stands in for `tracking.logger.log_spool`."""

    def __call__(self, spool: object, **kwargs: object) -> object:
        return type("Logged", (), {"run_id": "r1", "experiment_id": "7", "tracking_uri": "fake://"})()


def repository(path: Path) -> Path:
    path.mkdir()
    for args in (["init", "-q"], ["config", "user.email", "t@example.com"], ["config", "user.name", "T"]):
        subprocess.run(["git", *args], cwd=path, check=True)
    (path / "a.txt").write_text("a\n")
    subprocess.run(["git", "add", "a.txt"], cwd=path, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "start"], cwd=path, check=True)
    return path


def slow_git(folder: Path, calls: Path) -> Path:
    """A `git` that notes when it ran, sleeps, then does what the real one does."""
    real = shutil.which("git")
    assert real is not None
    folder.mkdir()
    script = folder / "git"
    script.write_text(f'#!/bin/sh\ndate +%s.%N >> "{calls}"\nsleep {GIT_DELAY}\nexec {real} "$@"\n')
    script.chmod(0o755)
    return folder


async def test_the_logging_screen_keeps_redrawing_while_a_slow_git_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = repository(tmp_path / "work")
    program = tmp_path / "prog.py"
    program.write_text("import time\nprint('working', flush=True)\ntime.sleep(1.5)\n")
    session = TrackedSession(
        SessionConfig(command=sys.executable, cwd=work), argv=[sys.executable, str(program)]
    )
    session.start(80, 20)  # with the real git: the start commit is known, so the end collects the changes
    (work / "a.txt").write_text("changed by the session\n")
    calls = tmp_path / "git-calls.txt"
    monkeypatch.setenv("PATH", f"{slow_git(tmp_path / 'bin', calls)}:{os.environ['PATH']}")

    app = ClaudeTuiApp(session, log_spool=FakeStore())
    frames: list[tuple[float, bool]] = []  # (wall time, logging screen shown) at every tick of the loop
    async with app.run_test(size=(100, 30)) as pilot:
        app.set_interval(0.02, lambda: frames.append((time.time(), isinstance(app.screen, LoggingScreen))))
        await wait_for(pilot, lambda: app.return_value is not None, 60, "the session to be logged")
    assert app.return_value is not None and app.return_value.run_id == "r1"
    git_runs = [float(line) for line in calls.read_text().split()]
    assert len(git_runs) >= 4, "the end of the session ran git"
    assert session.spool is not None
    assert "changed by the session" in (session.spool.path / "git" / "changes.diff").read_text()

    shown = [when for when, logging in frames if logging]
    assert shown and shown[0] < git_runs[0] + GIT_DELAY, "the logging screen came before git's first answer"
    during = [when for when, _ in frames if git_runs[0] <= when <= git_runs[-1] + GIT_DELAY]
    gaps = [b - a for a, b in itertools.pairwise(during)]
    # On the event loop the six git runs were one stall of 3 s or more; a loaded machine stalls far less.
    assert len(during) > 10 and max(gaps) < 1.0, f"the event loop stalled while git ran: {max(gaps):.2f} s"
