"""A store that fails says why in one line: `claude-tui sync` against real broken stores (issue 13, item 12).

Each failure is real: a tmpfs that fills up, a database nobody may write (`chattr +i`), a database another
process holds locked, garbage where the database should be, a closed port, a real `mlflow server` with
basic auth refusing the credentials. Each time `sync` prints one FAIL line naming the cause and the store,
no traceback, no SQL, keeps the spool and exits 1. Two syncs at once never call a finished session "orphan".
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from claude_tui.tracking.spool import list_spools
from tests.e2e.faults import claude_tui, command_spool, immutable, start_claude_tui, tmpfs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def healthy_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated store holding one run (made by a real sync), to copy per test."""
    folder = tmp_path_factory.mktemp("healthy-store")
    spools = folder / "spools"
    command_spool(spools)
    result = claude_tui(
        "sync", "--spool-root", str(spools), "--tracking-uri", f"sqlite:///{folder / 'mlflow.db'}",
        env={"CLAUDE_TUI_HOME": str(folder / "home")},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return folder / "mlflow.db"


def copy_store(healthy: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(healthy, folder / "mlflow.db")
    return folder / "mlflow.db"


def assert_one_line_failure(result: subprocess.CompletedProcess[str], session_id: str, cause: str) -> str:
    """The FAIL line of `session_id`, after checking it names `cause` and nothing else was printed."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output and "[SQL:" not in output and "ERROR" not in output, output
    lines = output.splitlines()
    assert len(lines) == 2, output  # the FAIL line and the summary, nothing else
    fail = lines[0]
    assert fail.startswith(f"FAIL {session_id}: "), output
    assert f": {cause}: " in fail, fail
    return fail


def test_full_disk_is_one_line(tmp_path: Path) -> None:
    spools = tmp_path / "spools"
    spool = command_spool(spools, output=b"x" * 100 + b"\r\n" * 1_000_000)  # a 3 MB recording
    with tmpfs(tmp_path / "small-disk", "2m") as disk:
        result = claude_tui(
            "sync", "--spool-root", str(spools), "--tracking-uri", f"sqlite:///{disk}/mlflow.db"
        )
    line = assert_one_line_failure(result, spool.session_id, "disk full")
    assert str(tmp_path / "small-disk") in line
    assert [s.path for s in list_spools(spools)] == [spool.path]  # kept for the next sync


def test_read_only_database_is_one_line(tmp_path: Path, healthy_store: Path) -> None:
    spools = tmp_path / "spools"
    spool = command_spool(spools)
    db = copy_store(healthy_store, tmp_path / "store")
    with immutable(db):
        result = claude_tui("sync", "--spool-root", str(spools), "--tracking-uri", f"sqlite:///{db}")
    line = assert_one_line_failure(result, spool.session_id, "read-only")
    assert str(db) in line and "autoflush" not in line
    assert spool.path.exists()


LOCK_HOLDER = textwrap.dedent(
    """
    import sqlite3, sys, time
    connection = sqlite3.connect(sys.argv[1], isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    time.sleep(600)
    """
)


def test_locked_database_is_one_line(tmp_path: Path, healthy_store: Path) -> None:
    spools = tmp_path / "spools"
    spool = command_spool(spools)
    db = copy_store(healthy_store, tmp_path / "store")
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = claude_tui("sync", "--spool-root", str(spools), "--tracking-uri", f"sqlite:///{db}")
    finally:
        holder.kill()
        holder.wait()
    line = assert_one_line_failure(result, spool.session_id, "locked")
    assert str(db) in line
    assert spool.path.exists()


def test_corrupt_database_is_one_line(tmp_path: Path) -> None:
    spools = tmp_path / "spools"
    spool = command_spool(spools)
    db = tmp_path / "store" / "mlflow.db"
    db.parent.mkdir()
    db.write_bytes(bytes(range(256)) * 400)
    result = claude_tui("sync", "--spool-root", str(spools), "--tracking-uri", f"sqlite:///{db}")
    line = assert_one_line_failure(result, spool.session_id, "corrupt")
    assert str(db) in line
    assert db.read_bytes() == bytes(range(256)) * 400  # nothing was written over it


def test_unreachable_server_is_one_line(tmp_path: Path) -> None:
    spools = tmp_path / "spools"
    spool = command_spool(spools)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = claude_tui("sync", "--spool-root", str(spools), "--tracking-uri", f"http://127.0.0.1:{port}")
    line = assert_one_line_failure(result, spool.session_id, "unreachable")
    assert f"http://127.0.0.1:{port}" in line and "urllib3" not in line and "HTTPConnectionPool" not in line


def test_server_refusing_the_credentials_is_one_line(tmp_path: Path, auth_mlflow_server: str) -> None:
    spools = tmp_path / "spools"
    spool = command_spool(spools)
    result = claude_tui(
        "sync", "--spool-root", str(spools), "--tracking-uri", auth_mlflow_server,
        env={"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": "not-the-password"},
    )  # fmt: skip
    line = assert_one_line_failure(result, spool.session_id, "unauthorized")
    assert auth_mlflow_server in line and "not-the-password" not in line
    assert spool.path.exists()


def test_concurrent_syncs_never_call_a_finished_session_orphan(tmp_path: Path) -> None:
    spools = tmp_path / "spools"
    sessions = {command_spool(spools).session_id for _ in range(4)}
    db = tmp_path / "store" / "mlflow.db"
    uri = f"sqlite:///{db}"
    # A first sync migrates the new store, so the two below race over the spools, not the migrations.
    warm = command_spool(tmp_path / "warm")
    assert claude_tui("sync", "--spool-root", str(warm.path.parent), "--tracking-uri", uri).returncode == 0
    syncs = [start_claude_tui("sync", "--spool-root", str(spools), "--tracking-uri", uri) for _ in range(2)]
    outputs = [proc.communicate(timeout=300) for proc in syncs]
    text = "\n".join(out + err for out, err in outputs)
    assert all(proc.returncode == 0 for proc in syncs), text
    assert "orphan" not in text, text
    assert list_spools(spools) == []
    reported = {line.split()[1].rstrip(":") for line in text.splitlines() if line.startswith("ok ")}
    assert reported == sessions
    with sqlite3.connect(db) as connection:
        logged = connection.execute("SELECT value FROM tags WHERE key = 'claude.session_id'").fetchall()
    assert sorted(v for (v,) in logged) == sorted(sessions | {warm.session_id})  # each once
