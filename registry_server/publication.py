"""Applying accepted batches: records, agreement edges, checkpoint and audit log, in one
transaction, with set-based statements (one executemany per table, never one per record)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence

from sqlalchemy import Connection, Engine, RowMapping, delete, select, update

from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core import envelope as env
from registry_core.proof import next_log_head
from registry_server import acceptance, bulk
from registry_server.acceptance import (
    Accepted,
    CheckedElsewhere,
    Checkpoint,
    KeyInfo,
    Replay,
    SignedBy,
)
from registry_server.db import writing
from registry_server.sql import for_update, table
from registry_server.tables import (
    AgreementEdge,
    BatchLogEntry,
    Institution,
    LogState,
    PublishedRecord,
    SigningKey,
    UnitCode,
    utcnow,
)
from registry_server.tables import Checkpoint as CheckpointRow
from registry_server.volume import VolumeRule

log = logging.getLogger(__name__)


class TransactionState:
    """acceptance.RegistryState read inside the applying transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def keys(self, key_ids: Iterable[str]) -> Mapping[str, KeyInfo]:
        # Every key id, each once: a signature is matched to its key by key id, whatever its
        # position (callers bound the envelope's signatures first: envelope.check_bounds).
        ids = list(dict.fromkeys(key_ids))
        if not ids:
            return {}
        k, i = table(SigningKey), table(Institution)
        query = select(k.c.key_id, k.c.institution_id, k.c.public_key, k.c.status, i.c.status).join(
            i, i.c.institution_id == k.c.institution_id
        )
        # One cached statement per key id (an envelope has one signature, rarely two): an IN
        # list is rendered anew on every execution (measured 0.23 ms a look-up against 0.13).
        # Beyond two, one IN list.
        if len(ids) > 2:
            rows = list(self.connection.execute(query.where(k.c.key_id.in_(ids))))
        else:
            rows = [
                row
                for key_id in ids
                for row in self.connection.execute(query.where(k.c.key_id == key_id))
            ]
        return {r[0]: KeyInfo(r[0], r[1], bytes(r[2]), r[3], r[4]) for r in rows}

    def checkpoint(self, institution_id: str) -> Checkpoint:
        c = table(CheckpointRow)
        row = self.connection.execute(
            for_update(
                self.connection,
                select(c.c.last_seq, c.c.head).where(c.c.institution_id == institution_id),
            )
        ).first()
        return Checkpoint(row[0], row[1]) if row else Checkpoint(0, "")

    def logged_acknowledgement(
        self, institution_id: str, last_seq: int
    ) -> tuple[str, pub.Acknowledgement] | None:
        log = table(BatchLogEntry)
        row = (
            self.connection.execute(
                select(log).where(
                    log.c.institution_id == institution_id, log.c.last_seq == last_seq
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        return row["payload_sha256"], _acknowledgement(row)

    def current_versions(
        self, institution_id: str, records: Iterable[tuple[int, str]]
    ) -> Mapping[tuple[int, str], int]:
        by_kind: dict[int, list[str]] = {}
        for kind, key in set(records):
            by_kind.setdefault(kind, []).append(key)
        return {
            (kind, key): version
            for kind, keys in sorted(by_kind.items())
            for key, version in bulk.keyed_versions(
                self.connection, PublishedRecord, institution_id, kind, sorted(keys)
            )
        }

    def unit_statuses(self, institution_id: str, keys: Iterable[str]) -> Mapping[str, int]:
        return self.statuses(institution_id, rec.RECORD_KIND_LEARNING_UNIT, keys)

    def statuses(self, institution_id: str, kind: int, keys: Iterable[str]) -> Mapping[str, int]:
        return dict(
            bulk.keyed(
                self.connection, PublishedRecord, institution_id, kind, sorted(set(keys)), "status"
            )
        )


def _acknowledgement(row: RowMapping) -> pub.Acknowledgement:
    return pub.Acknowledgement(
        institution_id=str(row["institution_id"]),
        last_seq=int(row["last_seq"]),
        head=str(row["head"]),
        records_applied=int(row["records_applied"]),
        receipt=pub.Receipt(log_index=int(row["log_index"]), log_head=str(row["log_head"])),
    )


def publish(
    engine: Engine,
    envelope: pub.SignedEnvelope,
    authenticated_institution: str | None = None,
    on_applied: Callable[[pub.Acknowledgement, Sequence[str]], None] | None = None,
    checked_elsewhere: CheckedElsewhere | None = None,
    volume: VolumeRule = VolumeRule(),
    signed_by: SignedBy | None = None,
) -> pub.Acknowledgement:
    """Accept and apply envelope in one transaction; the acknowledgement it returns is the
    one stored in the log, so a replay gets the same answer. on_applied is called after the
    commit of a batch applied now (not for a replay), with what the publisher should be
    warned of (each also logged). checked_elsewhere: see acceptance.accept; volume: the
    network's volume settings (registry_server.volume); signed_by: the signature verified
    before the serialised path (acceptance.verify_signature), not verified again here."""
    with writing(engine) as connection:
        # Publications are serialised on the log's one row, taken first: registry processes
        # sharing a database then never race on a checkpoint or the log's order.
        _lock_log(connection)
        verdict = acceptance.accept(
            envelope,
            TransactionState(connection),
            authenticated_institution=authenticated_institution,
            checked_elsewhere=checked_elsewhere,
            signed_by=signed_by,
            volume=volume,
        )
        if isinstance(verdict, Replay):
            return verdict.acknowledgement
        ack = _apply(connection, envelope, verdict)
    for warning in verdict.warnings:
        log.warning(
            "publication of %s applied with a warning: %s",
            ack.institution_id,
            warning,
            extra={"institution": ack.institution_id, "seq": ack.last_seq},
        )
    if on_applied is not None:
        on_applied(ack, verdict.warnings)
    return ack


def _apply(
    connection: Connection, envelope: pub.SignedEnvelope, accepted: Accepted
) -> pub.Acknowledgement:
    batch = accepted.batch
    owner = batch.institution_id
    now = utcnow()
    log_index, log_head = _append_log(connection, envelope, accepted, now)

    # By (kind, key): a record changed twice in one batch is stored as its last change.
    latest = {(c[1], c[2]): c for c in accepted.changes}
    stamp = bulk.timestamp(connection, now)
    rows, withdrawn = [], []
    edges: list[tuple[object, ...]] = []
    for seq, kind, key, version, status, record, record_edges in latest.values():
        if record is None:
            withdrawn.append((kind, key, version, seq))
            continue
        rows.append((owner, kind, key, version, status, seq, log_index, record, stamp))
        edges += record_edges

    bulk.upsert(connection, PublishedRecord, ["institution_id", "kind", "key"], rows)
    r = table(PublishedRecord)
    for kind, key, version, seq in withdrawn:  # rare: withdrawals are few per batch
        connection.execute(
            update(r)
            .where(r.c.institution_id == owner, r.c.kind == kind, r.c.key == key)
            .values(
                status=rec.RECORD_STATUS_WITHDRAWN,
                version=version,
                seq=seq,
                log_index=log_index,
                updated_at=now,
            )
        )
    agreement_keys = [key for kind, key in latest if kind == rec.RECORD_KIND_AGREEMENT]
    if agreement_keys:
        e = table(AgreementEdge)
        for start in range(0, len(agreement_keys), 500):
            connection.execute(
                delete(e).where(
                    e.c.institution_id == owner,
                    e.c.agreement_key.in_(agreement_keys[start : start + 500]),
                )
            )
        bulk.insert(connection, AgreementEdge, edges)
    units = [
        (key, c[4], c[5])
        for (kind, key), c in latest.items()
        if kind == rec.RECORD_KIND_LEARNING_UNIT
    ]
    if units:
        _rewrite_unit_codes(connection, owner, units)

    applied = batch.change_count
    bulk.upsert(
        connection,
        CheckpointRow,
        ["institution_id"],
        [(owner, batch.last_seq, accepted.head, stamp)],
    )
    return pub.Acknowledgement(
        institution_id=owner,
        last_seq=batch.last_seq,
        head=accepted.head,
        records_applied=applied,
        receipt=pub.Receipt(log_index=log_index, log_head=log_head),
    )


def unit_codes(unit: rec.LearningUnit) -> list[tuple[str, str, str]]:
    """The unit_code rows of a published unit: (institution, code, unit key) for each other
    code it is offered under."""
    return [
        (unit.institution_id, code, unit.key)
        for code in dict.fromkeys(unit.cross_listed_keys)
        if code != unit.key
    ]


def _rewrite_unit_codes(
    connection: Connection, owner: str, units: Sequence[tuple[str, int, bytes | None]]
) -> None:
    """Replace the codes of the batch's units, given as (key, status, payload or None for a
    withdrawal): a withdrawn unit keeps none."""
    u = table(UnitCode)
    keys = [key for key, _, _ in units]
    for start in range(0, len(keys), 500):
        connection.execute(
            delete(u).where(
                u.c.institution_id == owner, u.c.unit_key.in_(keys[start : start + 500])
            )
        )
    bulk.insert(
        connection,
        UnitCode,
        [
            row
            for _, status, payload in units
            if payload is not None and status != rec.RECORD_STATUS_WITHDRAWN
            for row in unit_codes(rec.LearningUnit.FromString(payload))
        ],
    )


def _lock_log(connection: Connection) -> None:
    state = table(LogState)
    connection.execute(for_update(connection, select(state.c.id).where(state.c.id == 1))).one()


def _append_log(
    connection: Connection, envelope: pub.SignedEnvelope, accepted: Accepted, now: object
) -> tuple[int, str]:
    """Append the batch to the audit log; the locked log_state row orders concurrent appends."""
    state = table(LogState)
    last_index, last_head = connection.execute(
        for_update(connection, select(state.c.last_index, state.c.head).where(state.c.id == 1))
    ).one()
    envelope_bytes = envelope.SerializeToString(deterministic=True)
    log_index = last_index + 1
    log_head = next_log_head(last_head, envelope_bytes)
    batch = accepted.batch
    connection.execute(
        table(BatchLogEntry).insert(),
        [
            dict(
                log_index=log_index,
                institution_id=batch.institution_id,
                first_seq=batch.first_seq,
                last_seq=batch.last_seq,
                prev_head=batch.prev_head,
                head=accepted.head,
                key_id=accepted.key_id,
                payload_sha256=accepted.payload_sha256,
                envelope=envelope_bytes,
                records_applied=batch.change_count,
                log_head=log_head,
                received_at=now,
            )
        ],
    )
    connection.execute(
        update(state).where(state.c.id == 1).values(last_index=log_index, head=log_head)
    )
    return log_index, log_head


def public_keys(engine: Engine, envelope: pub.SignedEnvelope) -> dict[str, bytes]:
    """The registered public keys of the key ids that signed envelope, whatever their status
    (acceptance checks that, in the applying transaction). Call envelope.check_bounds first."""
    with engine.connect() as connection:
        known = TransactionState(connection).keys(env.signing_key_ids(envelope))
    return {key_id: info.public_key for key_id, info in known.items()}


def checkpoint(engine: Engine, institution_id: str) -> Checkpoint:
    with engine.connect() as connection:
        c = table(CheckpointRow)
        row = connection.execute(
            select(c.c.last_seq, c.c.head).where(c.c.institution_id == institution_id)
        ).first()
    return Checkpoint(row[0], row[1]) if row else Checkpoint(0, "")
