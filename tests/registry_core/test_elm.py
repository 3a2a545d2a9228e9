"""The European Learning Model (ELM v3): import of every sample the European Commission
publishes (tests/fixtures/standards: its README gives each source), in its unsigned, signed
and wrapped forms; refusals that name the actual problem; export as a learning opportunity
that the Commission's SHACL shapes accept; and round trips that lose nothing."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.v1 import records_pb2 as rec
from registry_core import jsonld
from registry_core.conversion import table
from registry_core.errors import InvalidRecord
from registry_core.records import MIN_CREDIT, MIN_WORKLOAD_HOURS, text_problem, validate_record
from registry_core.standards import elm
from sync_agent.cli import main
from tests.conftest import STANDARDS
from tests.factories import micro_credential
from tests.registry_core.elm_shacl import violations

# The samples' credentials are valid from 2022-12-31 (the micro-credential) and 2023-06-28
# (the certificate); the rdf sample expired on 2024-09-25. A fixed day keeps the tests
# independent of the calendar.
TODAY = dt.date(2026, 12, 7)
ANNEX1 = "elm-v3-micro-credential-annex1.json"
ANNEX1_FORMS = [
    ANNEX1,
    "elm-v3-micro-credential-annex1-signed.json",
    "elm-v3-micro-credential-annex1-uploadable.json",
]
CERTIFICATE_FORMS = [
    "elm-v3-certificate-of-participation.json",
    "elm-v3-certificate-of-participation-signed.json",
    "elm-v3-certificate-of-participation-uploadable.json",
]
LOQ = "LOQ-constraints.ttl"


def load(name: str) -> Any:
    return json.loads((STANDARDS / name).read_text("utf-8"))


def annex1() -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(load(ANNEX1))
    return document


def claim_of(document: dict[str, Any]) -> dict[str, Any]:
    claim: dict[str, Any] = document["credentialSubject"]["hasClaim"]
    return claim


def import_(document: Any, **options: Any) -> tuple[rec.MicroCredential, list[str]]:
    options.setdefault("today", TODAY)
    return elm.micro_credential_from_elm(document, "ie.zed", "DMC1", **options)


def refusal(document: Any, **options: Any) -> InvalidRecord:
    with pytest.raises(InvalidRecord) as caught:
        import_(document, **options)
    return caught.value


# ------------------------------------------------------------------------------ the samples


def test_a_calendar_duration_is_said_in_words() -> None:
    assert elm.calendar_duration("P1Y6M") == "1 year, 6 months"
    assert elm.calendar_duration("P60M") == "60 months"
    assert elm.calendar_duration("PT1.5H") == "1.5 hours"
    assert elm.calendar_duration("sixty") == "'sixty', not an ISO 8601 duration"


def test_annex1_micro_credential_imports_with_its_standard_elements() -> None:
    mc, warnings = import_(
        load(ANNEX1), quality_assurance="Internal quality assurance of the University of Zed"
    )
    validate_record(mc)
    assert (mc.title, mc.awarding_body, mc.country) == (
        "Digital micro-credential creation",
        "University of Zed",
        "IE",
    )
    assert (mc.credit.value, mc.credit.system) == (2, "ECTS")
    # The sample states EQF 6 (by URI) and "RQF Level 6" as its national level, whose
    # Europass URI this registry cannot resolve: the national level is kept, from its label,
    # and the warning says so.
    assert (mc.level.framework, mc.level.level) == ("RQF", "6")
    assert any("nqfLevel" in w and "'RQF Level 6'" in w for w in warnings), warnings
    assert mc.workload_hours == 60
    assert mc.participation_form == rec.PARTICIPATION_FORM_BLENDED
    assert mc.assessment_type == "artefact assessment"
    # "Unsupervised without ID Verification": stated, and stated as not verified.
    assert mc.HasField("identity_verified_assessment") and not mc.identity_verified_assessment
    assert not mc.quality_assurances  # the sample carries no accreditation
    assert list(mc.learning_outcomes) == [
        "Communication, collaboration and creativity",
        "Developing digital content",
    ]
    assert len(mc.skills) == 4 and all(
        s.startswith("http://data.europa.eu/esco/") for s in mc.skills
    )
    assert mc.subject_isced == "0688"  # the detailed field of the two stated
    # The fixture gives the volume of learning once as PT60H and once as P60M (months).
    assert (
        "the volume of learning is also stated as 'P60M' (60 months, a length of time "
        "rather than hours of learning); 60 hours is used, as the workload in hours "
        "(PT…H) says"
    ) in warnings


def test_annex1_elements_without_a_field_are_named_in_a_warning() -> None:
    _, warnings = import_(load(ANNEX1), quality_assurance="QA")
    dropped = next(w for w in warnings if w.startswith("not carried"))
    for named in (
        "validFrom 2022-12-31",
        "specifiedBy.learningSetting (non-formal learning)",
        "specifiedBy.maximumDuration (P1M)",
        "specifiedBy.language (English)",
        "credentialSubject (the person)",
    ):
        assert named in dropped, dropped


@pytest.mark.parametrize("name", ANNEX1_FORMS)
def test_annex1_signed_and_wrapped_forms_give_the_unsigned_record(name: str) -> None:
    unsigned, _ = import_(load(ANNEX1), quality_assurance="QA")
    mc, warnings = import_(load(name), quality_assurance="QA")
    assert mc == unsigned
    assert any("signature is not verified" in w for w in warnings) == ("signed" in name)


def test_signed_annex1_dates_of_issue_are_reported() -> None:
    _, warnings = import_(
        load("elm-v3-micro-credential-annex1-signed.json"), quality_assurance="QA"
    )
    assert any("issued 2023-09-27" in w and "issuanceDate 2023-09-27" in w for w in warnings)


def _jws_payload(document: dict[str, Any]) -> str:
    text = json.dumps(document).encode("utf-8")
    return base64.urlsafe_b64encode(text).rstrip(b"=").decode("ascii")


@pytest.mark.parametrize("form", ["object", "base64url", "compact"])
def test_jades_payload_as_object_base64url_or_compact_gives_the_same_record(form: str) -> None:
    credential = json.loads(load("elm-v3-micro-credential-annex1-signed.json")["payload"])
    signed: Any = {
        "object": {"payload": credential, "signatures": []},
        "base64url": {"payload": _jws_payload(credential), "signatures": []},
        "compact": f"eyJhbGciOiJSUzI1NiJ9.{_jws_payload(credential)}.c2ln",
    }[form]
    mc, _ = import_(signed, quality_assurance="QA")
    assert mc == import_(load(ANNEX1), quality_assurance="QA")[0]


def test_presentation_of_one_credential_gives_the_credential_record() -> None:
    presentation = {
        "type": ["VerifiablePresentation", "EuropeanDigitalPresentation"],
        "verifiableCredential": [load("elm-v3-micro-credential-annex1-signed.json")],
    }
    mc, _ = import_(presentation, quality_assurance="QA")
    assert mc == import_(load(ANNEX1), quality_assurance="QA")[0]


def test_presentation_of_two_credentials_is_refused_asking_for_one() -> None:
    presentation = {
        "type": "VerifiablePresentation",
        "verifiableCredential": [load(ANNEX1), load(ANNEX1)],
    }
    problem = refusal(presentation, quality_assurance="QA")
    assert problem.field == "verifiableCredential" and "holds 2 credentials" in problem.problem


def test_expanded_json_ld_gives_the_same_record() -> None:
    expanded = jsonld.expand(load(ANNEX1))
    assert "@context" not in json.dumps(expanded)  # full IRIs, no terms to read by name
    mc, _ = import_(expanded, quality_assurance="QA")
    assert mc == import_(load(ANNEX1), quality_assurance="QA")[0]


def test_producers_own_context_is_read_through_json_ld_and_its_extras_named() -> None:
    document = annex1()
    document["@context"] = [*document["@context"], {"ex": "http://example.org/ns#"}]
    claim_of(document)["specifiedBy"]["ex:level"] = "advanced"
    mc, warnings = import_(document, quality_assurance="QA")
    assert mc == import_(load(ANNEX1), quality_assurance="QA")[0]
    assert any("specifiedBy.http://example.org/ns#level (advanced)" in w for w in warnings)


def test_unknown_context_is_refused_naming_it_without_fetching_it() -> None:
    document = annex1()
    document["@context"] = [*document["@context"], "https://example.org/our-context.jsonld"]
    problem = refusal(document, quality_assurance="QA")
    assert problem.field == "@context" and "our-context.jsonld" in problem.problem


def test_signed_payload_that_is_not_json_is_refused_naming_the_payload() -> None:
    problem = refusal({"payload": "not*json", "signatures": []})
    assert problem.field == "payload"


@pytest.mark.parametrize("name", CERTIFICATE_FORMS)
def test_certificate_of_participation_is_refused_for_stating_no_credit(name: str) -> None:
    problem = refusal(load(name), quality_assurance="QA")
    assert problem.field == "creditPoint"
    assert "certificate of participation states no credit" in problem.problem
    assert "--credit" in problem.problem and "only ECTS" not in problem.problem


def test_certificate_of_participation_with_credit_given_is_refused_for_its_outcomes() -> None:
    # The credit supplied, the next missing Annex I element is named: a webinar certificate
    # states no learning outcomes (its workload, PT2H on the activity, is found).
    problem = refusal(
        load(CERTIFICATE_FORMS[1]),
        quality_assurance="QA",
        credit=rec.Credit(value=1, system="ECTS"),
    )
    assert problem.field == "specifiedBy.learningOutcome"
    assert "states no learning outcomes" in problem.problem


def test_certificate_of_participation_reads_its_workload_from_the_activity() -> None:
    document = load("elm-v3-certificate-of-participation.json")
    spec = claim_of(document)["specifiedBy"]
    spec["learningOutcome"] = [{"type": "LearningOutcome", "title": {"en": "Explain EDC"}}]
    claim_of(document)["provenBy"] = {
        "type": "LearningAssessment",
        "specifiedBy": {
            "type": "LearningAssessmentSpecification",
            "title": {"en": "Attendance check"},
        },
    }
    mc, warnings = import_(
        document,
        quality_assurance="QA",
        credit=rec.Credit(value=1, system="ECTS"),
        level=rec.Level(framework="EQF", level="5"),
    )
    validate_record(mc)
    assert mc.workload_hours == 2  # "workload": "PT2H"; the spec's P2M is months
    assert any("'P2M' (2 months, a length of time" in w for w in warnings)
    assert (mc.assessment_type, mc.title) == ("Attendance check", "EDC Updates Webinar")


def test_rdf_sample_is_refused_as_expired() -> None:
    problem = refusal(load("elm-v3-credential-sample.json"), quality_assurance="QA")
    assert problem.field == "expirationDate"
    assert "expired on 2024-09-25" in problem.problem


def test_rdf_sample_in_force_is_refused_for_its_claim_without_specification() -> None:
    problem = refusal(
        load("elm-v3-credential-sample.json"), quality_assurance="QA", today=dt.date(2024, 1, 1)
    )
    assert problem.field == "credentialSubject.hasClaim.specifiedBy"


# ------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("expirationDate", "2025-01-31T00:00:00Z", "expired on 2025-01-31"),
        ("validUntil", "2026-12-06T23:59:59Z", "expired on 2026-12-06"),
        ("validFrom", "2027-01-01T00:00:00Z", "not valid until 2027-01-01"),
        ("issuanceDate", "2026-12-08T00:00:00Z", "not valid until 2026-12-08"),
    ],
)
def test_credential_not_in_force_is_refused_naming_the_date(
    field: str, value: str, says: str
) -> None:
    document = annex1()
    document[field] = value
    problem = refusal(document, quality_assurance="QA")
    assert (problem.field, says in problem.problem) == (field, True), problem


def test_credential_in_force_on_its_last_day_is_imported() -> None:
    document = annex1()
    document["validUntil"] = "2026-12-07T23:59:59Z"
    import_(document, quality_assurance="QA")


def test_credential_without_issuer_is_refused_naming_the_issuer() -> None:
    document = annex1()
    del document["issuer"]
    assert refusal(document, quality_assurance="QA").field == "issuer"


@pytest.mark.parametrize("kind", [["VerifiableCredential", "OpenBadgeCredential"], "Person", None])
def test_document_of_another_type_is_refused_naming_the_type(kind: Any) -> None:
    document = {"id": "urn:x", "type": kind, "credentialSubject": {}}
    if kind is None:
        del document["type"]
    problem = refusal(document, quality_assurance="QA")
    assert problem.field == "type" and "EuropeanDigitalCredential" in problem.problem


def test_credential_claiming_no_learning_is_refused_naming_the_claim() -> None:
    document = annex1()
    del document["credentialSubject"]["hasClaim"]
    problem = refusal(document, quality_assurance="QA")
    assert problem.field == "credentialSubject.hasClaim" and "nothing" in problem.problem


def test_claim_of_an_entitlement_is_refused_naming_the_claim_type() -> None:
    document = annex1()
    claim_of(document)["type"] = "LearningEntitlement"
    problem = refusal(document, quality_assurance="QA")
    assert (
        problem.field == "credentialSubject.hasClaim" and "LearningEntitlement" in problem.problem
    )


def test_credit_in_an_unknown_framework_is_refused_naming_it_and_the_option() -> None:
    document = annex1()
    claim_of(document)["specifiedBy"]["creditPoint"]["framework"] = {
        "id": "http://example.org/credit/ECVET",
        "type": "Concept",
        "prefLabel": {"en": "ECVET points"},
    }
    problem = refusal(document, quality_assurance="QA")
    assert problem.field == "creditPoint.framework"
    assert "ECVET" in problem.problem and "--credit" in problem.problem


def test_given_credit_replaces_the_sources_with_a_warning() -> None:
    mc, warnings = import_(
        load(ANNEX1), quality_assurance="QA", credit=rec.Credit(value=4, system="SCQF")
    )
    assert (mc.credit.value, mc.credit.system) == (4, "SCQF")
    assert any("replaced by the credit given (4 SCQF)" in w for w in warnings)


def test_without_quality_assurance_names_the_field_and_the_fix() -> None:
    problem = refusal(load(ANNEX1))
    assert problem.field == "quality_assurance"
    assert "--quality-assurance" in problem.problem


def test_calendar_duration_alone_is_refused() -> None:
    document = annex1()
    claim_of(document)["specifiedBy"]["volumeOfLearning"] = "P60M"
    with pytest.raises(InvalidRecord, match="volumeOfLearning.*not a workload in hours"):
        import_(document, quality_assurance="QA")


def test_no_level_at_all_is_refused_naming_the_option() -> None:
    document = annex1()
    for field in ("eqfLevel", "nqfLevel"):
        del claim_of(document)["specifiedBy"][field]
    problem = refusal(document, quality_assurance="QA")
    assert problem.field == "eqfLevel" and "--level" in problem.problem


# ------------------------------------------------------------------ concepts by their URIs


def test_concepts_are_matched_by_uri_whatever_their_labels_say() -> None:
    document = annex1()
    spec = claim_of(document)["specifiedBy"]
    spec["mode"]["prefLabel"] = {"fr": "Mixte"}
    spec["creditPoint"]["framework"]["prefLabel"] = {"fr": "Système européen de transfert"}
    spec["eqfLevel"]["prefLabel"] = {"en": "Level 2"}  # the URI says 6
    del spec["nqfLevel"]
    mc, warnings = import_(document, quality_assurance="QA")
    assert mc.participation_form == rec.PARTICIPATION_FORM_BLENDED
    assert (mc.credit.system, mc.level.framework, mc.level.level) == ("ECTS", "EQF", "6")
    assert not any("label" in w for w in warnings), warnings


def test_unknown_concept_uri_falls_back_on_the_label_with_a_warning() -> None:
    document = annex1()
    spec = claim_of(document)["specifiedBy"]
    spec["mode"] = {
        "id": "urn:epass:concept:mode-1",
        "type": "Concept",
        "prefLabel": {"en": "Online"},
    }
    spec["creditPoint"]["framework"]["id"] = "urn:epass:concept:credit-1"
    mc, warnings = import_(document, quality_assurance="QA")
    assert mc.participation_form == rec.PARTICIPATION_FORM_ONLINE
    assert mc.credit.system == "ECTS"
    assert any("mode 'urn:epass:concept:mode-1' recognised by its label" in w for w in warnings)
    assert any("creditPoint framework 'urn:epass:concept:credit-1'" in w for w in warnings)


def test_country_comes_from_the_country_uri() -> None:
    document = annex1()
    body = claim_of(document)["awardedBy"]["awardingBody"]
    body["location"]["address"]["countryCode"] = {
        "id": "http://publications.europa.eu/resource/authority/country/MLT",
        "type": "Concept",
        "prefLabel": {"en": "Ireland"},
    }
    assert import_(document, quality_assurance="QA")[0].country == "MT"


# ------------------------------------------------------------------------- accreditations


def _accredited(**accreditation: object) -> dict[str, Any]:
    """The Annex I sample with an Accreditation of its qualification, in the shape of ELM's
    JSON schema (AccreditationType: title, accreditingAgent, dcType required; dateIssued,
    expiryDate, identifier, decision, report optional)."""
    document = annex1()
    spec = claim_of(document)["specifiedBy"]
    spec["accreditation"] = [
        {
            "id": "urn:epass:accreditation:1",
            "type": "Accreditation",
            "title": {"en": "Programme accreditation of digital credential design"},
            "accreditingAgent": {
                "id": "https://www.eqar.eu/register/agencies/agency/?id=52",
                "type": "Organisation",
                "legalName": {"en": "Quality and Qualifications Ireland"},
            },
            "dcType": {
                "id": "http://data.europa.eu/snb/accreditation/820101cba6",
                "type": "Concept",
            },
            "dateIssued": "2023-04-03T00:00:00+01:00",
            "expiryDate": "2028-04-02T00:00:00+01:00",
            "identifier": {"type": "Identifier", "notation": "QQI-PA-2023-17"},
            **accreditation,
        }
    ]
    return document


def test_accreditation_of_the_qualification_becomes_a_programme_accreditation() -> None:
    mc, warnings = import_(_accredited())
    validate_record(mc)
    assert list(mc.quality_assurances) == [
        rec.QualityAssurance(
            body="Quality and Qualifications Ireland",
            body_id="https://www.eqar.eu/register/agencies/agency/?id=52",
            kind=rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION,
            date="2023-04-03",
            reference="QQI-PA-2023-17",
            valid_until="2028-04-02",
        )
    ]
    # With no quality assurance given, the mandatory words come from the accreditation.
    assert mc.quality_assurance == (
        "Programme accreditation of digital credential design by "
        "Quality and Qualifications Ireland (2023-04-03)"
    )
    assert not any("accreditation" in w for w in warnings)


@pytest.mark.parametrize(
    ("type_id", "on_body", "kind"),
    [
        (
            "http://data.europa.eu/snb/accreditation/bb4618238e",
            False,
            rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW,
        ),
        (
            "http://data.europa.eu/snb/accreditation/003293d2ce",
            False,
            rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW,
        ),
        (
            "http://data.europa.eu/snb/accreditation/e57dddfcf3",
            False,
            rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION,
        ),
        # Without a known type, where it stands decides: the awarding body's is institutional.
        ("http://example.org/our-own-type", True, rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW),
        (
            "http://example.org/our-own-type",
            False,
            rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION,
        ),
    ],
)
def test_accreditation_kind_follows_its_type_then_where_it_stands(
    type_id: str, on_body: bool, kind: int
) -> None:
    document = _accredited(dcType={"id": type_id, "type": "Concept"})
    if on_body:
        claim = claim_of(document)
        claim["awardedBy"]["awardingBody"]["accreditation"] = claim["specifiedBy"].pop(
            "accreditation"
        )
    mc, warnings = import_(document)
    assert [qa.kind for qa in mc.quality_assurances] == [kind]
    assert any("not one of ELM's accreditation types" in w for w in warnings) == type_id.startswith(
        "http://example.org"
    )


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"dateIssued": None}, "it has no dateIssued"),
        ({"accreditingAgent": {"type": "Organisation"}}, "it has no accreditingAgent.legalName"),
        (
            {"decision": {"type": "Concept", "prefLabel": {"en": "Negative"}}},
            "its decision is negative",
        ),
    ],
)
def test_accreditation_that_cannot_be_carried_is_warned_about(
    change: dict[str, Any], says: str
) -> None:
    mc, warnings = import_(_accredited(**change), quality_assurance="QA")
    assert not mc.quality_assurances
    assert any(says in w for w in warnings), warnings


def test_without_identity_verification_it_is_left_unstated() -> None:
    document = annex1()
    del claim_of(document)["provenBy"]["idVerification"]
    mc, _ = import_(document, quality_assurance="QA")
    assert not mc.HasField("identity_verified_assessment")
    exported = json.dumps(elm.micro_credential_to_elm(mc))
    assert elm.NOTE_IDENTITY not in exported


# ----------------------------------------------------------- learning opportunities, alone


def test_qualification_published_on_its_own_imports() -> None:
    spec = copy.deepcopy(claim_of(annex1())["specifiedBy"])
    spec["awardingOpportunity"] = {
        "type": "AwardingOpportunity",
        "awardingBody": claim_of(annex1())["awardedBy"]["awardingBody"],
    }
    spec["provenBy"] = claim_of(annex1())["provenBy"]["specifiedBy"]
    mc, _ = import_(spec, quality_assurance="QA")
    validate_record(mc)
    assert (mc.title, mc.country, mc.assessment_type) == (
        "Digital micro-credential creation",
        "IE",
        "artefact assessment",
    )


def test_learning_opportunity_without_specification_is_refused_naming_it() -> None:
    document = elm.micro_credential_to_elm(micro_credential())
    del document["learningAchievementSpecification"]
    assert refusal(document).field == "learningAchievementSpecification"


# ---------------------------------------------------------------------------------- export


VARIED = {
    "SCQF credit and level (the factory's)": micro_credential(),
    "ECTS at EQF, everything optional stated": micro_credential(
        credit=rec.Credit(value=6, system="ECTS"),
        level=rec.Level(framework="EQF", level="6"),
        participation_form=rec.PARTICIPATION_FORM_BLENDED,
        subject_isced="0613",
        skills=["http://data.europa.eu/esco/skill/a", "http://data.europa.eu/esco/skill/b"],
        learning_outcomes=["Design a study", "Report its findings"],
        prerequisites=["A first degree", "Statistics to SCQF 8"],
        stackable=True,
        credit_validity_months=60,
        url="https://forth.example.ac.uk/mc1",
        identity_verified_assessment=True,
        grading_scheme="PERCENTAGE",
        quality_assurances=[
            rec.QualityAssurance(
                body="QAA Scotland",
                body_id="https://www.qaa.ac.uk",
                kind=rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW,
                date="2022-05-01",
                reference="ELIR-2022",
                valid_until="2027-04-30",
            ),
            rec.QualityAssurance(
                body="British Computer Society",
                kind=rec.QUALITY_ASSURANCE_KIND_PROFESSIONAL_BODY_RECOGNITION,
                date="2024-01-10",
            ),
        ],
    ),
    "Irish NFQ level, on site, not stackable": micro_credential(
        "ie.tcd",
        "NFQ9",
        country="IE",
        credit=rec.Credit(value=10, system="ECTS"),
        level=rec.Level(framework="NFQ_IE", level="9"),
        participation_form=rec.PARTICIPATION_FORM_ONSITE,
        stackable=False,
        identity_verified_assessment=False,
        grading_scheme="",
    ),
    "US semester hours, a division no EQF level maps": micro_credential(
        "edu.example",
        "CS 101",
        country="US",
        credit=rec.Credit(value=3, system="US_SEMESTER_HOUR"),
        level=rec.Level(framework="US_DIVISION", level="LOWER"),
        workload_hours=135.5,
    ),
    "RQF level with UK credit": micro_credential(
        "uk.ac.lagan",
        "LC1",
        credit=rec.Credit(value=20, system="UK_CREDIT"),
        level=rec.Level(framework="RQF", level="4"),
        subject_isced="06",
    ),
}


@pytest.mark.parametrize("name", list(VARIED))
def test_export_conforms_to_the_elm_shapes_for_learning_opportunities(name: str) -> None:
    exported = elm.micro_credential_to_elm(VARIED[name])
    report = violations(exported, LOQ)
    assert not report, report
    # LOQ-constraints switches off its LearningAchievementSpecification shape
    # (sh:deactivated): the specification is checked with it switched on as well.
    report = violations(exported, LOQ, activate=True)
    assert not report, report


@pytest.mark.parametrize(
    ("remove", "path"),
    [
        (("title",), "title"),
        (("learningAchievementSpecification", "learningOutcome"), "learningOutcome"),
        (("providedBy", "location"), "location"),
    ],
)
def test_shapes_check_catches_an_export_missing_a_mandatory_element(
    remove: tuple[str, ...], path: str
) -> None:
    """The SHACL check is not vacuous: a required element taken out is a violation."""
    exported = elm.micro_credential_to_elm(VARIED["SCQF credit and level (the factory's)"])
    owner = exported
    for key in remove[:-1]:
        owner = owner[key]
    del owner[remove[-1]]
    report = violations(exported, LOQ, activate=True)
    assert "MinCountConstraintComponent" in report and path in report, report


def _concepts(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        own = [value] if value.get("type") == "Concept" else []
        return own + [c for v in value.values() for c in _concepts(v)]
    if isinstance(value, list):
        return [c for v in value for c in _concepts(v)]
    return []


@pytest.mark.parametrize("name", list(VARIED))
def test_every_exported_concept_names_its_scheme(name: str) -> None:
    concepts = _concepts(elm.micro_credential_to_elm(VARIED[name]))
    assert concepts and all(c.get("inScheme", {}).get("id") for c in concepts), concepts


def test_export_is_a_learning_opportunity_not_a_credential_about_a_person() -> None:
    exported = elm.micro_credential_to_elm(micro_credential(key="MAT SCI 45"))
    assert exported["type"] == "LearningOpportunity"
    assert "credentialSubject" not in exported
    assert (
        exported["id"]
        == "https://registry.example.org/micro-credentials/uk.ac.forth/MAT%20SCI%2045"
    )
    spec = exported["learningAchievementSpecification"]
    # SCQF 11 is EQF 7: both levels are stated, the EQF one from the EU vocabulary.
    assert [c["id"] for c in spec["educationLevel"]] == [
        "http://data.europa.eu/snb/eqf/7",
        "urn:credit-registry:elm:level:SCQF:11",
    ]
    # 15 SCQF credits: 7.5 ECTS for ELM readers, and the original.
    assert [(p["point"], p["framework"]["id"]) for p in spec["creditPoint"]] == [
        ("7.5", elm.ECTS_URI),
        ("15", "urn:credit-registry:elm:credit-system:SCQF"),
    ]


# ------------------------------------------------------------------------------ round trips


@pytest.mark.parametrize("name", list(VARIED))
def test_export_then_import_gives_the_same_record(name: str) -> None:
    mc = VARIED[name]
    validate_record(mc)
    back, _ = elm.micro_credential_from_elm(
        elm.micro_credential_to_elm(mc), mc.institution_id, mc.key
    )
    assert back == mc


def test_annex1_import_export_import_is_stable() -> None:
    imported, _ = import_(load(ANNEX1), quality_assurance="QA")
    again, _ = import_(elm.micro_credential_to_elm(imported))
    assert again == imported


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda t: text_problem(t) is None)


@st.composite
def records(draw: st.DrawFn) -> rec.MicroCredential:
    framework = draw(st.sampled_from(sorted(table().levels)))
    system = draw(st.sampled_from(sorted(table().ects_per_credit)))
    mc = micro_credential(
        title=draw(_TEXT),
        awarding_body=draw(_TEXT),
        country=draw(st.sampled_from(sorted(elm.ALPHA3.values()))),
        learning_outcomes=draw(st.lists(_TEXT, min_size=1, max_size=3)),
        workload_hours=draw(st.floats(min_value=MIN_WORKLOAD_HOURS, max_value=10_000)),
        credit=rec.Credit(
            value=draw(st.floats(min_value=MIN_CREDIT, max_value=1_000)), system=system
        ),
        level=rec.Level(
            framework=framework, level=draw(st.sampled_from(table().levels_of(framework)))
        ),
        assessment_type=draw(_TEXT),
        quality_assurance=draw(_TEXT),
        participation_form=draw(
            st.sampled_from(
                [
                    rec.PARTICIPATION_FORM_ONLINE,
                    rec.PARTICIPATION_FORM_ONSITE,
                    rec.PARTICIPATION_FORM_BLENDED,
                ]
            )
        ),
        prerequisites=draw(
            st.lists(_TEXT.filter(lambda t: "\n" not in t and t == t.strip()), max_size=2)
        ),
        grading_scheme=draw(st.sampled_from(["", *sorted(table().raw["grading_schemes"])])),
        subject_isced=draw(st.sampled_from(["", "06", "061", "0613", "0688"])),
        skills=draw(
            st.lists(
                st.sampled_from([f"http://data.europa.eu/esco/skill/{n}" for n in "abcd"]),
                unique=True,
                max_size=3,
            )
        ),
        credit_validity_months=draw(st.sampled_from([0, 12, 36])),
        url=draw(st.sampled_from(["", "https://example.ac.uk/mc?x=1"])),
    )
    for field in ("stackable", "identity_verified_assessment"):
        stated = draw(st.sampled_from([None, True, False]))
        if stated is not None:
            setattr(mc, field, stated)
    return mc


@given(records())
def test_any_valid_record_survives_export_and_import(mc: rec.MicroCredential) -> None:
    validate_record(mc)
    back, _ = elm.micro_credential_from_elm(
        elm.micro_credential_to_elm(mc), mc.institution_id, mc.key
    )
    assert back == mc


# ------------------------------------------------------------------------------ the command


def _agent(tmp_path: Path) -> list[str]:
    home = ["--home", str(tmp_path / "agent")]
    assert (
        main(
            [
                *home,
                "init",
                "--institution-id",
                "ie.zed",
                "--name",
                "University of Zed",
                "--country",
                "IE",
            ]
        )
        == 0
    )
    return home


def test_import_elm_command_prints_each_dropped_field_and_exports_it_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = _agent(tmp_path)
    signed = STANDARDS / "elm-v3-micro-credential-annex1-signed.json"
    capsys.readouterr()
    assert (
        main(
            [
                *home,
                "import-elm",
                str(signed),
                "--key",
                "DMC1",
                "--quality-assurance",
                "Internal QA",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    for named in (
        "signature is not verified",
        "validFrom 2022-12-31",
        "issued 2023-09-27",
        "specifiedBy.learningSetting (non-formal learning)",
        "specifiedBy.maximumDuration (P1M)",
        "'RQF Level 6'",
    ):
        assert named in err, err
    assert main([*home, "export", "elm", "DMC1", "--base-url", "https://reg.example.eu"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["id"] == "https://reg.example.eu/micro-credentials/ie.zed/DMC1"
    assert not violations(exported, LOQ)


def test_import_elm_command_reads_a_compact_jws_file(tmp_path: Path) -> None:
    home = _agent(tmp_path)
    credential = json.loads(load("elm-v3-micro-credential-annex1-signed.json")["payload"])
    compact = tmp_path / "credential.jws"
    compact.write_text(f"eyJhbGciOiJSUzI1NiJ9.{_jws_payload(credential)}.c2ln\n", "utf-8")
    assert (
        main([*home, "import-elm", str(compact), "--key", "DMC1", "--quality-assurance", "QA"]) == 0
    )


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ((), "creditPoint: the certificate of participation states no credit"),
        (("--credit", "1 ECTS"), "field 'specifiedBy.learningOutcome'"),
        (("--credit", "one ECTS"), "field '--credit': 'one ECTS' is not credit"),
        (("--credit", "1 ECTS", "--level", "EQF5"), "field '--level': write the framework and"),
    ],
)
def test_import_elm_command_refuses_a_certificate_of_participation_naming_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: tuple[str, ...], says: str
) -> None:
    home = _agent(tmp_path)
    certificate = STANDARDS / "elm-v3-certificate-of-participation-signed.json"
    capsys.readouterr()
    assert (
        main(
            [
                *home,
                "import-elm",
                str(certificate),
                "--key",
                "WEB1",
                "--quality-assurance",
                "QA",
                *options,
            ]
        )
        == 1
    )
    assert says in capsys.readouterr().err


@settings(max_examples=30)  # each runs pyshacl (about 0.1 s); the round trip above runs 100
@given(records())
def test_any_valid_records_export_conforms_to_the_elm_shapes(mc: rec.MicroCredential) -> None:
    report = violations(elm.micro_credential_to_elm(mc), LOQ, activate=True)
    assert not report, report
