"""Backfill: turn the sessions Claude Code already wrote to disk into the runs a tracked session gives.

`import_sessions(paths)` finds the transcripts the paths name (`discover_transcripts`), parses each one and
writes a temporary spool for it (meta pointing at the transcript, `events.jsonl`, a clean transcript built
from the records, `summary.json`; no recording), then hands the spool to `tracking.logger.log_spool(...,
source="import")`, which logs tags, params, metrics, artifacts and the trace exactly as for a live session.

Idempotent: the session ids already in the experiment are read with one paged search up front, and a session
that is there (tracked live or imported before), waiting in the spool folder, or met twice in one import is
skipped. Parsing runs in a process pool when there are enough files, overlapping the (single-writer, so
sequential) logging in this process. A bad transcript becomes a `failed` outcome with a one-line reason and
never stops the rest. mlflow is imported inside functions only.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from claude_tui import claude_code
from claude_tui.parsing import SessionStats, TranscriptTail, event_to_dict
from claude_tui.parsing.events import AssistantText, Event, TokenUsage, ToolCall, ToolResult, UserPrompt
from claude_tui.tracking import schema
from claude_tui.tracking.errors import one_line

if TYPE_CHECKING:
    from claude_tui.tracking.logger import RunPlan
    from claude_tui.tracking.transaction import StoreTransaction

POOL_MIN_FILES = 8
"""Below this many transcripts, parsing in this process beats starting worker processes."""
DEFAULT_MIN_AGE = 60.0
"""Seconds since a transcript's last write before it is imported (a younger one may still be running)."""
SYNC_TRACE_ENV = {"MLFLOW_ENABLE_ASYNC_TRACE_LOGGING": "false"}
"""Set while importing: MLflow's async trace queue polls once a second, and each logged session waits for
two flushes of it (~2 s of sleep); exporting spans synchronously made a session ~10x faster on sqlite."""
SEARCH_PAGE = 1000
"""Runs per page when reading the session ids already in the store."""
BATCH_SESSIONS = 32
"""Sessions logged in one transaction of the embedded sqlite store at most (`tracking.transaction`): one
commit (a journal write and an fsync) for them all instead of about fifteen for each; 1 logs each session
with MLflow's own transactions."""
BATCH_SECONDS = 1.0
"""A batch is committed after this long at most: sqlite takes one writer, and a live session's logger may
be waiting for the store."""
CLEAN_RESULT_LINES = 6
"""Lines of a tool result kept in the clean transcript."""
PURGE_REGEX_CACHE = True
"""Empty Python's `re` cache after each logged session (`re.purge()`). Each session's redactor compiles one
regex of its known secret values (`tracking.redact.Redactor`), and `re.compile` keeps up to 512 patterns
for the life of the process: no session's secrets should stay in memory for the rest of an import (before
the redactor's regex was made smaller, one session left ~40 MB there). Off only to measure that
(`benchmarks/bench_import_memory.py`)."""

Kind = Literal["imported", "skipped", "failed", "filtered"]


class ImportInputError(Exception):
    """A PATH that names no transcript, or a bad filter value; `str()` is one line for the user."""


class ImportStoreError(Exception):
    """The tracking store cannot be reached or read; `str()` is one line for the user."""


@dataclass(frozen=True)
class SessionOutcome:
    """What happened to one transcript."""

    path: Path
    kind: Kind
    """`imported` (or would be, in a dry run), `skipped`, `failed`, or `filtered` (outside the filters)."""
    session_id: str | None = None
    reason: str = ""
    """Why it was skipped or failed (one line); empty for imported sessions."""
    run_id: str | None = None


@dataclass
class ImportSummary:
    """Every outcome of one import, and how long it took."""

    outcomes: list[SessionOutcome] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0
    tracking_uri: str | None = None
    experiment: str | None = None

    def of(self, kind: Kind) -> list[SessionOutcome]:
        """The outcomes of one kind, in the order they happened."""
        return [o for o in self.outcomes if o.kind == kind]

    @property
    def imported(self) -> list[SessionOutcome]:
        """Sessions logged as new runs (in a dry run: those that would be)."""
        return self.of("imported")

    @property
    def skipped(self) -> list[SessionOutcome]:
        """Sessions left alone: already in the store, waiting in the spool, duplicates, still running."""
        return self.of("skipped")

    @property
    def failed(self) -> list[SessionOutcome]:
        """Transcripts that could not be imported, each with its reason."""
        return self.of("failed")

    @property
    def filtered(self) -> list[SessionOutcome]:
        """Transcripts outside `--since` / `--project`."""
        return self.of("filtered")

    @property
    def per_second(self) -> float:
        """Transcripts handled per second (imported, skipped, failed and filtered alike)."""
        return len(self.outcomes) / self.seconds if self.seconds > 0 else 0.0

    def counts_line(self) -> str:
        """`imported 12, skipped 3, failed 1, filtered out 40 (in 9.1 s, 6.0 sessions/s)`."""
        verb = "would import" if self.dry_run else "imported"
        parts = [f"{verb} {len(self.imported)}", f"skipped {len(self.skipped)}", f"failed {len(self.failed)}"]
        if self.filtered:
            parts.append(f"filtered out {len(self.filtered)}")
        return f"{', '.join(parts)} (in {self.seconds:.1f} s, {self.per_second:.1f} sessions/s)"


