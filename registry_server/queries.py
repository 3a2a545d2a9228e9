"""Partners' questions (the EquivalenceService), answered in worker processes so that answering
uses more than one core.

A question is CPU-bound Python work in the registry: reading the candidates, parsing the
agreements, judging every rule, building the answer. In one process it shares one core with
everything else the registry does for the call (TLS, HTTP/2, the interceptors), so answers
could never come faster than that one core allows. A query worker holds its own connection
to the database and answers whole questions: it gets the request's bytes and gives back the
answer's bytes, or the failure to report. The registry's process then only carries bytes,
never parsing a question or building an answer. Each question is read in its own snapshot
(registry_server.db.reading), in the worker as in process, so a worker sees every
publication committed before the question arrived.

A costly question (fairness.Lane.COSTLY) is answered on the worker's low-priority thread
(workers.LowPriority), so that while it runs it yields the cores to the registry's own
process, which answers the cheap questions that find every worker busy.

The workers are registry_server.workers processes; one that ends or is stuck is replaced and
the question is answered in the registry's own process.

    python -m registry_server.queries     (a worker; the registry starts its own)
"""

from __future__ import annotations

import logging
import pickle
import struct
import time
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message
from sqlalchemy import Engine

from registry.v1 import equivalence_pb2 as eq
from registry_core.errors import InvalidRecord
from registry_server import equivalence
from registry_server.db import is_in_memory, make_engine
from registry_server.fairness import Lane
from registry_server.status import INTERNAL_FAULT, Failure, failure_of
from registry_server.workers import LowPriority, Overdue, WorkerPool, WorkerProcess, serve

log = logging.getLogger(__name__)
# A question takes a worker milliseconds (a depth-5 one on the dense 1M-agreement synthetic
# network, up to ~4 s); one that has not answered in this long is stuck, or too costly.
ANSWER_SECONDS = 60

SERVICE = eq.DESCRIPTOR.services_by_name["EquivalenceService"].full_name
QUERIES: dict[str, tuple[type[Message], Callable[[Engine, Any], Message]]] = {
    "ResolveTransfer": (eq.ResolveTransferRequest, equivalence.resolve_transfer),
    "ListEquivalents": (eq.ListEquivalentsRequest, equivalence.list_equivalents),
    "ListSources": (eq.ListSourcesRequest, equivalence.list_sources),
    "EvaluatePathway": (eq.EvaluatePathwayRequest, equivalence.evaluate_pathway),
    "ListConflicts": (eq.ListConflictsRequest, equivalence.list_conflicts),
}
_ANSWER, _FAILURE = b"a", b"f"  # the first byte of a worker's answer
# Before a question's bytes: its method, its lane, then its deadline (seconds since the
# epoch, 0 for none; the registry and its workers share the machine's clock).
_PREFIX = {method: method.encode() + b"\n" for method in QUERIES}
_LANE = {Lane.CHEAP: b"c", Lane.COSTLY: b"C"}
_DEADLINE = struct.Struct("!d")
_TOO_COSTLY = Failure(
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    f"the question took more than {ANSWER_SECONDS} s of a "
    "query worker's time and was stopped, so that it does not hold the registry; for "
    "ResolveTransfer, ask with a smaller max_depth or fewer holdings",
    refusal="question_too_costly",
)
_LATE = Failure(
    grpc.StatusCode.DEADLINE_EXCEEDED,
    "the call's deadline passed while the "
    "question waited for a query worker; nothing was read; ask again with a "
    "longer deadline, or when the registry is less busy",
)


def answer(engine: Engine, method: str, question: bytes) -> bytes:
    """The serialised answer to a serialised question for method (one of QUERIES)."""
    request_type, query = QUERIES[method]
    try:
        request = request_type.FromString(question)
    except DecodeError:
        raise InvalidRecord(
            "request",
            "(message)",
            f"is not a {request_type.__name__}; send the message {SERVICE}/{method} takes",
        ) from None
    return query(engine, request).SerializeToString()


class QueryWorkers(WorkerPool):
    """Worker processes answering partners' questions; with none, or when the one asked has
    ended, the registry answers in its own process."""

    MODULE = "registry_server.queries"
    WHAT = "query worker"

    @classmethod
    async def for_database(cls, count: int, database_url: str) -> QueryWorkers:
        if is_in_memory(database_url):
            count = 0
        return await cls.start(count, database_url.encode())

    def __init__(self, workers: list[WorkerProcess], setup: bytes = b"") -> None:
        super().__init__(workers, setup)
        self.costly: set[WorkerProcess] = set()  # the workers on a costly question now

    async def answer(
        self,
        method: str,
        question: bytes,
        seconds_left: float | None = None,
        lane: Lane = Lane.CHEAP,
    ) -> bytes | Failure | None:
        """A worker's answer or failure; None when no worker could answer. seconds_left is
        the time the caller still waits (its deadline); a worker that reaches a question
        after that refuses it at once instead of answering nobody. A question of either lane
        goes to a worker that is not on a costly one (fairness.Admission keeps one free for
        each costly question); a cheap one finding none is answered by the caller."""
        deadline = time.time() + seconds_left if seconds_left is not None else 0.0
        try:
            found = await self.ask(
                _PREFIX[method] + _LANE[lane] + _DEADLINE.pack(deadline) + question,
                ANSWER_SECONDS,
                busy=self.costly,
                long=lane is Lane.COSTLY,
            )
        except Overdue:
            # Not answered here instead: the same question would hold the registry's own
            # process as long, and every call with it.
            return _TOO_COSTLY
        if not found:
            return None
        if found[:1] == _FAILURE:
            failure: Failure = pickle.loads(found[1:])
            return failure
        return found[1:]


def _answerer(setup: bytes) -> Callable[[bytes], bytes]:
    engine = make_engine(setup.decode())
    # Before the worker says it is ready, so the registry opens its port with the pages
    # mapped, and no partner's question waits for it.
    equivalence.warm(engine)
    low_priority = LowPriority()

    def handle(request: bytes) -> bytes:
        method, _, rest = request.partition(b"\n")
        costly = rest[:1] == _LANE[Lane.COSTLY]
        (deadline,), question = _DEADLINE.unpack_from(rest, 1), rest[1 + _DEADLINE.size :]
        try:
            if deadline and time.time() > deadline:
                # Under a burst, questions wait in the pipe; one whose caller has given up
                # is not worth the worker's time, which the questions behind it need.
                return _FAILURE + pickle.dumps(_LATE, protocol=pickle.HIGHEST_PROTOCOL)
            if costly:
                return _ANSWER + low_priority.run(lambda: answer(engine, method.decode(), question))
            return _ANSWER + answer(engine, method.decode(), question)
        except Exception as error:
            failure = failure_of(error)
            if failure is None:  # a bug: the caller hears INTERNAL, the operator the trace
                log.exception("query worker: %s failed", method.decode())
                failure = INTERNAL_FAULT
            return _FAILURE + pickle.dumps(failure, protocol=pickle.HIGHEST_PROTOCOL)

    return handle


if __name__ == "__main__":
    serve(_answerer)
