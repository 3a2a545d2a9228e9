"""Pages that every standard gRPC client can read.

A gRPC client refuses an answer larger than its receive limit, 4 MiB by default in every
language's library, so a page is bounded in bytes as well as in entries: it ends before the
entry that would take it past PAGE_BYTES, and its token or cursor continues from there.
A page always holds at least one entry, and no single entry is near the bound: a logged
envelope carries at most registry_core.envelope.MAX_PAYLOAD_BYTES, and every other entry
(an agreement, an institution, a conflict) is a record of bounded fields.
"""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf.message import Message

# Below 4 MiB with room for the answer's own fields, the gRPC frame and the trailers.
PAGE_BYTES = 3_584 * 1024
# A repeated field's tag and length prefix, at most, on each entry.
ENTRY_OVERHEAD = 6


def fitting(entries: Sequence[Message], budget: int = PAGE_BYTES) -> int:
    """How many of entries, from the first, fit in budget bytes (at least one, if any)."""
    used = 0
    for count, entry in enumerate(entries):
        used += entry.ByteSize() + ENTRY_OVERHEAD
        if used > budget and count > 0:
            return count
    return len(entries)
