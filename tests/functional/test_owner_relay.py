"""The forked owner's early relay (`owner.relay`) and the server taking over from it, with real programs in
real PTYs: the window gets the program's first output before the server exists; the server then records every
byte, answers what the relay did not handle, keeps the session when the window went away, and logs the exit
status.

The relay and the server run in threads of the test, on the socket of this test's data dir, as the forked
owner runs them one after the other (`client.start_owner_forked`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from claude_tui.owner.attached import OwnerPump
from claude_tui.owner.client import OwnerClient
from claude_tui.owner.protocol import as_socket, listen_raw, socket_path
from claude_tui.owner.relay import EarlyRelay, head_branch
from claude_tui.owner.server import OwnerServer
from claude_tui.session import SessionConfig
from claude_tui.terminal.pty_session import ExitStatus, PtySession
from claude_tui.tracking.gitinfo import git_state
from tests.functional.test_owner import FakeStore
from tests.helpers import wait_until

SESSION = "0b6f3d4e-8a51-4c43-9d0e-2f7d2b1c5a90"

ECHO = """import sys
print('first output', flush=True)
print('=' * 1100, flush=True)  # a first frame's worth (`EarlyRelay.FIRST_FRAME`)
for line in sys.stdin:
    if line.strip() == 'bye':
        sys.exit(3)
    print('got', line.strip()[::-1], flush=True)
"""


class Started:
    """A program spawned early, its relay serving in a thread, and the server once it took over."""

    def __init__(self, tmp_path: Path, argv: list[str] | None = None) -> None:
        if argv is None:
            script = tmp_path / "echo.py"
            script.write_text(ECHO)
            argv = [sys.executable, str(script)]
        self.pty = PtySession.spawn(argv, cwd=str(tmp_path), cols=100, rows=30)
        self.listener = listen_raw(socket_path())
        self.relay = EarlyRelay(self.listener, SESSION, self.pty, {})
        self.relay.LONGEST = 60.0  # a loaded machine: the tests say when the server takes over
        self.thread = threading.Thread(target=self.relay.run, daemon=True)
        self.thread.start()
        self.store = FakeStore()
        self.server: OwnerServer | None = None

    def take_over(self, pump: OwnerPump | None = None) -> OwnerServer:
        """What `run_owner` does after the relay (once it stops, `pump` read meanwhile as a window does):
        adopt the program, carry on from the relay, serve."""

        def stopped() -> bool:
            if pump is not None:
                pump.pump(0.05)
            return not self.thread.is_alive()

        wait_until(stopped, what="the relay to stop")
        server = OwnerServer(
            socket_path(), listen=as_socket(self.listener), log_spool=self.store, idle_exit=None
        )
        server.adopt(SESSION, self.pty, {})
        server.take_over(self.relay)
        self.server = server.start_thread()
        return server

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        else:
            self.relay.gone = True
            self.thread.join(10)
            self.pty.terminate(grace=0.5)


@pytest.fixture
def started(tmp_path: Path) -> Any:
    early = Started(tmp_path)
    yield early
    early.stop()


def claim(tmp_path: Path) -> OwnerClient:
    """The window's side of the fork path: hello and the claim (`launch`), `configure` (`run_in_owner`)."""
    client = OwnerClient.open(socket_path(), timeout=15)
    client.send({"op": "spawn", "session_id": SESSION})
    config = SessionConfig(command=sys.executable, cwd=tmp_path, session_id=SESSION)
    client.send({"op": "configure", "config": config.to_dict()})
    return client


def screen_text(pump: OwnerPump) -> str:
    pump.pump(budget=0.05)
    return "\n".join(pump.emulator.display)


