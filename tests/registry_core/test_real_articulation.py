"""A real agreement, asked as a partner would: Santa Monica College to UC San Diego, 2024-2025.

demo_network/articulation/smc-ucsd-2024-25.json transcribes two ASSIST major agreements;
demo_network.articulation converts them into records; each question of
smc-ucsd-2024-25.expected.json (holdings, completion dates, intended major, date asked) is
put to the pure resolver and its answer compared with what the agreement itself states:
which receiving courses are granted (each once), conditionally or not, with which notes,
cross-listed codes and shared holdings, and which are not granted and why (issue 18).
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
from importlib import resources
from typing import Any

import pytest

from demo_network.articulation import Converted, check, convert, load
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.resolution import resolve

EXPECTED = json.loads(
    resources.files("demo_network.articulation")
    .joinpath("smc-ucsd-2024-25.expected.json")
    .read_text(encoding="utf-8")
)
CONVERTED: Converted = convert(load())
QUESTIONS = EXPECTED["questions"]


def granted_units(grant: eq.GrantedCredit) -> tuple[str, ...]:
    """The receiving courses of a grant, as its agreement names them."""
    if grant.grant.WhichOneof("grant") == "units":
        return tuple(grant.grant.units.unit_keys)
    return (grant.grant.unit_key,)


def ask(question: dict[str, Any]) -> tuple[list[eq.GrantedCredit], list[eq.NotApplied]]:
    defaults = EXPECTED["defaults"]
    holdings = []
    for held in question["holdings"]:
        held = {"key": held} if isinstance(held, str) else held
        holdings.append(
            eq.Holding(
                credential=rec.CredentialRef(institution_id=CONVERTED.sending_id, key=held["key"]),
                award_date=held.get("completed", defaults["completed"]),
            )
        )
    sources = {(u.institution_id, u.key): u for u in CONVERTED.sending_units}
    units = {(u.institution_id, u.key): u for u in CONVERTED.receiving_units}
    options: dict[str, Any] = {}
    if "programme" in inspect.signature(resolve).parameters:  # the question's programme
        options["programme"] = question.get("programme", "")
    return resolve(
        holdings,
        CONVERTED.agreements,
        sources=sources,
        units=units,
        as_of=dt.date.fromisoformat(question.get("asked", defaults["asked"])),
        target=CONVERTED.receiving_id,
        **options,
    )


def test_the_transcription_converts_every_statement() -> None:
    statements = [s for a in load()["agreements"] for s in a["statements"]]
    assert len(statements) == 58
    articulated = [s for s in statements if not s.get("no_articulation")]
    assert len(CONVERTED.not_articulated) == len(statements) - len(articulated)
    assert sorted(CONVERTED.statement_keys) == sorted(s["id"] for s in articulated)
    by_key = {a.key: a for a in CONVERTED.agreements}
    bild = by_key["BIO-GEN-BS/BILD 1/BILD 2/BILD 3/BILD 4"]
    assert list(bild.grant.units.unit_keys) == ["BILD 1", "BILD 2", "BILD 3", "BILD 4"]
    assert bild.source.operator == rec.GROUP_OPERATOR_ALL_OF
    math_10b = by_key["BIO-GEN-BS/MATH 10B"]
    assert math_10b.source.operator == rec.GROUP_OPERATOR_ANY_OF
    assert [i.WhichOneof("item") for i in math_10b.source.items] == ["credential", "group"]
    assert (math_10b.conditions.completed_from, math_10b.conditions.completed_to) == (
        "2024-08-15",
        "2025-08-14",
    )
    assert set(by_key["BIO-GEN-BS/PHYS 1A"].also_satisfies) == {
        "BIO-GEN-BS/PHYS 1AL",
        "BIO-GEN-BS/PHYS 1C",
        "BIO-GEN-BS/PHYS 1CL",
    }
    assert list(by_key["ECE-EES-BA/POLI 13"].conditions.for_programmes) == [
        "ECE: Electrical Engineering and Society B.A."
    ]
    econ_4 = next(u for u in CONVERTED.receiving_units if u.key == "ECON 4")
    assert list(econ_4.cross_listed_keys) == ["MGT 4"]


@pytest.mark.parametrize("question", QUESTIONS, ids=[q["id"] for q in QUESTIONS])
def test_the_registry_answers_as_the_agreement_says(question: dict[str, Any]) -> None:
    grants, not_applied = ask(question)
    got = [granted_units(g) for g in grants]
    every_unit = [u for units in got for u in units]
    assert len(every_unit) == len(set(every_unit)), f"a course granted twice: {got}"
    want = {tuple(g["units"]): g for g in question["granted"]}
    assert set(got) == set(want), question["says"]
    for grant in grants:
        expected = want[granted_units(grant)]
        assert grant.conditional == expected.get("conditional", False), (
            f"{granted_units(grant)}: conditional should be "
            f"{expected.get('conditional', False)} ({question['says']})"
        )
        if "conditions_include" in expected:
            assert any(expected["conditions_include"] in c for c in grant.conditions), list(
                grant.conditions
            )
        if "notes_include" in expected:
            assert any(expected["notes_include"] in n for n in grant.notes), list(grant.notes)
        if expected.get("shares"):
            assert grant.shares_holdings_with, f"{granted_units(grant)} shares no holding"
        for unit_key, codes in expected.get("cross_listed", {}).items():
            unit = next((u for u in grant.units if u.unit_key == unit_key), None)
            assert unit is not None and list(unit.cross_listed_keys) == codes, list(grant.units)
    for refused in question.get("not_granted", []):
        assert not set(refused["units"]) & set(every_unit), refused["why"]
    reasons = {n.agreement.agreement_key: n.reason for n in not_applied}
    for statement, reason in question.get("not_applied", {}).items():
        for key in CONVERTED.statement_keys[statement]:
            assert reasons.get(key) == eq.NotAppliedReason.Value(reason), (
                f"{key}: {eq.NotAppliedReason.Name(reasons.get(key, 0))}, not {reason}"
            )


def test_every_converted_record_is_valid() -> None:
    """The catalogue files the converter writes import as they are: keys as the agreement
    writes them, quarter hours, US division levels, series and windows."""
    assert check(CONVERTED) == []
