"""One home for turning an exception into the user's one line, naming the real cause of a store failure;
and quiet MLflow logging on the command line.

Every place that tells the user why logging, syncing, importing or reading the store failed goes through
`one_line(exc, store=...)`: a known failure (disk full, read-only, unreachable, unauthorized, locked,
corrupt, a store too old or half-migrated) becomes one line that names it and the store, whatever layer
raised it (sqlite3, SQLAlchemy, urllib3, requests, MLflow's REST client, the OS); anything else becomes
`Type: first line of the message`. The chain of causes (`__cause__`, `__context__`, SQLAlchemy's `orig`)
is searched, because MLflow wraps the real error in its own text ("raised as a result of Query-invoked
autoflush ...", "API request to ... failed with exception HTTPConnectionPool(...)").

Pure: stdlib only, no mlflow import (it matches on types by name and on message text), so the app and the
command line can use it anywhere. It never raises: an exception whose `__str__` fails still has a name.
"""

from __future__ import annotations

import errno
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "MAX_LINE",
    "Cause",
    "Failure",
    "StoreProblem",
    "credentials_hint",
    "describe",
    "first_line",
    "one_line",
    "silence_store_logging",
    "store_label",
]

MAX_LINE = 300
"""Characters of an unknown error's message kept in its one line."""


def _text(exc: BaseException) -> str:
    """`str(exc)`, or '' when its `__str__` fails."""
    try:
        return str(exc)
    except Exception:
        return ""


class Cause(Enum):
    """The known kinds of store failure, each named in the user's line."""

    DISK_FULL = "disk full"
    READ_ONLY = "read-only"
    UNREACHABLE = "unreachable"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    LOCKED = "locked"
    CORRUPT = "corrupt"
    OUTDATED = "out of date"
    HALF_MIGRATED = "half-migrated"


@dataclass(frozen=True)
class Failure:
    """What went wrong, in one line: `cause` is None for an error no rule knows."""

    cause: Cause | None
    line: str

    def __str__(self) -> str:
        return self.line


_ERRNO_CAUSES = {
    errno.ENOSPC: Cause.DISK_FULL,
    errno.EDQUOT: Cause.DISK_FULL,
    errno.EROFS: Cause.READ_ONLY,
    errno.EACCES: Cause.READ_ONLY,
    errno.EPERM: Cause.READ_ONLY,
    errno.ECONNREFUSED: Cause.UNREACHABLE,
    errno.EHOSTUNREACH: Cause.UNREACHABLE,
    errno.ENETUNREACH: Cause.UNREACHABLE,
    errno.ETIMEDOUT: Cause.UNREACHABLE,
    errno.ECONNRESET: Cause.UNREACHABLE,
}

# Message text -> cause, tried in order on every exception of the chain (lowercased). The texts are
# sqlite's own error strings (sqlite3.OperationalError / DatabaseError), the OS's strerror, urllib3's and
# requests' connection errors, and MLflow's REST error codes.
_TEXT_CAUSES: list[tuple[re.Pattern[str], Cause]] = [
    (re.compile(r"_alembic_tmp_"), Cause.HALF_MIGRATED),
    (re.compile(r"out-of-date database schema"), Cause.OUTDATED),
    (re.compile(r"database or disk is full|no space left on device|disk quota exceeded"), Cause.DISK_FULL),
    (
        re.compile(r"readonly database|read-only file system|errno 13\] permission denied"),
        Cause.READ_ONLY,
    ),
    (re.compile(r"database is locked|database table is locked"), Cause.LOCKED),
    (
        re.compile(
            r"file is not a database|database disk image is malformed|malformed database schema"
            r"|file is encrypted or is not a database|not an error.*corrupt"
        ),
        Cause.CORRUPT,
    ),
    (
        re.compile(r"\b403\b|\bforbidden\b|permission_denied"),
        Cause.FORBIDDEN,
    ),
    (
        re.compile(r"\b401\b|\bunauthorized\b|unauthenticated|not authenticated|invalid credentials"),
        Cause.UNAUTHORIZED,
    ),
    (
        re.compile(
            r"connection refused|failed to establish a new connection|max retries exceeded"
            r"|name or service not known|temporary failure in name resolution|nodename nor servname"
            r"|no route to host|network is unreachable|connection reset|connection aborted"
            r"|timed out|read timeout|remote end closed connection"
        ),
        Cause.UNREACHABLE,
    ),
]

