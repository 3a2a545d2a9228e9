"""A question's claims checked against the records, over gRPC: a future award, a grade in a
scheme the credential does not use, a credential no longer active, and assessments of prior
learning, which only the awarding institution may send."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import equivalence_pb2_grpc
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_server import publication
from sync_agent.client import open_channel
from tests.conftest import Network, RunningRegistry, client_tls
from tests.factories import (
    agreement,
    batch,
    head_after,
    holding,
    micro_credential,
    module,
    signed,
)

TAFF = "uk.ac.taff"


def publish(network: Network, institution: str, *batches: list[object]) -> None:
    """Each list of records as the institution's next batch."""
    head, seq = "", 1
    for records in batches:
        made = batch(institution, records, first_seq=seq, prev_head=head)
        publication.publish(network.engine, signed(made, network.signers[institution]))
        head, seq = head_after(made), seq + len(records)


def resolve(
    channel: grpc.Channel, *holdings: eq.Holding, max_depth: int = 0
) -> eq.ResolveTransferResponse:
    return equivalence_pb2_grpc.EquivalenceServiceStub(channel).ResolveTransfer(
        eq.ResolveTransferRequest(
            holdings=holdings, target_institution_id=TAFF, as_of="2026-01-15", max_depth=max_depth
        ),
        timeout=10,
    )


def violated_field(error: grpc.RpcError) -> str:
    """The field a BadRequest detail of an INVALID_ARGUMENT names."""
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(cast(grpc.Call, error))
    assert status is not None
    [detail] = status.details
    bad_request = error_details_pb2.BadRequest()
    assert detail.Unpack(bad_request)
    [violation] = bad_request.field_violations
    return violation.field


def test_an_award_in_the_future_is_refused(network: Network, channel: grpc.Channel) -> None:
    publish(network, "uk.ac.forth", [micro_credential()])
    with pytest.raises(grpc.RpcError) as caught:
        resolve(channel, holding(), holding(key="MC2", award_date="2999-01-01"))
    assert violated_field(caught.value) == "holdings[1].award_date"
    assert "2999-01-01 is after" in (caught.value.details() or "")


def test_a_percentage_for_a_pass_fail_credential_is_refused(
    network: Network, channel: grpc.Channel
) -> None:
    publish(network, "uk.ac.forth", [micro_credential(grading_scheme="PASS_FAIL")])
    publish(network, TAFF, [module(), agreement()])
    with pytest.raises(grpc.RpcError) as caught:
        resolve(channel, holding(grade=("PERCENTAGE", "72")))
    assert violated_field(caught.value) == "holdings[0].grade.scheme"
    assert "is graded PASS_FAIL" in (caught.value.details() or "")
    assert resolve(channel, holding(grade=("PASS_FAIL", "PASS"))).grants


@pytest.mark.parametrize("max_depth", [1, 2], ids=["direct", "with chains"])
def test_a_superseded_or_withdrawn_source_earns_nothing_and_says_why(
    network: Network, channel: grpc.Channel, max_depth: int
) -> None:
    """The held credentials' records are read whatever their status (the direct question's
    one statement and the chained reads alike), so the answer says what became of each
    rather than "not published"; a withdrawal by tombstone, which leaves the signed payload
    active, is read as withdrawn."""
    publish(
        network,
        "uk.ac.forth",
        [
            micro_credential(status=rec.RECORD_STATUS_SUPERSEDED, superseded_by="MC2"),
            micro_credential(key="MC2"),
            micro_credential(key="MC3"),
        ],
        [pub.Tombstone(kind=rec.RECORD_KIND_MICRO_CREDENTIAL, key="MC3", version=2)],
    )
    publish(
        network,
        TAFF,
        [module(), agreement(key="AG1"), agreement(key="AG3", sources=[("uk.ac.forth", "MC3")])],
    )
    answer = resolve(channel, holding(), holding(key="MC3"), max_depth=max_depth)
    assert not answer.grants
    reasons = {n.agreement.agreement_key: (n.reason, n.explanation) for n in answer.not_applied}
    assert reasons["AG1"][0] == eq.NOT_APPLIED_REASON_SOURCE_NOT_PUBLISHED
    assert "uk.ac.forth/MC1 is superseded by uk.ac.forth/MC2" in reasons["AG1"][1]
    assert "uk.ac.forth/MC3 is withdrawn" in reasons["AG3"][1]


