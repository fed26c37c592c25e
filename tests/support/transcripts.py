"""The committed transcripts of the real CLI (tests/data/transcripts), installed into a Claude config dir."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"
MANIFEST: dict[str, dict[str, object]] = json.loads((DATA.parent / "manifest.json").read_text())[
    "transcripts"
]
DAY = 86_400


def install(config_dir: Path, name: str, age_days: float) -> Path:
    """The committed transcript `name` under `config_dir/projects/`, last written `age_days` ago."""
    (source,) = (DATA / name).glob(f"projects/*/{MANIFEST[name]['session_id']}.jsonl")
    target = config_dir / "projects" / source.parent.name / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    when = time.time() - age_days * DAY
    os.utime(target, (when, when))
    return target


def copy_all(root: Path) -> Path:
    """A copy of every committed transcript at `root`, last written an hour ago (copytree keeps the
    checkout's mtimes: in a fresh clone they are seconds old, and import leaves a file younger than
    `--min-age`, a session that may still be written, alone)."""
    shutil.copytree(DATA, root)
    an_hour_ago = time.time() - 3600
    for path in root.rglob("*"):
        os.utime(path, (an_hour_ago, an_hour_ago))
    return root
