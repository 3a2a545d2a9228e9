"""The CSV form of a catalogue export: its columns, and a row read into a record.

One kind of record per file, told apart by its header (docs/catalogue.md, "Catalogue
files"). Lists are separated by " | ". Source groups, grants, credit limits, level
requirements and quality assurances are written as the TUI shows them
(registry_core.expressions, registry_core.regulation_expressions), so there is one parser for
both. A row becomes a record
here; whether the record is valid is registry_core.records' job.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from registry.v1 import records_pb2 as rec
from registry_core.errors import InvalidRecord
from registry_core.expressions import (
    OPERATOR_CHOICES,
    ExpressionError,
    parse_credit,
    parse_grant,
    parse_level,
    parse_operator,
    parse_reference,
    parse_sources,
    split_list,
)
from registry_core.records import Record
from registry_core.regulation_expressions import (
    parse_credit_limit,
    parse_quality_assurance,
    parse_quality_assurance_kind,
    parse_requirement,
)

E = TypeVar("E", bound=int)  # a protobuf enum
T = TypeVar("T")  # what a written form parses to

# The written form of a group starts with its operator: `all of uk.ac.x/A, (2 of …)`.
WRITTEN_GROUP = re.compile(r"\s*(?:all|any|\d+)\s+of\b", re.IGNORECASE)
LEGACY_GRANT_COLUMNS = (
    "grant_unit_key",
    "grant_credit_value",
    "grant_credit_system",
    "grant_level_framework",
    "grant_level",
)
# A qualification's stacking rule and award regulations, one column per field.
STACKING_COLUMNS = ("total_credit", "credit_at_levels", "mandatory_unit_keys")
REGULATION_COLUMNS = (
    "max_from_elsewhere",
    "max_experiential",
    "residency",
    "relevant_subjects_isced",
    "programme_unit_keys",
    "max_credit_age_months",
    "regulations_source",
)
# The column holding each record field whose name is not the column's own, so that a refusal
# by validation names the column the registrar wrote (the longest matching field wins).
COLUMN_OF_FIELD = {
    "stacking_rule": "total_credit",
    "stacking_rule.total": "total_credit",
    "stacking_rule.at_levels": "credit_at_levels",
    "stacking_rule.mandatory_unit_keys": "mandatory_unit_keys",
    **{f"stacking_rule.regulations.{column}": column for column in REGULATION_COLUMNS},
    "stacking_rule.regulations.source": "regulations_source",
    "conditions.required_quality_assurance.bodies": "required_quality_assurance_bodies",
    "conditions.required_quality_assurance.kinds": "required_quality_assurance_kinds",
}


def _fail(column: str, problem: str) -> InvalidRecord:
    return InvalidRecord("row", column, problem)


def _enum(enum_type: type[E], prefix: str, value: str, column: str) -> E:
    """The value of enum_type (a protobuf enum) named prefix + value."""
    name = prefix + value.strip().upper().replace("-", "_").replace(" ", "_")
    wrapper: Any = enum_type  # a protobuf EnumTypeWrapper at run time
    try:
        return cast(E, wrapper.Value(name))
    except ValueError:
        choices = ", ".join(n.removeprefix(prefix) for n in wrapper.keys()[1:])
        raise _fail(column, f"'{value}' is not one of {choices}") from None


def _number(value: str, column: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise _fail(column, f"'{value}' is not a number") from None


def _whole(value: str, column: str) -> int:
    if not value.strip():
        return 0
    if not value.strip().isdigit():
        raise _fail(column, f"'{value}' is not a whole number")
    return int(value)


def _stated(value: str, column: str) -> bool | None:
    """A yes/no cell; None when it is empty (the record does not state it)."""
    word = value.strip().lower()
    if not word:
        return None
    if word in ("false", "no", "0", "n"):
        return False
    if word in ("true", "yes", "1", "y"):
        return True
    raise _fail(column, f"'{value}' is not yes or no; leave the cell empty where it is not stated")


def _flag(value: str, column: str) -> bool:
    """A yes/no cell of a field that is always stated: empty is no."""
    return bool(_stated(value, column))


_items = split_list


def column_of(field: str) -> str:
    """The column a refusal of the record's field belongs to: the field itself, or the
    column COLUMN_OF_FIELD gives for it or for the field it is part of."""
    parts = [field[: match.start()] for match in re.finditer(r"[.\[]", field)] + [field]
    return next(
        (COLUMN_OF_FIELD[part] for part in reversed(parts) if part in COLUMN_OF_FIELD), field
    )


def _each(column: str, parse: Callable[[str], T], row: dict[str, str]) -> list[T]:
    """Every item of a list column in its written form."""
    return [_expression(column, parse, item) for item in _items(row.get(column, ""))]


def _references(column: str, row: dict[str, str]) -> list[rec.CredentialRef]:
    return _each(column, parse_reference, row)


def _expression(column: str, parse: Callable[[str], T], text: str) -> T:
    try:
        return parse(text)
    except ExpressionError as error:
        raise _fail(column, str(error)) from None


def _status(row: dict[str, str]) -> rec.RecordStatus:
    return _enum(rec.RecordStatus, "RECORD_STATUS_", row.get("status") or "ACTIVE", "status")


def _micro_credential(row: dict[str, str], institution_id: str) -> rec.MicroCredential:
    return rec.MicroCredential(
        institution_id=institution_id,
        key=row["key"],
        version=1,
        status=_status(row),
        title=row["title"],
        awarding_body=row["awarding_body"],
        country=row["country"],
        learning_outcomes=_items(row["learning_outcomes"]),
        workload_hours=_number(row["workload_hours"], "workload_hours"),
        credit=rec.Credit(
            value=_number(row["credit_value"], "credit_value"), system=row["credit_system"]
        ),
        level=rec.Level(framework=row["level_framework"], level=row["level"]),
        assessment_type=row["assessment_type"],
        participation_form=_enum(
            rec.ParticipationForm,
            "PARTICIPATION_FORM_",
            row["participation_form"],
            "participation_form",
        ),
        quality_assurance=row["quality_assurance"],
        prerequisites=_items(row.get("prerequisites", "")),
        identity_verified_assessment=_stated(
            row.get("identity_verified_assessment", ""), "identity_verified_assessment"
        ),
        grading_scheme=row.get("grading_scheme", ""),
        stackable=_stated(row.get("stackable", ""), "stackable"),
        subject_isced=row.get("subject_isced", ""),
        skills=_items(row.get("skills", "")),
        credit_validity_months=_whole(
            row.get("credit_validity_months", ""), "credit_validity_months"
        ),
        url=row.get("url", ""),
        **_links(row),
    )


def _links(row: dict[str, str]) -> dict[str, Any]:
    """The columns micro-credentials and learning units share beyond the basics: structured
    quality assurance, the successor and the overlaps."""
    return {
        "quality_assurances": _each("quality_assurances", parse_quality_assurance, row),
        "superseded_by": row.get("superseded_by", ""),
        "overlaps_with": _references("overlaps_with", row),
    }


def _stacking_rule(row: dict[str, str]) -> rec.StackingRule | None:
    """A qualification's stacking rule and regulations from their columns; None when every
    one of them is empty."""
    given = [c for c in (*STACKING_COLUMNS, *REGULATION_COLUMNS) if row.get(c)]
    if not given:
        return None
    total = _expression("total_credit", parse_credit, row.get("total_credit", ""))
    if total is None:
        raise _fail(
            "total_credit",
            f"is empty but {given[0]} is set; a qualification's "
            "stacking rule and regulations need its total credit, e.g. '360 SCQF'",
        )
    rule = rec.StackingRule(
        total=total,
        at_levels=_each("credit_at_levels", parse_requirement, row),
        mandatory_unit_keys=_items(row.get("mandatory_unit_keys", "")),
    )
    regs = rule.regulations
    for column in ("max_from_elsewhere", "max_experiential"):
        limit = _expression(column, parse_credit_limit, row.get(column, ""))
        if limit is not None:
            getattr(regs, column).CopyFrom(limit)
    regs.residency.extend(_each("residency", parse_requirement, row))
    regs.relevant_subjects_isced.extend(_items(row.get("relevant_subjects_isced", "")))
    regs.programme_unit_keys.extend(_items(row.get("programme_unit_keys", "")))
    regs.max_credit_age_months = _whole(
        row.get("max_credit_age_months", ""), "max_credit_age_months"
    )
    regs.source = row.get("regulations_source", "")
    if regs == rec.AwardRegulations():
        rule.ClearField("regulations")
    return rule


def _learning_unit(row: dict[str, str], institution_id: str) -> rec.LearningUnit:
    unit = rec.LearningUnit(
        institution_id=institution_id,
        key=row["key"],
        version=1,
        status=_status(row),
        title=row["title"],
        kind=_enum(rec.LearningUnitKind, "LEARNING_UNIT_KIND_", row["kind"], "kind"),
        credit=rec.Credit(
            value=_number(row["credit_value"], "credit_value"), system=row["credit_system"]
        ),
        subject_isced=row.get("subject_isced", ""),
        cross_listed_keys=_items(row.get("cross_listed_keys", "")),
        grading_scheme=row.get("grading_scheme", ""),
        learning_outcomes=_items(row.get("learning_outcomes", "")),
        **_links(row),
    )
    rule = _stacking_rule(row)
    if rule is not None:
        unit.stacking_rule.CopyFrom(rule)
    framework, level = row.get("level_framework", ""), row.get("level", "")
    if framework and level:
        unit.level.CopyFrom(rec.Level(framework=framework, level=level))
    elif framework or level:
        empty, given = ("level", "level_framework") if framework else ("level_framework", "level")
        raise _fail(
            empty,
            f"is empty but {given} is set; give both, or leave both empty for a unit with no level",
        )
    return unit


def _source(row: dict[str, str]) -> rec.SourceGroup:
    """The sources column: a written group (`all of A, (2 of B, C)`), or a list `A | B` with
    its operator in source_operator (and source_n for N_OF)."""
    text, operator = row["sources"], row.get("source_operator", "")
    if WRITTEN_GROUP.match(text):
        if operator or row.get("source_n"):
            raise _fail(
                "source_operator",
                "is for a list of sources separated by ' | '; the "
                "sources column names its own operator, so leave source_operator and "
                "source_n empty",
            )
        return _expression("sources", parse_sources, text)
    group = rec.SourceGroup()
    for ref in _items(text):
        if "," in ref:
            raise _fail(
                "sources",
                f"'{ref}' holds a comma; separate the sources with ' | ', or "
                "write the group with its operator: 'all of A, (2 of B, C, D)'",
            )
        group.items.add(credential=_expression("sources", parse_reference, ref))
    n = _whole(row.get("source_n", ""), "source_n")
    if operator.strip().upper().replace(" ", "_") == "N_OF":
        group.operator, group.n = rec.GROUP_OPERATOR_N_OF, n
        return group
    try:
        group.operator, group.n = parse_operator(operator or "all of")
    except ExpressionError:
        raise _fail(
            "source_operator",
            f"'{operator}' is not a group operator; use {OPERATOR_CHOICES}, or N_OF with source_n",
        ) from None
    if n and n != group.n:
        raise _fail(
            "source_n", f"is {n} but source_operator says '{operator}'; give the number once"
        )
    return group


def _grant(row: dict[str, str]) -> rec.Grant:
    """The grant column in its written form, or the older grant_* columns."""
    legacy = [column for column in LEGACY_GRANT_COLUMNS if row.get(column)]
    if row.get("grant"):
        if legacy:
            raise _fail("grant", f"and {legacy[0]} both give the grant; keep one of them")
        return _expression("grant", parse_grant, row["grant"])
    if row.get("grant_unit_key"):
        return rec.Grant(unit_key=row["grant_unit_key"])
    if not legacy:
        raise _fail(
            "grant",
            "is required; write a unit key (BIOLOGY 1AL), units granted "
            "together ('units BIOLOGY 1A + BIOLOGY 1AL') or general credit "
            "('15 UK_CREDIT general at FHEQ 7')",
        )
    return rec.Grant(
        general_credit=rec.GeneralCredit(
            credit=rec.Credit(
                value=_number(row.get("grant_credit_value", ""), "grant_credit_value"),
                system=row.get("grant_credit_system", ""),
            ),
            level=rec.Level(
                framework=row.get("grant_level_framework", ""), level=row.get("grant_level", "")
            ),
        )
    )


def _agreement(row: dict[str, str], institution_id: str) -> rec.RecognitionAgreement:
    agreement = rec.RecognitionAgreement(
        institution_id=institution_id,
        key=row["key"],
        version=1,
        status=_status(row),
        title=row.get("title", ""),
        source=_source(row),
        grant=_grant(row),
        notes=_items(row.get("notes", "")),
        also_satisfies=_items(row.get("also_satisfies", "")),
    )
    cond = agreement.conditions
    if row.get("minimum_grade"):
        cond.minimum_grade.scheme = row.get("minimum_grade_scheme", "")
        cond.minimum_grade.value = row["minimum_grade"]
    level = _expression("minimum_level", parse_level, row.get("minimum_level", ""))
    if level is not None:
        cond.minimum_level.CopyFrom(level)
    cond.max_credit_age_months = _whole(
        row.get("max_credit_age_months", ""), "max_credit_age_months"
    )
    cond.valid_from = row.get("valid_from", "")
    cond.valid_to = row.get("valid_to", "")
    cond.completed_from = row.get("completed_from", "")
    cond.completed_to = row.get("completed_to", "")
    cond.transitive_allowed = _flag(row.get("transitive_allowed", ""), "transitive_allowed")
    cond.identity_verified_required = _flag(
        row.get("identity_verified_required", ""), "identity_verified_required"
    )
    cond.verified_holdings_required = _flag(
        row.get("verified_holdings_required", ""), "verified_holdings_required"
    )
    cond.for_programmes.extend(_items(row.get("for_programmes", "")))
    cond.restriction_text = row.get("restriction_text", "")
    cond.additional_requirements.extend(_items(row.get("additional_requirements", "")))
    bodies = _items(row.get("required_quality_assurance_bodies", ""))
    kinds = _each("required_quality_assurance_kinds", parse_quality_assurance_kind, row)
    if bodies or kinds:
        cond.required_quality_assurance.bodies.extend(bodies)
        cond.required_quality_assurance.kinds.extend(kinds)
    agreement.volume_exception = row.get("volume_exception", "")
    return agreement


@dataclass(frozen=True)
class CsvKind:
    """One kind of catalogue file: its name, the columns it must and may have, and how a row
    becomes a record."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    build: Callable[[dict[str, str], str], Record]

    def columns(self) -> set[str]:
        return {*self.required, *self.optional}


