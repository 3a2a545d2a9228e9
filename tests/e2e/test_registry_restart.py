"""The agent rides out a registry restart, with real processes: a sync started while the
registry is down keeps trying and publishes everything once it is back; a registry down for
the whole retry budget ends the sync with exit status 75, naming the address and budget."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync_agent.cli import EXIT_REGISTRY_UNREACHABLE
from tests.e2e.deployment import Deployment
from tests.factories import micro_credential

pytestmark = pytest.mark.slow
RECORDS = 50


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    with Deployment(tmp_path) as d:
        d.store.put_records([micro_credential(key=f"MC{i:03}") for i in range(RECORDS)])
        yield d


def test_a_sync_started_while_the_registry_is_down_publishes_once_it_is_back(
    deployment: Deployment,
) -> None:
    agent = deployment.sync("--retry-minutes", "5", stderr=subprocess.PIPE)
    assert agent.stderr is not None
    # The registry starts only once the agent has failed to reach it and said when it tries
    # next: the outage is seen whatever the machine's speed.
    said: list[dict[str, str]] = []
    for line in agent.stderr:
        said += [json.loads(line)] if line.startswith(b"{") else []
        if said and "next_attempt_at" in said[-1]:
            break
    else:
        raise AssertionError(f"the agent ended without retrying: {said}")
    assert f"127.0.0.1:{deployment.port}" in said[-1]["message"]
    deployment.start_registry()
    _, rest = agent.communicate(timeout=300)
    assert agent.returncode == 0, rest.decode()
    deployment.assert_exactly_the_agents_records(RECORDS)
    assert deployment.store.sync_state().acked_seq == deployment.store.last_seq()


def test_a_registry_down_for_the_whole_budget_ends_the_sync_with_status_75(
    deployment: Deployment,
) -> None:
    agent = deployment.sync("--retry-minutes", "0.02", stderr=subprocess.PIPE)
    _, stderr = agent.communicate(timeout=300)
    assert agent.returncode == EXIT_REGISTRY_UNREACHABLE == 75
    last = stderr.decode().strip().splitlines()[-1]
    assert last.startswith(f"sync-agent: the registry at 127.0.0.1:{deployment.port} ")
    assert "for the whole retry budget of 0.02 minutes" in last
    assert "nothing listens there" in last
    assert deployment.store.sync_state().acked_seq == 0
