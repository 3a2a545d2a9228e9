"""The registry checks every micro-credential with one cheap expression and only walks the
rules one by one (to name the field) when it fails. The two must agree on every record, or
an invalid record would slip through: hypothesis mutates a valid record field by field with
values near every rule's edge and compares them."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from registry.v1 import records_pb2 as rec
from registry_core.errors import InvalidRecord
from registry_core.records import (
    MAX_KEY,
    MAX_LIST,
    MAX_TEXT,
    _explain_micro_credential,
    _micro_credential_is_valid,
)
from tests.factories import micro_credential

TEXTS = st.sampled_from(
    ["", " ", "\n", "ok", "x" * MAX_TEXT, "x" * (MAX_TEXT + 1), " padded ", "ü"]
)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "institution_id": st.sampled_from(
        ["", "uk.ac.forth", "UK.AC.X", "uk", "uk.ac.forth\n", "a." + "b" * MAX_KEY, "uk.ac.x-y"]
    ),
    "key": st.sampled_from(
        [
            "",
            "MC1",
            "-MC1",
            "MC 1",
            "a/b:c.d_e-f",
            "k" * MAX_KEY,
            "k" * (MAX_KEY + 1),
            "MC1\n",
            "MAT SCI 45",
            "MAT  SCI",
            "MC1 ",
            " MC1",
            "MC\t1",
            "MC 1\n",
            "k " * 63 + "k",
        ]
    ),
    "version": st.sampled_from([-1, 0, 1, 7]),
    "status": st.sampled_from([0, 1, 2, 3, 4]),
    "title": TEXTS,
    "awarding_body": TEXTS,
    "assessment_type": TEXTS,
    "quality_assurance": TEXTS,
    "url": TEXTS,
    "country": st.sampled_from(["GB", "UK", "gb", "G", "GBR", "IE", ""]),
    "learning_outcomes": st.lists(TEXTS, max_size=3) | st.just(["ok"] * (MAX_LIST + 1)),
    "prerequisites": st.lists(TEXTS, max_size=2) | st.just(["ok"] * (MAX_LIST + 1)),
    "skills": st.lists(
        st.sampled_from(["https://esco/x", "http://e/y", "esco:x", "", " "]), max_size=2
    ),
    "workload_hours": st.sampled_from(
        [0.0, -1.0, 0.5, 100.0, 10_000.0, 10_000.5, float("nan"), float("inf")]
    ),
    "credit": st.sampled_from(
        [None]
        + [
            rec.Credit(system=s, value=v)
            for s, v in (
                ("SCQF", 10.0),
                ("ECTS", 0.0),
                ("ECTS", 1000.0),
                ("ECTS", 1000.5),
                ("XYZ", 5.0),
                ("ECTS", float("nan")),
            )
        ]
    ),
    "level": st.sampled_from(
        [None]
        + [
            rec.Level(framework=f, level=v)
            for f, v in (
                ("SCQF", "11"),
                ("EQF", "6"),
                ("EQF", "9"),
                ("FHEQ", "4"),
                ("NOPE", "1"),
                ("EQF", ""),
            )
        ]
    ),
    "participation_form": st.sampled_from([0, 1, 2, 3]),
    "grading_scheme": st.sampled_from(["", "UK_LETTER", "PERCENTAGE", "uk_letter", "X"]),
    "subject_isced": st.sampled_from(["", "0613", "06", "1", "061a", "06133", "0613\n"]),
}


def _mutated(changes: dict[str, Any]) -> rec.MicroCredential:
    """The factory's record with the changes; a credit or level of None is left unset."""
    mc = micro_credential(**{k: v for k, v in changes.items() if v is not None})
    for name in (k for k, v in changes.items() if v is None):
        mc.ClearField(name)
    return mc


def _explained_valid(mc: rec.MicroCredential) -> bool:
    try:
        _explain_micro_credential(mc)
    except InvalidRecord:
        return False
    return True


@settings(max_examples=1500)
@given(st.fixed_dictionaries({}, optional=FIELDS))
def test_the_fast_check_agrees_with_the_rules_one_by_one(changes: dict[str, Any]) -> None:
    mc = _mutated(changes)
    assert _micro_credential_is_valid(mc) == _explained_valid(mc), mc


def test_the_factory_record_is_valid_both_ways() -> None:
    mc = micro_credential()
    assert _micro_credential_is_valid(mc) and _explained_valid(mc)
