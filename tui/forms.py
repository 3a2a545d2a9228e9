"""Create and edit forms for the catalogue and the agreements.

Each form is a list of fields and one function that builds the record from what was typed.
Every keystroke builds the record and runs the registry's own validation
(registry_core.records), so the form names the wrong field with the same words the registry
would use, before anything is saved or published.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static, Tree
from textual.widgets.tree import TreeNode

from registry.v1 import records_pb2 as rec
from registry_core.conversion import table
from registry_core.errors import InvalidRecord
from registry_core.expressions import (
    ExpressionError,
    format_credit,
    format_grade,
    format_grant,
    format_level,
    format_operator,
    format_sources,
    join_list,
    parse_credit,
    parse_grade,
    parse_grant,
    parse_level,
    parse_reference,
    parse_sources,
    split_list,
)
from registry_core.records import Record, copy_of, validate_record
from registry_core.regulation_expressions import (
    format_credit_limit,
    format_quality_assurance,
    format_quality_assurance_kind,
    format_requirement,
    parse_credit_limit,
    parse_quality_assurance,
    parse_quality_assurance_kind,
    parse_requirement,
)
from tui.confirm import ConfirmScreen
from tui.words import choice_label

T = TypeVar("T")  # what an expression parses to

STATUSES = ("DRAFT", "ACTIVE", "SUSPENDED")
# A micro-credential or a unit can also be replaced by a newer record, named in superseded_by.
REPLACEABLE_STATUSES = (*STATUSES, "SUPERSEDED")
PARTICIPATION = ("ONLINE", "ONSITE", "BLENDED")
# An optional yes/no element: the blank choice is "Not stated", which leaves the field unset.
YES_NO = ("Yes", "No")
QUALIFICATION = ("kind", "QUALIFICATION")
REGULATIONS = "stacking_rule.regulations."
REQUIRED_QA = "conditions.required_quality_assurance."


# Words of the record format a rule's message may use that no form field is named after,
# as a registrar reads them on the form.
FORMAT_WORDS = {
    "unit_key": "module key",
    "units (a series)": "units A + B",
    "general_credit": "general credit (e.g. 15 UK_CREDIT general at FHEQ 7)",
}


def spoken_path(path: str) -> str:
    """A record format's field path as words: source.items[1].credential.institution_id is
    "source › item 2 › credential › institution id"."""
    words = re.sub(r"\[(\d+)\]", lambda m: f" {int(m[1]) + 1}", path.strip("."))
    words = re.sub(r"\bitems (\d+)", r"item \1", words)
    return " › ".join(part.replace("_", " ") for part in words.split(".") if part)


def in_form_words(message: str, fields: Sequence[Field]) -> str:
    """message with the record format's field names said as the form's labels: "is before
    valid_from 2026-06-01" reads "is before 'Valid from' 2026-06-01"."""
    names: dict[str, str] = dict(FORMAT_WORDS)
    for field in fields:
        names.setdefault(field.name.rsplit(".", 1)[-1], f"'{field.label}'")
        names[field.name] = f"'{field.label}'"
    for name in sorted(names, key=len, reverse=True):
        if "_" in name or "." in name or " " in name:  # one plain word ("grant") is English
            message = re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w])", names[name], message)
    return message


class FieldProblem(Exception):
    """What is wrong with one field of the form, in the registry's words."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


@dataclass(frozen=True)
class Field:
    """One input of a form. name is the record's field as validation names it."""

    name: str
    label: str
    kind: str = "text"  # text | choice | switch
    choices: tuple[str, ...] = ()
    placeholder: str = ""
    optional_choice: bool = False
    blank: str = "(none)"  # what an optional choice's blank says
    shown_when: tuple[str, str] | None = None  # (another field, its value): only then shown
    # The conversion table's section a choice's codes are from, whose names the list shows.
    section: str = ""


Values = dict[str, str | bool]


def _text(values: Values, name: str) -> str:
    value = values[name]
    assert isinstance(value, str)
    return value.strip()


MAX_COUNT = 2**32 - 1


