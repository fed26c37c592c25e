"""Run some tests N times in a row, under load, and print pass/fail per run with the load average.

    .venv/bin/python -m tests.support.repeat tests/functional/test_snapshots.py -n 20
    .venv/bin/python -m tests.support.repeat tests/unit/test_pump.py -n 20 --burners 0 -- -k buffered

Each run is one `python -m pytest -q -x -p no:cacheprovider TESTS...` in a fresh process (what a newcomer's
`make test` does to those files; `--keep-going` drops `-x`, for several files at once). "Under load" means
what issue 18 asks: while the 1-minute load average, not counting our own burners, is below `--quiet-load`
(3), two CPU burners (`while 1: pass`, nice 0) run beside the tests; `--burners N` fixes their number
instead. One line per run: its number, PASS/FAIL, seconds, the lowest and highest 1-minute load seen while
it ran (sampled every 2 s), the burners, and for a failure its first `FAILED`/`ERROR` line; the whole output
of a failed run is kept under `--logs` (every run's with `--keep-logs`).
The last line sums it up (runs, passes, load range). Exit status 1 when any run failed.

Run one loop at a time on a small shared machine; the burners and every test process are ended when the loop
ends or is interrupted.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

QUIET_LOAD = 3.0
BURNERS = 2
SAMPLE_EVERY = 2.0


@dataclass
class LoadSampler:
    """The lowest and highest 1-minute load average seen while a run lasts (a thread samples it)."""

    low: float = float("inf")
    high: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> float:
        load = os.getloadavg()[0]
        self.low, self.high = min(self.low, load), max(self.high, load)
        return load

    def run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            self.sample()

    def __enter__(self) -> LoadSampler:
        self.sample()
        threading.Thread(target=self.run, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.sample()


class Burners:
    """CPU burners beside the tests: `python -c 'while 1: pass'`, at normal priority."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []

    def __len__(self) -> int:
        return len(self.processes)

    def set(self, count: int) -> None:
        while len(self.processes) < count:
            self.processes.append(subprocess.Popen([sys.executable, "-c", "while 1: pass"]))
        while len(self.processes) > count:
            process = self.processes.pop()
            process.kill()
            process.wait()


def first_failure(output: str) -> str:
    """The first line pytest's summary names a failed or erroring test with, and how many more (or its last
    line)."""
    failed = [line for line in output.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    if failed:
        return failed[0] + (f" and {len(failed) - 1} more" if len(failed) > 1 else "")
    lines = output.strip().splitlines()
    return lines[-1] if lines else "(no output)"


def run_pytest(args: list[str], log: Path, *, stop_at_first: bool = True) -> tuple[int, str]:
    """One pytest run in its own process group (ended whole if we are interrupted): exit status, output."""
    # A subset of a file's snapshot tests leaves the others' SVGs unused, which syrupy fails on by default.
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--snapshot-warn-unused"]
    command += ["-x", *args] if stop_at_first else args
    with log.open("w+") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            status = process.wait()
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        out.seek(0)
        return status, out.read()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests", nargs="+", help="test files or node ids, as pytest takes them")
    parser.add_argument("-n", "--runs", type=int, default=20)
    parser.add_argument(
        "--burners",
        type=int,
        default=None,
        help=f"CPU burners to run beside the tests (default: {BURNERS} while the load without them is below"
        " --quiet-load, else none)",
    )
    parser.add_argument("--quiet-load", type=float, default=QUIET_LOAD)
    parser.add_argument(
        "--keep-going", action="store_true", help="no -x: each run goes on after a failure (several files)"
    )
    parser.add_argument(
        "--logs", type=Path, default=None, help="where failed runs' output goes (default: a temp dir)"
    )
    parser.add_argument(
        "--keep-logs",
        action="store_true",
        help="keep every run's output, passed ones too (e.g. with `-- --durations=0`: where the time goes)",
    )
    options, extra = parser.parse_known_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # end the burners and the run on `kill` too
    extra = [arg for arg in extra if arg != "--"]
    logs = options.logs or Path(tempfile.mkdtemp(prefix="repeat-"))
    logs.mkdir(parents=True, exist_ok=True)
    burners = Burners()
    passes = 0
    low, high = float("inf"), 0.0
    print(
        f"{' '.join(options.tests + extra)}: {options.runs} runs; failed runs' output in {logs}", flush=True
    )
    try:
        for number in range(1, options.runs + 1):
            if options.burners is not None:
                burners.set(options.burners)
            else:
                others = os.getloadavg()[0] - len(burners)  # our burners' share of the load, roughly
                burners.set(BURNERS if others < options.quiet_load else 0)
            log = logs / f"run-{number:02d}.log"
            start = time.monotonic()
            with LoadSampler() as load:
                status, output = run_pytest(
                    [*options.tests, *extra], log, stop_at_first=not options.keep_going
                )
            seconds = time.monotonic() - start
            low, high = min(low, load.low), max(high, load.high)
            ok = status == 0
            passes += ok
            if ok and not options.keep_logs:
                log.unlink()
            verdict = "PASS" if ok else f"FAIL ({first_failure(output)})"
            print(
                f"run {number:2d}/{options.runs}: {verdict:4s} {seconds:6.1f} s  "
                f"load {load.low:5.2f}-{load.high:5.2f}  burners {len(burners)}",
                flush=True,
            )
    finally:
        burners.set(0)
    runs = options.runs
    print(f"{passes}/{runs} passed; load {low:.2f}-{high:.2f} (1-minute average)", flush=True)
    return 0 if passes == runs else 1


if __name__ == "__main__":
    raise SystemExit(main())
