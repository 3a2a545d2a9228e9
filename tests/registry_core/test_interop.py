"""Standards: Open Badges 3.0 and CTDL export, on the real files published by the standards
bodies (tests/fixtures/standards: its README gives each source). ELM v3 is in test_elm.py."""

from __future__ import annotations

import json

from registry.v1 import records_pb2 as rec
from registry_core.standards import ctdl, ob3
from tests.conftest import STANDARDS
from tests.factories import agreement, micro_credential, module


def load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((STANDARDS / name).read_text("utf-8"))


def _keys(value: object, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return set().union(*({f"{prefix}{k}"} | _keys(v, f"{prefix}{k}.") for k, v in value.items()))
    if isinstance(value, list):
        return set().union(set(), *(_keys(v, prefix) for v in value))
    return set()


def test_ob3_achievement_uses_only_the_standards_vocabulary() -> None:
    achievement = ob3.micro_credential_to_ob3(
        micro_credential(subject_isced="0613", skills=["http://data.europa.eu/esco/skill/x"],
                         url="https://forth.example.ac.uk/img.png",
                         credit=rec.Credit(value=10, system="SCQF")),
        "https://registry.example.org")
    complete = load("ob3-achievement-credential-complete.json")["credentialSubject"]["achievement"]
    simple = load("ob3-achievement-credential-simple.json")["credentialSubject"]["achievement"]
    assert _keys(simple) <= _keys(achievement), "the minimal Achievement's fields are all there"
    assert _keys(achievement) <= _keys(complete), _keys(achievement) - _keys(complete)
    assert "Achievement" in achievement["type"] and achievement["creditsAvailable"] == 5


def test_agreement_exports_as_a_ctdl_transfer_value_profile() -> None:
    profile = ctdl.agreement_to_ctdl(
        agreement(valid_from="2025-09-01", valid_to="2028-08-31",
                  sources=[("uk.ac.forth", "MC1"), ("uk.ac.lagan", "LC1")]),
        {"CS7DE": module()})
    assert profile["@type"] == "ceterms:TransferValueProfile"
    assert profile["ceterms:transferValue"] == [{"@type": "schema:QuantitativeValue",
                                                 "schema:value": 15.0,
                                                 "schema:unitText": "UK_CREDIT"}]
    assert [s["ceterms:ctid"] for s in profile["ceterms:transferValueFrom"]] == [
        "uk.ac.forth/MC1", "uk.ac.lagan/LC1"]
    assert profile["ceterms:transferValueFor"][0]["ceterms:ctid"] == "uk.ac.taff/CS7DE"
    assert (profile["ceterms:startDate"], profile["ceterms:endDate"]) == ("2025-09-01",
                                                                          "2028-08-31")


def test_a_key_with_spaces_becomes_a_percent_encoded_uri_segment() -> None:
    mc = micro_credential(key="MAT SCI 45")
    assert ob3.micro_credential_to_ob3(mc, "https://registry.example.org")["id"] == \
        "https://registry.example.org/achievements/uk.ac.forth/MAT%20SCI%2045"
