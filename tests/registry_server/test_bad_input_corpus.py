"""The bad-input corpus: every kind of bad publication, sent over gRPC with mutual TLS, gets
its precise status and a message that says what to do, and leaves the registry unchanged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from registry.v1 import directory_pb2 as directory
from registry.v1 import publication_pb2 as pub
from registry.v1 import publication_pb2_grpc
from registry.v1 import records_pb2 as rec
from registry_core.envelope import Ed25519Signer, seal
from registry_server import directory as directory_store
from registry_server.pki import issue_client
from registry_server.publication import publish
from sync_agent.client import open_channel
from tests.conftest import Network, RunningRegistry, client_tls, registry_state
from tests.factories import agreement, batch, group, head_after, micro_credential, ref, signed

S = grpc.StatusCode


@dataclass
class World:
    network: Network
    head: str  # uk.ac.forth's head after its first batch (seq 1-2)
    forth: Ed25519Signer
    old_clyde: Ed25519Signer

    def next(self, *records: object, first_seq: int = 3) -> pub.Batch:
        return batch("uk.ac.forth", list(records), first_seq=first_seq, prev_head=self.head)


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[World], pub.PublishRequest]
    code: grpc.StatusCode
    words: str
    sender: str = "institution-uk.ac.forth"


def env(b: pub.Batch, signer: Ed25519Signer) -> pub.PublishRequest:
    return pub.PublishRequest(envelope=signed(b, signer))


def tampered(w: World) -> pub.PublishRequest:
    request = env(w.next(micro_credential(key="MC3")), w.forth)
    request.envelope.payload = request.envelope.payload.replace(b"MC3", b"MC4")
    return request


def retyped(w: World) -> pub.PublishRequest:
    request = env(w.next(micro_credential(key="MC3")), w.forth)
    request.envelope.payload_type = "application/json"
    return request


def unsigned(w: World) -> pub.PublishRequest:
    request = env(w.next(micro_credential(key="MC3")), w.forth)
    del request.envelope.signatures[:]
    return request


def deep(levels: int) -> rec.SourceGroup:
    inner = group(rec.GROUP_OPERATOR_ALL_OF, ref("uk.ac.taff", "X"))
    for _ in range(levels):
        inner = group(rec.GROUP_OPERATOR_ALL_OF, rec.SourceItem(group=inner))
    return inner


CASES = [
    Case("bad signature", tampered, S.UNAUTHENTICATED, "does not match the payload"),
    Case("no signature", unsigned, S.UNAUTHENTICATED, "no signature"),
    Case(
        "unknown key",
        lambda w: env(w.next(micro_credential(key="MC3")), Ed25519Signer.generate()),
        S.UNAUTHENTICATED,
        "not registered",
    ),
    Case(
        "revoked key",
        lambda w: env(
            batch("uk.ac.taff", [micro_credential("uk.ac.taff")]), w.network.signers["uk.ac.taff"]
        ),
        S.PERMISSION_DENIED,
        "revoked or retired",
        sender="institution-uk.ac.taff",
    ),
    Case(
        "retired key after rotation",
        lambda w: env(batch("uk.ac.clyde", [micro_credential("uk.ac.clyde")]), w.old_clyde),
        S.PERMISSION_DENIED,
        "current key",
        sender="institution-uk.ac.clyde",
    ),
    Case(
        "suspended institution",
        lambda w: env(
            batch("uk.ac.lagan", [micro_credential("uk.ac.lagan")]),
            w.network.signers["uk.ac.lagan"],
        ),
        S.PERMISSION_DENIED,
        "not active",
        sender="institution-uk.ac.lagan",
    ),
    Case(
        "certificate of another institution",
        lambda w: env(w.next(micro_credential(key="MC3")), w.forth),
        S.PERMISSION_DENIED,
        "connection is uk.ac.lagan's",
        sender="institution-uk.ac.lagan",
    ),
    Case(
        "partner certificate publishing",
        lambda w: env(w.next(micro_credential(key="MC3")), w.forth),
        S.PERMISSION_DENIED,
        "may not call",
        sender="partner-ucas",
    ),
    Case(
        "batch names another institution than its signer",
        lambda w: env(batch("uk.ac.taff", [micro_credential("uk.ac.taff")]), w.forth),
        S.PERMISSION_DENIED,
        "names institution 'uk.ac.taff'",
    ),
    Case(
        "record of another institution",
        lambda w: env(w.next(micro_credential("uk.ac.taff", "X")), w.forth),
        S.PERMISSION_DENIED,
        "belongs to another institution",
    ),
    Case(
        "replay of old seq with other content",
        lambda w: env(
            batch("uk.ac.forth", [micro_credential(key="A"), micro_credential(key="B")]), w.forth
        ),
        S.FAILED_PRECONDITION,
        "already applied with other content",
    ),
    Case(
        "overlapping batch",
        lambda w: env(
            batch(
                "uk.ac.forth",
                [micro_credential(key="A"), micro_credential(key="B")],
                first_seq=2,
                prev_head=w.head,
            ),
            w.forth,
        ),
        S.FAILED_PRECONDITION,
        "resend from seq 3",
    ),
    Case(
        "gap",
        lambda w: env(w.next(micro_credential(key="MC3"), first_seq=9), w.forth),
        S.FAILED_PRECONDITION,
        "resend from seq 3",
    ),
    Case(
        "fork",
        lambda w: env(
            batch("uk.ac.forth", [micro_credential(key="MC3")], first_seq=3, prev_head="ab" * 32),
            w.forth,
        ),
        S.FAILED_PRECONDITION,
        "rebuild the batch",
    ),
    Case(
        "stale version",
        lambda w: env(w.next(micro_credential(key="MC1")), w.forth),
        S.FAILED_PRECONDITION,
        "each change must raise the version",
    ),
    Case(
        "malformed payload",
        lambda w: pub.PublishRequest(envelope=seal(b"\x0a\xff\xff", w.forth)),
        S.INVALID_ARGUMENT,
        "not a serialised Batch",
    ),
    Case("wrong payload type", retyped, S.INVALID_ARGUMENT, "payload_type"),
    Case(
        "missing envelope",
        lambda w: pub.PublishRequest(),
        S.INVALID_ARGUMENT,
        "field 'envelope' is required",
    ),
    Case(
        "empty batch",
        lambda w: env(
            pub.Batch(institution_id="uk.ac.forth", first_seq=3, last_seq=2, prev_head=w.head),
            w.forth,
        ),
        S.INVALID_ARGUMENT,
        "no changes",
    ),
    Case(
        "sequence numbers out of order",
        lambda w: env(
            pub.Batch(
                institution_id="uk.ac.forth",
                first_seq=3,
                last_seq=4,
                prev_head=w.head,
                changes=[
                    pub.RecordChange(seq=4, micro_credential=micro_credential(key="A")),
                    pub.RecordChange(seq=3, micro_credential=micro_credential(key="B")),
                ],
            ),
            w.forth,
        ),
        S.INVALID_ARGUMENT,
        "in sequence order",
    ),
    Case(
        "too many changes",
        lambda w: env(
            w.next(
                *[
                    pub.Tombstone(kind=rec.RECORD_KIND_MICRO_CREDENTIAL, key=f"K{i}", version=1)
                    for i in range(5001)
                ]
            ),
            w.forth,
        ),
        S.RESOURCE_EXHAUSTED,
        "at most 5000",
    ),
    Case(
        "oversize message",
        lambda w: env(
            w.next(micro_credential(key="MC3", learning_outcomes=["x" * 1900] * 5000)), w.forth
        ),
        S.RESOURCE_EXHAUSTED,
        "",
    ),
    Case(
        "huge string",
        lambda w: env(w.next(micro_credential(key="MC3", title="T" * 100_000)), w.forth),
        S.INVALID_ARGUMENT,
        "limit is 2000",
    ),
    Case(
        "invalid credit system",
        lambda w: env(
            w.next(micro_credential(key="MC3", credit=rec.Credit(value=10, system="CATS"))), w.forth
        ),
        S.INVALID_ARGUMENT,
        "field 'credit.system'",
    ),
    Case(
        "negative credit",
        lambda w: env(
            w.next(micro_credential(key="MC3", credit=rec.Credit(value=-10, system="ECTS"))),
            w.forth,
        ),
        S.INVALID_ARGUMENT,
        "field 'credit.value'",
    ),
    Case(
        "credit that is 0 once converted",
        lambda w: env(
            w.next(micro_credential(key="MC3", credit=rec.Credit(value=5e-324, system="ECTS"))),
            w.forth,
        ),
        S.INVALID_ARGUMENT,
        "field 'credit.value'",
    ),
    Case(
        "workload of 5e-324 hours",
        lambda w: env(w.next(micro_credential(key="MC3", workload_hours=5e-324)), w.forth),
        S.INVALID_ARGUMENT,
        "field 'workload_hours'",
    ),
    Case(
        "payload over 3 MiB",
        lambda w: pub.PublishRequest(envelope=seal(b"\0" * (3 * 1024 * 1024 + 1), w.forth)),
        S.INVALID_ARGUMENT,
        "field 'payload'",
    ),
    Case(
        "title that is a NUL",
        lambda w: env(w.next(micro_credential(key="MC3", title="\x00")), w.forth),
        S.INVALID_ARGUMENT,
        "control character",
    ),
    Case(
        "title of zero-width spaces",
        lambda w: env(w.next(micro_credential(key="MC3", title="\u200b \u200b")), w.forth),
        S.INVALID_ARGUMENT,
        "no visible character",
    ),
    Case(
        "unknown status value",
        lambda w: env(w.next(micro_credential(key="MC3", status=42)), w.forth),
        S.INVALID_ARGUMENT,
        "field 'status'",
    ),
    Case(
        "reversed dates",
        lambda w: env(
            w.next(
                agreement(
                    "uk.ac.forth",
                    sources=[("uk.ac.taff", "X")],
                    valid_from="2027-01-01",
                    valid_to="2026-01-01",
                )
            ),
            w.forth,
        ),
        S.INVALID_ARGUMENT,
        "before valid_from",
    ),
    Case(
        "impossible date",
        lambda w: env(
            w.next(agreement("uk.ac.forth", sources=[("uk.ac.taff", "X")], valid_to="2026-02-30")),
            w.forth,
        ),
        S.INVALID_ARGUMENT,
        "field 'conditions.valid_to'",
    ),
    Case(
        "self-recognition",
        lambda w: env(w.next(agreement("uk.ac.forth", sources=[("uk.ac.forth", "MC1")])), w.forth),
        S.INVALID_ARGUMENT,
        "publishing institution itself",
    ),
    Case(
        "N-of larger than its group",
        lambda w: env(
            w.next(
                agreement(
                    "uk.ac.forth",
                    source=group(rec.GROUP_OPERATOR_N_OF, ref("uk.ac.taff", "X"), n=3),
                )
            ),
            w.forth,
        ),
        S.INVALID_ARGUMENT,
        "field 'source.n'",
    ),
    Case(
        "nesting too deep",
        lambda w: env(w.next(agreement("uk.ac.forth", source=deep(9))), w.forth),
        S.INVALID_ARGUMENT,
        "deeper than",
    ),
    Case(
        "withdrawing an unknown record",
        lambda w: env(
            w.next(pub.Tombstone(kind=rec.RECORD_KIND_AGREEMENT, key="NOPE", version=1)), w.forth
        ),
        S.INVALID_ARGUMENT,
        "does not hold",
    ),
    Case(
        "sequence number beyond 2^63",
        lambda w: env(
            pub.Batch(
                institution_id="uk.ac.forth",
                first_seq=2**64 - 1,
                last_seq=2**64 - 1,
                prev_head=w.head,
                changes=[
                    pub.RecordChange(seq=2**64 - 1, micro_credential=micro_credential(key="A"))
                ],
            ),
            w.forth,
        ),
        S.INVALID_ARGUMENT,
        "field 'first_seq'",
    ),
    Case(
        "change with no record",
        lambda w: env(
            pub.Batch(
                institution_id="uk.ac.forth",
                first_seq=3,
                last_seq=3,
                prev_head=w.head,
                changes=[pub.RecordChange(seq=3)],
            ),
            w.forth,
        ),
        S.INVALID_ARGUMENT,
        "give a record",
    ),
]


@pytest.fixture
def world(network: Network, pki: Path) -> World:
    forth = network.signers["uk.ac.forth"]
    first = batch("uk.ac.forth", [micro_credential(key="MC1"), micro_credential(key="MC2")])
    publish(network.engine, signed(first, forth))
    directory_store.revoke_key(
        network.engine, "uk.ac.taff", network.signers["uk.ac.taff"].key_id, "compromised"
    )
    old_clyde = network.enrol("uk.ac.clyde")
    directory_store.rotate_key(network.engine, "uk.ac.clyde", Ed25519Signer.generate().public_key)
    directory_store.set_status(
        network.engine, "uk.ac.lagan", directory.INSTITUTION_STATUS_SUSPENDED, "review"
    )
    if not (pki / "institution-uk.ac.clyde.pem").exists():
        issue_client(pki, "institution", "uk.ac.clyde")
    return World(network, head_after(first), forth, old_clyde)


def test_corpus_has_at_least_25_kinds() -> None:
    assert len({c.name for c in CASES}) >= 25


def test_every_bad_publication_gets_its_status_and_changes_nothing(
    world: World, tls_registry: RunningRegistry, pki: Path
) -> None:
    channels = {}
    failures = []
    try:
        for case in CASES:
            if case.sender not in channels:
                channels[case.sender] = open_channel(
                    tls_registry.address, client_tls(pki, case.sender)
                )
            stub = publication_pb2_grpc.PublicationServiceStub(channels[case.sender])
            request = case.make(world)
            before = registry_state(world.network.engine)
            try:
                stub.Publish(request, timeout=30)
                failures.append(f"{case.name}: accepted")
                continue
            except grpc.RpcError as error:
                if error.code() != case.code or case.words not in (error.details() or ""):
                    failures.append(f"{case.name}: {error.code().name} {error.details()!r}")
            if registry_state(world.network.engine) != before:
                failures.append(f"{case.name}: changed the registry")
    finally:
        for channel in channels.values():
            channel.close()
    assert not failures, "\n".join(failures)


def test_replay_returns_the_same_acknowledgement(
    world: World, tls_registry: RunningRegistry, pki: Path
) -> None:
    request = env(world.next(micro_credential(key="MC3")), world.forth)
    with open_channel(tls_registry.address, client_tls(pki, "institution-uk.ac.forth")) as ch:
        stub = publication_pb2_grpc.PublicationServiceStub(ch)
        first = stub.Publish(request, timeout=30)
        state = registry_state(world.network.engine)
        assert stub.Publish(request, timeout=30) == first
    assert registry_state(world.network.engine) == state
