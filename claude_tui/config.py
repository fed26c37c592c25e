"""User settings and alert thresholds.

Settings come from a TOML file (`$CLAUDE_TUI_CONFIG`, else `<user config dir>/claude-tui/config.toml`) and are
overridden by command-line options. Pure: no textual, no mlflow.

Example `config.toml`::

    tracking_uri = "http://127.0.0.1:5000"   # default: $MLFLOW_TRACKING_URI, else the embedded store
    experiment = "claude-sessions"
    redact = true

    [alerts]                                  # raise a notification once a value crosses its threshold
    errors = 3                                # same as --alert errors>=3
    cost = 2.5                                # USD
    duration = 3600                           # seconds
"""

from __future__ import annotations

import operator
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Alert names users write, and the stat each one watches. `duration` is wall-clock seconds.
ALERT_METRICS: dict[str, str] = {
    "errors": "errors_encountered",
    "cost": "cost_usd",
    "duration": "duration_seconds",
    "tools": "tool_uses",
    "commands": "commands_executed",
    "tokens": "total_tokens",
}

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "=": operator.eq,
}
_ALERT_RE = re.compile(r"^\s*([a-z_]+)\s*(>=|<=|>|<|=)\s*([0-9]+(?:\.[0-9]+)?)\s*$")


class ConfigError(ValueError):
    """A settings file or option that cannot be understood; the message is for the user."""


@dataclass(frozen=True)
class Alert:
    """A threshold on one session stat, e.g. `errors>=3`."""

    name: str
    """What the user wrote (`errors`, `cost`, `duration`, ...)."""
    op: str
    threshold: float

    @property
    def metric(self) -> str:
        """The stat name this alert watches."""
        return ALERT_METRICS[self.name]

    def crossed(self, value: float | None) -> bool:
        """Whether `value` is past the threshold (an unknown value never is)."""
        return value is not None and _OPERATORS[self.op](value, self.threshold)

    def __str__(self) -> str:
        threshold = int(self.threshold) if self.threshold.is_integer() else self.threshold
        return f"{self.name}{self.op}{threshold}"

    @classmethod
    def parse(cls, text: str) -> Alert:
        """Parse `NAME OP NUMBER` (`errors>=3`, `cost>2.5`); a bare config value means `>=`."""
        match = _ALERT_RE.match(text)
        if not match:
            raise ConfigError(f"cannot read alert {text!r}: expected NAME>=NUMBER, e.g. errors>=3")
        name, op, number = match.groups()
        if name not in ALERT_METRICS:
            raise ConfigError(f"unknown alert {name!r}: choose from {', '.join(ALERT_METRICS)}")
        return cls(name, op, float(number))


class AlertMonitor:
    """Remembers which alerts have fired so each one notifies once per session."""

    def __init__(self, alerts: Iterable[Alert]) -> None:
        self.alerts = list(alerts)
        self.fired: set[Alert] = set()

    def check(self, values: Mapping[str, float | None]) -> list[Alert]:
        """Return the alerts that crossed their threshold since the last call."""
        newly = [a for a in self.alerts if a not in self.fired and a.crossed(values.get(a.metric))]
        self.fired.update(newly)
        return newly

    def fired_metrics(self) -> set[str]:
        """Stat names with at least one fired alert (the sidebar marks them)."""
        return {a.metric for a in self.fired}


@dataclass
class Settings:
    """Everything configurable, after the file and the command line are merged."""

    tracking_uri: str | None = None
    experiment: str = "claude-sessions"
    redact: bool = True
    alerts: list[Alert] = field(default_factory=list)


def config_path() -> Path:
    """The settings file location (it need not exist)."""
    override = os.environ.get("CLAUDE_TUI_CONFIG")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("claude-tui", appauthor=False)) / "config.toml"


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file; a missing file gives the defaults, a broken one a `ConfigError`."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    import tomllib  # only when there is a file: a session's start does not wait for the parser (~3 ms)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    settings = Settings()
    if isinstance(data.get("tracking_uri"), str):
        settings.tracking_uri = data["tracking_uri"]
    if isinstance(data.get("experiment"), str):
        settings.experiment = data["experiment"]
    if isinstance(data.get("redact"), bool):
        settings.redact = data["redact"]
    alerts = data.get("alerts", {})
    if not isinstance(alerts, dict):
        raise ConfigError(f"{path}: [alerts] must be a table of NAME = NUMBER")
    for name, value in alerts.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{path}: alert {name!r} needs a number, got {value!r}")
        settings.alerts.append(Alert.parse(f"{name}>={value}"))
    return settings
