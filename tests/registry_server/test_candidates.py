"""Which agreements a resolution with chains reads (equivalence.candidate_agreements), on
SQLite and on the real PostgreSQL: the target's, and the links on the way to them; not the
links that lead elsewhere, and not links beyond the depth asked."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.records import Record
from registry_core.resolution import resolve
from registry_server import equivalence, publication
from registry_server.db import reading
from tests.conftest import Network
from tests.factories import AS_OF, agreement, batch, holding, micro_credential, module, signed


@pytest.fixture
def chains(network: Network) -> Network:
    """MC1 (Forth) -> LAG-U (Lagan) -> UL-U (Ulster) -> LAG-U again (a cycle); Taff
    recognises LAG-U and UL-U. LAG-DEAD also takes MC1, to a unit nobody recognises."""
    network.enrol("uk.ac.ulster")
    published: dict[str, list[Record]] = {
        "uk.ac.forth": [micro_credential()],
        "uk.ac.lagan": [
            module("uk.ac.lagan", "LAG-U", credit=20, framework="RQF", level="4"),
            module("uk.ac.lagan", "LAG-X", credit=20, framework="RQF", level="4"),
            agreement("uk.ac.lagan", "LAG-AG", unit_key="LAG-U", transitive_allowed=True),
            agreement("uk.ac.lagan", "LAG-DEAD", unit_key="LAG-X", transitive_allowed=True),
            agreement(
                "uk.ac.lagan",
                "LAG-CYCLE",
                unit_key="LAG-U",
                transitive_allowed=True,
                sources=[("uk.ac.ulster", "UL-U")],
            ),
        ],
        "uk.ac.ulster": [
            module("uk.ac.ulster", "UL-U", credit=20, framework="RQF", level="4"),
            agreement(
                "uk.ac.ulster",
                "UL-AG",
                unit_key="UL-U",
                transitive_allowed=True,
                sources=[("uk.ac.lagan", "LAG-U")],
            ),
        ],
        "uk.ac.taff": [
            module(),
            module(key="CS5PR", credit=20),
            agreement(key="VIA-LAGAN", sources=[("uk.ac.lagan", "LAG-U")]),
            agreement(key="VIA-ULSTER", unit_key="CS5PR", sources=[("uk.ac.ulster", "UL-U")]),
        ],
    }
    for institution, records in published.items():
        publication.publish(
            network.engine, signed(batch(institution, records), network.signers[institution])
        )
    return network


def read(chains: Network, depth: int) -> list[str]:
    with reading(chains.engine) as reads:
        payloads = equivalence.candidate_agreements(
            reads, "uk.ac.taff", [("uk.ac.forth", "MC1")], depth
        )
    return [rec.RecognitionAgreement.FromString(p).key for p in payloads]


def test_chains_read_only_the_links_on_the_way_to_the_target(chains: Network) -> None:
    assert read(chains, 1) == []  # Taff names no held credential
    assert read(chains, 2) == ["LAG-AG", "VIA-LAGAN"]
    assert read(chains, 3) == ["LAG-AG", "VIA-LAGAN", "VIA-ULSTER", "UL-AG"]
    # At depth 4 the cycle's link is within reach; LAG-DEAD never leads to Taff.
    assert read(chains, 4) == ["LAG-AG", "LAG-CYCLE", "VIA-LAGAN", "VIA-ULSTER", "UL-AG"]


def test_the_grants_are_those_from_every_agreement_in_the_registry(chains: Network) -> None:
    """What is not read could not have changed the grants: the engine given every published
    agreement grants byte for byte the same."""
    with reading(chains.engine) as reads:
        everything = [
            rec.RecognitionAgreement.FromString(bytes(row[0]))
            for row in reads.rows(
                f"SELECT payload FROM published_record WHERE kind = {rec.RECORD_KIND_AGREEMENT}"
            )
        ]
        units = {
            (u.institution_id, u.key): u
            for u in (
                rec.LearningUnit.FromString(bytes(row[0]))
                for row in reads.rows(
                    f"SELECT payload FROM published_record WHERE kind = "
                    f"{rec.RECORD_KIND_LEARNING_UNIT}"
                )
            )
        }
    for depth in range(1, 5):
        request = eq.ResolveTransferRequest(
            holdings=[holding()],
            target_institution_id="uk.ac.taff",
            max_depth=depth,
            as_of=AS_OF.isoformat(),
        )
        answer = equivalence.resolve_transfer(chains.engine, request)
        grants, not_applied = resolve(
            request.holdings,
            everything,
            sources={("uk.ac.forth", "MC1"): micro_credential()},
            units=units,
            as_of=AS_OF,
            target="uk.ac.taff",
            max_depth=depth,
        )
        serialise = lambda messages: [  # noqa: E731
            m.SerializeToString(deterministic=True) for m in messages
        ]
        assert serialise(answer.grants) == serialise(grants)
        assert (
            len(answer.grants) == {1: 0, 2: 1, 3: 1, 4: 1}[depth]
        )  # one held credential: one grant
        # The engine also lists Taff's agreements that name nothing reached; the registry
        # lists those that name something the learner holds or reaches.
        assert set(serialise(answer.not_applied)) <= set(serialise(not_applied))


@pytest.mark.parametrize("depth", [1, 3])
def test_resolution_reads_edges_from_the_index_alone(sqlite_engine: Engine, depth: int) -> None:
    """The by-source edge index holds every column a question reads of an edge (migration
    0005), so SQLite's plan never visits the edge table: with the table visited for each
    edge, a depth-3 look-up took twice as long on the 1,000,000-agreement network."""
    held = [("uk.ac.forth", "MC1"), ("uk.ac.forth", "MC2")]
    params: list[object] = [value for ref in held for value in ref]
    if depth == 1:
        sql = equivalence._direct_sql("?", False, len(held))
        params += ["uk.ac.taff"]
    else:
        sql = equivalence._REACHED_EDGES.format(
            held=equivalence._held_values("?", False, len(held)), m="?"
        )
        params += [
            2,
            rec.RECORD_STATUS_ACTIVE,
            "uk.ac.taff",
            "uk.ac.taff",
            2,
            rec.RECORD_STATUS_ACTIVE,
            equivalence.MAX_EDGES_READ + 1,
        ]
    with reading(sqlite_engine) as reads:
        plan = [row[-1] for row in reads.rows("EXPLAIN QUERY PLAN " + sql, params)]
    edge_steps = [step for step in plan if step.startswith(("SEARCH e ", "SCAN e"))]
    assert edge_steps, plan
    assert all(
        "COVERING INDEX ix_agreement_edge_source_publisher" in step for step in edge_steps
    ), plan


@pytest.mark.parametrize("depth", [1, 2])
def test_a_series_grant_reads_every_unit_it_grants(network: Network, depth: int) -> None:
    """Resolution is given the record of each unit a series grants (BIO1A and its lab
    BIO1AL), directly and with chains, not only the first."""
    publication.publish(
        network.engine,
        signed(
            batch(
                "uk.ac.taff",
                [
                    module(key="BIO1A"),
                    module(key="BIO1AL", credit=5),
                    agreement(units=["BIO1A", "BIO1AL"]),
                ],
            ),
            network.signers["uk.ac.taff"],
        ),
    )
    held = [("uk.ac.forth", "MC1")]
    with reading(network.engine) as reads:
        if depth == 1:
            payloads, unit_payloads, _ = equivalence.direct_records(reads, "uk.ac.taff", held)
            units = sorted(unit_payloads)
        else:
            payloads = equivalence.candidate_agreements(reads, "uk.ac.taff", held, depth)
            found, _ = equivalence._units_and_sources(
                reads, [rec.RecognitionAgreement.FromString(p) for p in payloads], held
            )
            units = sorted(key for _, key in found)
    assert [rec.RecognitionAgreement.FromString(p).key for p in payloads] == ["AG1"]
    assert units == ["BIO1A", "BIO1AL"]
