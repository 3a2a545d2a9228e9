"""grpc.health.v1 tells the truth: NOT_SERVING while the database cannot be used (and
SERVING again once it can), and NOT_SERVING from the moment a SIGTERM starts the drain."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import generate_latest
from sqlalchemy import Engine, make_url

from registry_server.db import make_engine, upgrade
from registry_server.health import Health
from registry_server.server import SERVICE_NAMES
from tests.conftest import PG_URL, RunningRegistry, free_port

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
PUBLICATION = SERVICE_NAMES[0]


def status(address: str, service: str = "") -> int:
    with grpc.insecure_channel(address) as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)  # its stubs' types name no methods
        answer = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
    return int(answer.status)


def eventually(check: Callable[[], bool], what: str, seconds: float = 30) -> None:
    """Waits until check() holds; fails naming what did not happen (a bound, not a
    measurement: the probe runs every 0.1 s here)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen in {seconds} s"
        time.sleep(0.05)


def database_up(registry: RunningRegistry) -> str:
    text = generate_latest(registry.metrics.registry).decode()
    return next(line for line in text.splitlines() if line.startswith("registry_database_up"))


def test_health_follows_the_sqlite_file_going_and_coming_back(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    registry = RunningRegistry(sqlite_engine, health_interval=0.1)
    try:
        assert status(registry.address) == SERVING
        assert status(registry.address, PUBLICATION) == SERVING
        assert database_up(registry) == "registry_database_up 1.0"
        (tmp_path / "registry.db").rename(tmp_path / "moved.db")
        eventually(lambda: status(registry.address) == NOT_SERVING, "NOT_SERVING")
        assert status(registry.address, PUBLICATION) == NOT_SERVING
        assert database_up(registry) == "registry_database_up 0.0"
        (tmp_path / "moved.db").rename(tmp_path / "registry.db")
        eventually(lambda: status(registry.address) == SERVING, "SERVING again")
        assert status(registry.address, PUBLICATION) == SERVING
        assert database_up(registry) == "registry_database_up 1.0"
    finally:
        registry.stop()


class CuttableProxy:
    """A TCP forwarder on a local port to PostgreSQL, which the test cuts (its port closed,
    every connection through it broken) and opens again on the same port: the database
    unreachable without touching the shared server."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self.sockets: list[socket.socket] = []
        self.listening: socket.socket | None = None

    def open(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        listener.settimeout(0.1)
        self.listening = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self.listening = self.listening, None
        if listener is not None:
            listener.close()
        for connection in self.sockets:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()
        self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self.listening is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def proxy() -> Iterator[CuttableProxy]:
    target = make_url(PG_URL)
    running = CuttableProxy(target.host or "127.0.0.1", target.port or 5432)
    running.open()
    yield running
    running.cut()


@pytest.mark.postgres
def test_health_follows_postgres_going_and_coming_back(
    pg_schema: str, proxy: CuttableProxy
) -> None:
    url = (
        make_url(PG_URL)
        .set(host="127.0.0.1", port=proxy.port)
        .update_query_dict({"options": f"-csearch_path={pg_schema}"})
    )
    engine = make_engine(url.render_as_string(hide_password=False))
    upgrade(engine)
    registry = RunningRegistry(engine, health_interval=0.1)
    try:
        assert status(registry.address) == SERVING
        proxy.cut()
        eventually(lambda: status(registry.address) == NOT_SERVING, "NOT_SERVING")
        assert status(registry.address, PUBLICATION) == NOT_SERVING
        assert database_up(registry) == "registry_database_up 0.0"
        proxy.open()
        eventually(lambda: status(registry.address) == SERVING, "SERVING again")
        assert database_up(registry) == "registry_database_up 1.0"
    finally:
        registry.stop()
        engine.dispose()


def test_a_sigtermed_registry_answers_not_serving_while_it_drains(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    port_file, log_file = tmp_path / "port", tmp_path / "registry.log"
    env = {
        **os.environ,
        "REGISTRY_DRAIN_SECONDS": "120",
        "REGISTRY_CHECK_WORKERS": "0",
        "REGISTRY_QUERY_WORKERS": "0",
    }
    with log_file.open("w") as log:
        registry = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "registry_server.cli",
                "--database-url",
                url,
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--port-file",
                str(port_file),
            ],
            stdout=log,
            stderr=log,
            env=env,
        )
    try:
        eventually(lambda: port_file.exists() or registry.poll() is not None, "start", 60)
        address = f"127.0.0.1:{port_file.read_text()}"
        assert status(address) == SERVING
        registry.send_signal(signal.SIGTERM)
        eventually(lambda: status(address) == NOT_SERVING, "NOT_SERVING after SIGTERM")
        assert status(address, PUBLICATION) == NOT_SERVING
        assert registry.poll() is None, "the registry stopped instead of draining"
        registry.send_signal(signal.SIGTERM)  # a second signal ends the drain
        assert registry.wait(60) == 0
    finally:
        if registry.poll() is None:
            registry.kill()
            registry.wait()
    messages = [json.loads(line)["message"] for line in log_file.read_text().splitlines()]
    assert any("NOT_SERVING; draining for 120 s" in message for message in messages)
    assert any("finishing calls in flight" in message for message in messages)


async def test_a_hung_probe_counts_as_down_and_no_second_one_starts() -> None:
    release, probes = threading.Event(), []

    def hanging_probe() -> None:
        probes.append(threading.current_thread().name)
        release.wait(60)

    health = Health(hanging_probe, SERVICE_NAMES, interval=0.05, answer_seconds=0.2)

    async def current() -> int:
        no_context: Any = None  # Check uses its context only for an unknown service
        answer = await health.servicer.Check(health_pb2.HealthCheckRequest(), no_context)
        return int(answer.status)

    await health.start()
    try:
        assert await current() == NOT_SERVING
        for _ in range(20):  # twenty more checks while the first probe hangs
            await asyncio.sleep(0.05)
        assert len(probes) == 1
        assert await current() == NOT_SERVING
        release.set()
        deadline = time.monotonic() + 30
        while await current() != SERVING:
            assert time.monotonic() < deadline, "SERVING did not come back"
            await asyncio.sleep(0.05)
    finally:
        release.set()
        await health.stop()
