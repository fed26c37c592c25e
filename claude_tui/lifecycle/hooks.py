"""Claude Code's hooks, as claude-tui registers and reads them.

Registering: `hook_settings(url, python)` is the `--settings` JSON that makes one `claude` process post its
lifecycle to claude-tui's endpoint, and `settings_args(args, settings)` puts it on the command line, merged
into a `--settings` the user gave (the CLI keeps only the last `--settings`, measured on 2.1.328). The
user's settings files are never touched, and hooks configured there keep running beside ours.

Measured on 2.1.328 (payload samples in `tests/data/hooks/`):
- `UserPromptSubmit`, `PreToolUse`, `PostToolUse`, `PostToolUseFailure`, `PermissionRequest`,
  `Notification`, `Stop`, `SessionEnd` arrive as HTTP hooks, each with `session_id` and `transcript_path`;
  `PostToolUse` carries `duration_ms`, `SessionEnd` a `reason` (`clear` and `resume` when the process
  switches conversations, `prompt_input_exit` at /exit).
- `SessionStart` (with `source`: startup, resume, clear, compact) runs command hooks only: an HTTP hook for
  it never fires. Ours is a tiny Python one-liner that posts its stdin to the endpoint.
- `disableAllHooks: true` in a settings file silences our hooks too, and `allowedHttpHookUrls` blocks them
  with an error line per hook: `hooks_blocked` tells, and the session then follows transcripts instead.

Light enough for the entry point (`launch.prespawn` builds the argv before Claude's first frame): os, json
and shlex only. Reading the posted payloads is `lifecycle.events`.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Mapping, Sequence

from claude_tui.claude_code import SETTINGS_FLAG, is_claude, program_argv, settings_files

TYPE_CHECKING = False
if TYPE_CHECKING:  # `typing` takes ~3 ms to import before Claude's spawn
    from typing import Any

__all__ = [
    "COMMAND_EVENTS",
    "HTTP_EVENTS",
    "claude_args",
    "hook_settings",
    "hooks_blocked",
    "settings_args",
]

HTTP_EVENTS: tuple[str, ...] = (
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "PermissionRequest",
    "Notification",
    "Stop",
    "StopFailure",
    "SessionEnd",
)
"""The hooks registered as HTTP hooks (`StopFailure`, a turn ended by an API error, where the CLI has it)."""

COMMAND_EVENTS: tuple[str, ...] = ("SessionStart",)
"""The hooks 2.1.328 runs only as commands; ours posts its stdin to the endpoint."""

HOOK_TIMEOUT = 10
"""Seconds the CLI waits for our endpoint per hook (it answers at once; this bounds a stalled process)."""

_POST_SCRIPT = (
    "import socket,sys\n"
    "u=sys.argv[1].split('/',3);h,p=u[2].rsplit(':',1);d=sys.stdin.buffer.read()\n"
    "s=socket.create_connection((h,int(p)),5)\n"
    "s.sendall(b'POST /%s HTTP/1.0\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n'"
    "%(u[3].encode(),len(d))+d)\n"
    "s.recv(64)\n"
)
"""Posts the hook's JSON (stdin) to the URL in argv[1]: a raw socket, so `-I -S` Python starts in ~15 ms."""


def post_command(url: str, python: str) -> str:
    """The shell command of a command hook that posts its input to `url` and never fails the hook."""
    return (
        f"{shlex.quote(python)} -I -S -c {shlex.quote(_POST_SCRIPT)} {shlex.quote(url)} 2>/dev/null || true"
    )


def hook_settings(url: str, python: str) -> dict[str, Any]:
    """The `--settings` object that posts every lifecycle hook of one process to `url`.

    `python` runs the `SessionStart` command hook (the interpreter running claude-tui).
    """
    http = {"type": "http", "url": url, "timeout": HOOK_TIMEOUT}
    command = {"type": "command", "command": post_command(url, python), "timeout": HOOK_TIMEOUT}
    hooks: dict[str, Any] = {name: [{"hooks": [http]}] for name in HTTP_EVENTS}
    for name in COMMAND_EVENTS:
        hooks[name] = [{"hooks": [command]}]
    return {"hooks": hooks}


