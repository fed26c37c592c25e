"""The end of a `claude-tui` session as the user meets it, with real processes and the pinned CLI against the
stub: the UI exits the moment the program does and a logger process logs the run (issue 19, target 1) without
mlflow ever loading in the UI (target 2); SIGTERM restores the terminal and detaches: the session runs on in
the session owner (issue 13, item 4; issue 16, item 2); a dead tracking server costs the exit nothing and the
user is told how to retry, an impossible store is refused before the session starts (item 2); sessions not
logged yet are logged by the next start, in the background (item 3)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pexpect
import pytest

from claude_tui.claude_env import SCRIPTED_FLAGS
from claude_tui.paths import own_command
from claude_tui.terminal.emulator import TerminalEmulator
from tests.helpers import session_runs, wait_until

pytestmark = pytest.mark.slow

RECORD_MODULES = """
import atexit, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write("\\n".join(sorted(sys.modules))))
from claude_tui.launch import main
sys.argv[0] = "claude-tui"
main()
"""
"""`python -c RECORD_MODULES FILE ARGS...` is `claude-tui ARGS...` that writes, as it exits, every module it
loaded in its life to FILE."""

HEAVY = ("mlflow", "pandas", "pyarrow", "numpy", "sqlalchemy")


def finished_runs(db: Path, session_id: str) -> list[str]:
    """The ids of the finished runs of `session_id` in the sqlite store at `db`."""
    return [run for run, status in session_runs(db, session_id) if status == "FINISHED"]


def spools() -> list[Path]:
    root = Path(os.environ["CLAUDE_TUI_HOME"]) / "spool"
    return sorted(root.iterdir()) if root.is_dir() else []


def made_spools() -> list[Path]:
    """The spools in place (one being made has a hidden name until it is complete): the owner makes a
    session's spool once its server has taken over from the early relay, after the program's first frame."""
    return [spool for spool in spools() if not spool.name.startswith(".")]


class Screen:
    """A pexpect-driven `claude-tui` and what its terminal shows (our own emulator reads the output)."""

    def __init__(self, child: pexpect.spawn, cols: int, rows: int) -> None:
        self.child = child
        self.emulator = TerminalEmulator(cols, rows)
        self.raw = b""

    def read(self) -> None:
        try:
            data = self.child.read_nonblocking(65536, timeout=0.05)
        except (pexpect.TIMEOUT, pexpect.EOF):
            return
        self.raw += data
        self.emulator.feed(data)

    def text(self) -> str:
        return "\n".join(self.emulator.display)

    def wait_for(self, what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while what not in self.text():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what!r} on the screen:\n{self.text()}")
            self.read()

    def wait_exit(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while self.child.isalive():
            if time.monotonic() > deadline:
                raise AssertionError(f"claude-tui did not exit in {timeout:.0f} s:\n{self.text()}")
            self.read()
        self.read()
        self.child.close()
        return int(
            self.child.exitstatus if self.child.exitstatus is not None else 128 + self.child.signalstatus
        )

    def exit_claude(self) -> int:
        """Type `/exit` and Enter in Claude's prompt; claude-tui's exit status once it has exited."""
        self.child.send("/exit")
        self.wait_for("/exit")
        self.child.send("\r")
        return self.wait_exit()

    def printed_after_exit(self) -> str:
        """The plain text of what came after the app left the alternate screen (the summary lines)."""
        tail = self.raw.rsplit(b"\x1b[?1049l", 1)[-1].decode(errors="replace")
        return re.sub(r"\x1b\[[0-9;?<>=]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>78]|\r", "", tail)


def test_the_ui_exits_at_once_a_logger_logs_the_run_and_mlflow_never_loads_in_the_ui(
    claude_env: Any, tmp_path: Path, owner_processes: Any
) -> None:
    env = claude_env("realistic")
    db = tmp_path / "store" / "mlflow.db"
    modules = tmp_path / "modules.txt"
    args = ["--tracking-uri", f"sqlite:///{db}", "--experiment", "e2e", "--command", str(env.claude_bin),
            "--", *SCRIPTED_FLAGS]  # fmt: skip
    child_env = {**os.environ, **env.env()}
    child = pexpect.spawn(
        sys.executable, ["-c", RECORD_MODULES, str(modules), *args], env=child_env, cwd=str(env.work_dir),
        dimensions=(40, 140), timeout=30,
    )  # fmt: skip
    screen = Screen(child, 140, 40)
    try:
        screen.wait_for("shift+tab")  # Claude's prompt box, in the pane
        [spool] = wait_until(made_spools, 30, "the session's spool")  # made once the owner's server runs
        session_id = json.loads((spool / "meta.json").read_text())["session_id"]
        status = screen.exit_claude()
    finally:
        child.close(force=True)
    printed = screen.printed_after_exit()
    assert status == 0, printed
    assert "Session ended (exit status 0)." in printed
    match = re.search(r"Logging session (\w{8}) to (\S+) in the background", printed)
    assert match is not None, printed
    assert match.group(2) == str(db) and session_id.startswith(match.group(1))
    # The logger process, not the UI, logs it: exactly one finished run, and the spool goes.
    runs = wait_until(lambda: finished_runs(db, session_id), 120, "the run in the store")
    wait_until(lambda: not spools(), 60, "the spool to be removed")
    assert len(finished_runs(db, session_id)) == 1 == len(runs)
    loaded = set(modules.read_text().split())
    assert "claude_tui.app" in loaded and "textual" in loaded  # the record is the UI's own
    assert not [name for name in HEAVY if name in loaded], sorted(
        n for n in loaded if n.split(".")[0] in HEAVY
    )


def warm_loggers() -> list[int]:
    """The warm loggers (`python -m claude_tui.tracking.background --serve`) of this test's data dir."""
    home = f"CLAUDE_TUI_HOME={os.environ['CLAUDE_TUI_HOME']}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            warm = b"claude_tui.tracking.background" in cmdline and b"--serve" in cmdline
            if warm and home in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_a_session_that_outlasts_the_start_is_logged_by_the_logger_it_warmed(
    claude_env: Any, tmp_path: Path, owner_processes: Any
) -> None:
    """Issue 19, target 1: the logger process starts while the session runs (after Claude's first frame) and
    opens the store; at the end the session owner hands it the spool, the window exits at once; the logger
    logs the run, once, and exits (no session that logs there runs any more)."""
    env = claude_env("realistic")
    db = tmp_path / "store" / "mlflow.db"
    args = ["-m", "claude_tui", "--tracking-uri", f"sqlite:///{db}", "--experiment", "e2e",
            "--command", str(env.claude_bin), "--", *SCRIPTED_FLAGS]  # fmt: skip
    child = pexpect.spawn(
        sys.executable, args, env={**os.environ, **env.env()}, cwd=str(env.work_dir), dimensions=(40, 140),
        timeout=30,
    )  # fmt: skip
    screen = Screen(child, 140, 40)
    try:
        screen.wait_for("shift+tab")
        [spool] = wait_until(made_spools, 30, "the session's spool")  # made once the owner's server runs
        session_id = json.loads((spool / "meta.json").read_text())["session_id"]
        [warm] = wait_until(warm_loggers, 60, "the warm logger")
        # The warm-up opens the store while the session runs.
        wait_until(lambda: db.exists(), 120, "the warm-up to create the store")
        status = screen.exit_claude()
    finally:
        child.close(force=True)
    assert status == 0, screen.printed_after_exit()
    runs = wait_until(lambda: finished_runs(db, session_id), 120, "the run in the store")
    wait_until(lambda: gone(warm), 60, "the warm logger to exit")
    assert len(runs) == 1 and not spools()
    assert len(owner_processes()) == 1  # the warm logger was the owner's
    listed = subprocess.run(
        [sys.executable, "-m", "claude_tui", "ls", "--json"], capture_output=True, text=True, timeout=60,
        env={**os.environ, **env.env()}, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    [session] = json.loads(listed.stdout)
    assert (session["id"], session["state"], session["run_id"]) == (session_id, "logged", runs[0])


def gone(pid: int) -> bool:
    """Whether the process has ended (a zombie nobody reaped counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.parametrize("how", ["SIGTERM", "terminal closed"])
def test_sigterm_or_hangup_detaches_the_session_runs_on_sigterm_restores_the_terminal(
    claude_env: Any, tmp_path: Path, how: str, owner_processes: Any
) -> None:
    """The window is a client of the session owner: SIGTERM (issue 13, item 4) or its terminal closing
    detaches it; the session runs on in the owner (SIGTERM restores the terminal and says how to attach), and
    is logged once when it ends (here: the owner is stopped, which ends it gracefully)."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (the set-up installs it from Debian's packages)")
    env = claude_env("realistic")
    db = tmp_path / "store" / "mlflow.db"
    status_file = tmp_path / "status"
    sock = tmp_path / f"tmux-{uuid.uuid4().hex[:8]}"
    conf = tmp_path / "tmux.conf"
    conf.write_text("set -g status off\n")
    tmux = ["tmux", "-u", "-S", str(sock), "-f", str(conf)]
    inner = " ".join(
        [
            sys.executable,
            "-m",
            "claude_tui",
            "--tracking-uri",
            f"sqlite:///{db}",
            "--command",
            str(env.claude_bin),
            "--",
            *SCRIPTED_FLAGS,
        ]
    )
    command = f"{inner}; echo $? > {status_file}; exec sleep 600"  # the pane's shell stays, as a user's
    variables = {**env.env(), "CLAUDE_TUI_HOME": os.environ["CLAUDE_TUI_HOME"]}
    environment = [f"-e{key}={value}" for key, value in variables.items() if key != "TERM"]
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "140", "-y", "40", *environment, "-c", str(env.work_dir), command],
        check=True,
    )
    try:

        def pane(fmt: str) -> str:
            return subprocess.run(
                [*tmux, "display-message", "-p", fmt], check=True, capture_output=True, text=True
            ).stdout.strip()

        def captured() -> str:
            return subprocess.run(
                [*tmux, "capture-pane", "-p"], check=True, capture_output=True, text=True
            ).stdout

        wait_until(lambda: "shift+tab" in captured(), 90, "Claude's prompt box in the pane")
        assert pane("#{alternate_on}") == "1"  # the app is up, on the alternate screen
        [spool] = wait_until(made_spools, 30, "the session's spool")  # made once the owner's server runs
        session_id = json.loads((spool / "meta.json").read_text())["session_id"]
        shell = pane("#{pane_pid}")
        [ui] = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
        assert b"claude_tui" in Path(f"/proc/{ui}/cmdline").read_bytes()
        [owner] = owner_processes()
        if how == "terminal closed":  # the window goes: the kernel hangs the pane's terminal up (SIGHUP)
            subprocess.run([*tmux, "kill-server"], check=True)
            wait_until(lambda: gone(int(ui)), 90, "claude-tui to exit")
        else:
            os.kill(int(ui), signal.SIGTERM)
            wait_until(status_file.exists, 90, "claude-tui to exit")
            # The outer terminal is as it was: main screen, no mouse tracking, the cursor shown (tmux draws
            # what claude-tui wrote on its own time, maybe after the shell wrote the status).
            restored = lambda: pane("#{alternate_on} #{mouse_any_flag} #{cursor_flag}") == "0 0 1"  # noqa: E731
            wait_until(lambda: restored() and "runs on: " in captured(), 30, "the terminal restored")
            text = captured()
            assert f"Session {session_id[:8]} runs on: " in text and f"attach {session_id[:8]}" in text, text
            assert int(status_file.read_text()) == 0
        # The session runs on in the owner, not logged, its spool live.
        assert owner_processes() == [owner] and spools() == [spool]
        assert finished_runs(db, session_id) == []
        os.kill(owner, signal.SIGTERM)  # the owner ends its sessions gracefully, logs each, stops
        wait_until(lambda: finished_runs(db, session_id), 120, "the run in the store")
        wait_until(lambda: not spools(), 60, "the spool to be removed")
        assert len(finished_runs(db, session_id)) == 1
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_tui(args: list[str], cwd: Path, timeout: float = 120) -> tuple[int, str, float]:
    """`claude-tui ARGS` in a PTY until it exits: its status, what it printed after the app, seconds taken."""
    started = time.monotonic()
    child = pexpect.spawn(
        sys.executable, ["-m", "claude_tui", *args], env=dict(os.environ), cwd=str(cwd), dimensions=(30, 100)
    )
    screen = Screen(child, 100, 30)
    try:
        status = screen.wait_exit(timeout)
    finally:
        child.close(force=True)
    return status, screen.printed_after_exit(), time.monotonic() - started