def _number(values: Values, name: str, *, integer: bool = False) -> float:
    text = _text(values, name)
    if not text:
        return 0
    try:
        number = int(text) if integer else float(text)
    except ValueError:
        whole = "a whole number" if integer else "a number"
        raise FieldProblem(name, f"'{text[:20]}' is not {whole}; e.g. 10") from None
    # A whole number here is a count (months) the record holds unsigned: a negative one, or
    # one past 32 bits, would fail in the record itself rather than name the field.
    if integer and not 0 <= number <= MAX_COUNT:
        raise FieldProblem(
            name, f"is {number}; give a whole number from 0 (no limit) to {MAX_COUNT}"
        )
    return number


def _stated(values: Values, name: str) -> bool | None:
    """A Not stated / Yes / No choice: None when not stated."""
    return {"": None, "Yes": True, "No": False}[_text(values, name)]


def _stated_name(record: rec.MicroCredential, name: str) -> str:
    if not record.HasField(name):
        return ""
    return "Yes" if getattr(record, name) else "No"


def _items(values: Values, name: str, separator: str = ";") -> list[str]:
    return [item.strip() for item in _text(values, name).split(separator) if item.strip()]


def _expression(name: str, parse: Callable[[str], T], text: str) -> T:
    try:
        return parse(text)
    except ExpressionError as error:
        raise FieldProblem(name, str(error)) from None


def _each(values: Values, name: str, parse: Callable[[str], T]) -> list[T]:
    """Every item of a list field, written with ' | ' between items as the catalogue files'
    list columns are."""
    return [_expression(name, parse, item) for item in split_list(_text(values, name))]


def _status(values: Values) -> rec.RecordStatus:
    return cast(
        rec.RecordStatus,
        rec.RecordStatus.Value("RECORD_STATUS_" + (_text(values, "status") or "UNSPECIFIED")),
    )


def _status_name(status: int, choices: tuple[str, ...] = STATUSES) -> str:
    name = rec.RecordStatus.Name(status).removeprefix("RECORD_STATUS_")
    return name if name in choices else "DRAFT"


def _credit_and_level_fields() -> list[Field]:
    conversion = table()
    return [
        Field("credit.value", "Credit", placeholder="e.g. 10"),
        Field(
            "credit.system",
            "Credit system",
            "choice",
            conversion.credit_systems,
            section="credit_systems",
        ),
        Field(
            "level.framework",
            "Level framework",
            "choice",
            conversion.level_frameworks,
            section="level_frameworks",
        ),
        Field("level.level", "Level", placeholder="as the framework writes it, e.g. 7"),
    ]


def _credit(values: Values) -> rec.Credit:
    return rec.Credit(value=_number(values, "credit.value"), system=_text(values, "credit.system"))


def _level(values: Values) -> rec.Level:
    return rec.Level(framework=_text(values, "level.framework"), level=_text(values, "level.level"))


# Structured quality assurance, the successor and the overlaps, which micro-credentials and
# units share, in the catalogue files' written forms.
QUALITY_ASSURANCES = Field(
    "quality_assurances",
    "QA decisions",
    placeholder="body; KIND; YYYY-MM-DD[; reference][; until YYYY-MM-DD] | …",
)
SUCCESSION = (
    Field(
        "superseded_by",
        "Superseded by",
        placeholder="key of the record that replaces it (status SUPERSEDED)",
    ),
    Field(
        "overlaps_with",
        "Overlaps with",
        placeholder="records sharing its learning: provider/key | …",
    ),
)


def _links(values: Values) -> dict[str, Any]:
    return {
        "quality_assurances": _each(values, "quality_assurances", parse_quality_assurance),
        "superseded_by": _text(values, "superseded_by"),
        "overlaps_with": _each(values, "overlaps_with", parse_reference),
    }


def _link_values(record: rec.MicroCredential | rec.LearningUnit) -> Values:
    return {
        "quality_assurances": join_list(map(format_quality_assurance, record.quality_assurances)),
        "superseded_by": record.superseded_by,
        "overlaps_with": join_list(
            f"{ref.institution_id}/{ref.key}" for ref in record.overlaps_with
        ),
    }


