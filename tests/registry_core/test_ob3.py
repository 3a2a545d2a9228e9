"""Open Badges 3.0 and CLR 2.0: the export checked by 1EdTech's JSON Schema, the import on
every sample 1EdTech's validator is tested with (tests/fixtures/standards/ob30, clr20: its
README gives each source), and the round trip export -> import."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft201909Validator, FormatChecker

from registry.v1 import records_pb2 as rec
from registry_core.errors import InvalidRecord
from registry_core.records import validate_record
from registry_core.standards import ob3
from tests.conftest import STANDARDS
from tests.factories import micro_credential

BASE = "https://registry.example.org"
# The samples' dates are fixed; so is "now" here (the expired and not-yet-valid samples are
# 2010 and 2040, every valid one is in force on this day).
NOW = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
OB30, CLR20 = STANDARDS / "ob30", STANDARDS / "clr20"
# What 1EdTech's samples do not carry and a micro-credential needs, as a registrar states it.
STATED = ob3.Supplement(
    credit=rec.Credit(value=5, system="ECTS"),
    level=rec.Level(framework="EQF", level="6"),
    country="US",
    workload_hours=125,
    assessment_type="Portfolio review",
    participation_form=rec.PARTICIPATION_FORM_ONLINE,
    quality_assurance="Regional accreditation",
    awarding_body="Example College",
)


def load(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def official_validator(definition: str | None = None) -> Draft201909Validator:
    """1EdTech's schema from the validators folder (not the package's copy the import uses)."""
    whole = load(STANDARDS / "validators" / "ob_v3p0_achievementcredential_schema.json")
    target = (
        whole
        if definition is None
        else {"$schema": whole["$schema"], "$ref": f"#/$defs/{definition}", "$defs": whole["$defs"]}
    )
    return Draft201909Validator(target, format_checker=FormatChecker())


def errors(document: Any, definition: str | None = None) -> list[str]:
    return [
        f"{e.json_path}: {e.message}" for e in official_validator(definition).iter_errors(document)
    ]


def imported(path: Path, **options: Any) -> list[ob3.Imported]:
    options.setdefault("supplement", STATED)
    return ob3.micro_credentials_from_ob3(
        load(path), "us.example", now=NOW, name=path.name, **options
    )


def varied() -> list[rec.MicroCredential]:
    """Records that differ in every field the export carries."""
    return [
        micro_credential(),
        micro_credential(
            key="MAT SCI/45",
            subject_isced="0613",
            stackable=False,
            credit_validity_months=36,
            url="https://forth.example.ac.uk/mc1",
            skills=["http://data.europa.eu/esco/skill/x", "http://data.europa.eu/esco/skill/y"],
            prerequisites=["SCQF 10 in computing", "An interview"],
            identity_verified_assessment=True,
            learning_outcomes=["Analyse risks", "Design a review: step 1", "Write * a report"],
        ),
        micro_credential(
            key="DMC1",
            credit=rec.Credit(value=2, system="ECTS"),
            level=rec.Level(framework="EQF", level="6"),
            country="IE",
            participation_form=rec.PARTICIPATION_FORM_BLENDED,
            stackable=True,
            grading_scheme="PERCENTAGE",
            identity_verified_assessment=False,
        ),
        micro_credential(
            key="HIST 101",
            credit=rec.Credit(value=3, system="US_SEMESTER_HOUR"),
            level=rec.Level(framework="US_DIVISION", level="LOWER"),
            country="US",
            participation_form=rec.PARTICIPATION_FORM_ONSITE,
            grading_scheme="PASS_FAIL",
            workload_hours=135,
        ),
        micro_credential(
            key="Q1",
            credit=rec.Credit(value=4, system="US_QUARTER_HOUR"),
            level=rec.Level(framework="FHEQ", level="6"),
            grading_scheme="",
            subject_isced="061",
        ),
    ]


# ---------------------------------------------------------------------------------- export


@pytest.mark.parametrize("mc", varied(), ids=lambda mc: mc.key)
def test_export_is_a_valid_ob3_achievement_by_1edtechs_schema(mc: rec.MicroCredential) -> None:
    assert errors(ob3.micro_credential_to_ob3(mc, BASE), "Achievement") == []


def test_export_makes_a_valid_open_badge_credential_once_wrapped() -> None:
    """The issue's "6 schema errors as a credential": the Achievement, inside the credential
    the main signing code builds around it, passes 1EdTech's whole schema."""
    credential = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:0b6fc9f0-5c4a-4e7d-9d46-1c0b1b1b1b1b",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": f"{BASE}/institutions/uk.ac.forth",
            "type": ["Profile"],
            "name": "University of the Forth",
        },
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "id": "did:example:learner",
            "achievement": ob3.micro_credential_to_ob3(varied()[1], BASE),
        },
    }
    assert errors(credential) == []


