"""User settings and alert thresholds.

Settings come from a TOML file (`$CLAUDE_TUI_CONFIG`, else `<user config dir>/claude-tui/config.toml`) and are
overridden by command-line options. Pure: no textual, no mlflow.

Example `config.toml`::

    tracking_uri = "http://127.0.0.1:5000"   # default: $MLFLOW_TRACKING_URI, else the embedded store
    experiment = "claude-sessions"
    redact = true
    worktree_dir = "{repo}/../{name}.worktrees"   # where --worktree puts a session's checkout
    notify = true                             # ring the terminal and notify when Claude waits for you
    notify_command = 'notify-send claude-tui "$CLAUDE_TUI_REASON"'   # also run this (as --notify-command)
    hooks = true                              # follow the CLI through hooks (false: its transcripts only)

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
    worktree_dir: str | None = None
    """Where `--worktree` puts a session's checkout (`worktree.DEFAULT_FOLDER` when None)."""
    user: str | None = None
    """Who sessions are attributed to (`mlflow.user`); default git's `user.email`, else the login name."""
    notify: bool = True
    """Ring the terminal and send it a desktop notification when Claude waits for you."""
    notify_command: str | None = None
    """A shell command run when Claude waits for you (`$CLAUDE_TUI_REASON`, `$CLAUDE_TUI_SESSION_ID`, ...)."""
    hooks: bool = True
    """Follow the CLI's lifecycle through hooks registered for the tracked process (off: transcripts only)."""


def config_path() -> Path:
    """The settings file location (it need not exist)."""
    override = os.environ.get("CLAUDE_TUI_CONFIG")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("claude-tui", appauthor=False)) / "config.toml"


def store_choice(tracking_uri: str | None, experiment: str | None) -> tuple[str | None, str]:
    """The store and experiment a command uses: its options, else the settings file's (else the default
    experiment; a None store means `$MLFLOW_TRACKING_URI`, else the embedded one)."""
    settings = load_settings()
    return tracking_uri or settings.tracking_uri, experiment or settings.experiment


SETTINGS_KEYS = (
    "tracking_uri",
    "experiment",
    "redact",
    "worktree_dir",
    "notify",
    "notify_command",
    "hooks",
    "alerts",
    "user",
)
"""Every top-level key a settings file may hold."""

_CACHE: dict[tuple[Path, int, int], Settings] = {}


def load_settings(path: Path | None = None) -> Settings:
    """Read and check the settings file; a missing file gives the defaults.

    Every command reads it through here (the command line checks it before any command runs), so a file one
    command rejects, all reject. A file read once is not parsed again while it is unchanged.

    Raises:
        ConfigError: the file cannot be read or parsed, or a key is unknown or of the wrong type; the message
            is one line naming the file and the key.
    """
    path = path or config_path()
    try:
        info = path.stat()
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    key = (path, info.st_mtime_ns, info.st_size)
    if key in _CACHE:
        return _CACHE[key]
    import tomllib  # only when there is a file: a session's start does not wait for the parser (~3 ms)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    settings = _settings_from(data, path)
    _CACHE[key] = settings
    return settings


def _settings_from(data: dict[str, object], path: Path) -> Settings:
    unknown = [key for key in data if key not in SETTINGS_KEYS]
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(SETTINGS_KEYS)})")
    settings = Settings()
    tracking_uri = data.get("tracking_uri")
    if tracking_uri is not None:
        if not isinstance(tracking_uri, str) or not tracking_uri.strip():
            raise ConfigError(f"{path}: tracking_uri must be a URI in quotes, got {tracking_uri!r}")
        settings.tracking_uri = tracking_uri
    experiment = data.get("experiment")
    if experiment is not None:
        if not isinstance(experiment, str):
            raise ConfigError(f"{path}: experiment must be a name in quotes, got {experiment!r}")
        if not experiment.strip():  # (a name longer than MLflow allows is refused where it is used)
            raise ConfigError(f"{path}: experiment: the experiment name is empty")
        settings.experiment = experiment
    redact = data.get("redact")
    if redact is not None:
        if not isinstance(redact, bool):
            raise ConfigError(f"{path}: redact must be true or false (no quotes), got {redact!r}")
        settings.redact = redact
    worktree_dir = data.get("worktree_dir")
    if worktree_dir is not None:
        if not isinstance(worktree_dir, str) or not worktree_dir.strip():
            raise ConfigError(f'{path}: worktree_dir must be a folder in quotes, e.g. "~/worktrees/{{name}}"')
        settings.worktree_dir = worktree_dir
    user = data.get("user")
    if user is not None:
        if not isinstance(user, str) or not user.strip():
            raise ConfigError(f"{path}: user must be a name or email in quotes, got {user!r}")
        settings.user = user.strip()
    for key in ("notify", "hooks"):
        value = data.get(key)
        if value is not None:
            if not isinstance(value, bool):
                raise ConfigError(f"{path}: {key} must be true or false (no quotes), got {value!r}")
            setattr(settings, key, value)
    notify_command = data.get("notify_command")
    if notify_command is not None:
        if not isinstance(notify_command, str):
            raise ConfigError(f"{path}: notify_command must be a command in quotes, got {notify_command!r}")
        settings.notify_command = notify_command.strip() or None
    alerts = data.get("alerts", {})
    if not isinstance(alerts, dict):
        raise ConfigError(f"{path}: [alerts] must be a table of NAME = NUMBER")
    for name, value in alerts.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{path}: alert {name!r} needs a number, got {value!r}")
        try:
            settings.alerts.append(Alert.parse(f"{name}>={value}"))
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    return settings
