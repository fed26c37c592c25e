"""Claude Code's layout on disk and on the command line: one home for what claude-tui knows about the CLI.

- the config dir (`$CLAUDE_CONFIG_DIR`, else `~/.claude`) and its `projects/<folder>/<session-id>.jsonl`
  transcripts, each with an optional `<session-id>/subagents/agent-<id>.jsonl` folder of sub-agent
  transcripts;
- the project folder a work dir's sessions go to (`project_dir_name`);
- finding a transcript by session id, and telling a sub-agent file from a session;
- the `claude` program: which commands are Claude Code, where the pinned CLI is, the argv that gives a
  session a known id, and how its arguments begin the first conversation (new, resumed, forked).

Cheap to import: the entry point (`launch.py`) uses it before Claude's first frame, so only `os` is imported
at module level (pathlib loads inside the functions that need it; `which` looks a program up without
`shutil`).
"""

from __future__ import annotations

import os

from claude_tui.shell_integration import shell_args

TYPE_CHECKING = False
if TYPE_CHECKING:  # not `typing.TYPE_CHECKING`: importing `typing` takes ~3 ms before Claude's spawn
    from collections.abc import Mapping, Sequence
    from pathlib import Path
    from typing import Literal

CLAUDE_NAMES = frozenset({"claude", "claude.exe"})
"""Program names that are Claude Code (`claude.exe` is what the npm package's postinstall copies)."""

NPM_PACKAGE = "@anthropic-ai/claude-code"
NPM_INSTALL_HINT = f"npm install -g {NPM_PACKAGE}"
"""How to install the CLI, for the messages that say it is missing."""

CONFIG_DIR_ENV = "CLAUDE_CONFIG_DIR"
"""Moves `~/.claude/` (and `~/.claude.json`) elsewhere; tests and the demo set it."""

PROJECTS = "projects"
"""The config dir's folder of per-work-dir transcript folders."""

SUBAGENTS = "subagents"
"""Sub-agent transcripts live in `<session-id>/subagents/` beside `<session-id>.jsonl`."""

SUBAGENT_DEPTH = 4
"""How deep sub-agent transcripts sit below `subagents/`: 2.1.328 writes those of a Workflow run to
`subagents/workflows/<run id>/agent-<id>.jsonl` (depth 2); older versions wrote `subagents/*.jsonl`."""

TRANSCRIPT_SUFFIX = ".jsonl"

PROJECT_DIR_NAME_ENV = "CLAUDE_CODE_PROJECT_DIR_NAME"
"""With `$CLAUDE_CONFIG_DIR` set, the CLI puts every session in `projects/<this name>/` instead (when the
name is 1-64 of `A-Za-z0-9_-` and not a Windows device name)."""

MAX_FOLDER_CHARS = 200
"""A project folder name longer than this is cut and given a hash of the whole path."""

ENV_CLAUDE_BIN = "CLAUDE_TUI_CLAUDE_BIN"
"""Environment variable naming the `claude` binary `find_claude_binary` returns, checked first."""


# -- the program -----------------------------------------------------------------------------------------