_UNREACHABLE_TYPES = {
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "ConnectionAbortedError",
    "NewConnectionError",
    "MaxRetryError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ConnectTimeout",
    "ReadTimeout",
    "RemoteDisconnected",
    "URLError",
    "timeout",
    "TimeoutError",
}


_NETWORK_CAUSES = (Cause.UNREACHABLE, Cause.UNAUTHORIZED, Cause.FORBIDDEN)

USERNAME_VAR = "MLFLOW_TRACKING_USERNAME"
PASSWORD_VAR = "MLFLOW_TRACKING_PASSWORD"
TOKEN_VAR = "MLFLOW_TRACKING_TOKEN"
"""The variables MLflow's client reads its credentials from (basic auth, or a bearer token)."""


def credentials_hint(cause: Cause, env: Mapping[str, str] | None = None) -> str:
    """What to set after a 401 or 403, from the credentials the environment holds (never their values).

    401 with nothing set: the username and password (or a token) are missing; with a token: the token was
    refused; with a username: its password. 403: the credentials are good but that user may not do this.
    """
    env = os.environ if env is None else env
    user = env.get(USERNAME_VAR)
    if cause is Cause.FORBIDDEN:
        who = f"user {user!r}" if user else ("the token's user" if env.get(TOKEN_VAR) else "anonymous")
        return (
            f"{who} lacks permission on the experiment: ask the server's admin for EDIT on it, "
            f"or set {USERNAME_VAR} to a user who has it"
        )
    if env.get(TOKEN_VAR) and not user:
        return f"set {TOKEN_VAR} to a valid token"
    if user:
        return f"set {PASSWORD_VAR} to {user!r}'s password"
    return f"set {USERNAME_VAR} and {PASSWORD_VAR}, or {TOKEN_VAR}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and every exception behind it, each once: causes, contexts and SQLAlchemy's `orig`."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for attr in ("orig", "__cause__", "__context__", "reason"):
            inner = getattr(current, attr, None)
            if isinstance(inner, BaseException):
                todo.append(inner)


def _cause_of(exc: BaseException, by_type: bool = True) -> Cause | None:
    chain = list(_chain(exc))
    for item in chain:  # an errno says it exactly
        number = getattr(item, "errno", None)
        if isinstance(item, OSError) and number in _ERRNO_CAUSES:
            return _ERRNO_CAUSES[number]
    for item in chain:
        text = _text(item).lower()
        code = str(getattr(item, "error_code", "")).lower()
        for pattern, cause in _TEXT_CAUSES:
            if pattern.search(text) or (code and pattern.search(code)):
                return cause
        status = getattr(getattr(item, "response", None), "status_code", None) or getattr(item, "code", None)
        if status == 401:
            return Cause.UNAUTHORIZED
        if status == 403:
            return Cause.FORBIDDEN
    if by_type and any(type(item).__name__ in _UNREACHABLE_TYPES for item in chain):
        return Cause.UNREACHABLE
    return None


def store_label(store: str | None) -> str:
    """How a store is named to the user: the database file of a sqlite store, else its URI without any
    password (`http://user:***@host`)."""
    if not store:
        return "the tracking store"
    if store.startswith("sqlite:"):
        from claude_tui.tracking.store import sqlite_path

        path = sqlite_path(store)
        return str(path) if path is not None else store
    parts = urlsplit(store)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return store


def first_line(exc: BaseException) -> str:
    """`Type: first line of the message` (what an unknown failure says); the type alone for an empty one."""
    lines = [line.strip() for line in _text(exc).strip().splitlines() if line.strip()]
    # SQLAlchemy puts "(raised as a result of Query-invoked autoflush; ...)" before the real message.
    lines = [line for line in lines if not line.startswith("(raised as a result of")]
    first = lines[0] if lines else ""
    line = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return line[:MAX_LINE]


