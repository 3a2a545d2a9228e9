"""A worker's long work (a costly question, a batch's record checks, applying it) runs on a
thread of lower CPU priority, so that under contention the registry's own process goes
first; short work keeps the worker's priority. Linux keeps a nice value per thread;
elsewhere nothing is lowered, and these tests are skipped."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from pathlib import Path

import pytest

from registry.v1 import publication_pb2 as pub
from registry_server import record_checks
from registry_server.applying import Applied, ApplyWorker
from registry_server.fairness import Lane
from registry_server.queries import QueryWorkers
from registry_server.workers import LOW_PRIORITY_NICENESS, LowPriority, WorkerProcess
from tests.conftest import Network
from tests.factories import batch, micro_credential, signed
from tests.registry_server.test_queries import publish_network, to_taff, url_of

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="only Linux keeps a CPU priority per thread"
)


def nice_of_threads(pid: int) -> list[int]:
    """The nice value of each of the process's threads, from /proc."""
    values = []
    for task in sorted(Path(f"/proc/{pid}/task").iterdir()):
        # Fields after the command name (which may hold spaces): state is field 3, nice 19.
        fields = (task / "stat").read_text().rpartition(")")[2].split()
        values.append(int(fields[16]))
    return values


def test_work_on_the_low_priority_thread_runs_lowered_and_the_caller_keeps_its_own() -> None:
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    low = LowPriority()
    assert low.run(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())) == min(
        19, own + LOW_PRIORITY_NICENESS
    )
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own


def test_the_low_priority_thread_passes_on_the_works_exception() -> None:
    def fails() -> None:
        raise ValueError("the work's own error")

    with pytest.raises(ValueError, match="the work's own error"):
        LowPriority().run(fails)


def worker_threads_after(network: Network, lanes: list[str]) -> list[int]:
    """The nice values of a query worker's threads after it answered a question of each
    lane in lanes."""
    question = to_taff("MC1").SerializeToString()

    async def run() -> list[int]:
        workers = await QueryWorkers.for_database(1, url_of(network))
        try:
            for lane in lanes:
                await workers.answer("ResolveTransfer", question, 30, Lane[lane])
            worker: WorkerProcess = workers.workers[0]
            assert worker.process.pid is not None
            return nice_of_threads(worker.process.pid)
        finally:
            await workers.close()

    return asyncio.run(run())


def test_a_query_worker_answers_cheap_questions_at_its_own_priority(network: Network) -> None:
    publish_network(network)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert set(worker_threads_after(network, ["CHEAP", "CHEAP"])) == {own}


def test_a_query_worker_answers_a_costly_question_on_a_lowered_thread(network: Network) -> None:
    publish_network(network)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    nices = worker_threads_after(network, ["CHEAP", "COSTLY"])
    assert nices[0] == own  # the worker's own thread, which reads the pipe
    assert min(19, own + LOW_PRIORITY_NICENESS) in nices[1:]


def forth_batch(network: Network) -> tuple[pub.SignedEnvelope, dict[str, bytes]]:
    """A valid batch of Forth's, and the directory's key for it."""
    signer = network.signers["uk.ac.forth"]
    return signed(batch("uk.ac.forth", [micro_credential(key="MC1")]), signer), {
        signer.key_id: signer.public_key
    }


def test_a_record_check_worker_checks_a_batch_on_a_lowered_thread(network: Network) -> None:
    envelope, keys = forth_batch(network)
    own = os.getpriority(os.PRIO_PROCESS, 0)

    async def run() -> tuple[object, list[int]]:
        checks = await record_checks.RecordChecks.start(1)
        try:
            checked = await checks.check(envelope, keys)
            pid = checks.workers[0].process.pid
            assert pid is not None
            return checked, nice_of_threads(pid)
        finally:
            await checks.close()

    checked, nices = asyncio.run(run())
    assert checked is not None  # the worker passed the batch: it did the work
    assert nices[0] == own
    assert min(19, own + LOW_PRIORITY_NICENESS) in nices[1:]


def test_the_apply_worker_applies_a_batch_on_a_lowered_thread(network: Network) -> None:
    envelope, keys = forth_batch(network)
    own = os.getpriority(os.PRIO_PROCESS, 0)

    async def run() -> tuple[object, list[int]]:
        checks = await record_checks.RecordChecks.start(1)
        applier = await ApplyWorker.for_database(True, url_of(network))
        try:
            vouched = await checks.check(envelope, keys)
            assert vouched is not None
            applied = await applier.apply(vouched, "uk.ac.forth")
            pid = applier.workers[0].process.pid
            assert pid is not None
            return applied, nice_of_threads(pid)
        finally:
            await checks.close()
            await applier.close()

    applied, nices = asyncio.run(run())
    assert isinstance(applied, Applied) and applied.fresh  # the worker applied it
    assert nices[0] == own
    assert min(19, own + LOW_PRIORITY_NICENESS) in nices[1:]