def new_session_id() -> str:
    """A random (version 4) UUID as text, without importing `uuid` (which imports `platform`)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def is_claude(command: str) -> bool:
    """Whether the program is Claude Code (it then gets `--session-id` and is tracked by transcript)."""
    return os.path.basename(command) in CLAUDE_NAMES


SESSION_ID_FLAG = "--session-id"
RESUME_FLAGS = frozenset({"--resume", "-r"})
CONTINUE_FLAGS = frozenset({"--continue", "-c"})
FORK_FLAG = "--fork-session"


def _options(args: Sequence[str]) -> list[str]:
    """The words before `--` (after it comes the prompt, whatever it looks like)."""
    words = list(args)
    return words[: words.index("--")] if "--" in words else words


def _looks_like_id(value: str) -> bool:
    parts = value.split("-")
    hexdigits = "0123456789abcdefABCDEF"
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(c in hexdigits for c in "".join(parts))


def conversation_start(args: Sequence[str]) -> tuple[Literal["new", "resume", "fork"], str | None]:
    """How `claude ARGS` begins its first conversation, and the earlier conversation it names.

    `new` (a fresh conversation), `resume` (`--resume [ID]`, `-r`, `--continue`, `-c`: an earlier
    conversation goes on in its own transcript) or `fork` (the same with `--fork-session`: a new conversation
    that starts with a copy of the earlier one). The id is the one `--resume` names (None for `--continue`
    and for the picker, which `--resume` alone or with a search term opens).
    """
    words = _options(args)
    resumed = False
    target: str | None = None
    for i, word in enumerate(words):
        name, eq, value = word.partition("=")
        if name in RESUME_FLAGS:
            resumed = True
            following = value if eq else words[i + 1] if i + 1 < len(words) else ""
            if _looks_like_id(following):
                target = following
        elif word in CONTINUE_FLAGS:
            resumed = True
    if not resumed:
        return "new", None
    return ("fork" if FORK_FLAG in words else "resume"), target


def given_session_id(args: Sequence[str]) -> str | None:
    """The `--session-id` the person gave Claude themselves, if any."""
    words = _options(args)
    for i, word in enumerate(words):
        name, eq, value = word.partition("=")
        if name == SESSION_ID_FLAG:
            return value if eq else words[i + 1] if i + 1 < len(words) else None
    return None


def program_argv(
    program: str, *, command: str, session_id: str, args: Sequence[str], prompt: str | None
) -> list[str]:
    """The argv to spawn: Claude gets a fixed `--session-id` so its transcript can be found.

    Not when it resumes a conversation (`--resume`, `--continue`: the CLI refuses a new id for those unless
    it forks, and the conversation keeps its own), nor when the person gave one.
    """
    claude = is_claude(command)
    argv = [program]
    if claude:
        if conversation_start(args)[0] != "resume" and given_session_id(args) is None:
            argv += [SESSION_ID_FLAG, session_id]
    else:
        argv += shell_args(command, [*args, *([prompt] if prompt else [])])  # bash's OSC 133 marks
    argv += args
    if prompt:
        # Variadic options such as --allowedTools would swallow a trailing prompt; `--` ends them.
        if claude and "--" not in args:
            argv.append("--")
        argv.append(prompt)
    return argv


CONVERSATION_FLAGS = frozenset({"-c", "--continue", "--fork-session"})
CONVERSATION_OPTIONS = frozenset({"-r", "--resume", "--session-id", "--from-pr"})
"""Claude's arguments that name a conversation (flags, and options with a value that may be left out): a
new session started like an earlier one leaves them out."""


def without_conversation_args(args: Sequence[str]) -> list[str]:
    """`args` less those that name a conversation (`--resume ID`, `--continue`, `--session-id ID`, ...)."""
    kept: list[str] = []
    skip_value = False
    for arg in args:
        if skip_value:
            skip_value = False
            if not arg.startswith("-"):
                continue
        name = arg.split("=", 1)[0]
        if name in CONVERSATION_FLAGS or name in CONVERSATION_OPTIONS:
            skip_value = name in CONVERSATION_OPTIONS and "=" not in arg
            continue
        kept.append(arg)
    return kept


def find_claude_binary() -> Path | None:
    """The `claude` the demo and the tests run: `$CLAUDE_TUI_CLAUDE_BIN`, else the pinned CLI, else PATH's.

    The pinned CLI is the one `make setup` installs into the source tree's `.claude-cli/` (the demo and the
    tests run it).
    """
    from pathlib import Path

    override = os.environ.get(ENV_CLAUDE_BIN)
    if override:
        path = Path(override).expanduser()
        return path if path.is_file() and os.access(path, os.X_OK) else None
    pinned = pinned_cli()
    if pinned is not None:
        return Path(pinned)
    found = which("claude")
    return Path(found) if found else None


def which(name: str, path: str | None = None) -> str | None:
    """`shutil.which(name, path=path)` for a name without a slash on POSIX (`path` None: `$PATH`, else
    `os.defpath`), without importing `shutil` (which imports bz2, lzma and zlib: ~3 ms, and this module is
    loaded on the way to Claude's spawn)."""
    if path is None:
        path = os.environ.get("PATH", os.defpath)
    seen: set[str] = set()
    for folder in path.split(os.pathsep) if path else ():
        if folder in seen:
            continue
        seen.add(folder)
        candidate = os.path.join(folder, name)
        if os.path.exists(candidate) and os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return candidate
    return None


def pinned_cli() -> str | None:
    """The Claude Code CLI `make` installed into the source tree's `.claude-cli/`, if it is there."""
    root = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    path = os.path.join(root, ".claude-cli", "node_modules", ".bin", "claude")
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def fallback_program(command: str) -> str | None:
    """Where to find `command` when it is not on PATH: a bare `claude` is the pinned CLI that `make` installed
    (so `claude-tui` from the venv, or from `make install`'s link, runs it with nothing added to PATH)."""
    return pinned_cli() if command in CLAUDE_NAMES else None


# -- the config dir and its transcripts ------------------------------------------------------------------


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """Claude Code's config dir: `$CLAUDE_CONFIG_DIR` (of `env`, default this process's), else `~/.claude`."""
    from pathlib import Path

    value = (os.environ if env is None else env).get(CONFIG_DIR_ENV)
    return Path(value).expanduser() if value else Path.home() / ".claude"


def project_dir_name(work_dir: str | os.PathLike[str]) -> str:
    """The `projects/<name>` folder the CLI keeps the sessions of `work_dir` in, named as 2.1.328 does.

    The CLI runs in the real path of its work dir (symlinks resolved, as `os.getcwd()` gives it) and
    names the folder after it: every UTF-16 code unit that is not an ASCII letter or digit becomes `-`
    (`café` -> `caf-`, an emoji -> `--`). A name longer than `MAX_FOLDER_CHARS` is cut there and gets `-`
    and the base-36 Java-style string hash of the whole path. `work_dir` is taken as it is (absolute,
    symlinks already resolved); `project_dirs` finds the folders of a directory a person typed.
    """
    path = os.fspath(work_dir)
    name = "".join(("--" if ord(ch) > 0xFFFF else "-") if not _ascii_alnum(ch) else ch for ch in path)
    if len(name) <= MAX_FOLDER_CHARS:
        return name
    return f"{name[:MAX_FOLDER_CHARS]}-{_base36(abs(_string_hash(path)))}"


def is_project_dir_name(name: str, work_dir: str | os.PathLike[str]) -> bool:
    """Whether the folder `name` can hold the sessions of `work_dir` (a real path).

    Its `project_dir_name`, or for a long path the same cut name with another hash: the CLI accepts
    those too (builds of the CLI on another JavaScript runtime hashed differently).
    """
    expected = project_dir_name(work_dir)
    if name == expected:
        return True
    return len(expected) > MAX_FOLDER_CHARS and name.startswith(expected[: MAX_FOLDER_CHARS + 1])


def project_dirs(
    config: str | os.PathLike[str], work_dir: str | os.PathLike[str], env: Mapping[str, str] | None = None
) -> list[Path]:
    """The existing folders under the config dir's `projects/` that can hold sessions started in `work_dir`.

    `work_dir` as a person typed it (relative, `~`, through a symlink); the CLI names the folder after
    the real path. Also the folder `$CLAUDE_CODE_PROJECT_DIR_NAME` names, when `env` (default this
    process's) sets it beside `$CLAUDE_CONFIG_DIR`. A folder can hold other directories' sessions too (that
    shared override, a hash clash): the records' `cwd` says whose a session is.
    """
    from pathlib import Path

    projects = Path(config) / PROJECTS
    real = os.path.realpath(os.path.expanduser(os.fspath(work_dir)))
    override = _project_dir_override(os.environ if env is None else env)
    try:
        names = sorted(e.name for e in os.scandir(projects) if e.is_dir())
    except OSError:
        return []
    return [projects / n for n in names if n == override or is_project_dir_name(n, real)]


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _string_hash(text: str) -> int:
    """`h = 31*h + c` over the UTF-16 code units, as a signed 32-bit integer (the CLI's path hash)."""
    value = 0
    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        value = (value * 31 + (data[i] | data[i + 1] << 8)) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


_DEVICE_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10))}) | frozenset(
    f"lpt{i}" for i in range(10)
)


