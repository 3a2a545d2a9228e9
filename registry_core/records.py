"""Validation of published records.

The records themselves are the protobuf messages of proto/registry/v1/records.proto: the
contract is the one schema, so there is no second class hierarchy to keep in step with it.
Every rule a record must satisfy lives here, and every refusal is an InvalidRecord that
names the record, the field and what to do.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from google.protobuf.message import Message

from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core.conversion import table
from registry_core.errors import ForeignRecord, InvalidRecord

# \Z, not $: `$` also matches before a final line break, which would let "MC1\n" through.
INSTITUTION_ID = re.compile(r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+\Z")
# A key as the source system writes it: single spaces between characters are part of it
# ("MAT SCI 45"), but not at either end, twice in a row, or as a tab or line break.
RECORD_KEY = re.compile(r"^[A-Za-z0-9](?: ?[A-Za-z0-9._:/-])*\Z")
COUNTRY = re.compile(r"^[A-Z]{2}\Z")
ISCED = re.compile(r"^\d{2,4}\Z")

MAX_KEY = 128
MAX_TEXT = 2_000
MAX_LIST = 100
MAX_GROUP_DEPTH = 6
MAX_GROUP_ITEMS = 200
MAX_CREDIT = 1_000.0
# The least credit a record may state, in its own system: less is a conversion artefact
# (5e-324 reads as 0) or a slip, not an award. A finite value in [MIN_CREDIT, MAX_CREDIT].
MIN_CREDIT = 0.01
# Notional learning hours: at least half an hour (less is a slip or 5e-324), at most 10,000
# (five years full time). A share of a credit limit: 0, or at least one part in ten thousand
# (a 2/3 share is written 0.6667), at most 1.
MIN_WORKLOAD_HOURS = 0.5
MAX_WORKLOAD_HOURS = 10_000
MIN_SHARE = 0.0001
# Unicode categories that show nothing: controls, format characters (zero-width spaces and
# joiners, the byte-order mark) and separators (spaces, line and paragraph separators).
_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
# Keys the registry itself publishes under (bilateral agreements, registry_server/bilateral.py);
# no institution may use them.
BILATERAL_KEY_PREFIX = "bilateral:"

Record = rec.MicroCredential | rec.LearningUnit | rec.RecognitionAgreement
R = TypeVar("R", bound=Message)
STATUSES = frozenset(rec.RecordStatus.values()) - {rec.RECORD_STATUS_UNSPECIFIED}
PARTICIPATION_FORMS = frozenset(rec.ParticipationForm.values()) - {
    rec.PARTICIPATION_FORM_UNSPECIFIED
}
QA_KINDS = frozenset(rec.QualityAssuranceKind.values()) - {rec.QUALITY_ASSURANCE_KIND_UNSPECIFIED}
MAX_REGULATION_MONTHS = 1200

MESSAGE_OF: dict[int, type[Record]] = {
    rec.RECORD_KIND_MICRO_CREDENTIAL: rec.MicroCredential,
    rec.RECORD_KIND_LEARNING_UNIT: rec.LearningUnit,
    rec.RECORD_KIND_AGREEMENT: rec.RecognitionAgreement,
}

KIND_NAMES: dict[int, str] = {
    rec.RECORD_KIND_MICRO_CREDENTIAL: "MicroCredential",
    rec.RECORD_KIND_LEARNING_UNIT: "LearningUnit",
    rec.RECORD_KIND_AGREEMENT: "RecognitionAgreement",
}


def kind_of(record: Record) -> int:
    """The RecordKind of a record message."""
    if isinstance(record, rec.MicroCredential):
        return rec.RECORD_KIND_MICRO_CREDENTIAL
    if isinstance(record, rec.LearningUnit):
        return rec.RECORD_KIND_LEARNING_UNIT
    return rec.RECORD_KIND_AGREEMENT


def copy_of(record: R) -> R:
    """A copy of a record (or any message) to change without touching the original."""
    copy = type(record)()
    copy.CopyFrom(record)
    return copy


def label(kind: int, institution_id: str, key: str) -> str:
    """How errors and logs name a record: `MicroCredential uk.ac.hw/DE101`."""
    return f"{KIND_NAMES.get(kind, 'record')} {institution_id or '?'}/{key or '?'}"


def parse_date(value: str) -> dt.date:
    """An ISO calendar date; ValueError names the expected form."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value[:40]}' is not a date in the form YYYY-MM-DD") from None


