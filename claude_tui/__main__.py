"""`python -m claude_tui` runs the CLI."""

from claude_tui.cli import main

main()