def _project_dir_override(env: Mapping[str, str]) -> str | None:
    name = env.get(PROJECT_DIR_NAME_ENV)
    if not env.get(CONFIG_DIR_ENV) or not name or len(name) > 64 or name.lower() in _DEVICE_NAMES:
        return None
    if all(_ascii_alnum(ch) or ch in "_-" for ch in name):
        return name
    return None


def find_transcript(config: str | os.PathLike[str], session_id: str) -> Path | None:
    """A session's transcript, `projects/*/<session_id>.jsonl` under the config dir, or None.

    Looked up by id in every project folder rather than by the work dir's folder name: a session resumed
    or forked from another directory keeps its file where it started.
    """
    import glob
    from pathlib import Path

    projects = Path(config) / PROJECTS
    matches = sorted(projects.glob(f"*/{glob.escape(session_id)}{TRANSCRIPT_SUFFIX}"))
    return matches[0] if matches else None


def session_transcripts(folder: str | os.PathLike[str]) -> list[Path]:
    """Every session transcript under `folder`, sorted: a config dir's `projects/`, a project folder, or any
    folder holding those. Sub-agent transcripts are not sessions (they belong to the one beside their
    folder), and a config dir's other JSONL files (`history.jsonl`, ...) are not transcripts.
    """
    from pathlib import Path

    root = Path(folder)
    if (root / PROJECTS).is_dir():
        root = root / PROJECTS
    found: list[Path] = []
    for parent, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != SUBAGENTS]
        found.extend(Path(parent, name) for name in files if name.endswith(TRANSCRIPT_SUFFIX))
    return sorted(found)


