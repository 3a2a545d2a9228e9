"""Bilateral agreements over gRPC with mutual TLS: one record both institutions sign, every
step visible to both sides, the version in force used by resolution, the history kept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import grpc
import pytest

from registry.v1 import bilateral_pb2 as bi
from registry.v1 import bilateral_pb2_grpc, equivalence_pb2_grpc, publication_pb2_grpc
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core.bilateral import content_hash
from registry_core.envelope import Ed25519Signer, seal
from registry_server.audit import verify_log
from registry_server.bilateral import STEP_PAYLOAD_TYPE
from sync_agent.client import open_channel
from tests.conftest import Network, RunningRegistry, client_tls
from tests.factories import agreement, batch, holding, micro_credential, module, signed

TAFF, FORTH, LAGAN = "uk.ac.taff", "uk.ac.forth", "uk.ac.lagan"
ID = f"{TAFF}/ART-1"


class Party:
    """One institution's side: its certificate, its signing key, its calls."""

    def __init__(self, name: str, network: Network, registry: RunningRegistry, pki: Path) -> None:
        self.name = name
        self.signer: Ed25519Signer = network.signers[name]
        self.channel = open_channel(registry.address, client_tls(pki, f"institution-{name}"))
        self.bilateral = bilateral_pb2_grpc.BilateralServiceStub(self.channel)

    def step(
        self,
        action: bi.BilateralAction,
        version: int,
        terms: rec.RecognitionAgreement | None = None,
        *,
        digest: str | None = None,
        reason: str = "",
        partner: str = "",
        actor: str | None = None,
        signer: Ed25519Signer | None = None,
    ) -> bi.ActResponse:
        step = bi.BilateralStep(
            agreement_id=ID,
            version=version,
            action=action,
            actor=actor or self.name,
            partner=partner,
            reason=reason,
            signed_at=dt.datetime.now(dt.UTC).isoformat(),
        )
        if terms is not None:
            step.terms.CopyFrom(terms)
        step.content_hash = digest if digest is not None else content_hash(terms or TERMS)
        envelope = seal(step.SerializeToString(), signer or self.signer, STEP_PAYLOAD_TYPE)
        return self.bilateral.Act(bi.ActRequest(step=envelope), timeout=10)

    def events(self, after: int = 0) -> list[bi.BilateralEvent]:
        return list(
            self.bilateral.ListBilateralEvents(
                bi.ListBilateralEventsRequest(institution_id=self.name, after_event_id=after),
                timeout=10,
            ).events
        )


TERMS = agreement(TAFF, "ART-1", sources=[(FORTH, "MC1")])
AMENDED = agreement(
    TAFF, "ART-1", sources=[(FORTH, "MC1")], minimum_grade=rec.Grade(scheme="UK_LETTER", value="B")
)

UNPUBLISHED_UNIT = agreement(TAFF, "ART-1", sources=[(FORTH, "MC1")], unit_key="CS9XX")


@pytest.fixture
def parties(network: Network, tls_registry: RunningRegistry, pki: Path):  # type: ignore[no-untyped-def]
    taff = Party(TAFF, network, tls_registry, pki)
    forth = Party(FORTH, network, tls_registry, pki)
    lagan = Party(LAGAN, network, tls_registry, pki)
    for who, records in ((forth, [micro_credential()]), (taff, [module()])):
        publication_pb2_grpc.PublicationServiceStub(who.channel).Publish(
            pub.PublishRequest(envelope=signed(batch(who.name, records), who.signer)), timeout=10
        )
    yield taff, forth, lagan
    for party in (taff, forth, lagan):
        party.channel.close()


def grants(party: Party, grade: str = "A") -> list[str]:
    answer = equivalence_pb2_grpc.EquivalenceServiceStub(party.channel).ResolveTransfer(
        eq.ResolveTransferRequest(
            holdings=[holding(grade=("UK_LETTER", grade))],
            target_institution_id=TAFF,
            as_of="2026-01-15",
        ),
        timeout=10,
    )
    return [
        f"{g.grant.unit_key}@{g.provenance[0].agreement_key}v{g.provenance[0].agreement_version}"
        for g in answer.grants
    ]


