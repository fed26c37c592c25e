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

from claude_tui.claude_code import config_dir, fallback_program, given_session_id, is_claude, tracked_env
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


def new_session_id() -> str:
    """A random (version 4) UUID as text, without importing `uuid` (which imports `platform`)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


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


def prespawn(args: list[str]) -> Prespawned | None:
    """Spawn the program of a `run` command line now (for `prespawn.claim`); None when in doubt."""
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
    secret: str | None = None
    hook_url: str | None = None
    env: dict[str, str | None] = {}
    if is_claude(line.command):
        routes = endpoint.shared().session()  # bound now, served once the app runs
        secret, hook_url = routes.secret, routes.url()
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
    cols, rows = pane_size()
    try:
        pty = PtySession.spawn(argv, cwd=cwd, env=env, cols=cols, rows=rows)
    except Exception:  # the normal path spawns again and reports what went wrong
        return None
    early = Prespawned(session_id, argv, cwd, pty, env, secret)
    hand_over(early)
    return early


def main() -> None:
    """The `claude-tui` entry point: spawn early when the command line starts a session, then run the CLI."""
    if prespawn(sys.argv[1:]) is not None:
        # Start-up allocates a lot and frees little: `commands.run` and the app turn collection back on.
        gc.disable()
    from claude_tui.cli import main as cli_main

    cli_main()
