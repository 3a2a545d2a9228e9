"""Publishing: what changed since the registry's checkpoint, in signed batches.

The registry's checkpoint is the truth of what it holds, so every sync starts from it: after
a crash (of the agent, or of the registry between commit and acknowledgement) the next sync
simply continues from where the registry is. A sync with nothing new is one round trip.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import random
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
from registry_core.wording import counted
from sync_agent.client import PendingPublication, RegistryClient
from sync_agent.store import AgentStore

log = logging.getLogger("sync_agent")
BATCH_SIZE = 1_000
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
             grpc.StatusCode.ABORTED, grpc.StatusCode.RESOURCE_EXHAUSTED}
MAX_ATTEMPTS = 6
# Batches in flight at once: one being applied, one being checked by the registry's record
# worker, one on the way. More would only queue at the registry, which applies them one at
# a time (measured: two left the registry idle between batches, three kept it busy).
WINDOW = 3


class SyncError(Exception):
    """A sync that could not finish; the message says what to do."""


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
                    raise SyncError("another sync of this agent is running; it was not "
                                    "interrupted, try again when it has finished") from None
                time.sleep(0.1)

    def __exit__(self, *_: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def _backoff(attempt: int) -> float:
    """Seconds to wait before retry number attempt + 1: exponential, capped, with jitter so
    agents that failed together do not retry together."""
    return min(8.0, 0.2 * 2.0 ** attempt) * (0.5 + random.random())


def _with_retries(call: Callable[[], pub.Acknowledgement | pub.GetCheckpointResponse],
                  sleep: Callable[[float], None] = time.sleep) -> object:
    """Retry transient failures with exponential backoff and jitter."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return call()
        except grpc.RpcError as error:
            if error.code() not in RETRYABLE or attempt == MAX_ATTEMPTS - 1:
                raise
            sleep(_backoff(attempt))
    raise AssertionError("unreachable")


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
    used = BATCH_HEADER_BYTES
    for count, (_, change) in enumerate(entries):
        used += len(change) + CHANGE_OVERHEAD_BYTES
        if used > MAX_PAYLOAD_BYTES and count > 0:
            return entries[:count]
    return entries


