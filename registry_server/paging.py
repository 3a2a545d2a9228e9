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
from typing import TypeVar

from google.protobuf.message import Message

from registry_core.sizes import leading_within

# Below 4 MiB with room for the answer's own fields, the gRPC frame and the trailers.
PAGE_BYTES = 3_584 * 1024
# A repeated field's tag and length prefix, at most, on each entry.
ENTRY_OVERHEAD = 6


M = TypeVar("M", bound=Message)


def fitting(entries: Sequence[Message], budget: int | None = None) -> int:
    """How many of entries, from the first, fit in budget bytes (PAGE_BYTES by default; at
    least one, if any)."""
    return leading_within(
        (entry.ByteSize() + ENTRY_OVERHEAD for entry in entries),
        PAGE_BYTES if budget is None else budget,
    )


def trimmed(
    entries: Sequence[M],
    more: bool,
    budget: int | None = None,
) -> tuple[Sequence[M], bool]:
    """The leading entries that fit in a page, and whether anything follows them: more
    says whether anything follows entries themselves."""
    fit = fitting(entries, budget)
    return entries[:fit], more or fit < len(entries)
