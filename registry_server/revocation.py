"""Client certificates the operator revoked: the deny list in the registry's database, and
the copy of it every call is checked against.

A certificate of the network's CA is otherwise valid for its whole life (825 days); a leaked
one is revoked here by its serial number (`registry-server certificates revoke`, or
AdminService.RevokeCertificate) and refused from then on. Several registry processes share
one database, so each keeps the set of revoked serials in memory and, at most every
REFRESH_SECONDS, reads how many rows the table has (one cheap statement), and the serials
only when that changed: a revocation made anywhere is honoured by every registry within
REFRESH_SECONDS of its commit (plus that read's own time).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography import x509
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from registry.v1 import admin_pb2 as admin
from registry_core.errors import AlreadyExists, InvalidRecord
from registry_server.db import writing
from registry_server.directory import PAGE_MAX
from registry_server.pki import URN_PREFIX, serial_text
from registry_server.sql import table
from registry_server.tables import RevokedCertificate, utcnow

REFRESH_SECONDS = 2.0
HOST_ACTOR = "operator (registry host)"
log = logging.getLogger(__name__)


def parse_serial(text: str) -> int:
    """A serial number as an operator copies it: `serial=3A5F…` (openssl x509 -serial),
    `3A:5F:…` (openssl x509 -text), `0x3a5f…`, bare hexadecimal with a letter in it, or
    decimal (digits only)."""
    digits = text.strip().removeprefix("serial=")
    is_hex = digits != text.strip() or ":" in digits or digits.lower().startswith("0x")
    digits = digits.replace(":", "").lower().removeprefix("0x")
    try:
        serial = int(digits, 10 if digits.isdigit() and not is_hex else 16)
    except ValueError:
        serial = 0
    if serial <= 0:
        raise InvalidRecord(
            "certificate",
            "serial",
            f"'{text}' is not a certificate serial number; copy it as "
            "`openssl x509 -noout -serial -in FILE` prints it (serial=3A5F…), "
            "or give the certificate's file with --certificate",
        )
    return serial


def serial_and_subject(certificate: Path) -> tuple[int, str]:
    """The serial of a PEM certificate file and the role URI it names (else its subject)."""
    try:
        cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    except (OSError, ValueError) as exc:
        raise InvalidRecord(
            f"--certificate {certificate}", "file", f"is not a readable PEM certificate ({exc})"
        ) from None
    try:
        uris = cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    ours = [uri for uri in uris if uri.startswith(URN_PREFIX)]
    return cert.serial_number, ", ".join(ours) or cert.subject.rfc4514_string()


def revoke(
    engine: Engine, serial: int, reason: str, *, subject: str = "", actor: str = HOST_ACTOR
) -> admin.RevokedCertificate:
    """Add serial to the deny list; AlreadyExists when it is there already."""
    if not reason.strip():
        raise InvalidRecord(
            f"certificate {serial_text(serial)}",
            "reason",
            "is required; say why, for the record of revocations",
        )
    row = {
        "serial": serial_text(serial),
        "subject": subject[:500],
        "reason": reason[:2000],
        "actor": actor[:200],
        "revoked_at": utcnow(),
    }
    try:
        with writing(engine) as connection:
            connection.execute(table(RevokedCertificate).insert(), row)
    except IntegrityError:
        raise AlreadyExists(
            f"certificate serial {row['serial']} is revoked already; "
            "`registry-server certificates revoked` lists it"
        ) from None
    return _message(row)


def list_revoked(
    engine: Engine, *, page_size: int = 100, after: str = ""
) -> tuple[list[admin.RevokedCertificate], str]:
    """Revoked certificates ordered by serial, after the given one; the page and the next
    token."""
    size = min(page_size or 100, PAGE_MAX)
    r = table(RevokedCertificate)
    with engine.connect() as connection:
        rows = (
            connection.execute(
                select(r).where(r.c.serial > after).order_by(r.c.serial).limit(size + 1)
            )
            .mappings()
            .all()
        )
    page = [_message(row) for row in rows[:size]]
    return page, page[-1].serial if len(rows) > size else ""


def _message(row: Mapping[Any, Any]) -> admin.RevokedCertificate:
    return admin.RevokedCertificate(
        serial=row["serial"],
        subject=row["subject"],
        reason=row["reason"],
        actor=row["actor"],
        revoked_at=row["revoked_at"].isoformat(),
    )


class RevokedSerials:
    """The deny list as this registry process sees it, at most REFRESH_SECONDS old.

    `current()` is what every call awaits: a clock read and, once every refresh interval,
    one statement (in the thread pool, or on the event loop with on_loop as
    service.DatabaseCalls does). If the database cannot be read, the list read last stays in
    use and the read is tried again after the interval; the failure is logged."""

    def __init__(
        self, engine: Engine, *, on_loop: bool = False, every: float = REFRESH_SECONDS
    ) -> None:
        self.engine = engine
        self.on_loop = on_loop
        self.every = every
        self.serials: frozenset[int] = frozenset()
        self._rows = -1  # rows at the last read; never matches before the first
        self._read_at = -float("inf")
        self._lock = asyncio.Lock()

    def changed_here(self) -> None:
        """This process revoked one: read the list at the next call, not after the interval."""
        self._read_at = -float("inf")

    async def current(self) -> frozenset[int]:
        if time.monotonic() - self._read_at >= self.every:
            async with self._lock:  # one read for all the calls that found it due
                if time.monotonic() - self._read_at >= self.every:
                    self._read_at = time.monotonic()
                    try:
                        if self.on_loop:
                            self._refresh()
                        else:
                            await asyncio.to_thread(self._refresh)
                    except DBAPIError as error:
                        log.warning(
                            "cannot read the revoked certificates (%s); still refusing "
                            "the %d read before",
                            error.orig,
                            len(self.serials),
                        )
        return self.serials

    def _refresh(self) -> None:
        r = table(RevokedCertificate)
        with self.engine.connect() as connection:
            rows = connection.execute(select(func.count()).select_from(r)).scalar_one()
            if rows == self._rows:
                return
            serials = connection.execute(select(r.c.serial)).scalars().all()
        self.serials = frozenset(int(serial, 16) for serial in serials)
        if self._rows >= 0:
            log.info("revoked certificates changed: %d now refused", len(serials))
        self._rows = rows
