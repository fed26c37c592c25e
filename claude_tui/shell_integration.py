"""Shell integration for `claude-tui --command bash` and `--command zsh`: OSC 133 marks, injected without
touching the user's start-up files.

- bash runs as `bash --rcfile <claude_tui/shell/bashrc> -i`; that file sources `~/.bashrc` first (Debian's
  bash still reads /etc/bash.bashrc before it), then adds the marks through PROMPT_COMMAND, PS0 and PS1.
- zsh runs with `ZDOTDIR=<claude_tui/shell/zsh>`, whose `.zshenv` and `.zshrc` source the user's own (from
  their `$ZDOTDIR`, else `$HOME`) and then add `precmd`/`preexec` hooks.

A shell given arguments (a script, `-c ...`) is left alone: it has no prompt. `parsing.shell.ShellMarks`
reads the marks. Light: the entry point builds the argv before Claude's (or the shell's) first frame.
"""

from __future__ import annotations

import os

SHELL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shell")
BASHRC = os.path.join(SHELL_DIR, "bashrc")
ZDOTDIR = os.path.join(SHELL_DIR, "zsh")
USER_ZDOTDIR_ENV = "CLAUDE_TUI_USER_ZDOTDIR"
"""The user's own ZDOTDIR (if they set one), for claude-tui's zsh start-up files to read theirs from."""


def shell_of(command: str, args: list[str] | tuple[str, ...]) -> str | None:
    """`bash` or `zsh` when `command` is that shell started interactively (no arguments), else None."""
    name = os.path.basename(command)
    return name if name in ("bash", "zsh") and not args else None


def shell_args(command: str, args: list[str] | tuple[str, ...]) -> list[str]:
    """Arguments that give an interactive bash the marks (nothing for other programs)."""
    return ["--rcfile", BASHRC, "-i"] if shell_of(command, args) == "bash" else []


def shell_env(command: str, args: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Environment that gives an interactive zsh the marks (nothing for other programs)."""
    if shell_of(command, args) != "zsh":
        return {}
    env = {"ZDOTDIR": ZDOTDIR}
    if os.environ.get("ZDOTDIR"):
        env[USER_ZDOTDIR_ENV] = os.environ["ZDOTDIR"]
    return env