class _Checker:
    """Collects the context (which record) so each rule reads as one line. The record's name
    is only built for an error: validation runs for every record of every batch."""

    def __init__(self, kind: int, institution_id: str, key: str) -> None:
        self.where = (kind, institution_id, key)

    def fail(self, field: str, problem: str) -> InvalidRecord:
        return InvalidRecord(label(*self.where), field, problem)

    def text(
        self,
        field: str,
        value: str,
        *,
        required: bool = True,
        limit: int = MAX_TEXT,
        one_line: bool = False,
    ) -> None:
        if required and not value.strip():
            raise self.fail(field, "is required; give a non-empty value")
        if len(value) > limit:
            raise self.fail(field, f"is {len(value)} characters long; the limit is {limit}")
        problem = text_problem(value, one_line=one_line) if value else None
        if problem:
            raise self.fail(field, problem)

    def texts(self, field: str, values: Sequence[str], *, required: bool = False) -> None:
        if required and not values:
            raise self.fail(field, "is required; give at least one entry")
        if len(values) > MAX_LIST:
            raise self.fail(field, f"has {len(values)} entries; the limit is {MAX_LIST}")
        for i, item in enumerate(values):
            if not _text_ok(item):
                self.text(f"{field}[{i}]", item)

    def institution(self, field: str, value: str) -> None:
        if not value:
            raise self.fail(field, "is required; give the registry id, e.g. 'uk.ac.hw'")
        if len(value) > MAX_KEY or not INSTITUTION_ID.match(value):
            raise self.fail(
                field,
                f"'{value[:60]}' is not a registry id; use lower-case reverse-domain "
                "form such as 'uk.ac.hw'",
            )

    def key(self, field: str, value: str) -> None:
        if not value:
            raise self.fail(field, "is required; give the record's stable code")
        if len(value) > MAX_KEY or not RECORD_KEY.match(value):
            raise self.fail(
                field,
                f"'{value[:60]}' is not a valid key; use up to {MAX_KEY} letters, "
                "digits and . _ : / - starting with a letter or digit, with single spaces "
                "between them ('MAT SCI 45')",
            )

    def header(self, record: Record) -> None:
        self.institution("institution_id", record.institution_id)
        self.key("key", record.key)
        if record.version < 1:
            raise self.fail("version", f"is {record.version}; versions start at 1")
        if record.status not in STATUSES:
            raise self.fail(
                "status",
                f"{record.status or 'not set'} is not a status; use DRAFT, "
                "ACTIVE, SUSPENDED, WITHDRAWN or SUPERSEDED",
            )

    def credit(self, field: str, credit: rec.Credit) -> None:
        if credit.system not in table().ects_per_credit:
            systems = table().credit_systems
            raise self.fail(
                f"{field}.system",
                f"'{credit.system[:40]}' is not a credit system; use one of {', '.join(systems)}",
            )
        if not MIN_CREDIT <= credit.value <= MAX_CREDIT:  # NaN fails too
            raise self.fail(
                f"{field}.value",
                f"is {credit.value}; give a number of at least "
                f"{MIN_CREDIT:g} and at most {MAX_CREDIT:g}",
            )

    def level(self, field: str, level: rec.Level) -> None:
        levels = table().levels.get(level.framework)
        if levels is None:
            frameworks = table().level_frameworks
            raise self.fail(
                f"{field}.framework",
                f"'{level.framework[:40]}' is not a level framework; "
                f"use one of {', '.join(frameworks)}",
            )
        if level.level not in levels:
            raise self.fail(
                f"{field}.level",
                f"'{level.level[:40]}' is not a level of {level.framework}; "
                f"use one of {', '.join(levels)}",
            )

    def isced(self, field: str, value: str) -> None:
        if value and not ISCED.match(value):
            raise self.fail(field, f"'{value[:40]}' is not an ISCED-F code such as '0613'")

    def keys(self, field: str, values: Sequence[str], own: str) -> None:
        """A list of keys of the publisher's other records: each valid, once, not its own."""
        if len(values) > MAX_LIST:
            raise self.fail(field, f"has {len(values)} entries; the limit is {MAX_LIST}")
        for i, key in enumerate(values):
            self.key(f"{field}[{i}]", key)
            if key == own:
                raise self.fail(
                    f"{field}[{i}]", f"is the record's own key '{own}'; name the other records only"
                )
            if key in values[:i]:
                raise self.fail(f"{field}[{i}]", f"repeats '{key}'; name each once")

    def window(self, start_field: str, start: str, end_field: str, end: str) -> None:
        """Two optional ISO dates, the second not before the first."""
        first, last = self.date(start_field, start), self.date(end_field, end)
        if first and last and last < first:
            raise self.fail(
                end_field,
                f"{last} is before {start_field.rsplit('.', 1)[-1]} "
                f"{first}; swap them or correct the date",
            )

    def ref(self, field: str, ref: rec.CredentialRef) -> None:
        self.institution(f"{field}.institution_id", ref.institution_id)
        self.key(f"{field}.key", ref.key)

    def quality_assurances(self, field: str, found: Sequence[rec.QualityAssurance]) -> None:
        if len(found) > MAX_LIST:
            raise self.fail(field, f"has {len(found)} entries; the limit is {MAX_LIST}")
        for i, qa in enumerate(found):
            where = f"{field}[{i}]"
            self.text(f"{where}.body", qa.body)
            self.text(f"{where}.body_id", qa.body_id, required=False)
            if qa.kind not in QA_KINDS:
                raise self.fail(
                    f"{where}.kind",
                    "is required; use INSTITUTIONAL_REVIEW, "
                    "PROGRAMME_ACCREDITATION or PROFESSIONAL_BODY_RECOGNITION",
                )
            if not qa.date:
                raise self.fail(
                    f"{where}.date", "is required; give the date of the decision (YYYY-MM-DD)"
                )
            self.window(f"{where}.date", qa.date, f"{where}.valid_until", qa.valid_until)
            self.text(f"{where}.reference", qa.reference, required=False)

    def links(self, record: rec.MicroCredential | rec.LearningUnit) -> None:
        """The fields that tie a record to others: its successor and its overlaps."""
        if record.superseded_by:
            self.key("superseded_by", record.superseded_by)
            if record.superseded_by == record.key:
                raise self.fail(
                    "superseded_by", "is the record's own key; name the record that replaces it"
                )
        if record.status == rec.RECORD_STATUS_SUPERSEDED and not record.superseded_by:
            raise self.fail(
                "superseded_by",
                "is required for a SUPERSEDED record; give the key of the record that replaces it",
            )
        if len(record.overlaps_with) > MAX_LIST:
            raise self.fail(
                "overlaps_with", f"has {len(record.overlaps_with)} entries; the limit is {MAX_LIST}"
            )
        for i, ref in enumerate(record.overlaps_with):
            self.ref(f"overlaps_with[{i}]", ref)
            if (ref.institution_id, ref.key) == (record.institution_id, record.key):
                raise self.fail(
                    f"overlaps_with[{i}]",
                    "names the record itself; name the records whose learning it shares",
                )

    def limit(self, field: str, limit: rec.CreditLimit) -> None:
        if not limit.HasField("credit") and not limit.HasField("share"):
            raise self.fail(
                field, "is empty; give credit, a share, or both (or leave it out for no limit)"
            )
        if limit.HasField("credit"):
            self.credit(f"{field}.credit", limit.credit)
        if limit.HasField("share") and not (
            limit.share == 0 or MIN_SHARE <= limit.share <= 1
        ):  # NaN fails
            raise self.fail(
                f"{field}.share",
                f"is {limit.share:g}; give 0, or a share from {MIN_SHARE:g} to 1 (2/3 is 0.6667)",
            )

    def regulations(self, field: str, rule: rec.StackingRule) -> None:
        regs = rule.regulations
        if regs.HasField("max_from_elsewhere"):
            self.limit(f"{field}.max_from_elsewhere", regs.max_from_elsewhere)
        if regs.HasField("max_experiential"):
            self.limit(f"{field}.max_experiential", regs.max_experiential)
        residency = 0.0
        for i, req in enumerate(regs.residency):
            if req.HasField("level"):
                self.level(f"{field}.residency[{i}].level", req.level)
            self.credit(f"{field}.residency[{i}].credit", req.credit)
            residency += table().convert_credit(
                req.credit.value, req.credit.system, rule.total.system
            )
        if residency > rule.total.value + 1e-9:
            raise self.fail(
                f"{field}.residency",
                f"requires {residency:g} "
                f"{rule.total.system} studied here, more than the award's total "
                f"{rule.total.value:g}; correct the credit",
            )
        if len(regs.relevant_subjects_isced) > MAX_LIST:
            raise self.fail(
                f"{field}.relevant_subjects_isced",
                f"has {len(regs.relevant_subjects_isced)} entries; the limit is {MAX_LIST}",
            )
        for i, subject in enumerate(regs.relevant_subjects_isced):
            if not subject:
                raise self.fail(
                    f"{field}.relevant_subjects_isced[{i}]",
                    "is empty; give an ISCED-F code such as '06' or '0613'",
                )
            self.isced(f"{field}.relevant_subjects_isced[{i}]", subject)
        self.keys(f"{field}.programme_unit_keys", regs.programme_unit_keys, "")
        if regs.max_credit_age_months > MAX_REGULATION_MONTHS:
            raise self.fail(
                f"{field}.max_credit_age_months",
                "is over 100 years; give months, or 0 for no limit",
            )
        self.text(f"{field}.source", regs.source, required=False)

    def date(self, field: str, value: str) -> dt.date | None:
        if not value:
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            raise self.fail(field, str(exc)) from None


