"""Import a catalogue export (CSV or JSON) from the student-records system.

A file is imported whole or not at all: every row is parsed and validated first, and the
first bad row is reported with the file, the line and the field.

JSON: {"micro_credentials": [...], "learning_units": [...], "agreements": [...]}, each entry
in the protobuf JSON form of records.proto (camelCase or snake_case names).
CSV: one kind of record per file, told apart by its header (see README, "Catalogue files");
lists are separated by " | ".
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from google.protobuf import json_format

from registry.v1 import records_pb2 as rec
from registry_core.errors import InvalidRecord
from registry_core.records import Record, validate_record

E = TypeVar("E", bound=int)  # a protobuf enum

LIST_SEPARATOR = "|"
JSON_SECTIONS: dict[str, type[Record]] = {
    "micro_credentials": rec.MicroCredential,
    "learning_units": rec.LearningUnit,
    "agreements": rec.RecognitionAgreement,
}


class CatalogueError(Exception):
    """A bad row: names the file, the line and the field, and says what to fix."""

    def __init__(self, path: Path, line: int, field: str, problem: str) -> None:
        self.path, self.line, self.field, self.problem = path, line, field, problem
        super().__init__(f"{path} line {line}, field '{field}': {problem}; nothing from this "
                         "file was imported")


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]


def _enum(enum_type: type[E], prefix: str, value: str, field: str) -> E:
    """The value of enum_type (a protobuf enum) named prefix + value."""
    name = prefix + value.strip().upper().replace("-", "_").replace(" ", "_")
    wrapper: Any = enum_type  # a protobuf EnumTypeWrapper at run time
    try:
        return cast(E, wrapper.Value(name))
    except ValueError:
        choices = ", ".join(n.removeprefix(prefix) for n in wrapper.keys()[1:])
        raise InvalidRecord("row", field, f"'{value}' is not one of {choices}") from None


def _number(value: str, field: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise InvalidRecord("row", field, f"'{value}' is not a number") from None


def _whole(value: str, field: str) -> int:
    if not value.strip():
        return 0
    if not value.strip().isdigit():
        raise InvalidRecord("row", field, f"'{value}' is not a whole number")
    return int(value)


def _flag(value: str, field: str) -> bool:
    word = value.strip().lower()
    if word in ("", "false", "no", "0", "n"):
        return False
    if word in ("true", "yes", "1", "y"):
        return True
    raise InvalidRecord("row", field, f"'{value}' is not yes or no")


def _items(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def _status(row: dict[str, str]) -> rec.RecordStatus:
    return _enum(rec.RecordStatus, "RECORD_STATUS_", row.get("status") or "ACTIVE", "status")


def _micro_credential(row: dict[str, str], institution_id: str) -> rec.MicroCredential:
    return rec.MicroCredential(
        institution_id=institution_id, key=row["key"], version=1, status=_status(row),
        title=row["title"], awarding_body=row["awarding_body"], country=row["country"],
        learning_outcomes=_items(row["learning_outcomes"]),
        workload_hours=_number(row["workload_hours"], "workload_hours"),
        credit=rec.Credit(value=_number(row["credit_value"], "credit_value"),
                          system=row["credit_system"]),
        level=rec.Level(framework=row["level_framework"], level=row["level"]),
        assessment_type=row["assessment_type"],
        participation_form=_enum(rec.ParticipationForm, "PARTICIPATION_FORM_",
                                 row["participation_form"], "participation_form"),
        quality_assurance=row["quality_assurance"],
        prerequisites=_items(row.get("prerequisites", "")),
        identity_verified_assessment=_flag(row.get("identity_verified_assessment", ""),
                                           "identity_verified_assessment"),
        grading_scheme=row.get("grading_scheme", ""),
        stackable=_flag(row.get("stackable", ""), "stackable"),
        subject_isced=row.get("subject_isced", ""),
        skills=_items(row.get("skills", "")),
        credit_validity_months=_whole(row.get("credit_validity_months", ""),
                                      "credit_validity_months"),
        url=row.get("url", ""),
    )


def _learning_unit(row: dict[str, str], institution_id: str) -> rec.LearningUnit:
    return rec.LearningUnit(
        institution_id=institution_id, key=row["key"], version=1, status=_status(row),
        title=row["title"],
        kind=_enum(rec.LearningUnitKind, "LEARNING_UNIT_KIND_", row["kind"], "kind"),
        credit=rec.Credit(value=_number(row["credit_value"], "credit_value"),
                          system=row["credit_system"]),
        level=rec.Level(framework=row["level_framework"], level=row["level"]),
        subject_isced=row.get("subject_isced", ""),
    )


CREDENTIAL_REF = re.compile(r"^([^/\s]+)/(\S+)$")


def _agreement(row: dict[str, str], institution_id: str) -> rec.RecognitionAgreement:
    items = []
    for ref in _items(row["sources"]):
        match = CREDENTIAL_REF.match(ref)
        if not match:
            raise InvalidRecord("row", "sources", f"'{ref}' is not provider/key, e.g. "
                                "uk.ac.hw/HW-DE01")
        items.append(rec.SourceItem(credential=rec.CredentialRef(
            institution_id=match[1], key=match[2])))
    agreement = rec.RecognitionAgreement(
        institution_id=institution_id, key=row["key"], version=1, status=_status(row),
        title=row.get("title", ""),
        source=rec.SourceGroup(
            operator=_enum(rec.GroupOperator, "GROUP_OPERATOR_", row.get("source_operator")
                           or "ALL_OF", "source_operator"),
            n=_whole(row.get("source_n", ""), "source_n"), items=items),
    )
    if row.get("grant_unit_key"):
        agreement.grant.unit_key = row["grant_unit_key"]
    else:
        general = agreement.grant.general_credit
        general.credit.value = _number(row.get("grant_credit_value", ""), "grant_credit_value")
        general.credit.system = row.get("grant_credit_system", "")
        general.level.framework = row.get("grant_level_framework", "")
        general.level.level = row.get("grant_level", "")
    cond = agreement.conditions
    if row.get("minimum_grade"):
        cond.minimum_grade.scheme = row.get("minimum_grade_scheme", "")
        cond.minimum_grade.value = row["minimum_grade"]
    cond.max_credit_age_months = _whole(row.get("max_credit_age_months", ""),
                                        "max_credit_age_months")
    cond.valid_from = row.get("valid_from", "")
    cond.valid_to = row.get("valid_to", "")
    cond.transitive_allowed = _flag(row.get("transitive_allowed", ""), "transitive_allowed")
    cond.identity_verified_required = _flag(row.get("identity_verified_required", ""),
                                            "identity_verified_required")
    return agreement


CSV_KINDS: list[tuple[str, set[str], Callable[[dict[str, str], str], Record]]] = [
    ("micro-credentials", {"key", "title", "awarding_body", "country", "learning_outcomes",
                           "workload_hours", "credit_value", "credit_system", "level_framework",
                           "level", "assessment_type", "participation_form",
                           "quality_assurance"}, _micro_credential),
    ("learning units", {"key", "title", "kind", "credit_value", "credit_system",
                        "level_framework", "level"}, _learning_unit),
    ("agreements", {"key", "sources"}, _agreement),
]


def _csv_rows(path: Path) -> tuple[list[str], Iterator[Row]]:
    handle = path.open(newline="", encoding="utf-8-sig")
    reader = csv.DictReader(handle)
    header = [h.strip() for h in reader.fieldnames or []]

    def rows() -> Iterator[Row]:
        with handle:
            for values in reader:
                if None in values:
                    raise CatalogueError(path, reader.line_num, "(row)",
                                         "has more cells than the header has columns")
                yield Row(reader.line_num, {k.strip(): (v or "").strip()
                                            for k, v in values.items()})
    return header, rows()


def read_csv(path: Path, institution_id: str) -> list[Record]:
    header, rows = _csv_rows(path)
    for name, required, build in CSV_KINDS:
        if required <= set(header):
            break
    else:
        wanted = "; ".join(f"{n}: {', '.join(sorted(r))}" for n, r, _ in CSV_KINDS)
        raise CatalogueError(path, 1, "(header)", f"the columns do not match any record kind; "
                             f"expected the columns of {wanted}")
    records = []
    for row in rows:
        try:
            record = build(row.values, institution_id)
            validate_record(record)
        except InvalidRecord as error:
            raise CatalogueError(path, row.line, error.field, error.problem) from None
        records.append(record)
    return records


def _line_of(text: str, key: str) -> int:
    """Line of the first `"key": "<key>"` in text: JSON parsers do not keep positions."""
    match = re.search(r'"key"\s*:\s*' + re.escape(json.dumps(key)), text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def read_json(path: Path, institution_id: str) -> list[Record]:
    text = path.read_text("utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueError(path, exc.lineno, "(file)", f"not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or not set(data) <= set(JSON_SECTIONS):
        raise CatalogueError(path, 1, "(file)", "expected an object with the sections "
                             f"{', '.join(JSON_SECTIONS)}")
    records: list[Record] = []
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
            entry = {"institutionId": institution_id, "version": 1, "status": "RECORD_STATUS_ACTIVE",
                     **entry}
            message = cls()
            try:
                json_format.ParseDict(entry, message)
            except json_format.ParseError as exc:
                raise CatalogueError(path, line, where, str(exc)) from None
            if message.institution_id != institution_id:
                raise CatalogueError(path, line, f"{where}.institution_id",
                                     f"is '{message.institution_id}' but this agent publishes "
                                     f"for {institution_id}; remove the field")
            try:
                validate_record(message)
            except InvalidRecord as error:
                raise CatalogueError(path, line, f"{where}.{error.field}", error.problem) from None
            records.append(message)
    return records


def read_catalogue(path: Path, institution_id: str) -> list[Record]:
    """Every record of a catalogue file, validated; CatalogueError on the first bad row."""
    if not path.is_file():
        raise CatalogueError(path, 0, "(file)", "no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return read_csv(path, institution_id)
        if suffix == ".json":
            return read_json(path, institution_id)
    except UnicodeDecodeError:
        raise CatalogueError(path, 1, "(file)", "is not UTF-8 text; export it as UTF-8") from None
    raise CatalogueError(path, 0, "(file)", "use a .csv or .json export")
