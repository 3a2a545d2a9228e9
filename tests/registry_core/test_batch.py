from __future__ import annotations

from registry.v1 import publication_pb2 as pub
from registry_core.batch import batch_payload
from tests.factories import batch, micro_credential


def test_payload_from_serialised_changes_parses_to_the_same_batch() -> None:
    built = batch(
        "uk.ac.forth",
        [micro_credential(key=f"K{i}", title="x" * (i * 40)) for i in range(1, 8)],
        first_seq=5,
        prev_head="ab" * 32,
    )
    header = pub.Batch()
    header.CopyFrom(built)
    del header.changes[:]
    payload = batch_payload(header, [c.SerializeToString() for c in built.changes])
    assert pub.Batch.FromString(payload) == built
