"""Which conversation History's `r` resumes, and the one line when it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_tui.history.query import RunDetails, RunRow
from claude_tui.history.resume import ResumeRefused, resume_target


def details(tags: dict[str, str], params: dict[str, str]) -> RunDetails:
    row = RunRow("run1", "1", "a session", None, None, "FINISHED", *([None] * 10))
    return RunDetails(row=row, params=params, metrics={}, tags=tags, artifacts=[], transcript=None)


def transcript(config: Path, session_id: str) -> None:
    folder = config / "projects" / "-w"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{session_id}.jsonl").write_text("{}\n")


def test_the_last_conversation_the_run_held_in_its_work_dir(tmp_path: Path) -> None:
    config, work = tmp_path / "config", tmp_path / "work"
    work.mkdir()
    transcript(config, "b")
    run = details(
        {"claude.session_id": "a", "claude.session_ids": "a,b"}, {"cwd": str(work), "command": "claude"}
    )
    target = resume_target(run, config)
    assert (target.cwd, target.session_id, target.run_id) == (work, "b", "run1")
    transcript(config, "solo")
    older = details({"claude.session_id": "solo"}, {"cwd": str(work), "command": "/usr/bin/claude"})
    assert resume_target(older, config).session_id == "solo"  # logged before claude.session_ids existed


@pytest.mark.parametrize(
    ("tags", "params", "says"),
    [
        (
            {"claude.session_id": "a"},
            {"command": "bash"},
            "only Claude sessions can be resumed; this one ran bash",
        ),
        (
            {"claude.session_id": "a"},
            {"cwd": "/no/such/dir"},
            "cannot resume: the work dir /no/such/dir is gone",
        ),
        (
            {"claude.session_id": "gone"},
            {"cwd": "WORK"},
            "cannot resume: the transcript of conversation gone is gone",
        ),
        ({}, {"cwd": "WORK"}, "only Claude sessions can be resumed"),
    ],
)
def test_what_cannot_be_resumed_says_why(
    tags: dict[str, str], params: dict[str, str], says: str, tmp_path: Path
) -> None:
    params = {k: v.replace("WORK", str(tmp_path)) for k, v in params.items()}
    with pytest.raises(ResumeRefused, match=says.replace("(", r"\(")):
        resume_target(details(tags, params), tmp_path / "config")
