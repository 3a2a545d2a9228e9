"""A batch's record rules, checked in worker processes so that ingest uses more than one core.

The rules every record meets on its own (`registry_core.records.check_batch_records`) are
Python work on every record of every batch, more than half of what publishing a batch costs.
A worker process checks them for one batch while the registry's own process applies the
batch before it (an agent keeps three batches in flight). The worker verifies the envelope's
signature with the directory's keys before it parses anything, checks the batch's framing,
and answers, for a payload whose records all pass, with the payload's digest, the key that
signed it, the batch's header and the checked changes as storage needs them (each record
serialised, an agreement's index rows). Acceptance, in the applying transaction, uses them
only for the payload with that digest and a key the directory still holds, and still checks
the rest (statuses, caller, sequence, versions); it runs every check itself for a batch the
worker did not pass, so a refusal is raised there, in its usual order, with its usual
message.

The workers are registry_server.workers processes (why processes, and how they talk, is
said there).

    python -m registry_server.record_checks     (a worker; the registry starts its own)
"""

from __future__ import annotations

import asyncio
import logging
import pickle
from collections.abc import Callable, Mapping
from typing import NamedTuple

from google.protobuf.message import DecodeError

from registry.v1 import publication_pb2 as pub
from registry_core import envelope as env
from registry_core.errors import RegistryError
from registry_core.records import check_batch_records
from registry_server.acceptance import BatchHeader, CheckedElsewhere, check_shape, payload_digest
from registry_server.workers import LowPriority, Overdue, WorkerPool, serve

log = logging.getLogger(__name__)
# A batch takes a worker tens of milliseconds; one that has not answered in this long is stuck.
ANSWER_SECONDS = 30


def check(envelope_bytes: bytes, keys: Mapping[str, bytes]) -> CheckedElsewhere | None:
    """What acceptance may take on trust (CheckedElsewhere) if the envelope is signed by one
    of keys, its batch is well framed and every record meets the record rules; None otherwise
    (acceptance then finds out why)."""
    envelope = pub.SignedEnvelope.FromString(envelope_bytes)
    try:
        env.check_bounds(envelope)
    except RegistryError:
        return None
    signatures = env.check_signatures(envelope, keys, first_valid=True)
    if not signatures.verified:
        return None
    batch = pub.Batch()
    try:
        batch.ParseFromString(envelope.payload)
        check_shape(batch)
        changes = check_batch_records(batch)
    except (DecodeError, RegistryError):
        return None
    return CheckedElsewhere(
        payload_digest(envelope.payload),
        signatures.valid_key_ids[0],
        BatchHeader.of(batch),
        changes,
    )


def _encode(checked: CheckedElsewhere | None) -> bytes:
    if checked is None:
        return b""
    # Plain tuples (the header's fields; the changes are ChangeRows already): unpickling named
    # tuples calls their Python __new__.
    return pickle.dumps(
        (checked.payload_sha256, checked.key_id, tuple(checked.header), checked.changes),
        protocol=pickle.HIGHEST_PROTOCOL,
    )


def decode(answer: bytes) -> CheckedElsewhere | None:
    """A worker's answer as acceptance takes it."""
    if not answer:
        return None
    digest, key_id, header, changes = pickle.loads(answer)
    return CheckedElsewhere(digest, key_id, BatchHeader(*header), changes)


class Vouched(NamedTuple):
    """A batch a worker passed, both as bytes: the envelope it checked, and its answer (for
    `decode`, in whichever process applies the batch: registry_server.applying)."""

    envelope: bytes
    answer: bytes

    def decoded(self) -> CheckedElsewhere:
        checked = decode(self.answer)
        assert checked is not None  # a worker's pass is never empty
        return checked


class RecordChecks(WorkerPool):
    """Worker processes for record rules; with none, acceptance checks them in the
    registry's own process."""

    MODULE = "registry_server.record_checks"
    WHAT = "record-check worker"

    async def check(
        self, envelope: pub.SignedEnvelope, keys: Mapping[str, bytes]
    ) -> Vouched | None:
        """The worker's pass for envelope when its records pass; None when there are no
        workers, the records do not pass, or the worker ended or was stuck (then the batch is
        checked in the registry's process, and a dead worker is replaced). The answer is left
        as bytes: decoding it (a thousand records' rows) is for the process that applies."""
        if not self.workers or not keys:
            return None
        # Encoding the batch for the worker is done in a thread: on the event loop it would
        # hold every other call.
        envelope_bytes, request = await asyncio.to_thread(_request, envelope, keys)
        try:
            answer = await self.ask(request, ANSWER_SECONDS)
        except Overdue:  # a batch is at most 1,000 records: checking it here is bounded
            return None
        return Vouched(envelope_bytes, answer) if answer else None


def _request(envelope: pub.SignedEnvelope, keys: Mapping[str, bytes]) -> tuple[bytes, bytes]:
    envelope_bytes = envelope.SerializeToString()
    return envelope_bytes, pickle.dumps(
        (envelope_bytes, dict(keys)), protocol=pickle.HIGHEST_PROTOCOL
    )


def _checker(_setup: bytes) -> Callable[[bytes], bytes]:
    # Bulk work: checked on the low-priority thread, so that under contention for the cores
    # the registry's own process (partners' calls among them) goes first. Measured with 20
    # agents publishing and partners asking at once, on 2 cores: a cheap question's median
    # 3.2-4.2 ms against 5.9-7.0 ms at the same priority (bench.mixed_load).
    low_priority = LowPriority()

    def handle(request: bytes) -> bytes:
        envelope_bytes, keys = pickle.loads(request)
        try:
            return low_priority.run(lambda: _encode(check(envelope_bytes, keys)))
        except Exception:  # a bug here must not stop ingest: acceptance checks it instead
            log.exception("record check failed")
            return b""

    return handle


if __name__ == "__main__":
    serve(_checker)