def test_propose_countersign_amend_terminate_seen_by_both_sides(parties, network: Network) -> None:  # type: ignore[no-untyped-def]
    taff, forth, _ = parties
    proposed = taff.step(bi.BILATERAL_ACTION_PROPOSE, 1, TERMS, partner=FORTH).agreement
    assert proposed.state == bi.BILATERAL_STATE_PROPOSED
    assert grants(taff) == [], "not in force before the partner signs"
    [seen] = forth.events()  # the partner learns of it on its next pull
    assert bi.BilateralStep.FromString(seen.step.payload).action == bi.BILATERAL_ACTION_PROPOSE

    assert (
        forth.step(bi.BILATERAL_ACTION_COUNTERSIGN, 1).agreement.state == bi.BILATERAL_STATE_ACTIVE
    )
    assert grants(forth) == [f"CS7DE@bilateral:{ID}v1"]

    amendment = forth.step(bi.BILATERAL_ACTION_PROPOSE, 2, AMENDED, digest=content_hash(AMENDED))
    assert (amendment.agreement.version, amendment.agreement.proposer) == (2, FORTH)
    assert grants(taff, "C") == [f"CS7DE@bilateral:{ID}v1"], "the old version stays in force"
    taff.step(bi.BILATERAL_ACTION_COUNTERSIGN, 2, digest=content_hash(AMENDED))
    assert grants(taff, "C") == [] and grants(taff, "A") == [f"CS7DE@bilateral:{ID}v2"]
    report = verify_log(network.engine)
    assert report.ok, report.problems

    taff.step(
        bi.BILATERAL_ACTION_TERMINATE,
        2,
        digest=content_hash(AMENDED),
        reason="the programme closes in 2027",
    )
    assert grants(forth) == []
    history = taff.bilateral.GetBilateralAgreement(
        bi.GetBilateralAgreementRequest(agreement_id=ID), timeout=10
    )
    assert [v.state for v in history.versions] == [
        bi.BILATERAL_STATE_SUPERSEDED,
        bi.BILATERAL_STATE_TERMINATED,
    ]
    actions = [bi.BilateralStep.FromString(e.step.payload).action for e in history.history]
    assert actions == [
        bi.BILATERAL_ACTION_PROPOSE,
        bi.BILATERAL_ACTION_COUNTERSIGN,
        bi.BILATERAL_ACTION_PROPOSE,
        bi.BILATERAL_ACTION_COUNTERSIGN,
        bi.BILATERAL_ACTION_TERMINATE,
    ]
    assert (
        [e.event_id for e in taff.events()]
        == [e.event_id for e in forth.events()]
        == [1, 2, 3, 4, 5]
    )
    assert [e.event_id for e in forth.events(after=3)] == [4, 5]


def test_refused_steps_say_why_and_change_nothing(parties, network: Network) -> None:  # type: ignore[no-untyped-def]
    taff, forth, lagan = parties
    taff.step(bi.BILATERAL_ACTION_PROPOSE, 1, TERMS, partner=FORTH)
    cases = [
        (
            "wrong party",
            lambda: taff.step(bi.BILATERAL_ACTION_COUNTERSIGN, 1),
            grpc.StatusCode.PERMISSION_DENIED,
            "only the partner",
        ),
        (
            "not a party",
            lambda: lagan.step(bi.BILATERAL_ACTION_REJECT, 1, reason="no"),
            grpc.StatusCode.PERMISSION_DENIED,
            "not a party",
        ),
        (
            "signature over different content",
            lambda: forth.step(bi.BILATERAL_ACTION_COUNTERSIGN, 1, digest=content_hash(AMENDED)),
            grpc.StatusCode.FAILED_PRECONDITION,
            "signature covers content",
        ),
        (
            "stale version",
            lambda: forth.step(bi.BILATERAL_ACTION_COUNTERSIGN, 7),
            grpc.StatusCode.NOT_FOUND,
            "no version 7",
        ),
        (
            "wrong state",
            lambda: forth.step(bi.BILATERAL_ACTION_TERMINATE, 1, reason="x"),
            grpc.StatusCode.FAILED_PRECONDITION,
            "does not allow 'terminate'",
        ),
        (
            "reject without reason",
            lambda: forth.step(bi.BILATERAL_ACTION_REJECT, 1),
            grpc.StatusCode.INVALID_ARGUMENT,
            "needs a reason",
        ),
        (
            "acting for another institution",
            lambda: forth.step(bi.BILATERAL_ACTION_COUNTERSIGN, 1, actor=TAFF),
            grpc.StatusCode.PERMISSION_DENIED,
            "acts only for itself",
        ),
        (
            "terms granting a unit the recogniser has not published",
            lambda: taff.step(
                bi.BILATERAL_ACTION_PROPOSE,
                2,
                UNPUBLISHED_UNIT,
                digest=content_hash(UNPUBLISHED_UNIT),
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "'terms.grant.unit_key': grants unit 'CS9XX'",
        ),
        (
            "second proposal while one is pending",
            lambda: taff.step(
                bi.BILATERAL_ACTION_PROPOSE, 2, AMENDED, digest=content_hash(AMENDED)
            ),
            grpc.StatusCode.FAILED_PRECONDITION,
            "awaits a decision",
        ),
    ]
    before = forth.events()
    for name, call, code, words in cases:
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert (caught.value.code(), words in (caught.value.details() or "")) == (code, True), (
            f"{name}: {caught.value.code()} {caught.value.details()}"
        )
    assert forth.events() == before


def test_batches_cannot_use_the_registrys_bilateral_keys(parties) -> None:  # type: ignore[no-untyped-def]
    taff, _, _ = parties
    forged = agreement(TAFF, f"bilateral:{ID}", sources=[(FORTH, "MC1")])
    head = (
        publication_pb2_grpc.PublicationServiceStub(taff.channel)
        .GetCheckpoint(pub.GetCheckpointRequest(institution_id=TAFF))
        .head
    )
    with pytest.raises(grpc.RpcError) as caught:
        publication_pb2_grpc.PublicationServiceStub(taff.channel).Publish(
            pub.PublishRequest(
                envelope=signed(batch(TAFF, [forged], first_seq=2, prev_head=head), taff.signer)
            )
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "bilateral agreements" in (caught.value.details() or "")