# --- micro-credentials ---------------------------------------------------------------------


def micro_credential_fields() -> list[Field]:
    conversion = table()
    return [
        Field("key", "Key", placeholder="student-records code, e.g. MC-DS01"),
        Field("title", "Title"),
        Field("awarding_body", "Awarding body"),
        Field("country", "Country", placeholder="ISO 3166-1 alpha-2, e.g. GB"),
        Field("learning_outcomes", "Learning outcomes", placeholder="separate with ;"),
        Field("workload_hours", "Workload (hours)", placeholder="e.g. 100"),
        *_credit_and_level_fields(),
        Field("assessment_type", "Assessment", placeholder="e.g. written examination"),
        Field("participation_form", "Participation", "choice", PARTICIPATION),
        Field("quality_assurance", "Quality assurance", placeholder="e.g. internal QA"),
        QUALITY_ASSURANCES,
        Field(
            "grading_scheme",
            "Grading scheme",
            "choice",
            conversion.grading_schemes,
            optional_choice=True,
            section="grading_schemes",
        ),
        Field("subject_isced", "Subject (ISCED-F)", placeholder="optional, e.g. 0613"),
        Field("credit_validity_months", "Credit valid (months)", placeholder="0 = no limit"),
        Field(
            "identity_verified_assessment",
            "Identity-verified assessment",
            "choice",
            YES_NO,
            optional_choice=True,
            blank="Not stated",
        ),
        Field("stackable", "Stackable", "choice", YES_NO, optional_choice=True, blank="Not stated"),
        Field("status", "Status", "choice", REPLACEABLE_STATUSES),
        *SUCCESSION,
    ]


def build_micro_credential(institution_id: str, values: Values) -> rec.MicroCredential:
    return rec.MicroCredential(
        institution_id=institution_id,
        key=_text(values, "key"),
        version=1,
        status=_status(values),
        title=_text(values, "title"),
        awarding_body=_text(values, "awarding_body"),
        country=_text(values, "country"),
        learning_outcomes=_items(values, "learning_outcomes"),
        workload_hours=_number(values, "workload_hours"),
        credit=_credit(values),
        level=_level(values),
        assessment_type=_text(values, "assessment_type"),
        participation_form=cast(
            rec.ParticipationForm,
            rec.ParticipationForm.Value(
                "PARTICIPATION_FORM_" + (_text(values, "participation_form") or "UNSPECIFIED")
            ),
        ),
        quality_assurance=_text(values, "quality_assurance"),
        grading_scheme=_text(values, "grading_scheme"),
        subject_isced=_text(values, "subject_isced"),
        credit_validity_months=int(_number(values, "credit_validity_months", integer=True)),
        identity_verified_assessment=_stated(values, "identity_verified_assessment"),
        stackable=_stated(values, "stackable"),
        **_links(values),
    )


def micro_credential_values(mc: rec.MicroCredential) -> Values:
    return {
        "key": mc.key,
        "title": mc.title,
        "awarding_body": mc.awarding_body,
        "country": mc.country,
        "learning_outcomes": "; ".join(mc.learning_outcomes),
        "workload_hours": f"{mc.workload_hours:g}",
        "credit.value": f"{mc.credit.value:g}",
        "credit.system": mc.credit.system,
        "level.framework": mc.level.framework,
        "level.level": mc.level.level,
        "assessment_type": mc.assessment_type,
        "participation_form": rec.ParticipationForm.Name(mc.participation_form).removeprefix(
            "PARTICIPATION_FORM_"
        ),
        "quality_assurance": mc.quality_assurance,
        "grading_scheme": mc.grading_scheme,
        "subject_isced": mc.subject_isced,
        "credit_validity_months": str(mc.credit_validity_months or ""),
        "identity_verified_assessment": _stated_name(mc, "identity_verified_assessment"),
        "stackable": _stated_name(mc, "stackable"),
        "status": _status_name(mc.status, REPLACEABLE_STATUSES),
        **_link_values(mc),
    }


# --- modules and qualifications ------------------------------------------------------------


