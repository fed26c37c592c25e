"""User and organisation settings, and alert thresholds.

Settings come from two TOML files: the organisation's (`$CLAUDE_TUI_SYSTEM_CONFIG`, else
`/etc/claude-tui/config.toml`), read first, then the user's (`$CLAUDE_TUI_CONFIG`, else
`<user config dir>/claude-tui/config.toml`); command-line options override both, except the keys the
organisation's file lists in `locked`. Pure: no textual, no mlflow.

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

The organisation's file takes the same keys, and two of its own::

    tracking_uri = "https://mlflow.team.example"
    content = "metadata"        # no transcripts, recordings or diffs; no tool inputs/outputs in traces
    redact = true
    required_tags = ["team"]    # every session must carry these (--tag team=... or [tags] team = ...)
    locked = ["tracking_uri", "redact", "content"]   # the user's file and flags cannot change these
    [tags]                      # on every run
    org = "payments"
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
    content: str = "full"
    """What leaves the machine: `full`, or `metadata` (no transcripts, recordings or diffs are uploaded and
    tool inputs and outputs are dropped from traces; counts, timings, tokens and cost remain)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags every run carries (`[tags]` of either file; `--tag` adds to them)."""
    required_tags: list[str] = field(default_factory=list)
    """Tag keys every session must carry (the organisation's `required_tags`)."""
    locked: dict[str, Path] = field(default_factory=dict)
    """Keys the organisation's file locked, and that file (named in the one line that refuses a change)."""

    def check_option(self, key: str, value: object, option: str) -> None:
        """Refuse a command-line `option` that would change the locked setting `key` to `value`.

        Raises:
            ConfigError: one line naming the option, the key, its locked value and the file that locks it.
        """
        if key in self.locked and value is not None and value != getattr(self, key):
            raise ConfigError(
                f"{option}: {key} is locked to {getattr(self, key)!r} by {self.locked[key]} "
                "(the organisation's settings)"
            )

    def check_tags(self, tags: Mapping[str, str]) -> None:
        """Refuse `--tag`s that change a locked organisation tag, or a session missing a required tag.

        Raises:
            ConfigError: one line saying which tag and how to give it.
        """
        if "tags" in self.locked:
            for key, value in tags.items():
                if key in self.tags and self.tags[key] != value:
                    raise ConfigError(
                        f"--tag {key}: the tag is locked to {self.tags[key]!r} by {self.locked['tags']} "
                        "(the organisation's settings)"
                    )
        missing = [key for key in self.required_tags if not ({**self.tags, **tags}.get(key) or "").strip()]
        if missing:
            raise ConfigError(
                f"the organisation's settings require the tag {missing[0]!r}: give --tag {missing[0]}=VALUE, "
                f"or set it under [tags] in {config_path()}"
            )


def config_path() -> Path:
    """The settings file location (it need not exist)."""
    override = os.environ.get("CLAUDE_TUI_CONFIG")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("claude-tui", appauthor=False)) / "config.toml"


def system_config_path() -> Path:
    """The organisation's settings file (it need not exist): `$CLAUDE_TUI_SYSTEM_CONFIG`, else
    `/etc/claude-tui/config.toml`."""
    override = os.environ.get("CLAUDE_TUI_SYSTEM_CONFIG")
    return Path(override).expanduser() if override else Path("/etc/claude-tui/config.toml")


def store_choice(tracking_uri: str | None, experiment: str | None) -> tuple[str | None, str]:
    """The store and experiment a command uses: its options, else the settings files' (else the default
    experiment; a None store means `$MLFLOW_TRACKING_URI`, else the embedded one).

    Raises:
        ConfigError: an option would change a key the organisation's file locked.
    """
    settings = load_settings()
    settings.check_option("tracking_uri", tracking_uri, "--tracking-uri")
    settings.check_option("experiment", experiment, "--experiment")
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
    "content",
    "tags",
)
"""Every top-level key a settings file may hold."""
SYSTEM_KEYS = ("required_tags", "locked")
"""The keys only the organisation's file may hold."""
LOCKABLE_KEYS = (
    "tracking_uri",
    "experiment",
    "redact",
    "content",
    "user",
    "worktree_dir",
    "tags",
    "hooks",
    "notify",
)
"""The keys `locked` may name."""
CONTENT_LEVELS = ("full", "metadata")

