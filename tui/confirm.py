"""A yes/no question in a modal panel: withdrawing a record, loading the demonstration."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """Asks question; dismisses with True (y, or the first button) or False (n, escape)."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str, yes: str = "Yes (y)", no: str = "No (n)",
                 variant: str = "error") -> None:
        super().__init__()
        self.question, self.yes, self.no, self.variant = question, yes, no, variant

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.question)
            with Horizontal(id="confirm-buttons"):
                yield Button(self.yes, id="yes", variant=self.variant)  # type: ignore[arg-type]
                yield Button(self.no, id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
