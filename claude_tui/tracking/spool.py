"""The on-disk record of one session, written while it runs and kept until MLflow has confirmed it.

A spool is a folder `<start-time>-<session_id>` under `paths.spool_root()` (0700, files 0600) holding
`meta.json`, `recording.cast`, `events.jsonl`, `telemetry.jsonl` (the CLI's own telemetry), optional extra
files (`clean.txt`, `git/changes.diff`, ...) and, once the session has ended, `summary.json`. The app that
owns a live spool holds an exclusive `fcntl.flock` on its `owner.lock` for as long as the spool object
lives; a spool with no summary whose lock nobody holds is an orphan (the app was killed or crashed).
Checking the lock rather than the pid means a reused pid cannot make a dead session look alive. Pure: stdlib
only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

META = "meta.json"
EVENTS = "events.jsonl"
TELEMETRY = "telemetry.jsonl"
"""The CLI's own telemetry as it arrived (`parsing.otlp.telemetry_to_dict` lines)."""
LIFECYCLE = "lifecycle.jsonl"
"""The session's lifecycle: hooks, terminal signals, transcripts found (`claude_tui.lifecycle.events`)."""
SUMMARY = "summary.json"
RECORDING = "recording.cast"
OWNER_LOCK = "owner.lock"
"""Held (flock, exclusive) by the live app for the whole session."""
SYNC_LOCK = "sync.lock"
"""Held by whoever logs the spool, so two syncs of one spool cannot both log it."""
NOT_LOGGED = ".not-logged"
"""Why the last attempt to log the spool failed, one line (a dot file: never uploaded as an artifact)."""

DIR_MODE = 0o700
FILE_MODE = 0o600


class SpoolError(Exception):
    """A spool folder is missing, unreadable or not a spool."""


def _write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temp file in the same folder and a rename, so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str).encode("utf-8") + b"\n"


def _jsonl(objects: Iterable[dict[str, Any]]) -> str:
    """Compact JSON lines, each ending in a newline ("" for none)."""
    return "".join(
        json.dumps(o, ensure_ascii=False, default=str, separators=(",", ":")) + "\n" for o in objects
    )


