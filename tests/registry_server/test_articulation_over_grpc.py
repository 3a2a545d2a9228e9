"""What real articulation agreements say, asked over gRPC (issue 18): the same rules as
tests/registry_core/test_articulation_rules.py, through publication, storage and a real
port, on SQLite and PostgreSQL, with questions answered in threads, on the event loop and in
a query worker."""

from __future__ import annotations

import grpc
import pytest

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import equivalence_pb2_grpc
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_server import publication
from tests.conftest import Network
from tests.factories import (
    agreement,
    batch,
    group,
    holding,
    micro_credential,
    module,
    ref,
    signed,
)

FORTH, TAFF = "uk.ac.forth", "uk.ac.taff"


def publish_articulation(network: Network) -> None:
    """Forth's credentials (MC3 at SCQF 7); Taff's modules, a lecture with its lab, an MSc,
    and agreements with a completion window, a series, a programme restriction with a note,
    one source stated to satisfy two equivalences, and a minimum level."""
    publication.publish(
        network.engine,
        signed(
            batch(
                FORTH,
                [
                    micro_credential(key="MC1"),
                    micro_credential(key="MC2"),
                    micro_credential(key="MC3", level=rec.Level(framework="SCQF", level="7")),
                ],
            ),
            network.signers[FORTH],
        ),
    )
    windowed = agreement(key="AG-WINDOW", completed_from="2024-08-15", completed_to="2025-08-14")
    lab_series = agreement(key="AG-SERIES", unit_key="", sources=[(FORTH, "MC2")])
    lab_series.grant.units.unit_keys.extend(["BIO1A", "BIO1AL"])
    restricted = agreement(
        key="AG-MAJORS",
        unit_key="CS5PR",
        sources=[(FORTH, "MC2")],
        restriction_text="for Global Studies majors only",
    )
    restricted.conditions.for_programmes.append("GS-BA")
    restricted.notes.append("C- or better.")
    also = agreement(key="AG-ALSO", unit_key="CS8ML")
    also.also_satisfies.append("AG-WINDOW")
    qualification = module(key="MSC", credit=180)
    qualification.kind = rec.LEARNING_UNIT_KIND_QUALIFICATION
    qualification.stacking_rule.total.CopyFrom(rec.Credit(value=180, system="UK_CREDIT"))
    publication.publish(
        network.engine,
        signed(
            batch(
                TAFF,
                [
                    module(),
                    module(key="CS5PR", credit=20),
                    module(key="CS8ML"),
                    module(key="BIO1A", credit=10, level="4"),
                    module(key="BIO1AL", credit=5, level="4"),
                    qualification,
                    windowed,
                    lab_series,
                    restricted,
                    also,
                    agreement(
                        key="AG-LEVEL",
                        unit_key="CS5PR",
                        sources=[(FORTH, "MC3")],
                        minimum_level=rec.Level(framework="SCQF", level="8"),
                    ),
                ],
            ),
            network.signers[TAFF],
        ),
    )


def ask(
    channel: grpc.Channel, *holdings: eq.Holding, programme: str = "", as_of: str = "2026-01-15"
) -> eq.ResolveTransferResponse:
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
    return stub.ResolveTransfer(
        eq.ResolveTransferRequest(
            holdings=holdings, target_institution_id=TAFF, as_of=as_of, programme=programme
        ),
        timeout=10,
    )


def by_key(answer: eq.ResolveTransferResponse) -> dict[str, eq.GrantedCredit]:
    return {g.provenance[-1].agreement_key: g for g in answer.grants}


def reasons(answer: eq.ResolveTransferResponse) -> dict[str, int]:
    return {n.agreement.agreement_key: n.reason for n in answer.not_applied}


def test_completion_windows_and_level_refusals_have_their_own_reasons(
    network: Network, channel: grpc.Channel
) -> None:
    publish_articulation(network)
    inside = ask(channel, holding(award_date="2025-05-20"), as_of="2026-09-01")
    assert {"AG-WINDOW", "AG-ALSO"} <= set(by_key(inside))
    late = ask(channel, holding(award_date="2025-09-01"), holding(key="MC3"))
    assert reasons(late)["AG-WINDOW"] == eq.NOT_APPLIED_REASON_COMPLETED_OUTSIDE_WINDOW
    assert reasons(late)["AG-LEVEL"] == eq.NOT_APPLIED_REASON_LEVEL_TOO_LOW


def test_a_series_grant_answers_with_each_unit_and_the_second_unit_finds_it(
    network: Network, channel: grpc.Channel
) -> None:
    publish_articulation(network)
    grant = by_key(ask(channel, holding(key="MC2")))["AG-SERIES"]
    assert [u.unit_key for u in grant.units] == ["BIO1A", "BIO1AL"]
    assert grant.credit.value == 15
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
    found = stub.ListSources(
        eq.ListSourcesRequest(unit=rec.CredentialRef(institution_id=TAFF, key="BIO1AL")), timeout=10
    )
    assert [e.agreement.key for e in found.equivalences] == ["AG-SERIES"]


def test_a_restricted_grant_is_conditional_unless_the_question_names_its_programme(
    network: Network, channel: grpc.Channel
) -> None:
    publish_articulation(network)
    # MC2 alone: the series (15) and the restricted grant (20) compete for it.
    unnamed = by_key(ask(channel, holding(key="MC2")))
    assert "AG-MAJORS" not in unnamed  # a plain grant takes the holding first
    named = by_key(ask(channel, holding(key="MC2"), programme="gs-ba"))
    assert not named["AG-MAJORS"].conditional and list(named["AG-MAJORS"].notes) == [
        "C- or better."
    ]
    other = ask(channel, holding(key="MC2"), programme="ECON-BA")
    assert reasons(other)["AG-MAJORS"] == eq.NOT_APPLIED_REASON_HOLDING_ALREADY_USED
    with pytest.raises(grpc.RpcError) as caught:
        ask(channel, holding(), programme="x" * 201)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "programme" in (caught.value.details() or "")