def test_the_schema_check_would_catch_a_broken_achievement() -> None:
    achievement = ob3.micro_credential_to_ob3(micro_credential(), BASE)
    del achievement["criteria"]
    achievement["otherIdentifier"][0]["identifierType"] = "workload"  # not "ext:..."
    assert len(errors(achievement, "Achievement")) == 2


@pytest.mark.parametrize(
    ("credit", "hours"),
    [
        (rec.Credit(value=15, system="SCQF"), 3.5),  # 7.5 ECTS = 3.75 h, down to the half
        (rec.Credit(value=2, system="ECTS"), 1.0),
        (rec.Credit(value=3, system="US_SEMESTER_HOUR"), 3.0),
        (rec.Credit(value=4, system="US_QUARTER_HOUR"), 2.5),  # 4 quarter h = 2.67 semester h
    ],
)
def test_credits_available_is_in_us_semester_credit_hours(credit: rec.Credit, hours: float) -> None:
    achievement = ob3.micro_credential_to_ob3(micro_credential(credit=credit), BASE)
    assert achievement["creditsAvailable"] == hours
    stated = f"{credit.value:g} {credit.system}"
    assert {
        "type": "IdentifierEntry",
        "identifier": stated,
        "identifierType": "ext:credit",
    } in achievement["otherIdentifier"]
    assert f"{stated} credit ({hours:g} US semester credit hours" in achievement["description"]


def test_level_is_aligned_to_its_framework_and_to_the_eqf_level_it_is_referenced_to() -> None:
    achievement = ob3.micro_credential_to_ob3(micro_credential(), BASE)  # SCQF 11
    levels = [
        (a["targetFramework"], a["targetCode"], a["targetUrl"])
        for a in achievement["alignment"]
        if a["targetType"] == "ext:FrameworkLevel"
    ]
    assert levels == [
        ("SCQF", "11", f"{BASE}/frameworks/SCQF/levels/11"),
        ("EQF", "7", "http://data.europa.eu/snb/eqf/7"),
    ]


def test_achievement_key_reverses_the_id_percent_decoding_the_key() -> None:
    achievement = ob3.micro_credential_to_ob3(micro_credential(key="MAT SCI/45"), BASE + "/")
    assert achievement["id"] == f"{BASE}/achievements/uk.ac.forth/MAT%20SCI%2F45"
    assert ob3.achievement_key(achievement["id"], BASE) == ("uk.ac.forth", "MAT SCI/45")
    assert ob3.achievement_key(achievement["id"], "https://other.example.org") is None
    assert ob3.achievement_key(f"{BASE}/achievements/uk.ac.forth", BASE) is None


def test_the_package_schema_is_1edtechs_unchanged() -> None:
    package = (
        Path(ob3.__file__).parents[1] / "schemas" / "ob_v3p0_achievementcredential_schema.json"
    )
    vendored = STANDARDS / "validators" / "ob_v3p0_achievementcredential_schema.json"
    assert package.read_bytes() == vendored.read_bytes()


# ------------------------------------------------------------------------------ round trip


@pytest.mark.parametrize("mc", varied(), ids=lambda mc: mc.key)
def test_export_then_import_gives_the_same_record(mc: rec.MicroCredential) -> None:
    (back,) = ob3.micro_credentials_from_ob3(
        ob3.micro_credential_to_ob3(mc, BASE), mc.institution_id, base_url=BASE, now=NOW
    )
    validate_record(back.record)
    assert back.record == mc
    assert back.warnings == []


def test_a_changed_credits_available_is_reported_and_the_stated_credit_kept() -> None:
    achievement = ob3.micro_credential_to_ob3(micro_credential(), BASE)
    achievement["creditsAvailable"] = 9
    (back,) = ob3.micro_credentials_from_ob3(achievement, "uk.ac.forth", base_url=BASE, now=NOW)
    assert (back.record.credit.value, back.record.credit.system) == (15, "SCQF")
    assert any("creditsAvailable is 9 credit hours" in w for w in back.warnings)


