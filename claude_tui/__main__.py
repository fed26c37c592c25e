"""`python -m claude_tui` runs the CLI (through the same fast start as the `claude-tui` command)."""

from claude_tui.launch import main

main()
