"""PtySession: spawn, read/write, resize, exit status, terminate, missing commands."""

from __future__ import annotations

import os
import re
import select
import signal
import stat
import sys
import time
from pathlib import Path

import pytest

from claude_tui.terminal.pty_session import (
    CommandNotFound,
    ExitStatus,
    PtySession,
    SpawnError,
    build_environment,
    resolve_command,
)


def read_until(session: PtySession, needle: bytes, timeout: float = 10.0) -> bytes:
    """Everything read until `needle` appears (or fail after `timeout`)."""
    out = b""
    deadline = time.monotonic() + timeout
    while needle not in out:
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not seen in {out[-500:]!r}")
        select.select([session.fd], [], [], 0.05)
        try:
            out += session.read()
        except EOFError:
            break
    return out


def read_all(session: PtySession, timeout: float = 10.0) -> bytes:
    """Everything until EOF."""
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        select.select([session.fd], [], [], 0.05)
        try:
            out += session.read()
        except EOFError:
            return out
    raise AssertionError(f"no EOF; got {out[-500:]!r}")


PY = sys.executable


def test_output_exit_code_and_eof() -> None:
    session = PtySession.spawn([PY, "-c", "print('hello from pty'); raise SystemExit(3)"])
    out = read_all(session)
    assert b"hello from pty\r\n" in out  # the line discipline turns \n into \r\n: a real terminal
    status = session.wait(timeout=10)
    assert status == ExitStatus(3, None)
    assert not status.success
    assert status.describe() == "status 3"
    with pytest.raises(EOFError):
        session.read()
    session.close()


def test_read_is_non_blocking() -> None:
    session = PtySession.spawn([PY, "-c", "import time; time.sleep(30)"])
    try:
        start = time.monotonic()
        assert session.read() == b""
        assert time.monotonic() - start < 0.5
        assert session.alive
    finally:
        session.terminate(grace=1)


def test_environment_size_cwd(tmp_path: Path) -> None:
    script = (
        "import os, shutil; print(os.environ['TERM'], os.environ['COLORTERM'], os.environ.get('EXTRA'),"
        " 'HOME_GONE' if 'REMOVE_ME' not in os.environ else 'still', os.getcwd(),"
        " shutil.get_terminal_size((1, 1)), sep='|')"
    )
    os.environ["REMOVE_ME"] = "x"
    try:
        session = PtySession.spawn(
            [PY, "-c", script], cwd=tmp_path, env={"EXTRA": "42", "REMOVE_ME": None}, cols=97, rows=31
        )
    finally:
        del os.environ["REMOVE_ME"]
    out = read_all(session).decode()
    term, colorterm, extra, removed, cwd, size = out.strip().split("|")
    assert (term, colorterm, extra, removed) == ("xterm-256color", "truecolor", "42", "HOME_GONE")
    assert Path(cwd).resolve() == tmp_path.resolve()
    assert "columns=97" in size and "lines=31" in size
    assert session.wait(timeout=10).success


def test_columns_variable_does_not_override_window_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "33")
    assert "COLUMNS" not in build_environment()
    session = PtySession.spawn(
        [PY, "-c", "import shutil; print(shutil.get_terminal_size().columns)"], cols=101
    )
    assert b"101" in read_all(session)
    session.wait(timeout=10)


def test_write_echo_and_resize_sends_sigwinch() -> None:
    script = (
        "import signal, shutil, sys\n"
        "def winch(*a):\n"
        "    print('WINCH', shutil.get_terminal_size().columns, flush=True)\n"
        "signal.signal(signal.SIGWINCH, winch)\n"
        "print('READY', flush=True)\n"
        "for line in sys.stdin:\n"
        "    print('GOT', line.strip(), flush=True)\n"
    )
    session = PtySession.spawn([PY, "-c", script], cols=80, rows=24)
    try:
        read_until(session, b"READY")
        session.write(b"abc\r")
        read_until(session, b"GOT abc")
        session.resize(120, 40)
        read_until(session, b"WINCH 120")
        session.write(b"\x04")  # ctrl+d at line start: EOF for the program's stdin
        assert session.wait(timeout=10).success
    finally:
        session.close()


