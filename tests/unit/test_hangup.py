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


def test_mute_unblocks_a_writer_queue_that_is_full_and_drops_later_frames() -> None:
    """Textual's own writer thread, stuck in a write: its queue fills and the next `write` (the app's loop)
    blocks; `mute` (from another thread) lets that write return and later ones go nowhere."""
    stuck = Stuck()
    writer = WriterThread(stuck)  # type: ignore[arg-type]
    writer.start()
    try:
        for n in range(31):  # one in the thread's hands, thirty queued
            writer.write(f"frame {n}")
        blocked = threading.Thread(target=writer.write, args=("the frame the loop waits on",), daemon=True)
        blocked.start()
        blocked.join(0.5)
        assert blocked.is_alive()  # the loop would be stuck here
        mute(writer)
        blocked.join(10)
        assert not blocked.is_alive()
        writer.write("a later frame")  # returns at once, dropped
        assert writer._queue.qsize() <= 1
    finally:
        stuck.release.set()


def test_mute_leaves_an_unknown_output_alone() -> None:
    mute(None)
    mute(object())  # no queue: nothing to drain, no error


DOOR = """
import asyncio, subprocess, sys, threading
from claude_tui.terminal.hangup import SignalDoor
quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}  # holds no pipe of the test's
program = subprocess.Popen(["sleep", "600"], start_new_session=True, **quiet)
print(program.pid, flush=True)

async def main(stuck):
    handled = asyncio.Event()
    def on_signal(signum):
        print("handled", signum, flush=True)
        handled.set()
    SignalDoor(
        asyncio.get_running_loop(), on_signal, output=lambda: None, programs=lambda: [program.send_signal],
        stuck_after=1.0,
    ).install()
    print("ready", flush=True)
    if stuck:  # the loop's thread blocks for good, as in a full Queue.put
        lock = threading.Lock()
        lock.acquire()
        lock.acquire()
    await handled.wait()

asyncio.run(main(sys.argv[1] == "stuck"))
"""
"""A process with a program (`sleep`, its own process group) and a door; its loop blocks for good when
told `stuck`, else it waits until the door hands it a signal."""


def run_door(stuck: bool, signum: int) -> tuple[int, str, str, int]:
    """Run `DOOR`, send `signum` once it is ready: its exit status, stdout, stderr and its program's pid."""
    process = subprocess.Popen(
        [sys.executable, "-c", DOOR, "stuck" if stuck else "runs"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    program = int(process.stdout.readline())
    try:
        assert process.stdout.readline().strip() == "ready"
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    return process.wait(), out, err, program


def gone(pid: int) -> bool:
    """Whether the process has ended (a zombie counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_stuck_loop_still_ends_the_programs_and_the_process() -> None:
    """The loop never runs the signal's handling: after `stuck_after` the door signals the programs
    (SIGHUP, then SIGKILL) and exits 128 + the signal; for SIGTERM it says why on stderr."""
    status, out, err, program = run_door(stuck=True, signum=signal.SIGTERM)
    assert status == 128 + signal.SIGTERM
    assert "handled" not in out
    assert STUCK_MESSAGE.strip() in err
    deadline = time.monotonic() + 30
    while not gone(program) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(program)


def test_a_running_loop_handles_the_signal_itself() -> None:
    """A loop that runs gets the signal through `on_signal`; the door neither ends the program nor exits."""
    status, out, _err, program = run_door(stuck=False, signum=signal.SIGHUP)
    try:
        assert out.split() == ["handled", str(int(signal.SIGHUP))]
        assert status == 0
        assert not gone(program)
    finally:
        os.kill(program, signal.SIGKILL)
