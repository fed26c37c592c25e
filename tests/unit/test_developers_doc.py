"""DEVELOPERS.md stays true to the layout: every file it names exists, every link points inside the repo."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "DEVELOPERS.md").read_text()


def named_paths() -> set[str]:
    """Backticked names that look like paths in the repository (`claude_tui/app.py`, `terminal/pump.py`)."""
    names = set(re.findall(r"`([\w./*-]+(?:\.py|\.md|/))`", DOC))
    return {name for name in names if "/" in name and not name.startswith(("../", "/"))}


def test_every_named_file_exists() -> None:
    missing = []
    for name in sorted(named_paths()):
        # Paths are written from the repository's root or, inside the package, from claude_tui/.
        if not any(list(base.glob(name)) for base in (ROOT, ROOT / "claude_tui")):
            missing.append(name)
    assert named_paths() and missing == []


def test_every_link_points_at_a_file_inside_the_repository() -> None:
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", DOC)
    targets += re.findall(r"`(\.\./[\w./-]+)`", DOC)  # documents named outside the repository
    outside = [t for t in targets if t.startswith(("http:", "https:", "/", "..")) or not (ROOT / t).exists()]
    assert targets and outside == []


def test_every_test_the_docs_name_exists() -> None:
    """A doc that says "shown by `test_x.py::test_y`" must name a test that runs (a renamed test left
    docs/reliability.md pointing at nothing)."""
    docs = [ROOT / "README.md", ROOT / "DEVELOPERS.md", *sorted((ROOT / "docs").glob("*.md"))]
    named = {
        (doc.name, module, test)
        for doc in docs
        for module, test in re.findall(r"(test_\w+\.py)::(test_\w+)", doc.read_text())
    }
    missing = []
    for doc, module, test in sorted(named):
        files = list((ROOT / "tests").rglob(module))
        if not any(re.search(rf"^(async )?def {test}\b", f.read_text(), re.M) for f in files):
            missing.append(f"{doc}: {module}::{test}")
    assert named and missing == []
