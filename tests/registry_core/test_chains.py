"""Transitive chains: only through agreements that allow them, up to the caller's depth,
never through a cycle, never granting more than the weakest link."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.conversion import table
from registry_core.resolution import Ref, SourceRecord, resolve
from tests.factories import AS_OF, agreement, holding, micro_credential, module

FORTH_MC = micro_credential(key="MC1", credit=rec.Credit(value=10, system="SCQF"))  # 5 ECTS
SOURCES = {("uk.ac.forth", "MC1"): FORTH_MC}
UNITS = {
    ("uk.ac.lagan", "LAG-U"): module("uk.ac.lagan", "LAG-U", credit=20, framework="RQF", level="4"),
    ("uk.ac.taff", "CS7DE"): module("uk.ac.taff", "CS7DE", credit=15),
}
LINK = agreement(
    "uk.ac.lagan",
    "LAG-AG",
    sources=[("uk.ac.forth", "MC1")],
    unit_key="LAG-U",
    transitive_allowed=True,
)
FINAL = agreement("uk.ac.taff", "TAFF-AG", sources=[("uk.ac.lagan", "LAG-U")], unit_key="CS7DE")


def run(
    agreements: Sequence[rec.RecognitionAgreement],
    depth: int,
    sources: Mapping[Ref, SourceRecord] = SOURCES,
    units: Mapping[Ref, rec.LearningUnit] = UNITS,
    holdings: Sequence[eq.Holding] | None = None,
) -> tuple[list[eq.GrantedCredit], list[eq.NotApplied]]:
    return resolve(
        holdings or [holding()],
        agreements,
        sources=sources,
        units=units,
        as_of=AS_OF,
        target="uk.ac.taff",
        max_depth=depth,
    )


def test_direct_only_by_default() -> None:
    grants, not_applied = run([LINK, FINAL], depth=1)
    assert grants == []
    assert "not held: uk.ac.lagan/LAG-U" in not_applied[0].explanation


def test_chain_of_two_grants_with_provenance_and_the_weakest_link() -> None:
    [grant], _ = run([LINK, FINAL], depth=2)
    assert [(p.institution_id, p.agreement_key) for p in grant.provenance] == [
        ("uk.ac.lagan", "LAG-AG"),
        ("uk.ac.taff", "TAFF-AG"),
    ]
    assert [(h.institution_id, h.key) for h in grant.used_holdings] == [("uk.ac.forth", "MC1")]
    # CS7DE is 15 UK credits (7.5 ECTS), but the learner's credential carried 5 ECTS.
    assert (grant.credit.value, grant.credit.system) == (10, "UK_CREDIT")


def test_chain_only_through_agreements_that_allow_it() -> None:
    closed = agreement(
        "uk.ac.lagan",
        "LAG-AG",
        sources=[("uk.ac.forth", "MC1")],
        unit_key="LAG-U",
        transitive_allowed=False,
    )
    assert run([closed, FINAL], depth=3)[0] == []


def test_minimum_grade_is_not_carried_through_a_chain() -> None:
    graded = agreement(
        "uk.ac.taff",
        "TAFF-AG",
        sources=[("uk.ac.lagan", "LAG-U")],
        unit_key="CS7DE",
        minimum_grade=rec.Grade(scheme="UK_LETTER", value="C"),
    )
    grants, [reason] = run([LINK, graded], depth=2)
    assert grants == [] and "carries no grade" in reason.explanation


def test_cycles_terminate_and_are_never_followed() -> None:
    units = {**UNITS, ("uk.ac.forth", "F-U"): module("uk.ac.forth", "F-U", credit=10)}
    back = agreement(
        "uk.ac.forth",
        "FORTH-AG",
        sources=[("uk.ac.lagan", "LAG-U")],
        unit_key="F-U",
        transitive_allowed=True,
    )
    loop = agreement(
        "uk.ac.lagan",
        "LAG-AG2",
        sources=[("uk.ac.forth", "F-U")],
        unit_key="LAG-U",
        transitive_allowed=True,
    )
    grants, _ = run([LINK, back, loop, FINAL], depth=5, units=units)
    assert len(grants) == 1
    assert len(grants[0].provenance) == 2


INSTITUTIONS = ["uk.ac.a", "uk.ac.b", "uk.ac.c", "uk.ac.taff"]


@st.composite
def networks(draw):  # type: ignore[no-untyped-def]
    """Random agreement graphs over a few institutions' units, cycles included."""
    units = {
        (i, f"U{n}"): module(i, f"U{n}", credit=draw(st.sampled_from([5, 10, 15, 20, 30])))
        for i in INSTITUTIONS
        for n in range(3)
    }
    refs = sorted(units)
    agreements = []
    for n in range(draw(st.integers(1, 14))):
        owner, unit = draw(st.sampled_from(refs))
        source = draw(
            st.sampled_from([r for r in refs if r[0] != owner] + [("uk.ac.forth", "MC1")])
        )
        agreements.append(
            agreement(
                owner,
                f"AG{n}",
                sources=[source],
                unit_key=unit,
                transitive_allowed=draw(st.booleans()),
            )
        )
    return units, agreements


@settings(max_examples=200, deadline=None)
@given(networks(), st.integers(1, 5))
def test_chains_never_exceed_their_weakest_link_and_always_terminate(network, depth) -> None:  # type: ignore[no-untyped-def]
    units, agreements = network
    grants, _ = run(agreements, depth, units=units)
    t = table()
    for grant in grants:
        assert len(grant.provenance) <= depth
        if len(grant.provenance) == 1:
            continue
        links = [t.to_ects(FORTH_MC.credit.value, FORTH_MC.credit.system)]
        for step in grant.provenance:
            granted_unit = next(
                a.grant.unit_key
                for a in agreements
                if (a.institution_id, a.key) == (step.institution_id, step.agreement_key)
            )
            unit = units[(step.institution_id, granted_unit)]
            links.append(t.to_ects(unit.credit.value, unit.credit.system))
        assert t.to_ects(grant.credit.value, grant.credit.system) <= min(links) + 1e-9
        used = [(h.institution_id, h.key) for h in grant.used_holdings]
        assert used == [("uk.ac.forth", "MC1")]
