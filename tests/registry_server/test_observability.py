"""Metrics of the registry, and request ids joining an agent's log lines to the registry's."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, event

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import equivalence_pb2_grpc, publication_pb2_grpc
from registry.v1 import publication_pb2 as pub
from registry.v1.directory_pb2 import INSTITUTION_STATUS_SUSPENDED
from registry_core.logs import REQUEST_ID_HEADER
from registry_server import directory
from registry_server.db import make_engine, upgrade
from registry_server.scrape import DatabaseCollector
from tests.conftest import Network, RunningRegistry, free_port
from tests.factories import batch, holding, micro_credential, signed


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_rpcs_ingest_refusals_and_last_sync_are_measured(
    network: Network, registry: RunningRegistry
) -> None:
    with grpc.insecure_channel(registry.address) as channel:
        stub = publication_pb2_grpc.PublicationServiceStub(channel)
        envelope = signed(
            batch("uk.ac.forth", [micro_credential(key="A"), micro_credential(key="B")]),
            network.signers["uk.ac.forth"],
        )
        stub.Publish(pub.PublishRequest(envelope=envelope))
        stub.Publish(pub.PublishRequest(envelope=envelope))  # a replay ingests nothing
        with pytest.raises(grpc.RpcError):
            stub.Publish(
                pub.PublishRequest(
                    envelope=signed(
                        batch("uk.ac.forth", [micro_credential(key="C")], first_seq=9),
                        network.signers["uk.ac.forth"],
                    )
                )
            )
        equivalence_pb2_grpc.EquivalenceServiceStub(channel).ResolveTransfer(
            eq.ResolveTransferRequest(holdings=[holding()], target_institution_id="uk.ac.taff")
        )
    got = samples(generate_latest(registry.metrics.registry).decode())
    publish = "/registry.v1.PublicationService/Publish"
    assert got[("registry_rpc_requests_total", (("code", "OK"), ("method", publish)))] == 2
    assert (
        got[("registry_rpc_requests_total", (("code", "FAILED_PRECONDITION"), ("method", publish)))]
        == 1
    )
    assert got[("registry_batches_refused_total", (("reason", "SequenceGap"),))] == 1
    assert got[("registry_records_ingested_total", (("institution", "uk.ac.forth"),))] == 2
    assert got[("registry_rpc_duration_seconds_count", (("method", publish),))] == 3
    last = got[("registry_last_sync_timestamp_seconds", (("institution", "uk.ac.forth"),))]
    assert abs(last - time.time()) < 120


def test_one_request_id_on_the_agents_and_the_registrys_lines(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    home = tmp_path / "agent"
    port, metrics_port = free_port(), free_port()

    def cli(module: str, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", module, *args],
            capture_output=True,
            text=True,
            timeout=120,
            **kwargs,
        )  # type: ignore[call-overload]

    cli(
        "sync_agent.cli",
        "--home",
        str(home),
        "init",
        "--institution-id",
        "uk.ac.forth",
        "--name",
        "Forth",
        "--country",
        "GB",
        "--registry",
        f"127.0.0.1:{port}",
    )
    assert (
        cli(
            "registry_server.cli",
            "--database-url",
            url,
            "institutions",
            "add",
            "--id",
            "uk.ac.forth",
            "--name",
            "Forth",
            "--country",
            "GB",
            "--public-key",
            str(home / "signing-key.pub"),
        ).returncode
        == 0
    )
    catalogue = tmp_path / "mc.json"
    catalogue.write_text(
        json.dumps(
            {
                "micro_credentials": [
                    json_format.MessageToDict(micro_credential(key=f"K{i}")) for i in range(3)
                ]
            }
        )
    )
    assert cli("sync_agent.cli", "--home", str(home), "import", str(catalogue)).returncode == 0
    log_file = (tmp_path / "registry.log").open("w")
    env = {**os.environ, "REGISTRY_METRICS_LISTEN": f"127.0.0.1:{metrics_port}"}
    registry = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "registry_server.cli",
            "--database-url",
            url,
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
        ],
        stderr=log_file,
        stdout=log_file,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert time.monotonic() < deadline, "registry did not start"
            time.sleep(0.1)
        done = cli("sync_agent.cli", "--home", str(home), "sync")
        assert done.returncode == 0, done.stderr
        metrics = (
            urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
            .read()
            .decode()
        )
    finally:
        registry.terminate()
        registry.wait(30)
        log_file.close()
    agent_lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    ids = {line["request_id"] for line in agent_lines}
    assert len(ids) == 1 and "" not in ids
    registry_lines = [
        json.loads(line)
        for line in (tmp_path / "registry.log").read_text().splitlines()
        if line.startswith("{")
    ]
    joined = [line for line in registry_lines if line["request_id"] in ids]
    assert any("acknowledged up to seq 3" in line["message"] for line in joined)
    assert 'registry_records_ingested_total{institution="uk.ac.forth"} 3.0' in metrics
    last_sync = json.loads((home / "last-sync.json").read_text())
    assert last_sync["succeeded"] and last_sync["acknowledged_seq"] == 3
    assert last_sync["request_id"] in ids


def test_sync_lag_counts_active_institutions_from_their_last_batch_or_enrolment(
    network: Network, registry: RunningRegistry
) -> None:
    with grpc.insecure_channel(registry.address) as channel:
        publication_pb2_grpc.PublicationServiceStub(channel).Publish(
            pub.PublishRequest(
                envelope=signed(
                    batch("uk.ac.forth", [micro_credential(key="A")]),
                    network.signers["uk.ac.forth"],
                )
            )
        )
    directory.set_status(network.engine, "uk.ac.lagan", INSTITUTION_STATUS_SUSPENDED, "test")
    got = samples(generate_latest(registry.metrics.registry).decode())
    lag = {
        dict(labels)["institution"]: value
        for (name, labels), value in got.items()
        if name == "registry_sync_lag_seconds"
    }
    assert set(lag) == {"uk.ac.forth", "uk.ac.taff"}  # lagan is suspended: nothing expected
    assert all(0 <= seconds < 3600 for seconds in lag.values())
    assert got[("registry_institution_last_seq", (("institution", "uk.ac.forth"),))] == 1
    assert got[("registry_log_entries", ())] == 1
    assert got[("registry_database_size_bytes", ())] > 0
    assert got[("registry_database_up", ())] == 1


def test_scrapes_within_the_cache_time_read_the_database_once(sqlite_engine: Engine) -> None:
    statements: list[str] = []
    event.listen(
        sqlite_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement),
    )
    collector = DatabaseCollector(sqlite_engine, cache_seconds=3600)
    first = [family.samples for family in collector.collect()]
    read = len(statements)
    assert read > 0
    assert [family.samples for family in collector.collect()] == first
    assert len(statements) == read


def test_certificate_expiry_and_worker_liveness_are_reported(
    tls_registry: RunningRegistry, pki: Path
) -> None:
    got = samples(generate_latest(tls_registry.metrics.registry).decode())
    for name, file in (("registry", "registry.pem"), ("client_ca", "ca.pem")):
        expires = x509.load_pem_x509_certificate((pki / file).read_bytes()).not_valid_after_utc
        left = got[("registry_certificate_expiry_seconds", (("certificate", name),))]
        assert abs(left - (expires.timestamp() - time.time())) < 600
    checks = (("worker", "record-check worker"),)
    assert got[("registry_workers", checks)] == 1
    assert got[("registry_workers_alive", checks)] == 1
    tls_registry.record_checks.workers[0].process.kill()
    deadline = time.monotonic() + 30
    while (
        samples(generate_latest(tls_registry.metrics.registry).decode())[
            ("registry_workers_alive", checks)
        ]
        != 0
    ):
        assert time.monotonic() < deadline, "the killed worker is still counted alive"
        time.sleep(0.05)


@dataclass
class ServedLog:
    """What a real registry process wrote to stderr and served at /metrics while it took
    an accepted, a refused and an invalid publication and a health check."""

    lines: list[str]
    metrics: str
    request_ids: dict[str, str]  # what each call was → the x-request-id it was sent with


@pytest.fixture(scope="module")
def served_log(tmp_path_factory: pytest.TempPathFactory) -> ServedLog:
    tmp = tmp_path_factory.mktemp("served")
    url = f"sqlite:///{tmp / 'registry.db'}"
    engine = make_engine(url)
    upgrade(engine)
    signer = Network(engine).enrol("uk.ac.forth")
    engine.dispose()
    port, metrics_port = free_port(), free_port()
    log_file = tmp / "registry.log"
    # GRPC_VERBOSITY=info: gRPC's C core then writes to stderr itself (a line saying INFO
    # is not for production), which must come out as JSON too.
    env = {
        **os.environ,
        "REGISTRY_METRICS_LISTEN": f"127.0.0.1:{metrics_port}",
        "GRPC_VERBOSITY": "info",
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
                f"127.0.0.1:{port}",
            ],
            stderr=log,
            stdout=log,
            env=env,
        )
    ids = {call: f"{call}-{os.getpid()}" for call in ("accepted", "gap", "empty", "health")}
    try:
        deadline = time.monotonic() + 60
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert registry.poll() is None and time.monotonic() < deadline, "no registry"
            time.sleep(0.1)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = publication_pb2_grpc.PublicationServiceStub(channel)

            def publish(call: str, request: pub.PublishRequest) -> None:
                stub.Publish(request, metadata=((REQUEST_ID_HEADER, ids[call]),), timeout=30)

            publish(
                "accepted",
                pub.PublishRequest(
                    envelope=signed(
                        batch(
                            "uk.ac.forth", [micro_credential(key="A"), micro_credential(key="B")]
                        ),
                        signer,
                    )
                ),
            )
            for call, request in (
                (
                    "gap",
                    pub.PublishRequest(
                        envelope=signed(
                            batch("uk.ac.forth", [micro_credential(key="C")], first_seq=9), signer
                        )
                    ),
                ),
                ("empty", pub.PublishRequest()),
            ):
                with pytest.raises(grpc.RpcError):
                    publish(call, request)
            health: Any = health_pb2_grpc.HealthStub(channel)  # its types name no methods
            health.Check(
                health_pb2.HealthCheckRequest(), metadata=((REQUEST_ID_HEADER, ids["health"]),)
            )
        metrics = (
            urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=30)
            .read()
            .decode()
        )
    finally:
        registry.terminate()
        registry.wait(60)
    return ServedLog(log_file.read_text().splitlines(), metrics, ids)


def test_every_line_the_registry_writes_to_stderr_is_json(served_log: ServedLog) -> None:
    lines = [json.loads(line) for line in served_log.lines]  # fails on any other line
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    core = [line for line in lines if line["logger"] == "grpc.core"]
    assert core, "no line of gRPC's C core was captured (GRPC_VERBOSITY=info)"
    assert all(line["origin"] for line in core)


def test_each_call_has_one_access_line_with_caller_code_duration_and_request_id(
    served_log: ServedLog,
) -> None:
    lines = [json.loads(line) for line in served_log.lines]
    access = [line for line in lines if line["logger"] == "registry_server.access"]
    expected = {
        "accepted": ("/registry.v1.PublicationService/Publish", "OK"),
        "gap": ("/registry.v1.PublicationService/Publish", "FAILED_PRECONDITION"),
        "empty": ("/registry.v1.PublicationService/Publish", "INVALID_ARGUMENT"),
        "health": ("/grpc.health.v1.Health/Check", "OK"),
    }
    for call, (method, code) in expected.items():
        found = [line for line in access if line["request_id"] == served_log.request_ids[call]]
        assert len(found) == 1, f"{call}: {found}"
        assert (found[0]["method"], found[0]["code"]) == (method, code)
        assert found[0]["caller"] == "development"  # plaintext: no certificate to name one
        assert found[0]["duration_ms"] >= 0 and found[0]["peer"].startswith("ipv4:127.0.0.1")


def test_refused_publications_are_logged_with_their_reason(served_log: ServedLog) -> None:
    lines = [json.loads(line) for line in served_log.lines]
    refused = {
        line["request_id"]: line for line in lines if line["logger"] == "registry_server.refusals"
    }
    assert set(refused) == {served_log.request_ids["gap"], served_log.request_ids["empty"]}
    gap = refused[served_log.request_ids["gap"]]
    assert gap["level"] == "warning" and gap["reason"] == "SequenceGap"
    assert gap["message"].startswith("publication refused (SequenceGap): ")
    assert "seq" in gap["message"]  # the refusal's own message, naming the sequence
    assert "envelope" in refused[served_log.request_ids["empty"]]["message"]


def test_the_served_metrics_pass_promtool(served_log: ServedLog, tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian: apt-get install prometheus)")
    done = subprocess.run(
        [promtool, "check", "metrics"],
        input=served_log.metrics,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    got = samples(served_log.metrics)
    assert got[("registry_log_entries", ())] == 1
    assert ("registry_sync_lag_seconds", (("institution", "uk.ac.forth"),)) in got
    assert got[("registry_workers_alive", (("worker", "record-check worker"),))] >= 0