def test_a_dead_tracking_server_keeps_the_spool_and_names_the_retry_command(
    tmp_path: Path, owner_processes: Any
) -> None:
    store = f"http://127.0.0.1:{closed_port()}"
    program = tmp_path / "program.py"
    program.write_text("import time; print('hello', flush=True); time.sleep(1); raise SystemExit(3)\n")
    status, printed, seconds = run_tui(
        ["--tracking-uri", store, "--command", sys.executable, "--", str(program)], tmp_path
    )
    assert status == 3, printed  # the program's status, logged or not
    lines = [line for line in printed.splitlines() if line.strip()]
    assert lines[0] == "Session ended (exit status 3).", printed
    assert lines[1].startswith("Not logged to MLflow: ") and store in lines[1], printed
    assert f"run `{own_command()} sync --tracking-uri {store}` to retry" in lines[1], printed
    assert len(lines) == 2, printed
    [spool] = spools()
    # The owner finishes the spool, and its logger keeps it when the store does not answer.
    wait_until(lambda: (spool / "summary.json").exists(), 60, "the owner to finish the spool")
    assert "hello" in (spool / "recording.cast").read_text()
    print(f"exit with a dead server: {seconds:.1f} s (issue 13 item 2: < 10 s; it was 248 s)")


@pytest.mark.parametrize(
    "store, why",
    [("foo://x", "unknown tracking URI scheme 'foo'"), ("sqlite:///{file}/sub/mlflow.db", "cannot create")],
)
def test_a_store_that_can_never_work_is_refused_before_the_program_starts(
    tmp_path: Path, store: str, why: str
) -> None:
    (tmp_path / "file").write_text("a file, not a folder\n")
    marker = tmp_path / "ran"
    program = tmp_path / "program.py"
    program.write_text(f"open({str(marker)!r}, 'w').close()\n")
    uri = store.format(file=tmp_path / "file")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "claude_tui",
            "--tracking-uri",
            uri,
            "--command",
            sys.executable,
            "--",
            str(program),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and why in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.startswith("claude-tui: cannot log to this tracking store")
    assert spools() == []
    if store.startswith("foo"):
        time.sleep(0.5)  # a program spawned early would have run by now
        assert not marker.exists()


