"""Renewing the registry's and a client's certificates without a restart (SIGHUP), and
refusing new files that cannot serve while the old ones stay in use."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from registry.v1 import directory_pb2 as directory
from registry.v1 import directory_pb2_grpc
from registry_server import cli
from registry_server.pki import create_ca, issue_client, issue_server, serial_text
from registry_server.tls import ServerCertificates, TLSFiles
from sync_agent.client import ClientTLS, open_channel
from tests.conftest import eventually, free_port


@pytest.fixture
def own_pki(tmp_path: Path) -> Path:
    """A CA of this test's own, with files the test replaces."""
    pki = tmp_path / "pki"
    create_ca(pki)
    issue_server(pki, ["127.0.0.1"])
    issue_client(pki, "partner", "ucas")
    return pki


def files(pki: Path) -> TLSFiles:
    return TLSFiles(pki / "registry.pem", pki / "registry-key.pem", pki / "ca.pem")


def serial_in(path: Path) -> int:
    return x509.load_pem_x509_certificate(path.read_bytes()).serial_number


def foreign_key(path: Path) -> None:
    """Overwrite path with a private key that belongs to no certificate."""
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def test_a_key_that_is_not_the_certificates_is_refused_and_the_old_ones_stay(
    own_pki: Path, caplog: pytest.LogCaptureFixture
) -> None:
    certificates = ServerCertificates.from_files(files(own_pki))
    serving = certificates.current
    foreign_key(own_pki / "registry-key.pem")
    with caplog.at_level(logging.INFO, "registry_server.tls"):
        assert not certificates.reload()
    assert certificates.current is serving
    assert certificates._fetch() is None  # the next handshake keeps the old material
    [line] = [r.getMessage() for r in caplog.records if "reload refused" in r.getMessage()]
    assert "is not the key of tls_cert" in line
    assert (
        f"still serving certificate serial {serial_text(serial_in(own_pki / 'registry.pem'))}"
        in line
    )


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda pki: (pki / "registry-key.pem").unlink(), "tls_key"),
        (
            lambda pki: (pki / "registry.pem").write_text("not a certificate"),
            "not a PEM certificate",
        ),
        (lambda pki: (pki / "ca.pem").write_text("not a certificate"), "client_ca"),
        (lambda pki: issue_server(pki, ["127.0.0.1"], days=0), "not now"),
    ],
    ids=["missing key", "not a certificate", "not a CA", "expired"],
)
def test_new_files_that_cannot_serve_are_refused_naming_the_file(
    own_pki: Path, caplog: pytest.LogCaptureFixture, damage: object, named: str
) -> None:
    certificates = ServerCertificates.from_files(files(own_pki))
    damage(own_pki)  # type: ignore[operator]
    with caplog.at_level(logging.INFO, "registry_server.tls"):
        assert not certificates.reload()
    assert any(named in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


def test_a_reloaded_certificate_is_handed_to_grpc_once(own_pki: Path) -> None:
    certificates = ServerCertificates.from_files(files(own_pki))
    issue_server(own_pki, ["127.0.0.1"])
    assert certificates.reload()
    assert certificates._fetch() is not None
    assert certificates._fetch() is None
    assert certificates.current.serving.serial_number == serial_in(own_pki / "registry.pem")


def test_the_registry_does_not_start_with_a_key_that_is_not_its_certificates(
    own_pki: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    foreign_key(own_pki / "registry-key.pem")
    status = cli.main(
        [
            "--database-url",
            f"sqlite:///{tmp_path / 'r.db'}",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            str(own_pki / "registry.pem"),
            "--tls-key",
            str(own_pki / "registry-key.pem"),
            "--client-ca",
            str(own_pki / "ca.pem"),
        ]
    )
    assert status == 1
    [line] = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line]
    assert line["level"] == "critical"
    assert "is not the key of tls_cert" in line["message"]


def served_serial(port: int, pki: Path, client: str = "partner-ucas") -> int:
    """The serial of the certificate the registry presents to a new connection, as the
    client sees it in the handshake."""
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    context.load_cert_chain(pki / f"{client}.pem", pki / f"{client}-key.pem")
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as connection,
    ):
        der = connection.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