def test_an_extension_value_that_is_no_number_is_refused_naming_it() -> None:
    achievement = ob3.micro_credential_to_ob3(micro_credential(), BASE)
    achievement["otherIdentifier"][1]["identifier"] = "many"  # ext:workloadHours
    with pytest.raises(InvalidRecord) as caught:
        ob3.micro_credentials_from_ob3(achievement, "uk.ac.forth", base_url=BASE, now=NOW)
    assert caught.value.field == "$.otherIdentifier[ext:workloadHours]"
    assert "'many' is not a number" in caught.value.problem


# ---------------------------------------------------------------- 1EdTech's samples: valid


VALID_OB3 = [
    "complete.json",
    "simple.json",
    "simple_v1.json",
    "simple-context-alias.json",
    "simple-context-version.json",
    "simple-did-key-method.json",
    "simple-did-web-method.json",
    "simple-eddsa-2022.json",
    "simple-multiple-proofs.json",
    "credential-status-revoked.json",
]


@pytest.mark.parametrize("name", VALID_OB3)
def test_valid_ob3_sample_imports_as_a_valid_record(name: str) -> None:
    (one,) = imported(OB30 / name)
    validate_record(one.record)
    achievement = load(OB30 / name)["credentialSubject"]["achievement"]
    assert one.record.title == achievement["name"]
    assert one.achievement_id == achievement["id"]


def test_complete_sample_maps_every_element_the_record_has_a_place_for() -> None:
    (one,) = imported(OB30 / "complete.json")
    record, warnings = one.record, one.warnings
    # creditsAvailable 36 (a degree) is credit hours: US semester hours, not the
    # supplement's 5 ECTS.
    assert (record.credit.value, record.credit.system) == (36, "US_SEMESTER_HOUR")
    assert record.key == "R1"  # its humanCode
    assert record.awarding_body == "1EdTech University"  # the creator's name
    assert record.country == "US"  # creator.address.addressCountryCode
    assert record.url == "https://1edtech.edu/achievements/degree"  # criteria.id
    # What has no place in the record is named, never dropped silently.
    for dropped in (
        "alignment[0]",
        "alignment[1]",
        "fieldOfStudy ('Research')",
        "endorsement",
        "image",
        "specialization",
        "tag",
        "otherIdentifier[0]",
        "description",
        "resultDescription[0]",
        "creator's",
    ):
        assert any(f"$.credentialSubject.achievement.{dropped}" in w for w in warnings), dropped
    assert any("achievementType is 'Degree'" in w for w in warnings)


def test_a_sample_without_what_a_record_needs_is_refused_naming_every_option_at_once() -> None:
    with pytest.raises(InvalidRecord) as caught:
        imported(OB30 / "simple.json", supplement=ob3.Supplement())
    assert caught.value.field == "$.credentialSubject.achievement.creditsAvailable"
    problem = caught.value.problem
    assert problem.startswith("7 things a micro-credential needs are not stated")
    for option in (
        "--credit",
        "--level",
        "--country",
        "--workload-hours",
        "--assessment-type",
        "--participation-form",
        "--quality-assurance",
    ):
        assert option in problem, option
    with pytest.raises(InvalidRecord) as caught:
        imported(
            OB30 / "simple.json",
            supplement=ob3.Supplement(
                level=rec.Level(framework="EQF", level="6"),
                country="US",
                workload_hours=10,
                assessment_type="Exam",
                participation_form=rec.PARTICIPATION_FORM_ONLINE,
                quality_assurance="QA",
            ),
        )
    assert (
        caught.value.problem.startswith("no credit stated") and "--credit" in caught.value.problem
    )
    with pytest.raises(InvalidRecord) as caught:
        imported(
            OB30 / "simple-eddsa-2022.json",
            supplement=ob3.Supplement(**{**STATED.__dict__, "awarding_body": ""}),
        )
    assert caught.value.field == "$.credentialSubject.achievement.creator.name"


def test_a_single_string_type_is_read_as_a_set() -> None:
    # credential-status-revoked.json writes "type": "Achievement" (JSON-LD reads it alike).
    document = load(OB30 / "credential-status-revoked.json")
    assert document["credentialSubject"]["achievement"]["type"] == "Achievement"
    (one,) = imported(OB30 / "credential-status-revoked.json")
    assert one.record.title == "Achievement 1"
    assert any("credentialStatus is not checked" in w for w in one.warnings)


