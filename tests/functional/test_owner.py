"""The session owner with real programs in real PTYs: spawn, list, early programs claimed or not, versions,
the end and the logging (a stand-in store, in the owner's thread).

The owner runs in a thread of the test (`owner_server`), with the same code and protocol as the owner process;
clients talk to it over its Unix socket exactly as `claude-tui` does.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from claude_tui.owner.client import OwnerClient, OwnerError
from claude_tui.owner.protocol import MESSAGE, FrameReader, decode_message, encode_message, socket_path
from claude_tui.session import SessionConfig
from tests.helpers import wait_until


class FakeStore:
    """Stands in for `tracking.logger.log_spool`: records what it was given."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __call__(self, spool: Any, **kwargs: Any) -> Any:
        self.calls.append((spool, kwargs))
        return type(
            "Logged", (), {"run_id": f"run{len(self.calls)}", "experiment_id": "7", "tracking_uri": "fake://"}
        )()


def program(tmp_path: Path, body: str, name: str = "prog.py") -> list[str]:
    path = tmp_path / name
    path.write_text(body)
    return [sys.executable, str(path)]


def config_for(tmp_path: Path, **values: Any) -> SessionConfig:
    return SessionConfig(command=sys.executable, cwd=tmp_path, **values)


def owned(server: Any, session_id: str) -> Any:
    return server.sessions[session_id]


ECHO = """import sys
print('ready', flush=True)
for line in sys.stdin:
    print('got', line.strip()[::-1], flush=True)
"""


def test_a_detached_session_is_listed_then_logged_exactly_once(tmp_path: Path, owner_server: Any) -> None:
    owner_server.log_spool = store = FakeStore()
    # The program ends once the test has seen it listed: a fixed lifetime (1.5 s) can pass first under load.
    go = tmp_path / "go"
    argv = program(
        tmp_path,
        "import os, time\nprint('working', flush=True)\n"
        f"while not os.path.exists({str(go)!r}):\n    time.sleep(0.02)\nraise SystemExit(3)\n",
    )
    with OwnerClient.connect() as client:
        session_id = client.spawn(config_for(tmp_path).to_dict(), argv, cols=80, rows=24)
        [info] = client.list_sessions()
        assert info["id"] == session_id and info["cwd"] == str(tmp_path) and info["tracked"]
        assert info["state"] in ("starting", "working") and info["exit_code"] is None
        go.touch()
        wait_until(lambda: client.list_sessions()[0]["state"] == "logged", 20, "the session to be logged")
        [info] = client.list_sessions()
    assert info["exit_code"] == 3 and info["run_id"] == "run1" and info["ended_at"] >= info["started_at"]
    assert len(store.calls) == 1
    spool, kwargs = store.calls[0]
    assert (spool.path / "summary.json").exists() and kwargs["experiment"] == "claude-sessions"
    assert "working" in (spool.path / "recording.cast").read_text()
    assert not spool.owner_alive(), "the owner let go of the finished spool, so any sync could log it"


def test_a_program_spawned_early_and_never_claimed_is_ended(tmp_path: Path, owner_server: Any) -> None:
    """`launch` asks the owner for the program before click has read the command line; if the UI then goes
    away (a command line click refused), the program must not outlive it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(socket_path()))
    request = {"op": "spawn", "session_id": "early-1", "argv": program(tmp_path, ECHO), "cwd": str(tmp_path)}
    sock.sendall(
        encode_message({"op": "hello", "protocol": 1, "version": _version()}) + encode_message(request)
    )
    pid = wait_until(
        lambda: getattr(owner_server.sessions.get("early-1"), "pump", None), 10, "the spawn"
    ).session.pid
    with OwnerClient.connect() as client:
        assert client.list_sessions() == [], "an unclaimed program is nobody's session yet"
    sock.close()
    wait_until(lambda: not _alive(pid), 10, "the unclaimed program to be ended")


def test_another_version_may_list_but_not_show_sessions(tmp_path: Path, owner_server: Any) -> None:
    with OwnerClient.connect() as client:
        session_id = client.spawn(
            config_for(tmp_path, track=False).to_dict(), program(tmp_path, ECHO), cols=80, rows=24
        )
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(socket_path()))
    sock.settimeout(10)
    reader = FrameReader()

    def ask(message: dict[str, Any]) -> dict[str, Any]:
        sock.sendall(encode_message(message))
        while True:
            frames = [f for f in reader.feed(sock.recv(65536)) if f[0] == MESSAGE]
            if frames:
                return decode_message(frames[0][1])

    assert ask({"op": "hello", "protocol": 1, "version": "9.9.9"})["version"] == _version()
    assert [s["id"] for s in ask({"op": "list"})["sessions"]] == [session_id]
    refused = ask({"op": "attach", "id": session_id})
    assert refused["op"] == "error" and "use that version" in refused["message"]
    sock.close()


def _version() -> str:
    from claude_tui import __version__

    return __version__


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        waited = 0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return (
        waited == 0
        and Path(f"/proc/{pid}").exists()
        and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    )


def test_a_shell_the_owner_runs_counts_its_commands(tmp_path: Path, owner_server: Any) -> None:
    """A bash run by the owner (`--detach`) gets the OSC 133 marks too: its commands and failures are counted
    from them, also the last one (`exit`), whose marks come with the shell's last output."""
    import json

    owner_server.log_spool = store = FakeStore()
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("PS1='mine> '\n")
    config = SessionConfig(command="bash", cwd=tmp_path, env={"HOME": str(home)})
    with OwnerClient.connect() as client:
        session_id = client.spawn(config.to_dict(), config.argv(), cols=80, rows=24)
        session = owned(owner_server, session_id)
        wait_until(lambda: "mine>" in "\n".join(session.pump.emulator.display), 20, "the user's prompt")
        owner_server._loop.call_soon_threadsafe(session.pump.write, b"false\rtrue\rls /no/such/dir\rexit\r")
        wait_until(lambda: client.list_sessions()[0]["state"] == "logged", 30, "the session to be logged")
    spool, _ = store.calls[0]
    summary = json.loads((spool.path / "summary.json").read_text())
    assert summary["stats_source"] == "shell"
    assert (summary["stats"]["commands_executed"], summary["stats"]["errors_encountered"]) == (4, 2)