LINK_COLUMNS = ("quality_assurances", "superseded_by", "overlaps_with")
CSV_KINDS = (
    CsvKind(
        "micro-credentials",
        (
            "key",
            "title",
            "awarding_body",
            "country",
            "learning_outcomes",
            "workload_hours",
            "credit_value",
            "credit_system",
            "level_framework",
            "level",
            "assessment_type",
            "participation_form",
            "quality_assurance",
        ),
        (
            "prerequisites",
            "identity_verified_assessment",
            "grading_scheme",
            "stackable",
            "subject_isced",
            "skills",
            "credit_validity_months",
            "url",
            "status",
            *LINK_COLUMNS,
        ),
        _micro_credential,
    ),
    CsvKind(
        "learning units",
        ("key", "title", "kind", "credit_value", "credit_system"),
        (
            "level_framework",
            "level",
            "subject_isced",
            "cross_listed_keys",
            "status",
            "grading_scheme",
            "learning_outcomes",
            *LINK_COLUMNS,
            *STACKING_COLUMNS,
            *REGULATION_COLUMNS,
        ),
        _learning_unit,
    ),
    CsvKind(
        "agreements",
        ("key", "sources"),
        (
            "title",
            "status",
            "source_operator",
            "source_n",
            "grant",
            *LEGACY_GRANT_COLUMNS,
            "minimum_grade_scheme",
            "minimum_grade",
            "minimum_level",
            "max_credit_age_months",
            "valid_from",
            "valid_to",
            "completed_from",
            "completed_to",
            "transitive_allowed",
            "identity_verified_required",
            "verified_holdings_required",
            "for_programmes",
            "restriction_text",
            "additional_requirements",
            "notes",
            "also_satisfies",
            "required_quality_assurance_bodies",
            "required_quality_assurance_kinds",
            "volume_exception",
        ),
        _agreement,
    ),
)


