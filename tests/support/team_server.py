"""A team's MLflow set-up on this machine: PostgreSQL (Debian's package) started from scratch in a temp dir,
and `mlflow server --app-name basic-auth` against it with proxied artifacts, as docs/team.md describes.

Shared by the e2e tests (`tests/e2e/conftest.py`, one server per test session) and the load benchmark
(`benchmarks/bench_team.py`). Everything listens on 127.0.0.1 only and lives in its own process group,
stopped whole at the end.

PostgreSQL refuses to run as root: as root, the cluster's folder is given to Debian's `postgres` user (else
`nobody`) and `initdb`/`pg_ctl` run as that user through `runuser`.

A pytest that dies without its teardown (SIGKILL) leaves nothing running: a `Watchdog` outside its process
group stops the cluster and the server and removes their folder (tests/e2e/test_terminated_pytest.py). If
the watchdog was killed too, the next test session does it (`reap_abandoned_clusters`).
"""

from __future__ import annotations

import base64
import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.watchdog import Watchdog, reap_abandoned

ADMIN_USER = "admin"
ADMIN_PASSWORD = "team-admin-password-0123"
"""The server's admin (MLflow wants a password of 12 characters or more)."""
DB_USER = "mlflow"
"""The PostgreSQL role the server connects as (trust auth on 127.0.0.1 only, inside the test's cluster)."""
RECORD = "watchdog.jsonl"
"""The file in a cluster's folder (or the team's) where its `Watchdog` writes what it was told."""
START_TIMEOUT = 180.0
"""Seconds to wait for `mlflow server` to answer (8-30 s on an idle machine, much longer under load)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin() -> Path:
    """The folder of Debian's PostgreSQL programs (`/usr/lib/postgresql/<version>/bin`), newest first.

    Raises:
        RuntimeError: PostgreSQL is not installed (`make setup` installs Debian's `postgresql`).
    """
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise RuntimeError("PostgreSQL is not installed: run `make setup` (it installs Debian's postgresql)")


def _run_as() -> str | None:
    """The user PostgreSQL runs as when we are root (it refuses root), else None (ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and there is no postgres or nobody user to run PostgreSQL as")


@dataclass
class PostgresCluster:
    """A throw-away PostgreSQL cluster: `initdb` in a temp dir, `pg_ctl start` on a free port."""

    folder: Path
    port: int = field(default_factory=free_port)
    user: str | None = field(default_factory=_run_as)

    def _cmd(self, *argv: str) -> list[str]:
        return ["runuser", "-u", self.user, "--", *argv] if self.user else list(argv)

    def _run(self, *argv: str, timeout: float = 120) -> None:
        proc = subprocess.run(
            self._cmd(*argv), capture_output=True, text=True, timeout=timeout, cwd=self.folder, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {(proc.stderr or proc.stdout)[-2000:]}")

    @property
    def data(self) -> Path:
        """The cluster's data directory."""
        return self.folder / "data"

    def start(self) -> PostgresCluster:
        """initdb (trust on 127.0.0.1, no fsync: it is a test cluster) and start; returns self."""
        bindir = postgres_bin()
        if self.user:
            info = pwd.getpwnam(self.user)
            os.chown(self.folder, info.pw_uid, info.pw_gid)
        os.chmod(self.folder, 0o755)
        self._run(
            str(bindir / "initdb"), "-D", str(self.data), "-U", DB_USER, "-A", "trust", "-E", "UTF8",
            "--no-sync", "--locale=C.UTF-8",
        )  # fmt: skip
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run(
            str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "postgres.log"),
            "-o", options, "-w", "-t", "120", "start",
        )  # fmt: skip
        return self

    def _where(self) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER]

    def create_database(self, name: str) -> str:
        """Create database `name`; returns its SQLAlchemy URL (psycopg2)."""
        self._run(
            str(postgres_bin() / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER, name
        )
        return self.url(name)

    def url(self, database: str) -> str:
        """`postgresql+psycopg2://mlflow@127.0.0.1:PORT/DATABASE` (SQLAlchemy 2.1 takes a bare `postgresql://`
        as psycopg 3)."""
        return f"postgresql+psycopg2://{DB_USER}@127.0.0.1:{self.port}/{database}"

    def psql(self, database: str, sql: str) -> str:
        """Run SQL with psql; its output (unaligned, tuples only)."""
        proc = subprocess.run(
            ["psql", *self._where(), "-d", database, "-At", "-c", sql],
            capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
        return proc.stdout

    def dump(self, database: str) -> str:
        """The whole database as SQL text (`pg_dump`), to search it."""
        proc = subprocess.run(
            [str(postgres_bin() / "pg_dump"), *self._where(), database],
            capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
        return proc.stdout

    def stop_argv(self, mode: str = "fast") -> list[str]:
        """The command that stops the cluster (`pg_ctl stop -m MODE`, as the cluster's user)."""
        return self._cmd(str(postgres_bin() / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def stop(self) -> None:
        """`pg_ctl stop -m fast` (the cluster's folder is left for the caller to remove)."""
        with contextlib.suppress(Exception):
            self._run(*self.stop_argv()[len(self._cmd()) :])


@dataclass
class TeamServer:
    """`mlflow server --app-name basic-auth` on PostgreSQL with proxied artifacts; see `team_server()`."""

    url: str
    folder: Path
    postgres: PostgresCluster
    proc: subprocess.Popen[bytes]
    backend_uri: str
    artifacts: Path
    log_path: Path
    users: dict[str, str] = field(default_factory=dict)
    """username -> password of the users created so far (besides the admin)."""
    tokens_file: Path | None = None
    """Bearer tokens the test authorization function accepts (`tests.support.bearer_auth`)."""

    def _request(
        self, method: str, path: str, body: dict[str, object] | None, user: str, password: str
    ) -> bytes:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {credentials}")
        with urllib.request.urlopen(request, timeout=60) as reply:
            return bytes(reply.read())

    def admin(self, method: str, path: str, body: dict[str, object] | None = None) -> bytes:
        """A REST call as the admin."""
        return self._request(method, path, body, ADMIN_USER, ADMIN_PASSWORD)

    def create_user(self, username: str, password: str) -> None:
        """A user (through MLflow's REST API, as docs/team.md shows); remembered in `users`."""
        try:
            self.admin("POST", "/api/2.0/mlflow/users/create", {"username": username, "password": password})
        except urllib.error.HTTPError as exc:
            if exc.code != 400:  # 400: exists already (a second test of the session)
                raise
        self.users[username] = password

    def grant_experiment(self, experiment_id: str, username: str, permission: str) -> None:
        """Give `username` `permission` (READ, EDIT, MANAGE, NO_PERMISSIONS) on one experiment."""
        body = {
            "username": username,
            "resource_type": "experiment",
            "resource_id": experiment_id,
            "permission": permission,
        }
        self.admin("POST", "/api/3.0/mlflow/users/permissions/grant", body)

    def add_token(self, token: str, username: str) -> None:
        """Let `Authorization: Bearer <token>` act as `username` (read by the server on every request)."""
        assert self.tokens_file is not None
        tokens = json.loads(self.tokens_file.read_text()) if self.tokens_file.exists() else {}
        tokens[token] = username
        self.tokens_file.write_text(json.dumps(tokens))

    def env(self, username: str) -> dict[str, str]:
        """The environment a team member's claude-tui gets: the server and their basic-auth credentials."""
        return {
            "MLFLOW_TRACKING_URI": self.url,
            "MLFLOW_TRACKING_USERNAME": username,
            "MLFLOW_TRACKING_PASSWORD": self.users[username],
        }


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    """Poll `url`/health until it answers 200.

    Raises:
        RuntimeError: the server exited or did not answer within `timeout` seconds (with its log's tail).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"mlflow server did not start: {log_path.read_text()[-3000:]}")
        time.sleep(0.3)


def stop_group(proc: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM the process group `proc` leads, SIGKILL what is left after `grace` seconds (at once when the
    wait is interrupted)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the job-queue children linger ~30 s after SIGTERM
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def reap_abandoned_clusters() -> list[Path]:
    """Stop the clusters (and the team's servers) under the temp dir whose test session and watchdog are both
    gone, and remove their folders (`claude-tui-*/` and `claude-tui-*/postgres/` with a watchdog's record);
    the records reaped."""
    temp = Path(tempfile.gettempdir())
    return reap_abandoned(
        [*temp.glob(f"claude-tui-*/{RECORD}"), *temp.glob(f"claude-tui-*/postgres/{RECORD}")]
    )


@contextlib.contextmanager
def postgres_cluster(folder: Path, watchdog: Watchdog | None = None) -> Iterator[PostgresCluster]:
    """A `PostgresCluster` started in `folder` (made here), stopped when the block ends however it ends.

    `pg_ctl` runs the server detached from us: nothing stops it if this process dies first. A pytest ended
    from outside (SIGTERM) runs its teardown (tests/conftest.py turns the signal into KeyboardInterrupt), and
    so this `finally`; one killed outright (SIGKILL) runs nothing, and `watchdog` (one of the block's own if
    not given) then stops the cluster and removes `folder`.
    """
    cluster = PostgresCluster(folder)
    folder.mkdir()
    with contextlib.ExitStack() as stack:
        if watchdog is None:
            watchdog = stack.enter_context(Watchdog(record=folder / RECORD))
        watchdog.remove(folder)
        watchdog.run(cluster.stop_argv("immediate"))  # before the start: pytest may die during it
        try:
            yield cluster.start()
        finally:
            cluster.stop()


@contextlib.contextmanager
def team_server(*, workers: int = 1, timeout: float = START_TIMEOUT) -> Iterator[TeamServer]:
    """PostgreSQL + `mlflow server --app-name basic-auth` with proxied artifacts, stopped whole after.

    The auth app keeps its users in PostgreSQL too, caches a login for 600 s (`auth_cache_ttl_seconds`:
    without it every request re-hashes the password, ~0.1 s) and takes bearer tokens beside basic auth
    (`tests.support.bearer_auth`, the test's stand-in for a team's token issuer).
    """
    folder = Path(tempfile.mkdtemp(prefix="claude-tui-team-"))
    os.chmod(folder, 0o711)  # PostgreSQL's user must reach its own folder inside (and read nothing else)
    watchdog = Watchdog(record=folder / RECORD)
    watchdog.remove(folder)
    try:
        with postgres_cluster(folder / "postgres", watchdog) as postgres:
            backend = postgres.create_database("mlflow")
            auth_db = postgres.create_database("mlflow_auth")
            tokens = folder / "tokens.json"
            tokens.write_text("{}")
            config = folder / "basic_auth.ini"
            config.write_text(
                "[mlflow]\n"
                "default_permission = NO_PERMISSIONS\n"
                f"database_uri = {auth_db}\n"
                f"admin_username = {ADMIN_USER}\n"
                f"admin_password = {ADMIN_PASSWORD}\n"
                "authorization_function = tests.support.bearer_auth:authenticate_request\n"
                "auth_cache_ttl_seconds = 600\n"
            )
            artifacts = folder / "artifacts"
            port = free_port()
            log_path = folder / "server.log"
            root = Path(__file__).resolve().parents[2]
            env = {
                **os.environ,
                "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
                "MLFLOW_AUTH_CONFIG_PATH": str(config),
                "MLFLOW_FLASK_SERVER_SECRET_KEY": "tests-only-secret-key",
                "CLAUDE_TUI_TEST_TOKENS": str(tokens),
                "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
            }
            for name in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
                env.pop(name, None)
            with log_path.open("wb") as log:
                proc = subprocess.Popen(
                    [str(Path(sys.executable).with_name("mlflow")), "server", "--app-name", "basic-auth",
                     "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                     "--backend-store-uri", backend, "--artifacts-destination", str(artifacts)],
                    env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=folder,
                )  # fmt: skip
            watchdog.kill_group(proc.pid)
            # The server goes before its database; the cluster goes even if stopping the server fails.
            try:
                url = f"http://127.0.0.1:{port}"
                wait_until_up(url, proc, log_path, timeout)
                yield TeamServer(
                    url, folder, postgres, proc, backend, artifacts, log_path, tokens_file=tokens
                )
            finally:
                stop_group(proc)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        watchdog.release()
