"""The first-start offer: an empty store can load a demonstration institution's catalogue,
so a new registrar sees something real at once."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from registry_core.records import Record
from sync_agent.importer import read_catalogue
from tui.confirm import ConfirmScreen

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
            records += read_catalogue(Path(path), institution_id, held_units=records)
    return records


class LoadDemoScreen(ConfirmScreen):
    """Asks whether to load the demonstration catalogue; dismisses with the answer."""

    AUTO_FOCUS = "#yes"  # loading changes nothing the registry holds until a sync

    def __init__(self) -> None:
        super().__init__(
            "This institution's store is empty.\n\nLoad a demonstration catalogue "
            "(micro-credentials, modules and agreements) to explore the app? "
            "Nothing is published until you sync.",
            "Load demo (y)",
            "Start empty (n)",
            "primary",
        )
