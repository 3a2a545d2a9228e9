"""The app's tables of records, and the detail view of one record.

Each table's keys act on the record under its cursor by asking the app (RegistrarApp), which
owns the store, the forms and the workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.binding import Binding
from textual.widgets import Static

from registry.v1 import records_pb2 as rec
from registry_core.records import Record
from tui.fitting import Column, Details, FittedTable
from tui.record_view import record_lines

if TYPE_CHECKING:
    from tui.app import RegistrarApp

STATUS = {
    v: rec.RecordStatus.Name(v).removeprefix("RECORD_STATUS_").lower()
    for v in rec.RecordStatus.values()
}


# The columns of each table, by the table's id: what each keeps at 80 columns, and its share
# of a wider terminal.
COLUMNS = {
    "credentials": (
        Column("Key", 10, 1),
        Column("Title", 14, 4),
        Column("Credit", 12),
        Column("Level", 8),
        Column("Status", 9),
        Column("Version", 7),
    ),
    "learning-units": (
        Column("Key", 10, 1),
        Column("Title", 12, 4),
        Column("Kind", 13),
        Column("Credit", 12),
        Column("Level", 8),
        Column("Status", 9),
    ),
    "agreements": (
        Column("Key", 12, 1),
        Column("Sources", 14, 3),
        Column("Grant", 10, 2),
        Column("Valid", 21),
        Column("Status", 9),
    ),
    "conflicts": (
        Column("Conflict on source", 18, 1),
        Column("Agreements", 12, 1),
        Column("What differs", 20, 4),
    ),
    "sync-history": (
        Column("When (UTC)", 19),
        Column("Result", 6),
        Column("Registry holds", 14),
        Column("What happened", 12, 1),
    ),
    "bilateral": (
        Column("Agreement", 14, 2),
        Column("Version", 7),
        Column("State", 10),
        Column("Last step by", 12, 1),
        Column("Awaits you", 10),
        Column("Reason", 8, 2),
    ),
    "directory": (
        Column("Institution", 12, 1),
        Column("Name", 14, 2),
        Column("Status", 9),
        Column("Signing keys (status)", 21, 2),
    ),
    "explorer": (Column("Outcome", 11), Column("Agreement", 14, 2), Column("What / why", 20, 4)),
}


# What enter shows of a row of the tables that hold no records (a row cut to fit, whole).
ROW_TITLES = {
    "conflicts": "A conflict among your agreements",
    "sync-history": "A sync",
    "directory": "An institution in the directory",
    "explorer": "An answer from the registry",
}


# What each table says while it is empty: what fills it.
EMPTY_HINTS = {
    "credentials": "No micro-credentials to show. n adds one; sync-agent import loads a "
    "catalogue file; or clear the search and filters above.",
    "learning-units": "No modules or qualifications to show. n adds one; or clear the "
    "search above.",
    "agreements": "No agreements to show. n adds one: what another institution's credentials "
    "count for here; or set the filters above back to any.",
    "sync-history": "No sync yet. s publishes your records to the registry and shows here "
    "what it held.",
    "bilateral": "No bilateral agreements. A partner's proposal appears here after a sync "
    "(s); to propose one: sync-agent bilateral propose FILE --partner ID.",
    "directory": "The directory is fetched from the registry: press d.",
    "explorer": "Type a learner's holdings (provider/key, then :grade and @award date when "
    "known, commas between) and a target institution above, then enter: the registry's "
    "answer shows here.",
}


def empty_hint(table_id: str) -> Static:
    return Static(EMPTY_HINTS[table_id], id=f"{table_id}-empty", classes="empty-hint")


def table(table_id: str) -> FittedTable:
    """A plain table of the app's (no keys of its own), with its columns."""
    return FittedTable(COLUMNS[table_id], id=table_id)


class RecordTable(FittedTable):
    """A table of one kind of record. Its keys act on the record under the cursor."""

    BINDINGS = [
        Binding("n", "new", "New"),
        Binding("e", "edit", "Edit"),
        Binding("w", "withdraw", "Withdraw"),
    ]

    def __init__(self, kind: int, *, id: str) -> None:  # noqa: A002 (Textual's name)
        super().__init__(COLUMNS[id], id=id)
        self.kind = kind

    @property
    def registrar(self) -> RegistrarApp:
        return cast("RegistrarApp", self.app)

    def current_key(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def action_new(self) -> None:
        self.registrar.open_form(self.kind)

    def action_edit(self) -> None:
        if (key := self.current_key()) is not None:
            self.registrar.open_form(self.kind, key)

    def action_withdraw(self) -> None:
        if (key := self.current_key()) is not None:
            self.registrar.confirm_withdraw(self.kind, key)


class UnitTable(RecordTable):
    BINDINGS = [Binding("v", "sources", "Counts into it")]

    def action_sources(self) -> None:
        if (key := self.current_key()) is not None:
            self.registrar.look_up_sources(key)


class AgreementTable(RecordTable):
    BINDINGS = [
        Binding("x", "suspend", "Suspend"),
        # In the help and the palette: the conflicts show below the table after each sync
        # anyway, and at 80 columns the footer has room for Quit only without it.
        Binding("c", "conflicts", "Conflicts", show=False),
    ]

    def action_suspend(self) -> None:
        if (key := self.current_key()) is not None:
            self.registrar.toggle_suspended(key)

    def action_conflicts(self) -> None:
        self.registrar.action_conflicts()


class BilateralTable(FittedTable):
    """Bilateral agreements; a proposal awaiting this institution's decision is decided here:
    enter shows a version's terms and changes, a opens them to counter-sign, j rejects."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Terms"),
        Binding("a", "decide('countersign')", "Counter-sign"),
        Binding("j", "decide('reject')", "Reject"),
    ]

    COLUMNS = COLUMNS["bilateral"]

    def action_decide(self, action: str) -> None:
        if self.row_count == 0:
            self.notify(
                "No bilateral agreement to decide on yet: a partner's proposal shows here "
                "after a sync (s)",
                severity="warning",
            )
            return
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value or ""
        agreement_id, _, version = key.rpartition("@")
        cast("RegistrarApp", self.app).decide(action, agreement_id, int(version))


def kind_name(record: Record) -> str:
    """What a registrar calls the record: Micro-credential, Module, Qualification, Agreement."""
    if isinstance(record, rec.LearningUnit):
        kind = rec.LearningUnitKind.Name(record.kind).removeprefix("LEARNING_UNIT_KIND_")
        return kind.replace("_", " ").capitalize() if record.kind else "Module"
    if isinstance(record, rec.RecognitionAgreement):
        return "Agreement"
    return "Micro-credential"


class DetailScreen(Details):
    """One record in full; e edits it, w withdraws it."""

    BINDINGS = [
        Binding("e", "dismiss('edit')", "Edit"),
        Binding("w", "dismiss('withdraw')", "Withdraw"),
        Binding("escape", "dismiss(None)", "Close"),
    ]

    def __init__(self, record: Record) -> None:
        super().__init__(
            f"{kind_name(record)} {record.key} (version {record.version}, {STATUS[record.status]})",
            record_lines(record),
        )
        self.record = record
