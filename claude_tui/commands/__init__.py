"""One module per `claude-tui` subcommand; each imports its heavy dependencies inside the command."""
