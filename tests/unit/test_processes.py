"""`tests.support.processes.find_processes`: the one `/proc` scan the tests and benchmarks share."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from tests.helpers import wait_until
from tests.support.processes import Process, find_processes


def test_a_process_is_found_by_its_arguments_and_its_environment() -> None:
    mark = f"find-me-{uuid.uuid4().hex}"
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()", mark],
        stdin=subprocess.PIPE,
        env={**os.environ, "PROCESSES_TEST_MARK": mark},
    )
    try:
        # Just after the exec, /proc may show the old command line for a moment (seen 1 in ~20 at load 5)
        assert wait_until(lambda: find_processes(lambda process: mark.encode() in process.argv())) == [
            child.pid
        ]
        setting = f"PROCESSES_TEST_MARK={mark}".encode()
        assert find_processes(lambda process: setting in process.environ()) == [child.pid]
        assert Process(child.pid).argv()[-1] == mark.encode()
    finally:
        child.communicate(b"")
    assert find_processes(lambda process: mark.encode() in process.argv()) == []


def test_a_process_that_cannot_be_read_is_left_out() -> None:
    def unreadable(process: Process) -> bool:
        raise PermissionError(process.pid)

    assert find_processes(unreadable) == []
    assert find_processes(lambda process: process.pid == os.getpid()) == [os.getpid()]
    assert Process(os.getpid()).comm()
