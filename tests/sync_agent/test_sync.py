"""The agent's sync against a real registry on a loopback port."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from sqlalchemy import func, select

from registry.v1 import publication_pb2 as pub
from registry_server.sql import table
from registry_server.tables import BatchLogEntry, PublishedRecord
from sync_agent.client import ClientTLS, PendingPublication, RegistryClient
from sync_agent.reachability import why_unreachable
from sync_agent.store import AgentStore
from sync_agent.sync import WINDOW, SyncError, SyncLock, sync
from tests.conftest import Network, RunningRegistry, client_tls
from tests.factories import micro_credential


class CountingClient(RegistryClient):
    """The real client, counting calls; optionally losing one acknowledgement."""

    def __init__(self, address: str, lose_ack_of_call: int | None = None) -> None:
        super().__init__(address)
        self.calls: list[str] = []
        self.lose_ack_of_call = lose_ack_of_call

    def checkpoint(self, institution_id: str) -> pub.GetCheckpointResponse:
        self.calls.append("checkpoint")
        return super().checkpoint(institution_id)

    def publish_async(self, envelope: pub.SignedEnvelope) -> PendingPublication:
        self.calls.append("publish")
        pending = super().publish_async(envelope)
        if len(self.calls) == self.lose_ack_of_call:
            return _LostAcknowledgement(pending)
        return pending


class _LostAcknowledgement(PendingPublication):
    """The registry got the batch and answered; the answer was lost on the way."""

    def __init__(self, pending: PendingPublication) -> None:
        super().__init__(pending.call)

    def result(self) -> pub.PublishResponse:
        super().result()
        raise _Unavailable()


class OvertakingClient(CountingClient):
    """The real client, but the first batch leaves only when the agent waits for its answer,
    so the second arrives at the registry first (as calls sharing a connection may)."""

    def publish_async(self, envelope: pub.SignedEnvelope) -> PendingPublication:
        if self.calls != ["checkpoint"]:
            return super().publish_async(envelope)
        self.calls.append("publish (held back)")
        return _SentOnWait(lambda: super(OvertakingClient, self).publish_async(envelope))


class _SentOnWait(PendingPublication):
    def __init__(self, send: Callable[[], PendingPublication]) -> None:
        self.send = send

    def result(self) -> pub.PublishResponse:
        return self.send().result()


class _Unavailable(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "connection reset"


def stored_count(network: Network) -> int:
    with network.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table(PublishedRecord))).scalar_one())


def logged_batches(network: Network) -> int:
    with network.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table(BatchLogEntry))).scalar_one())


@pytest.fixture
def store(tmp_path: Path) -> AgentStore:
    agent = AgentStore(tmp_path / "store.db", "uk.ac.forth")
    agent.put_records([micro_credential(key=f"MC{i:03}") for i in range(10)])
    return agent


def test_sync_publishes_in_batches_and_then_has_nothing_new(
    network: Network, registry: RunningRegistry, store: AgentStore
) -> None:
    signer = network.signers["uk.ac.forth"]
    with CountingClient(registry.address) as client:
        result = sync(store, client, signer, batch_size=4)
        assert (result.batches, result.changes, result.last_seq) == (3, 10, 10)
        assert stored_count(network) == 10
        client.calls.clear()
        again = sync(store, client, signer)
        assert again.batches == 0
        assert client.calls == ["checkpoint"], "a sync with nothing new is one round trip"
    assert store.sync_state().acked_seq == 10
    assert "nothing new" in store.sync_state().last_outcome


def test_incremental_sync_sends_only_the_changes(
    network: Network, registry: RunningRegistry, store: AgentStore
) -> None:
    signer = network.signers["uk.ac.forth"]
    with CountingClient(registry.address) as client:
        sync(store, client, signer)
        store.put_records([micro_credential(key="MC003", title="Changed")])
        result = sync(store, client, signer)
    assert (result.changes, result.last_seq) == (1, 11)
    assert stored_count(network) == 10


def test_lost_acknowledgement_is_retried_without_duplicates(
    network: Network, registry: RunningRegistry, store: AgentStore
) -> None:
    with CountingClient(registry.address, lose_ack_of_call=2) as client:
        result = sync(store, client, network.signers["uk.ac.forth"], batch_size=4)
    assert result.last_seq == 10
    # The first batch's acknowledgement was lost while the others were in flight behind it:
    # every one in flight then went again (replays, acknowledged as before).
    in_flight = min(WINDOW, 3)
    assert client.calls.count("publish") == in_flight + 3
    assert stored_count(network) == 10
    assert logged_batches(network) == 3, "a replay adds nothing to the log"


def test_a_batch_that_overtakes_the_one_ahead_is_sent_again(
    network: Network, registry: RunningRegistry, store: AgentStore, caplog: pytest.LogCaptureFixture
) -> None:
    with OvertakingClient(registry.address) as client:
        result = sync(store, client, network.signers["uk.ac.forth"], batch_size=4)
    assert result.last_seq == 10
    # Batches 2 and 3 arrived first and were refused for the gap (nothing changed); batch 1
    # left when the agent waited for it; then 2 and 3 again.
    assert client.calls == ["checkpoint", "publish (held back)"] + ["publish"] * 5
    assert "overtook the one ahead" in caplog.text
    assert stored_count(network) == 10
    assert logged_batches(network) == 3


def test_unreachable_registry_is_explained_and_recorded(
    tmp_path: Path, store: AgentStore, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sync_agent.sync.INTERACTIVE_RETRY_MINUTES", 0)
    with RegistryClient("127.0.0.1:9") as client, pytest.raises(SyncError, match="unreachable"):
        sync(store, client, network.signers["uk.ac.forth"])
    outcome = store.sync_state().last_outcome
    assert (
        "the registry at 127.0.0.1:9 (from agent.toml's registry setting) is unreachable" in outcome
        and "nothing listens there" in outcome
    )


@pytest.mark.parametrize(
    ("tls", "said"),
    [
        ("none", "it most likely requires mutual TLS, and this agent has none"),
        ("foreign CA", "its certificate is not signed by the CA this agent trusts"),
        ("foreign certificate", "most likely it does not accept this agent's certificate"),
    ],
)
def test_a_tls_failure_says_what_failed(
    tmp_path: Path,
    store: AgentStore,
    network: Network,
    tls_registry: RunningRegistry,
    pki: Path,
    monkeypatch: pytest.MonkeyPatch,
    tls: str,
    said: str,
) -> None:
    """A registry that requires mutual TLS dialled without it, with another network's CA,
    or with a certificate from another CA: each once ended as "unreachable; check the
    address", now says which of them it is, and which address from where."""
    monkeypatch.setattr("sync_agent.sync.INTERACTIVE_RETRY_MINUTES", 0)
    monkeypatch.setenv("SYNC_AGENT_REGISTRY", tls_registry.address)
    own = client_tls(pki, "institution-uk.ac.forth")
    rogue = client_tls(pki, "institution-uk.ac.forth", pki / "rogue")  # the rogue CA's
    chosen = {
        "none": None,
        "foreign CA": ClientTLS(
            (pki / "rogue" / "ca.pem").read_bytes(), own.certificate, own.private_key
        ),
        "foreign certificate": rogue,
    }[tls]
    with RegistryClient(tls_registry.address, chosen) as client, pytest.raises(SyncError) as caught:
        sync(store, client, network.signers["uk.ac.forth"])
    assert f"the registry at {tls_registry.address} (from SYNC_AGENT_REGISTRY)" in str(caught.value)
    assert said in str(caught.value)


