"""Applying signed batches, on SQLite and on the real PostgreSQL: each refusal gets its
precise error and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core import errors
from registry_core.envelope import Ed25519Signer
from registry_server import publication
from registry_server.sql import table
from registry_server.tables import AgreementEdge, PublishedRecord
from tests.conftest import Network, registry_state
from tests.factories import agreement, batch, head_after, micro_credential, module, signed


def snapshot(engine: Engine) -> tuple[object, ...]:
    return registry_state(engine)


def publish_first(network: Network) -> pub.Batch:
    first = batch("uk.ac.forth", [micro_credential(key="MC1"), micro_credential(key="MC2")])
    publication.publish(network.engine, signed(first, network.signers["uk.ac.forth"]))
    return first


def test_batch_is_applied_with_checkpoint_and_receipt(network: Network) -> None:
    first = batch("uk.ac.forth", [micro_credential(key="MC1"), micro_credential(key="MC2")])
    ack = publication.publish(network.engine, signed(first, network.signers["uk.ac.forth"]))
    assert (ack.last_seq, ack.records_applied, ack.receipt.log_index) == (2, 2, 1)
    assert ack.head == head_after(first)
    assert publication.checkpoint(network.engine, "uk.ac.forth").head == ack.head
    second = batch(
        "uk.ac.forth",
        [micro_credential(key="MC1", version=2, title="Renamed")],
        first_seq=3,
        prev_head=ack.head,
    )
    ack2 = publication.publish(network.engine, signed(second, network.signers["uk.ac.forth"]))
    assert ack2.receipt.log_index == 2 and ack2.receipt.log_head != ack.receipt.log_head
    with network.engine.connect() as c:
        r = table(PublishedRecord)
        payload = c.execute(select(r.c.payload).where(r.c.key == "MC1")).scalar_one()
    assert rec.MicroCredential.FromString(payload).title == "Renamed"


def test_replayed_batch_returns_the_same_acknowledgement_and_changes_nothing(
    network: Network,
) -> None:
    first = batch("uk.ac.forth", [micro_credential()])
    envelope = signed(first, network.signers["uk.ac.forth"])
    ack = publication.publish(network.engine, envelope)
    before = snapshot(network.engine)
    assert publication.publish(network.engine, envelope) == ack
    assert snapshot(network.engine) == before


def test_agreements_are_indexed_and_withdrawals_remove_their_edges(network: Network) -> None:
    taff = network.signers["uk.ac.taff"]
    first = batch(
        "uk.ac.taff", [module(), agreement(sources=[("uk.ac.forth", "A"), ("uk.ac.lagan", "B")])]
    )
    ack = publication.publish(network.engine, signed(first, taff))
    with network.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(table(AgreementEdge))).scalar() == 2
    withdraw = batch(
        "uk.ac.taff",
        [pub.Tombstone(kind=rec.RECORD_KIND_AGREEMENT, key="AG1", version=2)],
        first_seq=3,
        prev_head=ack.head,
    )
    publication.publish(network.engine, signed(withdraw, taff))
    with network.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(table(AgreementEdge))).scalar() == 0
        r = table(PublishedRecord)
        status = c.execute(select(r.c.status).where(r.c.key == "AG1")).scalar_one()
    assert status == rec.RECORD_STATUS_WITHDRAWN


def test_a_series_grant_is_indexed_once_per_source_and_unit(network: Network) -> None:
    """Two sources granting BIO1A with its lab BIO1AL: four edges, one per source and unit;
    general credit one per source, with no unit. Republishing the series rewrites them."""
    taff = network.signers["uk.ac.taff"]
    first = batch(
        "uk.ac.taff",
        [
            module(key="BIO1A"),
            module(key="BIO1AL", credit=5),
            agreement(
                units=["BIO1A", "BIO1AL"], sources=[("uk.ac.forth", "A"), ("uk.ac.lagan", "B")]
            ),
            agreement(
                key="AG2",
                general=rec.GeneralCredit(
                    credit=rec.Credit(value=10, system="UK_CREDIT"),
                    level=rec.Level(framework="FHEQ", level="4"),
                ),
            ),
        ],
    )
    ack = publication.publish(network.engine, signed(first, taff))

    def edges() -> list[tuple[str, str, str]]:
        e = table(AgreementEdge)
        with network.engine.connect() as c:
            return sorted(
                (r[0], r[1], r[2])
                for r in c.execute(select(e.c.agreement_key, e.c.source_key, e.c.grant_unit_key))
            )

    assert edges() == [
        ("AG1", "A", "BIO1A"),
        ("AG1", "A", "BIO1AL"),
        ("AG1", "B", "BIO1A"),
        ("AG1", "B", "BIO1AL"),
        ("AG2", "MC1", ""),
    ]
    again = batch(
        "uk.ac.taff",
        [agreement(units=["BIO1AL", "BIO1A"], version=2, sources=[("uk.ac.forth", "A")])],
        first_seq=5,
        prev_head=ack.head,
    )
    publication.publish(network.engine, signed(again, taff))
    assert edges() == [("AG1", "A", "BIO1A"), ("AG1", "A", "BIO1AL"), ("AG2", "MC1", "")]


def test_record_changed_twice_in_one_batch_keeps_the_last(network: Network) -> None:
    b = batch(
        "uk.ac.forth", [micro_credential(title="One"), micro_credential(version=2, title="Two")]
    )
    publication.publish(network.engine, signed(b, network.signers["uk.ac.forth"]))
    with network.engine.connect() as c:
        r = table(PublishedRecord)
        rows = c.execute(select(r.c.version, r.c.payload)).all()
    assert [(v, rec.MicroCredential.FromString(p).title) for v, p in rows] == [(2, "Two")]


def _refusals(network: Network, first: pub.Batch) -> list[tuple[str, pub.SignedEnvelope, type]]:
    forth = network.signers["uk.ac.forth"]
    head = head_after(first)
    stranger = Ed25519Signer.generate()
    tampered = signed(
        batch("uk.ac.forth", [micro_credential(key="MC3")], first_seq=3, prev_head=head), forth
    )
    tampered.payload = tampered.payload.replace(b"MC3", b"MC4")
    wrong_type = signed(
        batch("uk.ac.forth", [micro_credential(key="MC3")], first_seq=3, prev_head=head), forth
    )
    wrong_type.payload_type = "application/json"
    return [
        ("bad signature", tampered, errors.SignatureError),
        (
            "unknown key",
            signed(
                batch("uk.ac.forth", [micro_credential(key="MC3")], first_seq=3, prev_head=head),
                stranger,
            ),
            errors.UnknownKey,
        ),
        (
            "another institution's key",
            signed(
                batch("uk.ac.forth", [micro_credential(key="MC3")], first_seq=3, prev_head=head),
                network.signers["uk.ac.taff"],
            ),
            errors.ForeignRecord,
        ),
        (
            "record of another institution",
            signed(
                batch(
                    "uk.ac.forth",
                    [micro_credential("uk.ac.taff", "X")],
                    first_seq=3,
                    prev_head=head,
                ),
                forth,
            ),
            errors.ForeignRecord,
        ),
        (
            "gap",
            signed(
                batch("uk.ac.forth", [micro_credential(key="MC3")], first_seq=5, prev_head=head),
                forth,
            ),
            errors.SequenceGap,
        ),
        (
            "rollback",
            signed(
                batch("uk.ac.forth", [micro_credential(key="MC9"), micro_credential(key="MC8")]),
                forth,
            ),
            errors.Rollback,
        ),
        (
            "overlap",
            signed(
                batch(
                    "uk.ac.forth",
                    [micro_credential(key="MC9"), micro_credential(key="MC8")],
                    first_seq=2,
                    prev_head=head,
                ),
                forth,
            ),
            errors.Rollback,
        ),
        (
            "fork",
            signed(
                batch(
                    "uk.ac.forth", [micro_credential(key="MC3")], first_seq=3, prev_head="0" * 64
                ),
                forth,
            ),
            errors.Fork,
        ),
        (
            "stale version",
            signed(
                batch("uk.ac.forth", [micro_credential(key="MC1")], first_seq=3, prev_head=head),
                forth,
            ),
            errors.StaleVersion,
        ),
        (
            "invalid record",
            signed(
                batch(
                    "uk.ac.forth",
                    [micro_credential(key="MC3", title="")],
                    first_seq=3,
                    prev_head=head,
                ),
                forth,
            ),
            errors.InvalidRecord,
        ),
        (
            "withdrawing an unknown record",
            signed(
                batch(
                    "uk.ac.forth",
                    [pub.Tombstone(kind=rec.RECORD_KIND_MICRO_CREDENTIAL, key="NOPE", version=1)],
                    first_seq=3,
                    prev_head=head,
                ),
                forth,
            ),
            errors.InvalidRecord,
        ),
        (
            "self-recognition",
            signed(
                batch(
                    "uk.ac.forth",
                    [agreement("uk.ac.forth", sources=[("uk.ac.forth", "MC1")])],
                    first_seq=3,
                    prev_head=head,
                ),
                forth,
            ),
            errors.InvalidRecord,
        ),
        (
            "empty batch",
            signed(
                pub.Batch(institution_id="uk.ac.forth", first_seq=3, last_seq=2, prev_head=head),
                forth,
            ),
            errors.MalformedPayload,
        ),
        ("malformed payload", signed_bytes(b"\xff\xff\xff", forth), errors.MalformedPayload),
        ("wrong payload type", wrong_type, errors.MalformedPayload),
        (
            "seq out of order",
            signed(
                pub.Batch(
                    institution_id="uk.ac.forth",
                    first_seq=3,
                    last_seq=4,
                    prev_head=head,
                    changes=[
                        pub.RecordChange(seq=4, micro_credential=micro_credential(key="A")),
                        pub.RecordChange(seq=3, micro_credential=micro_credential(key="B")),
                    ],
                ),
                forth,
            ),
            errors.MalformedPayload,
        ),
        (
            "empty change",
            signed(
                pub.Batch(
                    institution_id="uk.ac.forth",
                    first_seq=3,
                    last_seq=3,
                    prev_head=head,
                    changes=[pub.RecordChange(seq=3)],
                ),
                forth,
            ),
            errors.InvalidRecord,
        ),
    ]


def signed_bytes(payload: bytes, signer: Ed25519Signer) -> pub.SignedEnvelope:
    from registry_core.envelope import seal

    return seal(payload, signer)


def test_every_refusal_is_precise_and_changes_nothing(network: Network) -> None:
    first = publish_first(network)
    for name, envelope, error in _refusals(network, first):
        before = snapshot(network.engine)
        with pytest.raises(error) as caught:
            publication.publish(network.engine, envelope)
        assert type(caught.value) is error or isinstance(caught.value, error), name
        assert str(caught.value), name
        assert snapshot(network.engine) == before, f"{name} changed the registry"


def test_sequence_errors_say_where_to_resume(network: Network) -> None:
    first = publish_first(network)
    gap = batch(
        "uk.ac.forth", [micro_credential(key="MC3")], first_seq=7, prev_head=head_after(first)
    )
    with pytest.raises(errors.SequenceGap, match="resend from seq 3") as caught:
        publication.publish(network.engine, signed(gap, network.signers["uk.ac.forth"]))
    assert (caught.value.last_seq, caught.value.head) == (2, head_after(first))


def test_a_broken_record_rule_is_reported_before_a_stale_version(network: Network) -> None:
    """The rules each record meets on its own come first, whatever the record order."""
    first = batch("uk.ac.forth", [micro_credential(key="MC1"), micro_credential(key="MC2")])
    publication.publish(network.engine, signed(first, network.signers["uk.ac.forth"]))
    before = registry_state(network.engine)
    second = batch(
        "uk.ac.forth",
        [
            micro_credential(key="MC1"),  # version 1 again: stale
            micro_credential(key="MC9", country="UK"),
        ],
        first_seq=3,
        prev_head=head_after(first),
    )
    with pytest.raises(errors.InvalidRecord, match="MC9: field 'country'"):
        publication.publish(network.engine, signed(second, network.signers["uk.ac.forth"]))
    assert registry_state(network.engine) == before


@pytest.mark.parametrize("how", ["tombstone", "status"])
def test_a_withdrawn_record_cannot_be_brought_back(network: Network, how: str) -> None:
    """Withdrawn by a tombstone or by a version whose status says so: a later version that
    is not withdrawn is refused, naming the record and the field, and changes nothing."""
    forth = network.signers["uk.ac.forth"]
    ack = publication.publish(
        network.engine, signed(batch("uk.ac.forth", [micro_credential()]), forth)
    )
    withdrawal: object = (
        pub.Tombstone(kind=rec.RECORD_KIND_MICRO_CREDENTIAL, key="MC1", version=2)
        if how == "tombstone"
        else micro_credential(version=2, status=rec.RECORD_STATUS_WITHDRAWN)
    )
    ack = publication.publish(
        network.engine,
        signed(batch("uk.ac.forth", [withdrawal], first_seq=2, prev_head=ack.head), forth),
    )
    before = registry_state(network.engine)
    revived = batch(
        "uk.ac.forth",
        [micro_credential(version=3, status=rec.RECORD_STATUS_DRAFT)],
        first_seq=3,
        prev_head=ack.head,
    )
    with pytest.raises(errors.InvalidRecord, match="MC1.*'status'.*withdrawal is final"):
        publication.publish(network.engine, signed(revived, forth))
    assert registry_state(network.engine) == before
    still = batch(
        "uk.ac.forth",
        [micro_credential(version=3, status=rec.RECORD_STATUS_WITHDRAWN, title="Renamed")],
        first_seq=3,
        prev_head=ack.head,
    )
    assert publication.publish(network.engine, signed(still, forth)).last_seq == 3
