"""The registry's gRPC services over a real loopback port."""

from __future__ import annotations

import sqlite3
import time
from typing import Any, cast

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from registry.v1 import directory_pb2 as directory
from registry.v1 import directory_pb2_grpc, equivalence_pb2_grpc, publication_pb2_grpc
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_server.status import CHECKPOINT_HEAD, CHECKPOINT_SEQ, retryable
from tests.conftest import Network, RunningRegistry
from tests.factories import agreement, batch, head_after, holding, micro_credential, module, signed


def publish(channel: grpc.Channel, envelope: pub.SignedEnvelope) -> pub.Acknowledgement:
    stub = publication_pb2_grpc.PublicationServiceStub(channel)
    return stub.Publish(pub.PublishRequest(envelope=envelope), timeout=10).acknowledgement


def test_health_reports_serving_for_every_service(channel: grpc.Channel) -> None:
    health: Any = health_pb2_grpc.HealthStub(channel)  # its stubs' types name no methods
    for service in (
        "",
        "registry.v1.PublicationService",
        "registry.v1.EquivalenceService",
        "registry.v1.DirectoryService",
    ):
        answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_services(channel: grpc.Channel) -> None:
    stub: Any = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    [answer] = list(stub.ServerReflectionInfo(iter([request]), timeout=5))
    names = {s.name for s in answer.list_services_response.service}
    assert {
        "registry.v1.PublicationService",
        "registry.v1.EquivalenceService",
        "grpc.health.v1.Health",
    } <= names


def test_publish_and_checkpoint(network: Network, channel: grpc.Channel) -> None:
    first = batch("uk.ac.forth", [micro_credential()])
    ack = publish(channel, signed(first, network.signers["uk.ac.forth"]))
    assert ack.last_seq == 1 and ack.receipt.log_index == 1
    stub = publication_pb2_grpc.PublicationServiceStub(channel)
    checkpoint = stub.GetCheckpoint(pub.GetCheckpointRequest(institution_id="uk.ac.forth"))
    assert (checkpoint.last_seq, checkpoint.head) == (1, head_after(first))


