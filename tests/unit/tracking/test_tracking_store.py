"""Store resolution and links, the cast redactor, and the logger refusing a live session (no store)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from claude_tui.tracking.logger import SpoolBusy, log_spool, redact_cast
from claude_tui.tracking.redact import MASK, Redactor
from claude_tui.tracking.schema import session_filter
from claude_tui.tracking.spool import RunSpool
from claude_tui.tracking.store import (
    artifact_location,
    resolve_tracking_uri,
    run_ui_url,
    sqlite_path,
    ui_base_url,
)


def test_default_uri_is_the_embedded_store_unless_the_environment_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = Path(os.environ["CLAUDE_TUI_HOME"])
    assert resolve_tracking_uri(None) == f"sqlite:///{home / 'mlflow.db'}"
    assert artifact_location(resolve_tracking_uri(None)) == (home / "artifacts").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    assert resolve_tracking_uri(None) == "http://127.0.0.1:5999"
    assert resolve_tracking_uri("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("sqlite:////abs/dir/mlflow.db", Path("/abs/dir/mlflow.db")),
        ("sqlite:///rel/mlflow.db", Path("rel/mlflow.db")),
        ("sqlite:///:memory:", None),
        # As SQLAlchemy reads them: a query is no part of the file, a `#` is, `%20` is a space.
        ("sqlite:////abs/dir/mlflow.db?mode=ro", Path("/abs/dir/mlflow.db")),
        ("sqlite:////abs/a b#c/mlflow.db", Path("/abs/a b#c/mlflow.db")),
        ("sqlite:///a%20b.db", Path("a b.db")),
        ("sqlite://", None),
        ("http://127.0.0.1:5000", None),
        ("databricks", None),
    ],
)
def test_sqlite_path(uri: str, path: Path | None) -> None:
    assert sqlite_path(uri) == path


def test_a_plain_path_is_a_sqlite_store(tmp_path: Path) -> None:
    assert resolve_tracking_uri(str(tmp_path / "store")) == f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    assert (tmp_path / "store").is_dir()
    assert resolve_tracking_uri(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    assert artifact_location(f"sqlite:///{tmp_path / 'x.db'}") == (tmp_path / "artifacts").as_uri()
    assert artifact_location("http://127.0.0.1:5000") is None


def test_ui_links() -> None:
    assert (
        run_ui_url("http://127.0.0.1:5000/", "3", "abc") == "http://127.0.0.1:5000/#/experiments/3/runs/abc"
    )
    assert ui_base_url("https://mlflow.example/") == "https://mlflow.example"
    assert ui_base_url("sqlite:///x.db") is None


def test_session_filter_quotes_the_dotted_key_and_the_value() -> None:
    assert session_filter("abc") == "tags.`claude.session_id` = 'abc'"
    assert session_filter("a'b") == "tags.`claude.session_id` = 'a\\'b'"


def test_a_live_session_is_not_logged(tmp_path: Path) -> None:
    spool = RunSpool.create({"session_id": "live", "start_time": 1.0, "pid": os.getpid()}, tmp_path)
    with pytest.raises(SpoolBusy):
        log_spool(spool, tracking_uri=f"sqlite:///{tmp_path / 'never.db'}")
    assert not (tmp_path / "never.db").exists()
    spool.close()


def test_redact_cast_keeps_timing_and_validity() -> None:
    key = "sk-ant-api03-FAKEfakeFAKEfake0123456789abcdefghij"
    lines = [
        json.dumps({"version": 2, "width": 80, "height": 24, "command": f"claude --key {key}"}),
        json.dumps([0.5, "o", "export K=" + key[:15]]),
        json.dumps([0.75, "o", key[15:] + "\r\n"]),
        json.dumps([1.0, "r", "100x30"]),
        '[1.5, "o", "cut off mid-li',
    ]
    out = redact_cast("\n".join(lines) + "\n", Redactor()).splitlines()
    assert key not in "\n".join(out) and key[15:] not in "\n".join(out)
    events = [json.loads(line) for line in out[1:4]]
    assert [e[0] for e in events] == [0.5, 0.75, 1.0]
    assert events[0][2] == f"export K=sk-ant-{MASK}" and events[1][2] == "\r\n"
    assert json.loads(out[0])["command"] == f"claude --key sk-ant-{MASK}"
    assert out[4] == lines[4]  # a truncated last line stays as it was (nothing secret in it)
