"""20 agents syncing at once against two registry processes sharing one PostgreSQL database
converge, with no error other than retried transient ones."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from registry_core.envelope import Ed25519Signer
from registry_server import directory
from registry_server.audit import verify_log
from registry_server.db import make_engine, upgrade
from registry_server.sql import table
from registry_server.tables import PublishedRecord
from sync_agent.client import RegistryClient
from sync_agent.store import AgentStore
from sync_agent.sync import SyncResult, sync
from tests.conftest import PG_URL
from tests.factories import micro_credential
from tests.serving import served_registry

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
AGENTS, RECORDS, BATCH = 20, 300, 25


@pytest.fixture
def shared_database(pg_schema: str) -> str:
    """A URL every registry process can open on the test's own schema."""
    return f"{PG_URL}?options=-csearch_path%3D{pg_schema}"


def test_twenty_agents_two_registries_one_postgres(shared_database: str, tmp_path: Path) -> None:
    engine = make_engine(shared_database)
    upgrade(engine)
    agents = []
    for n in range(AGENTS):
        institution = f"uk.ac.college{n:02}"
        signer = Ed25519Signer.generate()
        directory.enrol(engine, institution, f"College {n}", "GB", signer.public_key)
        store = AgentStore(tmp_path / f"{institution}.db", institution)
        store.put_records([micro_credential(institution, f"MC{i:04}") for i in range(RECORDS)])
        agents.append((store, signer))
    with (
        served_registry(shared_database, tmp_path, name="first") as first,
        served_registry(shared_database, tmp_path, name="second") as second,
    ):
        addresses = [first.address, second.address]

        def run(index: int) -> SyncResult:
            store, signer = agents[index]
            with RegistryClient(addresses[index % 2]) as client:
                return sync(store, client, signer, batch_size=BATCH)

        with ThreadPoolExecutor(AGENTS) as pool:
            results = list(pool.map(run, range(AGENTS)))
    assert all(r.last_seq == RECORDS for r in results)
    r = table(PublishedRecord)
    with engine.connect() as c:
        counts: dict[str, int] = dict(
            c.execute(select(r.c.institution_id, func.count()).group_by(r.c.institution_id)).all()
        )
    assert counts == {f"uk.ac.college{n:02}": RECORDS for n in range(AGENTS)}
    report = verify_log(engine)
    assert report.ok, report.problems
    assert report.entries == AGENTS * RECORDS // BATCH
    engine.dispose()