Progress = Callable[[SessionOutcome, int, int], None]
"""`progress(outcome, done, total)`: called once per transcript as soon as its outcome is known."""


# -- discovery --------------------------------------------------------------------------------------------


def discover_transcripts(
    paths: Iterable[str | os.PathLike[str]],
    *,
    all_sessions: bool = False,
    config_dir: Path | None = None,
    project: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """The session transcripts the paths name, each once, in a stable order.

    A path is a transcript file, a project folder (`projects/<dir>`), a Claude config dir (its `projects/`
    is searched) or any folder holding those. Sub-agent files are never sessions: one named directly stands
    for its parent session. `all_sessions` adds every session under `config_dir` (default
    `claude_code.config_dir()`); a config dir without `projects/` then simply has none. With neither paths
    nor `all_sessions`, the sessions of the work dir `project` under `config_dir`: the folders the CLI
    names after it (`claude_code.project_dirs`).

    Raises:
        ImportInputError: a path does not exist, or is a file that is not a `.jsonl` transcript.
    """
    paths = list(paths)
    found: list[Path] = []
    if project is not None and not paths and not all_sessions:
        for folder in claude_code.project_dirs(config_dir or claude_code.config_dir(), project):
            found.extend(claude_code.session_transcripts(folder))
    for arg in paths:
        path = Path(arg).expanduser()
        if path.is_dir():
            found.extend(claude_code.session_transcripts(path))
        elif path.is_file() or (path.suffix == ".jsonl" and os.path.lexists(path)):
            # A `*.jsonl` that is no regular file (a FIFO, a dangling symlink) is reported by
            # `prepare_session` as one failed transcript; the others still import.
            if path.suffix != ".jsonl":
                raise ImportInputError(f"not a transcript (*.jsonl): {arg}")
            parent = claude_code.subagent_session(path)
            if parent is not None:
                if not parent.is_file():
                    raise ImportInputError(
                        f"{arg} is a sub-agent transcript and its session {parent} is gone"
                    )
                path = parent
            found.append(path)
        elif path.exists():
            raise ImportInputError(f"not a file or folder: {arg}")
        else:
            raise ImportInputError(f"no such file or folder: {arg}")
    if all_sessions:
        if config_dir is None:
            config_dir = claude_code.config_dir()
        projects = config_dir / claude_code.PROJECTS
        if projects.is_dir():
            found.extend(claude_code.session_transcripts(projects))
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.absolute(), None)
    return list(unique)


_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, now: float | None = None) -> float:
    """Seconds since the epoch for `--since`: an ISO date or date-time, or an age like `7d`, `12h`, `30m`.

    A date or date-time without a zone is local time (like `date`); `2026-11-01` means its midnight.

    Raises:
        ImportInputError: the text is none of those.
    """
    match = _RELATIVE.match(text)
    if match:
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        return (time.time() if now is None else now) - seconds
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ImportInputError(
            f"--since: {text!r} is not a date (2026-11-01, 2026-11-01T09:30) or an age (7d, 12h, 30m)"
        ) from None
    return moment.timestamp()


def real_dir(directory: str | os.PathLike[str]) -> str:
    """A directory as the CLI names it: absolute, `~` expanded, symlinks resolved (`--project`)."""
    return os.path.realpath(os.path.expanduser(os.fspath(directory)))


# -- preparing one session (runs in a worker process) -----------------------------------------------------


