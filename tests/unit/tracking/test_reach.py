"""`store_problem`: a store no session could ever be logged to is named at start (issue 13, item 2); a
server that does not answer is not a problem then (it may come back)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from claude_tui.commands.run import retry_command
from claude_tui.paths import known_scheme, own_command
from claude_tui.session import SessionResult
from claude_tui.tracking.reach import store_problem


@pytest.mark.parametrize("uri", ["foo://x", "s3://bucket/path", "sqlit:///x.db", "htp://127.0.0.1:5000"])
def test_an_unknown_scheme_is_a_problem(uri: str) -> None:
    problem = store_problem(uri)
    assert problem is not None and "unknown tracking URI scheme" in problem and "\n" not in problem
    assert not known_scheme(uri)


def test_known_stores_are_not_a_problem(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for uri in (
        f"sqlite:///{tmp_path / 'a' / 'mlflow.db'}",
        str(tmp_path / "b"),  # a plain path is a sqlite store
        f"http://127.0.0.1:{port}",  # nothing listens: only a warning, later
        "postgresql+psycopg2://u@127.0.0.1/db",
    ):
        assert known_scheme(uri), uri
        assert store_problem(uri) is None, uri


def test_a_sqlite_store_that_cannot_be_created_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    problem = store_problem(f"sqlite:///{tmp_path / 'file' / 'sub' / 'mlflow.db'}")
    assert problem is not None and "cannot create the store's folder" in problem


def test_the_retry_command_names_a_store_that_is_not_the_default(tmp_path: Path) -> None:
    me = own_command()
    assert retry_command(None) == f"{me} sync"
    assert retry_command("http://127.0.0.1:9") == f"{me} sync --tracking-uri http://127.0.0.1:9"
    spaced = str(tmp_path / "a b")
    assert retry_command(spaced) == f"{me} sync --tracking-uri '{spaced}'"


def test_the_exit_status_is_the_programs() -> None:
    assert SessionResult(exit_code=3).exit_status == 3
    assert SessionResult(exit_code=0, error="store down").exit_status == 0
    assert SessionResult(signal=15).exit_status == 143
    assert SessionResult().exit_status == 0
