"""Revoked client certificates: refused on every call, by every registry on the database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509

from registry.v1 import admin_pb2 as admin
from registry.v1 import admin_pb2_grpc, directory_pb2_grpc
from registry.v1 import directory_pb2 as directory
from registry_core.errors import InvalidRecord
from registry_server import cli, revocation
from registry_server.pki import serial_text
from sync_agent.client import open_channel
from tests.conftest import Network, RunningRegistry, client_tls, eventually
from tests.serving import served_registry, tls_arguments


def serial_of(pki: Path, stem: str) -> int:
    return x509.load_pem_x509_certificate((pki / f"{stem}.pem").read_bytes()).serial_number


def code_of_a_call(address: str, pki: Path, stem: str) -> grpc.StatusCode:
    """The status of one directory call made with stem's certificate, on a new connection."""
    with open_channel(address, client_tls(pki, stem)) as channel:
        try:
            directory_pb2_grpc.DirectoryServiceStub(channel).ListInstitutions(
                directory.ListInstitutionsRequest(), timeout=10
            )
        except grpc.RpcError as error:
            return error.code()
    return grpc.StatusCode.OK


def revoke_over_grpc(address: str, pki: Path, serial: str) -> admin.RevokedCertificate:
    with open_channel(address, client_tls(pki, "operator-alice")) as channel:
        return (
            admin_pb2_grpc.AdminServiceStub(channel)
            .RevokeCertificate(
                admin.RevokeCertificateRequest(serial=serial, reason="left on a train"), timeout=10
            )
            .revoked
        )


@pytest.mark.parametrize(
    ("text", "serial"),
    [
        ("serial=3A5F", 0x3A5F),  # openssl x509 -noout -serial
        ("3a:5f", 0x3A5F),  # openssl x509 -text
        ("0x3A5F", 0x3A5F),
        ("3A5F", 0x3A5F),  # hexadecimal with a letter in it
        ("serial=1234", 0x1234),  # openssl's hexadecimal, digits only
        ("14943", 14943),  # decimal
        (" 14943\n", 14943),
    ],
)
def test_a_serial_is_read_as_openssl_prints_it_or_in_decimal(text: str, serial: int) -> None:
    assert revocation.parse_serial(text) == serial


@pytest.mark.parametrize("text", ["", "serial=", "0", "ucas", "3A5G", "-12"])
def test_a_serial_that_is_no_serial_is_refused_naming_the_fix(text: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        revocation.parse_serial(text)
    assert "openssl x509 -noout -serial" in str(caught.value)
    assert "--certificate" in str(caught.value)


def test_serials_are_written_as_openssl_writes_them() -> None:
    assert [serial_text(s) for s in (0x3A5F, 0xA5F, 0xFF, 1)] == ["3A5F", "0A5F", "FF", "01"]


def test_a_revoked_partner_is_refused_and_another_partner_is_not(
    network: Network, tls_registry: RunningRegistry, pki: Path
) -> None:
    address = tls_registry.address
    assert code_of_a_call(address, pki, "partner-ucas") == grpc.StatusCode.OK
    serial = serial_of(pki, "partner-ucas")
    revoked = revoke_over_grpc(address, pki, f"serial={serial_text(serial)}")
    assert (revoked.serial, revoked.actor) == (serial_text(serial), "operator alice")

    with open_channel(address, client_tls(pki, "partner-ucas")) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            directory_pb2_grpc.DirectoryServiceStub(channel).ListInstitutions(
                directory.ListInstitutionsRequest(), timeout=10
            )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    details = caught.value.details() or ""
    assert f"serial {serial_text(serial)}" in details and "revoked" in details, details
    assert "new one" in details, details
    assert code_of_a_call(address, pki, "partner-hesa") == grpc.StatusCode.OK

    with pytest.raises(grpc.RpcError) as again:
        revoke_over_grpc(address, pki, str(serial))  # the same, in decimal
    assert again.value.code() == grpc.StatusCode.ALREADY_EXISTS
    listed, _ = revocation.list_revoked(network.engine)
    assert [(r.serial, r.reason) for r in listed] == [(serial_text(serial), "left on a train")]


def test_the_command_line_revokes_a_certificate_by_its_file_and_lists_it(
    tmp_path: Path, pki: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    serial = serial_of(pki, "partner-ucas")
    assert (
        cli.main(
            [
                "--database-url",
                url,
                "certificates",
                "revoke",
                "--certificate",
                str(pki / "partner-ucas.pem"),
                "--reason",
                "leaked",
            ]
        )
        == 0
    )
    said = capsys.readouterr().out
    assert f"serial={serial_text(serial)} (decimal {serial})" in said
    assert "urn:credit-registry:partner:ucas" in said
    assert (
        cli.main(
            [
                "--database-url",
                url,
                "certificates",
                "revoke",
                f"serial={serial_text(serial)}",
                "--reason",
                "again",
            ]
        )
        == 1
    )
    assert "revoked already" in capsys.readouterr().err
    assert cli.main(["--database-url", url, "certificates", "revoked"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    listed, _, subject, actor, reason = line.split("\t")
    assert (listed, subject, actor, reason) == (
        serial_text(serial),
        "urn:credit-registry:partner:ucas",
        "operator (registry host)",
        "leaked",
    )


@pytest.fixture
def second_registry(network: Network, pki: Path, tmp_path: Path) -> Iterator[str]:
    """Another registry process with mutual TLS on the same database; its address."""
    with served_registry(
        network.engine.url.render_as_string(hide_password=False),
        tmp_path,
        name="second",
        arguments=tls_arguments(pki),
        environment={"REGISTRY_CHECK_WORKERS": "0", "REGISTRY_QUERY_WORKERS": "0"},
    ) as second:
        yield second.address


def test_another_registry_process_refuses_a_certificate_revoked_through_the_first(
    network: Network, tls_registry: RunningRegistry, second_registry: str, pki: Path
) -> None:
    """Revoked through one registry: the other, a process of its own on the same database
    (SQLite or PostgreSQL), refuses it once its copy of the list is read again."""
    assert code_of_a_call(second_registry, pki, "partner-ucas") == grpc.StatusCode.OK
    revoke_over_grpc(tls_registry.address, pki, hex(serial_of(pki, "partner-ucas")))
    assert eventually(
        lambda: (
            code_of_a_call(second_registry, pki, "partner-ucas") == grpc.StatusCode.UNAUTHENTICATED
        ),
        seconds=60,
    )
    assert code_of_a_call(second_registry, pki, "partner-hesa") == grpc.StatusCode.OK