@dataclass(frozen=True)
class PrepareOptions:
    """What a worker needs to decide about, and prepare, one transcript."""

    spool_root: Path | None
    """Where spools are written; None for a dry run (nothing is written)."""
    known_ids: frozenset[str] = frozenset()
    """Session ids already in the store or waiting in the spool folder."""
    since: float | None = None
    project: str | None = None
    """A real directory (`--project`, through `real_dir`)."""
    min_age: float = 0.0
    tracking_uri: str | None = None
    experiment: str | None = None
    now: float = 0.0
    tags: tuple[tuple[str, str], ...] = ()
    """The settings' `[tags]`, on every imported run."""
    content: str = "full"
    """The settings' `content` level (`metadata`: no transcripts or tool inputs/outputs leave the machine)."""
    experiment_id: str | None = None
    """Set when the run is planned where the spool is written (`logger.plan_run`): the embedded store."""


@dataclass(frozen=True)
class Prepared:
    """A worker's answer for one transcript: an outcome, and the spool to log when it is to be imported."""

    outcome: SessionOutcome
    spool: Path | None = None
    plan: RunPlan | None = None
    """The run, prepared with the spool (`logger.plan_run`); None: `log_spool` makes it from the spool."""


def _ordered(events: list[Event]) -> list[Event]:
    """Events in time order (sub-agent files are read after the main file); untimed ones keep their place."""
    keyed = []
    last = 0.0
    for index, event in enumerate(events):
        if event.ts is not None:
            last = event.ts
        keyed.append((last, index, event))
    keyed.sort(key=lambda item: item[:2])
    return [item[2] for item in keyed]


def _tool_label(event: ToolCall) -> str:
    data = event.input
    for key in ("command", "file_path", "notebook_path", "pattern", "url", "description", "prompt"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            first = value.strip().splitlines()[0]
            return f"{event.name}({first[:200]})"
    return f"{event.name}()"


def clean_text_from_events(events: Iterable[Event]) -> str:
    """A readable transcript (what the terminal would have shown) built from the records.

    Prompts as `❯ text`, the model's text and tool calls as `● ...`, results as `  ⎿  ...` (the first lines;
    errors marked), sub-agent lines indented under a `│`.
    """
    lines: list[str] = []
    for event in events:
        side = "  │ " if getattr(event, "sidechain", False) else ""
        if isinstance(event, UserPrompt):
            text = event.text.strip().splitlines() or [""]
            lines.append("")
            lines.append(f"❯ {text[0]}")
            lines.extend(f"  {line}" for line in text[1:])
            lines.append("")
        elif isinstance(event, AssistantText):
            text = event.text.strip().splitlines() or [""]
            lines.append(f"{side}● {text[0]}")
            lines.extend(f"{side}  {line}" for line in text[1:])
        elif isinstance(event, ToolCall):
            lines.append(f"{side}● {_tool_label(event)}")
        elif isinstance(event, ToolResult):
            result = [line for line in event.preview.splitlines() if line.strip()] or ["(no output)"]
            head = result[:CLEAN_RESULT_LINES]
            marker = "Error: " if event.is_error else ""
            lines.append(f"{side}  ⎿  {marker}{head[0]}")
            lines.extend(f"{side}     {line}" for line in head[1:])
            if len(result) > CLEAN_RESULT_LINES:
                lines.append(f"{side}     … +{len(result) - CLEAN_RESULT_LINES} lines")
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines).rstrip() + "\n"


def _session_id(path: Path, recorded: str | None) -> str:
    """The session id: the file's name, as Claude Code names it and a tracked session tags its run; the
    records' own id when the file was renamed (its name is no UUID)."""
    try:
        uuid.UUID(path.stem)
    except ValueError:
        return recorded or path.stem
    return path.stem


def _has_conversation(events: list[Event]) -> bool:
    return any(isinstance(e, UserPrompt | TokenUsage | ToolCall | AssistantText) for e in events)


def _folder_matches(path: Path, project: str) -> bool:
    return claude_code.is_project_dir_name(path.parent.name, project)


def prepare_session(path: Path, options: PrepareOptions) -> Prepared:
    """Parse one transcript, decide whether it is imported, and (unless a dry run) write its spool.

    Never raises: anything unexpected becomes a `failed` outcome with a one-line reason.
    """
    try:
        return _prepare(path, options)
    except Exception as exc:  # one bad transcript must never stop the others
        return Prepared(SessionOutcome(path, "failed", reason=one_line(exc)))


