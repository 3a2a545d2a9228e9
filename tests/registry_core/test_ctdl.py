"""Credential Engine's CTDL: a recognition agreement as a TransferValueProfile with what CE's
publishing model requires (CredentialEngine/Registry_Assistant, RA.Models JsonV2
TransferValueProfile: ctid, name, description, subjectWebpage, ownedBy; ValueProfile with
a creditUnitType), checked by hand, and by the names and shapes of CE's own (older) JSON
Schema in tests/fixtures/standards/validators."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from jsonschema import Draft4Validator, FormatChecker

from registry.v1 import records_pb2 as rec
from registry_core.standards import ctdl
from tests.conftest import STANDARDS
from tests.factories import agreement, group, micro_credential, module, ref

BASE = "https://registry.example.org"
CTID = re.compile(r"^ce-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
URI = re.compile(r"^https?://[^\s]+$")


def export(ag: rec.RecognitionAgreement | None = None, **options: Any) -> dict[str, Any]:
    return ctdl.agreement_to_ctdl(
        ag or agreement(valid_from="2025-09-01", valid_to="2028-08-31"),
        options.pop("units", {"CS7DE": module()}),
        base_url=BASE,
        **options,
    )


def test_required_properties_of_ces_publishing_model_are_there() -> None:
    profile = export()
    assert profile["@type"] == "ceterms:TransferValueProfile"
    assert CTID.match(profile["ceterms:ctid"])
    assert profile["ceterms:name"] == {"en-GB": "Agreement AG1"}
    assert "uk.ac.forth MC1" in profile["ceterms:description"]["en-GB"]
    assert profile["ceterms:subjectWebpage"] == f"{BASE}/agreements/uk.ac.taff/AG1"
    assert profile["ceterms:ownedBy"] == [f"{BASE}/institutions/uk.ac.taff"]
    assert all(URI.match(u) for u in profile["ceterms:ownedBy"])
    for side in ("ceterms:transferValueFrom", "ceterms:transferValueFor"):
        for resource in profile[side]:
            assert CTID.match(resource["ceterms:ctid"])
            assert all(URI.match(u) for u in resource["ceterms:ownedBy"])
    assert (profile["ceterms:startDate"], profile["ceterms:endDate"]) == (
        "2025-09-01",
        "2028-08-31",
    )


def test_ctids_are_stable_for_a_record_and_differ_between_records() -> None:
    assert export()["ceterms:ctid"] == export()["ceterms:ctid"]
    assert export(agreement(key="AG2"))["ceterms:ctid"] != export()["ceterms:ctid"]
    assert ctdl.ctid("uk.ac.taff", "AG1", "agreement") != ctdl.ctid("uk.ac.taff", "AG1")
    # The granted module's CTID is the one it has as another agreement's source.
    granted = export()["ceterms:transferValueFor"][0]["ceterms:ctid"]
    assert granted == ctdl.ctid("uk.ac.taff", "CS7DE")


def test_transfer_value_is_a_value_profile_with_a_ce_credit_unit() -> None:
    (value,) = export()["ceterms:transferValue"]
    assert value["@type"] == "ceterms:ValueProfile"
    assert value["schema:value"] == 15
    (unit,) = value["ceterms:creditUnitType"]
    assert unit == {
        "@type": "ceterms:CredentialAlignmentObject",
        "ceterms:framework": "https://credreg.net/ctdl/terms/CreditUnit",
        "ceterms:targetNode": "creditUnit:DegreeCredit",
        "ceterms:targetNodeName": {
            "en-GB": "UK credit (CATS) in England, Wales and Northern Ireland"
        },
    }
    assert value["schema:description"]["en-GB"].startswith("15 UK_CREDIT")


def test_us_semester_hours_are_ces_semester_hour() -> None:
    units = {
        "HIST1": module(
            key="HIST1", credit=3, system="US_SEMESTER_HOUR", framework="US_DIVISION", level="LOWER"
        )
    }
    (value,) = export(agreement(unit_key="HIST1"), units=units)["ceterms:transferValue"]
    assert value["ceterms:creditUnitType"][0]["ceterms:targetNode"] == "creditUnit:SemesterHour"


def test_a_grant_larger_than_its_sources_shows_the_reduced_credit() -> None:
    """The review's "unreduced credit": 15 UK credits granted for a 10 SCQF (5 ECTS)
    micro-credential give 10 UK credits, as an answer would."""
    small = micro_credential(credit=rec.Credit(value=10, system="SCQF"))
    profile = export(sources={("uk.ac.forth", "MC1"): small.credit})
    (value,) = profile["ceterms:transferValue"]
    assert value["schema:value"] == 10
    assert "reduced from 15 to 10 UK_CREDIT" in value["schema:description"]["en-GB"]
    assert "reduced from 15 to 10" in profile["ceterms:description"]["en-GB"]


def test_a_stated_volume_exception_keeps_the_full_grant_and_says_why() -> None:
    ag = agreement()
    ag.volume_exception = "a substantial micro-credential earns the whole module"
    (value,) = export(ag, sources={("uk.ac.forth", "MC1"): rec.Credit(value=10, system="SCQF")})[
        "ceterms:transferValue"
    ]
    assert value["schema:value"] == 15
    assert "as the agreement states: a substantial" in value["schema:description"]["en-GB"]


@pytest.mark.parametrize(
    ("operator", "n", "granted"),
    [
        (rec.GROUP_OPERATOR_ALL_OF, 0, 15),  # 4 + 6 ECTS = 20 UK credits: the full 15
        (rec.GROUP_OPERATOR_ANY_OF, 0, 8),  # the smaller, 4 ECTS = 8 UK credits
        (rec.GROUP_OPERATOR_N_OF, 1, 8),
    ],
)
def test_the_source_groups_least_credit_bounds_the_grant(
    operator: int, n: int, granted: float
) -> None:
    sources = {
        ("a.x", "S1"): rec.Credit(value=4, system="ECTS"),
        ("b.x", "S2"): rec.Credit(value=6, system="ECTS"),
    }
    ag = agreement(source=group(operator, ref("a.x", "S1"), ref("b.x", "S2"), n=n))  # type: ignore[arg-type]
    (value,) = export(ag, sources=sources)["ceterms:transferValue"]
    assert value["schema:value"] == granted


def test_an_unknown_source_sets_no_bound() -> None:
    (value,) = export(sources={})["ceterms:transferValue"]
    assert value["schema:value"] == 15


def test_general_credit_and_unit_series_are_exported() -> None:
    general = rec.GeneralCredit(
        credit=rec.Credit(value=20, system="UK_CREDIT"),
        level=rec.Level(framework="FHEQ", level="6"),
    )
    profile = export(agreement(general=general))
    assert profile["ceterms:transferValue"][0]["schema:value"] == 20
    assert profile["ceterms:transferValueFor"] == []
    units = {"BIO1A": module(key="BIO1A", credit=10), "BIO1AL": module(key="BIO1AL", credit=5)}
    series = export(agreement(units=["BIO1A", "BIO1AL"]), units=units)
    assert series["ceterms:transferValue"][0]["schema:value"] == 15
    assert [t["ceterms:ctid"] for t in series["ceterms:transferValueFor"]] == [
        ctdl.ctid("uk.ac.taff", "BIO1A"),
        ctdl.ctid("uk.ac.taff", "BIO1AL"),
    ]


def test_a_granted_unit_not_held_here_states_no_transfer_value() -> None:
    profile = export(units={})
    assert "ceterms:transferValue" not in profile
    assert profile["ceterms:transferValueFor"][0]["ceterms:name"] == {"en-GB": "CS7DE"}


def test_names_and_shapes_agree_with_ces_json_schema() -> None:
    """CE's schema predates ValueProfile and ownedBy/transferValue* as used now (its $refs
    for them do not resolve): each property it defines is checked against its definition,
    and the ones it does not define are exactly the newer ones."""
    schema = json.loads(
        (STANDARDS / "validators" / "ctdl-transfer-value-profile.schema.json").read_text("utf-8")
    )
    definitions = schema["definitions"]
    known = definitions["ceterms:TransferValueProfile"]["properties"]

    def defined(name: str) -> bool:
        return (
            name in known
            and known[name].get("$ref", "#/definitions/@id").removeprefix("#/definitions/")
            in definitions
        )

    profile = export()
    for name in filter(defined, profile):
        checker = Draft4Validator(
            {**known[name], "definitions": definitions}, format_checker=FormatChecker()
        )
        assert list(checker.iter_errors(profile[name])) == [], name
    assert {"ceterms:ctid", "ceterms:description", "ceterms:subjectWebpage"} <= set(
        filter(defined, profile)
    )
    assert {n for n in profile if not defined(n)} == {
        "ceterms:ownedBy",
        "ceterms:transferValue",
        "ceterms:transferValueFrom",
        "ceterms:transferValueFor",
    }
