"""SQLite's write-ahead log is copied back into the database file by a thread of the
registry's own (db.WalCheckpoints), not by the commit that fills it: a publication no longer
waits for a checkpoint's copying and syncing."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from registry.v1 import publication_pb2 as pub
from registry.v1 import publication_pb2_grpc
from registry_core.envelope import Ed25519Signer
from registry_server import directory
from registry_server.db import WalCheckpoints, make_engine, upgrade, writing
from tests.conftest import eventually, free_port
from tests.factories import batch, micro_credential, signed

BLOB = 400_000  # bytes a transaction writes: ~100 pages
TRANSACTIONS = 20  # ~2,000 pages, twice what makes SQLite checkpoint on commit by default


def write(engine: Engine, transactions: int) -> None:
    for _ in range(transactions):
        with writing(engine) as connection:
            connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS scratch (b BLOB)")
            connection.exec_driver_sql(f"INSERT INTO scratch VALUES (randomblob({BLOB}))")


def test_commits_leave_the_log_to_the_checkpoint_thread(tmp_path: Path) -> None:
    database = tmp_path / "registry.db"
    engine = make_engine(f"sqlite:///{database}", checkpoints_elsewhere=True)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    write(engine, 1)
    empty = database.stat().st_size
    write(engine, TRANSACTIONS)
    assert database.stat().st_size == empty  # every page still in the log only

    checkpoints = WalCheckpoints(engine, interval=0.01).start()
    try:
        write(engine, 1)
        assert eventually(lambda: database.stat().st_size > empty + TRANSACTIONS * BLOB)
    finally:
        checkpoints.stop()
    assert checkpoints.checkpoints >= 1
    engine.dispose()


def test_without_the_flag_a_commit_checkpoints_as_sqlite_does_by_default(tmp_path: Path) -> None:
    database = tmp_path / "registry.db"
    engine = make_engine(f"sqlite:///{database}")
    write(engine, 1)
    empty = database.stat().st_size
    write(engine, TRANSACTIONS)
    assert database.stat().st_size > empty  # copied back by the commits themselves
    engine.dispose()


def test_stopping_copies_back_what_was_committed(tmp_path: Path) -> None:
    database = tmp_path / "registry.db"
    engine = make_engine(f"sqlite:///{database}", checkpoints_elsewhere=True)
    write(engine, 1)
    empty = database.stat().st_size
    checkpoints = WalCheckpoints(engine, interval=60).start()  # only stop() will wake it
    write(engine, 3)
    checkpoints.stop()
    assert database.stat().st_size > empty + 3 * BLOB
    engine.dispose()


def test_a_serving_registry_copies_its_log_back_after_a_publication(tmp_path: Path) -> None:
    """One publication of ~100 pages: SQLite's own checkpoint would wait for 1,000, and with
    automatic checkpoints off and no thread the database file would not change at all."""
    database = tmp_path / "registry.db"
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    upgrade(engine)
    signer = Ed25519Signer.generate()
    directory.enrol(engine, "uk.ac.forth", "Forth", "GB", signer.public_key)
    engine.dispose()  # the last connection to close copies the log back
    port = free_port()
    log = (tmp_path / "registry.log").open("w")
    registry = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "registry_server.cli",
            "--database-url",
            url,
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=log,
        env={**os.environ},
    )
    try:
        assert eventually(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, 30)
        before = database.stat().st_size
        records = [micro_credential(key=f"MC{i}") for i in range(300)]
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            publication_pb2_grpc.PublicationServiceStub(channel).Publish(
                pub.PublishRequest(envelope=signed(batch("uk.ac.forth", records), signer)),
                timeout=30,
            )
        assert eventually(lambda: database.stat().st_size > before + 300 * 200)
    finally:
        registry.terminate()
        registry.wait(30)
        log.close()


def test_a_checkpoint_that_fails_is_tried_again_after_the_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "registry.db"
    engine = make_engine(f"sqlite:///{database}", checkpoints_elsewhere=True)
    write(engine, 1)
    empty = database.stat().st_size
    opened = engine.raw_connection
    attempts: list[int] = []

    def open_once_failing() -> Any:
        if threading.current_thread().name == "wal-checkpoints":
            attempts.append(1)
            if len(attempts) == 1:  # as if the file could not be opened at that moment
                raise OperationalError("connect", {}, sqlite3.OperationalError("unable to open"))
        return opened()

    monkeypatch.setattr(engine, "raw_connection", open_once_failing)
    checkpoints = WalCheckpoints(engine, interval=0.01).start()
    try:
        write(engine, 3)
        assert eventually(lambda: len(attempts) == 1)
        assert database.stat().st_size == empty
        write(engine, 1)
        assert eventually(lambda: database.stat().st_size > empty + 4 * BLOB)
    finally:
        checkpoints.stop()
    assert "a WAL checkpoint failed" in caplog.text
    engine.dispose()
