"""The fast start: `claude-tui` spawns its program before anything heavy is imported.

Claude draws its first frame about 0.4 s after it starts. Importing click, dataclasses and the session's
modules takes `claude-tui` ~80 ms more before `commands.run` could spawn it; every one of those
milliseconds showed up in the time to Claude's first frame. So the entry point (`main`) reads the
common form of the command line, `claude-tui [run] [OPTIONS] [PROMPT] [-- CLAUDE_ARGS...]`, with this
module's tiny parser, spawns the program at once, and only then imports the CLI. Click parses the whole
command line as always, and `commands.run` claims the running program when the argv it builds is the
same one (it adopts it, and nothing is spawned twice). A command line this parser does not fully
understand (help, another subcommand, an unknown option) spawns nothing early; one that click then
rejects ends the early program on exit.

Only light standard-library modules (and `terminal.pty_session`, `claude_code`, `prespawn` and the command
table in `commands/__init__.py`, which need no more) are imported here; `claude_tui.cli` and the rest load
after the spawn, and `commands.run` takes the program from `prespawn.claim()`.
"""

from __future__ import annotations

import gc
import os
import sys

from claude_tui.claude_code import (
    config_dir,
    fallback_program,
    given_session_id,
    is_claude,
    new_session_id,
    tracked_env,
)
from claude_tui.commands import SUBCOMMANDS
from claude_tui.lifecycle import endpoint
from claude_tui.lifecycle.hooks import tracked_argv
from claude_tui.paths import known_scheme
from claude_tui.prespawn import Prespawned, hand_over, pane_size
from claude_tui.shell_integration import shell_env
from claude_tui.terminal.pty_session import PtySession, find_program

VALUE_OPTIONS = frozenset(
    {
        "--command",
        "-C",
        "--cwd",
        "--issue",
        "--procedure",
        "--tracking-uri",
        "--experiment",
        "--tag",
        "--alert",
        "--notify-command",
    }
)
FLAG_OPTIONS = frozenset({"--no-track", "--no-redact", "--detach", "--no-notify"})
"""The `run` command's options that take a value, and its flags (a test keeps both in step with click)."""
LATE_OPTIONS = frozenset({"--worktree"})
"""Options whose work must be done before the program can start (`--worktree` makes its work dir): a command
line with one is left to click, and nothing is spawned early."""


class RunLine:
    """What the early parser read: enough to spawn the program."""

    def __init__(self) -> None:
        self.command = "claude"
        self.cwd: str | None = None
        self.prompt: str | None = None
        self.claude_args: list[str] = []
        self.tracking_uri: str | None = None


def parse_run_line(args: list[str]) -> RunLine | None:
    """Read a `run` command line the way click will; None when it is anything else or in doubt."""
    line = RunLine()
    if args and args[0] == "run":
        args = args[1:]
    elif args and args[0] in SUBCOMMANDS:
        return None
    if "--" in args:
        split = args.index("--")
        args, line.claude_args = args[:split], args[split + 1 :]
    positional: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        name, eq, attached = word.partition("=")
        if name in VALUE_OPTIONS and word.startswith("--") and eq:
            value: str | None = attached
        elif word in VALUE_OPTIONS:
            i += 1
            if i == len(args):
                return None
            value = args[i]
        elif word in FLAG_OPTIONS:
            value = None
        elif word.startswith("-"):
            return None  # --help, --version, short forms, unknown options: leave it all to click
        else:
            positional.append(word)
            i += 1
            continue
        if name == "--command":
            line.command = value or ""
        elif name in ("-C", "--cwd"):
            line.cwd = value
        elif name == "--tracking-uri":
            line.tracking_uri = value
        i += 1
    if len(positional) > 1 or not line.command:
        return None
    line.prompt = positional[0] if positional else None
    return line


def prespawn(args: list[str], *, in_owner: bool = True) -> Prespawned | None:
    """Start the program of a `run` command line now (for `prespawn.claim`); None when in doubt.

    `in_owner` (the command line's way): the session owner runs it (`early_in_owner`), so the session
    outlives this window; otherwise this process spawns it (a window's own session).
    """
    line = parse_run_line(args)
    if line is None or "--detach" in args[: args.index("--") if "--" in args else len(args)]:
        return None
    if line.tracking_uri is not None and not known_scheme(line.tracking_uri):
        return None  # most likely refused (exit 2) before any program runs: `commands.run` says
    program = find_program(line.command) or fallback_program(line.command)
    cwd = os.path.realpath(line.cwd or os.getcwd())
    if program is None or not os.path.isdir(cwd):
        return None  # the normal path reports it
    session_id = given_session_id(line.claude_args) or new_session_id()
    secret = endpoint.new_secret() if is_claude(line.command) else None
    cols, rows = pane_size()
    if in_owner:
        early = early_in_owner(line, program, cwd, session_id, secret, cols, rows)
    else:
        try:
            argv, env = early_argv(line, program, cwd, session_id, secret)
            pty = PtySession.spawn(argv, cwd=cwd, env=env, cols=cols, rows=rows)
        except Exception:  # the normal path spawns again and reports what went wrong
            return None
        early = Prespawned(session_id, argv, cwd, pty, env, secret)
    if early is not None:
        hand_over(early)
    return early


