"""`PtyPump` without any UI: a real program in a real PTY, pumped by hand as an event loop would."""

from __future__ import annotations

import select
import sys
import time
from pathlib import Path

from claude_tui.terminal.cast import read_cast
from claude_tui.terminal.pty_session import ExitStatus
from claude_tui.terminal.pump import PtyPump, PumpResult
from claude_tui.terminal.recorder import CastRecorder

WAIT = 120.0
"""Seconds before a test gives up waiting for a program: a failure detector, not a speed limit (the buffered
input test failed once on a loaded 2-core machine, where 15 s limits were all that depended on speed)."""


def pump_until_exit(pump: PtyPump, timeout: float = WAIT) -> tuple[list[PumpResult], ExitStatus]:
    """Drive `pump` as the pane does: pump when readable, look for the exit at the end of file and between."""
    results: list[PumpResult] = []
    deadline = time.monotonic() + timeout
    ended = False
    while time.monotonic() < deadline:
        if not ended:
            readable, _, _ = select.select([pump.fileno()], [], [], 0.05)
            if readable:
                result = pump.pump()
                results.append(result)
                ended = result.ended
        else:
            time.sleep(0.01)
        status = pump.check_exit()
        if status is not None:
            pump.close()
            return results, status
    raise AssertionError(f"the program did not end in {timeout} s: {pump.emulator.display}")


def test_output_reaches_the_emulator_and_the_recording(tmp_path: Path) -> None:
    recorder = CastRecorder(tmp_path / "rec.cast", 40, 10)
    pump = PtyPump.spawn(["seq", "1", "5000"], cols=40, rows=10, recorder=recorder)
    _, status = pump_until_exit(pump)
    recorder.close()
    assert status == ExitStatus(0, None)
    assert pump.exit_status == status and pump.closed
    assert [line.rstrip() for line in pump.emulator.display[:-1]][-1] == "5000"
    assert pump.emulator.history_lines()[0].rstrip() == "1"
    expected = "".join(f"{i}\r\n" for i in range(1, 5001))
    assert "".join(e.data for e in read_cast(tmp_path / "rec.cast").events if e.code == "o") == expected


FLOOD = ["sh", "-c", "yes abcdefghijklmnopqrstuvwxyz 2>/dev/null | head -c 5000000"]
"""Text the emulator takes slower than the PTY delivers it: the reader is always behind."""


def test_a_flood_is_read_in_budgeted_slices(tmp_path: Path) -> None:
    """One `pump` call stops at its time or byte budget and says so; the rest waits in the kernel, and what is
    left at the end is drained: every byte is recorded once."""
    recorder = CastRecorder(tmp_path / "rec.cast", 80, 24)
    pump = PtyPump.spawn(FLOOD, cols=80, rows=24, recorder=recorder)
    results, status = pump_until_exit(pump, timeout=120)
    recorder.close()
    assert status.success
    assert max(r.bytes_read for r in results) <= PtyPump.BYTE_BUDGET + PtyPump.READ_CHUNK
    assert any(r.flooded for r in results)
    recorded = "".join(e.data for e in read_cast(tmp_path / "rec.cast").events if e.code == "o")
    assert len(recorded.replace("\r\n", "\n")) == 5_000_000


def test_terminal_queries_are_answered() -> None:
    """The program asks for the cursor position (DSR 6) and reads the answer from its terminal."""
    script = (
        "import os, sys, tty\n"
        "tty.setraw(0)\n"
        "sys.stdout.write('\\x1b[5;9H\\x1b[6n'); sys.stdout.flush()\n"
        "answer = os.read(0, 32)\n"
        "sys.stdout.write('\\r\\ngot ' + repr(answer) + '\\r\\n'); sys.stdout.flush()\n"
    )
    pump = PtyPump.spawn([sys.executable, "-c", script], cols=40, rows=10)
    _, status = pump_until_exit(pump)
    assert status.success
    assert any("got b'\\x1b[5;9R'" in line for line in pump.emulator.display)


def test_input_that_does_not_fit_is_buffered_and_flushed() -> None:
    """A paste bigger than the terminal's input queue: `write` never blocks; `flush_writes` delivers the rest
    once the program reads."""
    script = "import sys, time\ntime.sleep(0.5)\ndata = sys.stdin.buffer.read()\nprint(len(data))\n"
    pump = PtyPump.spawn([sys.executable, "-c", script], cols=40, rows=10)
    payload = (b"x" * 1000 + b"\n") * 200
    pump.write(payload + b"\x04")
    assert pump.writes_pending  # the canonical-mode input queue holds 4 KiB
    deadline = time.monotonic() + WAIT
    while pump.writes_pending and time.monotonic() < deadline:
        select.select([], [pump.fileno()], [], 0.05)
        pump.flush_writes()
        pump.pump()
    assert not pump.writes_pending
    _, status = pump_until_exit(pump)
    assert status.success
    assert any(line.strip() == str(len(payload)) for line in pump.emulator.display)


def test_resize_reaches_the_program_and_the_recording(tmp_path: Path) -> None:
    recorder = CastRecorder(tmp_path / "rec.cast", 80, 24)
    pump = PtyPump.spawn(["sh", "-c", "read x; stty size"], cols=80, rows=24, recorder=recorder)
    pump.resize(100, 30)
    assert (pump.emulator.cols, pump.emulator.rows) == (100, 30)
    pump.write(b"\r")
    _, status = pump_until_exit(pump)
    recorder.close()
    assert status.success
    assert any(line.startswith("30 100") for line in pump.emulator.display)
    assert ("r", "100x30") in [(e.code, e.data) for e in read_cast(tmp_path / "rec.cast").events]
    pump.resize(50, 20)  # after the end only the screen follows
    assert pump.emulator.cols == 50


def test_close_terminates_a_running_program() -> None:
    pump = PtyPump.spawn(["sleep", "100"])
    assert pump.check_exit() is None and pump.housekeeping() is None
    status = pump.close(grace=2)
    assert status is not None and status.signal is not None
    assert pump.closed and pump.exit_status == status
    pump.write(b"ignored")  # nothing is sent once the program ended
    assert not pump.writes_pending
