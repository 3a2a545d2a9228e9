"""The first-start offer: an empty store can load a demonstration institution's catalogue,
so a new registrar sees something real at once."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from registry_core.records import Record
from sync_agent.importer import read_catalogue

# Each demo institution's files; any other institution gets Taff's, whose agreements recognise
# Forth's and Lagan's credentials (never its own).
DEMO_FILES = {
    "uk.ac.forth": ("uk.ac.forth.json",),
    "uk.ac.taff": ("uk.ac.taff.json",),
    "uk.ac.lagan": ("uk.ac.lagan-micro-credentials.csv", "uk.ac.lagan-catalogue.json"),
}


def demo_records(institution_id: str) -> list[Record]:
    """The demonstration catalogue, as records of this institution."""
    files = DEMO_FILES.get(institution_id, DEMO_FILES["uk.ac.taff"])
    data = resources.files("demo_network") / "data"
    records: list[Record] = []
    for name in files:
        with resources.as_file(data / name) as path:
            records += read_catalogue(Path(path), institution_id)
    return records


class LoadDemoScreen(ModalScreen[bool]):
    """Asks whether to load the demonstration catalogue; dismisses with the answer."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]
    DEFAULT_CSS = """
    LoadDemoScreen { align: center middle; }
    LoadDemoScreen > Vertical { width: 64; height: auto; padding: 1 2; border: thick $primary;
                                background: $surface; }
    LoadDemoScreen Horizontal { height: auto; align: center middle; margin-top: 1; }
    LoadDemoScreen Button { margin: 0 1; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("This institution's store is empty.\n\nLoad a demonstration "
                         "catalogue (micro-credentials, modules and agreements) to explore the "
                         "app? Nothing is published until you sync.")
            with Horizontal():
                yield Button("Load demo (y)", id="yes", variant="primary")
                yield Button("Start empty (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, load: bool) -> None:
        self.dismiss(load)
