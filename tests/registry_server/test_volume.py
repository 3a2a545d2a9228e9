"""Volume of learning at publish: notional hours against credit, and the size of a
micro-credential, refused or warned of as the network's settings say."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import grpc
import pytest

from registry.v1 import publication_pb2 as pub
from registry.v1 import publication_pb2_grpc
from registry.v1 import records_pb2 as rec
from registry_server import config as registry_config
from registry_server.volume import VolumeRule, volume_problem
from sync_agent.client import RegistryClient
from sync_agent.store import AgentStore
from sync_agent.sync import sync
from tests.conftest import Network, RunningRegistry, registry_state
from tests.factories import batch, head_after, micro_credential, signed

DEFAULT = VolumeRule()


@pytest.mark.parametrize(
    ("hours", "credit", "system"),
    [
        (150, 15, "SCQF"),  # the notional 10 hours a credit
        (75, 15, "UK_CREDIT"),
        (225, 15, "UK_CREDIT"),  # the tolerance's edges
        (125, 5, "ECTS"),
        (150, 5, "ECTS"),  # ECTS's own 25-30 hours a credit
        (100, 5, "ECTS"),  # the UK's 20 hours an ECTS credit (2 UK credits to 1 ECTS)
        (590, 59, "UK_CREDIT"),  # just under the size of a PG Certificate
    ],
)
def test_figures_the_frameworks_allow_pass(hours: float, credit: float, system: str) -> None:
    assert volume_problem(hours, credit, system, DEFAULT) is None


@pytest.mark.parametrize(
    ("hours", "credit", "system", "field", "figures"),
    [
        (50, 5, "ECTS", "workload_hours", "50 for 5 ECTS credits, which are 137.5 notional hours"),
        (300, 10, "UK_CREDIT", "workload_hours", "accepts 50 to 150"),  # ECTS hours, UK credit
        (1500, 15, "SCQF", "workload_hours", "1500 for 15 SCQF"),  # a slip of a digit
        (600, 60, "UK_CREDIT", "credit.value", "60 UK_CREDIT (30 ECTS)"),
        (825, 30, "ECTS", "credit.value", "less than 30 ECTS"),
    ],
)
def test_figures_outside_the_settings_name_the_field_and_figures(
    hours: float, credit: float, system: str, field: str, figures: str
) -> None:
    found = volume_problem(hours, credit, system, DEFAULT)
    assert found is not None
    assert found[0] == field and figures in found[1]


def test_zero_turns_each_check_off() -> None:
    off = VolumeRule(workload_tolerance=0, credit_limit_ects=0)
    assert volume_problem(1, 120, "UK_CREDIT", off) is None


def publish(
    channel: grpc.Channel,
    network: Network,
    records: list[object],
    *,
    first_seq: int = 1,
    prev_head: str = "",
) -> grpc.Call:
    stub = publication_pb2_grpc.PublicationServiceStub(channel)
    _, call = stub.Publish.with_call(
        pub.PublishRequest(
            envelope=signed(
                batch("uk.ac.forth", records, first_seq=first_seq, prev_head=prev_head),
                network.signers["uk.ac.forth"],
            )
        ),
        timeout=10,
    )
    return cast(grpc.Call, call)


def test_hours_that_do_not_fit_the_credit_are_refused_at_publish(
    network: Network, registry: RunningRegistry
) -> None:
    before = registry_state(network.engine)
    with grpc.insecure_channel(registry.address) as channel, pytest.raises(grpc.RpcError) as caught:
        publish(
            channel, network, [micro_credential(key="MC0"), micro_credential(workload_hours=40)]
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = caught.value.details() or ""
    assert (
        "MicroCredential uk.ac.forth/MC1: field 'workload_hours': (seq 2) is 40 for 15 "
        "SCQF credits, which are 150 notional hours (10 a credit); this network accepts "
        "75 to 225" in details
    )
    assert registry_state(network.engine) == before


def test_a_credential_the_size_of_an_award_is_refused_at_publish(
    network: Network, registry: RunningRegistry
) -> None:
    with grpc.insecure_channel(registry.address) as channel, pytest.raises(grpc.RpcError) as caught:
        publish(
            channel,
            network,
            [micro_credential(credit=rec.Credit(value=60, system="SCQF"), workload_hours=600)],
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "field 'credit.value'" in (caught.value.details() or "")


def test_warn_mode_applies_the_batch_and_tells_the_publisher(
    network: Network, tmp_path: Path
) -> None:
    """The institution's agent gets the warning in the Publish answer and says it in the
    sync's outcome, which its CLI prints and its terminal UI shows; a later batch with
    nothing to warn of says nothing."""
    running = RunningRegistry(network.engine, volume=VolumeRule(mode="warn"))
    store = AgentStore(tmp_path / "store.db", "uk.ac.forth")
    signer = network.signers["uk.ac.forth"]
    try:
        with RegistryClient(running.address) as client:
            store.put_records([micro_credential(workload_hours=40)])
            warned = sync(store, client, signer)
            outcome = store.sync_state().last_outcome
            store.put_records([micro_credential(title="Retitled")])
            quiet = sync(store, client, signer)
    finally:
        running.stop()
    [warning] = warned.warnings
    assert "MicroCredential uk.ac.forth/MC1: field 'workload_hours'" in warning
    assert warned.last_seq == 1 and "1 warning: MicroCredential uk.ac.forth/MC1" in outcome
    assert quiet.warnings == () and "warning" not in store.sync_state().last_outcome
    assert running.metrics.warned.labels("uk.ac.forth")._value.get() == 1


def test_a_credential_outside_the_settings_can_still_be_withdrawn(
    network: Network, registry: RunningRegistry
) -> None:
    """One published before the settings (here, with the check off) is withdrawn all the
    same: a withdrawal is not checked."""
    from registry_server import publication

    first = batch("uk.ac.forth", [micro_credential(workload_hours=40)])
    publication.publish(
        network.engine,
        signed(first, network.signers["uk.ac.forth"]),
        volume=VolumeRule(workload_tolerance=0),
    )
    with grpc.insecure_channel(registry.address) as channel:
        publish(
            channel,
            network,
            [micro_credential(workload_hours=40, version=2, status=rec.RECORD_STATUS_WITHDRAWN)],
            first_seq=2,
            prev_head=head_after(first),
        )


def test_the_settings_come_from_the_file_and_environment(tmp_path: Path) -> None:
    sample = tmp_path / "registry.toml"
    sample.write_text('workload_tolerance = 0.25\nvolume_mode = "warn"\n')
    settings = registry_config.load(sample, environ={"REGISTRY_CREDIT_LIMIT_ECTS": "0"})
    assert registry_config.volume_rule(settings) == VolumeRule(0.25, 0, "warn")
    assert registry_config.volume_rule(registry_config.load(None, environ={})) == DEFAULT
    for text, problem in (
        ('volume_mode = "ignore"', 'use "refuse" or "warn"'),
        ("workload_tolerance = -1", "give 0 to 10"),
        ('credit_limit_ects = "lots"', "is not a number"),
    ):
        sample.write_text(text + "\n")
        with pytest.raises(registry_config.ConfigError, match=problem):
            registry_config.load(sample, environ={})
