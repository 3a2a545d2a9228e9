"""Publishing: what changed since the registry's checkpoint, in signed batches.

The registry's checkpoint is the truth of what it holds, so every sync starts from it: after
a crash (of the agent, or of the registry between commit and acknowledgement) the next sync
simply continues from where the registry is. A sync with nothing new is one round trip.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import grpc

from registry.v1 import publication_pb2 as pub
from registry_core.batch import batch_payload
from registry_core.envelope import MAX_PAYLOAD_BYTES, Signer, next_head, seal
from registry_core.errors import CHECKPOINT_SEQ
from registry_core.logs import request_id
from registry_core.sizes import leading_within
from registry_core.wording import counted
from sync_agent.client import Pending, Registry
from sync_agent.reachability import RetryBudgetSpent, Retrying, explain, explain_spent
from sync_agent.store import AgentStore

log = logging.getLogger("sync_agent")
BATCH_SIZE = 1_000
# How long a sync started from the TUI keeps trying an unreachable registry: a registrar
# at the screen is told soon, and can try again; `sync-agent sync` has retry_minutes.
INTERACTIVE_RETRY_MINUTES = 0.1
# Batches in flight at once: one being applied, one being checked by the registry's record
# worker, one on the way. More would only queue at the registry, which applies them one at
# a time (measured: two left the registry idle between batches, three kept it busy).
WINDOW = 3


class SyncError(Exception):
    """A sync that could not finish; the message says what to do."""


class RegistryUnreachable(SyncError):
    """The registry stayed unreachable for the whole retry budget; nothing was lost."""


@dataclass(frozen=True)
class SyncResult:
    batches: int
    changes: int
    last_seq: int
    head: str
    log_index: int
    # What the registry applied but warned of (registry_server.volume), in words.
    warnings: tuple[str, ...] = ()


class SyncLock:
    """An exclusive lock file, so a timer's sync and a registrar's sync never interleave."""

    def __init__(self, path: Path, wait_seconds: float) -> None:
        self.path, self.wait_seconds = path, wait_seconds

    def __enter__(self) -> SyncLock:
        self.handle = self.path.open("a")
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self.handle.close()
                    raise SyncError(
                        "another sync of this agent is running; it was not "
                        "interrupted, try again when it has finished"
                    ) from None
                time.sleep(0.1)

    def __exit__(self, *_: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


@dataclass(frozen=True)
class PreparedBatch:
    envelope: pub.SignedEnvelope
    first_seq: int
    last_seq: int
    head: str
    count: int


# A batch's own fields (institution, sequence numbers, head, time) and each change's tag and
# length prefix, at most.
BATCH_HEADER_BYTES = 1024
CHANGE_OVERHEAD_BYTES = 6


def within_payload_bytes(entries: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """The leading (seq, change) entries whose batch stays within the registry's
    MAX_PAYLOAD_BYTES (at least one: a single record is far smaller)."""
    return entries[
        : leading_within(
            (len(change) + CHANGE_OVERHEAD_BYTES for _, change in entries),
            MAX_PAYLOAD_BYTES - BATCH_HEADER_BYTES,
        )
    ]


def _prepare(
    store: AgentStore, signer: Signer, after_seq: int, head: str, batch_size: int
) -> PreparedBatch | None:
    """The signed batch of the changes after after_seq, building on head; None when none."""
    entries = within_payload_bytes(store.serialised_changes(after_seq, batch_size))
    if not entries:
        return None
    header = pub.Batch(
        institution_id=store.institution_id,
        first_seq=entries[0][0],
        last_seq=entries[-1][0],
        prev_head=head,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    payload = batch_payload(header, [change for _, change in entries])
    return PreparedBatch(
        seal(payload, signer), entries[0][0], entries[-1][0], next_head(head, payload), len(entries)
    )


def _publish(
    store: AgentStore,
    client: Registry,
    signer: Signer,
    last_seq: int,
    head: str,
    batch_size: int,
    retrying: Retrying,
) -> Iterator[tuple[PreparedBatch, pub.PublishResponse]]:
    """Publish the change log after (last_seq, head), yielding each batch with the
    registry's answer (its acknowledgement and warnings), in order.

    WINDOW batches are in flight, so the registry receives and checks the next batches while
    it applies this one (and the one after them is read and signed meanwhile). When a call
    fails, the calls behind it are let finish and every unacknowledged batch is sent again,
    the same bytes: one the registry did apply is a replay and gets the same
    acknowledgement. Transient failures are retried as retrying says (it raises when its
    budget is spent, or the failure is a refusal). A batch refused for a gap while an
    earlier one was still in flight had only overtaken it (calls share one connection but
    may arrive in either order), so it is sent again at once."""
    unsent: deque[PreparedBatch] = deque()
    # Each call in flight, with whether another was in flight ahead of it when it was sent.
    in_flight: deque[tuple[PreparedBatch, Pending, bool]] = deque()
    with ThreadPoolExecutor(1, thread_name_prefix="sync-prepare") as prepare:
        upcoming: Future[PreparedBatch | None] | None = prepare.submit(
            _prepare, store, signer, last_seq, head, batch_size
        )
        while True:
            while len(in_flight) < WINDOW:
                if not unsent and upcoming is not None:
                    ready = upcoming.result()
                    upcoming = (
                        None
                        if ready is None
                        else prepare.submit(
                            _prepare, store, signer, ready.last_seq, ready.head, batch_size
                        )
                    )
                    if ready is not None:
                        unsent.append(ready)
                if not unsent:
                    break
                batch = unsent.popleft()
                in_flight.append((batch, client.publish_async(batch.envelope), bool(in_flight)))
            if not in_flight:
                return
            batch, call, behind = in_flight[0]
            try:
                answer = call.result()
            except grpc.RpcError as error:
                # Overtaken: the batch ahead of it was acknowledged (this one is first in
                # flight now) but had not been applied when this one arrived.
                overtaken = behind and _is_gap(error, batch)
                for _, later, _ in in_flight:
                    later.wait()
                unsent.extendleft(reversed([b for b, _, _ in in_flight]))
                in_flight.clear()
                if overtaken:
                    log.warning(
                        "batch from seq %d overtook the one ahead of it; sending again from there",
                        batch.first_seq,
                        extra={"institution": store.institution_id, "seq": batch.first_seq},
                    )
                else:
                    retrying.failed(error, f"to acknowledge the batch from seq {batch.first_seq}")
                continue
            in_flight.popleft()
            ack = answer.acknowledgement
            if (ack.last_seq, ack.head) != (batch.last_seq, batch.head):
                raise SyncError(
                    f"the registry acknowledged seq {ack.last_seq} with head "
                    f"{ack.head[:16]}…, not the batch sent; sync again"
                )
            retrying.answered()
            yield batch, answer


def _is_gap(error: grpc.RpcError, batch: PreparedBatch) -> bool:
    """Whether the registry refused batch because it holds less than the changes before it
    (its checkpoint, in the trailers, is behind the batch's first change)."""
    if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
        return False
    # A refused call's trailers are (key, value) pairs (the stubs name another type).
    trailers: dict[str, Any] = dict(cast(Any, error).trailing_metadata() or ())
    held = str(trailers.get(CHECKPOINT_SEQ, ""))
    return held.isdigit() and int(held) < batch.first_seq - 1


Progress = Callable[[int, int], None]


def sync(
    store: AgentStore,
    client: Registry,
    signer: Signer,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    retry_minutes: float | None = None,
) -> SyncResult:
    """Publish every change the registry does not hold yet. progress, when given, is called
    with (changes published, changes to publish) once the checkpoint is known and after each
    acknowledged batch. An unreachable registry is tried again for up to retry_minutes in a
    row (default INTERACTIVE_RETRY_MINUTES); then RegistryUnreachable."""
    institution = store.institution_id
    rid = uuid.uuid4().hex
    request_id.set(rid)
    client.request_id = rid
    retrying = Retrying(
        client.address, INTERACTIVE_RETRY_MINUTES if retry_minutes is None else retry_minutes
    )
    log.info("sync of %s started", institution, extra={"institution": institution})
    try:
        result, pulled = _sync(store, client, signer, batch_size, progress, retrying)
    except RetryBudgetSpent as spent:
        failure: SyncError = RegistryUnreachable(explain_spent(spent, client))
    except grpc.RpcError as error:
        failure = SyncError(explain(error, client, "the sync"))
    except SyncError as error:
        failure = error
    else:
        outcome = (
            f"published {counted(result.changes, 'change')} in "
            f"{counted(result.batches, 'batch')}, up to seq {result.last_seq}"
            if result.batches
            else f"nothing new; the registry holds up to seq {result.last_seq}"
        )
        if pulled:
            outcome += f"; {counted(pulled, 'new bilateral step')} received"
        if result.warnings:
            outcome += f"; {counted(len(result.warnings), 'warning')}: " + "; ".join(
                result.warnings
            )
        store.record_outcome(outcome, success=True, acked_seq=result.last_seq, head=result.head)
        log.info(
            "sync finished: %s", outcome, extra={"institution": institution, "seq": result.last_seq}
        )
        return result
    store.record_outcome(str(failure), success=False)
    log.error("sync failed: %s", failure, extra={"institution": institution})
    raise failure from None


def _sync(
    store: AgentStore,
    client: Registry,
    signer: Signer,
    batch_size: int,
    progress: Progress | None,
    retrying: Retrying,
) -> tuple[SyncResult, int]:
    """The sync's calls: the checkpoint, the batches after it, then news of bilateral
    agreements; the result, and how many bilateral steps were received."""
    institution = store.institution_id
    checkpoint = retrying.call(lambda: client.checkpoint(institution), "to give its checkpoint")
    last_seq, head = checkpoint.last_seq, checkpoint.head
    local = store.last_seq()
    if last_seq > local:
        raise SyncError(
            f"the registry holds seq {last_seq} for {institution} but this agent's change "
            f"log ends at seq {local}; the store was replaced or restored from an old "
            "backup: restore the latest store before syncing"
        )
    batches = changes = 0
    log_index = store.sync_state().log_index
    to_publish = local - last_seq
    if progress is not None:
        progress(0, to_publish)
    warnings: list[str] = []
    for prepared, answer in _publish(store, client, signer, last_seq, head, batch_size, retrying):
        ack = answer.acknowledgement
        store.record_acknowledgement(ack)
        for warning in answer.warnings:
            log.warning(
                "the registry applied seq %d with a warning: %s",
                ack.last_seq,
                warning,
                extra={"institution": institution, "seq": ack.last_seq},
            )
        warnings += answer.warnings
        log.info(
            "batch acknowledged up to seq %d",
            ack.last_seq,
            extra={"institution": institution, "seq": ack.last_seq, "records": prepared.count},
        )
        last_seq, head, log_index = ack.last_seq, ack.head, ack.receipt.log_index
        batches += 1
        changes += prepared.count
        if progress is not None:
            progress(changes, to_publish)
    pulled = 0
    if checkpoint.bilateral_event_id > store.bilateral_cursor():
        # News about bilateral agreements: only when the checkpoint says there is some.
        pulled = store.add_bilateral_events(
            retrying.call(
                lambda: client.bilateral_events(institution, store.bilateral_cursor()),
                "to list the bilateral agreements' steps",
            )
        )
    return SyncResult(batches, changes, last_seq, head, log_index, tuple(warnings)), pulled