_FileKey = tuple[Path, int, int] | None
_CACHE: dict[tuple[_FileKey, _FileKey], Settings] = {}


def load_settings(path: Path | None = None, *, system_path: Path | None = None) -> Settings:
    """Read and check the organisation's settings file, then the user's; a missing file gives the defaults.

    Every command reads them through here (the command line checks them before any command runs), so a file
    one command rejects, all reject. Files read once are not parsed again while they are unchanged.

    Raises:
        ConfigError: a file cannot be read or parsed, a key is unknown or of the wrong type, or the user's
            file changes a key the organisation's locked; the message is one line naming the file and the key.
    """
    system_path = system_path or system_config_path()
    path = path or config_path()
    system_key, system_text = _read_file(system_path)
    user_key, user_text = _read_file(path)
    if (system_key, user_key) in _CACHE:
        return _CACHE[system_key, user_key]
    settings = Settings()
    if system_text is not None:
        _apply(settings, _parse(system_text, system_path), system_path, system=True)
    if user_text is not None:
        user = _parse(user_text, path)
        _apply(Settings(), user, path, system=False)  # a wrong value is named as such, locked or not
        for key in settings.locked:
            if key in user and _changes(settings, key, user[key]):
                raise ConfigError(
                    f"{path}: {key} is locked by {settings.locked[key]} (the organisation's settings); "
                    "remove it from your file"
                )
        _apply(settings, user, path, system=False)
    _CACHE[system_key, user_key] = settings
    return settings


def _changes(settings: Settings, key: str, value: object) -> bool:
    """Whether the user's `value` for `key` differs from the organisation's (same values are harmless)."""
    if key == "tags":
        return isinstance(value, dict) and any(
            k in settings.tags and settings.tags[k] != v for k, v in value.items()
        )
    return bool(value != getattr(settings, key))


def _read_file(path: Path) -> tuple[_FileKey, str | None]:
    """The file's identity (path, mtime, size) and text; (None, None) when there is no file."""
    try:
        info = path.stat()
        return (path, info.st_mtime_ns, info.st_size), path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def _parse(text: str, path: Path) -> dict[str, object]:
    import tomllib  # only when there is a file: a session's start does not wait for the parser (~3 ms)

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def _apply(settings: Settings, data: dict[str, object], path: Path, *, system: bool) -> None:
    """Check `data` (one file's keys) and set them on `settings`."""
    known = (*SETTINGS_KEYS, *SYSTEM_KEYS) if system else SETTINGS_KEYS
    unknown = [key for key in data if key not in known]
    if unknown:
        only = " (only the organisation's file sets it)" if unknown[0] in SYSTEM_KEYS else ""
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r}{only} (known: {', '.join(SETTINGS_KEYS)})")
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
    content = data.get("content")
    if content is not None:
        if content not in CONTENT_LEVELS:
            raise ConfigError(f'{path}: content must be "full" or "metadata", got {content!r}')
        settings.content = str(content)
    tags = data.get("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise ConfigError(f'{path}: [tags] must be a table of KEY = "value"')
    settings.tags.update(tags)
    required = data.get("required_tags", [])
    if not isinstance(required, list) or not all(isinstance(k, str) and k.strip() for k in required):
        raise ConfigError(f'{path}: required_tags must be a list of tag keys, e.g. ["team"]')
    settings.required_tags.extend(required)
    locked = data.get("locked", [])
    if not isinstance(locked, list) or not all(isinstance(k, str) for k in locked):
        raise ConfigError(f'{path}: locked must be a list of keys, e.g. ["tracking_uri", "content"]')
    for key in locked:
        if key not in LOCKABLE_KEYS:
            raise ConfigError(
                f"{path}: locked: {key!r} cannot be locked (lockable: {', '.join(LOCKABLE_KEYS)})"
            )
        settings.locked[key] = path
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
