"""Batches a record-check worker passed, applied by the apply worker (registry_server.applying):
what the publisher hears is what the registry's own process would have said, on SQLite and
on PostgreSQL, and a worker that dies costs no batch."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import grpc
import pytest
from sqlalchemy import func, select

from registry.v1 import publication_pb2 as pub
from registry.v1 import publication_pb2_grpc
from registry_server import publication
from registry_server.sql import table
from registry_server.tables import PublishedRecord
from registry_server.volume import VolumeRule
from tests.conftest import Network, RunningRegistry, registry_state
from tests.factories import batch, micro_credential, signed


@pytest.fixture
def applying(network: Network) -> Iterator[RunningRegistry]:
    """A registry whose batches are checked by a worker and applied by the apply worker;
    volume problems are warned of, not refused, so that warnings can come back."""
    running = RunningRegistry(
        network.engine, check_workers=1, apply_worker=True, volume=VolumeRule(mode="warn")
    )
    assert running.apply_worker.enabled
    yield running
    running.stop()


def publish(address: str, envelope: pub.SignedEnvelope) -> tuple[pub.PublishResponse, grpc.Call]:
    with grpc.insecure_channel(address) as channel:
        stub = publication_pb2_grpc.PublicationServiceStub(channel)
        response, call = stub.Publish.with_call(pub.PublishRequest(envelope=envelope), timeout=30)
        return response, call


def forth_batch(
    network: Network, first_seq: int, prev_head: str, count: int = 2
) -> pub.SignedEnvelope:
    records = [micro_credential(key=f"MC{first_seq + i}") for i in range(count)]
    return signed(
        batch("uk.ac.forth", records, first_seq=first_seq, prev_head=prev_head),
        network.signers["uk.ac.forth"],
    )


def records_stored(network: Network) -> int:
    with network.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table(PublishedRecord))).one()[0]


def not_in_process(*_args: object, **_kwargs: object) -> pub.Acknowledgement:
    raise AssertionError("a batch the check worker passed was applied in the registry's process")


def test_passed_batches_are_applied_by_the_worker_and_a_replay_gets_its_acknowledgement(
    network: Network, applying: RunningRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publication, "publish", not_in_process)
    first, _ = publish(applying.address, forth_batch(network, 1, ""))
    ack = first.acknowledgement
    second, _ = publish(applying.address, forth_batch(network, 3, ack.head))
    assert (ack.last_seq, second.acknowledgement.last_seq) == (2, 4)
    assert second.acknowledgement.receipt.log_index == ack.receipt.log_index + 1
    assert records_stored(network) == 4
    replay, _ = publish(applying.address, forth_batch(network, 1, ""))
    assert replay.acknowledgement == ack
    ingested = applying.metrics.registry.get_sample_value(
        "registry_records_ingested_total", {"institution": "uk.ac.forth"}
    )
    assert ingested == 4, "a replay applies nothing, so it counts nothing"


def test_the_apply_worker_passes_on_a_volume_warning(
    network: Network, applying: RunningRegistry
) -> None:
    envelope = signed(
        batch("uk.ac.forth", [micro_credential(workload_hours=40)]),
        network.signers["uk.ac.forth"],
    )
    response, _ = publish(applying.address, envelope)
    [warning] = response.warnings
    assert "MicroCredential uk.ac.forth/MC1: field 'workload_hours'" in warning
    assert response.acknowledgement.records_applied == 1


def test_a_refusal_by_the_apply_worker_is_the_one_the_registry_gives_in_process(
    network: Network, applying: RunningRegistry
) -> None:
    """A batch whose records pass but whose sequence leaves a gap is refused in the applying
    transaction: the publisher gets the same status, message and details either way, and
    nothing changes."""
    gap = forth_batch(network, 5, "")
    before = registry_state(network.engine)
    refusals: list[tuple[object, ...]] = []
    in_process = RunningRegistry(network.engine, check_workers=1)
    try:
        for running in (applying, in_process):
            with pytest.raises(grpc.RpcError) as caught:
                publish(running.address, gap)
            error = caught.value
            assert isinstance(error, grpc.Call)
            refusals.append((error.code(), error.details(), error.trailing_metadata()))
    finally:
        in_process.stop()
    assert refusals[0][0] == grpc.StatusCode.FAILED_PRECONDITION
    assert refusals[0] == refusals[1]
    assert registry_state(network.engine) == before


def test_a_killed_apply_worker_loses_no_batch(network: Network, applying: RunningRegistry) -> None:
    """Its batch is applied in the registry's process, and the next batch by a new worker."""
    worker = applying.apply_worker.workers[0].process
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGKILL)
    first, _ = publish(applying.address, forth_batch(network, 1, ""))
    second, _ = publish(applying.address, forth_batch(network, 3, first.acknowledgement.head))
    assert second.acknowledgement.last_seq == 4 and records_stored(network) == 4
    replacement = applying.apply_worker.workers[0]
    assert replacement.process is not worker and replacement.alive
