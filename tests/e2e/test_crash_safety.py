"""Crash safety, with real processes: the agent is SIGKILLed at varied points of a sync, and
the registry between its commit and its acknowledgement; after restarts the registry holds
exactly the agent's records, none lost and none twice, and its log verifies."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from registry_server.audit import verify_log
from registry_server.db import make_engine
from registry_server.sql import table
from registry_server.tables import PublishedRecord
from sync_agent import config as agent_config
from sync_agent.store import AgentStore
from tests.conftest import free_port
from tests.factories import micro_credential

pytestmark = pytest.mark.slow
RECORDS = 3_000



class Deployment:
    """A registry process on a fixed port and one agent folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = f"sqlite:///{root / 'registry.db'}"
        self.port = free_port()
        self.home = root / "agent"
        self.registry: subprocess.Popen[bytes] | None = None
        self.cli("registry_server.cli", "--database-url", self.url, "migrate")
        self.cli("sync_agent.cli", "--home", str(self.home), "init", "--institution-id",
                 "uk.ac.forth", "--name", "Forth", "--country", "GB", "--registry",
                 f"127.0.0.1:{self.port}")
        self.cli("registry_server.cli", "--database-url", self.url, "institutions", "add", "--id",
                 "uk.ac.forth", "--name", "Forth", "--country", "GB", "--public-key",
                 str(self.home / "signing-key.pub"))
        cfg = agent_config.load(self.home)
        self.store = AgentStore(cfg.store_path, cfg.institution_id)

    def cli(self, module: str, *args: str) -> None:
        subprocess.run([sys.executable, "-m", module, *args], check=True, capture_output=True,
                       timeout=120)

    def start_registry(self, failpoint: str = "") -> None:
        env = {**os.environ, "REGISTRY_FAILPOINT": failpoint}
        self.registry = subprocess.Popen(
            [sys.executable, "-m", "registry_server.cli", "--database-url", self.url, "serve",
             "--listen", f"127.0.0.1:{self.port}"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("registry did not start")

    def stop_registry(self) -> None:
        if self.registry and self.registry.poll() is None:
            self.registry.kill()
        if self.registry:
            self.registry.wait(10)

    def sync(self, *extra: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "sync_agent.cli", "--home", str(self.home), "sync",
             "--batch-size", "10", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def edit(self, rng: random.Random, count: int, round_: int) -> None:
        keys = rng.sample(range(RECORDS), count)
        self.store.put_records([micro_credential(key=f"MC{k:05}", title=f"Edition {round_}")
                                for k in keys])

    def assert_exactly_the_agents_records(self) -> None:
        engine = make_engine(self.url)
        r = table(PublishedRecord)
        with engine.connect() as c:
            held = {(k, v, bytes(p)) for k, v, p in c.execute(
                select(r.c.key, r.c.version, r.c.payload))}
        ours = {(m.key, m.version, m.SerializeToString(deterministic=True))
                for m in self.store.records(1)}
        assert len(held) == RECORDS
        assert held == ours
        report = verify_log(engine)
        assert report.ok, report.problems
        engine.dispose()


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    d = Deployment(tmp_path)
    d.store.put_records([micro_credential(key=f"MC{i:05}") for i in range(RECORDS)])
    yield d
    d.stop_registry()
    d.store.close()


def test_agent_killed_at_varied_points_loses_and_duplicates_nothing(deployment: Deployment) -> None:
    rng = random.Random(20261122)
    deployment.start_registry()
    kills = 0
    for round_ in range(10):
        deployment.edit(rng, 300, round_)
        # A point inside this round's sync: after the registry has acknowledged the change
        # kill_after, before the last. The agent is watched through its own store, not
        # timed: a sync takes ~0.3-3 s depending on the machine, and a fixed delay let it
        # finish first on a fast day.
        acked, last = deployment.store.sync_state().acked_seq, deployment.store.last_seq()
        kill_after = rng.randrange(acked + 1, last)
        agent = deployment.sync()
        while agent.poll() is None and deployment.store.sync_state().acked_seq < kill_after:
            time.sleep(0.002)
        if agent.poll() is None:
            agent.send_signal(signal.SIGKILL)
            kills += 1
        agent.wait(10)
    assert kills >= 3, "the agent should have been killed mid-sync several times"
    assert deployment.sync().wait(120) == 0
    deployment.assert_exactly_the_agents_records()
    assert deployment.store.sync_state().acked_seq == deployment.store.last_seq()


def test_registry_killed_between_commit_and_acknowledgement(deployment: Deployment) -> None:
    rng = random.Random(7)
    for round_, commits in enumerate((1, 3, 7, 2, 5)):
        deployment.start_registry(failpoint=f"after-commit:{commits}")
        agent = deployment.sync("--wait", "1")
        deployment.registry.wait(60)  # type: ignore[union-attr]
        assert deployment.registry.returncode == -signal.SIGKILL  # type: ignore[union-attr]
        agent.kill()
        agent.wait(10)
        deployment.edit(rng, 30, round_)
    for _ in range(4):  # and killed at random moments, too
        deployment.start_registry()
        agent = deployment.sync()
        time.sleep(rng.uniform(0.2, 1.5))
        deployment.stop_registry()
        agent.kill()
        agent.wait(10)
    deployment.start_registry()
    assert deployment.sync().wait(120) == 0
    deployment.assert_exactly_the_agents_records()
