"""Textual widgets of claude-tui (each in its own module; import them from there, e.g.
``from claude_tui.widgets.terminal import TerminalPane``, so importing one never loads the others)."""