def test_the_relay_shows_the_first_output_and_the_server_records_every_byte(
    tmp_path: Path, started: Started
) -> None:
    pump = OwnerPump.take(claim(tmp_path), None)
    assert (pump.emulator.cols, pump.emulator.rows) == (100, 30)  # a blank screen of the spawn's size
    assert pump.session_id == SESSION and pump.info["state"] == "starting"
    relayed_keys = set(pump.info)  # the relay's copy of what `OwnedSession.info` says of a session
    wait_until(lambda: "first output" in screen_text(pump), what="the program's output through the relay")
    assert started.relay.configure is not None and not started.relay.pending
    server = started.take_over(pump)  # the relay ends once the window has read everything, on a quiet moment
    session = server.sessions[SESSION]
    wait_until(
        lambda: session.configured and session in server.sessions.values(), what="the claim configured"
    )
    # The program started at the relay's start, not when the server configured it (a resumed conversation's
    # records from before that are an earlier process's): the spool says so too.
    assert relayed_keys == set(session.info())  # the window's header reads the same fields from both
    assert session.tracked is not None and session.tracked.program_started == started.relay.started_at
    assert json.loads((session.tracked.spool.path / "meta.json").read_text())["program_started"] == (
        started.relay.started_at
    )
    pump.write(b"abc\n")
    wait_until(lambda: "got cba" in screen_text(pump), what="the echo through the server")
    assert pump.emulator.display == session.pump.emulator.display  # one screen, no second one sent
    pump.write(b"bye\n")
    wait_until(lambda: pump.pump(budget=0.05) is not None and pump.exit_status is not None, what="the end")
    assert pump.exit_status == ExitStatus(3)
    wait_until(lambda: started.store.calls, what="the session logged")
    [(spool, _)] = started.store.calls
    lines = (spool.path / "recording.cast").read_text().splitlines()[1:]
    output = "".join(event[2] for event in map(json.loads, lines) if event[1] == "o")
    assert output.startswith("first output\r\n")  # the relay's bytes first, then the server's
    assert "got cba\r\n" in output
    assert session.exit_status == ExitStatus(3)
    pump.close()


def test_the_session_outlives_a_window_gone_during_the_relay(tmp_path: Path, started: Started) -> None:
    started.relay.QUIET_AFTER = 60.0  # the relay serves until the window goes
    client = claim(tmp_path)
    pump = OwnerPump.take(client, None)
    pump.close()  # the window was killed once it had sent its config
    server = started.take_over()
    assert started.relay.gone and started.relay.configure is not None
    session = server.sessions[SESSION]
    wait_until(lambda: session.configured, what="the claim configured without its window")
    assert session.running
    with OwnerClient.connect(socket_path()) as other:
        [listed] = other.list_sessions()
    assert listed["id"] == SESSION and listed["state"] != "ended"
    again = OwnerPump.attach(SESSION, socket_path())  # `claude-tui attach` shows it
    wait_until(lambda: "first output" in screen_text(again), what="the screen the relay's output drew")
    again.close()


def test_a_resize_and_keys_during_the_relay_reach_the_program_and_both_screens(
    tmp_path: Path, started: Started
) -> None:
    started.relay.QUIET_AFTER = 60.0  # the relay serves until the keys below come
    pump = OwnerPump.take(claim(tmp_path), None)
    pump.resize(90, 20)
    wait_until(lambda: started.pty.size == (90, 20), what="the program's terminal resized")
    wait_until(lambda: "first output" in screen_text(pump), what="the output")
    wait_until(
        lambda: (pump.emulator.cols, pump.emulator.rows) == (90, 20), what="the window's screen resized"
    )
    pump.write(b"xy\n")  # keys: the relay writes them
    wait_until(lambda: "got yx" in screen_text(pump), what="the echo through the relay")
    started.relay.QUIET_AFTER = 0.1
    server = started.take_over(pump)
    session = server.sessions[SESSION]
    wait_until(lambda: session.configured, what="the claim configured")
    pump.write(b"vw\n")
    wait_until(lambda: "got wv" in screen_text(pump), what="the echo through the server")
    emulator = session.pump.emulator
    assert (emulator.cols, emulator.rows) == (90, 20)
    assert pump.emulator.display == emulator.display
    pump.close()


