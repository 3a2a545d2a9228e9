"""Learners' credentials presented in a partner's question, over gRPC: an institution issues
an Open Badges 3.0 credential signed by its key; the registry verifies it and uses what it
states. Each way a credential can be false (tampered, revoked, expired, signed by another
institution or by a retired key, of an achievement never published) is refused as a
holding, with its reason, and the rest of the answer is as without it."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from registry.v1 import directory_pb2 as directory
from registry.v1 import directory_pb2_grpc, equivalence_pb2_grpc, publication_pb2_grpc
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core import credentials as vc
from registry_core.envelope import Ed25519Signer
from registry_core.standards import ob3
from registry_server import directory as directory_store
from registry_server import learner_credentials
from tests.conftest import STANDARDS, Network, RunningRegistry
from tests.factories import agreement, holding, micro_credential, module
from tests.registry_server.test_claims_over_grpc import publish

FORTH, TAFF, LAGAN = "uk.ac.forth", "uk.ac.taff", "uk.ac.lagan"
BASE = "https://registry.example.org"
NOW = dt.datetime.now(dt.UTC)


def credential(
    network: Network,
    *,
    key: str = "MC1",
    grade: str = "B",
    award: dt.date = dt.date(2025, 6, 1),
    index: int = 0,
    signer: Ed25519Signer | None = None,
    issuer: str = FORTH,
    issued: dt.datetime = NOW - dt.timedelta(days=1),
    valid_until: dt.date | None = None,
    status: bool = True,
) -> dict[str, Any]:
    """A credential of FORTH's record key, as FORTH's agent issues it."""
    achievement = ob3.micro_credential_to_ob3(micro_credential(FORTH, key), BASE)
    unsigned = vc.open_badge_credential(
        achievement,
        credential_id=f"urn:uuid:00000000-0000-4000-8000-{index:012d}",
        issuer=vc.issuer_id(BASE, issuer),
        issuer_name="University of the Forth",
        learner=vc.Learner("S1234567"),
        award=vc.Award(award, rec.Grade(scheme="UK_LETTER", value=grade), identity_verified=True),
        issued=issued,
        status_list=vc.status_list_id(BASE, FORTH) if status else None,
        status_index=index,
        valid_until=valid_until,
    )
    return vc.sign(unsigned, signer or network.signers[FORTH], created=issued)


def status_list(
    network: Network,
    revoked: set[int],
    *,
    institution: str = FORTH,
    issued: dt.datetime | None = None,
    signer: Ed25519Signer | None = None,
) -> str:
    unsigned = vc.status_list_credential(
        list_id=vc.status_list_id(BASE, institution),
        issuer=vc.issuer_id(BASE, institution),
        revoked=revoked,
        issued=issued or dt.datetime.now(dt.UTC),
    )
    return json.dumps(
        vc.sign(
            unsigned,
            signer or network.signers[institution],
            created=issued or dt.datetime.now(dt.UTC),
        )
    )


@pytest.fixture
def published(network: Network) -> Network:
    """FORTH's micro-credentials MC1 and MC2; TAFF's agreements granting a module for
    each (MC1 with a grade of at least C) and its MSc, and FORTH's status list with entry 7
    revoked."""
    publish(network, FORTH, [micro_credential(FORTH, "MC1"), micro_credential(FORTH, "MC2")])
    publish(
        network,
        TAFF,
        [
            module(TAFF, "CS7DE"),
            module(TAFF, "CS7ML"),
            _qualification(),
            agreement(
                TAFF,
                "AG1",
                sources=[(FORTH, "MC1")],
                unit_key="CS7DE",
                minimum_grade=rec.Grade(scheme="UK_LETTER", value="C"),
            ),
            agreement(TAFF, "AG2", sources=[(FORTH, "MC2")], unit_key="CS7ML"),
        ],
    )
    learner_credentials.publish_status_list(network.engine, status_list(network, {7}))
    return network


@pytest.fixture
def direct(registry: RunningRegistry) -> Iterator[grpc.Channel]:
    """A channel to the registry run one way: each way it runs its database calls, and a
    query worker, is tested with `channel` on the verified case and the pathway."""
    with grpc.insecure_channel(registry.address) as opened:
        yield opened


def presented(document: dict[str, Any] | str) -> eq.Holding:
    return eq.Holding(
        verifiable_credential=document if isinstance(document, str) else json.dumps(document)
    )


def ask(channel: grpc.Channel, *holdings: eq.Holding) -> eq.ResolveTransferResponse:
    return equivalence_pb2_grpc.EquivalenceServiceStub(channel).ResolveTransfer(
        eq.ResolveTransferRequest(
            holdings=holdings, target_institution_id=TAFF, as_of=NOW.date().isoformat()
        ),
        timeout=20,
    )


def granted(answer: eq.ResolveTransferResponse) -> list[str]:
    return sorted(g.grant.unit_key for g in answer.grants)


def test_verified_credential_earns_the_grant_with_its_own_grade_and_date(
    published: Network, channel: grpc.Channel
) -> None:
    answer = ask(channel, presented(credential(published)))
    assert granted(answer) == ["CS7DE"]
    [check] = answer.holdings_checked
    assert check.evidence == eq.HOLDING_EVIDENCE_VERIFIED
    assert (check.credential.institution_id, check.credential.key) == (FORTH, "MC1")
    assert "awarded 2025-06-01, grade B (UK_LETTER)" in check.explanation
    assert any("revoked" in line for line in check.checked), check.checked


def test_stated_holding_is_marked_as_self_asserted(
    published: Network, direct: grpc.Channel
) -> None:
    [check] = ask(direct, holding(FORTH, "MC2", award_date="2025-06-01")).holdings_checked
    assert check.evidence == eq.HOLDING_EVIDENCE_SELF_ASSERTED


def _tampered(document: dict[str, Any]) -> dict[str, Any]:
    """One character of the grade changed after signing."""
    changed = copy.deepcopy(document)
    changed["credentialSubject"]["result"][0]["value"] = "A"
    return changed


Make = Callable[[Network], "dict[str, Any] | str"]
REFUSALS: dict[str, tuple[Make, int]] = {
    "tampered (one character)": (
        lambda n: _tampered(credential(n)),
        eq.CREDENTIAL_REFUSAL_BAD_SIGNATURE,
    ),
    "revoked by its issuer": (lambda n: credential(n, index=7), eq.CREDENTIAL_REFUSAL_REVOKED),
    "expired": (
        lambda n: credential(n, valid_until=NOW.date() - dt.timedelta(days=1)),
        eq.CREDENTIAL_REFUSAL_EXPIRED,
    ),
    "valid only from tomorrow": (
        lambda n: credential(n, issued=NOW + dt.timedelta(days=1)),
        eq.CREDENTIAL_REFUSAL_NOT_YET_VALID,
    ),
    "signed by another institution's key": (
        lambda n: credential(n, signer=n.signers[LAGAN]),
        eq.CREDENTIAL_REFUSAL_WRONG_ISSUER,
    ),
    "signed by a key the directory does not hold": (
        lambda n: credential(n, signer=Ed25519Signer.generate()),
        eq.CREDENTIAL_REFUSAL_UNKNOWN_KEY,
    ),
    "of an achievement never published": (
        lambda n: credential(n, key="MC9"),
        eq.CREDENTIAL_REFUSAL_NOT_PUBLISHED,
    ),
    "not JSON": (lambda n: "{not json", eq.CREDENTIAL_REFUSAL_MALFORMED),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_false_credential_is_refused_as_a_holding_and_the_rest_is_unchanged(
    published: Network, direct: grpc.Channel, case: str
) -> None:
    make, refusal = REFUSALS[case]
    other = holding(FORTH, "MC2", award_date="2025-06-01")
    alone = ask(direct, other)
    answer = ask(direct, presented(make(published)), other)
    assert granted(answer) == granted(alone) == ["CS7ML"]
    assert list(answer.not_applied) == list(alone.not_applied)
    check = answer.holdings_checked[0]
    assert check.evidence == eq.HOLDING_EVIDENCE_REFUSED
    assert check.refusal == refusal, check.explanation
    assert check.explanation.startswith("not verified: ")


def test_retired_key_counts_only_for_what_it_signed_before_retirement(
    published: Network, direct: grpc.Channel
) -> None:
    old = published.signers[FORTH]
    before = credential(published, issued=NOW - dt.timedelta(days=2))
    directory_store.rotate_key(published.engine, FORTH, Ed25519Signer.generate().public_key)
    # Proof dates are to the second: a second after the retirement, whatever the clock.
    after = credential(
        published, signer=old, issued=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5)
    )
    [kept] = ask(direct, presented(before)).holdings_checked
    [refused] = ask(direct, presented(after)).holdings_checked
    assert kept.evidence == eq.HOLDING_EVIDENCE_VERIFIED, kept.explanation
    assert refused.refusal == eq.CREDENTIAL_REFUSAL_KEY_RETIRED, refused.explanation


def test_credential_whose_status_list_was_never_published_is_not_verified(
    network: Network, direct: grpc.Channel
) -> None:
    publish(network, FORTH, [micro_credential(FORTH, "MC1")])
    [check] = ask(direct, presented(credential(network))).holdings_checked
    assert check.refusal == eq.CREDENTIAL_REFUSAL_STATUS_UNKNOWN


def test_grade_stated_beside_the_credential_must_agree_with_it(
    published: Network, direct: grpc.Channel
) -> None:
    stated = presented(credential(published, grade="D"))
    stated.grade.scheme, stated.grade.value = "UK_LETTER", "A"
    [check] = ask(direct, stated).holdings_checked
    assert check.refusal == eq.CREDENTIAL_REFUSAL_MISMATCH
    assert "holdings[0].grade" in check.explanation


def test_credentials_own_grade_decides_a_minimum_grade(
    published: Network, direct: grpc.Channel
) -> None:
    answer = ask(direct, presented(credential(published, grade="D")))
    assert granted(answer) == []
    assert [n.reason for n in answer.not_applied] == [eq.NOT_APPLIED_REASON_GRADE_BELOW_MINIMUM]


def test_agreement_requiring_verified_holdings_takes_only_a_verified_credential(
    network: Network, direct: grpc.Channel
) -> None:
    publish(network, FORTH, [micro_credential(FORTH, "MC1")])
    publish(
        network,
        TAFF,
        [
            module(TAFF, "CS7DE"),
            agreement(
                TAFF,
                "AG1",
                sources=[(FORTH, "MC1")],
                unit_key="CS7DE",
                verified_holdings_required=True,
            ),
        ],
    )
    learner_credentials.publish_status_list(network.engine, status_list(network, set()))
    stated = ask(direct, holding(FORTH, "MC1", award_date="2025-06-01"))
    assert granted(stated) == []
    assert [n.reason for n in stated.not_applied] == [eq.NOT_APPLIED_REASON_HOLDING_NOT_VERIFIED]
    assert granted(ask(direct, presented(credential(network)))) == ["CS7DE"]


def test_credential_from_outside_the_network_says_what_was_and_was_not_checked(
    published: Network, direct: grpc.Channel
) -> None:
    """1EdTech's own signed sample (an issuer the network does not know): its signature is
    checked against the key its proof names; what ties that key to the issuer is not."""
    sample = (STANDARDS / "ob3-achievement-credential-simple.json").read_text()
    [check] = ask(direct, presented(sample)).holdings_checked
    assert check.refusal == eq.CREDENTIAL_REFUSAL_OUTSIDE_NETWORK, check.explanation
    assert check.checked[0].startswith("signature (eddsa-rdfc-2022)")
    assert any("not in the network's directory" in line for line in check.not_checked)


def test_pathway_answer_says_how_each_holding_was_taken(
    published: Network, channel: grpc.Channel
) -> None:
    answer = equivalence_pb2_grpc.EquivalenceServiceStub(channel).EvaluatePathway(
        eq.EvaluatePathwayRequest(
            qualification=rec.CredentialRef(institution_id=TAFF, key="MSC"),
            holdings=[
                presented(credential(published)),
                presented(_tampered(credential(published))),
            ],
            as_of=NOW.date().isoformat(),
        ),
        timeout=20,
    )
    assert [c.evidence for c in answer.holdings_checked] == [
        eq.HOLDING_EVIDENCE_VERIFIED,
        eq.HOLDING_EVIDENCE_REFUSED,
    ]
    assert [g.grant.unit_key for g in answer.counted] == ["CS7DE"]


def _qualification() -> rec.LearningUnit:
    unit = module(TAFF, "MSC", credit=180, level="7")
    unit.kind = rec.LEARNING_UNIT_KIND_QUALIFICATION
    unit.stacking_rule.total.CopyFrom(rec.Credit(value=180, system="UK_CREDIT"))
    return unit


# -- status lists ---------------------------------------------------------------------------


def test_status_list_is_published_and_served_as_signed(
    published: Network, direct: grpc.Channel
) -> None:
    text = status_list(published, {3, 7})
    answer = publication_pb2_grpc.PublicationServiceStub(direct).PublishStatusList(
        pub.PublishStatusListRequest(status_list_credential=text), timeout=20
    )
    assert (answer.id, answer.revoked) == (vc.status_list_id(BASE, FORTH), 2)
    served = directory_pb2_grpc.DirectoryServiceStub(direct).GetStatusList(
        directory.GetStatusListRequest(id=answer.id), timeout=20
    )
    assert served.status_list_credential == text and served.institution_id == FORTH
    vc.verify_proof(json.loads(served.status_list_credential))


STATUS_REFUSALS: dict[str, tuple[Callable[[Network], str], grpc.StatusCode]] = {
    "an older list than the registry holds": (
        lambda n: status_list(n, set(), issued=NOW - dt.timedelta(days=30)),
        grpc.StatusCode.FAILED_PRECONDITION,
    ),
    "another institution's list, signed by that institution's key": (
        lambda n: _foreign_list(n),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    "a list signed by a key of another institution": (
        lambda n: status_list(n, set(), signer=n.signers[LAGAN]),
        grpc.StatusCode.UNAUTHENTICATED,
    ),
    "a list dated a day ahead (it would block every later list)": (
        lambda n: status_list(n, set(), issued=NOW + dt.timedelta(days=1)),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    "a list signed by a retired key": (
        lambda n: _retired_list(n),
        grpc.StatusCode.PERMISSION_DENIED,
    ),
}


def _foreign_list(network: Network) -> str:
    """LAGAN's signature on a list whose id is FORTH's."""
    document = json.loads(status_list(network, set(), institution=LAGAN))
    document["id"] = vc.status_list_id(BASE, FORTH)
    return json.dumps(vc.sign(document, network.signers[LAGAN], created=NOW))


def _retired_list(network: Network) -> str:
    old = network.signers[FORTH]
    directory_store.rotate_key(network.engine, FORTH, Ed25519Signer.generate().public_key)
    return status_list(network, set(), signer=old)


@pytest.mark.parametrize("case", sorted(STATUS_REFUSALS))
def test_status_list_that_may_not_replace_the_held_one_is_refused_and_changes_nothing(
    published: Network, direct: grpc.Channel, case: str
) -> None:
    make, code = STATUS_REFUSALS[case]
    stub = directory_pb2_grpc.DirectoryServiceStub(direct)
    held = stub.GetStatusList(
        directory.GetStatusListRequest(id=vc.status_list_id(BASE, FORTH)), timeout=20
    )
    with pytest.raises(grpc.RpcError) as refused:
        publication_pb2_grpc.PublicationServiceStub(direct).PublishStatusList(
            pub.PublishStatusListRequest(status_list_credential=make(published)), timeout=20
        )
    assert refused.value.code() == code, refused.value.details()
    assert (
        stub.GetStatusList(
            directory.GetStatusListRequest(id=vc.status_list_id(BASE, FORTH)), timeout=20
        )
        == held
    )


def test_credential_awarded_after_the_questions_date_is_refused_as_a_holding(
    published: Network, direct: grpc.Channel
) -> None:
    answer = equivalence_pb2_grpc.EquivalenceServiceStub(direct).ResolveTransfer(
        eq.ResolveTransferRequest(
            holdings=[presented(credential(published))],
            target_institution_id=TAFF,
            as_of="2025-01-15",
        ),
        timeout=20,
    )
    [check] = answer.holdings_checked
    assert check.refusal == eq.CREDENTIAL_REFUSAL_NOT_YET_VALID
    assert "awarded on 2025-06-01, after the question's date 2025-01-15" in check.explanation


def test_sealed_europass_credential_has_its_seal_checked_and_says_what_was_not(
    published: Network, direct: grpc.Channel
) -> None:
    """The European Commission's own signed sample (JAdES, RS256, a test seal)."""
    sample = (STANDARDS / "elm-v3-certificate-of-participation-signed.jsonld").read_text()
    [check] = ask(direct, presented(sample)).holdings_checked
    assert check.refusal == eq.CREDENTIAL_REFUSAL_OUTSIDE_NETWORK, check.explanation
    assert check.checked[0].startswith("JAdES seal (RS256) over the credential's exact bytes")
    assert "O=ORGANIZACION TEST" in check.checked[0]
    assert any("EU trusted lists" in line for line in check.not_checked)
    altered = json.loads(sample)
    altered["payload"] = altered["payload"].replace("Certificate", "Diploma", 1)
    [refused] = ask(direct, presented(altered)).holdings_checked
    assert refused.refusal == eq.CREDENTIAL_REFUSAL_BAD_SIGNATURE, refused.explanation


def test_unsigned_clr_credential_is_said_to_carry_no_proof(
    published: Network, direct: grpc.Channel
) -> None:
    record = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
        ],
        "id": "urn:uuid:1",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": {"id": "https://college.example/issuer", "type": ["Profile"]},
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {},
    }
    [check] = ask(direct, presented(record)).holdings_checked
    assert check.refusal == eq.CREDENTIAL_REFUSAL_OUTSIDE_NETWORK
    assert check.explanation.startswith("not verified: a CLR 2.0 learner record;")
    assert check.not_checked == ["who issued it: it carries no proof"]


def test_our_credential_with_a_changed_type_is_refused_as_malformed_and_named(
    published: Network, direct: grpc.Channel
) -> None:
    document = credential(published)
    document["type"] = ["VerifiableCredential", "OpenBadgeCredentiaL"]
    [check] = ask(direct, presented(document)).holdings_checked
    assert check.refusal == eq.CREDENTIAL_REFUSAL_MALFORMED, check.explanation
    assert "OpenBadgeCredentiaL" in check.explanation
    assert (check.credential.institution_id, check.credential.key) == (FORTH, "MC1")