def test_one_source_for_two_equivalences_is_granted_twice_and_counted_once(
    network: Network, channel: grpc.Channel
) -> None:
    publish_articulation(network)
    grants = by_key(ask(channel, holding(award_date="2025-05-20")))
    assert list(grants["AG-ALSO"].shares_holdings_with) == ["AG-WINDOW"]
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
    pathway = stub.EvaluatePathway(
        eq.EvaluatePathwayRequest(
            holdings=[holding(award_date="2025-05-20")],
            as_of="2026-01-15",
            qualification=rec.CredentialRef(institution_id=TAFF, key="MSC"),
        ),
        timeout=10,
    )
    assert pathway.achieved.value == 15 and len(pathway.limits) == 1
    conflicts = stub.ListConflicts(eq.ListConflictsRequest(institution_id=TAFF), timeout=10)
    kinds = {c.source.key: c.kind for c in conflicts.conflicts}
    assert kinds["MC1"] == eq.CONFLICT_KIND_INTENDED_ONE_TO_MANY
    assert kinds["MC2"] == eq.CONFLICT_KIND_CONTRADICTION


def test_a_credential_its_provider_never_published_is_answered_with_its_own_reason(
    network: Network, channel: grpc.Channel
) -> None:
    publish_articulation(network)
    publication.publish(
        network.engine,
        signed(
            batch(
                TAFF,
                [agreement(key="AG-GHOST", unit_key="CS8ML", sources=[(FORTH, "NEVER")])],
                first_seq=12,
                prev_head=_head(network, TAFF),
            ),
            network.signers[TAFF],
        ),
    )
    answer = ask(channel, holding(key="NEVER"))
    assert reasons(answer)["AG-GHOST"] == eq.NOT_APPLIED_REASON_SOURCE_NOT_PUBLISHED


def _head(network: Network, institution: str) -> str:
    return publication.checkpoint(network.engine, institution).head


def test_an_any_of_group_leaves_the_other_holding_and_quarter_hours_convert(
    network: Network, channel: grpc.Channel
) -> None:
    publication.publish(
        network.engine,
        signed(
            batch(FORTH, [micro_credential(key="MC1"), micro_credential(key="MC2")]),
            network.signers[FORTH],
        ),
    )
    either = agreement(
        key="AG-EITHER",
        unit_key="MATH 51",
        source=group(rec.GROUP_OPERATOR_ANY_OF, ref(FORTH, "MC1"), ref(FORTH, "MC2")),
    )
    qualification = module(key="BSC", credit=360)
    qualification.kind = rec.LEARNING_UNIT_KIND_QUALIFICATION
    qualification.stacking_rule.total.CopyFrom(rec.Credit(value=360, system="UK_CREDIT"))
    publication.publish(
        network.engine,
        signed(
            batch(
                TAFF,
                [
                    module(key="MATH 51", credit=4, system="US_QUARTER_HOUR"),
                    module(),
                    qualification,
                    either,
                    agreement(key="AG-MC1", unit_key="CS7DE"),
                ],
            ),
            network.signers[TAFF],
        ),
    )
    grants = by_key(ask(channel, holding(), holding(key="MC2")))
    assert set(grants) == {"AG-EITHER", "AG-MC1"}
    assert [h.key for h in grants["AG-EITHER"].used_holdings] == ["MC2"]
    stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
    pathway = stub.EvaluatePathway(
        eq.EvaluatePathwayRequest(
            holdings=[holding(), holding(key="MC2")],
            as_of="2026-01-15",
            qualification=rec.CredentialRef(institution_id=TAFF, key="BSC"),
        ),
        timeout=10,
    )
    # 4 quarter hours are 16/3 ECTS, 10.67 UK credits, rounded down to the half: 10.5.
    assert pathway.achieved.value == 15 + 10.5


def test_a_withdrawn_unit_or_source_credential_earns_nothing_with_its_reason(
    network: Network, channel: grpc.Channel
) -> None:
    publish_articulation(network)
    publication.publish(
        network.engine,
        signed(
            batch(
                TAFF,
                [pub.Tombstone(kind=rec.RECORD_KIND_LEARNING_UNIT, key="CS8ML", version=2)],
                first_seq=12,
                prev_head=_head(network, TAFF),
            ),
            network.signers[TAFF],
        ),
    )
    publication.publish(
        network.engine,
        signed(
            batch(
                FORTH,
                [pub.Tombstone(kind=rec.RECORD_KIND_MICRO_CREDENTIAL, key="MC2", version=2)],
                first_seq=4,
                prev_head=_head(network, FORTH),
            ),
            network.signers[FORTH],
        ),
    )
    for depth in (1, 2):  # a direct question, and one read for chains
        stub = equivalence_pb2_grpc.EquivalenceServiceStub(channel)
        answer = stub.ResolveTransfer(
            eq.ResolveTransferRequest(
                holdings=[holding(award_date="2025-05-20"), holding(key="MC2")],
                target_institution_id=TAFF,
                as_of="2026-01-15",
                max_depth=depth,
            ),
            timeout=10,
        )
        assert reasons(answer)["AG-ALSO"] == eq.NOT_APPLIED_REASON_UNIT_NOT_PUBLISHED
        assert reasons(answer)["AG-SERIES"] == eq.NOT_APPLIED_REASON_SOURCE_NOT_PUBLISHED
        assert "AG-WINDOW" in by_key(answer)
