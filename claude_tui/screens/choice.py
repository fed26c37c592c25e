"""`ChoiceScreen`: a question with a few answers (close a session? keep or remove its worktree?)."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Button, Label

__all__ = ["ChoiceScreen"]


class ChoiceScreen(ModalScreen[str]):
    """Asks `question`; dismisses with the id of the answer chosen.

    Each answer is a button and a key (the first letter of its label, underlined by convention in the text);
    Enter takes the focused button (the `default` one at first), Escape the `safe` one: an accidental key
    never removes anything.

    Args:
        title: the first line, in bold.
        question: what is asked, one or more lines.
        answers: (id, label) pairs, in the order shown.
        default: the id focused at first.
        safe: the id Escape gives.
    """

    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > Vertical {
        width: 72; max-width: 100%; height: auto; padding: 1 2;
        border: round $warning; background: $panel;
    }
    ChoiceScreen #title { text-style: bold; }
    ChoiceScreen #question { margin-top: 1; }
    ChoiceScreen #answers { height: auto; margin-top: 1; align-horizontal: right; }
    ChoiceScreen Button { margin-left: 1; }
    """

    def __init__(
        self, title: str, question: str, answers: Sequence[tuple[str, str]], *, default: str, safe: str
    ) -> None:
        super().__init__()
        self._title = title
        self._question = question
        self._answers = list(answers)
        self._default = default
        self._safe = safe

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title, id="title")
            yield Label(self._question, id="question")
            with Horizontal(id="answers"):
                for answer, label in self._answers:
                    if answer == self._default:
                        yield Button(label, id=f"answer-{answer}", variant="primary")
                    else:
                        yield Button(label, id=f"answer-{answer}")

    def on_mount(self) -> None:
        self.query_one(f"#answer-{self._default}", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id is not None:
            self.dismiss(event.button.id.removeprefix("answer-"))

    def on_key(self, event: Key) -> None:
        if event.key == "escape":
            event.stop()
            self.dismiss(self._safe)
            return
        for answer, label in self._answers:
            if event.character and event.character.lower() == label[:1].lower():
                event.stop()
                self.dismiss(answer)
                return
