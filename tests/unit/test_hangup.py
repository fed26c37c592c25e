"""`terminal.hangup`: SIGTERM/SIGHUP handled while the event loop is stuck behind a terminal that is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from textual.drivers._writer_thread import WriterThread

from claude_tui.terminal.hangup import STUCK_MESSAGE, mute


class Stuck:
    """A file whose write never returns, like a terminal nobody reads."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def write(self, text: str) -> None:
        self.release.wait()

    def flush(self) -> None:
        return


class Driver:
    """What `mute` needs of Textual's driver: `write`, and its writer thread."""

    def __init__(self, writer: WriterThread) -> None:
        self._writer_thread = writer
        self.written: list[str] = []

    def write(self, data: str) -> None:
        self.written.append(data)
        self._writer_thread.write(data)


def test_mute_unblocks_a_writer_queue_that_is_full_and_drops_later_frames() -> None:
    """Textual's own writer thread, stuck in a write: its queue fills and the next `write` (the app's loop)
    blocks; `mute` (from another thread) lets that write return, and later frames go nowhere, also through
    a writer thread the driver makes afterwards (Textual does on the SIGCONT that comes with a hang-up)."""
    stuck = Stuck()
    writer = WriterThread(stuck)  # type: ignore[arg-type]
    writer.start()
    driver = Driver(writer)
    try:
        for n in range(31):  # one in the thread's hands, thirty queued
            driver.write(f"frame {n}")
        blocked = threading.Thread(target=driver.write, args=("the frame the loop waits on",), daemon=True)
        blocked.start()
        blocked.join(0.5)
        assert blocked.is_alive()  # the loop would be stuck here
        mute(driver)
        blocked.join(10)
        assert not blocked.is_alive()
        driver._writer_thread = WriterThread(stuck)  # type: ignore[arg-type]  # the driver's restart
        driver.write("a later frame")  # returns at once, dropped
        assert driver.written[-1] != "a later frame" and driver._writer_thread._queue.qsize() == 0
    finally:
        stuck.release.set()


def test_mute_leaves_an_unknown_output_alone() -> None:
    mute(None)
    mute(object())  # no write, no writer thread: nothing to do, no error


DOOR = """
import asyncio, os, subprocess, sys, threading, time
from claude_tui.terminal.hangup import SignalDoor
quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}  # holds no pipe of the test's
program = subprocess.Popen(["sleep", "600"], start_new_session=True, **quiet)
print(program.pid, flush=True)

class Driver:
    def __setattr__(self, name, value):
        print("muted", flush=True)  # what mute() does first: the driver's write goes nowhere

async def main(mode):
    handled = asyncio.Event()
    def on_signal(signum):
        print("handled", signum, flush=True)
        handled.set()
    SignalDoor(
        asyncio.get_running_loop(), on_signal, output=Driver, programs=lambda: [program.send_signal],
        stuck_after=30.0 if mode == "stuck long" else 1.0,
    ).install()
    print("ready", flush=True)
    if mode == "closed":
        return
    if mode == "stuck long":
        mode = "stuck"
    if mode == "stuck":  # the loop's thread blocks for good, as in a full Queue.put
        lock = threading.Lock()
        lock.acquire()
        lock.acquire()
    if mode == "stuck in a write":  # as behind a writer thread that holds stdout's lock in a write() that
        # never returns: a buffered file's lock is not interrupted by signals, no Python handler runs
        import fcntl, termios
        r, w = os.pipe()
        out = os.fdopen(w, "wb", buffering=1 << 16)
        threading.Thread(target=lambda: (out.write(b"x" * (1 << 20)), out.flush()), daemon=True).start()
        size, filled = fcntl.fcntl(r, fcntl.F_GETPIPE_SZ), bytearray(4)
        while fcntl.ioctl(r, termios.FIONREAD, filled) or int.from_bytes(filled, sys.byteorder) < size:
            time.sleep(0.01)  # until the thread is in its write: the pipe is full
        print("writing", flush=True)
        out.write(b"y")
    await handled.wait()

asyncio.run(main(sys.argv[1]))
if sys.argv[1] == "closed":  # the app has ended; the process finishes up (as after a session, logging)
    print("closed", flush=True)
    time.sleep(600)
"""
"""A process with a program (`sleep`, its own process group) and a door; its loop blocks for good when
told (`stuck`: on a lock, the door giving up after 1 s; `stuck long`: after 30 s; `stuck in a write`: on a
file another thread writes to), or ends at once (`closed`: the process sleeps on after its loop has
closed), else (`runs`) it waits until the door hands it a signal. The driver prints `muted` when muted."""


