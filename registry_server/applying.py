"""Applying checked batches in a worker process of its own, so that the registry's process
carries only bytes for a publication.

A batch a record-check worker passed (record_checks) is applied, in its turn, by the apply
worker: the check worker's answer goes to it as the bytes it came in, never decoded in the
registry's process, and the worker runs the same transaction (publication.publish) on its
own connection to the database. Measured with agents publishing while partners ask, on 2
cores (bench.mixed_load), the transaction and the decoding were about a fifth of the time
the registry's process held Python's lock; there it delayed every partner's call.

Publications stay one at a time and in the order they arrived: the registry asks the worker
in each batch's turn (service.PublicationService), and the transaction takes the log's row
first, as it does in the registry's process. The worker applies at lower CPU priority
(workers.LowPriority), so on busy cores a partner's call goes first.

A batch the check worker did not pass, and any batch when the worker cannot answer (it
ended, or a bug), is applied in the registry's process as before. That is safe even when the
worker committed before it ended: a batch applied twice is a replay, answered with its
stored acknowledgement. A database in memory cannot be shared with a worker: there is none.

    python -m registry_server.applying     (the worker; the registry starts its own)
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from typing import NamedTuple

from registry.v1 import publication_pb2 as pub
from registry_server import publication
from registry_server.db import WalCheckpoints, checkpoints_in_background, is_in_memory, make_engine
from registry_server.record_checks import Vouched, decode
from registry_server.status import Failure, failure_of
from registry_server.volume import VolumeRule
from registry_server.workers import LowPriority, Overdue, WorkerPool, serve

log = logging.getLogger(__name__)
# A batch's transaction takes tens of milliseconds; one that has not ended in this long is
# stuck (on a lock held elsewhere, or a database that stopped answering).
ANSWER_SECONDS = 60
_APPLIED, _FAILED = b"A", b"F"


class Applied(NamedTuple):
    """The worker's acknowledgement; fresh is false for a replay (nothing applied now)."""

    acknowledgement: pub.Acknowledgement
    fresh: bool
    warnings: list[str]


class ApplyWorker(WorkerPool):
    """The apply worker (at most one: publications are applied one at a time anyway)."""

    MODULE = "registry_server.applying"
    WHAT = "apply worker"

    @classmethod
    async def for_database(
        cls, enabled: bool, database_url: str, volume: VolumeRule = VolumeRule()
    ) -> ApplyWorker:
        count = 1 if enabled and not is_in_memory(database_url) else 0
        return await cls.start(count, pickle.dumps((database_url, volume)))

    async def apply(self, vouched: Vouched, own: str | None) -> Applied | Failure | None:
        """The batch vouched for applied by the worker (or its refusal); None when no worker
        could apply it (the caller applies it)."""
        if not self.workers:
            return None
        request = pickle.dumps(
            (vouched.envelope, own, vouched.answer), protocol=pickle.HIGHEST_PROTOCOL
        )
        try:
            answer = await self.ask(request, ANSWER_SECONDS)
        except Overdue:  # stopped, so its transaction is rolled back: applying it here is safe
            return None
        if not answer:
            return None
        if answer[:1] == _FAILED:
            failure: Failure = pickle.loads(answer[1:])
            return failure
        ack_bytes, fresh, warnings = pickle.loads(answer[1:])
        return Applied(pub.Acknowledgement.FromString(ack_bytes), fresh, warnings)


def _applier(setup: bytes) -> Callable[[bytes], bytes]:
    database_url, rule = pickle.loads(setup)
    # As in the registry's process (cli.serve): SQLite's log is copied back by a thread, not
    # by the commit that fills it.
    background = checkpoints_in_background(database_url)
    engine = make_engine(database_url, checkpoints_elsewhere=background)
    if background:
        WalCheckpoints(engine).start()  # its thread ends with the worker
    low_priority = LowPriority()

    def apply(request: bytes) -> bytes:
        envelope_bytes, own, answer = pickle.loads(request)
        warned: list[list[str]] = []  # one list of warnings when applied now, none for a replay
        ack = publication.publish(
            engine,
            pub.SignedEnvelope.FromString(envelope_bytes),
            authenticated_institution=own,
            on_applied=lambda _ack, warnings: warned.append(list(warnings)),
            checked_elsewhere=decode(answer),
            volume=rule,
        )
        return _APPLIED + pickle.dumps(
            (ack.SerializeToString(), bool(warned), warned[0] if warned else []),
            protocol=pickle.HIGHEST_PROTOCOL,
        )

    def handle(request: bytes) -> bytes:
        try:
            return low_priority.run(lambda: apply(request))
        except Exception as error:
            failure = failure_of(error)
            if failure is not None:
                return _FAILED + pickle.dumps(failure, protocol=pickle.HIGHEST_PROTOCOL)
            # A bug here must not stop ingest: the registry's process applies the batch.
            log.exception("applying a batch in the apply worker failed")
            return b""

    return handle


if __name__ == "__main__":
    serve(_applier)
