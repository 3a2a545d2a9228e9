"""Every invalid record is refused with an error naming the record, the field and the fix."""

from __future__ import annotations

from typing import Any, cast

import pytest

from registry.v1 import records_pb2 as rec
from registry_core.errors import InvalidRecord
from registry_core.records import validate_record
from tests.factories import agreement, group, micro_credential, module, ref


def test_valid_records_pass() -> None:
    validate_record(micro_credential())
    validate_record(module())
    validate_record(agreement())


def test_keys_keep_the_source_systems_single_spaces() -> None:
    validate_record(module(key="BIOLOGY 1AL"))
    validate_record(micro_credential(key="MAT SCI 45"))
    validate_record(
        agreement(
            key="AG MAT SCI 45", sources=(("uk.ac.forth", "MAT SCI 45"),), unit_key="BIOLOGY 1AL"
        )
    )


@pytest.mark.parametrize(
    ("changes", "field", "fix"),
    [
        ({"title": ""}, "title", "required"),
        ({"title": "x" * 2001}, "title", "limit is 2000"),
        ({"awarding_body": "  "}, "awarding_body", "required"),
        ({"country": "UK"}, "country", "ISO 3166-1"),
        ({"learning_outcomes": []}, "learning_outcomes", "at least one"),
        ({"workload_hours": 0}, "workload_hours", "from 0.5 to 10,000"),
        ({"workload_hours": 5e-324}, "workload_hours", "from 0.5 to 10,000"),
        ({"workload_hours": float("nan")}, "workload_hours", "from 0.5 to 10,000"),
        ({"credit": rec.Credit(value=10, system="CATS")}, "credit.system", "ECTS"),
        ({"credit": rec.Credit(value=-5, system="ECTS")}, "credit.value", "at least 0.01"),
        ({"credit": rec.Credit(value=5e-324, system="ECTS")}, "credit.value", "at least 0.01"),
        ({"credit": rec.Credit(value=0.009, system="ECTS")}, "credit.value", "at least 0.01"),
        (
            {"credit": rec.Credit(value=float("nan"), system="ECTS")},
            "credit.value",
            "at least 0.01",
        ),
        ({"credit": rec.Credit(value=float("inf"), system="ECTS")}, "credit.value", "at most 1000"),
        ({"title": "\x00"}, "title", "control character U+0000"),
        ({"title": "Cyber\x1bEssentials"}, "title", "control character U+001B"),
        ({"title": "Cyber\x85Essentials"}, "title", "control character U+0085"),
        ({"title": " \u200b\u00a0\ufeff\u2060 "}, "title", "no visible character"),
        ({"title": "\u3000"}, "title", "required"),  # an ideographic space
        ({"awarding_body": "\u200b"}, "awarding_body", "no visible character"),
        (
            {"learning_outcomes": ["Spot threats", "\u200b\u200c"]},
            "learning_outcomes[1]",
            "no visible character",
        ),
        ({"url": "\x07"}, "url", "control character U+0007"),
        ({"title": "Cyber\nEssentials"}, "title", "control character U+000A"),
        ({"awarding_body": "Lagan\tCollege"}, "awarding_body", "control character U+0009"),
        ({"level": rec.Level(framework="EQF", level="9")}, "level.level", "one of 1, 2"),
        ({"level": rec.Level(framework="NQF", level="6")}, "level.framework", "SCQF"),
        ({"assessment_type": ""}, "assessment_type", "required"),
        ({"participation_form": 0}, "participation_form", "ONLINE"),
        ({"quality_assurance": ""}, "quality_assurance", "required"),
        ({"grading_scheme": "GPA"}, "grading_scheme", "PASS_FAIL"),
        ({"subject_isced": "maths"}, "subject_isced", "ISCED-F"),
        ({"skills": ["python"]}, "skills[0]", "URI"),
        ({"key": "bad key!"}, "key", "letters, digits"),
        ({"institution_id": "Forth University"}, "institution_id", "reverse-domain"),
        ({"version": 0}, "version", "start at 1"),
        ({"status": 0}, "status", "ACTIVE"),
        # A trailing line break is not part of a code (a `$` anchor would let it through).
        ({"key": "MC1\n"}, "key", "letters, digits"),
        # A space inside a course code is the source system's; at an end or doubled it is a slip.
        ({"key": "MAT  SCI 45"}, "key", "single spaces"),
        ({"key": "MAT SCI 45 "}, "key", "single spaces"),
        ({"key": " MAT SCI 45"}, "key", "single spaces"),
        ({"key": "MAT\tSCI"}, "key", "single spaces"),
        ({"institution_id": "uk.ac.forth\n"}, "institution_id", "reverse-domain"),
        ({"country": "GB\n"}, "country", "ISO 3166-1"),
        ({"subject_isced": "0613\n"}, "subject_isced", "ISCED-F"),
    ],
)
def test_micro_credential_refusals_name_the_field(
    changes: dict[str, Any], field: str, fix: str
) -> None:
    with pytest.raises(InvalidRecord) as caught:
        validate_record(micro_credential(**changes))
    assert caught.value.field == field
    assert fix in caught.value.problem
    assert "MicroCredential" in str(caught.value)


