"""Find or start an `mlflow server` for a tracking store, and build the MLflow UI's URLs.

One server per backend store, remembered in `<data dir>/ui-server-<hash>.json` (pid, pgid, host, port,
backend, log path). A remembered server is reused only if it still answers `GET /health`. A new server runs
in its own process group (so `stop()` can end it and the children it forks) with the settings that start
fastest here: one worker, no job execution. Pure stdlib: no textual, no mlflow import.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from claude_tui import paths
from claude_tui.tracking.spool import pid_alive
from claude_tui.tracking.store import run_ui_url

ProgressCallback = Callable[[str], None]
"""Receives short human-readable progress lines while a server starts."""


class UiServerError(Exception):
    """The MLflow UI server could not be started, or reported a problem; the message is one line."""


@dataclass(frozen=True)
class ServerState:
    """A running (or remembered) MLflow UI server."""

    pid: int
    pgid: int
    host: str
    port: int
    backend_store_uri: str
    artifact_root: str
    log_path: str
    started_at: float

    @property
    def url(self) -> str:
        """The server's base URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def is_remote(tracking_uri: str) -> bool:
    """True for an http(s) tracking URI: that server already has its own UI."""
    return urllib.parse.urlparse(tracking_uri).scheme in ("http", "https")


run_url = run_ui_url
"""The MLflow UI page of one run (`#/experiments/<e>/runs/<r>`); one definition, in `tracking.store`."""


def compare_url(base: str, experiment_id: str | Iterable[str], run_ids: Iterable[str]) -> str:
    """MLflow's own compare page for several runs.

    The UI builds it as `#/compare-runs?runs=<JSON list>&experiments=<JSON list>` (`getCompareRunPageRoute`
    in mlflow/server/js), with the experiment ids de-duplicated and sorted.
    """
    experiments = [experiment_id] if isinstance(experiment_id, str) else list(experiment_id)
    runs_json = json.dumps(list(run_ids), separators=(",", ":"))
    experiments_json = json.dumps(sorted(set(experiments)), separators=(",", ":"))
    quote = lambda text: urllib.parse.quote(text, safe="[],")  # noqa: E731 - keeps brackets readable
    return f"{base.rstrip('/')}/#/compare-runs?runs={quote(runs_json)}&experiments={quote(experiments_json)}"


def remote_base(tracking_uri: str) -> str:
    """The UI base URL of a remote tracking server (its tracking URI without a trailing slash)."""
    return tracking_uri.rstrip("/")


def default_artifact_root(tracking_uri: str) -> str:
    """Where the store's artifacts live, for `--artifacts-destination` / `--default-artifact-root`.

    The embedded default store keeps them in `paths.default_artifact_root()`; another sqlite file keeps
    them in an `artifacts` folder beside it (what claude-tui's logger creates its experiments with).
    """
    if tracking_uri == f"sqlite:///{paths.data_dir() / 'mlflow.db'}":
        return str(paths.default_artifact_root())
    parsed = urllib.parse.urlparse(tracking_uri)
    if parsed.scheme == "sqlite" and tracking_uri.startswith("sqlite:///"):
        return str(Path(tracking_uri[len("sqlite:///") :]).parent / "artifacts")
    if parsed.scheme in ("", "file"):
        return str(Path(parsed.path or tracking_uri).resolve())
    return str(paths.default_artifact_root())


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def answers(base: str, timeout: float = 2.0) -> bool:
    """True if an MLflow server at `base` answers `GET /health` (or `/`) with a 2xx."""
    for path in ("/health", "/"):
        try:
            with urllib.request.urlopen(base.rstrip("/") + path, timeout=timeout) as reply:
                if 200 <= reply.status < 300:
                    return True
        except (urllib.error.URLError, OSError, ValueError):
            continue
    return False


