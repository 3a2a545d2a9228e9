"""The registry's TLS material: its certificate and key and the network CA it accepts clients
of, read from files and checked, and replaced without a restart when the files change
(`reload`, on SIGHUP: docs/operations.md, "Renewing a certificate").

gRPC asks the credentials' fetcher for a new configuration before every new connection's
handshake; the fetcher hands over a reloaded one once and otherwise answers "unchanged", so
connections already open keep their session and new ones get the new certificate.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from registry_server.pki import serial_text

log = logging.getLogger(__name__)


class TLSMaterialError(ValueError):
    """A certificate, key or CA file that cannot serve; says which file and what to do."""


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TLSMaterialError(
            f"{what} {path}: cannot read it ({exc.strerror or exc}); "
            "check the path and that the registry's user may read it"
        ) from None


@dataclass(frozen=True)
class ServerTLS:
    """PEM bytes of the registry's certificate and key, and of the CA (or CAs, one after the
    other in one file) whose client certificates it accepts: mutual TLS, every client must
    present one."""

    certificate: bytes
    private_key: bytes
    client_ca: bytes

    @classmethod
    def from_files(cls, certificate: Path, private_key: Path, client_ca: Path) -> ServerTLS:
        """The three files, checked: each one is what it should be, the key is the
        certificate's, and the certificate is valid now. TLSMaterialError otherwise."""
        tls = cls(
            _read(certificate, "tls_cert"),
            _read(private_key, "tls_key"),
            _read(client_ca, "client_ca"),
        )
        try:
            cert = x509.load_pem_x509_certificate(tls.certificate)
        except ValueError:
            raise TLSMaterialError(
                f"tls_cert {certificate}: not a PEM certificate; use the "
                "registry.pem deploy/pki.py wrote"
            ) from None
        try:
            key = serialization.load_pem_private_key(tls.private_key, None)
        except (ValueError, TypeError):
            raise TLSMaterialError(
                f"tls_key {private_key}: not an unencrypted PEM private "
                "key; use the registry-key.pem deploy/pki.py wrote"
            ) from None
        if key.public_key() != cert.public_key():
            raise TLSMaterialError(
                f"tls_key {private_key} is not the key of tls_cert "
                f"{certificate} (serial {serial_text(cert.serial_number)}); "
                "install the certificate and the key issued together"
            )
        now = dt.datetime.now(dt.UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise TLSMaterialError(
                f"tls_cert {certificate} (serial "
                f"{serial_text(cert.serial_number)}) is valid from "
                f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} to "
                f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, not now; "
                "issue a new one (deploy/pki.py server)"
            )
        try:
            x509.load_pem_x509_certificates(tls.client_ca)
        except ValueError:
            raise TLSMaterialError(
                f"client_ca {client_ca}: not one or more PEM certificates; use the network's ca.pem"
            ) from None
        return tls

    @property
    def serving(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate)

    def describe(self) -> str:
        cert = self.serving
        authorities = len(x509.load_pem_x509_certificates(self.client_ca))
        return (
            f"certificate serial {serial_text(cert.serial_number)}, valid until "
            f"{cert.not_valid_after_utc:%Y-%m-%d}; clients of {authorities} "
            f"CA{'s' if authorities > 1 else ''}"
        )

    def configuration(self) -> grpc.ServerCertificateConfiguration:
        return grpc.ssl_server_certificate_configuration(
            [(self.private_key, self.certificate)], root_certificates=self.client_ca
        )


@dataclass(frozen=True)
class TLSFiles:
    """Where the registry's TLS material lives (settings tls_cert, tls_key, client_ca)."""

    certificate: Path
    private_key: Path
    client_ca: Path

    def read(self) -> ServerTLS:
        return ServerTLS.from_files(self.certificate, self.private_key, self.client_ca)


class ServerCertificates:
    """The registry's server credentials, whose material can be replaced while it serves.

    Built from files, `reload()` reads them again; built from material only (tests), it
    serves that material until the process ends."""

    def __init__(self, initial: ServerTLS, files: TLSFiles | None = None) -> None:
        self.current = initial
        self.files = files
        self._lock = threading.Lock()  # the fetcher runs on gRPC's threads
        self._pending: grpc.ServerCertificateConfiguration | None = None

    @classmethod
    def from_files(cls, files: TLSFiles) -> ServerCertificates:
        return cls(files.read(), files)

    def credentials(self) -> grpc.ServerCredentials:
        # The stubs say the fetcher returns a configuration; gRPC's documentation and code
        # take None as "unchanged", which is what it answers before almost every handshake.
        return grpc.dynamic_ssl_server_credentials(
            self.current.configuration(),
            self._fetch,  # type: ignore[arg-type]
            require_client_authentication=True,
        )

    def _fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """gRPC's question before each handshake: a new configuration once, else None."""
        with self._lock:
            pending, self._pending = self._pending, None
        return pending

    def in_use(self) -> dict[str, bytes]:
        """The certificates new connections get, by name (for the expiry metric)."""
        current = self.current
        return {"registry": current.certificate, "client_ca": current.client_ca}

    def reload(self) -> bool:
        """Read the files again; new connections use them from now on. A file that cannot
        serve is refused with a log line naming it, and the material in use stays."""
        if self.files is None:
            log.warning(
                "TLS reload asked for, but this registry's certificates were not "
                "read from files; nothing to reload"
            )
            return False
        try:
            fresh = self.files.read()
        except TLSMaterialError as error:
            log.error("TLS reload refused, still serving %s: %s", self.current.describe(), error)
            return False
        configuration = fresh.configuration()
        with self._lock:
            self._pending = configuration
            self.current = fresh
        log.info("TLS reloaded: new connections get %s", fresh.describe())
        return True
