"""Fair answering: one caller cannot starve the others, and a cheap question never waits
behind costly ones.

Every partner's question is weighed before any work starts (cost_of): a question whose
size alone (holdings × max_depth) is beyond one question's budget is refused at once with
RESOURCE_EXHAUSTED and what to ask instead; the rest are cheap or costly. Cheap questions
(a page of equivalents or sources, a direct look-up of a few holdings) take milliseconds and
are answered at once. Costly ones (chains, learners' credentials to verify, many holdings,
pathways, conflicts) take a slot of their own: there are as many as there are query workers, and
while every worker is on a costly question, cheap ones are answered in the registry's own
process rather than queued behind them (queries.QueryWorkers.answer).

Each caller (a certificate's role and name; a plaintext development connection by its
peer) may have PER_CALLER_COSTLY costly questions and PER_CALLER questions in all admitted
at once, and at most COSTLY_WAITING_PER_SLOT × slots costly questions wait in all; beyond
either the call is refused at once with RESOURCE_EXHAUSTED and a RetryInfo, instead of
joining a queue every other caller would then wait in. What a costly question reads is
bounded too, while it reads (equivalence.MAX_EDGES_READ).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from enum import Enum

from google.protobuf.message import DecodeError

from registry.v1 import equivalence_pb2 as eq
from registry_core.errors import Busy, TooCostly

# One question's size budget: holdings × max_depth. The largest questions partners ask (a
# learner's record of 20–60 holdings, chains of up to 5 links) are within it; a question
# beyond it is better asked as several.
MAX_QUESTION_COST = 1_000
# A direct question about this many holdings at most, with no credential to verify, is
# cheap: one indexed statement.
CHEAP_HOLDINGS = 50
PER_CALLER_COSTLY = 2
PER_CALLER = 16
COSTLY_WAITING_PER_SLOT = 4
RETRY_SECONDS = 1.0  # what a refused caller is told to wait before asking again


class Lane(Enum):
    CHEAP = "cheap"
    COSTLY = "costly"


Weighed = eq.ResolveTransferRequest | eq.EvaluatePathwayRequest
WEIGHED: dict[str, type[Weighed]] = {
    "ResolveTransfer": eq.ResolveTransferRequest,
    "EvaluatePathway": eq.EvaluatePathwayRequest,
}


def parsed(method: str, question: bytes) -> Weighed | None:
    """The request of a question whose cost depends on what it holds (ResolveTransfer,
    EvaluatePathway), parsed once for every check before the work; None for the other
    methods, and for a question that does not parse (the query refuses it at once)."""
    kind = WEIGHED.get(method)
    if kind is None:
        return None
    try:
        return kind.FromString(question)
    except DecodeError:
        return None


def cost_of(method: str, request: Weighed | None) -> Lane:
    """The lane of a question for method, its request as parsed() gives it; raises
    TooCostly for one beyond the budget. A question that did not parse is cheap."""
    if method == "ListConflicts":
        return Lane.COSTLY  # reads every agreement of an institution
    if request is None:
        return Lane.CHEAP  # a page bounded by its page_size, or refused at once
    holdings = len(request.holdings)
    depth = max(1, request.max_depth)
    if holdings * depth > MAX_QUESTION_COST:
        fits = max(1, MAX_QUESTION_COST // depth)
        raise TooCostly(
            "holdings × max_depth",
            (
                f"request: {holdings} holdings at max_depth {depth} is beyond one question's "
                f"budget ({MAX_QUESTION_COST} holdings × max_depth); ask about at most {fits} "
                f"holdings per question at max_depth {depth}, or use a smaller max_depth"
            ),
        )
    presents = any(holding.verifiable_credential for holding in request.holdings)
    if (
        method == "EvaluatePathway"  # a qualification's every rule, judged
        or depth > 1
        or presents
        or holdings > CHEAP_HOLDINGS
    ):
        return Lane.COSTLY
    return Lane.CHEAP


@dataclass
class LaneState:
    admitted: int = 0  # running or waiting
    waiting: int = 0


class Admission:
    """Who may ask now. slots: how many costly questions are answered at once (one per query
    worker; one when the registry answers in its own process). on_wait, if set, hears each
    costly question's lane and its wait for a slot, in seconds (for the metrics)."""

    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self._costly = asyncio.Semaphore(self.slots)
        self._per_caller: Counter[str] = Counter()
        self._costly_per_caller: Counter[str] = Counter()
        self.lanes = {lane: LaneState() for lane in Lane}
        self.on_wait: Callable[[Lane, float], None] | None = None

    @contextlib.asynccontextmanager
    async def admit(self, who: str, lane: Lane) -> AsyncIterator[None]:
        """Hold a place for who's question in lane while it is answered; raises Busy when
        who has too many questions admitted or too many costly ones wait already."""
        self._refuse_if_full(who, lane)
        state = self.lanes[lane]
        self._per_caller[who] += 1
        state.admitted += 1
        costly = lane is Lane.COSTLY
        if costly:
            self._costly_per_caller[who] += 1
        try:
            if not costly:
                yield
                return
            state.waiting += 1
            began = time.monotonic()
            try:
                await self._costly.acquire()
            finally:
                state.waiting -= 1
            if self.on_wait is not None:
                self.on_wait(lane, time.monotonic() - began)
            try:
                yield
            finally:
                self._costly.release()
        finally:
            state.admitted -= 1
            self._forget(self._per_caller, who)
            if costly:
                self._forget(self._costly_per_caller, who)

    def _refuse_if_full(self, who: str, lane: Lane) -> None:
        if self._per_caller[who] >= PER_CALLER:
            raise Busy(
                "questions in flight per caller",
                (
                    f"{who} has {PER_CALLER} questions in flight already, the most one caller "
                    "may; wait for their answers before asking more"
                ),
                RETRY_SECONDS,
            )
        if lane is not Lane.COSTLY:
            return
        if self._costly_per_caller[who] >= PER_CALLER_COSTLY:
            raise Busy(
                "costly questions in flight per caller",
                (
                    f"{who} has {PER_CALLER_COSTLY} costly questions (chains, credentials to "
                    "verify, many holdings or conflicts) in flight already, the most one caller "
                    "may; wait for their answers, or ask direct questions (max_depth 1)"
                ),
                RETRY_SECONDS,
            )
        waiting_limit = COSTLY_WAITING_PER_SLOT * self.slots
        if self.lanes[Lane.COSTLY].waiting >= waiting_limit:
            raise Busy(
                "costly questions waiting",
                (
                    f"{waiting_limit} costly questions are waiting for the registry already; ask "
                    f"again in {RETRY_SECONDS:g} s, or ask a direct question (max_depth 1), "
                    "which is answered at once"
                ),
                RETRY_SECONDS,
            )

    @staticmethod
    def _forget(counts: Counter[str], who: str) -> None:
        counts[who] -= 1
        if counts[who] <= 0:
            del counts[who]  # the table holds only callers with questions in flight


def caller_key(role: str, name: str, peer: str) -> str:
    """Whose share a question counts against: the certificate's role and name, or for a
    plaintext development connection (no certificate) its peer address and port."""
    return f"{role} {name}".strip() if name else f"{role} {peer}".strip()