def test_a_program_that_ends_during_the_relay_has_its_exit_status_logged(tmp_path: Path) -> None:
    script = tmp_path / "short.py"
    script.write_text("print('short-lived', flush=True)\nraise SystemExit(5)\n")
    early = Started(tmp_path, [sys.executable, str(script)])
    try:
        early.relay.QUIET_AFTER = 60.0  # only the program's end stops the relay
        pump = OwnerPump.take(claim(tmp_path), None)
        early.thread.join(30)
        assert early.relay.ended and early.relay.configure is not None
        server = early.take_over()
        wait_until(lambda: early.store.calls, what="the session logged")
        assert server.sessions[SESSION].exit_status == ExitStatus(5)
        wait_until(lambda: pump.pump(budget=0.05) and pump.exit_status is not None, what="the end")
        assert pump.exit_status == ExitStatus(5)
        assert "short-lived" in "\n".join(pump.emulator.display)
        [(spool, _)] = early.store.calls
        assert "short-lived" in (spool.path / "recording.cast").read_text()
        pump.close()
    finally:
        early.stop()


def test_a_program_replaced_at_the_take_over_reaches_the_window_with_its_screen(
    tmp_path: Path, started: Started
) -> None:
    """The config's program is not the one spawned early (`OwnerServer._claim` replaces it): the window,
    which showed the early one through the relay, gets the new program's `attached` and screen."""
    client = OwnerClient.open(socket_path(), timeout=15)
    client.send({"op": "spawn", "session_id": SESSION})
    script = tmp_path / "other.py"
    script.write_text("print('the other program', flush=True)\ninput()\n")
    config = SessionConfig(command=sys.executable, cwd=tmp_path, session_id=SESSION, prompt=str(script))
    client.send({"op": "configure", "config": config.to_dict(), "program": sys.executable})
    pump = OwnerPump.take(client, None)
    early_pid = pump.info["pid"]
    server = started.take_over(pump)
    wait_until(lambda: "the other program" in screen_text(pump), what="the new program's screen")
    assert "first output" not in screen_text(pump)
    assert pump.session_id == SESSION and pump.info["pid"] != early_pid
    assert server.sessions[SESSION].pump.session.pid == pump.info["pid"]
    pump.close()


def test_what_the_relay_does_not_handle_is_the_server_s_in_order(tmp_path: Path, started: Started) -> None:
    client = claim(tmp_path)
    client.send({"op": "list"})  # not the relay's: it stops, and the server answers
    started.take_over()
    client.take_hello()
    assert client.receive()["op"] == "spawned"
    assert client.receive()["op"] == "attached"
    message = client.receive()
    while message["op"] != "sessions":
        message = client.receive()
    assert [s["id"] for s in message["sessions"]] == [SESSION]
    client.close()


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_head_branch_is_the_branch_git_status_names(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "topic")
    assert head_branch(str(repo / "sub")) == git_state(repo / "sub")["branch"] == "topic"  # no commit yet
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "one")
    git(repo, "worktree", "add", "-q", "-b", "other", str(tmp_path / "wt"))
    assert head_branch(str(tmp_path / "wt")) == git_state(tmp_path / "wt")["branch"] == "other"
    git(repo, "checkout", "-q", "--detach")
    assert head_branch(str(repo)) is None and git_state(repo)["branch"] is None
    outside = tmp_path / "plain"
    outside.mkdir()
    assert head_branch(str(outside)) == git_state(outside)["branch"]


def test_the_relay_loads_nothing_the_server_needs() -> None:
    """What the forked owner imports until its server takes over: `launch`'s modules, then the relay (the
    server's ~60 ms of imports would compete with Claude's start)."""
    code = (
        "import sys, claude_tui.launch, claude_tui.owner.client, claude_tui.owner.relay\n"
        "heavy = ('asyncio', 'ssl', 'pyte', 'wcwidth', 'logging', 'dataclasses', 'claude_tui.session',\n"
        "         'claude_tui.terminal.emulator', 'claude_tui.owner.server')\n"
        "print(','.join(name for name in heavy if name in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""
