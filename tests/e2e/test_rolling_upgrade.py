"""The rolling upgrade runbook (docs/operations.md, "Rolling upgrade"), run across the newest
migration: the release before it, taken from this repository's history, serves a PostgreSQL
database; the current release starts beside it and migrates that database while the old one
serves; then both accept publications and answer the same questions the same way."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import time
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import text

from registry_server.audit import verify_log
from registry_server.db import make_engine
from sync_agent.client import RegistryClient
from sync_agent.config import PUBLIC_KEY, init_home
from sync_agent.store import AgentStore
from sync_agent.sync import sync
from tests.conftest import fresh_pg_database
from tests.factories import micro_credential

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = "registry_server/migrations/versions"
INSTITUTIONS = ("uk.ac.forth", "uk.ac.taff")


def git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, timeout=120)
    if done.returncode:
        pytest.skip(
            f"this repository's history is not available (git {' '.join(args)}: "
            f"{done.stderr.decode().strip()})"
        )
    return done.stdout.decode().strip()


def release_before_newest_migration(into: Path) -> str:
    """The tree of the commit before the one that added the newest migration, extracted into
    into (as `git archive` gives it); that migration's revision."""
    newest = sorted(p.name for p in (ROOT / MIGRATIONS).glob("0*.py"))[-1]
    added = git("log", "-1", "--format=%H", "--diff-filter=A", "--", f"{MIGRATIONS}/{newest}")
    if not added:
        pytest.skip(
            f"git history does not hold the commit that added {newest} (a shallow "
            "clone?); fetch the full history to run this test"
        )
    if git("rev-parse", "--is-shallow-repository") == "true":
        git("cat-file", "-e", f"{added}^")  # skips when the parent was not fetched
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", f"{added}^"],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return newest.split("_")[0]


class Registry:
    """registry-server of one release (its source tree first on PYTHONPATH, with this
    environment's packages) on one database."""

    def __init__(self, tree: Path, url: str, workdir: Path) -> None:
        self.url, self.workdir = url, workdir
        self.env = {**os.environ, "PYTHONPATH": str(tree)}
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "registry_server.cli", "--database-url", self.url, *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode()

    def serve(self) -> str:
        port_file = self.workdir / "port"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "registry_server.cli",
                "--database-url",
                self.url,
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--port-file",
                str(port_file),
            ],
            env=self.env,
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=(self.workdir / "serve.log").open("wb"),
        )
        deadline = time.monotonic() + 120
        while not port_file.exists():
            assert self.process.poll() is None and time.monotonic() < deadline, (
                self.workdir / "serve.log"
            ).read_text()
            time.sleep(0.05)
        return f"127.0.0.1:{port_file.read_text()}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(60)


def schema_revision(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return str(
                connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            )
    finally:
        engine.dispose()


def answers(address: str) -> tuple[object, ...]:
    """What a registry says of the network: each institution's checkpoint, the directory."""
    with RegistryClient(address) as client:
        return (
            tuple((c.last_seq, c.head) for c in map(client.checkpoint, INSTITUTIONS)),
            [i.SerializeToString(deterministic=True) for i in client.institutions()],
        )


def test_the_release_before_the_newest_migration_serves_beside_the_current_one(
    tmp_path: Path,
) -> None:
    old_tree = tmp_path / "old-release"
    newest = release_before_newest_migration(old_tree)
    assert not list((old_tree / MIGRATIONS).glob(f"{newest}_*.py")), "not the release before"
    with fresh_pg_database("rolling") as url:
        (tmp_path / "old").mkdir()
        (tmp_path / "new").mkdir()
        old = Registry(old_tree, url, tmp_path / "old")
        new = Registry(ROOT, url, tmp_path / "new")
        old.cli("migrate")  # the database as the old release left it
        assert schema_revision(url) < newest, "the old release's own code did not run"
        agents = {i: init_home(tmp_path / i, i, i, "GB", "127.0.0.1:1") for i in INSTITUTIONS}
        for institution in INSTITUTIONS:
            old.cli(
                "institutions",
                "add",
                "--id",
                institution,
                "--name",
                institution,
                "--country",
                "GB",
                "--public-key",
                str(tmp_path / institution / PUBLIC_KEY),
            )
        stores = {i: AgentStore(cfg.store_path, i) for i, (cfg, _) in agents.items()}
        try:
            old_address = old.serve()
            new_address = new.serve()  # migrates the database under the old one
            assert schema_revision(url) == newest
            for round_, (forth_to, taff_to) in enumerate(
                [(old_address, new_address), (new_address, old_address)]
            ):
                for institution, address in zip(INSTITUTIONS, (forth_to, taff_to), strict=True):
                    stores[institution].put_records(
                        [micro_credential(institution, f"MC{round_}{i:02}") for i in range(20)]
                    )
                    with RegistryClient(address) as client:
                        result = sync(stores[institution], client, agents[institution][1])
                    assert result.last_seq == 20 * (round_ + 1)
            assert answers(old_address) == answers(new_address)
            assert answers(old_address)[0] == (
                (40, stores["uk.ac.forth"].sync_state().head),
                (40, stores["uk.ac.taff"].sync_state().head),
            )
        finally:
            old.stop()
            new.stop()
            for store in stores.values():
                store.close()
        engine = make_engine(url)
        try:
            report = verify_log(engine)
        finally:
            engine.dispose()
        assert report.ok, report.problems
        assert report.entries == 4
