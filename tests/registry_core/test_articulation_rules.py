"""What real articulation agreements say, as rules of the pure core (issue 18): completion
windows apart from validity, series and cross-listed units, one source satisfying several
equivalences, conditions and notes, levels compared as each framework means them, quarter
hours, references that exist, and the best choice within any-of and N-of groups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.conversion import table
from registry_core.errors import InvalidRecord
from registry_core.pathway import evaluate_pathway, find_conflicts
from registry_core.records import validate_record
from registry_core.resolution import Ref, SourceRecord, resolve
from tests.factories import AS_OF, agreement, group, holding, micro_credential, module, ref

FORTH, TAFF = "uk.ac.forth", "uk.ac.taff"
SOURCES: dict[Ref, SourceRecord] = {
    (FORTH, k): micro_credential(key=k) for k in ("MC1", "MC2", "MC3")
}
UNITS = {
    (TAFF, k): module(key=k, credit=c)
    for k, c in (
        ("BIO1A", 10),
        ("BIO1AL", 5),
        ("MATH16A", 15),
        ("MATH51", 15),
        ("CS7DE", 15),
        ("CS5PR", 20),
    )
}


def run(
    holdings: Sequence[eq.Holding],
    agreements: Sequence[rec.RecognitionAgreement],
    *,
    sources: Mapping[Ref, SourceRecord] = SOURCES,
    units: Mapping[Ref, rec.LearningUnit] = UNITS,
    as_of: dt.date = AS_OF,
    programme: str = "",
) -> tuple[list[eq.GrantedCredit], list[eq.NotApplied]]:
    return resolve(
        holdings,
        agreements,
        sources=sources,
        units=units,
        as_of=as_of,
        target=TAFF,
        programme=programme,
    )


def granted(grants: Sequence[eq.GrantedCredit]) -> list[str]:
    return [g.provenance[-1].agreement_key for g in grants]


def reason(not_applied: Sequence[eq.NotApplied], key: str) -> tuple[int, str]:
    [found] = [n for n in not_applied if n.agreement.agreement_key == key]
    return found.reason, found.explanation


def series(*keys: str, name: str = "") -> rec.Grant:
    return rec.Grant(units=rec.UnitSeries(unit_keys=keys, name=name))


# 1. When the learning was completed, apart from when the agreement is in force.


def windowed(valid_to: str = "") -> rec.RecognitionAgreement:
    """An agreement covering courses completed in the academic year 2024-2025."""
    return agreement(completed_from="2024-08-15", completed_to="2025-08-14", valid_to=valid_to)


def test_a_course_completed_inside_its_window_is_granted_a_year_later() -> None:
    grants, _ = run([holding(award_date="2025-05-20")], [windowed()], as_of=dt.date(2026, 9, 1))
    assert granted(grants) == ["AG1"]


@pytest.mark.parametrize(
    "completed, word", [("2024-06-01", "before 2024-08-15"), ("2025-09-01", "after 2025-08-14")]
)
def test_a_course_completed_outside_its_window_is_refused_with_its_own_reason(
    completed: str, word: str
) -> None:
    grants, not_applied = run(
        [holding(award_date=completed)], [windowed()], as_of=dt.date(2025, 10, 1)
    )
    assert grants == []
    code, words = reason(not_applied, "AG1")
    assert code == eq.NOT_APPLIED_REASON_COMPLETED_OUTSIDE_WINDOW
    assert word in words and "uk.ac.forth/MC1" in words


def test_an_agreement_no_longer_in_force_is_refused_as_expired_not_as_a_late_completion() -> None:
    _, not_applied = run(
        [holding(award_date="2025-05-20")],
        [windowed(valid_to="2025-12-31")],
        as_of=dt.date(2026, 3, 1),
    )
    assert reason(not_applied, "AG1")[0] == eq.NOT_APPLIED_REASON_EXPIRED


def test_a_completion_window_that_ends_before_it_starts_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidRecord) as caught:
        validate_record(agreement(completed_from="2025-08-14", completed_to="2024-08-15"))
    assert caught.value.field == "conditions.completed_to"


# 2. A grant of several units, and units that are one.


def test_a_series_grant_gives_every_unit_with_their_credit_summed() -> None:
    made = agreement(unit_key="")
    made.grant.CopyFrom(series("BIO1A", "BIO1AL", name="Biology 1A with lab"))
    [grant], _ = run([holding()], [made])
    assert [u.unit_key for u in grant.units] == ["BIO1A", "BIO1AL"]
    assert (grant.credit.value, grant.credit.system) == (15, "UK_CREDIT")
    assert grant.unit_title == "Biology 1A with lab"


def test_a_unit_of_a_series_is_not_granted_again_by_another_agreement() -> None:
    both = agreement(key="SERIES", unit_key="")
    both.grant.CopyFrom(series("BIO1A", "BIO1AL"))
    lab = agreement(key="LAB", unit_key="BIO1AL", sources=[(FORTH, "MC2")])
    grants, not_applied = run([holding(), holding(key="MC2")], [both, lab])
    assert granted(grants) == ["SERIES"]
    assert reason(not_applied, "LAB")[0] == eq.NOT_APPLIED_REASON_HOLDING_ALREADY_USED


def test_a_cross_listed_unit_is_granted_once_whichever_code_names_it() -> None:
    units = dict(UNITS)
    for key, other in (("ECON4", "MGT4"), ("MGT4", "ECON4")):
        unit = module(key=key, credit=12)
        unit.cross_listed_keys.append(other)
        units[(TAFF, key)] = unit
    grants, not_applied = run(
        [holding(), holding(key="MC2")],
        [
            agreement(key="AS-ECON", unit_key="ECON4"),
            agreement(key="AS-MGT", unit_key="MGT4", sources=[(FORTH, "MC2")]),
        ],
        units=units,
    )
    assert len(grants) == 1 and list(grants[0].units[0].cross_listed_keys) in (["MGT4"], ["ECON4"])
    assert not_applied[0].reason == eq.NOT_APPLIED_REASON_HOLDING_ALREADY_USED


def test_a_series_needs_two_units_and_names_each_once() -> None:
    for grant, field in (
        (series("BIO1A"), "grant.units.unit_keys"),
        (series("BIO1A", "BIO1A"), "grant.units.unit_keys[1]"),
    ):
        made = agreement(unit_key="")
        made.grant.CopyFrom(grant)
        with pytest.raises(InvalidRecord) as caught:
            validate_record(made)
        assert caught.value.field == field


# 3. Course equivalence as well as credit.


def one_to_many(linked: bool) -> list[rec.RecognitionAgreement]:
    a = agreement(key="TO-16A", unit_key="MATH16A")
    b = agreement(key="TO-51", unit_key="MATH51")
    if linked:
        a.also_satisfies.append("TO-51")
    return [a, b]


def test_one_source_stated_to_satisfy_two_equivalences_is_answered_with_both() -> None:
    grants, not_applied = run([holding()], one_to_many(linked=True))
    assert granted(grants) == ["TO-16A", "TO-51"] and not not_applied
    assert [list(g.shares_holdings_with) for g in grants] == [["TO-51"], ["TO-16A"]]


def test_without_the_statement_one_holding_still_earns_one_grant() -> None:
    grants, not_applied = run([holding()], one_to_many(linked=False))
    assert len(grants) == 1
    assert not_applied[0].reason == eq.NOT_APPLIED_REASON_HOLDING_ALREADY_USED


def qualification(
    total: float = 120,
    *,
    at_levels: Sequence[tuple[str, str, float]] = (),
    mandatory: Sequence[str] = (),
) -> rec.LearningUnit:
    made = module(key="BSC", credit=total, level="6")
    made.kind = rec.LEARNING_UNIT_KIND_QUALIFICATION
    made.stacking_rule.total.CopyFrom(rec.Credit(value=total, system="UK_CREDIT"))
    made.stacking_rule.mandatory_unit_keys.extend(mandatory)
    for framework, level, credit in at_levels:
        made.stacking_rule.at_levels.add(
            level=rec.Level(framework=framework, level=level),
            credit=rec.Credit(value=credit, system="UK_CREDIT"),
        )
    return made


def test_a_pathway_counts_shared_holdings_credit_once_and_says_why() -> None:
    grants, _ = run([holding()], one_to_many(linked=True))
    answer = evaluate_pathway(qualification(mandatory=["MATH16A", "MATH51"]), grants)
    assert answer.achieved.value == 15
    assert list(answer.remaining_mandatory_unit_keys) == []
    assert any("same holdings" in limit for limit in answer.limits)


def test_list_conflicts_tells_an_intended_one_to_many_from_a_contradiction() -> None:
    [intended] = find_conflicts(one_to_many(linked=True))
    [contradiction] = find_conflicts(one_to_many(linked=False))
    assert intended.kind == eq.CONFLICT_KIND_INTENDED_ONE_TO_MANY
    assert contradiction.kind == eq.CONFLICT_KIND_CONTRADICTION


def test_an_agreement_cannot_say_it_also_satisfies_itself() -> None:
    made = agreement()
    made.also_satisfies.append("AG1")
    with pytest.raises(InvalidRecord) as caught:
        validate_record(made)
    assert caught.value.field == "also_satisfies[0]"


# 4. Conditions and caveats.


def restricted(restriction_text: str) -> rec.RecognitionAgreement:
    made = agreement(restriction_text=restriction_text)
    made.notes.append("Must be completed with a C- or better.")
    return made


def test_a_grant_for_another_programme_is_conditional_in_the_registrars_words() -> None:
    made = restricted(restriction_text="for Global Studies majors only")
    made.conditions.for_programmes.append("GLOBAL-BA")
    for programme in ("", "ECON-BA"):
        [grant], _ = run([holding()], [made], programme=programme)
        assert grant.conditional and list(grant.conditions) == ["for Global Studies majors only"]
        assert list(grant.notes) == ["Must be completed with a C- or better."]
    [grant], _ = run([holding()], [made], programme=" global-ba ")
    assert not grant.conditional and list(grant.notes) == ["Must be completed with a C- or better."]


def test_additional_requirements_always_make_a_grant_conditional() -> None:
    made = agreement()
    made.conditions.additional_requirements.append("also complete MATH 2 at the university")
    [grant], _ = run([holding()], [made], programme="anything")
    assert grant.conditional and list(grant.conditions) == [
        "also complete MATH 2 at the university"
    ]


def test_a_plain_grant_takes_the_holding_before_a_conditional_one() -> None:
    conditional = agreement(key="A-COND", unit_key="CS5PR", restriction_text="majors only")
    plain = agreement(key="B-PLAIN", unit_key="CS7DE")
    grants, not_applied = run([holding()], [conditional, plain])
    assert granted(grants) == ["B-PLAIN"]
    assert "without conditions" in reason(not_applied, "A-COND")[1]


def test_a_pathway_lists_conditional_grants_apart_and_counts_none_of_their_credit() -> None:
    grants, _ = run([holding()], [agreement(restriction_text="majors only")])
    answer = evaluate_pathway(qualification(), grants)
    assert answer.achieved.value == 0 and len(answer.conditional) == 1


# 5. Levels compared the way each framework means them.


@pytest.mark.parametrize(
    "have, want, meets",
    [
        (("SCQF", "7"), ("SCQF", "8"), False),  # EQF puts both at 5
        (("SCQF", "9"), ("SCQF", "10"), False),  # EQF puts both at 6
        (("FHEQ", "4"), ("FHEQ", "5"), False),
        (("SCQF", "7"), ("FHEQ", "5"), False),  # HNC is not an HND
        (("SCQF", "8"), ("FHEQ", "5"), True),
        (("SCQF", "10"), ("FHEQ", "6"), True),
        (("FHEQ", "6"), ("SCQF", "10"), None),  # an ordinary or an honours degree
        (("CQFW", "E3"), ("RQF", "E3"), True),
        (("NFQ_IE", "8"), ("FHEQ", "6"), True),  # through EQF 6, FHEQ's only level there
        (("NFQ_IE", "6"), ("FHEQ", "5"), None),  # EQF 5 also holds FHEQ 4
        (("NFQ_IE", "9"), ("FHEQ", "6"), True),
        (("AQF", "5"), ("FHEQ", "6"), False),
        (("US_DIVISION", "UPPER"), ("US_DIVISION", "LOWER"), True),
        (("US_DIVISION", "UPPER"), ("FHEQ", "4"), None),  # referenced to no framework
    ],
)
def test_levels_compare_within_a_framework_and_across_through_the_referencing(
    have: tuple[str, str], want: tuple[str, str], meets: bool | None
) -> None:
    assert table().compare_levels(*have, *want).meets is meets


def level_agreement(framework: str, level: str) -> rec.RecognitionAgreement:
    return agreement(minimum_level=rec.Level(framework=framework, level=level))


def test_a_minimum_level_in_the_same_framework_is_not_met_through_eqf() -> None:
    sources = {(FORTH, "MC1"): micro_credential(level=rec.Level(framework="SCQF", level="7"))}
    _, not_applied = run([holding()], [level_agreement("SCQF", "8")], sources=sources)
    code, words = reason(not_applied, "AG1")
    assert code == eq.NOT_APPLIED_REASON_LEVEL_TOO_LOW and "same framework" in words


def test_a_level_that_cannot_be_compared_is_a_stated_reason_not_a_guess() -> None:
    no_level = module(FORTH, "HIST 1")
    no_level.ClearField("level")
    undecided: dict[Ref, SourceRecord] = {
        (FORTH, "MC1"): micro_credential(level=rec.Level(framework="NFQ_IE", level="6")),
        (FORTH, "HIST 1"): no_level,
    }
    _, not_applied = run(
        [holding(), holding(key="HIST 1")],
        [
            level_agreement("FHEQ", "5"),
            agreement(
                key="AG2",
                sources=[(FORTH, "HIST 1")],
                minimum_level=rec.Level(framework="US_DIVISION", level="LOWER"),
            ),
        ],
        sources=undecided,
    )
    assert reason(not_applied, "AG1")[0] == eq.NOT_APPLIED_REASON_LEVEL_NOT_COMPARABLE
    assert "FHEQ 4" in reason(not_applied, "AG1")[1]
    assert reason(not_applied, "AG2")[0] == eq.NOT_APPLIED_REASON_LEVEL_NOT_COMPARABLE


def test_a_learning_unit_may_have_no_level_and_a_level_must_be_of_its_framework() -> None:
    no_level = module()
    no_level.ClearField("level")
    validate_record(no_level)
    with pytest.raises(InvalidRecord) as caught:
        validate_record(module(framework="US_DIVISION", level="7"))
    assert caught.value.field == "level.level" and "LOWER, UPPER, GRADUATE" in caught.value.problem


def test_a_level_floor_in_a_pathway_counts_with_the_frameworks_own_levels() -> None:
    units = {
        (TAFF, "SC9"): module(key="SC9", credit=15, framework="SCQF", level="9"),
        (TAFF, "SC10"): module(key="SC10", credit=15, framework="SCQF", level="10"),
    }
    grants, _ = run(
        [holding(), holding(key="MC2")],
        [
            agreement(key="A9", unit_key="SC9"),
            agreement(key="A10", unit_key="SC10", sources=[(FORTH, "MC2")]),
        ],
        units=units,
    )
    answer = evaluate_pathway(qualification(at_levels=[("SCQF", "10", 90)]), grants)
    [remaining] = answer.remaining_at_levels
    assert remaining.credit.value == 75  # SCQF 9 is not SCQF 10, though both are EQF 6


# 6. Credit systems in use.


def test_quarter_hours_are_two_thirds_of_a_semester_hour_with_their_source() -> None:
    assert table().convert_credit(15, "US_QUARTER_HOUR", "US_SEMESTER_HOUR") == 10
    assert table().convert_credit(4, "US_QUARTER_HOUR", "ECTS") == 5  # 5.33, rounded down
    assert "two-thirds" in table().raw["credit_systems"]["US_QUARTER_HOUR"]["source"]


# 7. References that exist.


def test_a_grant_of_an_unpublished_unit_names_the_unit() -> None:
    _, not_applied = run([holding()], [agreement(unit_key="NOPE")])
    code, words = reason(not_applied, "AG1")
    assert code == eq.NOT_APPLIED_REASON_UNIT_NOT_PUBLISHED and "uk.ac.taff/NOPE" in words


def test_a_source_credential_its_provider_has_not_published_has_its_own_reason() -> None:
    withdrawn: SourceRecord = micro_credential(key="MC2", status=rec.RECORD_STATUS_WITHDRAWN)
    _, not_applied = run(
        [holding(key="MC9"), holding(key="MC2")],
        [agreement(sources=[(FORTH, "MC9")]), agreement(key="AG2", sources=[(FORTH, "MC2")])],
        sources={(FORTH, "MC1"): SOURCES[(FORTH, "MC1")], (FORTH, "MC2"): withdrawn},
    )
    assert reason(not_applied, "AG1") == (
        eq.NOT_APPLIED_REASON_SOURCE_NOT_PUBLISHED,
        "uk.ac.forth/MC9 is not published by its provider, or withdrawn; the registry "
        "recognises only "
        "credentials their provider has published and keeps active",
    )
    assert "is withdrawn" in reason(not_applied, "AG2")[1]


# 8. The most credit from any-of and N-of groups.


def test_an_any_of_group_takes_the_item_that_leaves_the_other_for_another_grant() -> None:
    either = agreement(
        key="X",
        unit_key="CS5PR",
        source=group(rec.GROUP_OPERATOR_ANY_OF, ref(FORTH, "MC1"), ref(FORTH, "MC2")),
    )
    only_mc1 = agreement(key="Y", unit_key="CS7DE")
    grants, not_applied = run([holding(), holding(key="MC2")], [either, only_mc1])
    assert granted(grants) == ["X", "Y"] and not not_applied
    assert [h.key for h in grants[0].used_holdings] == ["MC2"]


def test_an_n_of_group_chooses_its_items_for_the_most_credit() -> None:
    two_of = agreement(
        key="X",
        unit_key="CS5PR",
        source=group(
            rec.GROUP_OPERATOR_N_OF, ref(FORTH, "MC1"), ref(FORTH, "MC2"), ref(FORTH, "MC3"), n=2
        ),
    )
    only_mc1 = agreement(key="Y", unit_key="CS7DE")
    grants, _ = run([holding(), holding(key="MC2"), holding(key="MC3")], [two_of, only_mc1])
    assert granted(grants) == ["X", "Y"]
    assert [h.key for h in grants[0].used_holdings] == ["MC2", "MC3"]


def test_an_agreement_with_several_ways_is_granted_once() -> None:
    either = agreement(
        key="X",
        general=rec.GeneralCredit(
            credit=rec.Credit(value=10, system="ECTS"), level=rec.Level(framework="EQF", level="6")
        ),
        source=group(rec.GROUP_OPERATOR_ANY_OF, ref(FORTH, "MC1"), ref(FORTH, "MC2")),
    )
    grants, not_applied = run([holding(), holding(key="MC2")], [either])
    assert granted(grants) == ["X"] and not not_applied


KEYS = ["MC1", "MC2", "MC3"]
item_strategy = st.sampled_from(KEYS).map(lambda k: ref(FORTH, k))
group_strategy = st.builds(
    lambda op, items, n: group(
        op, *items, n=min(n, len(items)) if op == rec.GROUP_OPERATOR_N_OF else 0
    ),
    st.sampled_from(
        [rec.GROUP_OPERATOR_ALL_OF, rec.GROUP_OPERATOR_ANY_OF, rec.GROUP_OPERATOR_N_OF]
    ),
    st.lists(item_strategy, min_size=1, max_size=3),
    st.integers(1, 3),
)


def drawn_agreement(
    i: int, source: rec.SourceGroup, unit: str, links: list[int]
) -> rec.RecognitionAgreement:
    made = agreement(key=f"AG{i}", unit_key=unit, source=source)
    made.also_satisfies.extend(f"AG{j}" for j in sorted(set(links)) if j != i)
    return made


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            group_strategy,
            st.sampled_from(sorted(k for _, k in UNITS)),
            st.lists(st.integers(0, 5), max_size=2),
        ),
        max_size=6,
    ),
    st.lists(st.sampled_from(KEYS), unique=True),
    st.sampled_from(KEYS),
)
def test_with_groups_and_shared_sources_adding_a_holding_never_reduces_credit(
    drawn: list[tuple[rec.SourceGroup, str, list[int]]], held: list[str], extra: str
) -> None:
    """And no unit is granted twice, and a holding is used twice only by agreements that
    say one source satisfies both; the answer does not depend on the agreements' order."""
    agreements = [drawn_agreement(i, *parts) for i, parts in enumerate(drawn)]

    def total(keys: list[str]) -> float:
        grants, _ = run([holding(key=k) for k in keys], agreements)
        units = [u.unit_key for g in grants for u in g.units]
        assert len(units) == len(set(units)), "a unit was granted twice"
        by_key = {a.key: a for a in agreements}
        for n, a in enumerate(grants):
            for b in grants[n + 1 :]:
                ka, kb = a.provenance[0].agreement_key, b.provenance[0].agreement_key
                if {h.key for h in a.used_holdings} & {h.key for h in b.used_holdings}:
                    assert kb in by_key[ka].also_satisfies or ka in by_key[kb].also_satisfies
        assert run([holding(key=k) for k in keys], agreements[::-1]) == (grants, _)
        return float(sum(g.credit.value for g in grants))

    assert total(sorted(set(held) | {extra})) >= total(held)