def test_a_start_logs_every_session_not_logged_yet_in_the_background(
    real_session: Any, make_spool: Any, tmp_path: Path, owner_processes: Any
) -> None:
    """A finished session the store did not take (not an orphan) is logged by the next start, unasked."""
    db = tmp_path / "store" / "mlflow.db"
    session = real_session("realistic")
    spool = make_spool(session, tracking_uri=f"sqlite:///{db}")
    spool.note_not_logged("unreachable: the store did not answer")
    assert spool.is_finished and not spool.is_orphan
    program = tmp_path / "wait_for_the_sync.py"
    program.write_text(
        "import pathlib, sys, time\n"
        "spool = pathlib.Path(sys.argv[1])\n"
        "deadline = time.monotonic() + 240\n"
        "while spool.exists() and time.monotonic() < deadline:\n"
        "    time.sleep(0.1)\n"
        "raise SystemExit(1 if spool.exists() else 0)\n"
    )
    args = ["--tracking-uri", f"sqlite:///{db}", "--command", sys.executable, "--", str(program)]
    status, printed, _ = run_tui([*args, str(spool.path)], tmp_path, timeout=300)
    assert status == 0, printed  # the spool went while the program ran: the background sync logged it
    assert len(finished_runs(db, session.session_id)) == 1


