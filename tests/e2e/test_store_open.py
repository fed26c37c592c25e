"""Opening a sqlite store from many processes at once, and stores an earlier version left half-migrated.

Issue 13, item 1: MLflow migrates a new sqlite database in whichever process opens it first, with no lock
between processes; 12 sessions ending in the same second on a new store logged 0-2 of 12 and left
`_alembic_tmp_*` tables that broke every later sync. Here 12 real `claude-tui sync` processes first-open one
new store, three times over; every run must be logged and the store healthy. A store left half-migrated (as
an interrupted upgrade leaves it) is repaired, or, when it cannot be, named with the exact fix.
"""

from __future__ import annotations

import re
import sqlite3
import stat
from pathlib import Path

import pytest

from claude_tui.tracking.spool import list_spools
from tests.e2e.faults import claude_tui, command_spool, start_claude_tui

pytestmark = pytest.mark.slow

PROCESSES = 12
TRIALS = 3


def tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def logged_sessions(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT value FROM tags WHERE key = 'claude.session_id'").fetchall()
    return sorted(value for (value,) in rows)


def schema_version(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        return str(connection.execute("SELECT version_num FROM alembic_version").fetchone()[0])


def dump(db: Path) -> list[str]:
    """The database's contents as SQL (equal for equal contents, whatever the file's header says)."""
    with sqlite3.connect(db) as connection:
        return list(connection.iterdump())


def head_revision() -> str:
    from mlflow.store.db.utils import _get_latest_schema_revision

    return str(_get_latest_schema_revision())


@pytest.mark.parametrize("trial", range(TRIALS))
def test_twelve_processes_first_opening_one_new_store(tmp_path: Path, trial: int) -> None:
    db = tmp_path / "new-store" / "mlflow.db"
    roots = [tmp_path / f"spools-{i}" for i in range(PROCESSES)]
    sessions = sorted(command_spool(root).session_id for root in roots)
    syncs = [
        start_claude_tui("sync", "--spool-root", str(root), "--tracking-uri", f"sqlite:///{db}")
        for root in roots
    ]
    outputs = [proc.communicate(timeout=600) for proc in syncs]
    failed = [out + err for proc, (out, err) in zip(syncs, outputs, strict=True) if proc.returncode != 0]
    assert failed == [], f"{len(failed)} of {PROCESSES} syncs failed: {failed[0]}"
    assert logged_sessions(db) == sessions
    assert not any(name.startswith("_alembic_tmp_") for name in tables(db))
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert schema_version(db) == head_revision()
    assert all(list_spools(root) == [] for root in roots)
    # The store stays usable: one more session logs into it.
    later = command_spool(tmp_path / "later")
    result = claude_tui("sync", "--spool-root", str(tmp_path / "later"), "--tracking-uri", f"sqlite:///{db}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert later.session_id in logged_sessions(db)


def half_migrated_store(db: Path) -> tuple[str, str]:
    """A store as an interrupted upgrade leaves it: at the revision before the newest migration that rebuilds
    a table, with the `_alembic_tmp_` copy of that table left behind. Returns (revision, table)."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from mlflow.store.db.utils import _get_alembic_config, create_sqlalchemy_engine
    from mlflow.store.tracking.dbmodels.initial_models import Base as InitialBase

    url = f"sqlite:///{db}"
    config = _get_alembic_config(url)
    found = [
        (revision.down_revision, table)
        for revision in ScriptDirectory.from_config(config).walk_revisions()
        if isinstance(revision.down_revision, str)
        for source in [Path(revision.path).read_text()]
        for table in re.findall(r'batch_alter_table\(\s*"(\w+)"', source)
        if not re.search(rf'create_table\(\s*"{table}"', source)  # a table that existed before it
    ]
    assert found, "no migration rebuilds a table"
    before, table = found[0]
    engine = create_sqlalchemy_engine(url)
    InitialBase.metadata.create_all(engine)  # what MLflow does before its first upgrade
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, before)
    engine.dispose()
    with sqlite3.connect(db) as connection:
        connection.execute(f"CREATE TABLE _alembic_tmp_{table} AS SELECT * FROM {table}")
    return before, table


def test_a_half_migrated_store_is_repaired(tmp_path: Path) -> None:
    db = tmp_path / "old-store" / "mlflow.db"
    db.parent.mkdir()
    revision, table = half_migrated_store(db)
    assert f"_alembic_tmp_{table}" in tables(db) and schema_version(db) == revision
    spool = command_spool(tmp_path / "spools")
    result = claude_tui("sync", "--spool-root", str(tmp_path / "spools"), "--tracking-uri", f"sqlite:///{db}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert logged_sessions(db) == [spool.session_id]
    assert not any(name.startswith("_alembic_tmp_") for name in tables(db))
    assert schema_version(db) == head_revision()
    backups = list(db.parent.glob("mlflow.db.before-repair-*"))
    assert len(backups) == 1 and f"_alembic_tmp_{table}" in tables(backups[0])  # what was there is kept
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600


def test_a_store_that_cannot_be_repaired_is_named_with_the_fix(tmp_path: Path) -> None:
    db = tmp_path / "newer-store" / "mlflow.db"
    db.parent.mkdir()
    _, table = half_migrated_store(db)
    # Half-migrated by a newer MLflow: a revision this one does not know, so no upgrade can run.
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00dfeedbeef'")
    before = dump(db)
    spool = command_spool(tmp_path / "spools")
    result = claude_tui("sync", "--spool-root", str(tmp_path / "spools"), "--tracking-uri", f"sqlite:///{db}")
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in output, output
    fail = output.splitlines()[0]
    assert fail.startswith(f"FAIL {spool.session_id}: not logged (finished): half-migrated: {db} ")
    assert fail.endswith(
        f"fix: sqlite3 {db} 'DROP TABLE _alembic_tmp_{table}' && mlflow db upgrade sqlite:///{db}"
    )
    assert dump(db) == before  # put back as it was
    assert spool.path.exists()


def test_a_new_store_outside_the_home_is_private(tmp_path: Path) -> None:
    """Issue 13, item 10: the database and the artifact folder hold transcripts; others may not read them."""
    folder = tmp_path / "team" / "sessions"
    db = folder / "store.db"
    spool = command_spool(tmp_path / "spools")
    result = claude_tui("sync", "--spool-root", str(tmp_path / "spools"), "--tracking-uri", f"sqlite:///{db}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert logged_sessions(db) == [spool.session_id]
    modes = {
        path.relative_to(tmp_path).as_posix(): oct(stat.S_IMODE(path.stat().st_mode))
        for path in (db, folder, folder / "artifacts")
    }
    assert modes == {
        "team/sessions/store.db": "0o600",
        "team/sessions": "0o700",
        "team/sessions/artifacts": "0o700",
    }
    # An existing store keeps the mode its owner gave it.
    db.chmod(0o640)
    command_spool(tmp_path / "more")
    result = claude_tui("sync", "--spool-root", str(tmp_path / "more"), "--tracking-uri", f"sqlite:///{db}")
    assert result.returncode == 0 and stat.S_IMODE(db.stat().st_mode) == 0o640