def not_a_transcript_file(path: Path) -> str | None:
    """Why `path` cannot be read as a transcript without opening it (a FIFO would block the import), or None.

    `dangling symlink to /gone/x.jsonl`, `not a regular file (a FIFO)`, `cannot read: ...`.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            return f"dangling symlink to {os.readlink(path)}"
        return "no such file"
    except OSError as exc:
        return f"cannot read: {(exc.strerror or str(exc)).lower()}"
    if stat.S_ISREG(info.st_mode):
        return None
    kinds = {
        stat.S_ISFIFO: "a FIFO",
        stat.S_ISSOCK: "a socket",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISDIR: "a folder",
    }
    kind = next((name for test, name in kinds.items() if test(info.st_mode)), "not a file")
    return f"not a regular file ({kind})"


def _prepare(path: Path, options: PrepareOptions) -> Prepared:
    problem = not_a_transcript_file(path)
    if problem is not None:
        return Prepared(SessionOutcome(path, "failed", reason=problem))
    try:
        info = path.stat()
    except OSError as exc:
        return Prepared(SessionOutcome(path, "failed", reason=f"cannot read: {exc.strerror or exc}"))
    # A record cannot be newer than the file's last write, so an old file is out of --since unread.
    if options.since is not None and info.st_mtime < options.since:
        return Prepared(SessionOutcome(path, "filtered", reason="older than --since"))
    if info.st_size == 0:
        return Prepared(SessionOutcome(path, "failed", reason="empty file (no transcript records)"))
    if not os.access(path, os.R_OK):
        return Prepared(SessionOutcome(path, "failed", reason="cannot read: permission denied"))
    tail = TranscriptTail(path)
    events = tail.poll(final=True)
    # Folded in file order, exactly like `claude-tui stats`; time order is for the events file and text.
    stats = SessionStats()
    for event in events:
        stats.apply(event)
    stats.malformed_lines = tail.malformed_lines
    data = stats.to_dict()
    events = _ordered(events)
    session_id = _session_id(path, data.get("session_id"))
    if not events:
        if tail.malformed_lines:
            reason = f"not a transcript: no records, {tail.malformed_lines} malformed line(s)"
            return Prepared(SessionOutcome(path, "failed", session_id, reason))
        return Prepared(SessionOutcome(path, "skipped", session_id, "no conversation in it"))
    if not _has_conversation(events):
        return Prepared(SessionOutcome(path, "skipped", session_id, "no conversation in it"))
    stamps = [e.ts for e in events if e.ts is not None]
    first = min(stamps) if stamps else info.st_mtime
    last = max(stamps) if stamps else info.st_mtime
    if options.since is not None and last < options.since:
        return Prepared(SessionOutcome(path, "filtered", session_id, "older than --since"))
    if options.project is not None:
        cwd = data.get("cwd")
        inside = real_dir(cwd) == options.project if cwd else _folder_matches(path, options.project)
        if not inside:
            return Prepared(SessionOutcome(path, "filtered", session_id, "another project"))
    if session_id in options.known_ids:
        return Prepared(SessionOutcome(path, "skipped", session_id, "already in the store"))
    age = options.now - info.st_mtime
    if options.min_age > 0 and age < options.min_age:
        reason = f"may still be running (written {max(age, 0):.0f} s ago); import it later"
        return Prepared(SessionOutcome(path, "skipped", session_id, reason))
    if options.spool_root is None:
        return Prepared(SessionOutcome(path, "imported", session_id))
    spool = _write_spool(path, options, session_id, data, events, first, last)
    return Prepared(SessionOutcome(path, "imported", session_id), spool, _plan(spool, options))


def _plan(spool: Path, options: PrepareOptions) -> RunPlan | None:
    """The session's run prepared beside its spool, or None (then `log_spool` does it all, as ever)."""
    if options.experiment_id is None or options.tracking_uri is None:
        return None
    from claude_tui.tracking.logger import plan_run

    try:
        return plan_run(spool)
    except Exception:  # whatever it was, `log_spool` meets it again and says it in one line
        return None
    finally:
        if PURGE_REGEX_CACHE:
            re.purge()


