"""What an agreement grants must exist, and a unit is found under every code it is offered
under, on SQLite and on the real PostgreSQL: an agreement granting a unit its publisher has
not published (or has withdrawn) refuses the whole batch, naming the field; the units a batch
does not publish are read in one look-up; ListSources finds a unit's agreements under its
cross-listed codes and within series."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pytest
from sqlalchemy import select

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core import errors
from registry_server import equivalence, publication
from registry_server.sql import table
from registry_server.tables import UnitCode
from tests.conftest import Network, registry_state
from tests.factories import agreement, batch, head_after, module, signed

TAFF = "uk.ac.taff"


class Taff:
    """Taff's publications, batch after batch."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.seq, self.head = 1, ""

    def publish(self, records: Sequence[object]) -> pub.Acknowledgement:
        made = batch(TAFF, records, first_seq=self.seq, prev_head=self.head)
        ack = publication.publish(self.network.engine, signed(made, self.network.signers[TAFF]))
        self.seq, self.head = self.seq + len(records), head_after(made)
        return ack

    def refused(self, records: Sequence[object]) -> errors.InvalidRecord:
        """The refusal of a batch of records, which must leave the registry as it was."""
        before = registry_state(self.network.engine)
        made = batch(TAFF, records, first_seq=self.seq, prev_head=self.head)
        with pytest.raises(errors.InvalidRecord) as caught:
            publication.publish(self.network.engine, signed(made, self.network.signers[TAFF]))
        assert registry_state(self.network.engine) == before
        return caught.value


def test_an_agreement_granting_an_unpublished_unit_refuses_the_batch(network: Network) -> None:
    taff = Taff(network)
    refused = taff.refused([module(), agreement(key="AG1"), agreement(key="AG2", unit_key="NOPE")])
    assert (refused.record, refused.field) == (f"RecognitionAgreement {TAFF}/AG2", "grant.unit_key")
    assert "grants unit 'NOPE', which is not published as a LearningUnit" in refused.problem
    assert "publish the unit" in refused.problem


def test_a_series_naming_an_unpublished_unit_names_its_position(network: Network) -> None:
    taff = Taff(network)
    taff.publish([module(key="BIO1A")])
    refused = taff.refused([agreement(units=["BIO1A", "BIO1AL"])])
    assert refused.field == "grant.units.unit_keys[1]"
    assert "'BIO1AL'" in refused.problem


def test_a_withdrawn_unit_counts_as_not_published(network: Network) -> None:
    taff = Taff(network)
    taff.publish([module(key="GONE"), module(key="RETIRED"), module(key="LEAVING")])
    taff.publish(
        [
            pub.Tombstone(kind=rec.RECORD_KIND_LEARNING_UNIT, key="GONE", version=2),
            module(key="RETIRED", version=2, status=rec.RECORD_STATUS_WITHDRAWN),
        ]
    )
    for unit in ("GONE", "RETIRED"):
        refused = taff.refused([agreement(unit_key=unit)])
        assert f"grants unit '{unit}', which is withdrawn" in refused.problem
    # Withdrawn by the batch that grants it.
    refused = taff.refused(
        [
            pub.Tombstone(kind=rec.RECORD_KIND_LEARNING_UNIT, key="LEAVING", version=2),
            agreement(unit_key="LEAVING"),
        ]
    )
    assert "'LEAVING', which is withdrawn" in refused.problem


def test_units_published_before_or_anywhere_in_the_batch_may_be_granted(network: Network) -> None:
    """Also: a withdrawn agreement may still name a withdrawn unit (it grants nothing), and
    general credit names no unit."""
    taff = Taff(network)
    taff.publish([module(key="EARLIER")])
    taff.publish(
        [
            agreement(key="AG1", unit_key="EARLIER"),
            agreement(key="AG2", units=["EARLIER", "LATER"]),
            module(key="LATER"),
            agreement(
                key="AG3",
                general=rec.GeneralCredit(
                    credit=rec.Credit(value=10, system="UK_CREDIT"),
                    level=rec.Level(framework="FHEQ", level="4"),
                ),
            ),
        ]
    )
    taff.publish(
        [
            pub.Tombstone(kind=rec.RECORD_KIND_LEARNING_UNIT, key="LATER", version=2),
            agreement(
                key="AG2", units=["EARLIER", "LATER"], version=2, status=rec.RECORD_STATUS_WITHDRAWN
            ),
        ]
    )


