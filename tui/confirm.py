"""Questions in a modal panel: yes or no (withdrawing a record, loading the demonstration,
counter-signing), or a line of text (the reason for rejecting a proposal)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Static


class ConfirmScreen(ModalScreen[bool]):
    """Asks question; dismisses with True (y, or the first button) or False (n, escape)."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]
    AUTO_FOCUS = "#no"  # enter on a question that changes something answers the safe way

    def __init__(
        self, question: str, yes: str = "Yes (y)", no: str = "No (n)", variant: str = "error"
    ) -> None:
        super().__init__()
        self.question, self.yes, self.no, self.variant = question, yes, no, variant

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.question)
            with Horizontal(id="confirm-buttons"):
                yield Button(self.yes, id="yes", variant=self.variant)  # type: ignore[arg-type]
                yield Button(self.no, id="no")
        yield Footer()  # its own keys, not those of the list underneath

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class AskScreen(ModalScreen[str | None]):
    """Asks for one line of text; dismisses with it (enter) or None (escape)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    AUTO_FOCUS = "#answer"

    def __init__(self, question: str, placeholder: str = "") -> None:
        super().__init__()
        self.question, self.placeholder = question, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.question)
            yield Input(placeholder=self.placeholder, id="answer")
        yield Footer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())
        else:
            self.notify("give a reason, or press escape to cancel", severity="warning")
