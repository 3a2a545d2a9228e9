"""Checking the registry without trusting it: a record's proof, and the log's hash chain.

Both take only what the registry hands out (envelopes, log heads) and the institutions'
public keys, so a partner can run them on its own machine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from registry.v1 import audit_pb2 as audit
from registry.v1 import publication_pb2 as pub
from registry_core import envelope as env
from registry_core.errors import RegistryError
from registry_core.records import Record, record_of


class ProofError(RegistryError):
    """A proof or log entry that does not check out; the message says which part."""


def next_log_head(prev_log_head: str, envelope_bytes: bytes) -> str:
    """The log's head after appending one envelope."""
    return hashlib.sha256(
        prev_log_head.encode("ascii") + b"\n" + hashlib.sha256(envelope_bytes).digest()
    ).hexdigest()


def verify_record(
    proof: audit.RecordProof, record: Record | pub.Tombstone, publisher_keys: Mapping[str, bytes]
) -> pub.Batch:
    """Check that record is what its publisher signed at proof.seq. publisher_keys are the
    publisher's keys from the directory (key id -> raw public key), revoked ones included:
    a signature made before a revocation stays valid evidence."""
    env.verify(proof.envelope, publisher_keys)
    batch = pub.Batch.FromString(proof.envelope.payload)
    if not batch.first_seq <= proof.seq <= batch.last_seq:
        raise ProofError(
            f"seq {proof.seq} is outside the batch ({batch.first_seq}-{batch.last_seq})"
        )
    signed = record_of(batch.changes[proof.seq - batch.first_seq])
    if signed != record:
        raise ProofError(
            f"the record differs from what {batch.institution_id} signed at seq {proof.seq}"
        )
    if not isinstance(record, pub.Tombstone) and record.institution_id != batch.institution_id:
        raise ProofError("the record names another publisher than the batch")
    return batch