class FailingStore:
    """Stands in for a store that does not take the session."""

    def __call__(self, spool: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")


@pytest.mark.parametrize("store", ["takes it", "fails"])
def test_a_demo_s_stub_and_folders_live_as_long_as_its_session(
    tmp_path: Path, owner_server: Any, store: str
) -> None:
    """`claude-tui demo`'s stub server runs in the owner while the session does (its URL in the program's
    environment), and its folders go once the session is logged; a session the store did not take keeps
    them (its spool points at the transcript there, for `claude-tui sync`)."""
    from claude_tui.claude_env import ClaudeEnvironment

    owner_server.log_spool = FakeStore() if store == "takes it" else FailingStore()
    root = tmp_path / "claude-tui-demo-1"
    ClaudeEnvironment.create(root, "", files={})
    go = tmp_path / "go"
    argv = program(
        tmp_path,
        "import os, time\nprint('stub at', os.environ['ANTHROPIC_BASE_URL'], flush=True)\n"
        f"while not os.path.exists({str(go)!r}):\n    time.sleep(0.02)\n",
    )
    config = config_for(tmp_path)
    with OwnerClient.connect() as client:
        client.request(
            {"op": "spawn", "config": config.to_dict(), "argv": argv, "cwd": str(tmp_path), "cols": 80,
             "rows": 24, "demo": {"scenario": "realistic", "root": str(root)}, "hint": ["type this"]}
        )  # fmt: skip
        client.receive()  # configured
        session = owned(owner_server, config.session_id)
        url = session.demo.stub.url
        assert session.config.env["ANTHROPIC_BASE_URL"] == url and session.hint == ["type this"]
        wait_until(lambda: f"stub at {url}" in "\n".join(session.pump.emulator.display), 20, "the program")
        port = int(url.rsplit(":", 1)[1])
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # the stub serves
        assert root.is_dir()
        go.touch()
        done = "logged" if store == "takes it" else "not logged"
        wait_until(lambda: client.list_sessions()[0]["state"] == done, 20, f"the session {done}")

    def stub_gone() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except OSError:
            return True
        return False

    wait_until(stub_gone, 20, "the stub to stop")
    if store == "takes it":
        wait_until(lambda: not root.exists(), 20, "the demo's folders to go")
    else:
        assert (root / "config" / ".claude.json").is_file(), "kept for `claude-tui sync`"


def test_a_demo_that_cannot_start_stops_its_stub_and_leaves_no_folders(
    tmp_path: Path, owner_server: Any
) -> None:
    from claude_tui.claude_env import ClaudeEnvironment

    root = tmp_path / "claude-tui-demo-2"
    ClaudeEnvironment.create(root, "", files={})
    config = config_for(tmp_path)
    with OwnerClient.connect() as client, pytest.raises(OwnerError, match="no-such-program"):
        client.request(
            {"op": "spawn", "config": config.to_dict(), "argv": [str(tmp_path / "no-such-program")],
             "cwd": str(tmp_path), "demo": {"scenario": "realistic", "root": str(root)}}
        )  # fmt: skip
    wait_until(lambda: not root.exists(), 20, "the demo's folders to go")
    assert owner_server.sessions == {}