def _write_spool(
    path: Path,
    options: PrepareOptions,
    session_id: str,
    stats: dict[str, Any],
    events: list[Event],
    first: float,
    last: float,
) -> Path:
    """The spool a tracked session would have left, built from the transcript (no recording)."""
    from claude_tui.tracking.spool import RunSpool

    assert options.spool_root is not None
    config_dir = claude_code.config_dir_of(path)
    meta: dict[str, Any] = {
        "session_id": session_id,
        "command": "claude",
        "args": None,
        "cwd": stats.get("cwd"),
        "start_time": first,
        "git": {"commit": None, "branch": stats.get("git_branch"), "dirty": None},
        "tracking_uri": options.tracking_uri,
        "experiment": options.experiment,
        "tags": dict(options.tags),
        "redact": True,
        "content": options.content,
        "claude_config_dir": str(config_dir) if config_dir else None,
        "transcript_path": str(path),
        "pid": os.getpid(),
        "claude_version": stats.get("claude_version"),
        "imported_from": str(path),
    }
    spool = RunSpool.create(meta, options.spool_root)
    try:
        spool.append_events(event_to_dict(e) for e in events)
        spool.write_file("clean.txt", clean_text_from_events(events))
        spool.finish(
            {
                "end_time": last,
                "exit_code": None,
                "signal": None,
                "killed": False,
                "stats": stats,
                "stats_source": "transcript",
                "imported": True,
            }
        )
    finally:
        spool.close()
    return spool.path


_WORKER_OPTIONS: PrepareOptions | None = None


def _init_worker(options: PrepareOptions) -> None:
    global _WORKER_OPTIONS
    _WORKER_OPTIONS = options


def _prepare_in_worker(path: Path) -> Prepared:
    assert _WORKER_OPTIONS is not None
    return prepare_session(path, _WORKER_OPTIONS)


# -- the store ------------------------------------------------------------------------------------------


def known_session_ids(tracking_uri: str, experiment: str) -> set[str]:
    """Every `claude.session_id` tag of the experiment's complete runs, read with one paged search.

    A missing experiment has none (it is not created here, so a dry run changes nothing).
    """
    from claude_tui.tracking.store import sqlite_path

    db = sqlite_path(tracking_uri)
    if db is not None and not db.exists():
        return set()  # a store that does not exist yet holds no sessions (and a dry run must not create it)
    from claude_tui.tracking.store import tracking_client

    client = tracking_client(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None or found.lifecycle_stage == "deleted":
        return set()
    ids: set[str] = set()
    token: str | None = None
    while True:
        page = client.search_runs(
            [found.experiment_id],
            schema.HAS_SESSION_ID,
            max_results=SEARCH_PAGE,
            page_token=token,
        )
        for run in page:
            value = run.data.tags.get(schema.TAG_SESSION_ID)
            # A RUNNING run is one whose logging was cut off: importing the session again completes it.
            if value and run.info.status != "RUNNING":
                ids.add(value)
                # A live run that held several conversations (/clear, /resume) holds each of them.
                ids.update(i for i in (run.data.tags.get(schema.TAG_SESSION_IDS) or "").split(",") if i)
        token = page.token
        if not token:
            return ids


def spooled_session_ids(root: Path | None = None) -> set[str]:
    """Session ids waiting in the spool folder (running, or finished and not yet synced): each spool's own,
    and every conversation its process held so far (its lifecycle, and the one `--resume` names).

    `claude-tui sync` logs those with their recording, so import leaves them alone.
    """
    from claude_tui.tracking.record import spool_lifecycle
    from claude_tui.tracking.spool import list_spools

    ids: set[str] = set()
    for spool in list_spools(root):
        ids.add(spool.session_id)
        begins = spool.meta.get("conversation_start") or {}
        if isinstance(begins.get("target"), str):
            ids.add(begins["target"])
        lifecycle = spool_lifecycle(spool, None)
        if lifecycle is not None:
            ids.update(lifecycle.session_ids)
    return ids


# -- the import -----------------------------------------------------------------------------------------


def _prepared_stream(
    files: list[Path], options: PrepareOptions, jobs: int
) -> Iterator[tuple[Path, Future[Prepared] | Prepared]]:
    """Each file with its preparation, in order; a process pool (bounded look-ahead) for many files."""
    if jobs <= 1 or len(files) < POOL_MIN_FILES:
        for path in files:
            yield path, prepare_session(path, options)
        return
    import multiprocessing

    # spawn, not fork: this process has mlflow (and its threads and database connections) loaded.
    context = multiprocessing.get_context("spawn")
    window = jobs * 4
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(options,)
    ) as pool:
        broken = False

        def submit(path: Path) -> Future[Prepared] | Prepared:
            nonlocal broken
            if not broken:
                try:
                    return pool.submit(_prepare_in_worker, path)
                except RuntimeError:  # BrokenProcessPool: a worker died; go on in this process
                    broken = True
            return prepare_session(path, options)

        queue = iter(files)
        # range first: zip stops on it without taking (and losing) one more file from the queue.
        pending = [(path, submit(path)) for _, path in zip(range(window), queue, strict=False)]
        while pending:
            path, item = pending.pop(0)
            nxt = next(queue, None)
            if nxt is not None:
                pending.append((nxt, submit(nxt)))
            yield path, item