def learning_unit_fields() -> list[Field]:
    conversion = table()
    return [
        Field("key", "Key", placeholder="module or programme code, e.g. CS7DE"),
        Field("title", "Title"),
        Field("kind", "Kind", "choice", ("MODULE", "QUALIFICATION")),
        *_credit_and_level_fields(),
        Field("subject_isced", "Subject (ISCED-F)", placeholder="optional, e.g. 0613"),
        Field("learning_outcomes", "Learning outcomes", placeholder="optional, separate with ;"),
        Field(
            "grading_scheme",
            "Grading scheme",
            "choice",
            conversion.grading_schemes,
            optional_choice=True,
            section="grading_schemes",
        ),
        QUALITY_ASSURANCES,
        Field("status", "Status", "choice", REPLACEABLE_STATUSES),
        *SUCCESSION,
        *regulation_fields(),
    ]


def regulation_fields() -> list[Field]:
    """A qualification's total credit and award regulations, in the catalogue files' written
    forms; shown for a qualification only."""

    def field(name: str, label: str, placeholder: str) -> Field:
        return Field(name, label, placeholder=placeholder, shown_when=QUALIFICATION)

    return [
        field("stacking_rule.total", "Total credit", "the award's credit, e.g. 360 SCQF"),
        field(
            REGULATIONS + "max_from_elsewhere",
            "Max from elsewhere",
            "240 SCQF, 2/3 or 240 SCQF or 2/3",
        ),
        field(REGULATIONS + "max_experiential", "Max experiential (RPEL)", "e.g. 60 SCQF or 1/3"),
        field(REGULATIONS + "residency", "Study here", "120 SCQF at SCQF 10 | 60 SCQF"),
        field(
            REGULATIONS + "relevant_subjects_isced",
            "Relevant subjects",
            "ISCED-F codes, e.g. 06 | 0541",
        ),
        field(
            REGULATIONS + "programme_unit_keys",
            "Programme modules",
            "option and elective keys, separate with |",
        ),
        field(REGULATIONS + "max_credit_age_months", "Credit currency (months)", "0 = no limit"),
        field(REGULATIONS + "source", "Regulations source", "e.g. RPL policy 2024/25, s. 3"),
    ]


def _stacking_rule(values: Values) -> rec.StackingRule | None:
    """The stacking rule the qualification fields give; None when they are all empty."""
    if not any(_text(values, f.name) for f in regulation_fields()):
        return None
    total = _expression("stacking_rule.total", parse_credit, _text(values, "stacking_rule.total"))
    rule = rec.StackingRule(total=total)
    regs = rule.regulations
    for name in ("max_from_elsewhere", "max_experiential"):
        limit = _expression(
            REGULATIONS + name, parse_credit_limit, _text(values, REGULATIONS + name)
        )
        if limit is not None:
            getattr(regs, name).CopyFrom(limit)
    regs.residency.extend(
        _expression(REGULATIONS + "residency", parse_requirement, item)
        for item in split_list(_text(values, REGULATIONS + "residency"))
    )
    regs.relevant_subjects_isced.extend(
        _items(values, REGULATIONS + "relevant_subjects_isced", "|")
    )
    regs.programme_unit_keys.extend(_items(values, REGULATIONS + "programme_unit_keys", "|"))
    regs.max_credit_age_months = int(
        _number(values, REGULATIONS + "max_credit_age_months", integer=True)
    )
    regs.source = _text(values, REGULATIONS + "source")
    if regs == rec.AwardRegulations():
        rule.ClearField("regulations")
    return rule


def build_learning_unit(institution_id: str, values: Values) -> rec.LearningUnit:
    unit = rec.LearningUnit(
        institution_id=institution_id,
        key=_text(values, "key"),
        version=1,
        status=_status(values),
        title=_text(values, "title"),
        kind=cast(
            rec.LearningUnitKind,
            rec.LearningUnitKind.Value(
                "LEARNING_UNIT_KIND_" + (_text(values, "kind") or "UNSPECIFIED")
            ),
        ),
        credit=_credit(values),
        level=_level(values),
        subject_isced=_text(values, "subject_isced"),
        learning_outcomes=_items(values, "learning_outcomes"),
        grading_scheme=_text(values, "grading_scheme"),
        **_links(values),
    )
    # A module has no stacking rule: what the hidden qualification fields hold is ignored.
    rule = _stacking_rule(values) if unit.kind == rec.LEARNING_UNIT_KIND_QUALIFICATION else None
    if rule is not None:
        unit.stacking_rule.CopyFrom(rule)
    return unit


