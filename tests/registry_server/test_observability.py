"""Metrics of the registry, and request ids joining an agent's log lines to the registry's."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import equivalence_pb2_grpc, publication_pb2_grpc
from registry.v1 import publication_pb2 as pub
from tests.conftest import Network, RunningRegistry, free_port
from tests.factories import batch, holding, micro_credential, signed


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_rpcs_ingest_refusals_and_last_sync_are_measured(network: Network,
                                                         registry: RunningRegistry) -> None:
    with grpc.insecure_channel(registry.address) as channel:
        stub = publication_pb2_grpc.PublicationServiceStub(channel)
        envelope = signed(batch("uk.ac.forth", [micro_credential(key="A"),
                                                micro_credential(key="B")]),
                          network.signers["uk.ac.forth"])
        stub.Publish(pub.PublishRequest(envelope=envelope))
        stub.Publish(pub.PublishRequest(envelope=envelope))  # a replay ingests nothing
        with pytest.raises(grpc.RpcError):
            stub.Publish(pub.PublishRequest(envelope=signed(batch(
                "uk.ac.forth", [micro_credential(key="C")], first_seq=9),
                network.signers["uk.ac.forth"])))
        equivalence_pb2_grpc.EquivalenceServiceStub(channel).ResolveTransfer(
            eq.ResolveTransferRequest(holdings=[holding()], target_institution_id="uk.ac.taff"))
    got = samples(generate_latest(registry.metrics.registry).decode())
    publish = "/registry.v1.PublicationService/Publish"
    assert got[("registry_rpc_requests_total", (("code", "OK"), ("method", publish)))] == 2
    assert got[("registry_rpc_requests_total", (("code", "FAILED_PRECONDITION"),
                                                ("method", publish)))] == 1
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
        return subprocess.run([sys.executable, "-m", module, *args], capture_output=True,
                              text=True, timeout=120, **kwargs)  # type: ignore[call-overload]

    cli("sync_agent.cli", "--home", str(home), "init", "--institution-id", "uk.ac.forth",
        "--name", "Forth", "--country", "GB", "--registry", f"127.0.0.1:{port}")
    assert cli("registry_server.cli", "--database-url", url, "institutions", "add", "--id",
               "uk.ac.forth", "--name", "Forth", "--country", "GB", "--public-key",
               str(home / "signing-key.pub")).returncode == 0
    catalogue = tmp_path / "mc.json"
    catalogue.write_text(json.dumps({"micro_credentials": [
        json_format.MessageToDict(micro_credential(key=f"K{i}")) for i in range(3)]}))
    assert cli("sync_agent.cli", "--home", str(home), "import", str(catalogue)).returncode == 0
    log_file = (tmp_path / "registry.log").open("w")
    env = {**os.environ, "REGISTRY_METRICS_LISTEN": f"127.0.0.1:{metrics_port}"}
    registry = subprocess.Popen([sys.executable, "-m", "registry_server.cli", "--database-url",
                                 url, "serve", "--listen", f"127.0.0.1:{port}"],
                                stderr=log_file, stdout=log_file, env=env)
    try:
        deadline = time.monotonic() + 30
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert time.monotonic() < deadline, "registry did not start"
            time.sleep(0.1)
        done = cli("sync_agent.cli", "--home", str(home), "sync")
        assert done.returncode == 0, done.stderr
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics",
                                         timeout=10).read().decode()
    finally:
        registry.terminate()
        registry.wait(30)
        log_file.close()
    agent_lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    ids = {line["request_id"] for line in agent_lines}
    assert len(ids) == 1 and "" not in ids
    registry_lines = [json.loads(line) for line in (tmp_path / "registry.log").read_text()
                      .splitlines() if line.startswith("{")]
    joined = [line for line in registry_lines if line["request_id"] in ids]
    assert any("acknowledged up to seq 3" in line["message"] for line in joined)
    assert 'registry_records_ingested_total{institution="uk.ac.forth"} 3.0' in metrics
    last_sync = json.loads((home / "last-sync.json").read_text())
    assert last_sync["succeeded"] and last_sync["acknowledged_seq"] == 3
    assert last_sync["request_id"] in ids
