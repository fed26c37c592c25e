"""One module per `claude-tui` subcommand; each imports its heavy dependencies inside the command.

`SUBCOMMANDS` is the table both the click group (`cli.py`) and the early parser of the entry point
(`launch.py`) read; it lives here, importing nothing, so neither of those imports the other's module.
"""

from __future__ import annotations

# name -> "module:attribute" of a click.Command and its help. One table, so the help lists every command
# without importing any of them, and so the early parser knows a subcommand when it sees one.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("claude_tui.commands.run:run", "Start a tracked session (the default command)."),
    "demo": ("claude_tui.commands.demo:demo", "A tracked session of the real CLI against the offline stub."),
    "replay": ("claude_tui.commands.replay:replay", "Play an asciicast recording in the terminal pane."),
    "stats": ("claude_tui.commands.stats:stats", "Exact stats of Claude Code transcripts."),
    "sync": ("claude_tui.commands.sync:sync", "Log finished or orphaned session spools to MLflow."),
    "history": ("claude_tui.commands.history:history", "Browse past sessions (opens the History tab)."),
    "ui": ("claude_tui.commands.ui:ui", "Start, stop or query the MLflow UI server."),
    "export": ("claude_tui.commands.export:export", "Export logged sessions as CSV or JSON."),
    "import": ("claude_tui.commands.importer:import_sessions", "Import existing Claude Code sessions."),
    "ls": ("claude_tui.commands.ls:ls", "List the running sessions."),
    "attach": (
        "claude_tui.commands.attach:attach",
        "Show the running sessions; quitting leaves them running.",
    ),
}
