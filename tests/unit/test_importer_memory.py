"""`claude-tui import` into a real (temporary sqlite) store keeps no session's secret-masking regex alive.

Each session's `Redactor` compiles one regex of its known secret values; `re.compile` would keep every such
pattern (up to 512) for the life of the importing process. When that regex allowed terminal sequences
between every two characters (~40 MB for a session with long secrets), this made an import of 1,000
sessions grow past 1 GB RSS. See docs/import.md (Memory).
"""

from __future__ import annotations

import gc
import re
import weakref
from pathlib import Path
from typing import Any

import pytest

from claude_tui.tracking import importer, redact

SECRETS = Path(__file__).resolve().parent.parent / "data" / "transcripts" / "secrets"


def test_import_keeps_no_secret_regex_alive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[weakref.ref[re.Pattern[str]]] = []
    spread_init = redact._Spread.__init__

    def spy(self: redact._Spread, known: Any) -> None:
        spread_init(self, known)
        if self._literal is not None:
            compiled.append(weakref.ref(self._literal))

    monkeypatch.setattr(redact._Spread, "__init__", spy)
    summary = importer.import_sessions([SECRETS], tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", jobs=1)
    assert [o.kind for o in summary.outcomes] == ["imported"]
    assert compiled, "the secrets transcript should give the redactor known values to mask"
    gc.collect()
    alive = [len(p.pattern) for ref in compiled if (p := ref()) is not None]
    assert alive == [], f"{len(alive)} secret regex(es) still referenced (re's cache?), {sum(alive)} chars"
