"""Turning an exception into the one line the user sees: one home for it (it had four copies).

Pure (stdlib only), so the app, the logger, sync and import all use it without loading anything.
"""

from __future__ import annotations

__all__ = ["MAX_LINE", "one_line"]

MAX_LINE = 300
"""Characters kept of the message."""


def one_line(exc: BaseException) -> str:
    """`ExceptionType: first line of its message`, at most `MAX_LINE` characters; the type alone when the
    message is empty. Never raises (a broken `__str__` gives the type alone)."""
    try:
        lines = str(exc).strip().splitlines()
    except Exception:  # an exception whose __str__ fails still has a name
        lines = []
    first = lines[0].strip() if lines else ""
    name = type(exc).__name__
    return f"{name}: {first}"[:MAX_LINE] if first else name