def text_problem(value: str, *, one_line: bool = False) -> str | None:
    """What makes free text unprintable, or None. Printable text has no control character
    (C0 or C1) but tab, line feed and carriage return (standards' samples write learning
    outcomes over several lines), and at least one visible character: not only spaces,
    zero-width spaces, joiners or other format characters. A name (one_line: a title, an
    awarding body, an institution) has no tab or line break either: lists show it on one line."""
    if value.isprintable() and not value.isspace():  # the common case, at C speed
        return None
    categories = [unicodedata.category(ch) for ch in value]
    for ch, category in zip(value, categories, strict=True):
        if category == "Cc" and (one_line or ch not in "\t\n\r"):
            return (
                f"contains the control character U+{ord(ch):04X}; remove it (text may "
                "hold printable characters, tabs and line breaks)"
            )
    if all(category in _INVISIBLE for category in categories):
        return (
            "has no visible character (only spaces, zero-width or format characters); "
            "give a non-empty value"
        )
    return None


def _name_ok(value: str) -> bool:
    return 0 < len(value) <= MAX_TEXT and (
        value.isprintable() and not value.isspace() or text_problem(value, one_line=True) is None
    )


def _text_ok(value: str) -> bool:
    return 0 < len(value) <= MAX_TEXT and (
        value.isprintable() and not value.isspace() or text_problem(value) is None
    )


