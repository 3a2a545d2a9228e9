"""Learners' credentials without a database: what the agent issues passes 1EdTech's official
Open Badges 3.0 schema; its Data Integrity proof covers every statement; 1EdTech's own signed
samples and status list (an independent implementation) verify and decode here."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft201909Validator, FormatChecker

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core import credentials as vc
from registry_core.envelope import Ed25519Signer
from registry_core.standards import ob3
from tests.conftest import STANDARDS
from tests.factories import micro_credential, module

BASE = "https://registry.example.org"
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
SIGNER = Ed25519Signer.generate()
OB3_SCHEMA = json.loads(
    (STANDARDS / "validators" / "ob_v3p0_achievementcredential_schema.json").read_text()
)


def issued(
    record: rec.MicroCredential | rec.LearningUnit | None = None,
    *,
    grade: rec.Grade | None = None,
    verified: bool = True,
    until: dt.date | None = None,
) -> dict[str, Any]:
    record = record or micro_credential()
    achievement = (
        ob3.micro_credential_to_ob3(record, BASE)
        if isinstance(record, rec.MicroCredential)
        else ob3.learning_unit_to_ob3(record, BASE)
    )
    unsigned = vc.open_badge_credential(
        achievement,
        credential_id="urn:uuid:6f2e33e5-7a29-4155-840a-59483ba10164",
        issuer=vc.issuer_id(BASE, record.institution_id),
        issuer_name="University",
        learner=vc.Learner("S0001", "Ada Learner", "ada@example.org"),
        award=vc.Award(
            dt.date(2025, 6, 1), grade or rec.Grade(scheme="UK_LETTER", value="B"), verified
        ),
        issued=NOW,
        status_list=vc.status_list_id(BASE, record.institution_id),
        status_index=42,
        valid_until=until,
    )
    return vc.sign(unsigned, SIGNER, created=NOW)


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = Draft201909Validator(OB3_SCHEMA, format_checker=FormatChecker())
    return [f"{e.json_path}: {e.message[:160]}" for e in validator.iter_errors(document)]


@pytest.mark.parametrize(
    "record",
    [
        micro_credential(),
        micro_credential(grading_scheme="PASS_FAIL"),
        module("uk.ac.taff", "CS 7/DE"),
        module("edu.ccsf", "MATH 110", system="US_SEMESTER", framework="", level=""),
    ],
    ids=["micro-credential", "pass-fail", "module with a space and a slash", "no level"],
)
def test_issued_credential_passes_the_official_ob3_schema(
    record: rec.MicroCredential | rec.LearningUnit,
) -> None:
    assert schema_errors(issued(record)) == []


def test_issued_credential_reads_back_what_was_awarded() -> None:
    document = issued(
        module("uk.ac.taff", "CS 7/DE"), grade=rec.Grade(scheme="PERCENTAGE", value="64")
    )
    presented = vc.read_presented(json.dumps(document))
    assert vc.record_of_achievement(presented.achievement_id) == ("uk.ac.taff", "CS 7/DE")
    assert vc.institution_of_issuer(presented.issuer) == "uk.ac.taff"
    assert presented.award_date == dt.date(2025, 6, 1)
    assert (presented.grade.scheme, presented.grade.value) == ("PERCENTAGE", "64")
    assert presented.identity_verified is True
    assert presented.status == vc.StatusEntry(vc.status_list_id(BASE, "uk.ac.taff"), 42)
    assert "S0001" not in json.dumps(document), "the student number is written hashed only"


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    else:
        yield path


def test_changing_any_statement_of_a_signed_credential_breaks_its_proof() -> None:
    document = issued()
    vc.verify_proof(document)
    paths = [p for p in _leaves(document) if p[0] not in ("proof", "@context")]
    assert len(paths) > 30
    for path in paths:
        changed = copy.deepcopy(document)
        parent = changed
        for step in path[:-1]:
            parent = parent[step]
        value = parent[path[-1]]
        parent[path[-1]] = (
            (not value)
            if isinstance(value, bool)
            else value + 1
            if isinstance(value, (int, float))
            else f"{value}x"
        )
        with pytest.raises(vc.CredentialProblem) as refused:
            vc.verify_proof(changed)
        # A changed type can leave terms that only that type's context defines: refused as
        # not a credential, before the signature is even checked.
        assert refused.value.refusal in (
            eq.CREDENTIAL_REFUSAL_BAD_SIGNATURE,
            eq.CREDENTIAL_REFUSAL_MALFORMED,
        ), path


def test_a_property_no_context_defines_is_refused_not_silently_unsigned() -> None:
    document = issued()
    document["credentialSubject"]["creditsEarnedHere"] = 60
    with pytest.raises(vc.CredentialProblem) as refused:
        vc.verify_proof(document)
    assert refused.value.refusal == eq.CREDENTIAL_REFUSAL_MALFORMED
    assert "creditsEarnedHere" in refused.value.explanation


@pytest.mark.parametrize(
    "sample",
    [
        "ob3-achievement-credential-simple.json",
        "ob3-achievement-credential-complete.json",
        "ob3-credential-status-revoked.json",
        "ob3-bitstring-status-list-testlist.json",
    ],
)
def test_1edtechs_signed_samples_verify_and_one_changed_byte_does_not(sample: str) -> None:
    """Signed by 1EdTech's implementation: an independent check of ours."""
    text = (STANDARDS / sample).read_text()
    proof = vc.verify_proof(json.loads(text))
    assert vc.multikey(proof.public_key) in proof.verification_method
    changed = json.loads(text)
    changed["issuer"] = (
        changed["issuer"] + "x"
        if isinstance(changed["issuer"], str)
        else {**changed["issuer"], "id": changed["issuer"]["id"] + "x"}
    )
    with pytest.raises(vc.CredentialProblem):
        vc.verify_proof(changed)


