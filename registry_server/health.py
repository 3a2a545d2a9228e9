"""The registry's health, as grpc.health.v1 reports it to load balancers and probes: SERVING
only while the database answers, NOT_SERVING from the moment the registry starts to drain.

A probe reads the database every few seconds in a thread of its own (never on the event
loop, never queued behind the calls' database threads), and flips every service's status
when the answer changes, both ways. A probe that has not answered in its time counts as a
failure; no second probe is started while one hangs, so a database that stopped answering
costs one thread, not one every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable

from grpc_health.v1 import health, health_pb2
from sqlalchemy import Engine, text

from registry_server.db import is_in_memory

log = logging.getLogger(__name__)
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# Often enough for a load balancer to stop sending calls within a few seconds of the
# database going away; a probe is one connection and one tiny statement.
PROBE_SECONDS = 5.0
# A database that takes longer than this to answer `SELECT 1` cannot serve calls either.
ANSWER_SECONDS = 3.0


def database_probe(engine: Engine) -> Callable[[], None]:
    """A function that raises when the database cannot be used.

    SQLite: opens the file afresh, read-write and without creating it, and reads its
    schema: a connection held open would go on reading a file that was deleted, moved or
    replaced (its descriptor keeps the old one), and would say nothing of it. PostgreSQL:
    `SELECT 1` on a pooled connection (the pool checks and replaces a broken one)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and not is_in_memory(str(url)):
        path = url.database or ""

        def probe_file() -> None:
            connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=ANSWER_SECONDS)
            try:
                connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                connection.close()

        return probe_file

    def probe_pool() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return probe_pool


class Health:
    """Every service's health status, kept true by a database probe."""

    def __init__(
        self,
        probe: Callable[[], None],
        services: Iterable[str],
        interval: float = PROBE_SECONDS,
        answer_seconds: float = ANSWER_SECONDS,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.servicer = health.aio.HealthServicer()
        self.probe = probe
        self.services = ("", *services)  # "": the server as a whole
        self.interval = interval
        self.answer_seconds = answer_seconds
        self.on_change = on_change  # told True / False when the database comes and goes
        self.database_up: bool | None = None
        self.draining = False
        self._pending: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Probes once (so the first status is already the truth), then every interval."""
        await self._check()
        self._task = asyncio.get_running_loop().create_task(self._probe_forever())

    async def drain(self) -> None:
        """NOT_SERVING for every service from now on, whatever the database says: the
        registry is stopping, and clients should go elsewhere while it finishes."""
        self.draining = True
        await self.stop()
        await self.servicer.enter_graceful_shutdown()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _probe_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self._check()

    async def _check(self) -> None:
        problem = await self._probe_once()
        up = problem is None
        if up == self.database_up:
            return
        if up:
            log.info(
                "the database answers%s: health is SERVING",
                "" if self.database_up is None else " again",
            )
        else:
            log.error(
                "the database cannot be used (%s): health is NOT_SERVING until it answers again",
                problem,
            )
        self.database_up = up
        if self.on_change is not None:
            self.on_change(up)
        for name in self.services:
            await self.servicer.set(name, SERVING if up else NOT_SERVING)

    async def _probe_once(self) -> str | None:
        """None when the database answered, else what went wrong."""
        if self._pending is not None and not self._pending.done():
            return f"the probe before this one has not answered in {self.answer_seconds:g} s"
        self._pending = self._probe_in_thread()
        try:
            # Shielded: on a timeout the probe goes on in its thread, and the next check
            # sees it still pending instead of starting another.
            await asyncio.wait_for(asyncio.shield(self._pending), self.answer_seconds)
        except TimeoutError:
            return f"no answer in {self.answer_seconds:g} s"
        except Exception as error:  # noqa: BLE001 - any failure is "cannot be used"
            return f"{type(error).__name__}: {error}"
        return None

    def _probe_in_thread(self) -> asyncio.Future[None]:
        """The probe's outcome, from a daemon thread: one hung on an unreachable host must
        not hold the process at exit (a thread pool's threads are waited for then)."""
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[None] = loop.create_future()

        def settle(error: BaseException | None) -> None:
            if outcome.done():
                return
            if error is None:
                outcome.set_result(None)
            else:
                outcome.set_exception(error)

        def run() -> None:
            error: BaseException | None = None
            try:
                self.probe()
            except Exception as failure:  # noqa: BLE001 - reported by the event loop
                error = failure
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(settle, error)

        threading.Thread(target=run, name="registry-health", daemon=True).start()
        return outcome