def kind_of_header(header: list[str]) -> CsvKind:
    """The kind of file a header belongs to; InvalidRecord names the column that is missing
    (for the kind whose columns it has most of) or that no such file has."""
    present = {column for column in header if column}
    for kind in CSV_KINDS:
        if set(kind.required) <= present:
            unknown = sorted(present - kind.columns())
            if unknown:
                raise _fail(
                    unknown[0],
                    f"is not a column of {kind.name} files; their "
                    f"columns are {', '.join((*kind.required, *kind.optional))}",
                )
            return kind

    # Every kind has a key column, so the kind meant is the one sharing most other columns
    # (then the larger share of its columns).
    def shared(kind: CsvKind) -> tuple[int, float]:
        common = present & set(kind.required) - {"key"}
        return len(common), len(common) / len(kind.required)

    closest = max(CSV_KINDS, key=shared)
    missing = [column for column in closest.required if column not in present]
    if shared(closest)[0]:
        raise _fail(
            missing[0],
            f"is missing: {closest.name} files need the columns "
            f"{', '.join(closest.required)}; add {', '.join(missing)}",
        )
    wanted = "; ".join(f"{k.name}: {', '.join(k.required)}" for k in CSV_KINDS)
    raise _fail(
        "(header)", f"the columns do not match any record kind; expected the columns of {wanted}"
    )
