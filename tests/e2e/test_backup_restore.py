"""The backup and restore runbook (docs/operations.md, "Backup and restore"), run: a registry
that has published is backed up while it serves, restored into a fresh database, and the
restored one passes `registry-server log verify` and answers as the original did."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import make_url
from sqlalchemy.engine import Engine

from registry_server.db import make_engine, upgrade
from sync_agent.client import RegistryClient
from sync_agent.store import AgentStore
from sync_agent.sync import sync
from tests.conftest import Network, RunningRegistry, fresh_pg_database, registry_state
from tests.factories import micro_credential

pytestmark = pytest.mark.slow
INSTITUTION = "uk.ac.forth"


def publish(engine: Engine, tmp_path: Path) -> RunningRegistry:
    """A registry on engine, serving, to which an agent has published twice (two syncs, so
    the log has entries that chain)."""
    upgrade(engine)
    network = Network(engine)
    signer = network.enrol(INSTITUTION)
    running = RunningRegistry(engine)
    store = AgentStore(tmp_path / "agent.db", INSTITUTION)
    with RegistryClient(running.address) as client:
        store.put_records([micro_credential(key=f"MC{i:03}") for i in range(30)])
        sync(store, client, signer, batch_size=10)
        store.put_records([micro_credential(key="MC007", title="Changed")])
        sync(store, client, signer)
    store.close()
    return running


def answers(engine: Engine) -> tuple[tuple[int, str], list[bytes], tuple[object, ...]]:
    """What a registry on engine says: the institution's checkpoint and the directory, over
    gRPC, and every row of every table."""
    running = RunningRegistry(engine)
    try:
        with RegistryClient(running.address) as client:
            checkpoint = client.checkpoint(INSTITUTION)
            directory = [i.SerializeToString(deterministic=True) for i in client.institutions()]
    finally:
        running.stop()
    return (checkpoint.last_seq, checkpoint.head), directory, registry_state(engine)


def log_verify(url: str) -> str:
    """`registry-server log verify` on url, as the runbook has the operator run it."""
    done = subprocess.run(
        [sys.executable, "-m", "registry_server.cli", "--database-url", url, "log", "verify"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def libpq(url: str) -> str:
    """A SQLAlchemy URL as pg_dump and pg_restore take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_postgresql_pg_dump_restored_into_a_fresh_database_verifies_and_answers_alike(
    tmp_path: Path,
) -> None:
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (PostgreSQL's client tools)")
    with fresh_pg_database("live") as live_url, fresh_pg_database("restored") as restored_url:
        live = make_engine(live_url)
        serving = publish(live, tmp_path)
        dump = tmp_path / "registry.dump"
        try:  # taken while the registry serves, as the runbook has it
            subprocess.run(
                ["pg_dump", "--format=custom", "--file", str(dump), libpq(live_url)],
                check=True,
                capture_output=True,
                timeout=300,
            )
        finally:
            serving.stop()
        subprocess.run(
            [
                "pg_restore",
                "--exit-on-error",
                "--no-owner",
                "--dbname",
                libpq(restored_url),
                str(dump),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        assert "all verified" in log_verify(restored_url)
        restored = make_engine(restored_url)
        try:
            assert answers(restored) == answers(live)
            assert answers(restored)[0][0] == 31  # 30 records, then one changed
        finally:
            restored.dispose()
            live.dispose()


def backup_with_the_cli(live: Path, backup: Path) -> None:
    if shutil.which("sqlite3") is None:
        pytest.skip(
            "the sqlite3 command-line shell is not installed (the python backup API "
            "is tested beside this)"
        )
    subprocess.run(
        ["sqlite3", str(live), f".backup '{backup}'"], check=True, capture_output=True, timeout=300
    )


def backup_with_python(live: Path, backup: Path) -> None:
    source, target = sqlite3.connect(live), sqlite3.connect(backup)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


@pytest.mark.parametrize(
    "take_backup",
    [backup_with_the_cli, backup_with_python],
    ids=["sqlite3 .backup", "python sqlite3 backup API"],
)
def test_sqlite_backup_taken_while_serving_verifies_and_answers_alike(
    tmp_path: Path, take_backup: Callable[[Path, Path], None]
) -> None:
    live_path, backup_path = tmp_path / "registry.db", tmp_path / "registry-backup.db"
    live = make_engine(f"sqlite:///{live_path}")
    serving = publish(live, tmp_path)
    try:
        take_backup(live_path, backup_path)
    finally:
        serving.stop()
    backup_url = f"sqlite:///{backup_path}"
    assert "all verified" in log_verify(backup_url)
    restored = make_engine(backup_url)
    try:
        assert answers(restored) == answers(live)
    finally:
        restored.dispose()
        live.dispose()
