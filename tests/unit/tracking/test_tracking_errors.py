"""`tracking.errors`: every layer's way of saying the same failure becomes one line naming the cause."""

from __future__ import annotations

import errno
import sqlite3

import pytest

from claude_tui.tracking.errors import Cause, StoreProblem, describe, one_line, store_label

DB = "sqlite:////data/store/mlflow.db"


def _sqlalchemy(message: str, orig: BaseException) -> BaseException:
    from sqlalchemy.exc import OperationalError

    return OperationalError("INSERT INTO runs ...", {}, orig)


def _wrapped(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except BaseException as caught:
        return caught


def _mlflow(text: str, code: str = "INTERNAL_ERROR") -> BaseException:
    from mlflow.exceptions import MlflowException
    from mlflow.protos import databricks_pb2

    return MlflowException(text, error_code=getattr(databricks_pb2, code))


CASES = [
    ("sqlite full", lambda: sqlite3.OperationalError("database or disk is full"), Cause.DISK_FULL),
    ("os ENOSPC", lambda: OSError(errno.ENOSPC, "No space left on device", "/data/a"), Cause.DISK_FULL),
    (
        "read-only under autoflush text",
        lambda: _sqlalchemy("x", sqlite3.OperationalError("attempt to write a readonly database")),
        Cause.READ_ONLY,
    ),
    ("os EROFS", lambda: OSError(errno.EROFS, "Read-only file system"), Cause.READ_ONLY),
    ("locked", lambda: sqlite3.OperationalError("database is locked"), Cause.LOCKED),
    ("corrupt", lambda: sqlite3.DatabaseError("file is not a database"), Cause.CORRUPT),
    ("malformed", lambda: sqlite3.DatabaseError("database disk image is malformed"), Cause.CORRUPT),
    (
        "401 from the REST client",
        lambda: _mlflow("API request to endpoint /x failed with error code 401 != 200. Response body: 'no'"),
        Cause.UNAUTHORIZED,
    ),
    ("403 code", lambda: _mlflow("Permission denied", "PERMISSION_DENIED"), Cause.FORBIDDEN),
    (
        "refused behind MLflow's text",
        lambda: _wrapped(
            _mlflow("API request failed"), ConnectionRefusedError(errno.ECONNREFUSED, "refused")
        ),
        Cause.UNREACHABLE,
    ),
    (
        "urllib3 retries in the message",
        lambda: _mlflow(
            "API request to http://127.0.0.1:9/api failed with exception "
            "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /api "
            "(Caused by NewConnectionError('<urllib3...>: "
            "Failed to establish a new connection: [Errno 111] Connection refused'))"
        ),
        Cause.UNREACHABLE,
    ),
    (
        "half-migrated",
        lambda: sqlite3.OperationalError("table _alembic_tmp_runs already exists"),
        Cause.HALF_MIGRATED,
    ),
    ("unknown", lambda: ValueError("something else\nsecond line"), None),
]


@pytest.mark.parametrize(("name", "make", "cause"), CASES, ids=[c[0] for c in CASES])
def test_known_failures_are_named(name: str, make: object, cause: Cause | None) -> None:
    exc = make()  # type: ignore[operator]
    server = cause in (Cause.UNREACHABLE, Cause.UNAUTHORIZED, Cause.FORBIDDEN)
    failure = describe(exc, "http://127.0.0.1:5000" if server else DB)
    assert failure.cause is cause
    assert "\n" not in failure.line and len(failure.line) <= 400
    if cause is None:
        assert failure.line == "ValueError: something else"
    else:
        assert failure.line.startswith(f"{cause.value}: ")


def test_the_line_names_the_store_or_the_refused_file() -> None:
    assert one_line(sqlite3.OperationalError("database is locked"), DB) == (
        "locked: another process holds /data/store/mlflow.db; try again when it is done"
    )
    full = OSError(errno.ENOSPC, "No space left on device", "/data/store/artifacts/1/raw.cast")
    assert one_line(full, DB) == "disk full: no space left to write /data/store/artifacts/1/raw.cast"
    refused = _wrapped(_mlflow("boom"), ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"))
    assert one_line(refused, "http://u:secret@127.0.0.1:5000") == (
        "unreachable: no answer from http://u:***@127.0.0.1:5000 (connection refused)"
    )


def test_a_local_database_has_no_network_causes() -> None:
    # A message that merely mentions a connection does not make a sqlite store "unreachable".
    assert one_line(RuntimeError("connection reset\nmore"), DB) == "RuntimeError: connection reset"


def test_a_line_made_already_is_kept() -> None:
    assert one_line(StoreProblem("half-migrated: x", Cause.HALF_MIGRATED), DB) == "half-migrated: x"


def test_store_labels() -> None:
    assert store_label(DB) == "/data/store/mlflow.db"
    assert store_label("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert store_label("https://me:pw@host/mlflow") == "https://me:***@host/mlflow"
    assert store_label(None) == "the tracking store"


@pytest.mark.parametrize(
    ("env", "status", "wanted"),
    [
        ({}, 401, "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN"),
        (
            {"MLFLOW_TRACKING_USERNAME": "alice", "MLFLOW_TRACKING_PASSWORD": "pw-x"},
            401,
            "set MLFLOW_TRACKING_PASSWORD to 'alice'",
        ),
        ({"MLFLOW_TRACKING_TOKEN": "tok-x"}, 401, "set MLFLOW_TRACKING_TOKEN to a valid token"),
        (
            {"MLFLOW_TRACKING_USERNAME": "bob", "MLFLOW_TRACKING_PASSWORD": "pw-y"},
            403,
            "user 'bob' lacks permission",
        ),
    ],
)
def test_a_refusal_names_the_variable_to_set(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], status: int, wanted: str
) -> None:
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    exc = _mlflow(f"API request to endpoint /x failed with error code {status} != 200. Response body: 'no'")
    line = one_line(exc, "http://127.0.0.1:5000")
    assert wanted in line and "\n" not in line
    assert line.startswith("unauthorized: " if status == 401 else "forbidden: ")
    for value in env.values():
        if value.startswith(("pw-", "tok-")):
            assert value not in line
