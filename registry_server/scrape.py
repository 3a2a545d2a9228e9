"""Metrics read when Prometheus scrapes, not counted as calls happen: what the database holds
(its size, the log's length, each institution's last publication), the registry's own
certificates, its worker processes.

They run in the metrics server's thread, never on the event loop. The database is read at
most once every CACHE_SECONDS, however many scrapers ask (two Prometheus servers, a person
with curl): a scrape then costs the database nothing. Every registry process on the database
reports the same figures, so any of them can be scraped.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, func, select, text

from registry.v1 import directory_pb2 as directory
from registry_server.db import is_in_memory
from registry_server.sql import table
from registry_server.tables import Checkpoint, Institution, LogState
from registry_server.workers import WorkerPool

log = logging.getLogger(__name__)
CACHE_SECONDS = 15.0  # Prometheus's usual scrape interval; lag is still computed per scrape


def _utc(moment: dt.datetime) -> float:
    if moment.tzinfo is None:  # SQLite keeps no zone; the registry writes UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


@dataclass(frozen=True)
class DatabaseFigures:
    """What one read of the database found (times as Unix seconds)."""

    size_bytes: float
    log_entries: int
    # institution → (last sequence number held, when its last batch was accepted)
    checkpoints: dict[str, tuple[int, float]] = field(default_factory=dict)
    # active institution → since when it has been expected to publish: its last accepted
    # batch, or its enrolment if it never published
    expected_since: dict[str, float] = field(default_factory=dict)


def database_size(connection: Connection) -> float:
    """Bytes the database takes: PostgreSQL's own count, or SQLite's file and its
    write-ahead log (0 for an in-memory database)."""
    if connection.dialect.name == "postgresql":
        return float(
            connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        )
    path = connection.engine.url.database or ""
    if is_in_memory(str(connection.engine.url)):
        return 0.0
    return float(sum(os.path.getsize(p) for p in (path, f"{path}-wal") if os.path.exists(p)))


def read_figures(engine: Engine) -> DatabaseFigures:
    c, i, state = table(Checkpoint), table(Institution), table(LogState)
    with engine.connect() as connection:
        checkpoints = {
            institution: (int(seq), _utc(updated))
            for institution, seq, updated in connection.execute(
                select(c.c.institution_id, c.c.last_seq, c.c.updated_at)
            )
        }
        expected = {
            institution: _utc(since)
            for institution, since in connection.execute(
                select(i.c.institution_id, func.coalesce(c.c.updated_at, i.c.created_at))
                .select_from(i.outerjoin(c, c.c.institution_id == i.c.institution_id))
                .where(i.c.status == directory.INSTITUTION_STATUS_ACTIVE)
            )
        }
        entries = connection.execute(select(state.c.last_index)).scalar() or 0
        return DatabaseFigures(database_size(connection), int(entries), checkpoints, expected)


class DatabaseCollector(Collector):
    """The database's figures, read at most every cache_seconds."""

    def __init__(self, engine: Engine, cache_seconds: float = CACHE_SECONDS) -> None:
        self.engine = engine
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()  # one read at a time; the others use its figures
        self._figures: DatabaseFigures | None = None
        self._read_at = float("-inf")

    def figures(self) -> DatabaseFigures | None:
        with self._lock:
            if time.monotonic() - self._read_at >= self.cache_seconds:
                self._read_at = time.monotonic()
                try:
                    self._figures = read_figures(self.engine)
                except Exception as error:  # noqa: BLE001 - a scrape must not fail whole
                    # The health probe says the database is down; the other metrics still
                    # go out, and these are absent rather than stale.
                    log.warning(
                        "metrics: cannot read the database (%s: %s)", type(error).__name__, error
                    )
                    self._figures = None
            return self._figures

    def collect(self) -> Iterator[GaugeMetricFamily]:
        figures = self.figures()
        if figures is None:
            return
        now = time.time()
        yield GaugeMetricFamily(
            "registry_database_size_bytes",
            "Bytes the database takes (SQLite: the file and its write-ahead log)",
            value=figures.size_bytes,
        )
        yield GaugeMetricFamily(
            "registry_log_entries",
            "Entries in the append-only log of accepted batches (the index of its head)",
            value=figures.log_entries,
        )
        last_seq = GaugeMetricFamily(
            "registry_institution_last_seq",
            "The last sequence number of the institution's change log that the registry holds",
            labels=["institution"],
        )
        last_sync = GaugeMetricFamily(
            "registry_last_sync_timestamp_seconds",
            "When the institution's last batch was accepted (Unix time)",
            labels=["institution"],
        )
        for institution, (seq, accepted) in sorted(figures.checkpoints.items()):
            last_seq.add_metric([institution], seq)
            last_sync.add_metric([institution], accepted)
        lag = GaugeMetricFamily(
            "registry_sync_lag_seconds",
            "Seconds since the active "
            "institution's last accepted batch (since its enrolment if "
            "it never published)",
            labels=["institution"],
        )
        for institution, since in sorted(figures.expected_since.items()):
            lag.add_metric([institution], max(0.0, now - since))
        yield from (last_seq, last_sync, lag)


def earliest_expiry(pem: bytes) -> float:
    """When the first of the certificates in pem expires (Unix time)."""
    return min(
        certificate.not_valid_after_utc.timestamp()
        for certificate in x509.load_pem_x509_certificates(pem)
    )


class CertificateCollector(Collector):
    """Seconds until the certificates the registry serves with expire: those in use now
    (certificates() gives them, name → PEM; a renewed file counts once the registry has
    reloaded it, on SIGHUP), so this is what clients see. A file with several certificates
    (a chain, a CA bundle) counts its first to expire."""

    def __init__(self, certificates: Callable[[], dict[str, bytes]]) -> None:
        self.certificates = certificates
        self._read: dict[str, tuple[bytes, float]] = {}  # name → (PEM, expiry), parsed once

    @property
    def expiries(self) -> dict[str, float]:
        for name, pem in self.certificates().items():
            if name not in self._read or self._read[name][0] != pem:
                self._read[name] = (pem, earliest_expiry(pem))
        return {name: expiry for name, (_, expiry) in self._read.items()}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "registry_certificate_expiry_seconds",
            "Seconds until the certificate expires (negative: expired)",
            labels=["certificate"],
        )
        now = time.time()
        for name, expiry in sorted(self.expiries.items()):
            family.add_metric([name], expiry - now)
        yield family


class WorkerCollector(Collector):
    """Worker processes configured and alive, by pool. One that died is replaced when the
    next piece of work comes for it, so alive below configured between the two is normal;
    for long, it means replacements keep failing (see the log)."""

    def __init__(self, pools: Iterable[WorkerPool]) -> None:
        self.pools: Sequence[WorkerPool] = tuple(pools)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        configured = GaugeMetricFamily(
            "registry_workers", "Worker processes the pool runs", labels=["worker"]
        )
        alive = GaugeMetricFamily(
            "registry_workers_alive",
            "Worker processes of the pool that are running",
            labels=["worker"],
        )
        for pool in self.pools:
            workers = list(pool.workers)  # the event loop may replace one meanwhile
            configured.add_metric([pool.WHAT], len(workers))
            alive.add_metric([pool.WHAT], sum(worker.alive for worker in workers))
        yield from (configured, alive)