# Values already seen to match their pattern. Institution ids, countries and subjects repeat
# across every record of a batch, and a set look-up costs less than the regular expression.
_SEEN_VALID: dict[re.Pattern[str], set[str]] = {INSTITUTION_ID: set(), COUNTRY: set(), ISCED: set()}


def _matches(pattern: re.Pattern[str], value: str) -> bool:
    seen = _SEEN_VALID[pattern]
    if value in seen:
        return True
    if pattern.match(value) is None:
        return False
    if len(seen) < 10_000:  # bounded: an endless stream of new values is just not remembered
        seen.add(value)
    return True


_URI_SCHEMES = ("http://", "https://")


def _micro_credential_is_valid(mc: rec.MicroCredential) -> bool:
    """Every rule of _explain_micro_credential as one expression that reads each field once
    and builds no message: the registry validates every record of every batch, and almost
    all are valid. tests/registry_core/test_fast_validation.py checks the two agree."""
    t = table()
    credit, level = mc.credit, mc.level
    inst, key, country = mc.institution_id, mc.key, mc.country
    # Copied out as lists: iterating a repeated field's container in place goes through
    # protobuf's Python sequence protocol (measured ~0.7 µs for two strings, a slice ~0.2).
    outcomes, prerequisites, skills = mc.learning_outcomes[:], mc.prerequisites[:], mc.skills[:]
    levels = t.levels.get(level.framework)
    scheme, subject = mc.grading_scheme, mc.subject_isced
    # An unset credit or level reads as empty: its system or framework is then not in the
    # conversion table, so presence needs no test of its own.
    return (
        0 < len(inst) <= MAX_KEY
        and _matches(INSTITUTION_ID, inst)
        and 0 < len(key) <= MAX_KEY
        and RECORD_KEY.match(key) is not None
        and mc.version >= 1
        and mc.status in STATUSES
        and _name_ok(mc.title)
        and _name_ok(mc.awarding_body)
        and country != "UK"
        and _matches(COUNTRY, country)
        and 0 < len(outcomes) <= MAX_LIST
        and all(map(_text_ok, outcomes))
        and MIN_WORKLOAD_HOURS <= mc.workload_hours <= MAX_WORKLOAD_HOURS
        and credit.system in t.ects_per_credit
        and MIN_CREDIT <= credit.value <= MAX_CREDIT
        and levels is not None
        and level.level in levels
        and _text_ok(mc.assessment_type)
        and mc.participation_form in PARTICIPATION_FORMS
        and _text_ok(mc.quality_assurance)
        and len(prerequisites) <= MAX_LIST
        and (not prerequisites or all(map(_text_ok, prerequisites)))
        and (not scheme or scheme in t.raw["grading_schemes"])
        and (not subject or _matches(ISCED, subject))
        and len(skills) <= MAX_LIST
        and (not skills or all(_text_ok(s) and s.startswith(_URI_SCHEMES) for s in skills))
        and (not mc.url or _text_ok(mc.url))
    )


