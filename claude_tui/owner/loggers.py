"""How the owner logs a finished session: a logger process, warmed up while the session runs.

A fresh logger process (`python -m claude_tui.tracking.background SPOOL`) spends ~3 s importing mlflow and
up to as long again opening a new store before it logs: the run reached the store seconds after the program
ended (issue 19, target 1: within 3 s). So, as the window's `SpoolLogger` does, the owner starts a warm
logger (`... background --serve URI EXPERIMENT`) a moment after a tracked session's first frame, one per
store and experiment, shared by the sessions that log there: it imports mlflow and opens the store at low
priority while they run, then reads the paths of finished spools on its stdin and prints one result line
per spool (`{"spool": ..., "run_id": ...}`). Its input is closed once no session that logs there runs (it
exits after logging what it was handed), and when the owner stops or dies. A warm logger that is gone is
replaced by a fresh logger process for that spool. Stdlib and asyncio only: no mlflow in the owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from claude_tui.tracking.background import logger_argv, warm_logger_argv

__all__ = ["OwnerLoggers"]

log = logging.getLogger(__name__)

StoreKey = tuple[str, str]
"""(tracking URI as resolved, experiment)."""


class WarmLogger:
    """One warm logger process and the spools handed to it, waiting for their result lines."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.reader = asyncio.get_running_loop().create_task(self._read())

    @property
    def alive(self) -> bool:
        return self.process.returncode is None and self.process.stdin is not None and not self.closed

    @property
    def closed(self) -> bool:
        stdin = self.process.stdin
        return stdin is None or stdin.is_closing()

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while line := await stdout.readline():
            with contextlib.suppress(ValueError):
                result = json.loads(line)
                if isinstance(result, dict):
                    future = self.pending.pop(str(result.get("spool")), None)
                    if future is not None and not future.done():
                        future.set_result(result)
        await self.process.wait()
        for future in self.pending.values():  # it died with spools in hand: they are logged afresh
            if not future.done():
                future.set_result({"error": "the warm logger ended", "retry": True})
        self.pending.clear()

    def hand(self, spool: Path) -> asyncio.Future[dict[str, Any]] | None:
        """Send it `spool`'s path; the future of its result line (None when it cannot take it)."""
        if not self.alive:
            return None
        line = os.fsencode(spool) + b"\n"
        if line.count(b"\n") > 1:
            return None
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[str(spool)] = future
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(line)
        except (OSError, RuntimeError):
            self.pending.pop(str(spool), None)
            return None
        return future

    def close(self) -> None:
        """End its input: it logs what it was handed, then exits."""
        stdin = self.process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()


class OwnerLoggers:
    """The owner's logger processes: warm ones by store, fresh ones when there is none.

    Args:
        log_file: where the logger processes' stderr goes (`logger.log` beside the owner's socket).
    """

    def __init__(self, log_file: Path) -> None:
        self.log_file = log_file
        self._warm: dict[StoreKey, WarmLogger] = {}
        self._starting: set[StoreKey] = set()

    @staticmethod
    def key(tracking_uri: str | None, experiment: str) -> StoreKey:
        """The store a session logs to, as its logger sees it."""
        from claude_tui.tracking.store import resolve_tracking_uri

        return resolve_tracking_uri(tracking_uri), experiment

    async def warm(self, key: StoreKey) -> None:
        """Start the warm logger of `key`'s store, unless it runs (a logger that cannot start is left to
        `log`, which starts a fresh one)."""
        warm = self._warm.get(key)
        if (warm is not None and warm.alive) or key in self._starting:
            return
        self._starting.add(key)
        try:
            process = await self._start(warm_logger_argv(*key), stdin=asyncio.subprocess.PIPE)
            self._warm[key] = WarmLogger(process)
        except OSError as exc:
            log.warning("cannot start the warm logger for %s: %s", key[0], exc)
        finally:
            self._starting.discard(key)

    async def log(self, key: StoreKey, spool: Path) -> dict[str, Any]:
        """Log the finished `spool` (by the warm logger when there is one); its result line."""
        warm = self._warm.get(key)
        future = warm.hand(spool) if warm is not None else None
        if future is not None:
            result = await future
            if not result.get("retry"):
                return result
        process = await self._start(logger_argv(spool), stdin=asyncio.subprocess.DEVNULL)
        out, _ = await process.communicate()
        for line in reversed(out.decode(errors="replace").splitlines()):
            with contextlib.suppress(ValueError):
                result = json.loads(line)
                if isinstance(result, dict):
                    return result
        return {"error": f"the logger process ended with status {process.returncode} (see {self.log_file})"}

    def close_unused(self, used: set[StoreKey]) -> None:
        """End the input of the warm loggers no running session logs to (each exits once it has logged what
        it was handed)."""
        for key, warm in list(self._warm.items()):
            if key not in used:
                warm.close()
                del self._warm[key]

    async def _start(self, argv: list[str], *, stdin: int) -> asyncio.subprocess.Process:
        with os.fdopen(os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as errors:
            return await asyncio.create_subprocess_exec(
                *argv,
                stdin=stdin,
                stdout=asyncio.subprocess.PIPE,
                stderr=errors,
                start_new_session=True,  # it finishes its runs even if the owner is stopped meanwhile
            )
