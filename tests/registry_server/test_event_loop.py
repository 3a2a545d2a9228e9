"""The registry serves on uvloop by default and on asyncio's own loop when configured
(event_loop / REGISTRY_EVENT_LOOP), with its worker processes' pipes enlarged on either."""

from __future__ import annotations

import fcntl
from pathlib import Path

import grpc
import pytest

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import equivalence_pb2_grpc
from registry.v1 import records_pb2 as rec
from registry_server.workers import PIPE_BYTES
from tests.serving import served_registry


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(),
    reason="reads the registry's worker processes from /proc (Linux)",
)
@pytest.mark.parametrize("event_loop", ["uvloop", "asyncio"])
def test_the_registry_serves_on_the_configured_loop_with_enlarged_worker_pipes(
    tmp_path: Path, event_loop: str
) -> None:
    with served_registry(
        f"sqlite:///{tmp_path / 'registry.db'}",
        tmp_path,
        environment={
            "REGISTRY_EVENT_LOOP": event_loop,
            "REGISTRY_LOG_FORMAT": "text",
            "REGISTRY_CHECK_WORKERS": "1",
            "REGISTRY_QUERY_WORKERS": "1",
        },
    ) as served:
        registry, log = served.process, served.log
        assert f"(event loop: {event_loop})" in log.read_text()
        with grpc.insecure_channel(served.address) as channel:
            answer = equivalence_pb2_grpc.EquivalenceServiceStub(channel).ResolveTransfer(
                eq.ResolveTransferRequest(
                    holdings=[
                        eq.Holding(
                            credential=rec.CredentialRef(institution_id="uk.ac.taff", key="MC1"),
                            award_date="2026-06-01",
                        )
                    ],
                    target_institution_id="uk.ac.forth",
                ),
                timeout=30,
            )
        assert list(answer.grants) == []  # answered (by the query worker): nothing published
        workers = _children(registry.pid)
        assert len(workers) == 3  # the record-check, the apply and the query worker
        for worker in workers:
            # The worker's standard input is the pipe the registry writes requests into.
            with open(f"/proc/{worker}/fd/0", "rb") as requests:
                assert fcntl.fcntl(requests.fileno(), fcntl.F_GETPIPE_SZ) == PIPE_BYTES
        registry.terminate()
        assert registry.wait(30) == 0, log.read_text()