def validate_micro_credential(mc: rec.MicroCredential) -> None:
    """Refuse a micro-credential that lacks a mandatory element or has an invalid one."""
    if not _micro_credential_is_valid(mc):
        _explain_micro_credential(mc)
    if (
        mc.quality_assurances
        or mc.superseded_by
        or mc.overlaps_with
        or mc.status == rec.RECORD_STATUS_SUPERSEDED
    ):  # rare: checked apart
        c = _Checker(rec.RECORD_KIND_MICRO_CREDENTIAL, mc.institution_id, mc.key)
        c.quality_assurances("quality_assurances", mc.quality_assurances)
        c.links(mc)


def _explain_micro_credential(mc: rec.MicroCredential) -> None:
    """The rules one by one: raises InvalidRecord naming the first field that breaks one."""
    c = _Checker(rec.RECORD_KIND_MICRO_CREDENTIAL, mc.institution_id, mc.key)
    c.header(mc)
    c.text("title", mc.title, one_line=True)
    c.text("awarding_body", mc.awarding_body, one_line=True)
    if mc.country == "UK":  # reserved by ISO 3166, not assigned: a common slip
        raise c.fail(
            "country", "'UK' is not an ISO 3166-1 alpha-2 code; the United Kingdom is 'GB'"
        )
    if not COUNTRY.match(mc.country):
        raise c.fail(
            "country", f"'{mc.country[:20]}' is not an ISO 3166-1 alpha-2 code such as 'GB'"
        )
    c.texts("learning_outcomes", mc.learning_outcomes, required=True)
    if not MIN_WORKLOAD_HOURS <= mc.workload_hours <= MAX_WORKLOAD_HOURS:  # NaN fails too
        raise c.fail(
            "workload_hours",
            f"is {mc.workload_hours:g}; give the notional learning "
            f"hours, from {MIN_WORKLOAD_HOURS:g} to {MAX_WORKLOAD_HOURS:,}",
        )
    if not mc.HasField("credit"):
        raise c.fail("credit", "is required; give a value and a credit system")
    c.credit("credit", mc.credit)
    if not mc.HasField("level"):
        raise c.fail("level", "is required; give a framework and a level")
    c.level("level", mc.level)
    c.text("assessment_type", mc.assessment_type)
    if mc.participation_form not in PARTICIPATION_FORMS:
        raise c.fail("participation_form", "is required; use ONLINE, ONSITE or BLENDED")
    c.text("quality_assurance", mc.quality_assurance)
    c.texts("prerequisites", mc.prerequisites)
    if mc.grading_scheme and mc.grading_scheme not in table().raw["grading_schemes"]:
        raise c.fail(
            "grading_scheme",
            f"'{mc.grading_scheme[:40]}' is not a grading scheme; "
            f"use one of {', '.join(table().grading_schemes)}",
        )
    c.isced("subject_isced", mc.subject_isced)
    c.texts("skills", mc.skills)
    for i, skill in enumerate(mc.skills):
        if not skill.startswith(_URI_SCHEMES):
            raise c.fail(f"skills[{i}]", "is not a URI; give the ESCO skill URI")
    c.text("url", mc.url, required=False)