def _result(path: Path, item: Future[Prepared] | Prepared, options: PrepareOptions) -> Prepared:
    if isinstance(item, Prepared):
        return item
    try:
        return item.result()
    except Exception:
        # A worker died (killed, out of memory) and took the pool with it: the files it still held are
        # prepared here instead, so one crash costs time, not sessions.
        return prepare_session(path, options)


def import_sessions(
    paths: Iterable[str | os.PathLike[str]] = (),
    *,
    all_sessions: bool = False,
    since: float | None = None,
    project: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    min_age: float = 0.0,
    jobs: int | None = None,
    progress: Progress | None = None,
    config_dir: Path | None = None,
    spool_root: Path | None = None,
) -> ImportSummary:
    """Import every session the paths name (and all of `config_dir` with `all_sessions`) into MLflow.

    With 8 or more transcripts and `jobs > 1`, parsing runs in spawned worker processes, which import the
    caller's main module: call this from under `if __name__ == "__main__":` in scripts (the `claude-tui`
    entry points are safe).

    Args:
        paths: transcript files, project folders or config dirs (see `discover_transcripts`); none with
            `project` alone: that directory's sessions under `config_dir`.
        all_sessions: also every session under `config_dir` (default `$CLAUDE_CONFIG_DIR` or ~/.claude).
        since: only sessions whose last record is at or after this time (seconds since the epoch).
        project: only sessions started in this directory (symlinks resolved, as the CLI records it).
        dry_run: decide everything, log nothing (the store is only read).
        tracking_uri: the store (default `paths.default_tracking_uri()`).
        experiment: the experiment (default `claude-sessions`).
        min_age: skip transcripts written to in the last `min_age` seconds (a session may still run).
        jobs: parsing processes (default: CPU count); 1 parses in this process.
        progress: called once per transcript with its outcome.
        config_dir: Claude's config dir for `all_sessions` and `project`.
        spool_root: the live spool folder whose sessions are left to `claude-tui sync` (default the data
            dir's).

    Raises:
        ImportInputError: a path names nothing importable.
        ImportStoreError: the store cannot be reached or searched (nothing was imported).
    """
    from claude_tui.paths import DEFAULT_EXPERIMENT, data_dir
    from claude_tui.tracking.logger import trace_writes
    from claude_tui.tracking.store import resolve_tracking_uri

    started = time.monotonic()
    files = discover_transcripts(paths, all_sessions=all_sessions, config_dir=config_dir, project=project)
    uri = resolve_tracking_uri(tracking_uri)
    experiment_name = experiment or DEFAULT_EXPERIMENT
    summary = ImportSummary(dry_run=dry_run, tracking_uri=uri, experiment=experiment_name)
    report: Progress = progress or (lambda outcome, done, total: None)
    if not files:
        summary.seconds = time.monotonic() - started
        return summary
    from claude_tui.tracking.reach import store_reachable

    reachable = store_reachable(uri)
    if not reachable:
        raise ImportStoreError(reachable.reason)
    try:
        in_store = known_session_ids(uri, experiment_name)
    except Exception as exc:  # whatever the store says, the user gets one line, not a traceback
        raise ImportStoreError(f"cannot read the sessions: {one_line(exc, uri)}") from exc
    known = frozenset(in_store | spooled_session_ids(spool_root))
    project_dir = real_dir(project) if project is not None else None
    from claude_tui.config import ConfigError, Settings, load_settings

    try:
        settings = load_settings()
    except ConfigError:  # the command line refused it already; a library caller gets the defaults
        settings = Settings()
    with contextlib.ExitStack() as stack:
        stack.enter_context(_environment(SYNC_TRACE_ENV))
        stack.enter_context(trace_writes())
        stack.enter_context(_long_lived_objects_frozen())
        staging: Path | None = None
        if not dry_run:
            # Not the live spool folder: a spool left by an interrupted import must not be synced as `live`.
            staging = Path(tempfile.mkdtemp(prefix=".import-", dir=data_dir()))
            stack.callback(shutil.rmtree, staging, True)
        options = PrepareOptions(
            experiment_id=_planned_experiment(uri, experiment_name) if not dry_run else None,
            spool_root=staging,
            known_ids=known,
            since=since,
            project=project_dir,
            min_age=min_age,
            tracking_uri=uri,
            experiment=experiment_name,
            now=time.time(),
            tags=tuple(settings.tags.items()),
            content=settings.content,
        )
        seen: dict[str, Path] = {}
        stream = _prepared_stream(files, options, jobs or os.cpu_count() or 1)
        batch = _Batch(uri, experiment_name, summary, report, len(files))
        batch.experiment_id = options.experiment_id
        stack.callback(batch.close)
        for path, item in stream:
            if isinstance(item, Future) and not item.done():
                batch.flush()  # never hold the store's write lock while waiting for parsing
            prepared = _result(path, item, options)
            outcome = prepared.outcome
            session_id = outcome.session_id
            spool = None
            if outcome.kind == "imported" and session_id is not None:
                first_path = seen.get(session_id)
                if first_path is not None:
                    outcome = SessionOutcome(path, "skipped", session_id, f"same session as {first_path}")
                else:
                    seen[session_id] = path
                    spool = prepared.spool
            if spool is None and prepared.spool is not None:
                shutil.rmtree(prepared.spool, ignore_errors=True)
            batch.add(outcome, spool, prepared.plan)
        batch.flush()
    summary.seconds = time.monotonic() - started
    return summary


