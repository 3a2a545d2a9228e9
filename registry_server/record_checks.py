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

The workers are child processes talking over their standard input and output, read and
written by the event loop itself. A process pool would add helper threads to the registry's
process, and those wait for Python's global lock while the loop applies a batch (ADR 4):
measured, that made ingest slower than checking in process.

    python -m registry_server.record_checks     (a worker; the registry starts its own)
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import pickle
import sys
from collections import deque
from collections.abc import Mapping
from typing import BinaryIO

from google.protobuf.message import DecodeError

from registry.v1 import publication_pb2 as pub
from registry_core import envelope as env
from registry_core.errors import RegistryError
from registry_core.records import check_batch_records
from registry_server.acceptance import BatchHeader, CheckedElsewhere, check_shape, payload_digest

log = logging.getLogger(__name__)
_LENGTH = 4  # bytes of the length before each frame, big-endian
_READY = b"ready"
PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged pipe
# A batch takes a worker tens of milliseconds; one that has not answered in this long is stuck.
ANSWER_SECONDS = 30


def check(envelope_bytes: bytes, keys: Mapping[str, bytes]) -> CheckedElsewhere | None:
    """What acceptance may take on trust (CheckedElsewhere) if the envelope is signed by one
    of keys, its batch is well framed and every record meets the record rules; None otherwise
    (acceptance then finds out why)."""
    envelope = pub.SignedEnvelope.FromString(envelope_bytes)
    signatures = env.check_signatures(envelope, keys)
    if not signatures.verified:
        return None
    batch = pub.Batch()
    try:
        batch.ParseFromString(envelope.payload)
        check_shape(batch)
        changes = check_batch_records(batch)
    except (DecodeError, RegistryError):
        return None
    return CheckedElsewhere(payload_digest(envelope.payload), signatures.valid_key_ids[0],
                            BatchHeader.of(batch), changes)


def _encode(checked: CheckedElsewhere | None) -> bytes:
    if checked is None:
        return b""
    # Plain tuples (the header's fields; the changes are ChangeRows already): unpickling named
    # tuples calls their Python __new__.
    return pickle.dumps((checked.payload_sha256, checked.key_id, tuple(checked.header),
                         checked.changes), protocol=pickle.HIGHEST_PROTOCOL)


def _decode(answer: bytes) -> CheckedElsewhere | None:
    if not answer:
        return None
    digest, key_id, header, changes = pickle.loads(answer)
    return CheckedElsewhere(digest, key_id, BatchHeader(*header), changes)


def _settle(answer: asyncio.Future[CheckedElsewhere | None],
            value: CheckedElsewhere | None) -> None:
    if not answer.done():
        answer.set_result(value)


def _frame(data: bytes) -> bytes:
    return len(data).to_bytes(_LENGTH, "big") + data


class _Worker:
    """One worker process and the answers it owes, in the order they were asked."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.waiting: deque[asyncio.Future[CheckedElsewhere | None]] = deque()
        self.reader = asyncio.get_running_loop().create_task(self._read_answers())

    async def _read_answers(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                size = int.from_bytes(await stdout.readexactly(_LENGTH), "big")
                answer = _decode(await stdout.readexactly(size))
                _settle(self.waiting.popleft(), answer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the worker ended: what it owed is answered below
        finally:
            while self.waiting:
                _settle(self.waiting.popleft(), None)

    async def ask(self, envelope_bytes: bytes,
                  keys: Mapping[str, bytes]) -> CheckedElsewhere | None:
        stdin = self.process.stdin
        if self.reader.done() or stdin is None:
            return None
        answer: asyncio.Future[CheckedElsewhere | None] = asyncio.get_running_loop().create_future()
        self.waiting.append(answer)
        try:
            stdin.write(_frame(pickle.dumps((envelope_bytes, dict(keys)))))
            await stdin.drain()
        except ConnectionError:
            pass  # the reader sees the end too and answers None
        try:
            # Shielded: a caller that gives up leaves the answer to be read in its turn.
            return await asyncio.wait_for(asyncio.shield(answer), ANSWER_SECONDS)
        except TimeoutError:
            log.error("a record-check worker gave no answer in %d s; stopping it (the batches "
                      "it had are checked in the registry's own process)", ANSWER_SECONDS)
            self.process.kill()
            return None

    async def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 5)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        await self.reader


class RecordChecks:
    """Worker processes for record rules; with none, acceptance checks them in the
    registry's own process."""

    def __init__(self, workers: list[_Worker]) -> None:
        self.workers = workers

    @classmethod
    async def start(cls, count: int) -> RecordChecks:
        return cls([await _spawn() for _ in range(count)])

    @property
    def enabled(self) -> bool:
        return bool(self.workers)

    async def check(self, envelope: pub.SignedEnvelope,
                    keys: Mapping[str, bytes]) -> CheckedElsewhere | None:
        """What a worker found for envelope's payload when its records pass; None when there
        are no workers or the records do not pass. A worker that died is replaced, and the
        batch it had is checked in the registry's process."""
        if not self.workers or not keys:
            return None
        index = min(range(len(self.workers)), key=lambda i: len(self.workers[i].waiting))
        worker = self.workers[index]
        if worker.reader.done():
            log.error("a record-check worker ended (exit status %s); starting another, and "
                      "checking this batch in the registry's own process",
                      worker.process.returncode)
            self.workers[index] = await _spawn()
            return None
        return await worker.ask(envelope.SerializeToString(), keys)

    async def close(self) -> None:
        for worker in self.workers:
            await worker.stop()
        self.workers = []


async def _spawn() -> _Worker:
    """A worker that has imported the rules and is ready (it says so first)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "registry_server.record_checks",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None and process.stdin is not None
    # A batch must fit in the pipe at once: the loop writes what fits and the rest only once
    # it is free again, which is after the batch it is applying, and the overlap is lost.
    with contextlib.suppress(OSError, AttributeError):  # Linux only; elsewhere it still works
        fcntl.fcntl(process.stdin.get_extra_info("pipe").fileno(), fcntl.F_SETPIPE_SZ,
                    PIPE_BYTES)
    await process.stdout.readexactly(_LENGTH + len(_READY))
    return _Worker(process)


def _serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """The worker's loop: a framed (envelope, keys) in, a framed answer (empty: did not
    pass) out, until its input closes. Only the registry that started it writes to it."""
    answers.write(_frame(_READY))
    answers.flush()
    while len(header := requests.read(_LENGTH)) == _LENGTH:
        envelope_bytes, keys = pickle.loads(requests.read(int.from_bytes(header, "big")))
        try:
            answer = _encode(check(envelope_bytes, keys))
        except Exception:  # a bug here must not stop ingest: acceptance checks it instead
            log.exception("record check failed")
            answer = b""
        answers.write(_frame(answer))
        answers.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