def validate_learning_unit(lu: rec.LearningUnit) -> None:
    """Refuse a module or qualification with a missing or invalid field."""
    c = _Checker(rec.RECORD_KIND_LEARNING_UNIT, lu.institution_id, lu.key)
    c.header(lu)
    c.text("title", lu.title, one_line=True)
    if lu.kind not in (rec.LEARNING_UNIT_KIND_MODULE, rec.LEARNING_UNIT_KIND_QUALIFICATION):
        raise c.fail("kind", "is required; use MODULE or QUALIFICATION")
    if not lu.HasField("credit"):
        raise c.fail("credit", "is required; give a value and a credit system")
    c.credit("credit", lu.credit)
    if lu.HasField("level"):  # a US course may have none in a framework the registry knows
        c.level("level", lu.level)
    c.isced("subject_isced", lu.subject_isced)
    c.keys("cross_listed_keys", lu.cross_listed_keys, lu.key)
    if lu.grading_scheme and lu.grading_scheme not in table().raw["grading_schemes"]:
        raise c.fail(
            "grading_scheme",
            f"'{lu.grading_scheme[:40]}' is not a grading scheme; "
            f"use one of {', '.join(table().grading_schemes)}",
        )
    c.texts("learning_outcomes", lu.learning_outcomes)
    c.quality_assurances("quality_assurances", lu.quality_assurances)
    c.links(lu)
    if lu.HasField("stacking_rule"):
        if lu.kind != rec.LEARNING_UNIT_KIND_QUALIFICATION:
            raise c.fail("stacking_rule", "is only for a QUALIFICATION; remove it from a module")
        rule = lu.stacking_rule
        c.credit("stacking_rule.total", rule.total)
        for i, req in enumerate(rule.at_levels):
            c.level(f"stacking_rule.at_levels[{i}].level", req.level)
            c.credit(f"stacking_rule.at_levels[{i}].credit", req.credit)
        for i, key in enumerate(rule.mandatory_unit_keys):
            c.key(f"stacking_rule.mandatory_unit_keys[{i}]", key)
        if rule.HasField("regulations"):
            c.regulations("stacking_rule.regulations", rule)


def _validate_group(
    c: _Checker, field: str, group: rec.SourceGroup, owner: str, depth: int, count: list[int]
) -> None:
    if depth > MAX_GROUP_DEPTH:
        raise c.fail(field, f"nests deeper than {MAX_GROUP_DEPTH} groups; flatten it")
    if group.operator not in (
        rec.GROUP_OPERATOR_ALL_OF,
        rec.GROUP_OPERATOR_ANY_OF,
        rec.GROUP_OPERATOR_N_OF,
    ):
        raise c.fail(f"{field}.operator", "is required; use ALL_OF, ANY_OF or N_OF")
    if not group.items:
        raise c.fail(f"{field}.items", "is empty; name at least one credential or group")
    if group.operator == rec.GROUP_OPERATOR_N_OF and not 1 <= group.n <= len(group.items):
        raise c.fail(
            f"{field}.n",
            f"is {group.n}; for N_OF give 1 to {len(group.items)} (the number of items)",
        )
    if group.operator != rec.GROUP_OPERATOR_N_OF and group.n:
        raise c.fail(f"{field}.n", "is only for N_OF; leave it 0")
    for i, item in enumerate(group.items):
        count[0] += 1
        if count[0] > MAX_GROUP_ITEMS:
            raise c.fail("source", f"has more than {MAX_GROUP_ITEMS} items; split the agreement")
        where = f"{field}.items[{i}]"
        which = item.WhichOneof("item")
        if which == "credential":
            c.institution(f"{where}.credential.institution_id", item.credential.institution_id)
            c.key(f"{where}.credential.key", item.credential.key)
            if item.credential.institution_id == owner:
                raise c.fail(
                    f"{where}.credential.institution_id",
                    "names the publishing institution itself; an agreement recognises "
                    "another provider's credentials",
                )
        elif which == "group":
            _validate_group(c, f"{where}.group", item.group, owner, depth + 1, count)
        else:
            raise c.fail(where, "is empty; give a credential or a nested group")


