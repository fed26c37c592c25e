"""The new-session dialog (`n`): work dir, optional first prompt, program, and a worktree of its own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label

__all__ = ["NewSession", "NewSessionScreen"]


@dataclass(frozen=True)
class NewSession:
    """What the person asked for: where, what to say first, which program, and whether in a worktree."""

    cwd: Path
    prompt: str | None = None
    command: str = "claude"
    worktree: str | None = None
    """None: no worktree; "": a worktree on a new branch named after the prompt; else the branch."""


class NewSessionScreen(ModalScreen[NewSession | None]):
    """Asks for a new session's work dir, first prompt, program and worktree; dismisses with a `NewSession`
    (or None when cancelled). A work dir that is not a folder is said in the dialog, which stays open.

    Args:
        initial: what the fields hold at first (the active session's work dir and program; or, when a
            session could not start, what the person asked for, with `error` saying why).
        error: a line to show under the fields.
    """

    DEFAULT_CSS = """
    NewSessionScreen { align: center middle; }
    NewSessionScreen > Vertical {
        width: 72; max-width: 100%; height: auto; padding: 0 2;
        border: round $primary; background: $panel;
    }
    NewSessionScreen Label { margin-top: 1; }
    NewSessionScreen .title { text-style: bold; margin-top: 0; }
    NewSessionScreen #error { color: $error; height: auto; }
    NewSessionScreen #worktree-row { height: auto; margin-top: 1; }
    NewSessionScreen #worktree-row Input { width: 1fr; }
    NewSessionScreen #buttons { height: auto; align-horizontal: right; margin-top: 1; }
    NewSessionScreen Button { margin-left: 1; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, initial: NewSession, *, error: str | None = None) -> None:
        super().__init__()
        self._initial = initial
        self._cwd = initial.cwd
        self._error = error or ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("New session", classes="title")
            yield Label("Work dir")
            initial = self._initial
            yield Input(str(initial.cwd), id="cwd")
            yield Label("First prompt (optional)")
            yield Input(initial.prompt or "", placeholder="what Claude should do", id="prompt")
            yield Label("Program")
            yield Input(initial.command, id="command")
            with Horizontal(id="worktree-row"):
                yield Checkbox("In a git worktree, branch:", initial.worktree is not None, id="worktree")
                yield Input(initial.worktree or "", placeholder="claude/<the prompt>", id="branch")
            yield Label(self._error, id="error")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Start", variant="primary", id="start")

    def on_mount(self) -> None:
        self.query_one("#prompt", Input).focus()

    @on(Input.Changed, "#branch")
    def _branch_typed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self.query_one("#worktree", Checkbox).value = True

    @on(Input.Submitted)
    @on(Button.Pressed, "#start")
    def _start(self) -> None:
        cwd_text = self.query_one("#cwd", Input).value.strip()
        cwd = Path(cwd_text).expanduser() if cwd_text else self._cwd
        if not cwd.is_absolute():
            cwd = self._cwd / cwd
        if not cwd.is_dir():
            self.query_one("#error", Label).update(f"{cwd} is not a folder")
            self.query_one("#cwd", Input).focus()
            return
        command = self.query_one("#command", Input).value.strip() or "claude"
        prompt = self.query_one("#prompt", Input).value.strip() or None
        worktree = None
        if self.query_one("#worktree", Checkbox).value:
            worktree = self.query_one("#branch", Input).value.strip()
        self.dismiss(NewSession(cwd.resolve(), prompt, command, worktree))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close the dialog; no session is started."""
        self.dismiss(None)
