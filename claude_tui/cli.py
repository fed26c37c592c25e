"""The `claude-tui` command line.

Every subcommand lives in its own module under `claude_tui.commands` and is imported only when it runs, so
`claude-tui --help` and the first frame of a session never pay for textual or mlflow imports they do not need.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from claude_tui.commands import SUBCOMMANDS


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use.

    Arguments that are not a known subcommand fall through to `run`, so `claude-tui "fix the bug"` and
    `claude-tui --command bash` start a session just like `claude-tui run ...`.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = SUBCOMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr = entry[0].split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in SUBCOMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        help_flags = {"--help", "-h", "--version"}
        if not args or (args[0] not in SUBCOMMANDS and args[0] not in help_flags):
            args = ["run", *args]
        if args[0] in ("run", "demo") and "--" in args:
            # Everything after `--` belongs to claude, not to us; click would otherwise hand the first of
            # those words to the optional PROMPT argument.
            split = args.index("--")
            ctx.meta["claude_args"] = args[split + 1 :]
            args = args[:split]
        return super().parse_args(ctx, args)


NO_RECOVERY = {"sync", "import", "stats", "replay", "run", "demo"}
"""Commands that do not start the background logging of orphaned sessions here: sync does it itself, and the
session commands' app does it two seconds in (`widgets.store_check.check_store_after_start`), off Claude's
first frame."""


NO_NOTICE = {"run", "demo", "stats", "replay", "import"}
"""Commands that do not print the notice of expiring sessions at their start: a session's would be drawn
over (`commands.run` prints it after the session), `stats` and `replay` do not deal with the store, and
`import` is the cure."""


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="claude-tui")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Run Claude Code in a terminal pane with live stats; log every session to MLflow.

    With no command, starts a tracked session: claude-tui [OPTIONS] [PROMPT] [-- CLAUDE_ARGS...]
    (see `claude-tui run --help`).
    """
    from claude_tui.tracking.background import NO_MLFLOW_TELEMETRY

    for name, value in NO_MLFLOW_TELEMETRY.items():  # before any mlflow import (why: its docstring)
        os.environ.setdefault(name, value)
    # Every command reads the settings file the same way, and refuses a broken one before doing anything.
    from claude_tui.config import ConfigError, load_settings

    try:
        load_settings()
    except ConfigError as exc:
        click.echo(f"claude-tui: {exc}", err=True)
        ctx.exit(2)
    if ctx.invoked_subcommand not in NO_NOTICE:
        # Sessions Claude Code deletes soon that are not in the store, found by the last logger or sync: once.
        from claude_tui.tracking.expiry import take_notice

        notice = take_notice()
        if notice:
            click.echo(f"claude-tui: {notice}", err=True)
    if ctx.invoked_subcommand not in NO_RECOVERY and "--no-track" not in sys.argv:
        # A session whose app was killed left a spool behind: log it now, in a detached process, so no
        # session is lost and the command the user asked for does not wait for mlflow.
        from claude_tui.tracking.recovery import recover_orphans_in_background

        recover_orphans_in_background()
