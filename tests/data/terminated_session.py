"""A pytest session that holds a PostgreSQL cluster as the team server's fixture does
(`tests.support.team_server.postgres_cluster`) and waits to be ended from outside.

Not collected by the suite (the name does not start with `test_`): tests/e2e/test_terminated_pytest.py runs it
in a pytest of its own, sends that pytest SIGTERM, and checks the cluster went with it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.team_server import PostgresCluster, postgres_cluster

READY = "CLAUDE_TUI_TEST_READY"
"""The file this session writes the cluster's data directory to once it runs."""


@pytest.fixture(scope="session")
def cluster() -> Iterator[PostgresCluster]:
    folder = Path(tempfile.mkdtemp(prefix="claude-tui-terminated-"))
    os.chmod(folder, 0o711)  # PostgreSQL's user must reach its own folder inside
    try:
        with postgres_cluster(folder / "postgres") as running:
            yield running
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_waits_to_be_ended_from_outside(cluster: PostgresCluster) -> None:
    ready = Path(os.environ[READY])
    ready.with_suffix(".tmp").write_text(str(cluster.data))
    ready.with_suffix(".tmp").rename(ready)
    threading.Event().wait(600)  # the SIGTERM comes long before
