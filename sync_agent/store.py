"""The agent's local store (SQLite): the institution's records and its gap-free change log.

Every change to a record appends one change-log entry with the next sequence number, in the
same transaction; a sync publishes the entries the registry does not hold yet. The store is
one process's file, so it uses the standard library's sqlite3 directly, with executemany for
every bulk write.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from registry.v1 import bilateral_pb2 as bi
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core.records import MESSAGE_OF, Record, copy_of, kind_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS record (
    kind INTEGER NOT NULL,
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    status INTEGER NOT NULL,
    content_sha256 TEXT NOT NULL,
    payload BLOB NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS change_log (
    seq INTEGER PRIMARY KEY,
    kind INTEGER NOT NULL,
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    change BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    acked_seq INTEGER NOT NULL,
    head TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    log_head TEXT NOT NULL,
    last_attempt_at TEXT NOT NULL,
    last_success_at TEXT NOT NULL,
    last_outcome TEXT NOT NULL
);
INSERT OR IGNORE INTO sync_state VALUES (1, 0, '', 0, '', '', '', 'never synced');
CREATE TABLE IF NOT EXISTS sync_history (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    success INTEGER NOT NULL,
    acked_seq INTEGER NOT NULL,
    outcome TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bilateral_event (
    event_id INTEGER PRIMARY KEY,
    agreement_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    action INTEGER NOT NULL,
    actor TEXT NOT NULL,
    state_after INTEGER NOT NULL,
    step BLOB NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS issued_credential (
    credential_id TEXT PRIMARY KEY,
    record_key TEXT NOT NULL,
    status_index INTEGER NOT NULL UNIQUE,
    issued_at TEXT NOT NULL,
    revoked_at TEXT,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS status_publication (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revoked_published INTEGER NOT NULL,
    valid_from TEXT NOT NULL
);
"""

CHANGE_FIELD: dict[int, str] = {
    rec.RECORD_KIND_MICRO_CREDENTIAL: "micro_credential",
    rec.RECORD_KIND_LEARNING_UNIT: "learning_unit",
    rec.RECORD_KIND_AGREEMENT: "agreement",
}


F = TypeVar("F", bound=Callable[..., Any])