def _open_appending(path: Path) -> TextIO:
    """`path` opened for appending text (created 0600)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE), "a", encoding="utf-8")


def _folder_name(meta: dict[str, Any]) -> str:
    start = float(meta.get("start_time") or time.time())
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(start))
    session_id = str(meta.get("session_id") or "no-session-id")
    # The session id becomes part of a path: keep it to safe characters.
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in session_id)
    return f"{stamp}-{safe}"


def lock_within(fd: int, timeout: float, poll: float = 0.05) -> bool:
    """Take an exclusive `flock` on `fd`, waiting up to `timeout` seconds; False when it stayed taken."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(poll)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (a zombie or another user's process counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_start_ticks(pid: int) -> int | None:
    """The start time of a process in clock ticks since boot (Linux `/proc`), None when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after its closing paren.
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


class RunSpool:
    """One session's spool folder. Create it with `RunSpool.create`, reopen an existing one with `open`."""

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.path = path
        """The spool folder."""
        self.meta = meta
        """The contents of `meta.json`."""
        self._owner_fd: int | None = None
        self._events_handle: Any = None

    # -- creating and opening ------------------------------------------------------------------------------

    @classmethod
    def create(cls, meta: dict[str, Any], root: Path | None = None) -> RunSpool:
        """Create the spool of a new session and hold its owner lock until `close()` (or process exit).

        The folder is built under a hidden temporary name and renamed into place, so `list_spools` never
        sees a spool without its meta.
        """
        if root is None:
            from claude_tui.paths import spool_root

            root = spool_root()
        root.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        meta = dict(meta)
        pid = meta.get("pid")
        if isinstance(pid, int) and pid == os.getpid():
            # Recorded so an orphan check without the lock file can still tell a reused pid apart.
            meta.setdefault("pid_start_ticks", process_start_ticks(pid))
        name = _folder_name(meta)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
        os.chmod(staging, DIR_MODE)
        _write_atomic(staging / META, _json_bytes(meta))
        spool = cls(staging, meta)
        spool._acquire_owner_lock()
        final = root / name
        suffix = 1
        while True:
            try:
                os.rename(staging, final)
                break
            except OSError:
                # An existing non-empty folder of the same name: never overwrite another session's spool.
                if not final.exists():
                    raise
                suffix += 1
                final = root / f"{name}-{suffix}"
        spool.path = final
        return spool

    @classmethod
    def open(cls, path: Path | str) -> RunSpool:
        """Open an existing spool folder (to log it, or to check whether it is an orphan)."""
        path = Path(path)
        try:
            meta = json.loads((path / META).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SpoolError(f"{path} is not a session spool (no {META})") from None
        except (OSError, ValueError) as exc:
            raise SpoolError(f"cannot read {path / META}: {exc}") from None
        if not isinstance(meta, dict):
            raise SpoolError(f"{path / META} is not a JSON object")
        return cls(path, meta)

    @classmethod
    def recover(cls, path: Path | str, reason: str) -> RunSpool:
        """A spool whose `meta.json` is unreadable (truncated, garbage, missing), with what can be recovered.

        The session id and start time come from the folder name (`<start>-<session id>`); the top-level
        fields that can still be read in the broken file are kept (the store, the experiment, the work dir,
        where Claude's transcript is), except `redact`: a recovered session is always redacted. The meta
        says `meta_unreadable` (why), so the run is logged as KILLED and the user is told.
        """
        path = Path(path)
        stamp, session_id = _parse_folder_name(path.name)
        meta: dict[str, Any] = {"session_id": session_id, "tags": {}}
        try:
            meta.update(_salvage_fields((path / META).read_bytes().decode("utf-8", errors="replace")))
        except OSError:
            pass
        if stamp is not None:
            meta.setdefault("start_time", stamp)
        if not meta.get("claude_config_dir"):
            from claude_tui.claude_code import config_dir

            meta["claude_config_dir"] = str(config_dir())
        meta["redact"] = True
        meta["meta_unreadable"] = reason
        return cls(path, meta)

    @property
    def meta_unreadable(self) -> str | None:
        """Why this spool's `meta.json` could not be read (None for a healthy spool)."""
        reason = self.meta.get("meta_unreadable")
        return str(reason) if reason else None

    def _acquire_owner_lock(self) -> None:
        fd = os.open(self.path / OWNER_LOCK, os.O_RDWR | os.O_CREAT, FILE_MODE)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._owner_fd = fd

    def close(self) -> None:
        """Release the owner lock and the events file (a closed spool without summary is an orphan)."""
        if self._events_handle is not None:
            self._events_handle.close()
            self._events_handle = None
        if self._owner_fd is not None:
            os.close(self._owner_fd)
            self._owner_fd = None

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter shutdown
        with contextlib.suppress(Exception):
            self.close()

    # -- writing ---------------------------------------------------------------------------------------------

    @property
    def recording_path(self) -> Path:
        """Where the live recording (`recording.cast`) goes."""
        return self.path / RECORDING

    @property
    def events_path(self) -> Path:
        """The `events.jsonl` file (one event dict per line)."""
        return self.path / EVENTS

    def append_events(self, events: Iterable[dict[str, Any]]) -> None:
        """Append events to `events.jsonl` and flush, so a crash loses at most the line being written."""
        text = _jsonl(events)
        if not text:
            return
        if self._events_handle is None:
            self._events_handle = _open_appending(self.events_path)
        self._events_handle.write(text)
        self._events_handle.flush()

    @property
    def telemetry_path(self) -> Path:
        """The `telemetry.jsonl` file (one `parsing.otlp` event or metric point per line)."""
        return self.path / TELEMETRY

    def append_telemetry(self, events: Iterable[dict[str, Any]]) -> None:
        """Append the CLI's telemetry to `telemetry.jsonl`: a batch a second at most, so no handle is kept."""
        text = _jsonl(events)
        if not text:
            return
        with _open_appending(self.telemetry_path) as out:
            out.write(text)

    @property
    def lifecycle_path(self) -> Path:
        """The `lifecycle.jsonl` file (one lifecycle event dict per line)."""
        return self.path / LIFECYCLE

    def append_lifecycle(self, events: Iterable[dict[str, Any]]) -> None:
        """Append lifecycle events to `lifecycle.jsonl` (flushed, like `append_events`)."""
        text = _jsonl(events)
        if text:
            with _open_appending(self.lifecycle_path) as out:  # a few lines a minute: no handle kept open
                out.write(text)

    def _inside(self, relpath: str) -> Path:
        target = (self.path / relpath).resolve()
        if not target.is_relative_to(self.path.resolve()) or target == self.path.resolve():
            raise ValueError(f"{relpath!r} is not a file inside the spool")
        return target

    def write_file(self, relpath: str, text: str) -> Path:
        """Write a text file inside the spool (atomic, 0600), e.g. `clean.txt` or `git/changes.diff`."""
        target = self._inside(relpath)
        _write_atomic(target, text.encode("utf-8", errors="replace"))
        return target

    def finish(self, summary: dict[str, Any]) -> None:
        """Write `summary.json` (atomically): from now on the spool is finished and ready to log."""
        if self._events_handle is not None:
            self._events_handle.flush()
        _write_atomic(self.path / SUMMARY, _json_bytes(summary))

    def note_not_logged(self, reason: str) -> None:
        """Remember why logging failed (shown by the History tab); best effort."""
        with contextlib.suppress(OSError):
            _write_atomic(self.path / NOT_LOGGED, reason.encode("utf-8", errors="replace"))

    # -- reading ---------------------------------------------------------------------------------------------

    @property
    def not_logged_reason(self) -> str | None:
        """Why the last attempt to log the spool failed; None when none failed (or none was made)."""
        try:
            return (self.path / NOT_LOGGED).read_text(encoding="utf-8", errors="replace").strip() or None
        except OSError:
            return None

    @property
    def session_id(self) -> str:
        """The session id from the meta (the folder name when the meta has none)."""
        return str(self.meta.get("session_id") or self.path.name)

    @property
    def summary(self) -> dict[str, Any] | None:
        """The contents of `summary.json`, None while the session runs (or when unreadable)."""
        try:
            data = json.loads((self.path / SUMMARY).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    @property
    def is_finished(self) -> bool:
        """Whether the session ended normally and wrote its summary."""
        return self.summary is not None

    def owner_alive(self) -> bool:
        """Whether the app that created this spool is still running it.

        The owner lock answers exactly. Spools without a lock file fall back to the pid and its start time
        (so a reused pid with a different start time counts as dead).
        """
        if self._owner_fd is not None:
            return True
        lock_path = self.path / OWNER_LOCK
        try:
            fd = os.open(lock_path, os.O_RDONLY)
        except FileNotFoundError:
            return self._pid_owner_alive()
        except OSError:
            return True  # cannot tell: never treat a possibly live session as dead
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return self._pid_owner_alive()
        finally:
            os.close(fd)
        return False

    @property
    def being_logged(self) -> bool:
        """Whether a process holds the spool's sync lock (a logger or a `sync` is logging it now)."""
        try:
            fd = os.open(self.path / SYNC_LOCK, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            os.close(fd)
        return False

    def _pid_owner_alive(self) -> bool:
        pid = self.meta.get("pid")
        if not isinstance(pid, int) or not pid_alive(pid):
            return False
        recorded = self.meta.get("pid_start_ticks")
        if isinstance(recorded, int):
            current = process_start_ticks(pid)
            if current is not None and current != recorded:
                return False
        return True

    @property
    def is_orphan(self) -> bool:
        """No summary, and the owning app is gone: the session was killed or crashed."""
        return not self.is_finished and not self.owner_alive()

    @property
    def is_live(self) -> bool:
        """The session is still running in some app: neither finished nor orphaned."""
        return not self.is_finished and self.owner_alive()

    def last_activity(self) -> float:
        """The newest modification time of any file in the spool (an orphan's best guess at its end)."""
        newest = float(self.meta.get("start_time") or 0.0)
        for item in self.path.rglob("*"):
            if item.name in (OWNER_LOCK, SYNC_LOCK, NOT_LOGGED):
                continue
            with contextlib.suppress(OSError):
                newest = max(newest, item.stat().st_mtime)
        return newest

    def files(self) -> list[str]:
        """Relative paths of the files in the spool (locks and temp files left out)."""
        out = []
        for item in sorted(self.path.rglob("*")):
            if item.is_file() and item.name not in (OWNER_LOCK, SYNC_LOCK) and not item.name.startswith("."):
                out.append(item.relative_to(self.path).as_posix())
        return out

    def __repr__(self) -> str:
        return f"RunSpool({str(self.path)!r})"


_SALVAGED = ("session_id", "command", "cwd", "start_time", "tracking_uri", "experiment", "claude_config_dir",
             "transcript_path", "claude_version")  # fmt: skip
"""Top-level meta fields `RunSpool.recover` takes from a broken `meta.json` when they can still be read."""
_FIELD = re.compile(r'^  "(\w+)": ("(?:[^"\\\n]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)', re.M)
"""A top-level `"key": value` line of a meta written by `_json_bytes` (indent 2): nested keys are deeper."""
_FOLDER = re.compile(r"^(\d{8}T\d{6}Z)-(.+?)(?:-\d+)?$")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _parse_folder_name(name: str) -> tuple[float | None, str]:
    """(start time, session id) from a spool folder's name `<YYYYmmddTHHMMSSZ>-<session id>[-N]`."""
    match = _FOLDER.match(name)
    if not match:
        return None, name
    import calendar

    stamp = float(calendar.timegm(time.strptime(match.group(1), "%Y%m%dT%H%M%SZ")))
    rest = name[len(match.group(1)) + 1 :]
    uuid = _UUID.match(rest)
    return stamp, uuid.group(0) if uuid else match.group(2)


def _salvage_fields(text: str) -> dict[str, Any]:
    """The `_SALVAGED` fields still readable in a truncated or damaged meta text."""
    found: dict[str, Any] = {}
    for key, raw in _FIELD.findall(text):
        if key in _SALVAGED and key not in found:
            try:
                found[key] = json.loads(raw)
            except ValueError:
                continue
    if not isinstance(found.get("start_time"), int | float):
        found.pop("start_time", None)
    return {k: v for k, v in found.items() if k == "start_time" or isinstance(v, str)}


_SPOOL_FILES = (META, RECORDING, EVENTS, SUMMARY, OWNER_LOCK)
"""A folder in the spool root holding any of these is a spool (perhaps a damaged one)."""


def list_spools(root: Path | None = None) -> list[RunSpool]:
    """Every spool under `root` (default `paths.spool_root()`), oldest first.

    Half-created folders (hidden names) are skipped. A spool whose `meta.json` cannot be read is listed
    too, recovered from its folder name (`RunSpool.recover`), so no spool is ever skipped in silence.
    """
    if root is None:
        from claude_tui.paths import spool_root

        root = spool_root()
    if not root.is_dir():
        return []
    spools = []
    for entry in sorted(root.iterdir()):
        if not entry.is_dir() or entry.name.startswith("."):
            continue
        try:
            spools.append(RunSpool.open(entry))
        except SpoolError:
            if any((entry / name).exists() for name in _SPOOL_FILES):
                spools.append(RunSpool.recover(entry, _unreadable_reason(entry)))
    return spools


def _unreadable_reason(folder: Path) -> str:
    """Why a spool's meta cannot be read, in a few words: `no meta.json`, `meta.json is not valid JSON`..."""
    try:
        data = (folder / META).read_bytes()
    except FileNotFoundError:
        return f"no {META}"
    except OSError as exc:
        return f"cannot read {META} ({(exc.strerror or str(exc)).lower()})"
    try:
        meta = json.loads(data.decode("utf-8"))
    except ValueError:  # a decoding error too
        return f"{META} is not valid JSON ({len(data)} bytes)"
    return f"{META} is not a JSON object" if not isinstance(meta, dict) else f"{META} is unreadable"