def config_dir_of(transcript: Path) -> Path | None:
    """The config dir a transcript was found in (`<config>/projects/<folder>/<id>.jsonl`), else None."""
    projects = transcript.parent.parent
    return projects.parent if projects.name == PROJECTS else None


def subagent_session(path: str | os.PathLike[str]) -> Path | None:
    """The session transcript a sub-agent transcript belongs to, or None for a file that is none.

    `<folder>/<session-id>/subagents/[workflows/<run id>/]agent-<id>.jsonl` belongs to
    `<folder>/<session-id>.jsonl` (which need not exist any more).
    """
    from pathlib import Path

    for ancestor in list(Path(path).parents)[: SUBAGENT_DEPTH + 1]:
        if ancestor.name == SUBAGENTS:
            session = ancestor.parent
            return session.parent / (session.name + TRANSCRIPT_SUFFIX)
    return None


def is_subagent_file(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a sub-agent transcript (somewhere below a session's `subagents/`), not a session."""
    return subagent_session(path) is not None


def session_folder(transcript: Path) -> Path:
    """The `<session-id>/` folder beside a transcript (sub-agent transcripts and their meta files)."""
    return transcript.with_suffix("")


def subagent_dir(transcript: Path) -> Path:
    """Where a session's sub-agent transcripts are written: `<session-id>/subagents/`."""
    return session_folder(transcript) / SUBAGENTS


def session_files(transcript: Path) -> list[Path]:
    """The transcript and the files in its `<session-id>/` folder (sub-agent transcripts and their meta)."""
    folder = session_folder(transcript)
    extra = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    return [transcript, *extra]


# -- settings files and the CLI's own telemetry ----------------------------------------------------------

MANAGED_SETTINGS = "/etc/claude-code/managed-settings.json"
"""An administrator's policy on Linux (it wins over every other settings file)."""

SETTINGS_FLAG = "--settings"
"""A settings JSON object, or a file of one, on the command line (the CLI keeps only the last one)."""


def settings_files(config: str | os.PathLike[str], cwd: str | os.PathLike[str]) -> list[str]:
    """The settings files the CLI reads for a session in `cwd`: the managed policy, the user's
    (`<config>/settings.json`), the project's shared and local ones (`<cwd>/.claude/settings*.json`)."""
    project = os.path.join(os.fspath(cwd), ".claude")
    return [
        MANAGED_SETTINGS,
        os.path.join(os.fspath(config), "settings.json"),
        os.path.join(project, "settings.json"),
        os.path.join(project, "settings.local.json"),
    ]


def settings_flag_values(args: Sequence[str]) -> list[str]:
    """The values of `--settings VALUE` and `--settings=VALUE` in a claude argv (`--` ends the options)."""
    end = list(args).index("--") if "--" in args else len(args)
    values: list[str] = []
    for index, word in enumerate(args[:end]):
        if word == SETTINGS_FLAG and index + 1 < end:
            values.append(args[index + 1])
        elif word.startswith(SETTINGS_FLAG + "="):
            values.append(word.split("=", 1)[1])
    return values


TELEMETRY_SWITCH = "CLAUDE_CODE_ENABLE_TELEMETRY"
"""Claude Code exports telemetry only when this is true (in its environment, or a settings file's `env`)."""

LOGS_EXPORT_INTERVAL_MS = 1000
"""How often the CLI exports its events (its default, 5 s, would hold the sidebar's cost back)."""
METRICS_EXPORT_INTERVAL_MS = 5000
"""How often it exports its metrics (default 60 s). Both are exported once more when the CLI exits."""

OTLP_OVERRIDES = (
    *(
        f"OTEL_EXPORTER_OTLP_{signal}{what}"
        for signal in ("LOGS_", "METRICS_", "TRACES_")
        for what in ("ENDPOINT", "PROTOCOL", "HEADERS")
    ),
    "OTEL_EXPORTER_OTLP_HEADERS",
)
"""Variables that would send claude-tui's export elsewhere or with someone's credentials: removed."""


def telemetry_env(endpoint: str) -> dict[str, str | None]:
    """The environment that makes one `claude` export its OpenTelemetry to `endpoint` as OTLP/http-json.

    `endpoint` is the OTLP base URL (the CLI appends `/v1/logs` and `/v1/metrics`). A None value removes the
    variable: signal-specific endpoints, protocols and headers left in the environment would win over ours.
    Prompts stay redacted in what the CLI exports (`OTEL_LOG_USER_PROMPTS` is not set); no traces.
    """
    env: dict[str, str | None] = dict.fromkeys(OTLP_OVERRIDES)
    env.update(
        {
            TELEMETRY_SWITCH: "1",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "otlp",
            "OTEL_TRACES_EXPORTER": "none",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_LOGS_EXPORT_INTERVAL": str(LOGS_EXPORT_INTERVAL_MS),
            "OTEL_METRIC_EXPORT_INTERVAL": str(METRICS_EXPORT_INTERVAL_MS),
        }
    )
    return env


def _truthy(value: object) -> bool:
    """True the way the CLI reads a switch: `1`, `true`, `yes`, `on` (any case, spaces around ignored)."""
    return isinstance(value, str | int) and str(value).strip().lower() in ("1", "true", "yes", "on")


def user_telemetry(
    env: Mapping[str, str],
    config: str | os.PathLike[str],
    cwd: str | os.PathLike[str],
    args: Sequence[str] = (),
) -> str | None:
    """Why this `claude` exports telemetry the user configured, or None when it exports none.

    The user's own export is left untouched (claude-tui then adds none): `CLAUDE_CODE_ENABLE_TELEMETRY` set in
    `env` (the program's environment), or in the `env` of a settings file the CLI reads or of a `--settings`
    in `args`; or a settings file that sets `OTEL_*` variables, which would override claude-tui's (a settings
    file's `env` wins over the process environment, measured on 2.1.328). Files that are missing or
    unreadable count as empty, as they do for the CLI. Cheap: a file is parsed only when it mentions either.
    """
    import json

    if _truthy(env.get(TELEMETRY_SWITCH)):
        return f"{TELEMETRY_SWITCH} is set in the environment"
    sources: list[tuple[str, str]] = []
    for path in settings_files(config, cwd):
        try:
            with open(path, encoding="utf-8") as file:
                sources.append((path, file.read()))
        except (OSError, ValueError):
            continue
    for value in settings_flag_values(args):
        if value.lstrip().startswith("{"):
            sources.append((SETTINGS_FLAG, value))
            continue
        path = os.path.join(os.fspath(cwd), os.path.expanduser(value))
        try:
            with open(path, encoding="utf-8") as file:
                sources.append((path, file.read()))
        except (OSError, ValueError):
            continue
    for where, text in sources:
        if TELEMETRY_SWITCH not in text and "OTEL_" not in text:
            continue
        try:
            settings = json.loads(text)
        except ValueError:
            continue
        settings_env = settings.get("env") if isinstance(settings, dict) else None
        if not isinstance(settings_env, dict):
            continue
        if _truthy(settings_env.get(TELEMETRY_SWITCH)):
            return f"{TELEMETRY_SWITCH} is set in {where}"
        otel = sorted(key for key in settings_env if isinstance(key, str) and key.startswith("OTEL_"))
        if otel:
            return f"{where} sets {otel[0]}"
    return None


def tracked_env(
    env: Mapping[str, str],
    otlp_url: str | None,
    *,
    config: str | os.PathLike[str],
    cwd: str | os.PathLike[str],
    args: Sequence[str] = (),
    base: Mapping[str, str] | None = None,
) -> tuple[dict[str, str | None], Literal["cli", "user"] | None]:
    """The environment overrides a tracked `claude` is spawned with, and who gets its telemetry.

    `env` is the session's own overrides (on top of claude-tui's environment). With `otlp_url` (this session's
    OTLP route on claude-tui's endpoint) the program exports its telemetry there: `env` plus `telemetry_env`,
    and `"cli"`. Unless the user exports the CLI's telemetry themselves (`user_telemetry`, which sees the
    environment the program would get, the settings files and `args`): their export is left exactly as it
    is, claude-tui adds none and receives none (`"user"`; the sidebar's cost is then the transcript's
    estimate). Without `otlp_url` (not Claude, or not tracked): `env` as it is, and None. `base`: the
    environment `env` goes on top of (default: this process's; the session owner's client's environment).
    """
    if otlp_url is None:
        return dict(env), None
    if user_telemetry({**(os.environ if base is None else base), **env}, config, cwd, args) is not None:
        return dict(env), "user"
    return {**env, **telemetry_env(otlp_url)}, "cli"