class Load:
    """Clients calling the registry without pause: one on a connection kept open, one on a
    new connection for every call, with whatever client certificate `tls` holds now."""

    def __init__(self, address: str, tls: ClientTLS) -> None:
        self.address = address
        self.tls = tls
        self.calls = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._kept), threading.Thread(target=self._new)]

    def _call(self, channel: grpc.Channel) -> None:
        try:
            directory_pb2_grpc.DirectoryServiceStub(channel).ListInstitutions(
                directory.ListInstitutionsRequest(), timeout=30
            )
            self.calls += 1
        except grpc.RpcError as error:
            self.failures.append(f"{error.code()}: {error.details()}")

    def _kept(self) -> None:
        with open_channel(self.address, self.tls) as channel:
            while not self._stop.is_set():
                self._call(channel)

    def _new(self) -> None:
        while not self._stop.is_set():
            tls = self.tls
            credentials = grpc.ssl_channel_credentials(tls.ca, tls.private_key, tls.certificate)
            # A subchannel pool of its own: a connection of its own, never one shared with an
            # earlier channel, so each call has a handshake of its own.
            with grpc.secure_channel(
                self.address, credentials, [("grpc.use_local_subchannel_pool", 1)]
            ) as channel:
                self._call(channel)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def more_calls(self, count: int = 20) -> bool:
        """Wait until count more calls succeeded (False if the registry stopped answering)."""
        target = self.calls + count
        return (
            eventually(lambda: self.calls >= target or bool(self.failures), 60)
            and not self.failures
        )


@pytest.fixture
def tls_registry_process(
    own_pki: Path, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """`registry-server serve` with mutual TLS from own_pki's files; the process, its port
    and its log file."""
    port, port_file, log_path = free_port(), tmp_path / "port", tmp_path / "registry.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "registry_server.cli",
            "--database-url",
            f"sqlite:///{tmp_path / 'registry.db'}",
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
            "--port-file",
            str(port_file),
            "--tls-cert",
            str(own_pki / "registry.pem"),
            "--tls-key",
            str(own_pki / "registry-key.pem"),
            "--client-ca",
            str(own_pki / "ca.pem"),
        ],
        stdout=log,
        stderr=log,
        env={
            **os.environ,
            "REGISTRY_CHECK_WORKERS": "0",
            "REGISTRY_QUERY_WORKERS": "0",
            "REGISTRY_LOG_FORMAT": "text",
        },
    )
    try:
        assert eventually(lambda: port_file.exists() or process.poll() is not None, 60)
        assert process.poll() is None, log_path.read_text()
        yield process, port, log_path
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def test_certificates_are_renewed_under_load_without_a_failed_call(
    own_pki: Path, tls_registry_process: tuple[subprocess.Popen[bytes], int, Path]
) -> None:
    """Clients call without pause while the registry's files are first replaced by a key
    that is not its certificate's (refused, the old certificate stays), then renewed (new
    connections get the new certificate), and a client renews its own certificate: every
    call succeeds."""
    process, port, log_path = tls_registry_process
    client = ClientTLS.from_files(
        own_pki / "ca.pem", own_pki / "partner-ucas.pem", own_pki / "partner-ucas-key.pem"
    )
    first = serial_in(own_pki / "registry.pem")
    assert served_serial(port, own_pki) == first
    with Load(f"127.0.0.1:{port}", client) as load:
        assert load.more_calls(), load.failures

        good_key = own_pki / "registry-key.good"
        shutil.copy(own_pki / "registry-key.pem", good_key)
        foreign_key(own_pki / "registry-key.pem")
        process.send_signal(signal.SIGHUP)
        assert eventually(lambda: "TLS reload refused" in log_path.read_text(), 60)
        assert served_serial(port, own_pki) == first
        assert load.more_calls(), load.failures
        shutil.copy(good_key, own_pki / "registry-key.pem")

        issue_server(own_pki, ["127.0.0.1"])
        renewed = serial_in(own_pki / "registry.pem")
        process.send_signal(signal.SIGHUP)
        assert eventually(lambda: served_serial(port, own_pki) == renewed, 60)
        assert (
            f"new connections get certificate serial {serial_text(renewed)}" in log_path.read_text()
        )
        assert load.more_calls(), load.failures

        issue_client(own_pki, "partner", "ucas")
        load.tls = ClientTLS.from_files(
            own_pki / "ca.pem", own_pki / "partner-ucas.pem", own_pki / "partner-ucas-key.pem"
        )
        assert load.tls != client
        assert load.more_calls(), load.failures
    assert load.failures == []
    assert served_serial(port, own_pki) == renewed