PLAN_IN_POOL = True
"""On the embedded store, build each run (record, redaction, artifacts, traces) in the parsing pool
(`logger.plan_run`), so this process, the store's one writer, only writes (`logger.write_plan`)."""


def _planned_experiment(uri: str, experiment: str) -> str | None:
    """The experiment's id (created now) when runs are planned in the pool: the embedded sqlite store, a
    name MLflow takes. None otherwise (each session is logged by `log_spool`, which says what is wrong)."""
    from claude_tui.tracking.limits import experiment_problem
    from claude_tui.tracking.store import get_or_create_experiment, tracking_client
    from claude_tui.tracking.transaction import sqlite_store

    if not PLAN_IN_POOL or BATCH_SESSIONS <= 1 or experiment_problem(experiment):
        return None
    try:
        tracking_client(uri)
        if sqlite_store(uri) is None:
            return None
        return get_or_create_experiment(experiment, uri)
    except Exception:
        return None


class _Batch:
    """Sessions logged in one transaction of the embedded sqlite store (`tracking.transaction`), reported
    (and their spools removed) once it is committed; one by one, as before, on any other store.

    A batch is committed after `BATCH_SESSIONS` sessions or `BATCH_SECONDS`, and before waiting for the
    parsing pool, so a live session's logger never waits long for the store. A session that fails is undone
    alone (its savepoint); a commit that fails undoes the batch, whose sessions are then logged one by one
    with MLflow's own transactions, as is the rest of the import: no session is lost or logged twice.
    """

    def __init__(self, uri: str, experiment: str, summary: ImportSummary, report: Progress, total: int):
        self.uri = uri
        self.experiment = experiment
        self.summary = summary
        self.report = report
        self.total = total
        self.transaction: StoreTransaction | None = None
        self.experiment_id: str | None = None
        """The experiment the runs planned in the pool go to (`PrepareOptions.experiment_id`)."""
        self.opened = 0.0
        self.batched = BATCH_SESSIONS > 1
        """False once the store refused a transaction: the rest is logged with MLflow's own."""
        self.waiting: list[tuple[SessionOutcome, Path | None, str | None]] = []
        """Outcomes not reported yet, in order, with the spool to log and the artifact URI of its run."""

    def add(self, outcome: SessionOutcome, spool: Path | None, plan: RunPlan | None = None) -> None:
        """Log `outcome`'s spool (when given); report the outcome, at the latest with the batch's commit."""
        artifacts = None
        if spool is not None:
            if self.transaction is None and self.batched:
                self._open()
            outcome, artifacts = _log(
                spool, outcome, self.uri, self.experiment, self.transaction, plan, self.experiment_id
            )
        self.waiting.append((outcome, spool, artifacts))
        full = len(self.waiting) >= BATCH_SESSIONS or time.monotonic() - self.opened >= BATCH_SECONDS
        if self.transaction is None or full:
            self.flush()

    def _open(self) -> None:
        from claude_tui.tracking.store import get_or_create_experiment
        from claude_tui.tracking.transaction import open_transaction

        try:
            # Created outside the batch: MLflow may cache it, and a batch rolled back would take it along.
            get_or_create_experiment(self.experiment, self.uri)
            self.transaction = open_transaction(self.uri)
        except Exception:  # the store's own error comes again, in one line, from the session's logging
            self.transaction = None
        self.batched = self.transaction is not None
        self.opened = time.monotonic()

    def flush(self) -> None:
        """Commit the batch, then report its outcomes and remove its spools."""
        waiting, self.waiting = self.waiting, []
        transaction, self.transaction = self.transaction, None
        if transaction is not None:
            try:
                transaction.commit()
            except Exception:
                _remove_artifacts(artifacts for _, _, artifacts in waiting)
                self.batched = False
                waiting = [
                    (_log(spool, outcome, self.uri, self.experiment, None)[0], spool, None)
                    if spool is not None and outcome.kind == "imported"
                    else (outcome, spool, None)
                    for outcome, spool, _ in waiting
                ]
        for outcome, spool, _ in waiting:
            if spool is not None:
                shutil.rmtree(spool, ignore_errors=True)
            self.summary.outcomes.append(outcome)
            self.report(outcome, len(self.summary.outcomes), self.total)

    def close(self) -> None:
        """Undo a batch still open (the import was interrupted): nothing it held is reported as imported."""
        transaction, self.transaction = self.transaction, None
        if transaction is not None:
            with contextlib.suppress(Exception):
                transaction.rollback()
            _remove_artifacts(artifacts for _, _, artifacts in self.waiting)


