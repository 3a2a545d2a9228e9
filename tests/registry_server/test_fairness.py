"""Fair answering (registry_server.fairness): a question beyond one question's budget is
refused before any work, one caller cannot hold more than its share, and a cheap question
is answered while every query worker is on a costly one.

A query worker is made to hold a costly question for as long as a test needs by stopping
its process (SIGSTOP) and letting it go on afterwards (SIGCONT): no timing is judged."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from concurrent.futures import Future

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import equivalence_pb2_grpc
from registry_core.errors import Busy, TooCostly
from registry_server import equivalence, fairness
from registry_server.fairness import Admission, Lane, cost_of, parsed
from tests.conftest import Network, RunningRegistry, eventually
from tests.factories import holding
from tests.registry_server.test_queries import publish_network, to_taff

CHAIN = eq.ResolveTransferRequest(
    holdings=[holding(key="MC1")],
    max_depth=3,
    target_institution_id="uk.ac.taff",
    as_of="2026-01-15",
)


def quota_details(error: grpc.RpcError) -> tuple[list[str], float | None]:
    """The subjects of a refusal's QuotaFailure and its RetryInfo delay, read as any gRPC
    client reads rich details."""
    status = rpc_status.from_call(error)
    assert status is not None, "the refusal carries no google.rpc.Status"
    subjects, retry = [], None
    for detail in status.details:
        if detail.Is(error_details_pb2.QuotaFailure.DESCRIPTOR):
            quota = error_details_pb2.QuotaFailure()
            detail.Unpack(quota)
            subjects += [violation.subject for violation in quota.violations]
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            retry = info.retry_delay.ToNanoseconds() / 1e9
    return subjects, retry


def lane_of(method: str, question: Message) -> Lane:
    """The lane of a question as the registry weighs it: from its bytes."""
    return cost_of(method, parsed(method, question.SerializeToString()))


def test_direct_questions_about_a_few_holdings_and_pages_are_cheap() -> None:
    assert lane_of("ResolveTransfer", to_taff("MC1", "MC2")) is Lane.CHEAP
    for method, question in (
        ("ListEquivalents", eq.ListEquivalentsRequest()),
        ("ListSources", eq.ListSourcesRequest()),
    ):
        assert lane_of(method, question) is Lane.CHEAP


def test_chains_credentials_many_holdings_pathways_and_conflicts_are_costly() -> None:
    many = eq.ResolveTransferRequest(
        holdings=[holding(key=f"MC{n}") for n in range(fairness.CHEAP_HOLDINGS + 1)]
    )
    presented = eq.ResolveTransferRequest(holdings=[eq.Holding(verifiable_credential="{}")])
    for method, question in (
        ("ResolveTransfer", CHAIN),
        ("ResolveTransfer", many),
        ("ResolveTransfer", presented),
        ("EvaluatePathway", eq.EvaluatePathwayRequest(holdings=[holding()])),
        ("ListConflicts", eq.ListConflictsRequest(institution_id="uk.ac.taff")),
    ):
        assert lane_of(method, question) is Lane.COSTLY, question


def test_a_question_beyond_the_budget_is_refused_saying_what_fits() -> None:
    too_big = eq.ResolveTransferRequest(
        holdings=[holding(key=f"MC{n}") for n in range(201)], max_depth=5
    )
    with pytest.raises(TooCostly) as refused:
        lane_of("ResolveTransfer", too_big)
    assert "at most 200 holdings per question at max_depth 5" in str(refused.value)


def test_a_caller_beyond_its_costly_share_is_told_to_wait_while_others_are_admitted() -> None:
    async def run() -> None:
        admission = Admission(slots=1)
        async with admission.admit("partner a", Lane.COSTLY):
            waiting = asyncio.create_task(_hold(admission, "partner a"))
            await asyncio.sleep(0)  # it now waits for the one slot
            with pytest.raises(Busy, match="partner a has 2 costly questions"):
                async with admission.admit("partner a", Lane.COSTLY):
                    pass
            async with admission.admit("partner a", Lane.CHEAP):  # cheap ones go on
                pass
            other = asyncio.create_task(_hold(admission, "partner b"))
            await asyncio.sleep(0)
            assert admission.lanes[Lane.COSTLY].waiting == 2
        await asyncio.gather(waiting, other)
        assert admission.lanes[Lane.COSTLY].admitted == 0
        async with admission.admit("partner a", Lane.COSTLY):  # its share is back
            pass

    asyncio.run(run())


def test_costly_questions_beyond_the_waiting_room_are_refused_at_once() -> None:
    async def run() -> None:
        admission = Admission(slots=1)
        limit = fairness.COSTLY_WAITING_PER_SLOT
        async with admission.admit("partner 0", Lane.COSTLY):
            held = [asyncio.create_task(_hold(admission, f"partner {n + 1}")) for n in range(limit)]
            await asyncio.sleep(0)
            with pytest.raises(Busy, match=f"{limit} costly questions are waiting"):
                async with admission.admit("partner new", Lane.COSTLY):
                    pass
        await asyncio.gather(*held)

    asyncio.run(run())


async def _hold(admission: Admission, who: str) -> None:
    async with admission.admit(who, Lane.COSTLY):
        pass


@pytest.fixture
def one_worker(network: Network) -> Iterator[RunningRegistry]:
    publish_network(network)
    running = RunningRegistry(network.engine, query_workers=1)
    yield running
    os.kill(running.query_workers.workers[0].process.pid, signal.SIGCONT)
    running.stop()


def test_a_cheap_question_is_answered_while_the_only_worker_is_on_a_costly_one(
    one_worker: RunningRegistry,
) -> None:
    worker = one_worker.query_workers.workers[0].process
    with (
        grpc.insecure_channel(one_worker.address) as costly_channel,
        grpc.insecure_channel(one_worker.address) as cheap_channel,
    ):
        costly = equivalence_pb2_grpc.EquivalenceServiceStub(costly_channel)
        cheap = equivalence_pb2_grpc.EquivalenceServiceStub(cheap_channel)
        os.kill(worker.pid, signal.SIGSTOP)  # the worker holds whatever it is sent
        chain: Future[eq.ResolveTransferResponse] = costly.ResolveTransfer.future(CHAIN, timeout=60)
        assert eventually(lambda: bool(one_worker.query_workers.costly))
        # Were it queued behind the chain, it would wait as long as the worker is stopped.
        answer = cheap.ResolveTransfer(to_taff("MC1", "MC2"), timeout=30)
        assert sorted(g.grant.unit_key for g in answer.grants) == ["CS7DE", "CS8ML"]
        assert not chain.done()
        os.kill(worker.pid, signal.SIGCONT)
        assert [g.grant.unit_key for g in chain.result(timeout=60).grants] == ["CS7DE"]


def test_over_grpc_a_caller_beyond_its_share_hears_resource_exhausted_with_retry_info(
    one_worker: RunningRegistry,
) -> None:
    worker = one_worker.query_workers.workers[0].process
    # Without certificates a caller is a connection: the other channel gets its own.
    with (
        grpc.insecure_channel(one_worker.address) as channel,
        grpc.insecure_channel(
            one_worker.address, [("grpc.use_local_subchannel_pool", 1)]
        ) as other_channel,
    ):
        stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
        os.kill(worker.pid, signal.SIGSTOP)
        held = [
            stub.ResolveTransfer.future(CHAIN, timeout=60)
            for _ in range(fairness.PER_CALLER_COSTLY)
        ]
        costly = one_worker.admission.lanes[Lane.COSTLY]
        assert eventually(lambda: costly.admitted == len(held))
        # One on the stopped worker, the other waiting for it: the metrics say so.
        assert (
            one_worker.metrics.registry.get_sample_value(
                "registry_query_queue_depth", {"lane": "costly"}
            )
            == 1
        )
        with pytest.raises(grpc.RpcError) as refused:
            stub.ResolveTransfer(CHAIN, timeout=30)
        # Another caller (here another connection) is still admitted, and answered.
        other = equivalence_pb2_grpc.EquivalenceServiceStub(other_channel)
        theirs = other.ResolveTransfer.future(CHAIN, timeout=60)
        os.kill(worker.pid, signal.SIGCONT)
        assert all(len(f.result(timeout=60).grants) == 1 for f in [*held, theirs])
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "costly questions" in (refused.value.details() or "")
    subjects, retry = quota_details(refused.value)
    assert subjects == ["costly questions in flight per caller"]
    assert retry == fairness.RETRY_SECONDS
    assert (
        one_worker.metrics.registry.get_sample_value(
            "registry_query_wait_seconds_count", {"lane": "costly"}
        )
        == len(held) + 1
    )


def test_over_grpc_a_question_beyond_the_budget_is_refused_before_any_work(
    registry: RunningRegistry,
) -> None:
    too_big = eq.ResolveTransferRequest(
        holdings=[holding(key=f"MC{n}") for n in range(400)],
        max_depth=3,
        target_institution_id="uk.ac.taff",
    )
    with grpc.insecure_channel(registry.address) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            equivalence_pb2_grpc.EquivalenceServiceStub(channel).ResolveTransfer(
                too_big, timeout=30
            )
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert quota_details(refused.value) == (["holdings × max_depth"], None)


def test_a_chain_reaching_more_than_a_question_may_read_is_refused_naming_a_smaller_depth(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_network(network)
    monkeypatch.setattr(equivalence, "MAX_EDGES_READ", 1)  # the network has 3 agreements
    question = eq.ResolveTransferRequest(
        holdings=[holding(key="MC1"), holding(key="MC2")],
        max_depth=3,
        target_institution_id="uk.ac.taff",
        as_of="2026-01-15",
    )
    with pytest.raises(TooCostly, match="ask with max_depth 2"):
        equivalence.resolve_transfer(network.engine, question)
    monkeypatch.setattr(equivalence, "MAX_EDGES_READ", 3)
    assert len(equivalence.resolve_transfer(network.engine, question).grants) == 2