def validate_agreement(ag: rec.RecognitionAgreement) -> None:
    """Refuse an agreement with an invalid source group, grant or conditions."""
    c = _Checker(rec.RECORD_KIND_AGREEMENT, ag.institution_id, ag.key)
    c.header(ag)
    c.text("title", ag.title, required=False, one_line=True)
    if not ag.HasField("source"):
        raise c.fail("source", "is required; give the group of credentials to recognise")
    _validate_group(c, "source", ag.source, ag.institution_id, 1, [0])
    which = ag.grant.WhichOneof("grant")
    if which == "unit_key":
        c.key("grant.unit_key", ag.grant.unit_key)
    elif which == "units":
        series = ag.grant.units
        if len(series.unit_keys) < 2:
            raise c.fail(
                "grant.units.unit_keys",
                "names fewer than two units; grant one unit "
                "with unit_key, or list every unit of the series",
            )
        c.keys("grant.units.unit_keys", series.unit_keys, "")
        c.text("grant.units.name", series.name, required=False)
    elif which == "general_credit":
        c.credit("grant.general_credit.credit", ag.grant.general_credit.credit)
        c.level("grant.general_credit.level", ag.grant.general_credit.level)
        c.isced("grant.general_credit.subject_isced", ag.grant.general_credit.subject_isced)
    else:
        raise c.fail("grant", "is required; give a unit_key, units (a series) or general_credit")
    cond = ag.conditions
    if cond.HasField("minimum_grade"):
        scheme = cond.minimum_grade.scheme
        if scheme not in table().grading_schemes:
            raise c.fail(
                "conditions.minimum_grade.scheme",
                f"'{scheme[:40]}' is not a grading "
                f"scheme; use one of {', '.join(table().grading_schemes)}",
            )
        try:
            table().grade_percent(scheme, cond.minimum_grade.value)
        except ValueError as exc:
            raise c.fail("conditions.minimum_grade.value", str(exc)) from None
    if cond.max_credit_age_months > 1200:
        raise c.fail(
            "conditions.max_credit_age_months", "is over 100 years; give months, or 0 for no limit"
        )
    c.window("conditions.valid_from", cond.valid_from, "conditions.valid_to", cond.valid_to)
    c.window(
        "conditions.completed_from",
        cond.completed_from,
        "conditions.completed_to",
        cond.completed_to,
    )
    if cond.HasField("minimum_level"):
        c.level("conditions.minimum_level", cond.minimum_level)
    c.texts("conditions.for_programmes", cond.for_programmes)
    c.text("conditions.restriction_text", cond.restriction_text, required=False)
    c.texts("conditions.additional_requirements", cond.additional_requirements)
    if cond.HasField("required_quality_assurance"):
        required = cond.required_quality_assurance
        c.texts("conditions.required_quality_assurance.bodies", required.bodies)
        for i, kind in enumerate(required.kinds):
            if kind not in QA_KINDS:
                raise c.fail(
                    f"conditions.required_quality_assurance.kinds[{i}]",
                    f"{kind} is not a kind; use INSTITUTIONAL_REVIEW, "
                    "PROGRAMME_ACCREDITATION or PROFESSIONAL_BODY_RECOGNITION",
                )
    c.texts("notes", ag.notes)
    c.keys("also_satisfies", ag.also_satisfies, ag.key)
    c.text("volume_exception", ag.volume_exception, required=False)


def validate_record(record: Record) -> None:
    """Validate any record message."""
    if isinstance(record, rec.MicroCredential):
        validate_micro_credential(record)
    elif isinstance(record, rec.LearningUnit):
        validate_learning_unit(record)
    else:
        validate_agreement(record)


def granted_unit_keys(grant: rec.Grant) -> tuple[str, ...]:
    """The keys of the recogniser's units a grant names: one, a series' several, or none
    (general credit)."""
    which = grant.WhichOneof("grant")
    if which == "unit_key":
        return (grant.unit_key,)
    if which == "units":
        return tuple(grant.units.unit_keys)
    return ()


def source_credentials(group: rec.SourceGroup) -> list[tuple[str, str]]:
    """Every credential a source group names, nested groups included, as (provider, key),
    in the agreement's order, each once."""
    found: dict[tuple[str, str], None] = {}
    for item in group.items:
        if item.WhichOneof("item") == "group":
            found.update(dict.fromkeys(source_credentials(item.group)))
        else:
            found[(item.credential.institution_id, item.credential.key)] = None
    return list(found)


def record_of(change: pub.RecordChange) -> Record | pub.Tombstone:
    """The record or tombstone a change carries; InvalidRecord when it carries nothing."""
    which = change.WhichOneof("change")
    if which is None:
        raise InvalidRecord(
            f"change seq {change.seq}", "change", "is empty; give a record or a tombstone"
        )
    value: Message = getattr(change, which)
    return value  # type: ignore[return-value]


