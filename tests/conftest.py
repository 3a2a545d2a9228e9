"""Shared fixtures: databases (SQLite and the real PostgreSQL), signers, an in-process
registry on a real loopback port."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, make_url, text

from registry_core.envelope import Ed25519Signer
from registry_server import directory, service
from registry_server import server as registry_server
from registry_server.applying import ApplyWorker
from registry_server.db import make_engine, upgrade
from registry_server.fairness import Admission
from registry_server.health import PROBE_SECONDS, Health, database_probe
from registry_server.observability import Metrics
from registry_server.pki import create_ca, issue_client, issue_server
from registry_server.queries import QueryWorkers
from registry_server.record_checks import RecordChecks
from registry_server.tls import ServerCertificates, TLSFiles
from registry_server.volume import VolumeRule
from sync_agent.client import ClientTLS

# No timing assertion in the suite, Hypothesis's included: its default deadline (200 ms an
# example) and its too-slow health check fail a test when a shared machine stalls, not when
# the code is wrong. Tests that set their own settings keep these.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

PG_URL = os.environ.get(
    "CREDIT_REGISTRY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FIXTURES = Path(__file__).resolve().parent / "fixtures"
STANDARDS = FIXTURES / "standards"  # see its README
T = TypeVar("T")


def _postgres_unreachable() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable here"
        return f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}: {exc}"[:300]
    return None


_PG_PROBLEM: str | None | bool = False


def postgres_problem() -> str | None:
    global _PG_PROBLEM
    if _PG_PROBLEM is False:
        _PG_PROBLEM = _postgres_unreachable()
    return _PG_PROBLEM  # type: ignore[return-value]


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema of the real PostgreSQL (its name), dropped afterwards; skipped with the
    reason when no server is reachable."""
    problem = postgres_problem()
    if problem:
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield schema
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@contextmanager
def fresh_pg_database(purpose: str) -> Iterator[str]:
    """A new, uniquely named database on the test PostgreSQL server (its URL), dropped after;
    for what needs a whole database (pg_dump, several registries); skipped with the reason
    when no server is reachable."""
    problem = postgres_problem()
    if problem:
        pytest.skip(problem)
    name = f"registry_{purpose}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_engine(pg_schema: str) -> Iterator[Engine]:
    """An engine on a fresh schema of the real PostgreSQL, migrated to head."""
    # The schema in the URL itself, so that a query worker opening the same URL sees it too.
    joiner = "&" if "?" in PG_URL else "?"
    engine = make_engine(f"{PG_URL}{joiner}options=-csearch_path%3D{pg_schema}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The registry's database: each test runs on SQLite and on the real PostgreSQL."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    return request.getfixturevalue(name)


class Network:
    """A few enrolled institutions with their signers."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.signers: dict[str, Ed25519Signer] = {}

    def enrol(self, institution_id: str, name: str | None = None) -> Ed25519Signer:
        signer = Ed25519Signer.generate()
        directory.enrol(
            self.engine, institution_id, name or institution_id, "GB", signer.public_key
        )
        self.signers[institution_id] = signer
        return signer


@pytest.fixture
def network(engine: Engine) -> Network:
    net = Network(engine)
    for institution in ("uk.ac.forth", "uk.ac.taff", "uk.ac.lagan"):
        net.enrol(institution)
    return net


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The network's CA with the registry's, three institutions', two partners' and an
    operator's certificates, and a rogue CA's institution certificate."""
    directory = tmp_path_factory.mktemp("pki")
    create_ca(directory)
    issue_server(directory, ["127.0.0.1", "localhost"])
    for institution in ("uk.ac.forth", "uk.ac.taff", "uk.ac.lagan"):
        issue_client(directory, "institution", institution)
    issue_client(directory, "partner", "ucas")
    issue_client(directory, "partner", "hesa")
    issue_client(directory, "operator", "alice")
    rogue = directory / "rogue"
    create_ca(rogue, "Rogue CA")
    issue_client(rogue, "institution", "uk.ac.forth")
    return directory


def client_tls(pki: Path, stem: str | None, ca_dir: Path | None = None) -> ClientTLS:
    """TLS material for a client holding <stem>.pem (signed by ca_dir's CA, default pki)."""
    issuer = ca_dir or pki
    if stem is None:
        return ClientTLS((pki / "ca.pem").read_bytes(), b"", b"")
    return ClientTLS.from_files(pki / "ca.pem", issuer / f"{stem}.pem", issuer / f"{stem}-key.pem")


def eventually(condition: Callable[[], bool], seconds: float = 30) -> bool:
    """Whether condition holds within seconds (polled): for waiting on another thread or
    process, never for judging speed."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class RunningRegistry:
    """A registry served by grpc.aio on 127.0.0.1 in a background event loop."""

    def __init__(
        self,
        engine: Engine,
        tls: ServerCertificates | None = None,
        database_on_loop: bool = False,
        check_workers: int = 0,
        query_workers: int = 0,
        volume: VolumeRule = VolumeRule(),
        health_interval: float = PROBE_SECONDS,
        apply_worker: bool = False,
    ) -> None:
        self.engine = engine
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.metrics = Metrics(engine)
        self.record_checks = self._run(RecordChecks.start(check_workers))
        url = engine.url.render_as_string(hide_password=False)
        self.query_workers = self._run(QueryWorkers.for_database(query_workers, url))
        self.apply_worker = self._run(ApplyWorker.for_database(apply_worker, url, volume))
        self.health = Health(
            database_probe(engine), registry_server.SERVICE_NAMES, interval=health_interval
        )
        self.admission = Admission(len(self.query_workers.workers))
        self.server, self.port = self._run(
            registry_server.build(
                engine,
                "127.0.0.1:0",
                tls,
                self.metrics,
                database_on_loop,
                self.record_checks,
                self.query_workers,
                volume,
                self.health,
                self.admission,
                self.apply_worker,
            )
        )
        self.address = f"127.0.0.1:{self.port}"

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(30)

    def stop(self) -> None:
        self._run(self.server.stop(None))
        self._run(self.health.stop())
        self._run(self.record_checks.close())
        self._run(self.query_workers.close())
        self._run(self.apply_worker.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def registry(network: Network) -> Iterator[RunningRegistry]:
    running = RunningRegistry(network.engine)
    yield running
    running.stop()


def not_in_process(*_args: object) -> bytes:
    raise AssertionError("a question was answered in the registry's process, not a worker")


@pytest.fixture(
    params=[
        "database calls in threads",
        "database calls on the event loop",
        "questions in a query worker",
    ]
)
def registry_either_way(
    request: pytest.FixtureRequest, network: Network, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningRegistry]:
    """The registry over gRPC, each way it can run its database calls
    (service.DatabaseCalls) and with partners' questions answered by a query worker; there,
    a question answered in the registry's own process fails the test."""
    workers = 1 if "worker" in request.param else 0
    if workers:
        monkeypatch.setattr(service, "answer", not_in_process)
    running = RunningRegistry(
        network.engine, database_on_loop="loop" in request.param, query_workers=workers
    )
    yield running
    running.stop()


@pytest.fixture
def tls_registry(network: Network, pki: Path) -> Iterator[RunningRegistry]:
    """The registry with mutual TLS and a record-check worker, as a network runs it.
    (Questions are answered in process here: where they are answered is tested with
    registry_either_way, and authorisation happens before either.)"""
    running = RunningRegistry(
        network.engine,
        ServerCertificates.from_files(
            TLSFiles(pki / "registry.pem", pki / "registry-key.pem", pki / "ca.pem")
        ),
        check_workers=1,
    )
    yield running
    running.stop()


@pytest.fixture
def channel(registry_either_way: RunningRegistry) -> Iterator[grpc.Channel]:
    """A channel to the registry; the tests using it run with database calls in threads and
    on the event loop."""
    with grpc.insecure_channel(registry_either_way.address) as ch:
        yield ch


def registry_state(engine: Engine) -> tuple[object, ...]:
    """Everything a refused request must leave untouched: records, index, log, checkpoints,
    directory."""
    from sqlalchemy import select
    from sqlmodel import SQLModel

    with engine.connect() as connection:
        return tuple(
            tuple(connection.execute(select(t).order_by(*t.primary_key.columns)).all())
            for name, t in sorted(SQLModel.metadata.tables.items())
        )


def free_port() -> int:
    """A port nothing listens on now, for a process that must be restarted on the same one."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
