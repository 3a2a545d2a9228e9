"""The registry's tables. Schema changes go through Alembic (registry_server/migrations)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Column, DateTime, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _when() -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=False)


class Institution(SQLModel, table=True):
    """A member of the network (status values are registry.v1.InstitutionStatus)."""

    institution_id: str = Field(primary_key=True, max_length=128)
    name: str = Field(max_length=300)
    country: str = Field(max_length=2)
    status: int
    created_at: dt.datetime = Field(sa_column=_when())


class SigningKey(SQLModel, table=True):
    """An institution's Ed25519 public key (status values are registry.v1.KeyStatus)."""

    __tablename__ = "signing_key"
    key_id: str = Field(primary_key=True, max_length=64)
    institution_id: str = Field(
        foreign_key="institution.institution_id", index=True, max_length=128
    )
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: int
    created_at: dt.datetime = Field(sa_column=_when())
    revoked_at: dt.datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class Checkpoint(SQLModel, table=True):
    """How far the registry holds an institution's change log: updated in the same
    transaction as the batch it acknowledges."""

    institution_id: str = Field(
        primary_key=True, foreign_key="institution.institution_id", max_length=128
    )
    last_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    head: str = Field(max_length=64)
    updated_at: dt.datetime = Field(sa_column=_when())


class PublishedRecord(SQLModel, table=True):
    """The current state of every published record, as the exact protobuf bytes the
    publisher signed inside its batch (re-encoded deterministically per record)."""

    __tablename__ = "published_record"
    institution_id: str = Field(primary_key=True, max_length=128)
    kind: int = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=128)
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: int
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    log_index: int = Field(sa_column=Column(BigInteger, nullable=False))
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    updated_at: dt.datetime = Field(sa_column=_when())


class AgreementEdge(SQLModel, table=True):
    """One source credential of a recognition agreement and one unit it grants ('' for
    general credit): the index resolution walks. A series grant has a row per source and
    unit (migration 0006). Rewritten with its agreement whenever the agreement changes."""

    __tablename__ = "agreement_edge"
    __table_args__ = (
        # Source first, then the publisher: a direct look-up seeks straight to the target's
        # edges for a held credential, however many other institutions recognise it. It
        # also holds every other column resolution reads, so resolution never visits the
        # table: that halved a depth-3 look-up's database time (migration 0005).
        Index(
            "ix_agreement_edge_source_publisher",
            "source_institution_id",
            "source_key",
            "institution_id",
            "agreement_key",
            "grant_unit_key",
            "status",
            "transitive_allowed",
        ),
        Index("ix_agreement_edge_grant", "institution_id", "grant_unit_key"),
    )
    institution_id: str = Field(primary_key=True, max_length=128)
    agreement_key: str = Field(primary_key=True, max_length=128)
    source_institution_id: str = Field(primary_key=True, max_length=128)
    source_key: str = Field(primary_key=True, max_length=128)
    grant_unit_key: str = Field(default="", primary_key=True, max_length=128)
    status: int
    transitive_allowed: bool


class UnitCode(SQLModel, table=True):
    """Another code a published learning unit is offered under (cross_listed_keys, "same
    as"): a look-up by the code finds the unit's agreements. Rewritten with the unit whenever
    it changes; a withdrawn unit has none. A unit without such codes has no row (ADR 0010)."""

    __tablename__ = "unit_code"
    __table_args__ = (Index("ix_unit_code_unit", "institution_id", "unit_key"),)
    institution_id: str = Field(primary_key=True, max_length=128)
    code: str = Field(primary_key=True, max_length=128)
    unit_key: str = Field(primary_key=True, max_length=128)


class BatchLogEntry(SQLModel, table=True):
    """The append-only audit log: every accepted batch, with its signed envelope."""

    __tablename__ = "batch_log"
    __table_args__ = (UniqueConstraint("institution_id", "last_seq"),)
    log_index: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    institution_id: str = Field(index=True, max_length=128)
    first_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    prev_head: str = Field(max_length=64)
    head: str = Field(max_length=64)
    key_id: str = Field(max_length=64)
    payload_sha256: str = Field(max_length=64)
    envelope: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    records_applied: int
    log_head: str = Field(max_length=64)
    received_at: dt.datetime = Field(sa_column=_when())


class LogState(SQLModel, table=True):
    """One row: the log's last index and head. Locking it serialises appends across registry
    processes that share one database."""

    __tablename__ = "log_state"
    id: int = Field(primary_key=True)
    last_index: int = Field(sa_column=Column(BigInteger, nullable=False))
    head: str = Field(max_length=64)


class DirectoryEvent(SQLModel, table=True):
    """Append-only record of every operator action on the directory: who, what, when, why."""

    __tablename__ = "directory_event"
    id: int | None = Field(default=None, primary_key=True)
    institution_id: str = Field(index=True, max_length=128)
    action: str = Field(max_length=40)
    key_id: str = Field(default="", max_length=64)
    actor: str = Field(max_length=200)
    reason: str = Field(default="", max_length=2000)
    at: dt.datetime = Field(sa_column=_when())


class BilateralVersion(SQLModel, table=True):
    """One version of a bilateral agreement (state values are registry.v1.BilateralState)."""

    __tablename__ = "bilateral_version"
    agreement_id: str = Field(primary_key=True, max_length=260)
    version: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    proposer: str = Field(max_length=128)
    partner: str = Field(max_length=128)
    state: int
    content_hash: str = Field(max_length=64)
    terms: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class BilateralEventRow(SQLModel, table=True):
    """The append-only history of bilateral agreements: every signed step, as received."""

    __tablename__ = "bilateral_event"
    __table_args__ = (Index("ix_bilateral_event_parties", "party_a", "party_b"),)
    event_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    agreement_id: str = Field(index=True, max_length=260)
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    party_a: str = Field(max_length=128)
    party_b: str = Field(max_length=128)
    action: int
    state_after: int
    envelope: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    at: dt.datetime = Field(sa_column=_when())


class StatusList(SQLModel, table=True):
    """An institution's current revocation list of the credentials it issued to learners:
    the signed BitstringStatusListCredential as published (ADR 12), replaced only by a newer
    one, and the audit of each replacement is the directory_event table."""

    __tablename__ = "status_list"
    list_id: str = Field(primary_key=True, max_length=500)
    institution_id: str = Field(index=True, max_length=128)
    credential: str = Field(sa_column=Column(Text, nullable=False))
    valid_from: dt.datetime = Field(sa_column=_when())
    revoked: int
    updated_at: dt.datetime = Field(sa_column=_when())


class RevokedCertificate(SQLModel, table=True):
    """A client certificate of the network's CA that the operator revoked: refused on every
    call, by every registry process sharing the database (registry_server/revocation.py).
    Rows are never removed, so their count tells a registry whether the list changed."""

    __tablename__ = "revoked_certificate"
    # Upper-case hexadecimal, as `openssl x509 -serial` prints it (at most 20 bytes, RFC 5280).
    serial: str = Field(primary_key=True, max_length=64)
    # The certificate's role URI or subject, when revoked by its file; "" by serial alone.
    subject: str = Field(default="", max_length=500)
    reason: str = Field(max_length=2000)
    actor: str = Field(max_length=200)
    revoked_at: dt.datetime = Field(sa_column=_when())
