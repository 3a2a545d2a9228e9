"""Import a catalogue export (CSV or JSON) from the student-records system.

A file is imported whole or not at all: every row is parsed and validated first, and the
first bad row is reported with the file, the line and the field. An agreement must grant units
the institution's catalogue has: in the file itself, or already in the agent's store.

JSON: {"micro_credentials": [...], "learning_units": [...], "agreements": [...]}, each entry
in the protobuf JSON form of records.proto (camelCase or snake_case names).
CSV: one kind of record per file, told apart by its header (sync_agent/catalogue_csv.py and
docs/catalogue.md, "Catalogue files"); lists are separated by " | ".
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import json_format

from registry.v1 import records_pb2 as rec
from registry_core.errors import InvalidRecord
from registry_core.records import Record, granted_unit_keys, validate_record
from sync_agent.catalogue_csv import column_of, kind_of_header

JSON_SECTIONS: dict[str, type[Record]] = {
    "micro_credentials": rec.MicroCredential,
    "learning_units": rec.LearningUnit,
    "agreements": rec.RecognitionAgreement,
}


class CatalogueError(Exception):
    """A bad row: names the file, the line and the field, and says what to fix."""

    def __init__(self, path: Path, line: int, field: str, problem: str) -> None:
        self.path, self.line, self.field, self.problem = path, line, field, problem
        # line 0: a problem of the whole file or of an option, not of one line
        where = f"{path} line {line}, field" if line else f"{path}: field"
        super().__init__(f"{where} '{field}': {problem}; nothing from this file was imported")


@dataclass(frozen=True)
class Entry:
    """A record as read from a file, not yet validated: its line, what the file calls the
    record's fields (prefix: '' for a CSV column, 'agreements[2].' in JSON) and its grant."""

    record: Record
    line: int
    prefix: str
    grant_field: str


def parse_csv(path: Path, text: str, institution_id: str) -> list[Entry]:
    """Every row of a CSV catalogue as a validated record; CatalogueError names the line and
    the column of the first bad row."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    try:
        kind = kind_of_header(header)
    except InvalidRecord as error:
        raise CatalogueError(path, 1, error.field, error.problem) from None
    entries = []
    for values in reader:
        if None in values:
            raise CatalogueError(
                path, reader.line_num, "(row)", "has more cells than the header has columns"
            )
        row = {k.strip(): (v or "").strip() for k, v in values.items()}
        try:
            record = kind.build(row, institution_id)
            validate_record(record)
        except InvalidRecord as error:
            column = column_of(error.field)
            detail = error.field.removeprefix(column) if column != error.field else ""
            # The part of the field within the column: "share is 1.5; …" for max_from_elsewhere.
            problem = f"{detail.lstrip('.')} {error.problem}" if detail else error.problem
            raise CatalogueError(path, reader.line_num, column, problem) from None
        entries.append(
            Entry(record, reader.line_num, "", "grant" if row.get("grant") else "grant_unit_key")
        )
    return entries


# Deepest nesting of arrays and objects a JSON file may have: an agreement's source groups
# (the deepest thing a catalogue, badge or ELM document holds) need some 25 levels. Deeper
# files would exhaust Python's recursion in the JSON and protobuf parsers.
MAX_JSON_DEPTH = 100
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def load_json(path: Path, text: str) -> object:
    """The parsed JSON of a file's text. CatalogueError (never a traceback) names the line of
    a syntax error, or of the bracket that nests deeper than MAX_JSON_DEPTH."""
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                line = text.count("\n", 0, token.start()) + 1
                raise CatalogueError(
                    path,
                    line,
                    "(file)",
                    f"nests arrays and objects more than "
                    f"{MAX_JSON_DEPTH} deep; no catalogue, badge or agreement "
                    "needs that many levels: check the export",
                )
        elif bracket in "]}":
            depth -= 1
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueError(path, exc.lineno, "(file)", f"not valid JSON: {exc.msg}") from None


def read_text(path: Path) -> str:
    """A file's text as UTF-8, a byte-order mark or not. CatalogueError names the line of a
    byte that is not UTF-8 (or a file that cannot be read)."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(path, 0, "(file)", f"cannot be read: {exc.strerror}") from None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Lines end in \n, \r\n or (an old spreadsheet's export) a lone \r, as csv reads them.
        before = content[: exc.start]
        line = before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1
        raise CatalogueError(
            path,
            line,
            "(file)",
            f"byte 0x{content[exc.start]:02x} is not UTF-8 text; export the file as UTF-8",
        ) from None


