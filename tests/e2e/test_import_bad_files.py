"""`claude-tui import` goes on past a file it cannot read (issue 13, item 11).

A FIFO named `*.jsonl` in a projects folder used to abort the whole import (exit 2, nothing imported), and a
dangling symlink was called "no such file or folder". Now each is one FAILED line naming what it is (a FIFO
is never opened: that would block the import), the real session beside them is imported, exit status 1.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.faults import claude_tui

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A projects folder with one real session, a FIFO and a dangling symlink, all named `*.jsonl`."""
    folder = tmp_path / "claude" / "projects" / "-work-repo"
    folder.mkdir(parents=True)
    (real,) = (DATA / "failing").glob("projects/*/*.jsonl")
    shutil.copy(real, folder / real.name)
    os.mkfifo(folder / "stuck.jsonl")
    (folder / "gone.jsonl").symlink_to(tmp_path / "deleted" / "session.jsonl")
    return folder


def _import(*args: str, tmp_path: Path) -> tuple[int, list[str]]:
    result = claude_tui(
        "import", *args, "--min-age", "0", "--tracking-uri", f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}",
        timeout=180,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    return result.returncode, output.splitlines()


def test_a_fifo_and_a_dangling_symlink_in_a_folder_are_skipped(project: Path, tmp_path: Path) -> None:
    status, lines = _import(str(project), tmp_path=tmp_path)
    assert status == 1, lines
    assert f"FAILED {project / 'stuck.jsonl'}: not a regular file (a FIFO)" in lines
    assert (
        f"FAILED {project / 'gone.jsonl'}: dangling symlink to {tmp_path / 'deleted' / 'session.jsonl'}"
        in lines
    )
    assert lines[-1].startswith("imported 1, skipped 0, failed 2 "), lines


def test_the_same_files_named_on_the_command_line(project: Path, tmp_path: Path) -> None:
    real = next(p for p in project.glob("*.jsonl") if p.name not in ("stuck.jsonl", "gone.jsonl"))
    status, lines = _import(
        str(project / "stuck.jsonl"), str(project / "gone.jsonl"), str(real), tmp_path=tmp_path
    )
    assert status == 1, lines
    assert sum(line.startswith("FAILED ") for line in lines) == 2
    assert lines[-1].startswith("imported 1, skipped 0, failed 2 "), lines