def test_1edtechs_status_list_has_exactly_entry_23_revoked() -> None:
    listed = json.loads((STANDARDS / "ob3-bitstring-status-list-testlist.json").read_text())
    bits = vc.decode_status_list(listed["credentialSubject"]["encodedList"])
    assert len(bits) * 8 == vc.STATUS_LIST_ENTRIES
    assert [i for i in range(len(bits) * 8) if vc.is_set(bits, i)] == [23]


def test_status_list_round_trips_and_accepts_the_specifications_unprefixed_form() -> None:
    revoked = {0, 7, 8, 23, vc.STATUS_LIST_ENTRIES - 1}
    bits = vc.decode_status_list(vc.encode_status_list(revoked))
    assert {i for i in range(len(bits) * 8) if vc.is_set(bits, i)} == revoked
    # The W3C specification's example of an empty list, as its Candidate Recommendation
    # wrote it (without the multibase 'u').
    empty = vc.decode_status_list(
        "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
    )
    assert len(empty) * 8 == vc.STATUS_LIST_ENTRIES and not any(empty)


def test_a_signed_status_list_verifies() -> None:
    listed = vc.sign(
        vc.status_list_credential(
            list_id=vc.status_list_id(BASE, "uk.ac.forth"),
            issuer=vc.issuer_id(BASE, "uk.ac.forth"),
            revoked={3},
            issued=NOW,
        ),
        SIGNER,
        created=NOW,
    )
    assert vc.verify_proof(listed).public_key == SIGNER.public_key


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"type": ["VerifiableCredential"], "issuer": "x"}), "OpenBadgeCredential"),
        (
            json.dumps(
                {
                    "type": ["VerifiableCredential", "OpenBadgeCredential"],
                    "credentialSubject": {"achievement": {"id": "urn:x"}},
                }
            ),
            "no issuer",
        ),
        (
            json.dumps(
                {
                    "type": ["VerifiableCredential", "OpenBadgeCredential"],
                    "issuer": "urn:i",
                    "credentialSubject": {},
                }
            ),
            "no credentialSubject.achievement",
        ),
        ("x" * (vc.MAX_CREDENTIAL_BYTES + 1), "larger than 512 KiB"),
    ],
)
def test_what_is_not_an_ob3_credential_is_refused_naming_the_problem(
    text: str, problem: str
) -> None:
    with pytest.raises(vc.CredentialProblem) as refused:
        vc.read_presented(text)
    assert refused.value.refusal == eq.CREDENTIAL_REFUSAL_MALFORMED
    assert problem in refused.value.explanation


def test_a_wallets_wrapper_is_read_as_the_credential_inside() -> None:
    document = issued()
    assert vc.read_presented(json.dumps({"credential": document})).credential_id == document["id"]


def test_validity_dates_are_checked_as_the_credential_stands_now() -> None:
    presented = vc.read_presented(json.dumps(issued(until=dt.date(2026, 12, 31))))
    vc.check_dates(presented, NOW)
    for now, refusal in (
        (NOW - dt.timedelta(days=1), eq.CREDENTIAL_REFUSAL_NOT_YET_VALID),
        (dt.datetime(2027, 1, 1, tzinfo=dt.UTC), eq.CREDENTIAL_REFUSAL_EXPIRED),
    ):
        with pytest.raises(vc.CredentialProblem) as refused:
            vc.check_dates(presented, now)
        assert refused.value.refusal == refusal


def test_a_key_that_is_not_ed25519_is_refused() -> None:
    with pytest.raises(vc.CredentialProblem) as refused:
        vc.public_key_of("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")  # secp256k1
    assert refused.value.refusal == eq.CREDENTIAL_REFUSAL_UNKNOWN_KEY
    assert vc.public_key_of(vc.verification_method(SIGNER.public_key)) == SIGNER.public_key
