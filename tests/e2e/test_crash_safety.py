"""Crash safety, with real processes: the agent is SIGKILLed at varied points of a sync, and
the registry between its commit and its acknowledgement; after restarts the registry holds
exactly the agent's records, none lost and none twice, and its log verifies."""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.deployment import Deployment
from tests.factories import micro_credential

pytestmark = pytest.mark.slow
RECORDS = 3_000


def edit(deployment: Deployment, rng: random.Random, count: int, round_: int) -> None:
    keys = rng.sample(range(RECORDS), count)
    deployment.store.put_records(
        [micro_credential(key=f"MC{k:05}", title=f"Edition {round_}") for k in keys]
    )


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    with Deployment(tmp_path) as d:
        d.store.put_records([micro_credential(key=f"MC{i:05}") for i in range(RECORDS)])
        yield d


def test_agent_killed_at_varied_points_loses_and_duplicates_nothing(deployment: Deployment) -> None:
    rng = random.Random(20261122)
    deployment.start_registry()
    kills = 0
    for round_ in range(10):
        edit(deployment, rng, 300, round_)
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
    deployment.assert_exactly_the_agents_records(RECORDS)
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
        edit(deployment, rng, 30, round_)
    for _ in range(4):  # and killed at random moments, too
        deployment.start_registry()
        agent = deployment.sync()
        time.sleep(rng.uniform(0.2, 1.5))
        deployment.stop_registry()
        agent.kill()
        agent.wait(10)
    deployment.start_registry()
    assert deployment.sync().wait(120) == 0
    deployment.assert_exactly_the_agents_records(RECORDS)
