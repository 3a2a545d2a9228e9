"""Every page a standard gRPC client can read (registry_server.paging): pages end in bytes
before gRPC's default 4 MiB receive limit, tokens continue where a page ended, every list is
paged, and an agent never sends a batch bigger than the registry takes."""

from __future__ import annotations

import grpc
import pytest

from registry.v1 import audit_pb2 as audit
from registry.v1 import audit_pb2_grpc
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.envelope import MAX_PAYLOAD_BYTES, check_bounds, seal
from registry_core.errors import MalformedPayload
from registry_core.records import MAX_TEXT
from registry_server import audit as audit_store
from registry_server import equivalence, paging, publication
from sync_agent.client import RegistryClient
from sync_agent.sync import within_payload_bytes
from tests.conftest import Network, RunningRegistry
from tests.factories import agreement, batch, micro_credential, module, signed

# A default client: no receive limit set, so gRPC's own 4 MiB applies.
DEFAULT_LIMIT = 4 * 1024 * 1024


def verbose(key: str) -> rec.MicroCredential:
    """A micro-credential with 20 learning outcomes of the longest text allowed (~40 KB)."""
    return micro_credential(
        key=key, learning_outcomes=[f"Outcome {n}: " + "x" * (MAX_TEXT - 12) for n in range(20)]
    )


def test_a_default_client_reads_the_whole_log_when_its_entries_pass_4_mib(
    network: Network, registry: RunningRegistry
) -> None:
    first = 1
    for n in range(5):  # five batches of ~1 MB each
        records = [verbose(f"MC{n}-{i}") for i in range(25)]
        b = batch(
            "uk.ac.forth",
            records,
            first_seq=first,
            prev_head=publication.checkpoint(network.engine, "uk.ac.forth").head,
        )
        publication.publish(network.engine, signed(b, network.signers["uk.ac.forth"]))
        first += len(records)
    read, pages, index = [], 0, 1
    with grpc.insecure_channel(registry.address) as channel:
        stub = audit_pb2_grpc.AuditServiceStub(channel)
        while index:
            page = stub.ListLogEntries(audit.ListLogEntriesRequest(from_index=index), timeout=30)
            assert page.ByteSize() < DEFAULT_LIMIT
            read += [entry.log_index for entry in page.entries]
            pages += 1
            index = page.next_index
    assert read == [1, 2, 3, 4, 5]
    assert pages > 1  # one page of all five would be over 4 MiB


def test_walking_every_list_by_its_tokens_gives_each_entry_once_when_pages_end_in_bytes(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    agreements = [agreement(key=f"AG{n:02}", unit_key=f"CS{n % 2}") for n in range(12)]
    publication.publish(
        network.engine,
        signed(batch("uk.ac.forth", [micro_credential(key="MC1")]), network.signers["uk.ac.forth"]),
    )
    publication.publish(
        network.engine,
        signed(
            batch("uk.ac.taff", [module(key="CS0"), module(key="CS1"), *agreements]),
            network.signers["uk.ac.taff"],
        ),
    )
    one_agreement = eq.Equivalence(agreement=agreements[0]).ByteSize()
    # Room for two or three agreements a page, where page_size would allow all of them.
    monkeypatch.setattr(equivalence, "PAGE_BYTES", 3 * one_agreement)
    seen, token, pages = [], "", 0
    while True:
        page = equivalence.list_equivalents(
            network.engine,
            eq.ListEquivalentsRequest(
                credential=rec.CredentialRef(institution_id="uk.ac.forth", key="MC1"),
                page_size=1000,
                page_token=token,
            ),
        )
        assert 1 <= len(page.equivalences) <= 3
        seen += [e.agreement.key for e in page.equivalences]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert seen == [a.key for a in agreements]
    assert pages >= 4


def test_conflicts_are_paged_and_every_page_continues_the_last(network: Network) -> None:
    publication.publish(
        network.engine,
        signed(
            batch(
                "uk.ac.taff",
                [
                    module(),
                    module(key="CS5PR"),
                    *[
                        agreement(key=f"AG-{n}-A", sources=[("uk.ac.forth", f"MC{n}")])
                        for n in range(5)
                    ],
                    *[
                        agreement(
                            key=f"AG-{n}-B", sources=[("uk.ac.forth", f"MC{n}")], unit_key="CS5PR"
                        )
                        for n in range(5)
                    ],
                ],
            ),
            network.signers["uk.ac.taff"],
        ),
    )
    whole = equivalence.list_conflicts(
        network.engine, eq.ListConflictsRequest(institution_id="uk.ac.taff")
    )
    assert len(whole.conflicts) == 5 and not whole.next_page_token
    sources, token = [], ""
    while True:
        page = equivalence.list_conflicts(
            network.engine,
            eq.ListConflictsRequest(institution_id="uk.ac.taff", page_size=2, page_token=token),
        )
        assert len(page.conflicts) <= 2
        sources += [c.source.key for c in page.conflicts]
        token = page.next_page_token
        if not token:
            break
    assert sources == [c.source.key for c in whole.conflicts]


def test_a_log_page_holds_at_least_one_entry_however_small_the_byte_bound(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    publication.publish(
        network.engine,
        signed(batch("uk.ac.forth", [micro_credential()]), network.signers["uk.ac.forth"]),
    )
    monkeypatch.setattr(paging, "PAGE_BYTES", 1)
    page = audit_store.list_log(network.engine, 1, 100)
    assert [e.log_index for e in page.entries] == [1] and page.next_index == 0


def test_an_envelope_over_the_payload_bound_is_refused_naming_it(network: Network) -> None:
    envelope = seal(b"\0" * (MAX_PAYLOAD_BYTES + 1), network.signers["uk.ac.forth"])
    with pytest.raises(MalformedPayload, match="field 'payload'.*send the changes in smaller"):
        check_bounds(envelope)


def test_an_agent_splits_a_batch_that_would_pass_the_payload_bound() -> None:
    change = b"c" * (MAX_PAYLOAD_BYTES // 3)
    entries = [(seq, change) for seq in range(1, 6)]
    first = within_payload_bytes(entries)
    assert [seq for seq, _ in first] == [1, 2]
    assert within_payload_bytes(entries[:1]) == entries[:1]


def test_over_grpc_conflicts_pages_are_read_by_the_agents_client(
    network: Network, registry: RunningRegistry
) -> None:
    publication.publish(
        network.engine,
        signed(
            batch(
                "uk.ac.taff",
                [
                    module(),
                    module(key="CS5PR"),
                    *[
                        agreement(
                            key=f"AG-{n}-{side}",
                            sources=[("uk.ac.forth", f"MC{n:04}")],
                            unit_key="CS5PR" if side == "B" else "CS7DE",
                        )
                        for n in range(1200)
                        for side in "AB"
                    ],
                ],
            ),
            network.signers["uk.ac.taff"],
        ),
    )
    client = RegistryClient(registry.address)
    try:
        conflicts = client.conflicts("uk.ac.taff")
    finally:
        client.close()
    assert len(conflicts) == 1200  # more than one page of 1,000