def _os_filename(exc: BaseException) -> str | None:
    if isinstance(exc, OSError):
        name = exc.filename2 or exc.filename
        return str(name) if name else None
    return None


def _os_reason(exc: BaseException) -> str:
    """The OS's own words for the first OS error behind `exc` (`connection refused`), or ''."""
    for item in _chain(exc):
        if isinstance(item, OSError) and item.strerror:
            return item.strerror.lower()
    match = re.search(r"\[errno -?\d+\] ([^'\])]+)", _text(exc).lower())
    return match.group(1).strip() if match else ""


def _cause_line(cause: Cause, where: str, store: str | None, detail: str = "") -> str:
    if cause is Cause.DISK_FULL:
        return f"disk full: no space left to write {where}"
    if cause is Cause.READ_ONLY:
        return f"read-only: cannot write {where}"
    if cause is Cause.UNREACHABLE:
        return f"unreachable: no answer from {where}" + (f" ({detail})" if detail else "")
    if cause is Cause.UNAUTHORIZED:
        return f"unauthorized: {where} refused the credentials ({credentials_hint(cause)})"
    if cause is Cause.FORBIDDEN:
        return f"forbidden: {where} refused ({credentials_hint(cause)})"
    if cause is Cause.LOCKED:
        return f"locked: another process holds {where}; try again when it is done"
    if cause is Cause.CORRUPT:
        return f"corrupt: {where} is not a readable MLflow database; move it aside to start a new store"
    if cause is Cause.OUTDATED:
        uri = store or where
        return f"out of date: {where} was made by an older MLflow; back it up, then `mlflow db upgrade {uri}`"
    return f"half-migrated: {where} was left half-migrated by an interrupted upgrade"


def describe(exc: BaseException, store: str | None = None) -> Failure:
    """The cause of `exc` and its one line (see the module docstring)."""
    if isinstance(exc, StoreProblem):
        return Failure(exc.cause, str(exc))
    # A connection error's type says "unreachable" only when there is a store it could not reach.
    cause = _cause_of(exc, by_type=store is not None)
    if cause in _NETWORK_CAUSES and store is not None and store.startswith("sqlite:"):
        cause = None  # a local database has no network: whatever said "connection" meant something else
    if cause is None:
        return Failure(None, first_line(exc))
    detail = _os_reason(exc) if cause is Cause.UNREACHABLE else ""
    where = store_label(store)
    if cause in (Cause.DISK_FULL, Cause.READ_ONLY):
        # The file the OS refused (an artifact, the database's journal) says more than the store's name.
        where = next((name for name in map(_os_filename, _chain(exc)) if name), where)
    return Failure(cause, _cause_line(cause, where, store, detail))


def one_line(exc: BaseException, store: str | None = None) -> str:
    """One line for the user naming the real cause of `exc` (and the store, when given)."""
    return describe(exc, store).line


class StoreProblem(Exception):
    """A failure already put in one line (e.g. a half-migrated store that could not be repaired)."""

    def __init__(self, line: str, cause: Cause | None = None) -> None:
        super().__init__(line)
        self.cause = cause


QUIET_LOGGERS = ("mlflow", "alembic", "sqlalchemy", "huey", "urllib3")
"""The loggers that print on the command line while claude-tui talks to a store: MLflow configures its
own handler at import, logs whole SQL statements and tracebacks at ERROR (11 KB for one full disk), and
urllib3 warns on every retry. claude-tui's one line per failure says what matters."""


def silence_store_logging() -> None:
    """Keep MLflow, alembic, SQLAlchemy and urllib3 off the terminal (for the command line).

    Importing mlflow installs its own handler and level on its logger. When mlflow is loaded already its
    level is raised here; when not, `MLFLOW_LOGGING_LEVEL=CRITICAL` makes its import do it (importing it
    now would cost a command with nothing to log ~2 s).
    """
    import os
    import sys
    import warnings

    if "mlflow" not in sys.modules:
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "CRITICAL")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    warnings.filterwarnings("ignore", module=r"mlflow(\.|$)")
    warnings.filterwarnings("ignore", module=r"alembic(\.|$)")
