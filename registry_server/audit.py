"""The audit side of the log: proofs for single records, pages of the log, and
`registry-server log verify`, which re-checks the whole log from its stored envelopes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from registry.v1 import audit_pb2 as audit
from registry.v1 import bilateral_pb2 as bi
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core import envelope as env
from registry_core.bilateral import content_hash
from registry_core.errors import InvalidRecord, NotFound, RegistryError, check_stored_int
from registry_core.proof import next_log_head
from registry_core.records import (
    BILATERAL_KEY_PREFIX,
    KIND_NAMES,
    MESSAGE_OF,
    kind_of,
    label,
    record_of,
)
from registry_server.paging import trimmed
from registry_server.sql import table
from registry_server.tables import (
    BatchLogEntry,
    BilateralEventRow,
    Checkpoint,
    LogState,
    PublishedRecord,
    SigningKey,
)

PAGE_MAX = 1000


def record_proof(engine: Engine, institution_id: str, kind: int, key: str) -> audit.RecordProof:
    """The logged envelope that carried the record's current state."""
    if kind not in KIND_NAMES:
        raise InvalidRecord("request", "kind", "name the kind of record")
    r, log = table(PublishedRecord), table(BatchLogEntry)
    with engine.connect() as connection:
        row = connection.execute(
            select(r.c.seq, log.c.envelope, log.c.log_index, log.c.log_head)
            .join(log, log.c.log_index == r.c.log_index)
            .where(r.c.institution_id == institution_id, r.c.kind == kind, r.c.key == key)
        ).first()
    if row is None:
        raise NotFound(f"{label(kind, institution_id, key)} is not in the registry")
    return audit.RecordProof(
        envelope=pub.SignedEnvelope.FromString(row[1]),
        seq=row[0],
        receipt=pub.Receipt(log_index=row[2], log_head=row[3]),
    )


def list_log(engine: Engine, from_index: int, page_size: int) -> audit.ListLogEntriesResponse:
    check_stored_int("request", "from_index", from_index)
    size = min(page_size or 100, PAGE_MAX)
    start = max(from_index, 1)
    log = table(BatchLogEntry)
    with engine.connect() as connection:
        rows = connection.execute(
            select(log.c.log_index, log.c.envelope, log.c.log_head)
            .where(log.c.log_index >= start)
            .order_by(log.c.log_index)
            .limit(size + 1)
        ).all()
    entries = [
        audit.LogEntry(log_index=i, envelope=pub.SignedEnvelope.FromString(e), log_head=h)
        for i, e, h in rows[:size]
    ]
    page, more = trimmed(entries, len(rows) > size)
    return audit.ListLogEntriesResponse(
        entries=page, next_index=page[-1].log_index + 1 if more else 0
    )


@dataclass
class LogReport:
    entries: int = 0
    records_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _log_rows(engine: Engine, chunk: int = 500) -> Iterator[dict[str, object]]:
    log = table(BatchLogEntry)
    last = 0
    while True:
        with engine.connect() as connection:
            rows = (
                connection.execute(
                    select(log).where(log.c.log_index > last).order_by(log.c.log_index).limit(chunk)
                )
                .mappings()
                .all()
            )
        if not rows:
            return
        for row in rows:
            yield dict(row)
        last = int(rows[-1]["log_index"])


def verify_log(engine: Engine) -> LogReport:
    """Re-check every log entry: the hash chain, each envelope's signature by the key it names,
    each institution's sequence and head chain, the checkpoints, and that every stored record
    is what its publisher signed."""
    report = LogReport()
    with engine.connect() as connection:
        keys = {
            k: bytes(p)
            for k, p in connection.execute(
                select(table(SigningKey).c.key_id, table(SigningKey).c.public_key)
            )
        }
        owners = dict(
            connection.execute(
                select(table(SigningKey).c.key_id, table(SigningKey).c.institution_id)
            ).all()
        )
        checkpoints = {
            i: (s, h)
            for i, s, h in connection.execute(
                select(
                    table(Checkpoint).c.institution_id,
                    table(Checkpoint).c.last_seq,
                    table(Checkpoint).c.head,
                )
            )
        }
        log_state = connection.execute(
            select(table(LogState).c.last_index, table(LogState).c.head)
        ).one()
    log_head = ""
    heads: dict[str, tuple[int, str]] = {}
    signed_records: dict[tuple[str, int, str], tuple[int, object]] = {}
    for row in _log_rows(engine):
        index = int(row["log_index"])  # type: ignore[call-overload]
        report.entries += 1
        where = f"log index {index}"
        if index != report.entries:
            report.problems.append(f"{where}: expected index {report.entries}; entries are missing")
        envelope_bytes = bytes(row["envelope"])  # type: ignore[call-overload]
        log_head = next_log_head(log_head, envelope_bytes)
        if log_head != row["log_head"]:
            report.problems.append(f"{where}: log head does not chain from the previous entry")
        institution = str(row["institution_id"])
        try:
            envelope = pub.SignedEnvelope.FromString(envelope_bytes)
        except DecodeError:
            # Named, and the check goes on: one damaged entry must not hide the rest.
            report.problems.append(
                f"{where}: its stored envelope is not a signed envelope "
                "(damaged bytes); restore it from a backup"
            )
            continue
        try:
            key_id = env.verify(envelope, {k: keys[k] for k in keys if owners[k] == institution})
        except RegistryError as error:
            report.problems.append(f"{where}: {error}")
            continue
        if key_id != row["key_id"]:
            report.problems.append(f"{where}: signed by {key_id}, logged as {row['key_id']}")
        try:
            batch = pub.Batch.FromString(envelope.payload)
        except DecodeError:
            report.problems.append(f"{where}: its signed payload is not a batch")
            continue
        last_seq, head = heads.get(institution, (0, ""))
        if (
            batch.institution_id != institution
            or batch.first_seq != last_seq + 1
            or batch.prev_head != head
        ):
            report.problems.append(
                f"{where}: does not continue {institution}'s log at seq {last_seq + 1}"
            )
        head = env.next_head(batch.prev_head, envelope.payload)
        if head != row["head"]:
            report.problems.append(f"{where}: head differs from the one acknowledged")
        heads[institution] = (batch.last_seq, head)
        for change in batch.changes:
            item = record_of(change)
            kind = item.kind if isinstance(item, pub.Tombstone) else kind_of(item)
            signed_records[(institution, kind, item.key)] = (index, item)
    if (report.entries, log_head) != (log_state[0], log_state[1]):
        report.problems.append("the log's recorded end does not match its entries")
    for institution, (last_seq, head) in sorted(checkpoints.items()):
        if heads.get(institution) != (last_seq, head):
            report.problems.append(f"checkpoint of {institution} does not match its log")
    _check_records(engine, signed_records, report)
    _check_database(engine, report)
    return report