def test_big_write_waits_for_the_reader() -> None:
    # 1 MB into a program that reads slowly-ish: write() must not fail on EAGAIN or lose bytes.
    script = (
        "import sys, tty; tty.setraw(0); n = 0; print('RAW', flush=True)\n"
        "while n < 1_000_000:\n"
        "    n += len(sys.stdin.buffer.read1(65536))\n"
        "print('TOTAL', n, flush=True)\n"
    )
    session = PtySession.spawn([PY, "-c", script])
    try:
        read_until(session, b"RAW", timeout=60)  # in raw mode: cooked mode would cap lines at 4 KiB
        payload = bytes(range(32, 127)) * (1_000_000 // 95 + 1)
        session.write(payload[:1_000_000], timeout=30)
        assert b"TOTAL 1000000" in read_until(session, b"TOTAL 1000000", timeout=30)
    finally:
        session.terminate(grace=1)


def test_terminate_escalates_to_sigkill() -> None:
    script = (
        "import signal, time\n"
        "for s in (signal.SIGHUP, signal.SIGTERM):\n"
        "    signal.signal(s, signal.SIG_IGN)\n"
        "print('IGN', flush=True)\n"
        "time.sleep(60)\n"
    )
    session = PtySession.spawn([PY, "-c", script])
    read_until(session, b"IGN")
    start = time.monotonic()
    status = session.terminate(grace=0.5)
    assert status.signal == signal.SIGKILL
    assert status.describe() == "signal 9 (SIGKILL)"
    assert 0.4 < time.monotonic() - start < 5
    assert session.closed


def test_terminate_polite_program_gets_hup() -> None:
    session = PtySession.spawn(["sleep", "100"])
    status = session.terminate(grace=5)
    assert status.signal in (signal.SIGHUP, signal.SIGTERM)
    assert session.poll() == status


@pytest.mark.parametrize("name", ["no-such-command-xyz", "./no/such/path", "/etc/passwd"])
def test_missing_or_not_executable_command(name: str) -> None:
    with pytest.raises(CommandNotFound) as info:
        PtySession.spawn([name])
    assert info.value.name == name
    assert str(info.value) == f"command not found: {name}"


def test_command_searched_on_the_childs_path(tmp_path: Path) -> None:
    tool = tmp_path / "my-tool"
    tool.write_text("#!/bin/sh\necho from-my-tool\n")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    assert resolve_command("my-tool", str(tmp_path)) == str(tool)
    session = PtySession.spawn(["my-tool"], env={"PATH": f"{tmp_path}:{os.defpath}"})
    assert b"from-my-tool" in read_all(session)
    assert session.wait(timeout=10).success


def test_bad_cwd_and_empty_argv(tmp_path: Path) -> None:
    with pytest.raises(SpawnError, match="working directory does not exist"):
        PtySession.spawn(["true"], cwd=tmp_path / "missing")
    with pytest.raises(SpawnError, match="no command"):
        PtySession.spawn([])


@pytest.mark.parametrize(
    ("status", "success"),
    [(ExitStatus(0), True), (ExitStatus(1), False), (ExitStatus(None, 15), False), (ExitStatus(0, 9), False)],
)
def test_exit_status_success(status: ExitStatus, success: bool) -> None:
    assert status.success is success


@pytest.mark.parametrize("ignored_by_us", [(), (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP)])
def test_the_program_starts_with_every_signal_at_its_default(
    ignored_by_us: tuple[signal.Signals, ...],
) -> None:
    """Like a terminal (tmux resets them too): Python ignores SIGPIPE and SIGXFSZ, and a claude-tui started in
    the background (`cmd &` in a script) or under nohup ignores SIGINT, SIGQUIT or SIGHUP. Inherited, `yes |
    head` in the pane complained of a broken pipe, and ctrl+c could not interrupt a command."""
    before = {sig: signal.signal(sig, signal.SIG_IGN) for sig in ignored_by_us}
    try:
        session = PtySession.spawn(
            ["sh", "-c", "grep SigIgn /proc/self/status; yes | head -c 10 >/dev/null; echo done"]
        )
        out = read_all(session).decode()
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
    ignored_mask = int(re.search(r"SigIgn:\t([0-9a-f]+)", out).group(1), 16)
    ignored = {n for n in range(1, 65) if ignored_mask >> (n - 1) & 1}
    # glibc keeps 32 and 33 for itself: no program can set them (tmux cannot either), and the CI harness that
    # runs this suite ignores 32, so only the signals a program can change are checked.
    settable = {int(sig) for sig in signal.valid_signals()}
    assert ignored & settable == set()
    assert "Broken pipe" not in out and "done" in out


def test_an_exec_that_fails_is_reported(tmp_path: Path) -> None:
    """The child reports a failed exec back before `spawn` returns (an executable file that is no program:
    ENOEXEC)."""
    script = tmp_path / "not-a-program"
    script.write_bytes(b"\x7fELF not really")
    script.chmod(0o755)
    with pytest.raises(SpawnError, match=r"cannot start .*not-a-program: Exec format error"):
        PtySession.spawn([str(script)])


def test_the_program_leads_its_session_on_its_terminal_and_inherits_no_other_fd() -> None:
    """As a terminal starts a program: its own session, the PTY its controlling terminal (ctrl+c reaches its
    foreground group), stdio on it; none of our descriptors, even an inheritable one, leaks into it."""
    leaked_r, leaked_w = os.pipe()
    os.set_inheritable(leaked_w, True)
    code = (
        "import os; print('SID', os.getsid(0) == os.getpid(), os.tcgetpgrp(0) == os.getpgrp(),"
        " sorted(int(f) for f in os.listdir('/proc/self/fd')), os.isatty(1), flush=True)"
    )
    try:
        session = PtySession.spawn([PY, "-I", "-S", "-c", code], cols=91, rows=17)
        out = read_all(session).decode()
    finally:
        os.close(leaked_r)
        os.close(leaked_w)
    # listdir's own descriptor is the only one past stdio
    assert re.search(r"SID True True \[0, 1, 2, 3\] True", out), out
    assert session.wait(timeout=10).success
