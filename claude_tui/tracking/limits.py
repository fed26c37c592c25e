"""MLflow's limits on what a run may hold, checked without importing mlflow.

A key MLflow refuses fails the whole `log_batch`, so one bad `--tag` used to fail the session's logging and
every later sync. Keys are checked at start (`key_problem`: the command exits 2 with one line) and, for
spools written before that check or by hand, fitted at log time (`fit_tags`, `fit_params`, `fit_metric_key`):
an invalid key is dropped and a too long value cut, each with a warning, and the run is logged. The numbers
are MLflow's own (`mlflow.utils.validation`); `tests/unit/tracking/test_tracking_limits.py` keeps them equal.
Pure: stdlib only.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping

KEY_MAX = 250
"""Characters in a tag, param or metric key (`MAX_ENTITY_KEY_LENGTH`)."""
TAG_VALUE_MAX = 8000
"""Characters in a tag value (`MAX_TAG_VAL_LENGTH`)."""
PARAM_VALUE_MAX = 6000
"""Characters in a param value (`MAX_PARAM_VAL_LENGTH`)."""
EXPERIMENT_NAME_MAX = 500
"""Characters in an experiment name (`MAX_EXPERIMENT_NAME_LENGTH`)."""

_KEY_CHARS = re.compile(r"^[/\w.\- :]*$")
"""What MLflow allows in a key on POSIX: letters, digits, `_`, `-`, `.`, `:`, `/` and spaces."""
ELLIPSIS = "…"


def _show(key: str) -> str:
    return repr(key if len(key) <= 40 else key[:37] + "...")


def key_problem(key: str) -> str | None:
    """Why MLflow would refuse `key` as a tag, param or metric key, in a few words; None when it is fine."""
    if not key:
        return "the key is empty"
    if len(key) > KEY_MAX:
        return f"the key {_show(key)} is {len(key)} characters long; MLflow allows {KEY_MAX}"
    if not _KEY_CHARS.match(key):
        return f"the key {_show(key)} may only hold letters, digits, spaces and _ - . : /"
    normal = posixpath.normpath(key)
    if normal != key or normal == "." or normal.startswith(("..", "/")):
        return f"the key {_show(key)} reads as a file path that names another one ({normal!r})"
    return None


def experiment_problem(name: str) -> str | None:
    """Why MLflow would refuse `name` as an experiment name; None when it is fine."""
    if not name.strip():
        return "the experiment name is empty"
    if len(name) > EXPERIMENT_NAME_MAX:
        return f"the experiment name is {len(name)} characters long; MLflow allows {EXPERIMENT_NAME_MAX}"
    return None


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + ELLIPSIS


def _fit(kind: str, items: Mapping[str, str], limit: int, warnings: list[str]) -> dict[str, str]:
    fitted: dict[str, str] = {}
    for key, value in items.items():
        problem = key_problem(key)
        if problem is not None:
            warnings.append(f"{kind} dropped: {problem}")
            continue
        if len(value) > limit:
            warnings.append(f"{kind} {_show(key)} cut from {len(value)} to {limit} characters")
            value = _cut(value, limit)
        fitted[key] = value
    return fitted


def fit_tags(tags: Mapping[str, str], warnings: list[str]) -> dict[str, str]:
    """The tags MLflow accepts: invalid keys dropped, long values cut; a warning appended for each."""
    return _fit("tag", tags, TAG_VALUE_MAX, warnings)


def fit_params(params: Mapping[str, str], warnings: list[str]) -> dict[str, str]:
    """The params MLflow accepts: invalid keys dropped, long values cut; a warning appended for each."""
    return _fit("param", params, PARAM_VALUE_MAX, warnings)


def fit_metric_key(key: str) -> str:
    """A metric key MLflow accepts: other characters become `_`, a long key is cut (keys are ours, built
    from tool names, which the user's MCP servers choose)."""
    key = "".join(c if c.isalnum() or c in "_-./ :" else "_" for c in key)[:KEY_MAX]
    # Cut first: making it a path that names only itself never makes it longer.
    parts = [part if part not in (".", "..") else "_" for part in key.split("/") if part]
    return "/".join(parts) or "_"
