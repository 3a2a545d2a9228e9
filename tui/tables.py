"""The app's tables of records, and the detail view of one record.

Each table's keys act on the record under its cursor by asking the app (RegistrarApp), which
owns the store, the forms and the workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from registry.v1 import records_pb2 as rec
from registry_core.records import Record
from tui.record_view import record_lines

if TYPE_CHECKING:
    from tui.app import RegistrarApp

STATUS = {v: rec.RecordStatus.Name(v).removeprefix("RECORD_STATUS_").lower()
          for v in rec.RecordStatus.values()}


class RecordTable(DataTable[str]):
    """A table of one kind of record. Its keys act on the record under the cursor."""

    BINDINGS = [Binding("n", "new", "New"), Binding("e", "edit", "Edit"),
                Binding("w", "withdraw", "Withdraw")]

    def __init__(self, kind: int, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self.kind = kind

    @property
    def registrar(self) -> RegistrarApp:
        return cast("RegistrarApp", self.app)

    def current_key(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def clear(self, columns: bool = False) -> RecordTable:
        """Empty the table, remembering the record under the cursor for refill()."""
        self._cursor_key = self.current_key()
        super().clear(columns)
        return self

    def refilled(self) -> None:
        """Put the cursor back on the record it was on before clear(), if still listed."""
        key = getattr(self, "_cursor_key", None)
        if key is not None and key in self.rows:
            self.move_cursor(row=self.get_row_index(key))

    def action_new(self) -> None:
        self.registrar.open_form(self.kind)

    def action_edit(self) -> None:
        if (key := self.current_key()) is not None:
            self.registrar.open_form(self.kind, key)

    def action_withdraw(self) -> None:
        if (key := self.current_key()) is not None:
            self.registrar.confirm_withdraw(self.kind, key)


class UnitTable(RecordTable):
    BINDINGS = [Binding("v", "sources", "What counts into it")]

    def action_sources(self) -> None:
        if (key := self.current_key()) is not None:
            self.registrar.look_up_sources(key)


class AgreementTable(RecordTable):
    BINDINGS = [Binding("x", "suspend", "Suspend/reinstate"),
                Binding("c", "conflicts", "Conflicts")]

    def action_suspend(self) -> None:
        if (key := self.current_key()) is not None:
            self.registrar.toggle_suspended(key)

    def action_conflicts(self) -> None:
        self.registrar.action_conflicts()


class BilateralTable(DataTable[str]):
    """Bilateral agreements; a proposal awaiting this institution's decision is decided here:
    enter shows a version's terms and changes, a opens them to counter-sign, j rejects."""

    BINDINGS = [Binding("enter", "select_cursor", "Terms"),
                Binding("a", "decide('countersign')", "Counter-sign"),
                Binding("j", "decide('reject')", "Reject")]

    def action_decide(self, action: str) -> None:
        if self.row_count == 0:
            return
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value or ""
        agreement_id, _, version = key.rpartition("@")
        cast("RegistrarApp", self.app).decide(action, agreement_id, int(version))


class DetailScreen(ModalScreen[str | None]):
    """One record in full; e edits it, w withdraws it."""

    BINDINGS = [Binding("e", "dismiss('edit')", "Edit"),
                Binding("w", "dismiss('withdraw')", "Withdraw"),
                Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, record: Record) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        with Vertical(id="detail"):
            yield Static(f"{type(self.record).__name__} {self.record.key} "
                         f"(version {self.record.version}, {STATUS[self.record.status]})",
                         id="detail-title")
            with VerticalScroll(id="detail-scroll"):  # arrow keys scroll it at 80x24
                yield Static(Text("\n").join(
                    Text.assemble((f"{label}: ", "bold"), value)
                    for label, value in record_lines(self.record)), id="detail-body")
        yield Footer()