def _locked(method: F) -> F:
    """One thread at a time on the store's connection: sync prepares the next batch in a
    worker thread while the main thread records acknowledgements."""

    @functools.wraps(method)
    def wrapper(self: AgentStore, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def content_digest(record: Record) -> str:
    """Hash of what a registrar edits: the record without its version."""
    copy = copy_of(record)
    copy.version = 0
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


@dataclass(frozen=True)
class SyncState:
    acked_seq: int
    head: str
    log_index: int
    log_head: str
    last_attempt_at: str
    last_success_at: str
    last_outcome: str


@dataclass(frozen=True)
class SyncRun:
    """One sync, as its history shows it."""

    at: str
    success: bool
    acked_seq: int
    outcome: str


class AgentStore:
    """The institution's records and change log in one SQLite file."""

    def __init__(self, path: Path | str, institution_id: str) -> None:
        self.institution_id = institution_id
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(path), timeout=30, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an acknowledged change survives power loss
        self._db.executescript(SCHEMA)

    @_locked
    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @_locked
    def put_records(self, records: Sequence[Record]) -> int:
        """Create or change records (already validated) in one transaction. A record whose
        content is unchanged gets no new version and no change-log entry. Returns the number
        of records changed."""
        latest: dict[tuple[int, str], Record] = {}
        for record in records:
            latest[(kind_of(record), record.key)] = record
        with self._write() as db:
            existing = self._current(db, latest)
            seq = self._last_seq(db)
            now = _now()
            rows, log = [], []
            for (kind, key), record in latest.items():
                digest = content_digest(record)
                old = existing.get((kind, key))
                if old is not None and old[1] == digest:
                    continue
                message = copy_of(record)
                message.version = old[0] + 1 if old else 1
                seq += 1
                rows.append(
                    (
                        kind,
                        key,
                        message.version,
                        message.status,
                        digest,
                        message.SerializeToString(deterministic=True),
                        now,
                    )
                )
                change = pub.RecordChange(
                    seq=seq, **cast(dict[str, Any], {CHANGE_FIELD[kind]: message})
                )
                log.append(
                    (
                        seq,
                        kind,
                        key,
                        message.version,
                        change.SerializeToString(deterministic=True),
                        now,
                    )
                )
            db.executemany(
                "INSERT INTO record VALUES (?,?,?,?,?,?,?) ON CONFLICT (kind, key) DO UPDATE SET "
                "version=excluded.version, status=excluded.status, "
                "content_sha256=excluded.content_sha256, payload=excluded.payload, "
                "updated_at=excluded.updated_at",
                rows,
            )
            db.executemany("INSERT INTO change_log VALUES (?,?,?,?,?,?)", log)
        return len(rows)

    @_locked
    def withdraw(self, kind: int, key: str) -> bool:
        """Withdraw a record (a tombstone in the change log). False if it is not held or is
        withdrawn already."""
        with self._write() as db:
            row = db.execute(
                "SELECT version, status, payload FROM record WHERE kind=? AND key=?", (kind, key)
            ).fetchone()
            if row is None or row[1] == rec.RECORD_STATUS_WITHDRAWN:
                return False
            message = MESSAGE_OF[kind].FromString(row[2])
            message.version = row[0] + 1
            message.status = rec.RECORD_STATUS_WITHDRAWN
            seq = self._last_seq(db) + 1
            now = _now()
            change = pub.RecordChange(
                seq=seq,
                tombstone=pub.Tombstone(
                    kind=cast(rec.RecordKind, kind), key=key, version=message.version
                ),
            )
            db.execute(
                "UPDATE record SET version=?, status=?, content_sha256=?, payload=?, "
                "updated_at=? WHERE kind=? AND key=?",
                (
                    message.version,
                    message.status,
                    content_digest(message),
                    message.SerializeToString(deterministic=True),
                    now,
                    kind,
                    key,
                ),
            )
            db.execute(
                "INSERT INTO change_log VALUES (?,?,?,?,?,?)",
                (
                    seq,
                    kind,
                    key,
                    message.version,
                    change.SerializeToString(deterministic=True),
                    now,
                ),
            )
        return True

    @staticmethod
    def _current(
        db: sqlite3.Connection, wanted: Iterable[tuple[int, str]]
    ) -> dict[tuple[int, str], tuple[int, str]]:
        """Version and content hash of the given records: primary-key look-ups, so the cost
        follows the number of records asked for, not the size of the catalogue."""
        by_kind: dict[int, list[str]] = {}
        for kind, key in wanted:
            by_kind.setdefault(kind, []).append(key)
        found: dict[tuple[int, str], tuple[int, str]] = {}
        for kind, keys in by_kind.items():
            for start in range(0, len(keys), 900):
                chunk = keys[start : start + 900]
                rows = db.execute(
                    f"SELECT key, version, content_sha256 FROM record WHERE kind = ? AND key IN "
                    f"({','.join('?' for _ in chunk)})",
                    [kind, *chunk],
                )
                found.update({(kind, key): (version, digest) for key, version, digest in rows})
        return found

    @staticmethod
    def _last_seq(db: sqlite3.Connection) -> int:
        return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM change_log").fetchone()[0])

    @_locked
    def last_seq(self) -> int:
        return self._last_seq(self._db)

    @_locked
    def serialised_changes(self, after_seq: int, limit: int) -> list[tuple[int, bytes]]:
        """(seq, serialised RecordChange) after after_seq, in order, at most limit."""
        return self._db.execute(
            "SELECT seq, change FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        ).fetchall()

    @_locked
    def changes(self, after_seq: int, limit: int) -> list[pub.RecordChange]:
        """Change-log entries after after_seq, in order, at most limit."""
        rows = self._db.execute(
            "SELECT change FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit)
        )
        return [pub.RecordChange.FromString(row[0]) for row in rows]

    @_locked
    def records(self, kind: int) -> list[Record]:
        """Every record of a kind, by key."""
        rows = self._db.execute("SELECT payload FROM record WHERE kind=? ORDER BY key", (kind,))
        return [MESSAGE_OF[kind].FromString(row[0]) for row in rows]

    @_locked
    def get(self, kind: int, key: str) -> Record | None:
        row = self._db.execute(
            "SELECT payload FROM record WHERE kind=? AND key=?", (kind, key)
        ).fetchone()
        return MESSAGE_OF[kind].FromString(row[0]) if row else None

    @_locked
    def bilateral_cursor(self) -> int:
        """The newest bilateral step pulled from the registry (0 when none)."""
        return int(
            self._db.execute("SELECT COALESCE(MAX(event_id), 0) FROM bilateral_event").fetchone()[0]
        )

    @_locked
    def add_bilateral_events(self, events: Sequence[bi.BilateralEvent]) -> int:
        """Keep pulled steps (the whole history, as signed); returns how many were new."""
        rows = []
        for event in events:
            step = bi.BilateralStep.FromString(event.step.payload)
            rows.append(
                (
                    event.event_id,
                    event.agreement_id,
                    step.version,
                    step.action,
                    step.actor,
                    event.state_after,
                    event.step.SerializeToString(),
                    _now(),
                )
            )
        with self._write() as db:
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO bilateral_event VALUES (?,?,?,?,?,?,?,?)", rows)
            return db.total_changes - before

    @_locked
    def bilateral_latest(self) -> list[tuple[bi.BilateralStep, int]]:
        """The latest step of every bilateral agreement version, with the state after it."""
        rows = self._db.execute(
            "SELECT e.step, e.state_after FROM bilateral_event e JOIN (SELECT agreement_id, "
            "version, MAX(event_id) AS last FROM bilateral_event GROUP BY agreement_id, version) "
            "m ON e.event_id = m.last ORDER BY e.agreement_id, e.version"
        )
        latest = [
            (bi.BilateralStep.FromString(pub.SignedEnvelope.FromString(step).payload), state)
            for step, state in rows
        ]
        # A version counter-signed later replaces the ones before it (the registry marks them
        # superseded without a step of their own).
        signed = {
            (s.agreement_id, s.version)
            for s, st in latest
            if st
            not in (
                bi.BILATERAL_STATE_PROPOSED,
                bi.BILATERAL_STATE_REJECTED,
                bi.BILATERAL_STATE_WITHDRAWN,
            )
        }
        return [
            (
                s,
                bi.BILATERAL_STATE_SUPERSEDED
                if st in (bi.BILATERAL_STATE_ACTIVE, bi.BILATERAL_STATE_SUSPENDED)
                and any(a == s.agreement_id and v > s.version for a, v in signed)
                else st,
            )
            for s, st in latest
        ]

    @_locked
    def bilateral_terms(self, agreement_id: str, version: int) -> bi.BilateralStep | None:
        """The PROPOSE step (with its terms) of a version."""
        row = self._db.execute(
            "SELECT step FROM bilateral_event WHERE agreement_id = ? AND "
            "version = ? AND action = ?",
            (agreement_id, version, bi.BILATERAL_ACTION_PROPOSE),
        ).fetchone()
        if row is None:
            return None
        return bi.BilateralStep.FromString(pub.SignedEnvelope.FromString(row[0]).payload)

    # -- credentials issued to learners (sync_agent/issuing.py) ------------------------------

    @_locked
    def add_issued(self, credential_id: str, record_key: str) -> int:
        """Record a credential about to be issued; its entry in the status list."""
        with self._write() as db:
            index = int(
                db.execute(
                    "SELECT COALESCE(MAX(status_index) + 1, 0) FROM issued_credential"
                ).fetchone()[0]
            )
            db.execute(
                "INSERT INTO issued_credential (credential_id, record_key, status_index, "
                "issued_at) VALUES (?, ?, ?, ?)",
                (credential_id, record_key, index, _now()),
            )
        return index

    @_locked
    def revoke_issued(self, credential_id: str, reason: str) -> bool:
        """Mark an issued credential revoked; False when no such credential was issued or it
        is revoked already."""
        with self._write() as db:
            changed = db.execute(
                "UPDATE issued_credential SET revoked_at = ?, reason = ? "
                "WHERE credential_id = ? AND revoked_at IS NULL",
                (_now(), reason, credential_id),
            ).rowcount
        return changed == 1

    @_locked
    def issued(self) -> list[tuple[str, str, int, str, str | None]]:
        """(credential id, record key, status index, issued at, revoked at), oldest first."""
        return [
            (str(r[0]), str(r[1]), int(r[2]), str(r[3]), r[4])
            for r in self._db.execute(
                "SELECT credential_id, record_key, status_index, issued_at, revoked_at "
                "FROM issued_credential ORDER BY status_index"
            )
        ]

    @_locked
    def revoked_indexes(self) -> set[int]:
        return {
            int(r[0])
            for r in self._db.execute(
                "SELECT status_index FROM issued_credential WHERE revoked_at IS NOT NULL"
            )
        }

    @_locked
    def status_published(self) -> tuple[int, str] | None:
        """(revocations in the list last published, its validFrom), or None."""
        row = self._db.execute(
            "SELECT revoked_published, valid_from FROM status_publication"
        ).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    @_locked
    def record_status_published(self, revoked: int, valid_from: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO status_publication VALUES (1, ?, ?)", (revoked, valid_from)
            )

    @_locked
    def sync_state(self) -> SyncState:
        row = self._db.execute(
            "SELECT acked_seq, head, log_index, log_head, last_attempt_at, "
            "last_success_at, last_outcome FROM sync_state"
        ).fetchone()
        return SyncState(*row)

    @_locked
    def record_acknowledgement(self, ack: pub.Acknowledgement) -> None:
        now = _now()
        self._db.execute(
            "UPDATE sync_state SET acked_seq=?, head=?, log_index=?, log_head=?, "
            "last_attempt_at=?, last_success_at=?, last_outcome=?",
            (
                ack.last_seq,
                ack.head,
                ack.receipt.log_index,
                ack.receipt.log_head,
                now,
                now,
                f"published up to seq {ack.last_seq}",
            ),
        )

    @_locked
    def record_outcome(
        self, outcome: str, *, success: bool, acked_seq: int | None = None, head: str | None = None
    ) -> None:
        """The end of a sync: the state registrars see, and one more line of its history."""
        now = _now()
        state = self.sync_state()
        acked = state.acked_seq if acked_seq is None else acked_seq
        with self._write() as db:
            db.execute(
                "UPDATE sync_state SET acked_seq=?, head=?, last_attempt_at=?, "
                "last_success_at=?, last_outcome=?",
                (
                    acked,
                    state.head if head is None else head,
                    now,
                    now if success else state.last_success_at,
                    outcome,
                ),
            )
            db.execute(
                "INSERT INTO sync_history (at, success, acked_seq, outcome) VALUES (?,?,?,?)",
                (now, int(success), acked, outcome),
            )

    @_locked
    def sync_history(self, limit: int = 100) -> list[SyncRun]:
        """The latest syncs, newest first."""
        rows = self._db.execute(
            "SELECT at, success, acked_seq, outcome FROM sync_history ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [SyncRun(at, bool(success), acked, outcome) for at, success, acked, outcome in rows]
