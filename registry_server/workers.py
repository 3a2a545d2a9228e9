"""Worker processes beside the registry's own, for its CPU-bound work: checking the record
rules of published batches (record_checks) and answering partners' questions (queries).
Python runs one thread at a time per process, so a second core helps only through a second
process.

A worker is a child process talking over its standard input and output, read and written by
the event loop itself. A process pool would add helper threads to the registry's process, and
those wait for Python's global lock while the loop works (ADR 4): measured, that made ingest
slower than doing the work in process. Each message is a frame: its length (4 bytes,
big-endian), then its bytes. The registry first sends a setup frame (what the worker needs
to start, such as the database URL, which therefore never shows in a process listing); the
worker answers that it is ready, then answers each request frame with one answer frame, in
order.

A worker's long work (a costly question) can run on a thread of lower CPU priority
(`LowPriority`): on a machine whose cores are all busy, the registry's own process (the
transport, publications, cheap questions answered in process) then goes first, and the long
work takes what is left. On an idle machine the priority changes nothing.

When a worker ends, `ask` returns None, and the caller does the work in the registry's own
process: a worker only ever makes the registry faster. A worker that stops answering is
stopped; the request it was on raises Overdue, for the caller to decide whether that work
is safe to do in the registry's process (the requests behind it get None).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO, ClassVar, Self, TypeVar

log = logging.getLogger(__name__)

_LENGTH = 4  # bytes of the length before each frame, big-endian
_READY = b"ready"
PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged pipe
RESPAWN_SECONDS = 10  # after a replacement worker failed to start
# How far below the registry's own process a worker's long work runs (nice(2)): at 10, the
# kernel gives it about a tenth of a core's time that the registry's process also wants.
LOW_PRIORITY_NICENESS = 10

T = TypeVar("T")


def frame(data: bytes) -> bytes:
    return len(data).to_bytes(_LENGTH, "big") + data


def _settle(answer: asyncio.Future[bytes | None], value: bytes | None) -> None:
    if not answer.done():
        answer.set_result(value)


class WorkerFailed(RuntimeError):
    """A worker process ended before it was ready."""


class Overdue(Exception):
    """The worker gave no answer to this request in time, so it was stopped: the request
    itself may be what held it up."""


class WorkerProcess:
    """One worker process and the answers it owes, in the order they were asked."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        requests: asyncio.StreamWriter,
        answers: asyncio.StreamReader,
        what: str,
    ) -> None:
        self.process = process
        self.requests = requests  # the worker's standard input
        self.answers = answers  # its standard output
        self.what = what
        # Each answer owed, with the loop time by which it is due.
        self.waiting: deque[tuple[asyncio.Future[bytes | None], float]] = deque()
        loop = asyncio.get_running_loop()
        self.reader = loop.create_task(self._read_answers())
        self.watchdog = loop.create_task(self._watch())

    @classmethod
    async def spawn(cls, module: str, setup: bytes, what: str) -> WorkerProcess:
        """`python -m module`, set up with setup and ready (it says so first)."""
        # The pipes are made here, not by the subprocess call, so that the requests' pipe
        # can be enlarged whatever the event loop: a request must fit in it at once, for the
        # loop writes what fits and the rest only once it is free again, which may be after
        # other work, and the overlap is lost.
        worker_stdin, requests_end = os.pipe()
        answers_end, worker_stdout = os.pipe()
        with contextlib.suppress(OSError, AttributeError):  # Linux only; elsewhere it works
            fcntl.fcntl(requests_end, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", module, stdin=worker_stdin, stdout=worker_stdout
            )
        except BaseException:
            os.close(requests_end)
            os.close(answers_end)
            raise
        finally:
            os.close(worker_stdin)
            os.close(worker_stdout)
        loop = asyncio.get_running_loop()
        answers = asyncio.StreamReader(limit=PIPE_BYTES, loop=loop)
        answers_pipe, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(answers, loop=loop),
            os.fdopen(answers_end, "rb", buffering=0),
        )
        transport, protocol = await loop.connect_write_pipe(
            lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader(loop=loop), loop=loop),
            os.fdopen(requests_end, "wb", buffering=0),
        )
        requests = asyncio.StreamWriter(transport, protocol, None, loop)
        requests.write(frame(setup))
        try:
            await answers.readexactly(_LENGTH + len(_READY))
        except asyncio.IncompleteReadError:
            requests.close()
            answers_pipe.close()
            raise WorkerFailed(
                f"a {what} (python -m {module}) ended before it was ready, "
                f"exit status {await process.wait()}; its error is in the "
                "registry's log"
            ) from None
        return cls(process, requests, answers, what)

    @property
    def alive(self) -> bool:
        return not self.reader.done()

    async def _read_answers(self) -> None:
        """Settles the answers owed as they arrive. It reads whatever the pipe holds and
        settles every whole answer in it: under load that is several answers per wake-up,
        where reading each frame's length and bytes apart cost two wake-ups an answer."""
        stdout = self.answers
        buffer = bytearray()
        try:
            while data := await stdout.read(PIPE_BYTES):
                buffer += data
                start = 0
                while len(buffer) - start >= _LENGTH:
                    end = start + _LENGTH + int.from_bytes(buffer[start : start + _LENGTH], "big")
                    if len(buffer) < end:
                        break
                    _settle(self.waiting.popleft()[0], bytes(buffer[start + _LENGTH : end]))
                    start = end
                del buffer[:start]
        except ConnectionError:
            pass  # the worker ended: what it owed is answered below
        finally:
            while self.waiting:
                _settle(self.waiting.popleft()[0], None)
            self.watchdog.cancel()

    async def _watch(self) -> None:
        """Stops the worker when the oldest answer it owes is overdue: a worker that slow is
        stuck. (One look a second, where a timer for each request cost the loop more.)"""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(1)
            if self.waiting and self.waiting[0][1] < loop.time():
                log.error(
                    "a %s gave no answer in time; stopping it (the request it was on is "
                    "reported overdue, the ones behind it are done in the registry's "
                    "own process)",
                    self.what,
                )
                overdue = self.waiting[0][0]
                if not overdue.done():
                    overdue.set_exception(Overdue())
                self.process.kill()
                return

    async def ask(self, request: bytes, answer_seconds: float) -> bytes | None:
        """The worker's answer to request, or None if it ended. Raises Overdue if it gave
        none in answer_seconds (it is then stopped)."""
        stdin = self.requests
        if not self.alive:
            return None
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bytes | None] = loop.create_future()
        self.waiting.append((answer, loop.time() + answer_seconds))
        try:
            stdin.write(frame(request))
            await stdin.drain()
        except ConnectionError:
            pass  # the reader sees the end too and answers None
        # A caller that gives up (a call past its deadline) cancels its future, which stays
        # in line: its answer is read in its turn and dropped, so the next answer goes to
        # the right caller.
        return await answer

    async def stop(self) -> None:
        self.requests.close()
        try:
            await asyncio.wait_for(self.process.wait(), 5)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        await self.reader