def learning_unit_values(lu: rec.LearningUnit) -> Values:
    rule, regs = lu.stacking_rule, lu.stacking_rule.regulations
    limits = {
        REGULATIONS + name: format_credit_limit(getattr(regs, name)) if regs.HasField(name) else ""
        for name in ("max_from_elsewhere", "max_experiential")
    }
    return {
        "key": lu.key,
        "title": lu.title,
        "kind": rec.LearningUnitKind.Name(lu.kind).removeprefix("LEARNING_UNIT_KIND_"),
        "credit.value": f"{lu.credit.value:g}",
        "credit.system": lu.credit.system,
        "level.framework": lu.level.framework,
        "level.level": lu.level.level,
        "subject_isced": lu.subject_isced,
        "status": _status_name(lu.status, REPLACEABLE_STATUSES),
        "learning_outcomes": "; ".join(lu.learning_outcomes),
        "grading_scheme": lu.grading_scheme,
        **_link_values(lu),
        "stacking_rule.total": format_credit(rule.total) if rule.HasField("total") else "",
        **limits,
        REGULATIONS + "residency": join_list(map(format_requirement, regs.residency)),
        REGULATIONS + "relevant_subjects_isced": join_list(regs.relevant_subjects_isced),
        REGULATIONS + "programme_unit_keys": join_list(regs.programme_unit_keys),
        REGULATIONS + "max_credit_age_months": str(regs.max_credit_age_months or ""),
        REGULATIONS + "source": regs.source,
    }


# --- agreements ----------------------------------------------------------------------------


def agreement_fields() -> list[Field]:
    return [
        Field("key", "Key", placeholder="e.g. AG-DATA-STACK"),
        Field("title", "Title", placeholder="a short name for registrars"),
        Field("source", "Sources", placeholder="all of uk.ac.forth/FOR-PY01, (1 of a/X, b/Y)"),
        Field(
            "grant",
            "Grant",
            placeholder="module key, units A + B, or 15 UK_CREDIT general at FHEQ 7",
        ),
        Field("conditions.valid_from", "Valid from", placeholder="YYYY-MM-DD, empty = always"),
        Field("conditions.valid_to", "Valid to", placeholder="YYYY-MM-DD, empty = open-ended"),
        Field("conditions.minimum_grade", "Minimum grade", placeholder="e.g. UK_LETTER C"),
        Field(
            "conditions.max_credit_age_months",
            "Max credit age (months)",
            placeholder="0 = no limit",
        ),
        Field("conditions.minimum_level", "Minimum level", placeholder="e.g. FHEQ 6"),
        Field("conditions.transitive_allowed", "May be chained", "switch"),
        Field(
            "conditions.identity_verified_required",
            "Identity-verified assessment required",
            "switch",
        ),
        Field(
            "conditions.verified_holdings_required",
            "Learner's credential required (verified, not only stated)",
            "switch",
        ),
        Field(
            REQUIRED_QA + "bodies",
            "Sources QA'd by",
            placeholder="bodies, by id or name, separate with |; empty = any body",
        ),
        Field(
            REQUIRED_QA + "kinds",
            "Sources' QA kinds",
            placeholder="INSTITUTIONAL_REVIEW | PROGRAMME_ACCREDITATION | "
            "PROFESSIONAL_BODY_RECOGNITION; empty = any",
        ),
        Field(
            "volume_exception",
            "Volume exception",
            placeholder="why the grant gives more credit than the sources carry",
        ),
        Field("status", "Status", "choice", STATUSES),
    ]