def test_vc_1_1_dates_are_read_as_validity() -> None:
    (one,) = imported(OB30 / "simple_v1.json")
    assert any("VC 1.1 credential" in w for w in one.warnings)
    with pytest.raises(InvalidRecord, match="expired: validUntil is 2020-01-01"):
        imported(OB30 / "complete_v1.json")  # its expirationDate is 2020-01-01


# ---------------------------------------------------- 1EdTech's samples: deliberately broken


REFUSED = [
    ("simple-err-context.json", "$.@context", "too short"),
    (
        "simple-err-type.json",
        "$.type",
        "must include 'AchievementCredential' or 'OpenBadgeCredential'",
    ),
    ("simple-err-issuer.json", "$.issuer", "is missing"),
    ("simple-err-issuer-type.json", "$.issuer.type", "must include 'Profile'"),
    (
        "simple-err-credential-subject-type.json",
        "$.credentialSubject.type",
        "must include 'AchievementSubject'",
    ),
    (
        "simple-err-credential-subject-achievement-result-description-type.json",
        "$.credentialSubject.achievement.resultDescription[2].type",
        "must include 'ResultDescription'",
    ),
    ("simple-err-expired.json", "$.validUntil", "the credential expired"),
    ("simple-err-issued.json", "$.validFrom", "not yet valid"),
    # A sample of proofs whose credential holds no achievement at all.
    ("simple-noproof.json", "$.credentialSubject.achievement", "is missing"),
    # Endorsements are credentials about an achievement, not badges.
    ("endorsement-valid.json", "$.type", "must include 'AchievementCredential'"),
    ("endorsement-err-schema-status-refresh.json", "$.type", "must include"),
]


@pytest.mark.parametrize(("name", "field", "says"), REFUSED)
def test_broken_sample_is_refused_naming_its_problem_and_path(
    name: str, field: str, says: str
) -> None:
    with pytest.raises(InvalidRecord) as caught:
        imported(OB30 / name)
    assert caught.value.field == field
    assert says in caught.value.problem


IGNORED = [
    # The error is in the learner's part or the issuer's extras: the import reads neither,
    # so the achievement imports and the error is named.
    (
        "simple-err-credential-subject-identifier-type.json",
        "$.credentialSubject.identifier[0].type",
    ),
    ("simple-err-credential-subject-profile-type.json", "$.credentialSubject.source.type"),
    ("simple-err-credential-subject-result-type.json", "$.credentialSubject.result[1].type"),
    ("simple-err-evidence-type.json", "$.evidence[1].type"),
    ("simple-err-issuer-otheridentifier-type.json", "$.issuer.otherIdentifier[1].type"),
    ("simple-err-issuer-parentorg-type.json", "$.issuer.parentOrg.type"),
    # Proof errors: the import describes the achievement and verifies no learner's award.
    ("simple-err-proof-method.json", "$.proof is not verified"),
    ("simple-err-proof-method-no-scheme.json", "$.proof is not verified"),
    ("simple-err-proof-method-unknown-did-method.json", "$.proof is not verified"),
    ("simple-err-proof-method-unknown-scheme.json", "$.proof is not verified"),
    ("simple-err-proof-value.json", "$.proof is not verified"),
]


@pytest.mark.parametrize(("name", "ignored"), IGNORED)
def test_broken_sample_in_a_part_not_imported_is_accepted_with_a_warning(
    name: str, ignored: str
) -> None:
    (one,) = imported(OB30 / name)
    validate_record(one.record)
    assert any(w.startswith(ignored) for w in one.warnings), one.warnings


def test_every_ob3_sample_is_covered_by_a_test() -> None:
    covered = (
        set(VALID_OB3) | {"complete_v1.json"} | {n for n, *_ in REFUSED} | {n for n, _ in IGNORED}
    )
    assert {p.name for p in OB30.glob("*.json")} == covered


def test_valid_and_broken_files_get_different_messages() -> None:
    messages = set()
    for name in (
        "simple-err-context.json",
        "simple-err-type.json",
        "simple-err-issuer.json",
        "simple-err-expired.json",
        "simple-err-issued.json",
    ):
        with pytest.raises(InvalidRecord) as caught:
            imported(OB30 / name)
        messages.add(str(caught.value))
    assert len(messages) == 5