def early_argv(
    line: RunLine, program: str, cwd: str, session_id: str, secret: str | None
) -> tuple[list[str], dict[str, str | None]]:
    """The argv and environment overrides of the command line's program, as `SessionConfig.argv` and
    `program_env` make them; Claude's hooks and telemetry go to this process's endpoint (bound now, served
    once the session is polled)."""
    hook_url: str | None = None
    env: dict[str, str | None] = {}
    if secret is not None:
        routes = endpoint.shared().session(secret)
        hook_url = routes.url()
        # Its own telemetry to this session too, unless the user exports it (`SessionConfig.program_env`).
        env, _ = tracked_env(
            {}, routes.url(endpoint.OTLP_ROUTE), config=config_dir(), cwd=cwd, args=line.claude_args
        )
    else:  # bash and zsh get OSC 133 shell integration (`shell_integration`)
        env = {**shell_env(line.command, [*line.claude_args, *([line.prompt] if line.prompt else [])])}
    argv = tracked_argv(
        program,
        command=line.command,
        session_id=session_id,
        args=line.claude_args,
        prompt=line.prompt,
        cwd=cwd,
        config_dir=str(config_dir()),
        hook_url=hook_url,
    )
    return argv, env


def early_in_owner(
    line: RunLine, program: str, cwd: str, session_id: str, secret: str | None, cols: int, rows: int
) -> Prespawned | None:
    """Have the session owner start the program at once: the running owner of this data dir and version
    gets a `spawn` request (it builds the argv with its own endpoint); when there is none, this process
    forks it, and the forked owner spawns the program before it imports anything else. The connection
    (its answers not read yet) waits in the `Prespawned` for `commands.run`, which sends the whole config.
    None when the owner cannot be reached or started (the normal path then starts the session)."""
    from claude_tui.owner import client
    from claude_tui.owner.protocol import encode_message, hello, listen_raw, owner_dir, socket_path

    try:
        path = socket_path()
        request: dict[str, object] = {
            "op": "spawn",
            "early": True,
            "session_id": session_id,
            "config": early_config(line, cwd, session_id, secret),
            "program": program,
            "cwd": cwd,
            "environ": dict(os.environ),
            "cols": cols,
            "rows": rows,
        }
        try:
            sock = client.connect_socket(path)
        except client.OwnerNotRunning:
            with client.start_lock(owner_dir(path.parent.parent)):
                try:
                    sock = client.connect_socket(path)  # another start won the lock first
                except client.OwnerNotRunning:
                    listener = listen_raw(path)

                    def spawn() -> tuple[str, PtySession, dict[str, str | None]]:
                        argv, env = early_argv(line, program, cwd, session_id, secret)
                        return session_id, PtySession.spawn(argv, cwd=cwd, env=env, cols=cols, rows=rows), env

                    try:
                        client.start_owner_forked(listener, path, spawn)
                    finally:
                        listener.close()
                    sock = client.connect_socket(path)  # waits in the backlog until the owner serves
                    request = {"op": "spawn", "session_id": session_id}  # claims what it spawned
        sock.sendall(encode_message(hello()) + encode_message(request))
    except Exception:  # the normal path tries again and says what went wrong
        return None
    return Prespawned(session_id, [], cwd, None, {}, secret, owner=sock)


def early_config(line: RunLine, cwd: str, session_id: str, secret: str | None) -> dict[str, object]:
    """What the owner needs of the command line to spawn its program (`SessionConfig.from_dict` reads it)."""
    config: dict[str, object] = {
        "command": line.command,
        "claude_args": line.claude_args,
        "prompt": line.prompt,
        "cwd": cwd,
        "session_id": session_id,
        "config_dir": str(config_dir()) if secret is not None else None,
        "env": shell_env(line.command, [*line.claude_args, *([line.prompt] if line.prompt else [])]),
    }
    if secret is not None:
        config["hook_secret"] = secret
    return config


def main() -> None:
    """The `claude-tui` entry point: spawn early when the command line starts a session, then run the CLI."""
    if prespawn(sys.argv[1:]) is not None:
        # Start-up allocates a lot and frees little: `commands.run` and the app turn collection back on.
        gc.disable()
    from claude_tui.cli import main as cli_main

    cli_main()