def _line_of(text: str, key: str) -> int:
    """Line of the first `"key": "<key>"` in text: JSON parsers do not keep positions."""
    match = re.search(r'"key"\s*:\s*' + re.escape(json.dumps(key)), text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def parse_json(path: Path, text: str, institution_id: str) -> list[Entry]:
    """Every entry of a JSON catalogue as a validated record; CatalogueError names the line of
    the first bad entry and its field."""
    data = load_json(path, text)
    if not isinstance(data, dict) or not set(data) <= set(JSON_SECTIONS):
        raise CatalogueError(
            path, 1, "(file)", f"expected an object with the sections {', '.join(JSON_SECTIONS)}"
        )
    found: list[Entry] = []
    for section, cls in JSON_SECTIONS.items():
        entries = data.get(section, [])
        if not isinstance(entries, list):
            raise CatalogueError(path, 1, section, "must be a list of records")
        for index, entry in enumerate(entries):
            key = entry.get("key", "") if isinstance(entry, dict) else ""
            line = _line_of(text, key) if key else 1
            where = f"{section}[{index}]"
            if not isinstance(entry, dict):
                raise CatalogueError(path, line, where, "must be an object")
            entry = {
                "institutionId": institution_id,
                "version": 1,
                "status": "RECORD_STATUS_ACTIVE",
                **entry,
            }
            message = cls()
            try:
                json_format.ParseDict(entry, message)
            except json_format.ParseError as exc:
                raise CatalogueError(path, line, where, str(exc)) from None
            if message.institution_id != institution_id:
                raise CatalogueError(
                    path,
                    line,
                    f"{where}.institution_id",
                    f"is '{message.institution_id}' but this agent publishes "
                    f"for {institution_id}; remove the field",
                )
            try:
                validate_record(message)
            except InvalidRecord as error:
                raise CatalogueError(path, line, f"{where}.{error.field}", error.problem) from None
            found.append(Entry(message, line, f"{where}.", f"{where}.grant"))
    return found


def check_granted_units(path: Path, entries: Iterable[Entry], held_units: Iterable[Record]) -> None:
    """Refuse an agreement that grants a unit the institution's catalogue does not have: the
    file's learning units, else those already held (a unit the file also has is the file's).
    A withdrawn unit is not in the catalogue; a grant names a unit by its own key, as the
    registry requires (ADR 10): a cross-listed code is refused naming the key to use; a
    withdrawn agreement grants nothing, so it is not checked."""
    units = {u.key: u for u in held_units if isinstance(u, rec.LearningUnit)}
    units.update(
        (e.record.key, e.record) for e in entries if isinstance(e.record, rec.LearningUnit)
    )
    catalogue = UnitCatalogue(units.values())
    for entry in entries:
        agreement = entry.record
        if (
            not isinstance(agreement, rec.RecognitionAgreement)
            or (missing := catalogue.missing(agreement)) is None
        ):
            continue
        key, own_key = missing
        if own_key is not None:
            raise CatalogueError(
                path,
                entry.line,
                entry.grant_field,
                f"agreement {agreement.key} grants '{key}', a cross-listed "
                f"code of unit '{own_key}'; grant the unit by its own key, "
                f"'{own_key}'",
            )
        raise CatalogueError(
            path,
            entry.line,
            entry.grant_field,
            f"agreement {agreement.key} grants unit '{key}', which is "
            "neither in this file nor in the agent's store; import the "
            "unit first (or in the same file), or correct the key",
        )


class UnitCatalogue:
    """An institution's units that are not withdrawn, by key and by cross-listed code: what
    its agreements may grant (the import and the terminal UI's form both ask it)."""

    def __init__(self, units: Iterable[rec.LearningUnit]) -> None:
        live = [u for u in units if u.status != rec.RECORD_STATUS_WITHDRAWN]
        self.keys = {u.key for u in live}
        self.listed_as = {code: u.key for u in live for code in u.cross_listed_keys}

    def missing(self, agreement: rec.RecognitionAgreement) -> tuple[str, str | None] | None:
        """The first unit key the agreement grants that is not in the catalogue, with the
        unit's own key when it is one of that unit's cross-listed codes (grants name a unit
        by its own key, ADR 10); None when every one is there, or the agreement is
        withdrawn (it grants nothing)."""
        if agreement.status == rec.RECORD_STATUS_WITHDRAWN:
            return None
        for key in granted_unit_keys(agreement.grant):
            if key not in self.keys:
                return key, self.listed_as.get(key)
        return None


def read_catalogue(
    path: Path, institution_id: str, held_units: Iterable[Record] = ()
) -> list[Record]:
    """Every record of a catalogue file, validated; CatalogueError on the first bad row.
    held_units: the learning units the agent's store already holds (its agreements may grant
    them); with none, the file's agreements may grant only the file's own units."""
    if not path.is_file():
        raise CatalogueError(path, 0, "(file)", "no such file")
    parse = {".csv": parse_csv, ".json": parse_json}.get(path.suffix.lower())
    if parse is None:
        raise CatalogueError(path, 0, "(file)", "use a .csv or .json export")
    entries = parse(path, read_text(path), institution_id)
    check_granted_units(path, entries, held_units)
    return [entry.record for entry in entries]