def test_the_units_a_batch_does_not_publish_are_read_in_one_look_up(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[list[str]] = []
    read = publication.TransactionState.unit_statuses

    def counted(
        state: publication.TransactionState, institution_id: str, keys: Iterable[str]
    ) -> Mapping[str, int]:
        looked_up.append(sorted(keys))
        return read(state, institution_id, keys)

    monkeypatch.setattr(publication.TransactionState, "unit_statuses", counted)
    taff = Taff(network)
    taff.publish(
        [module(key=f"U{n}") for n in range(3)]
        + [agreement(key=f"AG{n}", unit_key=f"U{n}") for n in range(3)]
    )
    assert looked_up == []  # every granted unit is in the batch
    taff.publish(
        [
            agreement(key=f"AG{n}", unit_key=f"U{n % 3}", version=2 if n < 3 else 1)
            for n in range(30)
        ]
        + [module(key="NEW"), agreement(key="AGN", unit_key="NEW")]
    )
    assert looked_up == [["U0", "U1", "U2"]]


def codes(network: Network) -> list[tuple[str, str]]:
    u = table(UnitCode)
    with network.engine.connect() as connection:
        return sorted(
            (row[0], row[1]) for row in connection.execute(select(u.c.code, u.c.unit_key))
        )


def test_a_units_other_codes_are_rewritten_with_it(network: Network) -> None:
    taff = Taff(network)
    taff.publish([module(key="BIO1", cross_listed_keys=["ENV1", "ECO1"]), module(key="CHEM1")])
    assert codes(network) == [("ECO1", "BIO1"), ("ENV1", "BIO1")]
    taff.publish(
        [
            module(key="BIO1", version=2, cross_listed_keys=["ENV1"]),
            module(key="CHEM1", version=2, cross_listed_keys=["CHM1"]),
        ]
    )
    assert codes(network) == [("CHM1", "CHEM1"), ("ENV1", "BIO1")]
    taff.publish(
        [
            pub.Tombstone(kind=rec.RECORD_KIND_LEARNING_UNIT, key="BIO1", version=3),
            module(
                key="CHEM1",
                version=3,
                cross_listed_keys=["CHM1"],
                status=rec.RECORD_STATUS_WITHDRAWN,
            ),
        ]
    )
    assert codes(network) == []


def sources(network: Network, code: str) -> list[str]:
    answer = equivalence.list_sources(
        network.engine, eq.ListSourcesRequest(unit=rec.CredentialRef(institution_id=TAFF, key=code))
    )
    return [e.agreement.key for e in answer.equivalences]


def test_sources_are_found_under_any_code_of_the_unit(network: Network) -> None:
    """BIO1 is also offered as ENV1 (published too, listing BIO1) and as ECO1 (only listed);
    CHEM1 with its lab CHEM1L is a series."""
    taff = Taff(network)
    taff.publish(
        [
            module(key="BIO1", cross_listed_keys=["ENV1", "ECO1"]),
            module(key="ENV1", cross_listed_keys=["BIO1"]),
            module(key="CHEM1"),
            module(key="CHEM1L", credit=5),
            module(key="PHYS1"),
            agreement(key="AG-BIO", unit_key="BIO1"),
            agreement(key="AG-ENV", unit_key="ENV1"),
            agreement(key="AG-CHEM", units=["CHEM1", "CHEM1L"]),
            agreement(key="AG-PHYS", unit_key="PHYS1"),
        ]
    )
    for code in ("BIO1", "ENV1", "ECO1"):
        assert sources(network, code) == ["AG-BIO", "AG-ENV"], code
    assert sources(network, "CHEM1L") == sources(network, "CHEM1") == ["AG-CHEM"]
    assert sources(network, "PHYS1") == ["AG-PHYS"]
    assert sources(network, "NOPE") == []
    taff.publish([pub.Tombstone(kind=rec.RECORD_KIND_LEARNING_UNIT, key="BIO1", version=2)])
    # ECO1 was only BIO1's; ENV1 still lists BIO1.
    assert sources(network, "ECO1") == []
    assert sources(network, "ENV1") == ["AG-BIO", "AG-ENV"]