def _remove_artifacts(uris: Iterable[str | None]) -> None:
    """Remove the local artifact folders of runs a rolled-back transaction took away."""
    from mlflow.utils.file_utils import local_file_uri_to_path

    for uri in uris:
        if uri and uri.startswith("file:"):
            folder = Path(local_file_uri_to_path(uri))  # <root>/<experiment id>/<run id>/artifacts
            shutil.rmtree(folder.parent if folder.name == "artifacts" else folder, ignore_errors=True)


@contextlib.contextmanager
def _long_lived_objects_frozen() -> Iterator[None]:
    """Python's cyclic collector leaves the objects this process holds now alone until the import ends
    (`gc.freeze`): MLflow's modules, SQLAlchemy's and the store's set-up, about 300,000 objects that live as
    long as the process. Each full collection walked them all (about 0.2 CPU s, one per 100 sessions or
    so, 2 ms a session); a session's own objects are collected as before. Nested imports keep the outer
    freeze."""
    import gc

    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for a while, then put the previous values back."""
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _log(
    spool: Path,
    outcome: SessionOutcome,
    uri: str,
    experiment: str,
    transaction: StoreTransaction | None,
    plan: RunPlan | None = None,
    experiment_id: str | None = None,
) -> tuple[SessionOutcome, str | None]:
    """Log one spool (inside `transaction` when given: the spool stays until it is committed), from its
    planned run when there is one and the transaction is open; the outcome and the run's artifact URI."""
    from claude_tui.tracking.logger import LoggingError, log_spool, write_plan

    try:
        with transaction.session() if transaction is not None else contextlib.nullcontext():
            logged = None
            if plan is not None and transaction is not None and experiment_id is not None:
                logged = write_plan(plan, tracking_uri=uri, experiment_id=experiment_id)
            if logged is None:
                logged = log_spool(
                    spool,
                    tracking_uri=uri,
                    experiment=experiment,
                    source=schema.SOURCE_IMPORT,
                    remove=transaction is None,
                )
    except LoggingError as exc:
        return SessionOutcome(outcome.path, "failed", outcome.session_id, f"not logged: {exc}"), None
    except Exception as exc:  # a bug or store error for one session must not stop the rest
        reason = f"not logged: {one_line(exc, uri)}"
        return SessionOutcome(outcome.path, "failed", outcome.session_id, reason), None
    finally:
        if PURGE_REGEX_CACHE:
            # The session's secret-masking regex is used by no other session: do not let `re` keep it.
            re.purge()
    imported = SessionOutcome(outcome.path, "imported", outcome.session_id, run_id=logged.run_id)
    return imported, logged.artifact_uri


def outcome_line(outcome: SessionOutcome, dry_run: bool = False) -> str:
    """One line for the user: `imported <id> (run <run id>)`, `skipped <id>: why`, `FAILED <path>: why`."""
    name = outcome.session_id or outcome.path.name
    if outcome.kind == "imported":
        if dry_run:
            return f"would import {name}  {outcome.path}"
        return f"imported {name} (run {outcome.run_id})"
    if outcome.kind == "failed":
        return f"FAILED {outcome.path}: {outcome.reason}"
    return f"{outcome.kind} {name}: {outcome.reason}"