class WorkerPool:
    """Worker processes running `python -m MODULE`; each request goes to the one owing the
    fewest answers. With no workers, `enabled` is false and the caller does the work."""

    MODULE: ClassVar[str]
    WHAT: ClassVar[str]  # what a worker is called in the log

    def __init__(self, workers: list[WorkerProcess], setup: bytes = b"") -> None:
        self.workers = workers
        self.setup = setup
        self._respawn_after = 0.0
        self.on_replacing: Callable[[], None] | None = None  # for the metrics

    @classmethod
    async def start(cls, count: int, setup: bytes = b"") -> Self:
        """count workers, started together (each takes about a second to import its work)."""
        return cls(
            list(
                await asyncio.gather(
                    *(WorkerProcess.spawn(cls.MODULE, setup, cls.WHAT) for _ in range(count))
                )
            ),
            setup,
        )

    @property
    def enabled(self) -> bool:
        return bool(self.workers)

    async def ask(
        self,
        request: bytes,
        answer_seconds: float,
        busy: set[WorkerProcess] | None = None,
        long: bool = False,
    ) -> bytes | None:
        """A worker's answer; None when there are no workers, every one is in busy, or the one
        asked ended (it is replaced). A long request's worker is in busy until it answers,
        so that a caller can keep long work and short work apart. Raises Overdue when the
        worker was stuck on this very request."""
        free = [i for i, worker in enumerate(self.workers) if busy is None or worker not in busy]
        if not free:
            return None
        index = min(free, key=lambda i: len(self.workers[i].waiting))
        worker = self.workers[index]
        if not worker.alive:
            loop = asyncio.get_running_loop()
            if loop.time() < self._respawn_after:
                return None  # a replacement failed to start moments ago
            log.error(
                "a %s ended (exit status %s); starting another, and doing this work in "
                "the registry's own process",
                self.WHAT,
                worker.process.returncode,
            )
            if self.on_replacing is not None:
                self.on_replacing()
            try:
                self.workers[index] = await WorkerProcess.spawn(self.MODULE, self.setup, self.WHAT)
            except WorkerFailed as failed:
                # The registry's own process does the work meanwhile; try again later
                # rather than on every request.
                log.error("%s; trying again in %d s", failed, RESPAWN_SECONDS)
                self._respawn_after = loop.time() + RESPAWN_SECONDS
            return None
        if busy is None or not long:
            return await worker.ask(request, answer_seconds)
        busy.add(worker)
        try:
            return await worker.ask(request, answer_seconds)
        finally:
            busy.discard(worker)

    async def close(self) -> None:
        for worker in self.workers:
            await worker.stop()
        self.workers = []


class LowPriority:
    """A thread of lower CPU priority, for a worker's long work. Linux keeps a nice value per
    thread, so only this thread is lowered, and the worker's own thread keeps its priority
    for short work; elsewhere the thread runs at the worker's priority."""

    def __init__(self, niceness: int = LOW_PRIORITY_NICENESS) -> None:
        self.niceness = niceness
        self._thread = ThreadPoolExecutor(1, "low-priority", initializer=self._lower)

    def _lower(self) -> None:
        if sys.platform == "linux":
            # On another system this would lower the whole process.
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.niceness)

    def run(self, work: Callable[[], T]) -> T:
        """work's result (or exception), run on the low-priority thread."""
        return self._thread.submit(work).result()


def serve(
    setup: Callable[[bytes], Callable[[bytes], bytes]],
    requests: BinaryIO | None = None,
    answers: BinaryIO | None = None,
) -> None:
    """A worker's loop: setup(first frame) gives the handler; then a frame in, the handler's
    answer out, until the input closes. Only the registry that started it writes to it."""
    requests = requests or sys.stdin.buffer
    answers = answers or sys.stdout.buffer

    def read() -> bytes | None:
        header = requests.read(_LENGTH)
        if len(header) < _LENGTH:
            return None
        return requests.read(int.from_bytes(header, "big"))

    first = read()
    if first is None:
        return
    handle = setup(first)
    answers.write(frame(_READY))
    answers.flush()
    while (request := read()) is not None:
        answers.write(frame(handle(request)))
        answers.flush()