@pytest.mark.parametrize(
    ("make", "code", "words"),
    [
        (
            lambda n, h: signed(
                batch("uk.ac.forth", [micro_credential(title="")], first_seq=2, prev_head=h),
                n.signers["uk.ac.forth"],
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "field 'title'",
        ),
        (
            lambda n, h: signed(
                batch("uk.ac.forth", [micro_credential(key="B")], first_seq=2, prev_head=h),
                n.signers["uk.ac.taff"],
            ),
            grpc.StatusCode.PERMISSION_DENIED,
            "signed by uk.ac.taff's key",
        ),
        (
            lambda n, h: signed(
                batch("uk.ac.forth", [micro_credential(key="B")], first_seq=4, prev_head=h),
                n.signers["uk.ac.forth"],
            ),
            grpc.StatusCode.FAILED_PRECONDITION,
            "resend from seq 2",
        ),
        (
            lambda n, h: pub.SignedEnvelope(
                payload=b"x", payload_type="application/vnd.credit-registry.batch.v1+protobuf"
            ),
            grpc.StatusCode.UNAUTHENTICATED,
            "no signature",
        ),
    ],
)
def test_refusals_carry_the_precise_status(  # type: ignore[no-untyped-def]
    network: Network,
    channel: grpc.Channel,
    make,
    code: grpc.StatusCode,
    words: str,
) -> None:
    first = batch("uk.ac.forth", [micro_credential()])
    publish(channel, signed(first, network.signers["uk.ac.forth"]))
    with pytest.raises(grpc.RpcError) as caught:
        publish(channel, make(network, head_after(first)))
    assert caught.value.code() == code
    assert words in (caught.value.details() or "")


def test_sequence_refusal_tells_the_checkpoint_in_trailers(
    network: Network, channel: grpc.Channel
) -> None:
    first = batch("uk.ac.forth", [micro_credential()])
    publish(channel, signed(first, network.signers["uk.ac.forth"]))
    fork = batch("uk.ac.forth", [micro_credential(key="B")], first_seq=2, prev_head="f" * 64)
    with pytest.raises(grpc.RpcError) as caught:
        publish(channel, signed(fork, network.signers["uk.ac.forth"]))
    trailers = dict(cast(Any, caught.value).trailing_metadata())
    assert trailers[CHECKPOINT_SEQ] == "1" and trailers[CHECKPOINT_HEAD] == head_after(first)


def test_oversize_message_is_refused_before_it_is_read(
    network: Network, channel: grpc.Channel
) -> None:
    envelope = pub.SignedEnvelope(payload=b"x" * (9 * 1024 * 1024))
    with pytest.raises(grpc.RpcError) as caught:
        publish(channel, envelope)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def _publish_catalogues(network: Network, channel: grpc.Channel) -> None:
    publish(
        channel, signed(batch("uk.ac.forth", [micro_credential()]), network.signers["uk.ac.forth"])
    )
    publish(
        channel,
        signed(
            batch(
                "uk.ac.taff",
                [
                    module(),
                    agreement(minimum_grade=rec.Grade(scheme="UK_LETTER", value="B")),
                    agreement(key="AG2", valid_to="2020-01-01"),
                ],
            ),
            network.signers["uk.ac.taff"],
        ),
    )


def test_resolve_transfer_direct(network: Network, channel: grpc.Channel) -> None:
    _publish_catalogues(network, channel)
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
    answer = stub.ResolveTransfer(
        eq.ResolveTransferRequest(
            holdings=[holding()], target_institution_id="uk.ac.taff", as_of="2026-01-15"
        ),
        timeout=10,
    )
    assert [g.grant.unit_key for g in answer.grants] == ["CS7DE"]
    assert answer.grants[0].unit_title == "Module CS7DE"
    assert [(n.agreement.agreement_key, n.reason) for n in answer.not_applied] == [
        ("AG2", eq.NOT_APPLIED_REASON_EXPIRED)
    ]
    low = stub.ResolveTransfer(
        eq.ResolveTransferRequest(
            holdings=[holding(grade=("UK_LETTER", "C"))],
            target_institution_id="uk.ac.taff",
            as_of="2026-01-15",
        ),
        timeout=10,
    )
    assert not low.grants
    assert low.not_applied[0].reason == eq.NOT_APPLIED_REASON_GRADE_BELOW_MINIMUM


def test_resolve_transfer_reads_the_held_credentials_own_records(
    network: Network, channel: grpc.Channel
) -> None:
    """Level and shelf-life come from the held credentials' published records, which the
    registry reads only for the credentials a candidate agreement names."""
    publish(
        channel,
        signed(
            batch(
                "uk.ac.forth",
                [
                    micro_credential(key="MC1"),  # SCQF 11
                    micro_credential(key="MC2", level=rec.Level(framework="SCQF", level="7")),
                    micro_credential(key="MC3", credit_validity_months=12),
                    micro_credential(key="MC4"),
                ],
            ),
            network.signers["uk.ac.forth"],
        ),
    )
    scqf_10 = rec.Level(framework="SCQF", level="10")
    publish(
        channel,
        signed(
            batch(
                "uk.ac.taff",
                [
                    module(),
                    agreement(key="AG1", sources=[("uk.ac.forth", "MC1")], minimum_level=scqf_10),
                    agreement(key="AG2", sources=[("uk.ac.forth", "MC2")], minimum_level=scqf_10),
                    agreement(key="AG3", sources=[("uk.ac.forth", "MC3")]),
                ],
            ),
            network.signers["uk.ac.taff"],
        ),
    )
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
    answer = stub.ResolveTransfer(
        eq.ResolveTransferRequest(
            holdings=[
                holding(key="MC1"),
                holding(key="MC2"),
                holding(key="MC3", award_date="2023-06-01"),
                holding(key="MC4"),
            ],
            target_institution_id="uk.ac.taff",
            as_of="2026-01-15",
        ),
        timeout=10,
    )
    assert [(g.grant.unit_key, g.provenance[0].agreement_key) for g in answer.grants] == [
        ("CS7DE", "AG1")
    ]
    reasons = {n.agreement.agreement_key: (n.reason, n.explanation) for n in answer.not_applied}
    assert reasons["AG2"][0] == eq.NOT_APPLIED_REASON_LEVEL_TOO_LOW
    assert "is at SCQF 7" in reasons["AG2"][1]
    assert reasons["AG3"][0] == eq.NOT_APPLIED_REASON_CREDIT_TOO_OLD
    assert "up to 12 months old" in reasons["AG3"][1]


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (eq.ResolveTransferRequest(target_institution_id="uk.ac.taff"), "holdings"),
        (
            eq.ResolveTransferRequest(holdings=[holding()], target_institution_id="Taff"),
            "target_institution_id",
        ),
        (
            eq.ResolveTransferRequest(
                holdings=[holding(award_date="June 2025")], target_institution_id="uk.ac.taff"
            ),
            "holdings[0].award_date",
        ),
        (
            eq.ResolveTransferRequest(
                holdings=[holding()], target_institution_id="uk.ac.taff", as_of="tomorrow"
            ),
            "as_of",
        ),
        (
            eq.ResolveTransferRequest(
                holdings=[holding()], target_institution_id="uk.ac.taff", page_token="abc"
            ),
            "page_token",
        ),
    ],
)
def test_bad_queries_name_the_field(
    channel: grpc.Channel, request_: eq.ResolveTransferRequest, field: str
) -> None:
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.ResolveTransfer(request_, timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"field '{field}'" in (caught.value.details() or "")


def test_forward_and_reverse_look_ups(network: Network, channel: grpc.Channel) -> None:
    _publish_catalogues(network, channel)
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
    forward = stub.ListEquivalents(
        eq.ListEquivalentsRequest(
            credential=rec.CredentialRef(institution_id="uk.ac.forth", key="MC1"), page_size=1
        )
    )
    assert [e.agreement.key for e in forward.equivalences] == ["AG1"]
    more = stub.ListEquivalents(
        eq.ListEquivalentsRequest(
            credential=rec.CredentialRef(institution_id="uk.ac.forth", key="MC1"),
            page_size=1,
            page_token=forward.next_page_token,
        )
    )
    assert [e.agreement.key for e in more.equivalences] == ["AG2"] and not more.next_page_token
    reverse = stub.ListSources(
        eq.ListSourcesRequest(unit=rec.CredentialRef(institution_id="uk.ac.taff", key="CS7DE"))
    )
    assert [e.agreement.key for e in reverse.equivalences] == ["AG1", "AG2"]


def test_equivalents_and_sources_filter_by_institution_subject_and_level(
    network: Network, channel: grpc.Channel
) -> None:
    """Forward: by the grant's subject and EQF level (a unit's, or a general credit's).
    Reverse: by the source credentials' institution, subject and EQF level. Filtered answers
    page like the others; a filter that is not a code or a level is refused, naming it."""
    scqf_9 = rec.Level(framework="SCQF", level="9")  # EQF 6; SCQF 11 is EQF 7
    publish(
        channel,
        signed(
            batch(
                "uk.ac.forth",
                [
                    micro_credential(key="MC1", subject_isced="0613"),
                    micro_credential(key="MC2", subject_isced="0611", level=scqf_9),
                ],
            ),
            network.signers["uk.ac.forth"],
        ),
    )
    publish(
        channel,
        signed(
            batch(
                "uk.ac.lagan", [micro_credential("uk.ac.lagan", key="LG1", subject_isced="0613")]
            ),
            network.signers["uk.ac.lagan"],
        ),
    )
    ethics, ai = module(key="CS7DE"), module(key="CS6AI", level="6")  # FHEQ 7 and 6
    ethics.subject_isced, ai.subject_isced = "0613", "0611"
    general = rec.GeneralCredit(
        credit=rec.Credit(value=10, system="UK_CREDIT"),
        level=rec.Level(framework="FHEQ", level="6"),
        subject_isced="0611",
    )
    publish(
        channel,
        signed(
            batch(
                "uk.ac.taff",
                [
                    ethics,
                    ai,
                    agreement(key="AG1", sources=[("uk.ac.forth", "MC1")]),
                    agreement(key="AG2", sources=[("uk.ac.forth", "MC1")], unit_key="CS6AI"),
                    agreement(key="AG3", sources=[("uk.ac.forth", "MC1")], general=general),
                    agreement(key="AG4", sources=[("uk.ac.forth", "MC2")]),
                    agreement(key="AG5", sources=[("uk.ac.lagan", "LG1")]),
                ],
            ),
            network.signers["uk.ac.taff"],
        ),
    )
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
    mc1 = rec.CredentialRef(institution_id="uk.ac.forth", key="MC1")
    cs7de = rec.CredentialRef(institution_id="uk.ac.taff", key="CS7DE")

    def forward(**filters: Any) -> list[str]:
        found = stub.ListEquivalents(
            eq.ListEquivalentsRequest(credential=mc1, **filters), timeout=10
        )
        return [e.agreement.key for e in found.equivalences]

    def reverse(**filters: Any) -> list[str]:
        found = stub.ListSources(eq.ListSourcesRequest(unit=cs7de, **filters), timeout=10)
        return [e.agreement.key for e in found.equivalences]

    assert forward() == ["AG1", "AG2", "AG3"]
    assert forward(subject_isced="0613") == ["AG1"]
    assert forward(subject_isced="0611") == ["AG2", "AG3"]
    assert forward(eqf_level=7) == ["AG1"]
    assert forward(eqf_level=6, subject_isced="0611") == ["AG2", "AG3"]
    assert forward(eqf_level=5) == []
    first = stub.ListEquivalents(
        eq.ListEquivalentsRequest(credential=mc1, eqf_level=6, page_size=1), timeout=10
    )
    rest = stub.ListEquivalents(
        eq.ListEquivalentsRequest(
            credential=mc1, eqf_level=6, page_size=1, page_token=first.next_page_token
        ),
        timeout=10,
    )
    assert [e.agreement.key for e in (*first.equivalences, *rest.equivalences)] == ["AG2", "AG3"]
    assert first.next_page_token and not rest.next_page_token

    assert reverse() == ["AG1", "AG4", "AG5"]
    assert reverse(source_institution_id="uk.ac.lagan") == ["AG5"]
    assert reverse(subject_isced="0611") == ["AG4"]
    assert reverse(eqf_level=7) == ["AG1", "AG5"]
    assert reverse(eqf_level=6) == ["AG4"]
    assert reverse(source_institution_id="uk.ac.forth", eqf_level=7) == ["AG1"]

    for call, bad, field in (
        (forward, {"subject_isced": "06x"}, "subject_isced"),
        (forward, {"eqf_level": 9}, "eqf_level"),
        (reverse, {"source_institution_id": "Lagan"}, "source_institution_id"),
    ):
        with pytest.raises(grpc.RpcError) as refused:
            call(**bad)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert f"field '{field}'" in (refused.value.details() or "")


def test_directory_lists_institutions_with_keys(network: Network, channel: grpc.Channel) -> None:
    stub = directory_pb2_grpc.DirectoryServiceStub(channel)
    page = stub.ListInstitutions(directory.ListInstitutionsRequest(page_size=2))
    assert [i.institution_id for i in page.institutions] == ["uk.ac.forth", "uk.ac.lagan"]
    rest = stub.ListInstitutions(
        directory.ListInstitutionsRequest(page_size=2, page_token=page.next_page_token)
    )
    assert [i.institution_id for i in rest.institutions] == ["uk.ac.taff"]
    assert rest.institutions[0].keys[0].key_id == network.signers["uk.ac.taff"].key_id


def test_pathway_counts_grants_toward_a_qualification(
    network: Network, channel: grpc.Channel
) -> None:
    qualification = module(key="MSC", credit=180)
    qualification.kind = rec.LEARNING_UNIT_KIND_QUALIFICATION
    qualification.stacking_rule.total.CopyFrom(rec.Credit(value=180, system="UK_CREDIT"))
    qualification.stacking_rule.at_levels.add(
        level=rec.Level(framework="FHEQ", level="7"),
        credit=rec.Credit(value=150, system="UK_CREDIT"),
    )
    qualification.stacking_rule.mandatory_unit_keys.extend(["CS7DE", "CS7PR"])
    _publish_catalogues(network, channel)
    publish(
        channel,
        signed(
            batch(
                "uk.ac.taff",
                [qualification],
                first_seq=4,
                prev_head=checkpoint_head(channel, "uk.ac.taff"),
            ),
            network.signers["uk.ac.taff"],
        ),
    )
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
    answer = stub.EvaluatePathway(
        eq.EvaluatePathwayRequest(
            holdings=[holding()],
            qualification=rec.CredentialRef(institution_id="uk.ac.taff", key="MSC"),
            as_of="2026-01-15",
        )
    )
    assert [g.grant.unit_key for g in answer.counted] == ["CS7DE"]
    assert (answer.achieved.value, answer.remaining.value) == (15, 165)
    assert [(r.level.level, r.credit.value) for r in answer.remaining_at_levels] == [("7", 135)]
    assert list(answer.remaining_mandatory_unit_keys) == ["CS7PR"]
    with pytest.raises(grpc.RpcError) as caught:
        stub.EvaluatePathway(
            eq.EvaluatePathwayRequest(
                holdings=[holding()],
                qualification=rec.CredentialRef(institution_id="uk.ac.taff", key="CS7DE"),
            )
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def checkpoint_head(channel: grpc.Channel, institution: str) -> str:
    stub = publication_pb2_grpc.PublicationServiceStub(channel)
    return stub.GetCheckpoint(pub.GetCheckpointRequest(institution_id=institution)).head


def test_conflicts_of_one_publisher_are_listed(network: Network, channel: grpc.Channel) -> None:
    publish(
        channel,
        signed(
            batch(
                "uk.ac.taff",
                [
                    module(),
                    module(key="CS5PR"),
                    agreement(key="AG-A"),
                    agreement(key="AG-B", unit_key="CS5PR"),
                    agreement(key="AG-C"),
                    agreement(key="AG-D", sources=[("uk.ac.lagan", "X")]),
                ],
            ),
            network.signers["uk.ac.taff"],
        ),
    )
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
    [conflict] = stub.ListConflicts(eq.ListConflictsRequest(institution_id="uk.ac.taff")).conflicts
    assert (conflict.source.institution_id, conflict.source.key) == ("uk.ac.forth", "MC1")
    assert [a.agreement_key for a in conflict.agreements] == ["AG-A", "AG-B", "AG-C"]
    assert "AG-B grants module CS5PR" in conflict.explanation


def test_resolve_transfer_follows_transitive_chains_to_the_depth_asked(
    network: Network, channel: grpc.Channel
) -> None:
    # MC1 carries less than the modules on the way: a chain grants no more than it carries.
    publish(
        channel,
        signed(
            batch(
                "uk.ac.forth",
                [micro_credential(credit=rec.Credit(value=10, system="SCQF"), workload_hours=100)],
            ),
            network.signers["uk.ac.forth"],
        ),
    )
    publish(
        channel,
        signed(
            batch(
                "uk.ac.lagan",
                [
                    module("uk.ac.lagan", "LAG-U", credit=20, framework="RQF", level="4"),
                    agreement("uk.ac.lagan", "LAG-AG", unit_key="LAG-U", transitive_allowed=True),
                ],
            ),
            network.signers["uk.ac.lagan"],
        ),
    )
    publish(
        channel,
        signed(
            batch(
                "uk.ac.taff",
                [module(), agreement(key="VIA-LAGAN", sources=[("uk.ac.lagan", "LAG-U")])],
            ),
            network.signers["uk.ac.taff"],
        ),
    )
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
    ask = lambda depth: stub.ResolveTransfer(  # noqa: E731
        eq.ResolveTransferRequest(
            holdings=[holding()],
            target_institution_id="uk.ac.taff",
            as_of="2026-01-15",
            max_depth=depth,
        ),
        timeout=10,
    )
    assert not ask(1).grants
    [grant] = ask(2).grants
    assert [p.agreement_key for p in grant.provenance] == ["LAG-AG", "VIA-LAGAN"]
    assert (grant.credit.value, grant.credit.system) == (10, "UK_CREDIT")  # MC1's 10 SCQF
    with pytest.raises(grpc.RpcError) as caught:
        ask(9)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "field 'max_depth'" in (caught.value.details() or "")


def test_same_question_same_bytes(network: Network, channel: grpc.Channel) -> None:
    _publish_catalogues(network, channel)
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
    request = eq.ResolveTransferRequest(
        holdings=[holding(), holding("uk.ac.lagan", "X")],
        target_institution_id="uk.ac.taff",
        as_of="2026-01-15",
    )
    answers = {
        stub.ResolveTransfer(request, timeout=10).SerializeToString(deterministic=True)
        for _ in range(5)
    }
    assert len(answers) == 1


def test_a_call_whose_deadline_passed_is_not_started(
    network: Network, registry_either_way: RunningRegistry, channel: grpc.Channel
) -> None:
    """The registry is busy (its event loop held for longer than the caller will wait) when
    a question arrives: the caller hears DEADLINE_EXCEEDED, and the registry, once free, does
    not resolve the question for nobody."""
    registry_either_way.loop.call_soon_threadsafe(time.sleep, 0.6)
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.ResolveTransfer(
            eq.ResolveTransferRequest(holdings=[holding()], target_institution_id="uk.ac.taff"),
            timeout=0.3,
        )
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # A call after it is answered only once the registry has dealt with the late one.
    directory_pb2_grpc.DirectoryServiceStub(channel).ListInstitutions(
        directory.ListInstitutionsRequest(), timeout=10
    )
    resolved = registry_either_way.metrics.registry.get_sample_value(
        "registry_rpc_requests_total",
        {"method": "/registry.v1.EquivalenceService/ResolveTransfer", "code": "OK"},
    )
    assert resolved is None, "the registry resolved a question whose caller had given up"


def test_a_database_fault_is_internal_and_a_busy_database_is_retryable(
    network: Network, channel: grpc.Channel
) -> None:
    """A missing table cannot get better by retrying: INTERNAL, with what the operator should
    check. A locked database can: UNAVAILABLE, which agents retry."""
    with network.engine.begin() as connection:
        connection.execute(text("DROP TABLE agreement_edge"))
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
    with pytest.raises(grpc.RpcError) as refused:
        stub.ListSources(
            eq.ListSourcesRequest(unit=rec.CredentialRef(institution_id="uk.ac.taff", key="CS7DE")),
            timeout=10,
        )
    assert refused.value.code() == grpc.StatusCode.INTERNAL
    assert "registry-server migrate" in (refused.value.details() or "")
    with pytest.raises(grpc.RpcError) as refused:  # resolution's driver-level statements too
        stub.ResolveTransfer(
            eq.ResolveTransferRequest(holdings=[holding()], target_institution_id="uk.ac.taff"),
            timeout=10,
        )
    assert refused.value.code() == grpc.StatusCode.INTERNAL

    assert retryable(
        OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))
    )
    assert not retryable(
        OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: agreement_edge"))
    )


