"""Tables that fit the terminal: each column has a least width, which every column gets even at
80 columns, and a share of the width beyond; a longer value is cut with an ellipsis, and
enter shows the row whole (the record's detail, or RowScreen).

The table keeps each row's whole values (`full_row`), so that what the app filters, shows in
full or acts on is never the cut text; the cells hold the cut text only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.markup import escape
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

# Each cell's padding (one column each side), and room kept for the vertical scroll bar.
PADDING = 2
SCROLLBAR = 2
NARROWEST = 80  # the width the least widths are chosen for, before the table is laid out


@dataclass(frozen=True)
class Column:
    label: str
    least: int  # the width it keeps however narrow the terminal
    share: int = 0  # its part of the width beyond every column's least


def widths(total: int, columns: Sequence[Column]) -> list[int]:
    """Each column's width in a table total cells wide."""
    room = total - PADDING * len(columns) - SCROLLBAR
    extra = max(0, room - sum(c.least for c in columns))
    shares = sum(c.share for c in columns) or 1
    return [c.least + extra * c.share // shares for c in columns]


def fitted(value: str, width: int) -> str:
    """value, cut to width cells with an ellipsis if it is wider (one line: a value's line
    breaks are shown as spaces)."""
    text = Text(" ".join(value.split("\n")))
    if text.cell_len > width:
        text.truncate(width, overflow="ellipsis")
    return text.plain


class FittedTable(DataTable[str]):
    """A DataTable whose columns (COLUMNS, or columns) share the table's width."""

    COLUMNS: ClassVar[tuple[Column, ...]] = ()

    def __init__(self, columns: Sequence[Column] = (), **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        super().__init__(**kwargs)
        self.spec = tuple(columns) or self.COLUMNS
        self._full: dict[str, tuple[str, ...]] = {}
        self._fitted_to = 0

    def on_mount(self) -> None:
        if not self._fitted_to:
            self._fit(self.size.width or NARROWEST)
        self._show_hint(not self._full)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width and event.size.width != self._fitted_to:
            self._fit(event.size.width)

    def _fit(self, total: int) -> None:
        """Columns for a table total cells wide, and every row cut again to them."""
        self._fitted_to = total
        rows = list(self._full.items())
        cursor = self.cursor_row
        super().clear(columns=True)
        self._widths = widths(total, self.spec)
        for column, width in zip(self.spec, self._widths, strict=True):
            self.add_column(column.label, width=width)
        for key, cells in rows:
            super().add_row(*self._cut(cells), key=key)
        if rows:
            self.move_cursor(row=min(cursor, len(rows) - 1))

    def _cut(self, cells: Sequence[str]) -> list[str]:
        # A value is text, never Rich markup: a title such as "Data [advanced]" shows as typed.
        return [
            escape(fitted(cell, width)) for cell, width in zip(cells, self._widths, strict=True)
        ]

    def add_fitted_row(self, *cells: str, key: str | None = None) -> None:
        """A row of whole values; the table shows them cut to its columns."""
        if not self._fitted_to:  # rows before the table's own mount
            self._fit(self.size.width or NARROWEST)
        key = key if key is not None else f"row-{len(self._full)}"
        self._full[key] = tuple(cells)
        super().add_row(*self._cut(cells), key=key)
        if len(self._full) == 1:
            self._show_hint(False)

    def _show_hint(self, empty: bool) -> None:
        """The table's hint (a widget with id "<table id>-empty", saying what to do to fill
        it) is shown while the table is empty."""
        if self.id and self.is_mounted:
            for hint in self.screen.query(f"#{self.id}-empty"):
                hint.display = empty

    def full_row(self, key: str) -> list[str]:
        """The row's whole values, as added."""
        return list(self._full[key])

    def full_row_at(self, index: int) -> list[str]:
        """The whole values of the row shown at index."""
        return self.full_row(self.coordinate_to_cell_key(Coordinate(index, 0)).row_key.value or "")

    def clear(self, columns: bool = False) -> FittedTable:
        """Empty the table, remembering the row under the cursor for refilled()."""
        self._cursor_key = (
            self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
            if self.row_count
            else None
        )
        self._full.clear()
        super().clear(columns)
        self._show_hint(True)
        return self

    def refilled(self) -> None:
        """Put the cursor back on the row it was on before clear(), if still listed (a
        refresh after an action must not move the registrar to another row)."""
        key = getattr(self, "_cursor_key", None)
        if key is not None and key in self.rows:
            self.move_cursor(row=self.get_row_index(key))

    def labelled_row(self, key: str) -> list[tuple[str, str]]:
        """The row's whole values, each with its column's label."""
        return [
            (column.label, value) for column, value in zip(self.spec, self._full[key], strict=True)
        ]


class Details(ModalScreen[str | None]):
    """Labelled values in full under a title (a table's row, a record), scrolling; what
    closes it is the subclass's BINDINGS."""

    def __init__(self, title: str, row: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.row = row

    def compose(self) -> ComposeResult:
        with Vertical(id="detail"):
            yield Static(self.title_text, id="detail-title")
            with VerticalScroll(id="detail-scroll"):
                yield Static(
                    Text("\n").join(
                        Text.assemble((f"{label}: ", "bold"), value) for label, value in self.row
                    ),
                    id="detail-body",
                )
        yield Footer()

    def on_mount(self) -> None:
        # Arrow keys, page down and end scroll at once: at 80x24 a record's last fields, or a
        # long row's, are below the fold.
        self.query_one("#detail-scroll").focus()


class RowScreen(Details):
    """One row of a table in full, each value under its column's name."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "dismiss(None)", "Close")
    ]
