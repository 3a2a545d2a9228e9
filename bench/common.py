"""Shared pieces of the benchmarks: sample records, anchors, a registry process with mTLS.

Every benchmark prints its figure as a ratio against an anchor measured in the same run on
the same machine, because these machines are shared and noisy."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from registry.v1 import records_pb2 as rec
from registry_server.pki import create_ca, issue_client, issue_server
from sync_agent.client import ClientTLS


def credential(institution_id: str, index: int, edition: int = 0) -> rec.MicroCredential:
    """A realistic micro-credential (about 220 bytes serialised)."""
    return rec.MicroCredential(
        institution_id=institution_id,
        key=f"MC{index:06}",
        version=1,
        status=rec.RECORD_STATUS_ACTIVE,
        title=f"Micro-credential {index} (edition {edition})",
        awarding_body="University of the Forth",
        country="GB",
        learning_outcomes=[
            "Analyse the ethical risks of a data-driven system",
            "Apply UK GDPR principles to a data pipeline",
        ],
        workload_hours=100,
        credit=rec.Credit(value=10, system="SCQF"),
        level=rec.Level(framework="SCQF", level="11"),
        assessment_type="Case-study report",
        participation_form=rec.PARTICIPATION_FORM_ONLINE,
        quality_assurance="QAA Scotland ELIR",
        grading_scheme="UK_LETTER",
        subject_isced="0613",
    )


def raw_sqlite_upsert(
    path: Path, rows: list[tuple[object, ...]], batch: int = 1000, checkpoints: bool = True
) -> float:
    """Anchor: seconds for plain sqlite3 executemany upserts of rows, one transaction per
    batch, into a table shaped like published_record, in WAL mode with synchronous=NORMAL
    as the registry, and SQLite's other defaults: a commit that takes the log past 1,000
    pages copies it back into the database file then and there. (The registry does that in
    a thread of its own, db.WalCheckpoints.) checkpoints=False leaves the log uncopied, for
    reference: what the anchor's own checkpoints cost."""
    db = sqlite3.connect(str(path), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    if not checkpoints:
        db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute(
        "CREATE TABLE r (institution_id TEXT, kind INT, key TEXT, version INT, status INT, "
        "seq INT, log_index INT, payload BLOB, updated_at TEXT, "
        "PRIMARY KEY (institution_id, kind, key))"
    )
    start = time.perf_counter()
    for i in range(0, len(rows), batch):
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO r VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT "
            "(institution_id, kind, key) DO UPDATE SET version=excluded.version, "
            "status=excluded.status, seq=excluded.seq, log_index=excluded.log_index, "
            "payload=excluded.payload, updated_at=excluded.updated_at",
            rows[i : i + batch],
        )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def record_rows(records: list[rec.MicroCredential]) -> list[tuple[object, ...]]:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return [
        (
            r.institution_id,
            rec.RECORD_KIND_MICRO_CREDENTIAL,
            r.key,
            1,
            r.status,
            i + 1,
            1,
            r.SerializeToString(deterministic=True),
            now,
        )
        for i, r in enumerate(records)
    ]


def make_pki(directory: Path, institutions: list[str]) -> None:
    create_ca(directory)
    issue_server(directory, ["127.0.0.1", "localhost"])
    for institution in institutions:
        issue_client(directory, "institution", institution)


def client_tls(pki: Path, institution: str) -> ClientTLS:
    stem = f"institution-{institution}"
    return ClientTLS.from_files(pki / "ca.pem", pki / f"{stem}.pem", pki / f"{stem}-key.pem")


def start_registry(
    database_url: str, pki: Path | None, log: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """A registry process (mutual TLS when pki is given); returns it and its address."""
    port_file = log.with_suffix(".port")
    port_file.unlink(missing_ok=True)  # a previous run's, in a work directory used again
    args = [
        sys.executable,
        "-m",
        "registry_server.cli",
        "--database-url",
        database_url,
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--port-file",
        str(port_file),
    ]
    if pki:
        args += [
            "--tls-cert",
            str(pki / "registry.pem"),
            "--tls-key",
            str(pki / "registry-key.pem"),
            "--client-ca",
            str(pki / "ca.pem"),
        ]
    process = subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not port_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the registry did not start; see {log}")
        time.sleep(0.05)
    return process, f"127.0.0.1:{port_file.read_text()}"


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def line(name: str, value: str) -> None:
    print(f"  {name:<62} {value}")