def build_agreement(institution_id: str, values: Values) -> rec.RecognitionAgreement:
    agreement = rec.RecognitionAgreement(
        institution_id=institution_id,
        key=_text(values, "key"),
        version=1,
        status=_status(values),
        title=_text(values, "title"),
    )
    if _text(values, "source"):
        agreement.source.CopyFrom(_expression("source", parse_sources, _text(values, "source")))
    if _text(values, "grant"):
        agreement.grant.CopyFrom(_expression("grant", parse_grant, _text(values, "grant")))
    cond = agreement.conditions
    cond.valid_from = _text(values, "conditions.valid_from")
    cond.valid_to = _text(values, "conditions.valid_to")
    grade = _expression(
        "conditions.minimum_grade", parse_grade, _text(values, "conditions.minimum_grade")
    )
    if grade is not None:
        cond.minimum_grade.CopyFrom(grade)
    cond.max_credit_age_months = int(
        _number(values, "conditions.max_credit_age_months", integer=True)
    )
    level = _expression(
        "conditions.minimum_level", parse_level, _text(values, "conditions.minimum_level")
    )
    if level is not None:
        cond.minimum_level.CopyFrom(level)
    cond.transitive_allowed = bool(values["conditions.transitive_allowed"])
    cond.identity_verified_required = bool(values["conditions.identity_verified_required"])
    cond.verified_holdings_required = bool(values["conditions.verified_holdings_required"])
    bodies = split_list(_text(values, REQUIRED_QA + "bodies"))
    kinds = _each(values, REQUIRED_QA + "kinds", parse_quality_assurance_kind)
    if bodies or kinds:
        cond.required_quality_assurance.bodies.extend(bodies)
        cond.required_quality_assurance.kinds.extend(kinds)
    agreement.volume_exception = _text(values, "volume_exception")
    return agreement


def agreement_values(ag: rec.RecognitionAgreement) -> Values:
    cond = ag.conditions
    return {
        "key": ag.key,
        "title": ag.title,
        "source": format_sources(ag.source) if ag.HasField("source") else "",
        "grant": format_grant(ag.grant) if ag.grant.WhichOneof("grant") else "",
        "conditions.valid_from": cond.valid_from,
        "conditions.valid_to": cond.valid_to,
        "conditions.minimum_grade": format_grade(cond.minimum_grade)
        if cond.HasField("minimum_grade")
        else "",
        "conditions.max_credit_age_months": str(cond.max_credit_age_months or ""),
        "conditions.minimum_level": format_level(cond.minimum_level)
        if cond.HasField("minimum_level")
        else "",
        "conditions.transitive_allowed": cond.transitive_allowed,
        "conditions.identity_verified_required": cond.identity_verified_required,
        "conditions.verified_holdings_required": cond.verified_holdings_required,
        REQUIRED_QA + "bodies": join_list(cond.required_quality_assurance.bodies),
        REQUIRED_QA + "kinds": join_list(
            map(format_quality_assurance_kind, cond.required_quality_assurance.kinds)
        ),
        "volume_exception": ag.volume_exception,
        "status": _status_name(ag.status),
    }


# --- the form screen -----------------------------------------------------------------------


@dataclass(frozen=True)
class FormKind:
    title: str
    fields: Callable[[], list[Field]]
    build: Callable[[str, Values], Record]
    values: Callable[[Record], Values]


MICRO_CREDENTIAL = FormKind(
    "micro-credential",
    micro_credential_fields,
    build_micro_credential,
    micro_credential_values,  # type: ignore[arg-type]
)
LEARNING_UNIT = FormKind(
    "module or qualification",
    learning_unit_fields,
    build_learning_unit,
    learning_unit_values,  # type: ignore[arg-type]
)
AGREEMENT = FormKind("recognition agreement", agreement_fields, build_agreement, agreement_values)  # type: ignore[arg-type]


def _widget_id(name: str) -> str:
    return "f-" + name.replace(".", "-").replace("_", "-")


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


