"""A client in another language, built only from the .proto files and the CA certificate,
queries equivalences over mutual TLS (clients/node)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import grpc
import pytest

from registry.v1 import publication_pb2 as pub
from registry.v1 import publication_pb2_grpc
from sync_agent.client import open_channel
from tests.conftest import Network, RunningRegistry, client_tls
from tests.factories import agreement, batch, micro_credential, module, signed

CLIENT = Path(__file__).resolve().parents[1] / "clients" / "node"


@pytest.fixture(scope="module")
def node_client() -> Path:
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("Node.js and npm are not installed on this machine")
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(CLIENT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"npm ci failed:\n{done.stderr[-2000:]}"
    return CLIENT / "resolve.mjs"


def test_node_client_from_the_proto_files_resolves_over_mutual_tls(
    node_client: Path, network: Network, tls_registry: RunningRegistry, pki: Path
) -> None:
    with open_channel(tls_registry.address, client_tls(pki, "institution-uk.ac.forth")) as ch:
        publication_pb2_grpc.PublicationServiceStub(ch).Publish(
            pub.PublishRequest(
                envelope=signed(
                    batch("uk.ac.forth", [micro_credential()]), network.signers["uk.ac.forth"]
                )
            )
        )
    with open_channel(tls_registry.address, client_tls(pki, "institution-uk.ac.taff")) as ch:
        publication_pb2_grpc.PublicationServiceStub(ch).Publish(
            pub.PublishRequest(
                envelope=signed(
                    batch("uk.ac.taff", [module(), agreement()]), network.signers["uk.ac.taff"]
                )
            )
        )
    done = subprocess.run(
        [
            "node",
            str(node_client),
            tls_registry.address,
            str(pki / "ca.pem"),
            str(pki / "partner-ucas.pem"),
            str(pki / "partner-ucas-key.pem"),
            "uk.ac.taff",
            "uk.ac.forth/MC1",
            "2025-06-01",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    [grant] = answer["grants"]
    assert grant["grant"]["unit_key"] == "CS7DE"
    assert grant["provenance"][0]["agreement_key"] == "AG1"


def test_node_client_without_a_certificate_is_refused(
    node_client: Path, network: Network, tls_registry: RunningRegistry, pki: Path
) -> None:
    rogue = pki / "rogue"
    done = subprocess.run(
        [
            "node",
            str(node_client),
            tls_registry.address,
            str(pki / "ca.pem"),
            str(rogue / "institution-uk.ac.forth.pem"),
            str(rogue / "institution-uk.ac.forth-key.pem"),
            "uk.ac.taff",
            "uk.ac.forth/MC1",
            "2025-06-01",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    unavailable = grpc.StatusCode.UNAVAILABLE.value[0]  # 14: refused at the TLS handshake
    assert f"{unavailable} " in done.stderr, done.stderr