def validate_change(change: pub.RecordChange, institution_id: str) -> None:
    """Validate one change of a batch published by institution_id (ownership is checked by
    the registry's acceptance, which raises its own error)."""
    item = record_of(change)
    if isinstance(item, pub.Tombstone):
        c = _Checker(item.kind, institution_id, item.key)
        if item.kind not in KIND_NAMES:
            raise c.fail("tombstone.kind", "is not set; name the kind of record withdrawn")
        c.key("tombstone.key", item.key)
        if item.version < 1:
            raise c.fail("tombstone.version", "must be 1 or more (the withdrawal's version)")
        return
    validate_record(item)


Edge = tuple[str, str, str, str, str, int, bool]


def agreement_edges(agreement: rec.RecognitionAgreement) -> tuple[Edge, ...]:
    """The agreement's rows of the registry's edge index, one per source credential and
    granted unit (a series grant has a row for each of its units; general credit one row,
    with no unit): (publisher, agreement key, source provider, source key, granted unit key
    or '', status, transitive allowed)."""
    units = granted_unit_keys(agreement.grant) or ("",)
    owner, key = agreement.institution_id, agreement.key
    status, transitive = agreement.status, agreement.conditions.transitive_allowed
    return tuple(
        (owner, key, inst, source_key, unit, status, transitive)
        for inst, source_key in sorted(source_credentials(agreement.source))
        for unit in units
    )


# A checked change, as storage needs it: (seq, kind, key, version, status, record, edges),
# where status is the record's (0 for a withdrawal), record its deterministic serialisation
# (None for a withdrawal) and edges an agreement's rows of the edge index (() otherwise).
# A plain tuple: one is built for every record of every batch (a named tuple costs ten times
# as much to build), and a record-check worker hands them over a pipe.
ChangeRow = tuple[int, int, str, int, int, bytes | None, tuple[Edge, ...]]


class CheckedChange(NamedTuple):
    """A ChangeRow's fields by name, for reading one (tests, tools)."""

    seq: int
    kind: int
    key: str
    version: int
    status: int
    record: bytes | None
    edges: tuple[Edge, ...]


# The change's field, its record kind and its rules: one look-up per record, no type tests.
_BY_FIELD: dict[str | None, tuple[int, Callable[[Any], None]]] = {
    "micro_credential": (rec.RECORD_KIND_MICRO_CREDENTIAL, validate_micro_credential),
    "learning_unit": (rec.RECORD_KIND_LEARNING_UNIT, validate_learning_unit),
    "agreement": (rec.RECORD_KIND_AGREEMENT, validate_agreement),
}


def check_batch_records(batch: pub.Batch) -> list[ChangeRow]:
    """Every rule a batch's records must meet on their own, in record order, raising the first
    one broken: each record is the publisher's own, meets its kind's rules and does not use a
    key reserved for the registry. Needs no registry state: the registry runs it before
    comparing versions with what it holds. Returns the changes, checked."""
    owner = batch.institution_id
    checked: list[ChangeRow] = []
    for change in batch.changes:
        which = change.WhichOneof("change")
        if which in _BY_FIELD:
            kind, validate = _BY_FIELD[which]
            item = getattr(change, which)
            if item.institution_id != owner:
                raise ForeignRecord(
                    f"{label(kind, item.institution_id, item.key)} (seq {change.seq}) "
                    f"belongs to another institution; {owner} publishes only its own records"
                )
            validate(item)
            key = item.key
            if key.startswith(BILATERAL_KEY_PREFIX):
                raise InvalidRecord(
                    label(kind, owner, key),
                    "key",
                    f"keys starting '{BILATERAL_KEY_PREFIX}' are the "
                    "registry's, for bilateral agreements; choose another key",
                )
            checked.append(
                (
                    change.seq,
                    kind,
                    key,
                    item.version,
                    item.status,
                    item.SerializeToString(deterministic=True),
                    agreement_edges(item) if kind == rec.RECORD_KIND_AGREEMENT else (),
                )
            )
        else:
            validate_change(change, owner)  # a tombstone, or nothing (refused there)
            tombstone = change.tombstone
            checked.append(
                (change.seq, tombstone.kind, tombstone.key, tombstone.version, 0, None, ())
            )
    return checked