def pgid_alive(pgid: int) -> bool:
    """True while any process of group `pgid` exists (zombies excluded)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # killpg succeeds for zombies too; look for a member that is not one.
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


class UiServer:
    """The MLflow UI server for one backend store.

    Args:
        backend_store_uri: the tracking store the UI shows (`sqlite:///...`).
        artifact_root: where its artifacts live (default: `default_artifact_root(backend_store_uri)`).
        state_dir: where the state file and the server log go (default: the claude-tui data dir).
    """

    def __init__(
        self, backend_store_uri: str, artifact_root: str | None = None, state_dir: Path | None = None
    ) -> None:
        self.backend_store_uri = backend_store_uri
        self.artifact_root = artifact_root or default_artifact_root(backend_store_uri)
        self.state_dir = state_dir or paths.data_dir()
        digest = hashlib.sha256(backend_store_uri.encode()).hexdigest()[:12]
        self.state_path = self.state_dir / f"ui-server-{digest}.json"
        self.log_path = self.state_dir / f"ui-server-{digest}.log"

    # --- state file -------------------------------------------------------------------------------------

    def remembered(self) -> ServerState | None:
        """The server recorded in the state file, whether or not it still runs."""
        try:
            data = json.loads(self.state_path.read_text())
            return ServerState(**data)
        except (OSError, ValueError, TypeError):
            return None

    def _remember(self, state: ServerState) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(state), indent=1))
        tmp.replace(self.state_path)

    def _forget(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.state_path.unlink()

    # --- public -----------------------------------------------------------------------------------------

    def status(self) -> ServerState | None:
        """The running server for this store, or None (a stale state file is removed)."""
        state = self.remembered()
        if state is None:
            return None
        if state.backend_store_uri == self.backend_store_uri and answers(state.url):
            return state
        if not pid_alive(state.pid) and not pgid_alive(state.pgid):
            self._forget()
        return None

    def ensure(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        progress: ProgressCallback | None = None,
        timeout: float = 120.0,
    ) -> ServerState:
        """Reuse the server that answers for this store, or start one and wait until it answers."""
        state = self.status()
        if state is not None:
            if progress:
                progress(f"MLflow UI already running at {state.url}")
            return state
        return self.start(host=host, port=port, progress=progress, timeout=timeout)

    def start(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        progress: ProgressCallback | None = None,
        timeout: float = 120.0,
    ) -> ServerState:
        """Start `mlflow server` for this store in its own process group and wait until it answers.

        Raises:
            UiServerError: the server exited early or did not answer within `timeout` seconds (it is then
                stopped, and the message names the log file).
        """
        port = port or free_port(host)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        Path(self.artifact_root).mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable, "-m", "mlflow", "server",
            "--backend-store-uri", self.backend_store_uri,
            "--default-artifact-root", self.artifact_root,
            "--artifacts-destination", self.artifact_root,
            "--host", host, "--port", str(port),
            "--workers", "1",
        ]  # fmt: skip
        env = dict(os.environ)
        # The job queue costs start-up time and leaves children behind on SIGTERM; the UI does not need it.
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        if progress:
            progress(f"starting MLflow UI on {host}:{port} (log: {self.log_path})")
        with open(self.log_path, "ab") as log:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        state = ServerState(
            pid=process.pid,
            pgid=process.pid,
            host=host,
            port=port,
            backend_store_uri=self.backend_store_uri,
            artifact_root=self.artifact_root,
            log_path=str(self.log_path),
            started_at=time.time(),
        )
        self._remember(state)
        deadline = time.monotonic() + timeout
        started = time.monotonic()
        last_report = 0.0
        while True:
            if process.poll() is not None:
                self._kill_group(state.pgid)
                self._forget()
                raise UiServerError(
                    f"mlflow server exited with status {process.returncode}; see {self.log_path}"
                )
            if answers(state.url, timeout=1.0):
                if progress:
                    progress(f"MLflow UI ready at {state.url}")
                return state
            now = time.monotonic()
            if now > deadline:
                self._kill_group(state.pgid)
                self._forget()
                raise UiServerError(
                    f"mlflow server did not answer within {timeout:.0f} s; see {self.log_path}"
                )
            if progress and now - last_report >= 1.0:
                last_report = now
                progress(f"waiting for MLflow UI ({now - started:.0f} s)")
            time.sleep(0.25)

    def stop(self, grace: float = 5.0) -> bool:
        """End the remembered server's whole process group; True if there was one to stop."""
        state = self.remembered()
        if state is None:
            return False
        self._kill_group(state.pgid, grace)
        self._forget()
        return True

    @staticmethod
    def _kill_group(pgid: int, grace: float = 5.0) -> None:
        # SIGTERM first so the server can close its store; SIGKILL whatever still lingers after `grace`.
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            _reap(pgid)
            if not pgid_alive(pgid):
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and pgid_alive(pgid):
            _reap(pgid)
            time.sleep(0.05)


def _reap(pgid: int) -> None:
    # The leader is our child when this process started it; collect it so it does not stay a zombie.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pgid, os.WNOHANG)