def _check_database(engine: Engine, report: LogReport) -> None:
    """The database's own check of its file (SQLite's integrity_check: pages, indexes,
    constraints), which a damaged page the log's entries do not touch would otherwise
    pass. PostgreSQL checks its pages as it reads them (and amcheck, where installed, is the
    operator's); nothing is run there."""
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect() as connection:
            found = [
                str(row[0]) for row in connection.exec_driver_sql("PRAGMA integrity_check(20)")
            ]
    except DBAPIError as error:
        report.problems.append(
            f"database integrity: the check could not run "
            f"({str(error.orig)[:200]}); restore from a backup"
        )
        return
    if found != ["ok"]:
        report.problems += [f"database integrity: {line[:300]}" for line in found]


def _check_bilateral(engine: Engine, key: str, payload: bytes, version: int) -> str:
    """A bilateral agreement in force must be what both parties signed: the proposer's
    PROPOSE and the partner's COUNTERSIGN over the same canonical content."""
    agreement_id = key.removeprefix(BILATERAL_KEY_PREFIX)
    e, k = table(BilateralEventRow), table(SigningKey)
    with engine.connect() as connection:
        rows = (
            connection.execute(
                select(e.c.envelope).where(e.c.agreement_id == agreement_id, e.c.version == version)
            )
            .scalars()
            .all()
        )
        keys = {
            key_id: (owner, bytes(raw))
            for key_id, owner, raw in connection.execute(
                select(k.c.key_id, k.c.institution_id, k.c.public_key)
            )
        }
    record = rec.RecognitionAgreement.FromString(payload)
    signed: dict[int, tuple[str, str]] = {}
    for raw in rows:
        envelope = pub.SignedEnvelope.FromString(raw)
        step = bi.BilateralStep.FromString(envelope.payload)
        try:
            env.verify(envelope, {i: p for i, (o, p) in keys.items() if o == step.actor})
        except RegistryError as error:
            return f"step {bi.BilateralAction.Name(step.action)} does not verify: {error}"
        if step.action == bi.BILATERAL_ACTION_PROPOSE:
            record.key = step.terms.key
        signed[step.action] = (step.actor, step.content_hash)
    proposal = signed.get(bi.BILATERAL_ACTION_PROPOSE)
    countersign = signed.get(bi.BILATERAL_ACTION_COUNTERSIGN)
    if proposal is None or countersign is None:
        return "is in force without both parties' signed steps"
    if proposal[0] == countersign[0]:
        return "was proposed and counter-signed by the same institution"
    digest = content_hash(record)
    if not proposal[1] == countersign[1] == digest:
        return "stored terms differ from what the two parties signed"
    return ""


def _check_records(
    engine: Engine, signed: dict[tuple[str, int, str], tuple[int, object]], report: LogReport
) -> None:
    r = table(PublishedRecord)
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                r.c.institution_id,
                r.c.kind,
                r.c.key,
                r.c.log_index,
                r.c.payload,
                r.c.status,
                r.c.version,
            )
        )
        for institution, kind, key, log_index, payload, status, version in rows:
            report.records_checked += 1
            name = label(kind, institution, key)
            if log_index == 0 and key.startswith(BILATERAL_KEY_PREFIX):
                problem = _check_bilateral(engine, key, bytes(payload), version)
                if problem:
                    report.problems.append(f"{name}: {problem}")
                continue
            found = signed.get((institution, kind, key))
            if found is None or found[0] != log_index:
                report.problems.append(f"{name}: not carried by log index {log_index}")
                continue
            item = found[1]
            if isinstance(item, pub.Tombstone):
                if (version, status) != (item.version, rec.RECORD_STATUS_WITHDRAWN):
                    report.problems.append(f"{name}: stored withdrawal differs from the log")
                continue
            assert not isinstance(item, pub.Tombstone)
            try:
                stored = MESSAGE_OF[kind].FromString(payload)
            except DecodeError:
                report.problems.append(f"{name}: its stored payload is damaged (not a record)")
                continue
            if stored != item or (version, status) != (item.version, item.status):  # type: ignore[attr-defined]
                report.problems.append(f"{name}: stored content differs from what was signed")
