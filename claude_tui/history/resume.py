"""Resuming a logged session's conversation: which one, where, and why it cannot be.

`resume_target(details)` reads a run's details (History's `RunDetails`) and gives the work dir and the
conversation a new tracked `claude --resume` would take up (the last the process held: where it stopped),
or a `ResumeRefused` whose message is the one line the person sees. Pure apart from looking at the disk.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from claude_tui import claude_code
from claude_tui.history.query import RunDetails
from claude_tui.tracking import schema


class ResumeRefused(Exception):
    """The run's conversation cannot be resumed; `str()` says why in one line."""


@dataclass(frozen=True)
class ResumeTarget:
    """Where a resumed session runs, and the conversation it takes up."""

    cwd: Path
    session_id: str
    run_id: str


def resume_target(details: RunDetails, config_dir: str | os.PathLike[str] | None = None) -> ResumeTarget:
    """The work dir and conversation to resume from a logged run (see the module docstring).

    Raises:
        ResumeRefused: not a Claude session, or its work dir or its transcript is gone
            (`config_dir`: Claude's, default `$CLAUDE_CONFIG_DIR` or ~/.claude).
    """
    tags, params = details.tags, details.params
    held = [i for i in (tags.get(schema.TAG_SESSION_IDS) or "").split(",") if i]
    session_id = held[-1] if held else tags.get(schema.TAG_SESSION_ID)
    command = params.get(schema.PARAM_COMMAND) or "claude"
    if not session_id or not claude_code.is_claude(command):
        raise ResumeRefused(f"only Claude sessions can be resumed; this one ran {command}")
    cwd = params.get(schema.PARAM_CWD)
    if not cwd or not Path(cwd).is_dir():
        raise ResumeRefused(f"cannot resume: the work dir {cwd or '(unknown)'} is gone")
    folder = config_dir if config_dir is not None else claude_code.config_dir()
    if claude_code.find_transcript(folder, session_id) is None:
        raise ResumeRefused(
            f"cannot resume: the transcript of conversation {session_id} is gone from {folder}"
        )
    return ResumeTarget(Path(cwd), session_id, details.row.run_id)