def test_printable_text_may_be_any_script_and_outcomes_may_span_lines() -> None:
    validate_record(
        micro_credential(
            title="Ciberseguridad básica — 基础",
            credit=rec.Credit(value=0.01, system="ECTS"),
            learning_outcomes=["Spot threats\n\tand defend"],
        )
    )


def test_missing_credit_is_refused() -> None:
    mc = micro_credential()
    mc.ClearField("credit")
    with pytest.raises(InvalidRecord, match="'credit': is required"):
        validate_record(mc)


def test_stacking_rule_only_on_a_qualification() -> None:
    unit = module()
    unit.stacking_rule.total.value, unit.stacking_rule.total.system = 180, "SCQF"
    with pytest.raises(InvalidRecord, match="only for a QUALIFICATION"):
        validate_record(unit)
    unit.kind = rec.LEARNING_UNIT_KIND_QUALIFICATION
    validate_record(unit)


def _without_grant(ag: rec.RecognitionAgreement) -> rec.RecognitionAgreement:
    ag.ClearField("grant")
    return ag


def test_agreement_groups_nest() -> None:
    nested = group(
        rec.GROUP_OPERATOR_ALL_OF,
        ref("uk.ac.forth", "A"),
        rec.SourceItem(
            group=group(
                rec.GROUP_OPERATOR_N_OF,
                ref("uk.ac.lagan", "B"),
                ref("uk.ac.lagan", "C"),
                ref("uk.ac.lagan", "D"),
                n=2,
            )
        ),
    )
    validate_record(agreement(source=nested))


@pytest.mark.parametrize(
    ("make", "field", "fix"),
    [
        (
            lambda: agreement(sources=[("uk.ac.taff", "OWN")]),
            "source.items[0].credential.institution_id",
            "publishing institution itself",
        ),
        (
            lambda: agreement(source=group(rec.GROUP_OPERATOR_N_OF, ref("uk.ac.forth", "A"), n=2)),
            "source.n",
            "1 to 1",
        ),
        (
            lambda: agreement(source=group(rec.GROUP_OPERATOR_ANY_OF)),
            "source.items",
            "at least one",
        ),
        (
            lambda: agreement(source=group(cast(rec.GroupOperator, 0), ref("uk.ac.forth", "A"))),
            "source.operator",
            "ALL_OF",
        ),
        (lambda: agreement(unit_key=""), "grant.unit_key", "required"),
        (lambda: _without_grant(agreement()), "grant", "units (a series) or general_credit"),
        (
            lambda: agreement(valid_from="2026-09-01", valid_to="2025-08-31"),
            "conditions.valid_to",
            "before valid_from",
        ),
        (lambda: agreement(valid_from="01/09/2025"), "conditions.valid_from", "YYYY-MM-DD"),
        (
            lambda: agreement(minimum_grade=rec.Grade(scheme="UK_LETTER", value="Z")),
            "conditions.minimum_grade.value",
            "not a grade",
        ),
        (
            lambda: agreement(minimum_grade=rec.Grade(scheme="GPA", value="3.0")),
            "conditions.minimum_grade.scheme",
            "not a grading scheme",
        ),
        (
            lambda: agreement(
                general=rec.GeneralCredit(
                    credit=rec.Credit(value=10, system="ECTS"),
                    level=rec.Level(framework="EQF", level="0"),
                )
            ),
            "grant.general_credit.level.level",
            "not a level of EQF",
        ),
    ],
)
def test_agreement_refusals_name_the_field(make, field: str, fix: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidRecord) as caught:
        validate_record(make())
    assert caught.value.field == field
    assert fix in caught.value.problem
    assert "RecognitionAgreement uk.ac.taff/" in str(caught.value)


def test_too_deep_nesting_is_refused() -> None:
    inner = group(rec.GROUP_OPERATOR_ALL_OF, ref("uk.ac.forth", "A"))
    for _ in range(8):
        inner = group(rec.GROUP_OPERATOR_ALL_OF, rec.SourceItem(group=inner))
    with pytest.raises(InvalidRecord, match="deeper than"):
        validate_record(agreement(source=inner))
