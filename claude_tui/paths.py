"""Where claude-tui keeps its files, and which MLflow store it talks to by default.

Everything lives under one data directory (platformdirs' user data dir, or `$CLAUDE_TUI_HOME` when set, which
tests use to stay out of the real home). Pure: no textual, no mlflow.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_EXPERIMENT = "claude-sessions"
"""The MLflow experiment sessions are logged to unless `--experiment` says otherwise."""


def data_dir() -> Path:
    """The claude-tui data directory (created 0700 on first use)."""
    override = os.environ.get("CLAUDE_TUI_HOME")
    if override:
        path = Path(override).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("claude-tui", appauthor=False))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def spool_root() -> Path:
    """The folder that holds one spool folder per session until MLflow has confirmed it."""
    path = data_dir() / "spool"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def default_tracking_uri() -> str:
    """`$MLFLOW_TRACKING_URI` if set, else the embedded sqlite store in the data directory."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return f"sqlite:///{data_dir() / 'mlflow.db'}"


TRACKING_SCHEMES = frozenset(
    {"file", "sqlite", "http", "https", "postgresql", "mysql", "mssql", "databricks", "databricks-uc", "uc"}
)
"""The tracking URI schemes MLflow itself knows (a database scheme may name its driver: `mysql+pymysql`)."""


def uri_scheme(uri: str) -> str | None:
    """The scheme of a tracking URI (`sqlite`, `http`, `mysql+pymysql`), None for a plain path."""
    if "://" not in uri and not uri.startswith("databricks"):
        return None
    return uri.split(":", 1)[0].lower()


def known_scheme(uri: str) -> bool:
    """Whether MLflow itself takes a tracking URI of this form (a plain path is a sqlite store)."""
    scheme = uri_scheme(uri)
    return scheme is None or scheme.split("+", 1)[0] in TRACKING_SCHEMES


def default_artifact_root() -> Path:
    """Where runs in the embedded store keep their artifacts (beside `mlflow.db`)."""
    return data_dir() / "artifacts"


def own_command() -> str:
    """How the user's shell runs this claude-tui: `claude-tui` when that name on PATH is this one (e.g. after
    `make install`), else the full path of the venv's script, which works from anywhere."""
    import shutil
    import sys

    script = Path(sys.executable).parent / "claude-tui"
    found = shutil.which("claude-tui")
    if found is not None and script.exists() and os.path.realpath(found) == os.path.realpath(script):
        return "claude-tui"
    if script.exists():
        return str(script)
    return "claude-tui" if found is not None else f"{sys.executable} -m claude_tui"
