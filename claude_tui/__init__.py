"""claude-tui: run Claude Code in a Textual terminal pane and log every session to MLflow."""

__version__ = "0.1.0"