def settings_args(args: Sequence[str], settings: Mapping[str, Any], cwd: str) -> list[str] | None:
    """`args` with `settings` added as `--settings JSON`, merged into the user's own `--settings`.

    The CLI keeps only the last `--settings` it is given, so a user's value (a JSON object or a file,
    relative to `cwd`) is read and our hooks are appended to its hook lists; the rest of it is kept as
    it is. Returns None when the user's value cannot be read (a missing file, bad JSON): their argument
    then stays untouched, the CLI reports it, and this session goes without hooks.
    """
    end = args.index("--") if "--" in args else len(args)
    head, tail = list(args[:end]), list(args[end:])
    user: dict[str, Any] | None = None
    kept: list[str] = []
    i = 0
    while i < len(head):
        word = head[i]
        if word == SETTINGS_FLAG or word.startswith(SETTINGS_FLAG + "="):
            if word == SETTINGS_FLAG:
                if i + 1 >= len(head):
                    return None
                value = head[i + 1]
                i += 2
            else:
                value = word.split("=", 1)[1]
                i += 1
            user = _read_settings_value(value, cwd)
            if user is None:
                return None
            continue
        kept.append(word)
        i += 1
    merged = merge_hooks(user or {}, settings)
    return [*kept, SETTINGS_FLAG, json.dumps(merged, separators=(",", ":")), *tail]


def _read_settings_value(value: str, cwd: str) -> dict[str, Any] | None:
    text = value
    if not value.lstrip().startswith("{"):
        try:
            with open(os.path.join(cwd, os.path.expanduser(value)), encoding="utf-8") as file:
                text = file.read()
        except OSError:
            return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def merge_hooks(user: Mapping[str, Any], ours: Mapping[str, Any]) -> dict[str, Any]:
    """`user` settings with the hook groups of `ours` appended to each event's list (theirs run first)."""
    merged = dict(user)
    theirs = user.get("hooks")
    hooks: dict[str, Any] = dict(theirs) if isinstance(theirs, Mapping) else {}
    for name, groups in (ours.get("hooks") or {}).items():
        existing = hooks.get(name)
        hooks[name] = [*(existing if isinstance(existing, list) else []), *groups]
    merged["hooks"] = hooks
    return merged


def hooks_blocked(config_dir: str, cwd: str, url: str, extra: Sequence[str] = ()) -> str | None:
    """Why our HTTP hooks would not run in this process, or None when nothing we can see stops them.

    Looks at the settings the CLI reads (managed policy, the user's, the project's shared and local ones,
    and `extra` JSON texts such as a user's `--settings`): `disableAllHooks: true`, or an
    `allowedHttpHookUrls` list no pattern of which matches `url`. Files that are missing or unreadable
    count as empty, as they do for the CLI. Cheap: a file is parsed only when it mentions either key.
    """
    texts = list(extra)
    for path in settings_files(config_dir, cwd):
        try:
            with open(path, encoding="utf-8") as file:
                texts.append(file.read())
        except (OSError, ValueError):
            continue
    for text in texts:
        if "disableAllHooks" not in text and "allowedHttpHookUrls" not in text:
            continue
        try:
            settings = json.loads(text)
        except ValueError:
            continue
        if not isinstance(settings, dict):
            continue
        if settings.get("disableAllHooks") is True:
            return "hooks are disabled (disableAllHooks)"
        allowed = settings.get("allowedHttpHookUrls")
        from fnmatch import fnmatchcase

        if isinstance(allowed, list) and not any(isinstance(p, str) and fnmatchcase(url, p) for p in allowed):
            return "HTTP hooks to 127.0.0.1 are not allowed (allowedHttpHookUrls)"
    return None


def claude_args(
    args: Sequence[str], url: str, *, cwd: str, config_dir: str, python: str | None = None
) -> list[str]:
    """Claude's arguments with claude-tui's hooks registered (`--settings`, merged with the person's).

    `args` unchanged when the hooks would not run (`hooks_blocked`, which also sees the person's own
    `--settings`) or the person's `--settings` cannot be read (the CLI says so itself).
    """
    merged = settings_args(args, hook_settings(url, python or sys.executable), cwd)
    if merged is None:
        return list(args)
    settings = merged[merged.index(SETTINGS_FLAG) + 1]
    if hooks_blocked(config_dir, cwd, url, [settings]) is not None:
        return list(args)
    return merged


def tracked_argv(
    program: str,
    *,
    command: str,
    session_id: str,
    args: Sequence[str],
    prompt: str | None,
    cwd: str,
    config_dir: str,
    hook_url: str | None,
) -> list[str]:
    """The argv of a tracked program: `claude_code.program_argv`, with our hooks when it is Claude and a
    `hook_url` is given. The fast start (`launch.prespawn`) and `SessionConfig.argv` both build it here, so
    the program spawned early is the one the session would have spawned."""
    if hook_url is not None and is_claude(command):
        args = claude_args(args, hook_url, cwd=cwd, config_dir=config_dir)
    return program_argv(program, command=command, session_id=session_id, args=args, prompt=prompt)