def test_a_batch_granting_an_unpublished_unit_is_refused_naming_the_field(
    network: Network, channel: grpc.Channel
) -> None:
    """INVALID_ARGUMENT, with a google.rpc BadRequest whose field violation names the
    agreement's grant.unit_key, the agreement and the missing unit."""
    stub = publication_pb2_grpc.PublicationServiceStub(channel)
    envelope = signed(
        batch("uk.ac.taff", [module(), agreement(unit_key="CS9XX")]), network.signers["uk.ac.taff"]
    )
    with pytest.raises(grpc.RpcError) as caught:
        stub.Publish(pub.PublishRequest(envelope=envelope), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(cast(grpc.Call, caught.value))
    assert status is not None
    [detail] = status.details
    bad_request = error_details_pb2.BadRequest()
    assert detail.Unpack(bad_request)
    [violation] = bad_request.field_violations
    assert violation.field == "grant.unit_key"
    assert violation.description.startswith("RecognitionAgreement uk.ac.taff/AG1: ")
    assert "'CS9XX'" in violation.description


def test_sources_are_found_by_a_cross_listed_code_and_within_a_series(
    network: Network, channel: grpc.Channel
) -> None:
    publish(
        channel, signed(batch("uk.ac.forth", [micro_credential()]), network.signers["uk.ac.forth"])
    )
    publish(
        channel,
        signed(
            batch(
                "uk.ac.taff",
                [
                    module(key="BIOLOGY-1A", cross_listed_keys=["BIO-1A"]),
                    module(key="BIOLOGY-1AL", credit=5),
                    agreement(key="AG1", unit_key="BIOLOGY-1A"),
                    agreement(key="AG2", units=["BIOLOGY-1A", "BIOLOGY-1AL"]),
                ],
            ),
            network.signers["uk.ac.taff"],
        ),
    )
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)

    def sources(code: str) -> list[str]:
        answer = stub.ListSources(
            eq.ListSourcesRequest(unit=rec.CredentialRef(institution_id="uk.ac.taff", key=code)),
            timeout=10,
        )
        return [e.agreement.key for e in answer.equivalences]

    assert sources("BIO-1A") == sources("BIOLOGY-1A") == ["AG1", "AG2"]
    assert sources("BIOLOGY-1AL") == ["AG2"]
