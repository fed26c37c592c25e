"""Shared fixtures: per-test data dir, no network but loopback, and the real Claude CLI against the stub.

- autouse: `CLAUDE_TUI_HOME` and `CLAUDE_CONFIG_DIR` point at fresh temp dirs, `CLAUDE_TUI_CONFIG` and
  `CLAUDE_TUI_SYSTEM_CONFIG` at settings files that do not exist, `MLFLOW_TRACKING_URI` is unset, and any
  connection to a non-loopback address fails the test.
- `claude_bin`: the pinned `claude` binary (the test fails, never skips, when it is missing).
- `claude_env`: a factory `claude_env("realistic" | dict | Path, files=None) -> ClaudeEnvironment` whose
  `.stub` (a running `StubServer`) serves the scenario; the test fails if the CLI tried to reach any other
  host (the stub is its HTTP(S) proxy). See docs/offline-cli.md.
- Snapshots of pytest-textual-snapshot live in the top-level `snapshots/` folder.
- SIGTERM ends a run as ctrl+c does: the teardown runs (tests/e2e/test_terminated_pytest.py); what a run
  killed outright left running is stopped by its watchdog, else at the next run's start.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import socket
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from claude_tui.claude_code import find_claude_binary
from claude_tui.claude_env import ClaudeEnvironment
from claude_tui.scenarios import load_scenario
from claude_tui.stub_api import StubServer
from tests.support.processes import Process, find_processes

SNAPSHOTS_DIR = Path(__file__).resolve().parent.parent / "snapshots"

try:
    from pytest_textual_snapshot import SVGImageExtension
except ImportError:  # pragma: no cover - the test extra always installs it
    pass
else:

    def _snapshot_dirname(cls: type, *, test_location: Any) -> str:
        # One folder per test module under snapshots/, like the plugin's own tests/__snapshots__/<module>/.
        return str(SNAPSHOTS_DIR / test_location.basename)

    SVGImageExtension.dirname = classmethod(_snapshot_dirname)


# --- ended from outside: SIGTERM tears down as ctrl+c does --------------------------------------------------

_tearing_down = False
_terminated = False


def _on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM (`timeout`, a CI's cancel) ends the run as ctrl+c does, so pytest's teardown runs: servers,
    PostgreSQL clusters (pg_ctl runs them detached: a pytest killed outright left one running for hours) and
    owners are stopped. Once only: a second SIGTERM, or one that comes while the teardown runs, would cut the
    teardown short and is ignored (SIGKILL still ends the run)."""
    global _terminated
    _terminated = True
    signal.signal(signal.SIGTERM, _ignore)
    if not _tearing_down:
        raise KeyboardInterrupt("SIGTERM")


def _ignore(signum: int, frame: object) -> None:
    """Does nothing (not SIG_IGN, which a program started during the teardown would inherit)."""


def _listen_for_sigterm() -> None:
    if not _terminated and signal.getsignal(signal.SIGTERM) is not _on_sigterm:
        with contextlib.suppress(ValueError):  # not the main thread
            signal.signal(signal.SIGTERM, _on_sigterm)


def pytest_configure(config: pytest.Config) -> None:
    _listen_for_sigterm()


def pytest_runtest_setup(item: pytest.Item) -> None:
    _listen_for_sigterm()  # an app an earlier test ran in-process may have taken SIGTERM over (SignalDoor)


def pytest_sessionstart(session: pytest.Session) -> None:
    """PostgreSQL clusters (and team servers) an earlier test session left running when it and its watchdog
    were both killed outright are stopped, their folders removed (`tests.support.team_server`)."""
    from tests.support.team_server import reap_abandoned_clusters

    reap_abandoned_clusters()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    global _tearing_down
    _tearing_down = True  # the session's fixtures are torn down after this hook's first implementation


# --- no network but loopback --------------------------------------------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_violations: list[str] = []


def _is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if not isinstance(host, str):
        return True  # AF_UNIX paths as bytes
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name other than localhost would need DNS and the network


