"""The resolution rules, as pure functions of records and holdings."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.resolution import Candidate, _best_assignment, months_after, resolve, too_old
from tests.factories import AS_OF, agreement, group, holding, micro_credential, module, ref

UNITS = {
    ("uk.ac.taff", "CS7DE"): module(key="CS7DE", credit=15),
    ("uk.ac.taff", "CS5PR"): module(key="CS5PR", credit=20),
    ("uk.ac.taff", "CS4IN"): module(key="CS4IN", credit=10),
}
SOURCES = {
    ("uk.ac.forth", "MC1"): micro_credential(key="MC1"),
    ("uk.ac.forth", "MC2"): micro_credential(key="MC2"),
    ("uk.ac.lagan", "LC1"): micro_credential(
        "uk.ac.lagan", "LC1", level=rec.Level(framework="RQF", level="4")
    ),
}


def run(
    holdings: Sequence[eq.Holding],
    agreements: Sequence[rec.RecognitionAgreement],
    as_of: dt.date = AS_OF,
) -> tuple[list[eq.GrantedCredit], list[eq.NotApplied]]:
    return resolve(holdings, agreements, sources=SOURCES, units=UNITS, as_of=as_of)


def reasons(not_applied: list[eq.NotApplied]) -> dict[str, int]:
    return {n.agreement.agreement_key: n.reason for n in not_applied}


def test_direct_agreement_grants_the_module_with_provenance() -> None:
    grants, not_applied = run([holding()], [agreement(version=3)])
    assert not not_applied
    [grant] = grants
    assert grant.grant.unit_key == "CS7DE"
    assert (grant.credit.value, grant.credit.system) == (15, "UK_CREDIT")
    assert [(p.institution_id, p.agreement_key, p.agreement_version) for p in grant.provenance] == [
        ("uk.ac.taff", "AG1", 3)
    ]
    assert [(h.institution_id, h.key) for h in grant.used_holdings] == [("uk.ac.forth", "MC1")]


def test_each_reason_is_reported_in_words() -> None:
    agreements = [
        agreement(key="EXPIRED", valid_to="2025-12-31"),
        agreement(key="FUTURE", valid_from="2026-02-01"),
        agreement(key="GRADE", minimum_grade=rec.Grade(scheme="PERCENTAGE", value="75")),
        agreement(key="OLD", max_credit_age_months=6),
        agreement(key="MISSING", sources=[("uk.ac.forth", "MC1"), ("uk.ac.forth", "MC9")]),
        agreement(
            key="LEVEL",
            sources=[("uk.ac.lagan", "LC1")],
            minimum_level=rec.Level(framework="FHEQ", level="6"),
        ),
        agreement(
            key="IDENTITY", sources=[("uk.ac.lagan", "LC1")], identity_verified_required=True
        ),
        agreement(key="SUSPENDED", status=rec.RECORD_STATUS_SUSPENDED),
    ]
    holdings = [
        holding(award_date="2025-01-10"),
        holding("uk.ac.lagan", "LC1", identity_verified=False),
    ]
    grants, not_applied = run(holdings, agreements)
    assert grants == []
    assert reasons(not_applied) == {
        "EXPIRED": eq.NOT_APPLIED_REASON_EXPIRED,
        "FUTURE": eq.NOT_APPLIED_REASON_NOT_YET_VALID,
        "GRADE": eq.NOT_APPLIED_REASON_GRADE_BELOW_MINIMUM,
        "OLD": eq.NOT_APPLIED_REASON_CREDIT_TOO_OLD,
        "MISSING": eq.NOT_APPLIED_REASON_MISSING_REQUIREMENT,
        "LEVEL": eq.NOT_APPLIED_REASON_LEVEL_TOO_LOW,
        "IDENTITY": eq.NOT_APPLIED_REASON_IDENTITY_NOT_VERIFIED,
        "SUSPENDED": eq.NOT_APPLIED_REASON_NOT_ACTIVE,
    }
    words = {n.agreement.agreement_key: n.explanation for n in not_applied}
    assert "ended on 2025-12-31" in words["EXPIRED"]
    assert "below the minimum 75 (PERCENTAGE)" in words["GRADE"]
    assert (
        "more than 6 months before 2026-01-15" in words["OLD"] and "up to 6 months" in words["OLD"]
    )
    assert "not held: uk.ac.forth/MC9" in words["MISSING"]
    assert "is at RQF 4, below the minimum FHEQ 6" in words["LEVEL"]
    assert "published correspondence" in words["LEVEL"]


def test_grade_compares_across_schemes() -> None:
    pct = holding(grade=("PERCENTAGE", "64"))
    minimum_b = agreement(minimum_grade=rec.Grade(scheme="UK_LETTER", value="B"))
    minimum_a = agreement(key="AG2", minimum_grade=rec.Grade(scheme="UK_LETTER", value="A"))
    assert len(run([pct], [minimum_b])[0]) == 1
    assert reasons(run([pct], [minimum_a])[1]) == {"AG2": eq.NOT_APPLIED_REASON_GRADE_BELOW_MINIMUM}


def test_credentials_shelf_life_limits_age_too() -> None:
    sources = {
        **SOURCES,
        ("uk.ac.forth", "MC2"): micro_credential(key="MC2", credit_validity_months=12),
    }
    old = holding(key="MC2", award_date="2024-06-01")
    grants, not_applied = resolve(
        [old],
        [agreement(sources=[("uk.ac.forth", "MC2")])],
        sources=sources,
        units=UNITS,
        as_of=AS_OF,
    )
    assert not grants
    assert "up to 12 months" in not_applied[0].explanation


def test_any_of_and_n_of_groups() -> None:
    any_of = agreement(
        key="ANY",
        source=group(
            rec.GROUP_OPERATOR_ANY_OF, ref("uk.ac.forth", "MC9"), ref("uk.ac.forth", "MC1")
        ),
    )
    two_of = agreement(
        key="TWO",
        unit_key="CS5PR",
        source=group(
            rec.GROUP_OPERATOR_N_OF,
            ref("uk.ac.forth", "MC1"),
            ref("uk.ac.forth", "MC2"),
            ref("uk.ac.lagan", "LC1"),
            n=2,
        ),
    )
    assert [g.used_holdings[0].key for g in run([holding()], [any_of])[0]] == ["MC1"]
    assert run([holding()], [two_of])[0] == []
    grants, _ = run([holding(), holding("uk.ac.lagan", "LC1")], [two_of])
    assert [(h.institution_id, h.key) for h in grants[0].used_holdings] == [
        ("uk.ac.forth", "MC1"),
        ("uk.ac.lagan", "LC1"),
    ]


def test_nested_groups() -> None:
    nested = agreement(
        source=group(
            rec.GROUP_OPERATOR_ALL_OF,
            ref("uk.ac.forth", "MC1"),
            rec.SourceItem(
                group=group(
                    rec.GROUP_OPERATOR_ANY_OF, ref("uk.ac.forth", "MC2"), ref("uk.ac.lagan", "LC1")
                )
            ),
        )
    )
    assert run([holding()], [nested])[0] == []
    assert len(run([holding(), holding("uk.ac.lagan", "LC1")], [nested])[0]) == 1


def test_no_double_counting_picks_the_assignment_with_most_credit() -> None:
    # MC1 alone earns 15 (CS7DE) or 10 (CS4IN); MC1+MC2 earn 20 (CS5PR); MC2 alone earns 10.
    # Best: CS7DE with MC1 (15) + general 10 with MC2 = 25 ECTS-equivalent beats CS5PR (20).
    agreements = [
        agreement(key="A-MC1-CS7DE", unit_key="CS7DE"),
        agreement(key="B-MC1-CS4IN", unit_key="CS4IN"),
        agreement(
            key="C-BOTH-CS5PR",
            unit_key="CS5PR",
            sources=[("uk.ac.forth", "MC1"), ("uk.ac.forth", "MC2")],
        ),
        agreement(
            key="D-MC2-GEN",
            sources=[("uk.ac.forth", "MC2")],
            general=rec.GeneralCredit(
                credit=rec.Credit(value=10, system="UK_CREDIT"),
                level=rec.Level(framework="FHEQ", level="5"),
            ),
        ),
    ]
    grants, not_applied = run([holding(), holding(key="MC2")], agreements)
    assert sorted(g.provenance[0].agreement_key for g in grants) == ["A-MC1-CS7DE", "D-MC2-GEN"]
    assert reasons(not_applied) == {
        "B-MC1-CS4IN": eq.NOT_APPLIED_REASON_HOLDING_ALREADY_USED,
        "C-BOTH-CS5PR": eq.NOT_APPLIED_REASON_HOLDING_ALREADY_USED,
    }


def general(credit: float) -> rec.GeneralCredit:
    return rec.GeneralCredit(
        credit=rec.Credit(value=credit, system="UK_CREDIT"),
        level=rec.Level(framework="FHEQ", level="5"),
    )


def test_most_credit_is_found_among_many_candidates_where_the_greedy_choice_is_wrong() -> None:
    # Taken first (most credit), MC1+MC2 -> 20 would block both 15s: 15 + 15 is more. Forty
    # more learners' credentials, each with an agreement of its own, make 45 candidates.
    agreements = [
        agreement(
            key="A-BOTH",
            general=general(20),
            sources=[("uk.ac.forth", "MC1"), ("uk.ac.forth", "MC2")],
        ),
        agreement(key="B-MC1", general=general(15)),
        agreement(key="C-MC2", general=general(15), sources=[("uk.ac.forth", "MC2")]),
    ]
    agreements += [
        agreement(key=f"F{i:02}", general=general(10), sources=[("uk.ac.forth", f"MC{i}")])
        for i in range(3, 45)
    ]
    published = {("uk.ac.forth", f"MC{i}"): micro_credential(key=f"MC{i}") for i in range(1, 45)}
    grants, not_applied = resolve(
        [holding(key=f"MC{i}") for i in range(1, 45)],
        agreements,
        sources=published,
        units=UNITS,
        as_of=AS_OF,
    )
    keys = {g.provenance[0].agreement_key for g in grants}
    assert {"B-MC1", "C-MC2"} <= keys and "A-BOTH" not in keys and len(keys) == 44
    assert reasons(not_applied) == {"A-BOTH": eq.NOT_APPLIED_REASON_HOLDING_ALREADY_USED}


def test_one_module_is_granted_once() -> None:
    grants, not_applied = run(
        [holding(), holding(key="MC2")],
        [agreement(key="X"), agreement(key="Y", sources=[("uk.ac.forth", "MC2")])],
    )
    assert [g.provenance[0].agreement_key for g in grants] == ["X"]
    assert reasons(not_applied) == {"Y": eq.NOT_APPLIED_REASON_HOLDING_ALREADY_USED}


def test_answers_are_deterministic_whatever_the_input_order() -> None:
    agreements = [agreement(key=f"AG{i}", unit_key=k) for i, (_, k) in enumerate(UNITS)]
    holdings = [holding(), holding(key="MC2")]
    first = run(holdings, agreements)
    again = run(list(reversed(holdings)), list(reversed(agreements)))

    def serialise(answer: tuple[list[eq.GrantedCredit], list[eq.NotApplied]]) -> list[bytes]:
        return [m.SerializeToString(deterministic=True) for part in answer for m in part]

    assert serialise(first) == serialise(again)


def test_credit_age_is_counted_in_calendar_months_to_the_day() -> None:
    assert months_after(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert months_after(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert months_after(dt.date(2021, 1, 14), 60) == dt.date(2026, 1, 14)
    assert too_old("2021-01-15", 60, dt.date(2026, 1, 15)) is None
    old = too_old("2021-01-14", 60, dt.date(2026, 1, 15))
    assert old is not None and "accepted until 2026-01-14" in old


KEYS = ["MC1", "MC2", "MC3", "MC4"]
agreement_strategy = st.builds(
    lambda keys, unit, i: agreement(
        key=f"AG{i}", unit_key=unit, sources=[("uk.ac.forth", k) for k in keys]
    ),
    st.lists(st.sampled_from(KEYS), min_size=1, max_size=3, unique=True),
    st.sampled_from(sorted(k for _, k in UNITS)),
    st.integers(0, 10_000),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(agreement_strategy, max_size=8, unique_by=lambda a: a.key),
    st.lists(st.sampled_from(KEYS), unique=True),
    st.sampled_from(KEYS),
)
def test_adding_a_holding_never_reduces_credit_and_no_holding_is_used_twice(
    agreements: list[rec.RecognitionAgreement], held: list[str], extra: str
) -> None:
    def total(keys: list[str]) -> float:
        grants, _ = run([holding(key=k) for k in keys], agreements)
        used = [h.key for g in grants for h in g.used_holdings]
        assert len(used) == len(set(used)), "a holding was used twice"
        units = [g.grant.unit_key for g in grants]
        assert len(units) == len(set(units)), "a module was granted twice"
        return float(sum(g.credit.value for g in grants))

    assert total(sorted(set(held) | {extra})) >= total(held)


candidate_strategy = st.tuples(
    st.lists(st.sampled_from(KEYS), min_size=1, max_size=3, unique=True),
    st.sampled_from(["", "CS7DE", "CS5PR", "CS4IN"]),  # "": general credit, no module
    st.sampled_from([0.0, 2.5, 5.0, 7.5, 10.0]),
    st.lists(st.integers(0, 8), max_size=2),
)  # the candidates it says it also satisfies


@settings(max_examples=300, deadline=None)
@given(st.lists(candidate_strategy, max_size=9))
def test_the_assignment_is_the_best_of_all_compatible_subsets(drawn: list) -> None:  # type: ignore[type-arg]
    """Against brute force, in any order of candidates: the most credit, then the fewest
    holdings, then the subset taking the earliest candidates. Two candidates are compatible
    when they share nothing, or only holdings that their agreements state one source
    satisfies both (also_satisfies)."""
    candidates = []
    for i, (keys, unit, ects, links) in enumerate(drawn):
        made = agreement(key=f"AG{i}", unit_key=unit, general=None if unit else general(10))
        made.also_satisfies.extend(f"AG{j}" for j in sorted(set(links)) if j != i)
        candidates.append(
            Candidate(
                made,
                tuple(("uk.ac.forth", k) for k in keys),
                eq.GrantedCredit(),
                ects,
                (unit,) if unit else (),
                links=bool(made.also_satisfies),
            )
        )
    n = len(candidates)

    def rank(subset: tuple[int, ...]) -> tuple:  # type: ignore[type-arg]
        return (
            sum(candidates[i].ects for i in subset),
            -sum(len(candidates[i].used) for i in subset),
            tuple(i in subset for i in range(n)),
        )

    def compatible(i: int, j: int) -> bool:
        a, b = candidates[i], candidates[j]
        common = set(a.resources) & set(b.resources)
        linked = (
            a.agreement.key in b.agreement.also_satisfies
            or b.agreement.key in a.agreement.also_satisfies
        )
        return not common or (linked and all(kind == "h" for kind, _ in common))

    allowed = [
        subset
        for size in range(n + 1)
        for subset in itertools.combinations(range(n), size)
        if all(compatible(i, j) for x, i in enumerate(subset) for j in subset[x + 1 :])
        and all(candidates[i].ects > 0 for i in subset)
    ]
    best = max(allowed, key=rank)
    assert [c.agreement.key for c in _best_assignment(candidates)] == [
        candidates[i].agreement.key for i in best
    ]
