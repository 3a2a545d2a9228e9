"""Publishing: what changed since the registry's checkpoint, in signed batches.

The registry's checkpoint is the truth of what it holds, so every sync starts from it: after
a crash (of the agent, or of the registry between commit and acknowledgement) the next sync
simply continues from where the registry is. A sync with nothing new is one round trip.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import random
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import grpc

from registry.v1 import publication_pb2 as pub
from registry_core.batch import batch_payload
from registry_core.envelope import Signer, next_head, seal
from registry_core.logs import request_id
from sync_agent.client import RegistryClient
from sync_agent.store import AgentStore

log = logging.getLogger("sync_agent")
BATCH_SIZE = 1_000
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
             grpc.StatusCode.ABORTED, grpc.StatusCode.RESOURCE_EXHAUSTED}
MAX_ATTEMPTS = 6


class SyncError(Exception):
    """A sync that could not finish; the message says what to do."""


@dataclass(frozen=True)
class SyncResult:
    batches: int
    changes: int
    last_seq: int
    head: str
    log_index: int


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
                    raise SyncError("another sync of this agent is running; it was not "
                                    "interrupted, try again when it has finished") from None
                time.sleep(0.1)

    def __exit__(self, *_: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def _with_retries(call: Callable[[], pub.Acknowledgement | pub.GetCheckpointResponse],
                  sleep: Callable[[float], None] = time.sleep) -> object:
    """Retry transient failures with exponential backoff and jitter."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return call()
        except grpc.RpcError as error:
            if error.code() not in RETRYABLE or attempt == MAX_ATTEMPTS - 1:
                raise
            sleep(min(8.0, 0.2 * 2 ** attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class PreparedBatch:
    envelope: pub.SignedEnvelope
    last_seq: int
    head: str
    count: int


def _prepare(store: AgentStore, signer: Signer, after_seq: int, head: str,
             batch_size: int) -> PreparedBatch | None:
    """The signed batch of the changes after after_seq, building on head; None when none."""
    entries = store.serialised_changes(after_seq, batch_size)
    if not entries:
        return None
    header = pub.Batch(institution_id=store.institution_id, first_seq=entries[0][0],
                       last_seq=entries[-1][0], prev_head=head,
                       created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    payload = batch_payload(header, [change for _, change in entries])
    return PreparedBatch(seal(payload, signer), entries[-1][0], next_head(head, payload),
                         len(entries))


def explain(error: grpc.RpcError) -> str:
    """A failed call in words, with what to do."""
    code = error.code()
    if code == grpc.StatusCode.UNAVAILABLE:
        return ("the registry is unreachable; check the registry address in agent.toml and the "
                "network, then sync again (nothing was lost)")
    return f"the registry refused the sync ({code.name}): {error.details()}"


Progress = Callable[[int, int], None]


def sync(store: AgentStore, client: RegistryClient, signer: Signer,
         batch_size: int = BATCH_SIZE, progress: Progress | None = None) -> SyncResult:
    """Publish every change the registry does not hold yet. progress, when given, is called
    with (changes published, changes to publish) once the checkpoint is known and after each
    acknowledged batch."""
    institution = store.institution_id
    rid = uuid.uuid4().hex
    request_id.set(rid)
    client.request_id = rid
    log.info("sync of %s started", institution, extra={"institution": institution})
    try:
        checkpoint = _with_retries(lambda: client.checkpoint(institution))
        assert isinstance(checkpoint, pub.GetCheckpointResponse)
        last_seq, head = checkpoint.last_seq, checkpoint.head
        local = store.last_seq()
        if last_seq > local:
            raise SyncError(
                f"the registry holds seq {last_seq} for {institution} but this agent's change "
                f"log ends at seq {local}; the store was replaced or restored from an old "
                "backup: restore the latest store before syncing")
        batches = changes = 0
        log_index = store.sync_state().log_index
        to_publish = local - last_seq
        if progress is not None:
            progress(0, to_publish)
        with ThreadPoolExecutor(1, thread_name_prefix="sync-prepare") as prepare:
            # The next batch is read and signed while the registry applies this one.
            upcoming = prepare.submit(_prepare, store, signer, last_seq, head, batch_size)
            while (prepared := upcoming.result()) is not None:
                upcoming = prepare.submit(_prepare, store, signer, prepared.last_seq,
                                          prepared.head, batch_size)
                ack = _with_retries(lambda: client.publish(prepared.envelope))
                assert isinstance(ack, pub.Acknowledgement)
                if (ack.last_seq, ack.head) != (prepared.last_seq, prepared.head):
                    raise SyncError(f"the registry acknowledged seq {ack.last_seq} with head "
                                    f"{ack.head[:16]}…, not the batch sent; sync again")
                store.record_acknowledgement(ack)
                log.info("batch acknowledged up to seq %d", ack.last_seq,
                         extra={"institution": institution, "seq": ack.last_seq,
                                "records": prepared.count})
                last_seq, head, log_index = ack.last_seq, ack.head, ack.receipt.log_index
                batches += 1
                changes += prepared.count
                if progress is not None:
                    progress(changes, to_publish)
    except grpc.RpcError as error:
        store.record_outcome(explain(error), success=False)
        log.error("sync failed: %s", explain(error), extra={"institution": institution})
        raise SyncError(explain(error)) from None
    except SyncError as error:
        store.record_outcome(str(error), success=False)
        log.error("sync failed: %s", error, extra={"institution": institution})
        raise
    pulled = 0
    if checkpoint.bilateral_event_id > store.bilateral_cursor():
        try:  # news about bilateral agreements: only when the checkpoint says there is some
            pulled = store.add_bilateral_events(client.bilateral_events(
                institution, store.bilateral_cursor()))
        except grpc.RpcError as error:
            store.record_outcome(explain(error), success=False)
            raise SyncError(explain(error)) from None
    plural = "batch" if batches == 1 else "batches"
    outcome = (f"published {changes} changes in {batches} {plural}, up to seq {last_seq}"
               if batches else f"nothing new; the registry holds up to seq {last_seq}")
    if pulled:
        outcome += f"; {pulled} new bilateral step{'s' if pulled != 1 else ''} received"
    store.record_outcome(outcome, success=True, acked_seq=last_seq, head=head)
    log.info("sync finished: %s", outcome, extra={"institution": institution, "seq": last_seq})
    return SyncResult(batches, changes, last_seq, head, log_index)
