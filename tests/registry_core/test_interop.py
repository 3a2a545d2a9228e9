"""Standards: ELM v3 import and export, on the real files published by the standards bodies
(tests/fixtures/standards: its README gives each source). Open Badges 3.0 and CLR 2.0 are in
test_ob3.py, CTDL in test_ctdl.py."""

from __future__ import annotations

import copy
import json

import pytest

from registry.v1 import records_pb2 as rec
from registry_core.errors import InvalidRecord
from registry_core.records import validate_record
from registry_core.standards import elm
from tests.conftest import STANDARDS
from tests.factories import micro_credential


def load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((STANDARDS / name).read_text("utf-8"))


def test_elm_annex1_micro_credential_imports_with_its_standard_elements() -> None:
    mc, warnings = elm.micro_credential_from_elm(
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
    # "Unsupervised without ID Verification": stated, and stated as not verified.
    assert mc.HasField("identity_verified_assessment") and not mc.identity_verified_assessment
    assert not mc.quality_assurances  # the sample carries no accreditation
    assert list(mc.learning_outcomes) == ["Communication, collaboration and creativity",
                                          "Developing digital content"]
    assert len(mc.skills) == 4 and all(s.startswith("http://data.europa.eu/esco/") for s in mc.skills)
    # The fixture gives the volume of learning once as PT60H and once as P60M (months).
    assert any("P60M" in w and "months" in w for w in warnings)


def test_elm_without_quality_assurance_names_the_field_and_the_fix() -> None:
    with pytest.raises(InvalidRecord) as caught:
        elm.micro_credential_from_elm(load("elm-v3-micro-credential-annex1.json"),
                                          "ie.zed", "DMC1")
    assert caught.value.field == "quality_assurance"
    assert "--quality-assurance" in caught.value.problem


def _accredited(**accreditation: object) -> dict:  # type: ignore[type-arg]
    """The Annex I sample with an Accreditation of its qualification, in the shape of ELM's
    JSON schema (AccreditationType: title, accreditingAgent, dcType required; dateIssued,
    expiryDate, identifier, decision, report optional)."""
    document = copy.deepcopy(load("elm-v3-micro-credential-annex1.json"))
    spec = document["credentialSubject"]["hasClaim"]["specifiedBy"]
    spec["accreditation"] = [{
        "id": "urn:epass:accreditation:1", "type": "Accreditation",
        "title": {"en": "Programme accreditation of digital credential design"},
        "accreditingAgent": {"id": "https://www.eqar.eu/register/agencies/agency/?id=52",
                             "type": "Organisation",
                             "legalName": {"en": "Quality and Qualifications Ireland"}},
        "dcType": {"id": "http://data.europa.eu/snb/accreditation/820101cba6",
                   "type": "Concept"},
        "dateIssued": "2023-04-03T00:00:00+01:00", "expiryDate": "2028-04-02T00:00:00+01:00",
        "identifier": {"type": "Identifier", "notation": "QQI-PA-2023-17"},
        **accreditation}]
    return document


def test_elm_accreditation_of_the_qualification_becomes_a_programme_accreditation() -> None:
    mc, warnings = elm.micro_credential_from_elm(_accredited(), "ie.zed", "DMC1")
    validate_record(mc)
    assert list(mc.quality_assurances) == [rec.QualityAssurance(
        body="Quality and Qualifications Ireland",
        body_id="https://www.eqar.eu/register/agencies/agency/?id=52",
        kind=rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION, date="2023-04-03",
        reference="QQI-PA-2023-17", valid_until="2028-04-02")]
    # With no quality assurance given, the mandatory words come from the accreditation.
    assert mc.quality_assurance == ("Programme accreditation of digital credential design by "
                                    "Quality and Qualifications Ireland (2023-04-03)")
    assert not any("accreditation" in w for w in warnings)


@pytest.mark.parametrize(("type_id", "on_body", "kind"), [
    ("http://data.europa.eu/snb/accreditation/bb4618238e", False,
     rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW),
    ("http://data.europa.eu/snb/accreditation/003293d2ce", False,
     rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW),
    ("http://data.europa.eu/snb/accreditation/e57dddfcf3", False,
     rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION),
    # Without a known type, where it stands decides: the awarding body's is institutional.
    ("http://example.org/our-own-type", True, rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW),
    ("http://example.org/our-own-type", False,
     rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION),
])
def test_elm_accreditation_kind_follows_its_type_then_where_it_stands(
        type_id: str, on_body: bool, kind: int) -> None:
    document = _accredited(dcType={"id": type_id, "type": "Concept"})
    if on_body:
        claim = document["credentialSubject"]["hasClaim"]
        claim["awardedBy"]["awardingBody"]["accreditation"] = \
            claim["specifiedBy"].pop("accreditation")
    mc, warnings = elm.micro_credential_from_elm(document, "ie.zed", "DMC1")
    assert [qa.kind for qa in mc.quality_assurances] == [kind]
    assert any("not one of ELM's accreditation types" in w for w in warnings) == \
        type_id.startswith("http://example.org")


@pytest.mark.parametrize(("change", "says"), [
    ({"dateIssued": None}, "it has no dateIssued"),
    ({"accreditingAgent": {"type": "Organisation"}}, "it has no accreditingAgent.legalName"),
    ({"decision": {"type": "Concept", "prefLabel": {"en": "Negative"}}},
     "its decision is negative"),
])
def test_elm_accreditation_that_cannot_be_carried_is_warned_about(
        change: dict, says: str) -> None:  # type: ignore[type-arg]
    mc, warnings = elm.micro_credential_from_elm(_accredited(**change), "ie.zed", "DMC1",
                                                     quality_assurance="QA")
    assert not mc.quality_assurances
    assert any(says in w for w in warnings), warnings


def test_elm_without_identity_verification_leaves_it_unstated() -> None:
    document = copy.deepcopy(load("elm-v3-micro-credential-annex1.json"))
    del document["credentialSubject"]["hasClaim"]["provenBy"]["idVerification"]
    mc, _ = elm.micro_credential_from_elm(document, "ie.zed", "DMC1", quality_assurance="QA")
    assert not mc.HasField("identity_verified_assessment")
    exported = elm.micro_credential_to_elm(mc)
    assert "idVerification" not in exported["credentialSubject"]["hasClaim"]["provenBy"]


def test_elm_with_a_calendar_duration_is_refused() -> None:
    document = copy.deepcopy(load("elm-v3-micro-credential-annex1.json"))
    document["credentialSubject"]["hasClaim"]["specifiedBy"]["volumeOfLearning"] = "P60M"
    with pytest.raises(InvalidRecord, match="volumeOfLearning.*not a workload in hours"):
        elm.micro_credential_from_elm(document, "ie.zed", "DMC1", quality_assurance="QA")


def test_elm_round_trip_keeps_what_elm_can_carry() -> None:
    imported, _ = elm.micro_credential_from_elm(
        load("elm-v3-micro-credential-annex1.json"), "ie.zed", "DMC1", quality_assurance="QA")
    again, _ = elm.micro_credential_from_elm(elm.micro_credential_to_elm(imported),
                                                 "ie.zed", "DMC1", quality_assurance="QA")
    assert again == imported
    # A non-EQF level and a non-ECTS credit come back converted (see docs/standards.md).
    ours = micro_credential(key="MC1", subject_isced="0613", credit=rec.Credit(value=10, system="SCQF"),
                            skills=["http://data.europa.eu/esco/skill/x"])
    back, _ = elm.micro_credential_from_elm(elm.micro_credential_to_elm(ours),
                                                "uk.ac.forth", "MC1",
                                                quality_assurance=ours.quality_assurance)
    assert (back.level.framework, back.level.level) == ("EQF", "7")  # SCQF 11
    assert (back.credit.value, back.credit.system) == (5, "ECTS")     # 10 SCQF
    assert (back.title, list(back.learning_outcomes), list(back.skills), back.subject_isced) == (
        ours.title, list(ours.learning_outcomes), list(ours.skills), ours.subject_isced)


def test_a_key_with_spaces_becomes_a_percent_encoded_uri_segment() -> None:
    mc = micro_credential(key="MAT SCI 45")
    assert elm.micro_credential_to_elm(mc)["id"] == "urn:credit-registry:uk.ac.forth:MAT%20SCI%2045"