def test_an_achievement_alone_is_checked_as_an_achievement() -> None:
    achievement = load(OB30 / "simple.json")["credentialSubject"]["achievement"]
    (one,) = ob3.micro_credentials_from_ob3(
        achievement, "us.example", supplement=STATED, now=NOW, key="TEAM1"
    )
    assert one.record.key == "TEAM1"
    del achievement["criteria"]
    with pytest.raises(InvalidRecord) as caught:
        ob3.micro_credentials_from_ob3(achievement, "us.example", supplement=STATED, now=NOW)
    assert caught.value.field == "$.criteria"


def test_something_else_is_refused_by_its_type() -> None:
    with pytest.raises(InvalidRecord) as caught:
        ob3.micro_credentials_from_ob3({"type": ["Person"]}, "us.example", now=NOW)
    assert caught.value.field == "$.type"


# -------------------------------------------------------------------------------- CLR 2.0


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("complex.json", 6),
        ("simple_v1.json", 6),
        # One achievement both in a credential and in the achievement list is imported once.
        ("simple.json", 3),
        ("simple-noproof.json", 2),
        ("simple_old_safesigned.json", 2),
    ],
)
def test_clr_sample_imports_every_achievement(name: str, count: int) -> None:
    found = imported(CLR20 / name)
    assert len(found) == count
    assert len({i.record.key for i in found}) == count
    for one in found:
        validate_record(one.record)


def test_clr_achievements_sharing_an_id_are_keyed_apart_and_said_so() -> None:
    # complex.json gives four different achievements the id urn:uuid:0f09ae53-….
    found = imported(CLR20 / "complex.json")
    keys = [i.record.key for i in found]
    assert keys[2:] == [
        "0f09ae53-33ae-4472-8daa-d7381b859e6c",
        "0f09ae53-33ae-4472-8daa-d7381b859e6c-2",
        "0f09ae53-33ae-4472-8daa-d7381b859e6c-3",
        "0f09ae53-33ae-4472-8daa-d7381b859e6c-4",
    ]
    assert any("keyed '0f09ae53-33ae-4472-8daa-d7381b859e6c-2'" in w for w in found[0].warnings)


def test_clr_achievement_chosen_by_id_takes_the_key_given() -> None:
    (one,) = imported(
        CLR20 / "simple.json",
        achievement="urn:uuid:dd887f0a-56cb-11ec-bf63-0242ac130002",
        key="ACH2",
    )
    assert (one.record.key, one.achievement_id) == (
        "ACH2",
        "urn:uuid:dd887f0a-56cb-11ec-bf63-0242ac130002",
    )
    with pytest.raises(InvalidRecord) as caught:
        imported(CLR20 / "simple.json", key="ONE")
    assert caught.value.field == "--key" and "3 achievements" in caught.value.problem
    with pytest.raises(InvalidRecord, match="no achievement 'urn:x'"):
        imported(CLR20 / "simple.json", achievement="urn:x")


def test_clr_with_a_broken_credential_inside_names_its_path() -> None:
    document = load(CLR20 / "simple.json")
    document["credentialSubject"]["verifiableCredential"][0]["type"] = ["VerifiableCredential"]
    with pytest.raises(InvalidRecord) as caught:
        ob3.micro_credentials_from_ob3(document, "us.example", supplement=STATED, now=NOW)
    assert caught.value.field == "$.credentialSubject.verifiableCredential[0].type"


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        (lambda d: d.pop("issuer"), "$.issuer", "CLR 2.0 requires it"),
        (
            lambda d: d["credentialSubject"].update(type=["AchievementSubject"]),
            "$.credentialSubject.type",
            "ClrSubject",
        ),
        (
            lambda d: [
                d["credentialSubject"].pop(k) for k in ("verifiableCredential", "achievement")
            ],
            "$.credentialSubject",
            "nothing to import",
        ),
        (lambda d: d.update(validFrom="2099-01-01T00:00:00Z"), "$.validFrom", "not yet valid"),
        (
            lambda d: d["credentialSubject"]["achievement"][1].pop("name"),
            "$.credentialSubject.achievement[1].name",
            "is missing",
        ),
    ],
)
def test_clr_structure_is_checked(change: Any, field: str, says: str) -> None:
    document = load(CLR20 / "simple.json")
    change(document)
    with pytest.raises(InvalidRecord) as caught:
        ob3.micro_credentials_from_ob3(document, "us.example", supplement=STATED, now=NOW)
    assert caught.value.field == field
    assert says in caught.value.problem