def msc_and_a_module_to_assess() -> list[object]:
    """Taff's MSc of 180 credits and its module CS7PR, with two learning outcomes."""
    assessed = module(key="CS7PR")
    assessed.learning_outcomes.extend(["Write a tested program", "Review another's program"])
    msc = module(key="MSC", credit=180)
    msc.kind = rec.LEARNING_UNIT_KIND_QUALIFICATION
    msc.stacking_rule.total.CopyFrom(rec.Credit(value=180, system="UK_CREDIT"))
    return [assessed, msc]


def qualification_with_a_module_to_assess(network: Network) -> None:
    publish(network, TAFF, msc_and_a_module_to_assess())


def pathway_with_prior_learning(
    channel: grpc.Channel, **changes: object
) -> eq.EvaluatePathwayResponse:
    assessment = eq.PriorLearningAssessment(
        unit_key="CS7PR",
        assessor="Dr A. Jones",
        assessed_on="2025-11-20",
        outcomes_met=[1, 2],
        decision=eq.RECOGNITION_DECISION_ACCEPTED,
        reference="RPL-2025-014",
    )
    for name, value in changes.items():
        setattr(assessment, name, value)
    return equivalence_pb2_grpc.EquivalenceServiceStub(channel).EvaluatePathway(
        eq.EvaluatePathwayRequest(
            qualification=rec.CredentialRef(institution_id=TAFF, key="MSC"),
            prior_learning=[assessment],
            as_of="2026-01-15",
        ),
        timeout=10,
    )


def test_prior_learning_the_institution_accepted_counts_toward_its_award(
    network: Network, tls_registry: RunningRegistry, pki: Path
) -> None:
    qualification_with_a_module_to_assess(network)
    with open_channel(tls_registry.address, client_tls(pki, f"institution-{TAFF}")) as channel:
        answer = pathway_with_prior_learning(channel)
        with pytest.raises(grpc.RpcError) as caught:  # checked as the record of a decision
            pathway_with_prior_learning(channel, assessed_on="2999-01-01")
    [counted] = answer.counted
    assert counted.prior_learning.unit_key == "CS7PR"
    assert (answer.achieved.value, answer.remaining.value) == (15, 165)
    assert violated_field(caught.value) == "prior_learning[0].assessed_on"


@pytest.mark.parametrize("stem", ["institution-uk.ac.forth", "partner-ucas"])
def test_prior_learning_from_anyone_but_the_awarding_institution_is_refused(
    network: Network, tls_registry: RunningRegistry, pki: Path, stem: str
) -> None:
    qualification_with_a_module_to_assess(network)
    with open_channel(tls_registry.address, client_tls(pki, stem)) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            pathway_with_prior_learning(channel)
        # The same question without the assessments is anyone's to ask.
        stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
        assert (
            stub.EvaluatePathway(
                eq.EvaluatePathwayRequest(
                    qualification=rec.CredentialRef(institution_id=TAFF, key="MSC"),
                    holdings=[holding()],
                    as_of="2026-01-15",
                ),
                timeout=10,
            ).remaining.value
            == 180
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    details = caught.value.details() or ""
    assert "field 'prior_learning'" in details and "leave prior_learning empty" in details


def test_a_development_caller_may_send_prior_learning(
    network: Network, channel: grpc.Channel
) -> None:
    qualification_with_a_module_to_assess(network)
    assert pathway_with_prior_learning(channel).achieved.value == 15


def test_a_pathway_toward_a_withdrawn_qualification_is_refused_with_its_state(
    network: Network, channel: grpc.Channel
) -> None:
    publish(
        network,
        TAFF,
        msc_and_a_module_to_assess(),
        [pub.Tombstone(kind=rec.RECORD_KIND_LEARNING_UNIT, key="MSC", version=2)],
    )
    with pytest.raises(grpc.RpcError) as caught:
        equivalence_pb2_grpc.EquivalenceServiceStub(channel).EvaluatePathway(
            eq.EvaluatePathwayRequest(
                qualification=rec.CredentialRef(institution_id=TAFF, key="MSC"),
                holdings=[holding()],
                as_of="2026-01-15",
            ),
            timeout=10,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"qualification {TAFF}/MSC is withdrawn" in (caught.value.details() or "")