def test_a_certificate_for_another_name_is_said_from_grpcs_words() -> None:
    """gRPC's words when the registry's certificate does not name the host dialled (as
    gRPC 1.85 says it; a loopback test cannot dial another name for the same registry)."""
    said = why_unreachable(
        "failed to connect to all addresses; last error: UNKNOWN: "
        "ipv4:127.0.0.1:50051: Custom verification check failed with error: "
        "UNAUTHENTICATED: Hostname Verification Check failed.",
        "127.0.0.1:50051",
        True,
    )
    assert said.startswith("its certificate does not name 127.0.0.1")


def test_agent_behind_the_registry_is_told_to_restore(
    network: Network, registry: RunningRegistry, store: AgentStore, tmp_path: Path
) -> None:
    with RegistryClient(registry.address) as client:
        sync(store, client, network.signers["uk.ac.forth"])
        fresh = AgentStore(tmp_path / "fresh.db", "uk.ac.forth")
        fresh.put_records([micro_credential()])
        with pytest.raises(SyncError, match="restored from an old backup"):
            sync(fresh, client, network.signers["uk.ac.forth"])


def test_a_second_sync_waits_then_exits_cleanly(tmp_path: Path) -> None:
    lock = tmp_path / "sync.lock"
    with SyncLock(lock, 0), pytest.raises(SyncError, match="another sync"):
        with SyncLock(lock, 0.2):
            pass
    with SyncLock(lock, 0):  # released: the next one gets it at once
        pass