def start_door(mode: str) -> tuple[subprocess.Popen[str], int]:
    """Start `DOOR` in `mode`: the process, and its program's pid once it printed it."""
    process = subprocess.Popen(
        [sys.executable, "-c", DOOR, mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def run_door(mode: str, signum: int) -> tuple[int, str, str, int]:
    """Run `DOOR`, send `signum` once it is ready: its exit status, stdout, stderr and its program's pid."""
    process, program = start_door(mode)
    assert process.stdout is not None
    try:
        assert process.stdout.readline().strip() == "ready"
        if mode == "stuck in a write":
            assert process.stdout.readline().strip() == "writing"
            blocked_in_the_write(process.pid)
        if mode == "closed":
            assert process.stdout.readline().strip() == "closed"
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    return process.wait(), out, err, program


def blocked_in_the_write(pid: int) -> None:
    """Wait until the process's main thread sleeps (in the write that waits for the file's lock)."""
    stat = Path(f"/proc/{pid}/task/{pid}/stat")
    deadline = time.monotonic() + 30
    while stat.read_text().rsplit(")", 1)[1].split()[0] != "S":
        assert time.monotonic() < deadline, "the main thread never blocked"
        time.sleep(0.01)


def gone(pid: int) -> bool:
    """Whether the process has ended (a zombie counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_stuck_loop_still_ends_the_programs_and_the_process() -> None:
    """The loop never runs the signal's handling: after `stuck_after` the door signals the programs
    (SIGHUP, then SIGKILL) and exits 128 + the signal; for SIGTERM it says why on stderr."""
    status, out, err, program = run_door("stuck", signal.SIGTERM)
    assert status == 128 + signal.SIGTERM
    assert "handled" not in out
    assert STUCK_MESSAGE.strip() in err
    deadline = time.monotonic() + 30
    while not gone(program) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(program)


def test_a_running_loop_handles_the_signal_itself() -> None:
    """A loop that runs gets the signal through `on_signal`; the door neither ends the program nor exits."""
    status, out, _err, program = run_door("runs", signal.SIGHUP)
    try:
        assert out.split() == ["muted", "handled", str(int(signal.SIGHUP))]
        assert status == 0
        assert not gone(program)
    finally:
        os.kill(program, signal.SIGKILL)


def test_a_loop_stuck_where_no_python_handler_runs_still_ends() -> None:
    """Blocked on a buffered file's lock (what Textual's writer thread holds while the terminal does not
    read), the main thread runs no Python signal handler at all: the door hears of the signal anyway (the
    C-level handler writes it to the wakeup fd) and ends the process."""
    status, _out, err, program = run_door("stuck in a write", signal.SIGTERM)
    try:
        assert status == 128 + signal.SIGTERM, err
        assert STUCK_MESSAGE.strip() in err
    finally:
        if not gone(program):
            os.kill(program, signal.SIGKILL)


def test_a_signal_after_the_loop_closed_ends_the_process_without_a_traceback() -> None:
    """The app has ended and the process finishes up: SIGTERM does what its default action would (exit
    128 + 15), where the door's hand-over to the closed loop raised in the door's thread (a traceback, and
    the signal lost: the process slept on)."""
    status, out, err, program = run_door("closed", signal.SIGTERM)
    try:
        assert status == 128 + signal.SIGTERM, err
        assert "Traceback" not in err
        assert "handled" not in out
    finally:
        os.kill(program, signal.SIGKILL)


def test_a_hangup_after_an_unanswered_sigterm_still_mutes_the_output() -> None:
    """SIGTERM reaches a stuck loop, then the window closes (SIGHUP): the door mutes the output at once
    instead of after the SIGTERM's 30 s (its reader waited out the stuck clock before reading again)."""
    process, program = start_door("stuck long")
    assert process.stdout is not None
    try:
        assert process.stdout.readline().strip() == "ready"
        process.send_signal(signal.SIGTERM)
        process.send_signal(signal.SIGHUP)
        assert process.stdout.readline().strip() == "muted"  # before: EOF, once the stuck clock ended it
        assert process.poll() is None  # muted while the SIGTERM's stuck clock (30 s) runs on
    finally:
        process.kill()
        process.wait()
        os.kill(program, signal.SIGKILL)
