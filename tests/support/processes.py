"""`find_processes`: the processes running now that a predicate picks, read from `/proc`.

For tests and benchmarks that look for what they started, or what a run left behind: the owner processes of
a data dir (tests/conftest.py, by environment), a PostgreSQL cluster's postmaster (by command line), any
process naming a folder or program (benchmarks). One scan of `/proc` for all of them, and one rule for a
process that ends while it is read: it is not listed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = ["Process", "find_processes"]


class Process:
    """One process of `/proc`, its files read when asked (each may raise `OSError`: it ended meanwhile, or
    it is not ours to read)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        """The process id."""
        self.folder = Path(f"/proc/{pid}")
        """Its folder in `/proc`."""

    def cmdline(self) -> bytes:
        """Its command line as the kernel keeps it: the arguments, each ended by a NUL."""
        return (self.folder / "cmdline").read_bytes()

    def argv(self) -> list[bytes]:
        """Its arguments (empty for a kernel thread or a zombie)."""
        cmdline = self.cmdline()
        return cmdline[:-1].split(b"\0") if cmdline else []

    def environ(self) -> list[bytes]:
        """Its environment as it started, `NAME=value` each."""
        return (self.folder / "environ").read_bytes().split(b"\0")

    def comm(self) -> str:
        """Its name (`prctl(PR_SET_NAME)`'s, else the program's first 15 characters)."""
        return (self.folder / "comm").read_text().strip()


def find_processes(picks: Callable[[Process], bool]) -> list[int]:
    """The ids of the processes running now that `picks` picks; one that ends or cannot be read while
    `picks` reads it (`OSError`) is left out."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if picks(Process(int(entry.name))):
                found.append(int(entry.name))
        except OSError:
            continue
    return found