def _guarded(real: Callable[..., Any]) -> Callable[..., Any]:
    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            _violations.append(repr(address))
            raise ConnectionRefusedError(f"tests may only connect to 127.0.0.1, not {address!r}")
        return real(self, address)

    return connect


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail any test that connects (in this process) to an address other than loopback."""
    _violations.clear()
    monkeypatch.setattr(socket.socket, "connect", _guarded(_real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded(_real_connect_ex))
    yield
    if _violations:
        pytest.fail(f"test connected to non-loopback address(es): {', '.join(_violations)}")


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Every test gets its own claude-tui data dir and an empty Claude config dir; no ambient MLflow store.
    A session owner a `claude-tui` of the test started in that data dir is killed at the end (its programs
    end with it), unless the test stopped it."""
    home = tmp_path_factory.mktemp("claude-tui-home")
    monkeypatch.setenv("CLAUDE_TUI_HOME", str(home))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path_factory.mktemp("claude-config")))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    # No test reads the user's own settings file: a test that wants one writes it and points here.
    monkeypatch.setenv("CLAUDE_TUI_CONFIG", str(tmp_path_factory.mktemp("claude-tui-config") / "config.toml"))
    # Nor the machine's organisation file (/etc/claude-tui/config.toml).
    monkeypatch.setenv(
        "CLAUDE_TUI_SYSTEM_CONFIG", str(tmp_path_factory.mktemp("claude-tui-system") / "config.toml")
    )
    yield
    if any((home / "owner").glob("*.sock")):
        import signal

        for pid in owner_pids(str(home)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# --- the real CLI against the stub --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    """The pinned Claude Code CLI (run `make setup` to install it)."""
    path = find_claude_binary()
    if path is None:
        pytest.fail("no claude binary: run `make setup` or set CLAUDE_TUI_CLAUDE_BIN")
    return path


ClaudeEnvFactory = Callable[..., ClaudeEnvironment]


@pytest.fixture
def claude_env(tmp_path_factory: pytest.TempPathFactory, claude_bin: Path) -> Iterator[ClaudeEnvFactory]:
    """A factory: `claude_env(scenario="realistic", files=None)` -> an isolated `ClaudeEnvironment`.

    `scenario` is a bundled scenario name, a scenario dict or a JSON file path; the environment's `.stub`
    serves it on 127.0.0.1 until the test ends. `files` replaces the work dir's initial files.
    """
    stubs: list[StubServer] = []

    def make(
        scenario: str | dict[str, Any] | Path = "realistic", *, files: Mapping[str, str] | None = None
    ) -> ClaudeEnvironment:
        script = load_scenario(scenario) if isinstance(scenario, str) else scenario
        stub = StubServer(script).start()
        stubs.append(stub)
        env = ClaudeEnvironment.create(
            tmp_path_factory.mktemp("claude-env"), stub.url, files=files, claude_bin=claude_bin
        )
        env.stub = stub
        return env

    yield make
    for stub in stubs:
        stub.stop()
    # The CLI and its tools run in subprocesses the socket guard cannot see; their proxy is the stub, which
    # records every attempt to reach another host.
    outbound = [f"{r.method} {r.path}" for stub in stubs for r in stub.outbound_requests]
    if outbound:
        pytest.fail(f"the Claude CLI tried to reach the network: {', '.join(outbound)}")


# --- the session owner --------------------------------------------------------------------------------------


@pytest.fixture
def owner_server() -> Iterator[Any]:
    """The real `OwnerServer` of this test's data dir, serving in a thread (same code and protocol as the
    owner process); stopped at the end (its sessions ended). Set `.log_spool` to a stand-in store to log in a
    thread instead of the logger process."""
    from claude_tui.owner.protocol import socket_path
    from claude_tui.owner.server import OwnerServer

    server = OwnerServer(socket_path(), idle_exit=None).start_thread()
    yield server
    server.stop()


@pytest.fixture
def owner_processes() -> Iterator[Callable[[], list[int]]]:
    """For tests that start real `claude-tui` processes: `pids()` lists the owner processes of this test's
    data dir; at the end every one still running is stopped (its sessions ended), killed if it lingers."""
    import os
    import signal
    import time

    def pids() -> list[int]:
        return owner_pids(os.environ["CLAUDE_TUI_HOME"])

    yield pids
    for pid in pids():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def owner_pids(home: str) -> list[int]:
    """The owner processes of the data dir `home`."""
    setting = f"CLAUDE_TUI_HOME={home}".encode()
    return find_processes(lambda process: setting in process.environ() and _is_owner(process))


def _is_owner(process: Process) -> bool:
    """An owner process: `python -m claude_tui.owner`, one that named itself (`claude-tui-own`), or one forked
    by `launch` that has not yet: a Python process writing to owner.log. Not any process holding owner.log
    (a program the owner runs without capturing its stderr, e.g. git, inherits it: at load 5-8 a whole
    suite once counted two owners)."""
    cmdline = process.cmdline()
    if b"claude_tui.owner" in cmdline:
        return True
    if process.comm() == "claude-tui-own":
        return True
    if not Path(cmdline.split(b"\0", 1)[0].decode(errors="replace")).name.startswith("python"):
        return False
    fds = process.folder / "fd"
    return any(str(os.readlink(fd)).endswith("/owner/owner.log") for fd in fds.iterdir())
