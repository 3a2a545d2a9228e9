"""Partners' questions answered by query workers: the same bytes as in process, the same
failures, fresh state, and a worker that dies costs nothing but its replacement."""

from __future__ import annotations

import asyncio
import os
import signal

import grpc
import pytest
from google.protobuf.message import Message

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import equivalence_pb2_grpc
from registry.v1 import records_pb2 as rec
from registry_server import publication, queries
from registry_server.db import is_in_memory
from registry_server.queries import QueryWorkers
from registry_server.status import Failure, failure_of
from tests.conftest import Network, RunningRegistry
from tests.factories import agreement, batch, holding, micro_credential, module, signed


def publish_network(network: Network) -> None:
    publication.publish(
        network.engine,
        signed(
            batch("uk.ac.forth", [micro_credential(key="MC1"), micro_credential(key="MC2")]),
            network.signers["uk.ac.forth"],
        ),
    )
    publication.publish(
        network.engine,
        signed(
            batch(
                "uk.ac.taff",
                [
                    module(),
                    module(key="CS8ML"),
                    agreement(key="AG1", sources=[("uk.ac.forth", "MC1")]),
                    agreement(key="AG2", sources=[("uk.ac.forth", "MC2")], unit_key="CS8ML"),
                    agreement(key="AG3", sources=[("uk.ac.forth", "MC2")], valid_to="2025-01-01"),
                ],
            ),
            network.signers["uk.ac.taff"],
        ),
    )


def url_of(network: Network) -> str:
    return network.engine.url.render_as_string(hide_password=False)


def to_taff(*keys: str) -> eq.ResolveTransferRequest:
    """What Forth's credentials with these keys count for at Taff."""
    return eq.ResolveTransferRequest(
        holdings=[holding(key=k) for k in keys],
        target_institution_id="uk.ac.taff",
        as_of="2026-01-15",
    )


QUESTIONS: list[tuple[str, Message]] = [
    ("ResolveTransfer", to_taff("MC1", "MC2")),
    (
        "ResolveTransfer",
        eq.ResolveTransferRequest(  # refused: names the field
            holdings=[holding(award_date="June 2025")], target_institution_id="uk.ac.taff"
        ),
    ),
    (
        "ListEquivalents",
        eq.ListEquivalentsRequest(
            credential=rec.CredentialRef(institution_id="uk.ac.forth", key="MC1")
        ),
    ),
    (
        "ListSources",
        eq.ListSourcesRequest(unit=rec.CredentialRef(institution_id="uk.ac.taff", key="CS7DE")),
    ),
    (
        "EvaluatePathway",
        eq.EvaluatePathwayRequest(  # refused: no such qualification
            qualification=rec.CredentialRef(institution_id="uk.ac.taff", key="BSC-CS"),
            holdings=[holding()],
        ),
    ),
    ("ListConflicts", eq.ListConflictsRequest(institution_id="uk.ac.taff")),
]


def in_process(network: Network, method: str, question: bytes) -> bytes | Failure:
    try:
        return queries.answer(network.engine, method, question)
    except Exception as error:  # noqa: BLE001 - compared with what the worker reports
        failure = failure_of(error)
        assert failure is not None, f"{method} raised a bug: {error!r}"
        return failure


def test_a_worker_answers_every_question_byte_for_byte_as_the_registry_would(
    network: Network,
) -> None:
    """Each EquivalenceService method, answered and refused, on both databases."""
    publish_network(network)
    asked = [(method, question.SerializeToString()) for method, question in QUESTIONS]

    async def run() -> list[bytes | Failure | None]:
        workers = await QueryWorkers.for_database(1, url_of(network))
        try:
            return [await workers.answer(method, question) for method, question in asked]
        finally:
            await workers.close()

    from_worker = asyncio.run(run())
    expected = [in_process(network, method, question) for method, question in asked]
    assert from_worker == expected
    resolved = eq.ResolveTransferResponse.FromString(expected[0])  # type: ignore[arg-type]
    assert sorted(g.grant.unit_key for g in resolved.grants) == ["CS7DE", "CS8ML"]
    assert isinstance(expected[1], Failure) and expected[1].code == grpc.StatusCode.INVALID_ARGUMENT
    assert "holdings[0].award_date" in expected[1].message
    assert isinstance(expected[4], Failure) and expected[4].code == grpc.StatusCode.NOT_FOUND


def test_a_worker_sees_what_was_published_after_it_started(network: Network) -> None:
    question = to_taff("MC1", "MC2").SerializeToString()

    async def run() -> tuple[bytes, bytes]:
        workers = await QueryWorkers.for_database(1, url_of(network))
        try:
            before = await workers.answer("ResolveTransfer", question)
            publish_network(network)
            after = await workers.answer("ResolveTransfer", question)
            assert isinstance(before, bytes) and isinstance(after, bytes)
            return before, after
        finally:
            await workers.close()

    before, after = asyncio.run(run())
    assert not eq.ResolveTransferResponse.FromString(before).grants
    assert len(eq.ResolveTransferResponse.FromString(after).grants) == 2


