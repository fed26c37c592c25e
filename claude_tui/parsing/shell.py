"""Commands and failed commands of a shell, from its OSC 133 shell-integration marks.

Modern terminals (kitty, WezTerm, iTerm2, VS Code, Windows Terminal) learn where prompts and commands are
from marks the shell writes: `OSC 133;A` prompt start, `B` command line start, `C` command output start
(claude-tui's bash and zsh integration adds `cmdline_url=<the command, percent-encoded>`, as kitty's does),
`D;<exit status>` command end. `claude-tui --command bash` (or zsh) injects them (`shell_integration`), the
emulator collects them (`TerminalEmulator.take_shell_marks`), and `ShellMarks` turns them into the events the
stats count: each `C` is a command (a `Bash` tool call, so `git` in it counts as a git operation), and a `D`
with a non-zero status after it is a failed command (an error). A `D` without a `C` (an empty line, the
first prompt) is nothing. Pure.
"""

from __future__ import annotations

from urllib.parse import unquote

from claude_tui.parsing.events import PREVIEW_CHARS, Event, ToolCall, ToolResult

SHELL_TOOL = "Bash"
"""The tool name a shell command is counted as (what `commands_executed` counts)."""


class ShellMarks:
    """Feeds of OSC 133 mark bodies in, command events out (see the module docstring)."""

    def __init__(self) -> None:
        self.seen = False
        """Whether any mark arrived: the shell speaks OSC 133, so its counts are real."""
        self._count = 0
        self._running: str | None = None

    def feed(self, marks: list[str], ts: float | None = None) -> list[Event]:
        """The events of `marks` (bodies after `133;`, in order)."""
        events: list[Event] = []
        for mark in marks:
            self.seen = True
            kind, _, rest = mark.partition(";")
            if kind == "C":
                self._count += 1
                self._running = f"shell-{self._count}"
                params = dict(part.partition("=")[::2] for part in rest.split(";") if part)
                command = unquote(params.get("cmdline_url", "")) or unquote(params.get("cmdline", ""))
                events.append(ToolCall(ts=ts, id=self._running, name=SHELL_TOOL, input={"command": command}))
            elif kind == "D" and self._running is not None:
                status = rest.split(";", 1)[0].strip()
                failed = status not in ("", "0")
                preview = f"Exit code {status}" if failed else ""
                events.append(
                    ToolResult(ts=ts, id=self._running, is_error=failed, preview=preview[:PREVIEW_CHARS])
                )
                self._running = None
        return events