def _prepare(store: AgentStore, signer: Signer, after_seq: int, head: str,
             batch_size: int) -> PreparedBatch | None:
    """The signed batch of the changes after after_seq, building on head; None when none."""
    entries = within_payload_bytes(store.serialised_changes(after_seq, batch_size))
    if not entries:
        return None
    header = pub.Batch(institution_id=store.institution_id, first_seq=entries[0][0],
                       last_seq=entries[-1][0], prev_head=head,
                       created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    payload = batch_payload(header, [change for _, change in entries])
    return PreparedBatch(seal(payload, signer), entries[0][0], entries[-1][0],
                         next_head(head, payload), len(entries))


def _publish(store: AgentStore, client: RegistryClient, signer: Signer, last_seq: int,
             head: str, batch_size: int,
             ) -> Iterator[tuple[PreparedBatch, pub.PublishResponse]]:
    """Publish the change log after (last_seq, head), yielding each batch with the
    registry's answer (its acknowledgement and warnings), in order.

    WINDOW batches are in flight, so the registry receives and checks the next batches while
    it applies this one (and the one after them is read and signed meanwhile). When a call
    fails, the calls behind it are let finish and every unacknowledged batch is sent again,
    the same bytes: one the registry did apply is a replay and gets the same acknowledgement. Transient
    failures are retried with exponential backoff and jitter. A batch refused for a gap
    while an earlier one was still in flight had only overtaken it (calls share one
    connection but may arrive in either order), so it is sent again at once. Anything else,
    or MAX_ATTEMPTS failures in a row, raises the failed call's error."""
    unsent: deque[PreparedBatch] = deque()
    # Each call in flight, with whether another was in flight ahead of it when it was sent.
    in_flight: deque[tuple[PreparedBatch, PendingPublication, bool]] = deque()
    failures = 0
    with ThreadPoolExecutor(1, thread_name_prefix="sync-prepare") as prepare:
        upcoming: Future[PreparedBatch | None] | None = prepare.submit(
            _prepare, store, signer, last_seq, head, batch_size)
        while True:
            while len(in_flight) < WINDOW:
                if not unsent and upcoming is not None:
                    ready = upcoming.result()
                    upcoming = None if ready is None else prepare.submit(
                        _prepare, store, signer, ready.last_seq, ready.head, batch_size)
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
                failures += 1
                if failures >= MAX_ATTEMPTS or not (overtaken or error.code() in RETRYABLE):
                    raise
                log.warning("batch from seq %d %s; sending again from there", batch.first_seq,
                            "overtook the one ahead of it" if overtaken
                            else f"failed ({error.code().name})",
                            extra={"institution": store.institution_id, "seq": batch.first_seq})
                if not overtaken:
                    time.sleep(_backoff(failures - 1))
                continue
            in_flight.popleft()
            ack = answer.acknowledgement
            if (ack.last_seq, ack.head) != (batch.last_seq, batch.head):
                raise SyncError(f"the registry acknowledged seq {ack.last_seq} with head "
                                f"{ack.head[:16]}…, not the batch sent; sync again")
            failures = 0
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


def explain(error: grpc.RpcError, client: RegistryClient | None = None) -> str:
    """A failed call in words, with what to do; with the client, which address was dialled,
    where that address came from, and what failed on the way."""
    code = error.code()
    if code == grpc.StatusCode.UNAVAILABLE:
        if client is None:
            return ("the registry is unreachable; check the registry address in agent.toml "
                    "and the network, then sync again (nothing was lost)")
        source = ("SYNC_AGENT_REGISTRY" if os.environ.get("SYNC_AGENT_REGISTRY") == client.address
                  else "agent.toml's registry setting")
        return (f"the registry at {client.address} (from {source}) is unreachable: "
                f"{why_unreachable(error.details() or '', client.address, client.uses_tls)}; "
                "nothing was lost, sync again once it is mended")
    return f"the registry refused the sync ({code.name}): {error.details()}"


def why_unreachable(details: str, address: str, uses_tls: bool) -> str:
    """What gRPC's connection failure says, in words an institution's IT team acts on."""
    said = details.lower()
    host = address.rsplit(":", 1)[0]
    if "hostname verification" in said or "peer name" in said:
        return (f"its certificate does not name {host}; dial it by a name its certificate "
                "carries (the network operator's `registry_server.pki server --host`)")
    if "certificate_verify_failed" in said or "unknown ca" in said:
        return ("its certificate is not signed by the CA this agent trusts; check [tls] ca "
                "(or SYNC_AGENT_TLS_CA) is the network's CA certificate")
    if "socket closed" in said or "connection reset" in said:
        if not uses_tls:
            return ("it closed the connection: it most likely requires mutual TLS, and this "
                    "agent has none; run `sync-agent tls` with the network's CA and this "
                    "institution's certificate")
        return ("it closed the connection during the TLS handshake: most likely it does not "
                "accept this agent's certificate (not issued by the network's CA, or "
                "expired); check [tls] certificate and private_key")
    if "connection refused" in said:
        return "nothing listens there; check the address and port, and that it is running"
    if "dns" in said or "name resolution" in said or "resolve" in said:
        return f"the host name {host} does not resolve; check the address"
    if "deadline" in said or "timeout" in said or "timed out" in said:
        return "it did not answer in time; check the network between here and the registry"
    return f"gRPC said: {details}"


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
        warnings: list[str] = []
        for prepared, answer in _publish(store, client, signer, last_seq, head, batch_size):
            ack = answer.acknowledgement
            store.record_acknowledgement(ack)
            for warning in answer.warnings:
                log.warning("the registry applied seq %d with a warning: %s", ack.last_seq,
                            warning, extra={"institution": institution, "seq": ack.last_seq})
            warnings += answer.warnings
            log.info("batch acknowledged up to seq %d", ack.last_seq,
                     extra={"institution": institution, "seq": ack.last_seq,
                            "records": prepared.count})
            last_seq, head, log_index = ack.last_seq, ack.head, ack.receipt.log_index
            batches += 1
            changes += prepared.count
            if progress is not None:
                progress(changes, to_publish)
    except grpc.RpcError as error:
        store.record_outcome(explain(error, client), success=False)
        log.error("sync failed: %s", explain(error, client), extra={"institution": institution})
        raise SyncError(explain(error, client)) from None
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
            store.record_outcome(explain(error, client), success=False)
            raise SyncError(explain(error, client)) from None
    outcome = (f"published {counted(changes, 'change')} in {counted(batches, 'batch')}, up to "
               f"seq {last_seq}" if batches
               else f"nothing new; the registry holds up to seq {last_seq}")
    if pulled:
        outcome += f"; {counted(pulled, 'new bilateral step')} received"
    if warnings:
        outcome += f"; {counted(len(warnings), 'warning')}: " + "; ".join(warnings)
    store.record_outcome(outcome, success=True, acked_seq=last_seq, head=head)
    log.info("sync finished: %s", outcome, extra={"institution": institution, "seq": last_seq})
    return SyncResult(batches, changes, last_seq, head, log_index, tuple(warnings))
