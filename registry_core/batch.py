"""Building a batch's payload from change-log entries that are already serialised.

A Batch's `changes` (field 5) is a repeated message; on the wire each entry is the tag byte,
a varint length and the entry's bytes. The agent stores every change serialised once, so it
appends those bytes instead of parsing and re-serialising every record of every batch. The
result parses to the same Batch as building it field by field (tests/registry_core/
test_batch.py), and the signature covers these exact bytes, as always.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from registry.v1 import publication_pb2 as pub

_CHANGES_TAG = bytes([(5 << 3) | 2])  # field 5, length-delimited


@lru_cache(maxsize=4096)  # a catalogue's records have a few hundred distinct lengths
def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def batch_payload(header: pub.Batch, changes: Sequence[bytes]) -> bytes:
    """Serialised Batch: header's fields (with no changes) followed by the changes."""
    if header.changes:
        raise ValueError("the header must carry no changes; pass them serialised")
    parts = [header.SerializeToString(deterministic=True)]
    for change in changes:
        parts += (_CHANGES_TAG, _varint(len(change)), change)
    return b"".join(parts)