class RecordForm(ModalScreen[Record | None]):
    """Create (record None) or edit a record. Dismisses with the valid record, or None."""

    AUTO_FOCUS = "Input:enabled"  # the first field to type in (the key is fixed when editing)

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        kind: FormKind,
        institution_id: str,
        record: Record | None = None,
        defaults: Values | None = None,
        references: Callable[[Record], None] | None = None,
    ) -> None:
        super().__init__()
        self.kind, self.institution_id, self.original = kind, institution_id, record
        # Checks what the record names elsewhere (the catalogue's units, the directory's
        # institutions), raising FieldProblem, before the registry would refuse it.
        self.references = references
        self.fields = kind.fields()
        self.initial: Values = {f.name: False if f.kind == "switch" else "" for f in self.fields}
        self.initial["status"] = "ACTIVE"
        self.initial.update(defaults or {})
        if record is not None:
            self.initial.update(kind.values(record))
        self.record: Record | None = None

    def compose(self) -> ComposeResult:
        verb = "Edit" if self.original is not None else "New"
        with Vertical(id="form"):
            yield Static(
                f"{verb} {self.kind.title}  (ctrl+s saves, escape cancels)", id="form-title"
            )
            with VerticalScroll(id="form-fields", can_focus=False):
                for field in self.fields:
                    yield from self._field(field)
                    if field.name == "source":
                        # Under the sources as typed, so a nested group is seen as it is
                        # written, at 80x24 too.
                        tree: Tree[None] = Tree("sources", id="source-tree")
                        tree.can_focus = False
                        tree.tooltip = "the source group as the registry will read it"
                        yield tree
            yield Static(id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")
        yield Footer()

    def _field(self, field: Field) -> ComposeResult:
        value = self.initial[field.name]
        wid = _widget_id(field.name)
        widget: Widget
        if field.kind == "switch":
            # Its label says yes or no: the box's mark differs only in colour.
            widget = Checkbox(_yes_no(bool(value)), bool(value), id=wid, compact=True)
        elif field.kind == "choice":
            options = [(choice_label(c, field.section), c) for c in field.choices]
            widget = Select(
                options,
                id=wid,
                allow_blank=field.optional_choice or not value,
                value=value if value in field.choices else Select.NULL,
                prompt=field.blank if field.optional_choice else "choose…",
                compact=True,
            )
        else:
            disabled = field.name == "key" and self.original is not None
            widget = Input(
                str(value),
                placeholder=field.placeholder,
                id=wid,
                disabled=disabled,
                compact=True,
                # Editing a title, the first key typed must not replace all of it.
                select_on_focus=False,
            )
        # One line per field, label beside its input, so a whole form fits in 80x24.
        yield Horizontal(
            Label(field.label, classes="form-label"), widget, classes="form-row", id="row-" + wid
        )

    def on_mount(self) -> None:
        self.opened_with = self.values()  # what escape compares with before it discards
        self.check()

    def values(self) -> Values:
        values: Values = {}
        for field in self.fields:
            widget = self.query_one("#" + _widget_id(field.name))
            if isinstance(widget, Checkbox):
                values[field.name] = widget.value
            elif isinstance(widget, Select):
                values[field.name] = "" if widget.is_blank() else str(widget.value)
            else:
                assert isinstance(widget, Input)
                values[field.name] = widget.value
        return values

    def _field_of(self, name: str) -> Field | None:
        """The form field a validation error names: `credit.system`, `learning_outcomes[2]`,
        `source.items[0].credential.key` and `credit` all land on an input."""
        names = [f.name for f in self.fields]
        if name in names:
            return self.fields[names.index(name)]
        for field in self.fields:
            if (
                name.startswith(field.name + ".")
                or name.startswith(field.name + "[")
                or field.name.startswith(name + ".")
            ):
                return field
        return None

    @on(Checkbox.Changed)
    def _say_yes_or_no(self, event: Checkbox.Changed) -> None:
        event.checkbox.label = _yes_no(event.value)

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def check(self) -> bool:
        """Build and validate the record; show the first problem on its field."""
        for widget in self.query(".-invalid"):
            widget.remove_class("-invalid")
        error = self.query_one("#form-error", Static)
        values = self.values()
        for shown in self.fields:
            if shown.shown_when is not None:
                other, wanted = shown.shown_when
                self.query_one("#row-" + _widget_id(shown.name)).display = values[other] == wanted
        try:
            record = self.kind.build(self.institution_id, values)
            if self.original is not None:
                record = _with_unshown_kept(self.original, record, self.fields)
            self._show_sources(record)
            validate_record(record)
            if self.references is not None:
                self.references(record)
        except (InvalidRecord, FieldProblem) as problem:
            field = self._field_of(problem.field)
            label = field.label if field else problem.field
            if field is not None:
                self.query_one("#" + _widget_id(field.name)).add_class("-invalid")
            if field is None:
                label = spoken_path(problem.field)
            elif field.name != problem.field:
                label += f" ({spoken_path(problem.field.removeprefix(field.name))})"
            error.update(f"{label}: {in_form_words(problem.problem, self.fields)}")
            error.add_class("error")
            self.record = None
            self.query_one("#save", Button).disabled = True
            return False
        error.update("Ready to save: the registry's rules are met.")
        error.remove_class("error")
        self.record = record
        self.query_one("#save", Button).disabled = False
        return True

    def _show_sources(self, record: Record) -> None:
        if not isinstance(record, rec.RecognitionAgreement):
            return
        tree: Tree[None] = self.query_one("#source-tree", Tree)
        tree.clear()
        tree.display = record.HasField("source")  # nothing to show until a source is typed
        if record.HasField("source"):
            tree.root.set_label(format_operator(record.source))
            _fill(tree.root, record.source)
            tree.root.expand_all()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self.check():
            self.dismiss(self.record)
        else:
            self.notify(
                "not saved: " + str(self.query_one("#form-error", Static).render()),
                severity="error",
            )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without saving; with changes typed, only once the registrar says so."""
        if self.values() == self.opened_with:
            self.dismiss(None)
            return

        def discard(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen(
                "Discard what you typed in this form?", "Discard (y)", "Keep editing (n)"
            ),
            discard,
        )


def _with_unshown_kept(original: Record, edited: Record, fields: list[Field]) -> Record:
    """The edited record, with every field the form does not show kept as the original had
    it (a micro-credential's skills, prerequisites and URL; a qualification's stacking rule),
    so an edit never drops what was imported."""
    merged = copy_of(original)
    for field in fields:
        # Clear only what the form shows: conditions.valid_from, not all of conditions (the
        # completion window and programme restriction are not in the form).
        *parents, name = field.name.split(".")
        message: Any = merged
        for parent in parents:
            if not message.HasField(parent):
                break
            message = getattr(message, parent)
        else:
            message.ClearField(name)
    merged.MergeFrom(edited)  # type: ignore[arg-type]  # edited is the original's kind
    _drop_emptied(original, merged, fields)
    return merged


def _drop_emptied(original: Record, merged: Record, fields: list[Field]) -> None:
    """Drop a part the registrar emptied (every field of an agreement's required quality
    assurance cleared): kept empty, it would still read as stated. A part the original
    already held empty stays, so an unchanged save is no change."""
    for field in fields:
        parents = field.name.split(".")[:-1]
        for depth in range(len(parents), 0, -1):  # the innermost part first
            *path, name = parents[:depth]
            owner, before = _part(merged, path), _part(original, path)
            if (
                owner is not None
                and before is not None
                and owner.HasField(name)
                and not getattr(owner, name).ByteSize()
                and getattr(before, name).ByteSize()
            ):
                owner.ClearField(name)


def _part(record: Record, path: list[str]) -> Any:
    """The message at path (field names) inside record; None where one is not set."""
    message: Any = record
    for name in path:
        if not message.HasField(name):
            return None
        message = getattr(message, name)
    return message


def _fill(node: TreeNode[None], group: rec.SourceGroup) -> None:
    """Nested groups as tree branches, credentials as leaves."""
    for item in group.items:
        if item.WhichOneof("item") == "group":
            _fill(node.add(format_operator(item.group), expand=True), item.group)
        else:
            node.add_leaf(f"{item.credential.institution_id}/{item.credential.key}")