def test_a_dead_worker_is_replaced_and_its_question_answered_in_process(network: Network) -> None:
    publish_network(network)
    running = RunningRegistry(network.engine, query_workers=1)
    try:
        dead = running.query_workers.workers[0].process
        os.kill(dead.pid, signal.SIGKILL)
        running._run(dead.wait())
        stub = equivalence_pb2_grpc.EquivalenceServiceStub(grpc.insecure_channel(running.address))
        question = to_taff("MC1", "MC2")
        answers = [stub.ResolveTransfer(question, timeout=10) for _ in range(3)]
        assert all(len(a.grants) == 2 for a in answers)
        replacement = running.query_workers.workers[0]
        assert replacement.process is not dead and replacement.alive
        assert (
            running.metrics.registry.get_sample_value(
                "registry_worker_replacements_total", {"worker": "query worker"}
            )
            == 1
        )
    finally:
        running.stop()


@pytest.mark.parametrize("workers", [0, 1], ids=["in process", "in a query worker"])
def test_a_question_that_is_not_the_methods_message_is_refused_naming_it(
    network: Network, workers: int
) -> None:
    running = RunningRegistry(network.engine, query_workers=workers)
    try:
        with grpc.insecure_channel(running.address) as channel:
            raw: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(
                "/registry.v1.EquivalenceService/ResolveTransfer"
            )
            with pytest.raises(grpc.RpcError) as refused:
                raw(b"\xff\xff\xff", timeout=10)
    finally:
        running.stop()
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "is not a ResolveTransferRequest" in (refused.value.details() or "")


def test_an_in_memory_database_is_answered_in_process() -> None:
    """Its data lives in the registry's process only; a worker would see an empty one."""
    for url in ("sqlite://", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true"):
        assert is_in_memory(url)
    assert not is_in_memory("sqlite:///registry.db")

    async def run() -> bool:
        workers = await QueryWorkers.for_database(2, "sqlite://")
        return workers.enabled

    assert asyncio.run(run()) is False


def test_a_caller_that_gives_up_does_not_take_the_next_callers_answer(network: Network) -> None:
    """A call past its deadline stops waiting; the answer it was owed is still read in its
    turn, so the question behind it gets its own answer. (The worker is paused while both
    questions wait, so the first caller gives up before either is answered.)"""
    publish_network(network)
    first, second = (to_taff(key).SerializeToString() for key in ("MC1", "MC2"))

    async def run() -> bytes | Failure | None:
        workers = await QueryWorkers.for_database(1, url_of(network))
        pid = workers.workers[0].process.pid
        try:
            os.kill(pid, signal.SIGSTOP)
            gives_up = asyncio.create_task(workers.answer("ResolveTransfer", first))
            waits = asyncio.create_task(workers.answer("ResolveTransfer", second))
            await asyncio.sleep(0.1)
            gives_up.cancel()
            os.kill(pid, signal.SIGCONT)
            return await waits
        finally:
            await workers.close()

    assert asyncio.run(run()) == in_process(network, "ResolveTransfer", second)
    assert in_process(network, "ResolveTransfer", second) != in_process(
        network, "ResolveTransfer", first
    )


def test_a_worker_refuses_a_question_whose_caller_has_stopped_waiting(network: Network) -> None:
    """Under a burst, questions wait for the worker; one reached after its caller's deadline
    is refused at once (DEADLINE_EXCEEDED, nothing read), and the one behind it, with time
    left, is answered. (The worker is paused while both wait.)"""
    publish_network(network)
    question = to_taff("MC1").SerializeToString()

    async def run() -> list[bytes | Failure | None]:
        workers = await QueryWorkers.for_database(1, url_of(network))
        pid = workers.workers[0].process.pid
        try:
            os.kill(pid, signal.SIGSTOP)
            late = asyncio.create_task(workers.answer("ResolveTransfer", question, 0.2))
            patient = asyncio.create_task(workers.answer("ResolveTransfer", question, 30))
            await asyncio.sleep(0.5)
            os.kill(pid, signal.SIGCONT)
            return [await late, await patient]
        finally:
            await workers.close()

    late, patient = asyncio.run(run())
    assert isinstance(late, Failure) and late.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "waited for a query worker" in late.message
    assert patient == in_process(network, "ResolveTransfer", question)


def test_a_question_that_holds_a_worker_too_long_is_refused_not_answered_in_process(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker is stopped after ANSWER_SECONDS (here 1; paused to stand for a question
    that costs that long). That question gets RESOURCE_EXHAUSTED saying what to ask instead:
    answered in the registry's own process it would hold every call as long. The question
    queued behind it is answered in process, and the next by the worker's replacement."""
    monkeypatch.setattr(queries, "ANSWER_SECONDS", 1)
    publish_network(network)
    question = to_taff("MC1").SerializeToString()

    async def run() -> list[bytes | Failure | None]:
        workers = await QueryWorkers.for_database(1, url_of(network))
        stuck = workers.workers[0].process
        try:
            os.kill(stuck.pid, signal.SIGSTOP)
            costly = asyncio.create_task(workers.answer("ResolveTransfer", question))
            behind = asyncio.create_task(workers.answer("ResolveTransfer", question))
            found = [await costly, await behind]
            await stuck.wait()
            found.append(await workers.answer("ResolveTransfer", question))  # replaces it
            found.append(await workers.answer("ResolveTransfer", question))
            assert workers.workers[0].process is not stuck
            return found
        finally:
            await workers.close()

    costly, behind, while_replacing, replaced = asyncio.run(run())
    assert isinstance(costly, Failure) and costly.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "smaller max_depth" in costly.message
    assert behind is None and while_replacing is None  # both answered in process
    assert replaced == in_process(network, "ResolveTransfer", question)
