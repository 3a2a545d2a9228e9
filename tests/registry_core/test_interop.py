"""Standards: ELM v3 import and export, Open Badges 3.0 and CTDL export, on the real files
published by the standards bodies (tests/fixtures/standards: its README gives each source)."""

from __future__ import annotations

import copy
import json

import pytest

from registry.v1 import records_pb2 as rec
from registry_core import interop
from registry_core.errors import InvalidRecord
from registry_core.records import validate_record
from tests.conftest import STANDARDS
from tests.factories import agreement, micro_credential, module


def load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((STANDARDS / name).read_text("utf-8"))


def test_elm_annex1_micro_credential_imports_with_its_standard_elements() -> None:
    mc, warnings = interop.micro_credential_from_elm(
        load("elm-v3-micro-credential-annex1.json"), "ie.zed", "DMC1",
        quality_assurance="Internal quality assurance of the University of Zed")
    validate_record(mc)
    assert (mc.title, mc.awarding_body, mc.country) == (
        "Digital micro-credential creation", "University of Zed", "IE")
    assert (mc.credit.value, mc.credit.system) == (2, "ECTS")
    assert (mc.level.framework, mc.level.level) == ("EQF", "6")
    assert mc.workload_hours == 60
    assert mc.participation_form == rec.PARTICIPATION_FORM_BLENDED
    assert mc.assessment_type == "artefact assessment"
    assert not mc.identity_verified_assessment  # "Unsupervised without ID Verification"
    assert list(mc.learning_outcomes) == ["Communication, collaboration and creativity",
                                          "Developing digital content"]
    assert len(mc.skills) == 4 and all(s.startswith("http://data.europa.eu/esco/") for s in mc.skills)
    # The fixture gives the volume of learning once as PT60H and once as P60M (months).
    assert any("P60M" in w and "months" in w for w in warnings)


def test_elm_without_quality_assurance_names_the_field_and_the_fix() -> None:
    with pytest.raises(InvalidRecord) as caught:
        interop.micro_credential_from_elm(load("elm-v3-micro-credential-annex1.json"),
                                          "ie.zed", "DMC1")
    assert caught.value.field == "quality_assurance"
    assert "--quality-assurance" in caught.value.problem


def test_elm_with_a_calendar_duration_is_refused() -> None:
    document = copy.deepcopy(load("elm-v3-micro-credential-annex1.json"))
    document["credentialSubject"]["hasClaim"]["specifiedBy"]["volumeOfLearning"] = "P60M"
    with pytest.raises(InvalidRecord, match="volumeOfLearning.*not a workload in hours"):
        interop.micro_credential_from_elm(document, "ie.zed", "DMC1", quality_assurance="QA")


def test_elm_round_trip_keeps_what_elm_can_carry() -> None:
    imported, _ = interop.micro_credential_from_elm(
        load("elm-v3-micro-credential-annex1.json"), "ie.zed", "DMC1", quality_assurance="QA")
    again, _ = interop.micro_credential_from_elm(interop.micro_credential_to_elm(imported),
                                                 "ie.zed", "DMC1", quality_assurance="QA")
    assert again == imported
    # A non-EQF level and a non-ECTS credit come back converted (see README, Standards).
    ours = micro_credential(key="MC1", subject_isced="0613", credit=rec.Credit(value=10, system="SCQF"),
                            skills=["http://data.europa.eu/esco/skill/x"])
    back, _ = interop.micro_credential_from_elm(interop.micro_credential_to_elm(ours),
                                                "uk.ac.forth", "MC1",
                                                quality_assurance=ours.quality_assurance)
    assert (back.level.framework, back.level.level) == ("EQF", "7")  # SCQF 11
    assert (back.credit.value, back.credit.system) == (5, "ECTS")     # 10 SCQF
    assert (back.title, list(back.learning_outcomes), list(back.skills), back.subject_isced) == (
        ours.title, list(ours.learning_outcomes), list(ours.skills), ours.subject_isced)


def _keys(value: object, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return set().union(*({f"{prefix}{k}"} | _keys(v, f"{prefix}{k}.") for k, v in value.items()))
    if isinstance(value, list):
        return set().union(set(), *(_keys(v, prefix) for v in value))
    return set()


def test_ob3_achievement_uses_only_the_standards_vocabulary() -> None:
    achievement = interop.micro_credential_to_ob3(
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
    profile = interop.agreement_to_ctdl(
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
    assert interop.micro_credential_to_ob3(mc, "https://registry.example.org")["id"] == \
        "https://registry.example.org/achievements/uk.ac.forth/MAT%20SCI%2045"
    assert interop.micro_credential_to_elm(mc)["id"] == "urn:credit-registry:uk.ac.forth:MAT%20SCI%2045"
