"""Whether a tracking store can take a session: `store_reachable` (at the end, in `sync`) and `store_problem`
(at the start: a store that can never work refuses the session before its program starts).

Light: the standard library and `tracking.errors`/`tracking.store` only (no mlflow), since the UI calls it
at the end of a session and the command line before the program starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from claude_tui.tracking.errors import describe, one_line, store_label
from claude_tui.tracking.store import resolve_tracking_uri, sqlite_path

REACHABLE_TIMEOUT = 3.0
"""Seconds `store_reachable` waits for an HTTP tracking server."""


@dataclass(frozen=True)
class Reachability:
    """Whether a store answers (truthy when it does), and why not in one line."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


def store_reachable(uri: str | None) -> Reachability:
    """Whether the tracking store answers; `if store_reachable(uri): ...`, `.reason` says why not.

    HTTP servers are asked for `/health`; a local sqlite store is reachable when its folder can be created
    and written. Other schemes are assumed reachable (logging will say otherwise).
    """
    uri = resolve_tracking_uri(uri)
    if uri.startswith(("http://", "https://")):
        import urllib.error  # here, not at the top: `run` checks a local store before Claude's first frame
        import urllib.request

        try:
            with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=REACHABLE_TIMEOUT) as reply:
                if reply.status < 500:
                    return Reachability(True)
                return Reachability(False, f"{store_label(uri)} answered HTTP {reply.status}")
        except urllib.error.HTTPError as exc:
            # Some proxies have no /health, but they answered: the store itself will tell.
            return Reachability(exc.code < 500, f"{store_label(uri)} answered HTTP {exc.code}")
        except (OSError, ValueError) as exc:
            return Reachability(False, one_line(exc, uri))
    db = sqlite_path(uri)
    if db is not None:
        folder = db.parent if db.parent != Path("") else Path.cwd()
        if not folder.is_dir():
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                failure = describe(exc, uri)
                cause = f"{failure.cause.value}: " if failure.cause else ""
                reason = f" ({exc.strerror.lower()})" if exc.strerror and not failure.cause else ""
                return Reachability(False, f"{cause}cannot create the store's folder {folder}{reason}")
        if not os.access(folder, os.W_OK):
            return Reachability(False, f"read-only: cannot write the store's folder {folder}")
    return Reachability(True)


def store_problem(uri: str | None) -> str | None:
    """Why no session could ever be logged to `uri`, in one line; None when it may be.

    An unknown scheme (not MLflow's own, nor a plugin's) and a sqlite store whose database or folder cannot be
    written are problems; a server that does not answer is not (it may come back before the session ends).
    """
    from claude_tui.paths import known_scheme, uri_scheme

    uri = resolve_tracking_uri(uri)
    scheme = uri_scheme(uri) or ""
    if not known_scheme(uri) and not _plugin_scheme(scheme):
        known = "a path, sqlite:///, file://, http(s)://, postgresql://, mysql://, mssql:// or databricks"
        return f"{store_label(uri)}: unknown tracking URI scheme {scheme!r} (MLflow takes {known})"
    db = sqlite_path(uri)
    if db is None:
        return None
    reachable = store_reachable(uri)  # a local store: only its folder is looked at
    if not reachable:
        return reachable.reason
    if db.exists() and not os.access(db, os.W_OK):
        return f"read-only: cannot write the store {db}"
    return None


def _plugin_scheme(scheme: str) -> bool:
    """Whether an installed MLflow plugin provides a tracking store for `scheme`."""
    from importlib.metadata import entry_points

    return any(entry.name == scheme for entry in entry_points(group="mlflow.tracking_store"))