FLOOD = """
import signal, sys, itertools
signal.signal(signal.SIGHUP, signal.SIG_IGN)
for n in itertools.count():
    sys.stdout.write(f"\\x1b[3{n % 8}mflood line {n} " + "x" * 60 + "\\x1b[0m\\n")
"""
"""A program that ignores SIGHUP and prints coloured lines as fast as it can until SIGTERM ends it."""


def test_a_terminal_closed_while_the_ui_cannot_write_detaches_and_the_session_is_logged(
    tmp_path: Path, owner_processes: Any
) -> None:
    """The window closes while claude-tui's output is stuck (a terminal that stopped reading, as a frozen or
    slow one does): Textual's writer thread sits in a write, its queue fills and the app's loop waits on it,
    so a SIGHUP handled by the loop was never run and claude-tui lived on, at 30 % CPU, for 30+ minutes
    (seen under load; before `terminal.hangup` this test timed out waiting for the exit every time). The
    window must leave (it detaches: the session runs on in the owner), and the session is logged once when
    it ends."""
    db = tmp_path / "store" / "mlflow.db"
    args = ["-m", "claude_tui", "--tracking-uri", f"sqlite:///{db}", "--experiment", "e2e",
            "--command", sys.executable, "--", "-c", FLOOD]  # fmt: skip
    child = pexpect.spawn(sys.executable, args, env=dict(os.environ), cwd=str(tmp_path), dimensions=(40, 140))
    screen = Screen(child, 140, 40)
    try:
        screen.wait_for("flood line")
        [spool] = wait_until(made_spools, 30, "the session's spool")  # made once the owner's server runs
        session_id = json.loads((spool / "meta.json").read_text())["session_id"]
        # Stop reading: the PTY's buffer fills, the writer thread blocks in write(), then its queue fills (a
        # few frames of the flood; the outcome asserted below does not depend on how long this takes).
        time.sleep(3)
        hang_up(child)  # the window goes: the kernel hangs claude-tui's terminal up (SIGHUP, SIGCONT)
        wait_until(lambda: gone(child.pid), 90, "claude-tui to leave after the hang-up")
        [owner] = owner_processes()
        assert spools() == [spool] and finished_runs(db, session_id) == []  # it runs on in the owner
        os.kill(owner, signal.SIGTERM)  # the owner ends its sessions, logs each, stops
        wait_until(lambda: finished_runs(db, session_id), 120, "the run in the store")
        wait_until(lambda: not spools(), 60, "the spool to be removed")
        assert len(finished_runs(db, session_id)) == 1
    finally:
        try:
            os.kill(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.close(force=True)


def hang_up(child: pexpect.spawn) -> None:
    """Close the terminal's side the window holds, once: through ptyprocess's own file object, and mark both
    objects closed. (A raw `os.close` of the fd number left ptyprocess's file object to close that number
    again when collected, by then another test's event loop's epoll fd: "Bad file descriptor" in the next
    test.)"""
    child.ptyproc.fileobj.close()
    child.ptyproc.fd = -1
    child.ptyproc.closed = True
    child.child_fd = -1
    child.closed = True
