"""The written forms of source groups and grants: what the tables show parses back to the same
message, and a mistake is named with what to write instead."""

from __future__ import annotations

import datetime as dt
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.v1 import records_pb2 as rec
from registry_core.expressions import (
    NEXT_CREDENTIAL,
    ExpressionError,
    format_grant,
    format_sources,
    parse_grade,
    parse_grant,
    parse_holding,
    parse_holdings,
    parse_level,
    parse_sources,
)

# Keys as RECORD_KEY allows them, single spaces included ("MAT SCI 45"), except a word that
# reads as the start of another credential (`uk.ac.x/`), which the written form cannot tell
# from a missing comma.
KEYS = st.from_regex(r"[A-Za-z0-9](?: ?[A-Za-z0-9._:/-]){0,12}", fullmatch=True).filter(
    lambda key: not NEXT_CREDENTIAL.search(key)
)
REFS = st.builds(
    lambda p, k: rec.SourceItem(credential=rec.CredentialRef(institution_id=p, key=k)),
    st.sampled_from(["uk.ac.forth", "uk.ac.lagan", "ie.ac.x"]),
    KEYS,
)


def _group(items: list[rec.SourceItem], operator: int, n: int) -> rec.SourceGroup:
    group = rec.SourceGroup(operator=cast(rec.GroupOperator, operator), items=items)
    if operator == rec.GROUP_OPERATOR_N_OF:
        group.n = min(n, len(items))
    return group


GROUPS = st.recursive(
    st.builds(
        _group,
        st.lists(REFS, min_size=1, max_size=4),
        st.sampled_from(
            [rec.GROUP_OPERATOR_ALL_OF, rec.GROUP_OPERATOR_ANY_OF, rec.GROUP_OPERATOR_N_OF]
        ),
        st.integers(1, 4),
    ),
    lambda inner: st.builds(
        _group,
        st.lists(
            st.one_of(REFS, inner.map(lambda g: rec.SourceItem(group=g))), min_size=1, max_size=4
        ),
        st.sampled_from(
            [rec.GROUP_OPERATOR_ALL_OF, rec.GROUP_OPERATOR_ANY_OF, rec.GROUP_OPERATOR_N_OF]
        ),
        st.integers(1, 4),
    ),
    max_leaves=12,
)


@given(GROUPS)
def test_what_the_table_shows_parses_back_to_the_same_group(group: rec.SourceGroup) -> None:
    assert parse_sources(format_sources(group)) == group


def test_keys_keep_their_spaces_in_source_groups() -> None:
    group = parse_sources(
        "all of uk.ac.x/MAT SCI 45, (2 of uk.ac.x/BIOLOGY 1A, uk.ac.x/BIOLOGY 1AL, uk.ac.y/CHEM 1)"
    )
    assert group.items[0].credential.key == "MAT SCI 45"
    assert [i.credential.key for i in group.items[1].group.items] == [
        "BIOLOGY 1A",
        "BIOLOGY 1AL",
        "CHEM 1",
    ]


def test_operators_are_read_in_any_case_and_spacing() -> None:
    group = parse_sources(
        "  ALL OF uk.ac.forth/A ,(2 OF uk.ac.x/B,uk.ac.x/C, (Any Of uk.ac.x/D))  "
    )
    assert format_sources(group) == (
        "all of uk.ac.forth/A, (2 of uk.ac.x/B, uk.ac.x/C, (any of uk.ac.x/D))"
    )


@pytest.mark.parametrize(
    "text",
    ["both of uk.ac.x/A, uk.ac.x/B", "all uk.ac.x/A", "all of uk.ac.x/A, (some of uk.ac.x/B)"],
)
def test_a_misspelt_operator_is_named_with_the_choices(text: str) -> None:
    with pytest.raises(ExpressionError) as error:
        parse_sources(text)
    assert "is not a group operator; use 'all of', 'any of' or 'N of'" in str(error.value)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "expected a group operator but found nothing; use 'all of', 'any of' or 'N of'"),
        ("uk.ac.x/A", "expected a group operator but found 'uk.ac.x/A'"),
        ("all of", "'all of' needs an item after it"),
        ("all of uk.ac.x/A,", "',' needs an item after it"),
        (
            "all of uk.ac.x/A uk.ac.x/B",
            "'uk.ac.x/A uk.ac.x/B' reads as several credentials; separate them with commas",
        ),
        ("all of uk.ac.x/A) uk.ac.x/B", "unexpected ')' after the group"),
        ("any of (all of uk.ac.x/A", "a bracket is not closed"),
        ("any of uk.ac.x", "'uk.ac.x' is not provider/key"),
        ("any of ,", "expected provider/key or '(' but found ','"),
    ],
)
def test_mistakes_say_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ExpressionError, match=None) as error:
        parse_sources(text)
    assert says in str(error.value)


def test_grants_levels_and_grades() -> None:
    general = parse_grant("15  uk_credit general at fheq 7")
    assert general.general_credit.credit.value == 15
    assert format_grant(general) == "15 UK_CREDIT general at FHEQ 7"
    assert parse_grant(" CS7DE ").unit_key == "CS7DE"
    with pytest.raises(ExpressionError, match="module key"):
        parse_grant("15 UK_CREDIT general")
    assert parse_grant("BIOLOGY 1A").unit_key == "BIOLOGY 1A"  # a key may hold a space


@pytest.mark.parametrize("amount", ["10 credits", "15 UK_CREDIT", "7.5 ects", "20 CATS"])
def test_an_amount_of_credit_is_not_taken_for_a_module_key(amount: str) -> None:
    with pytest.raises(ExpressionError, match="is an amount of credit.*general at FHEQ 7"):
        parse_grant(amount)
    assert parse_level("fheq 6") == rec.Level(framework="FHEQ", level="6")
    assert parse_level(" ") is None
    assert parse_grade("uk_letter C") == rec.Grade(scheme="UK_LETTER", value="C")
    with pytest.raises(ExpressionError, match="UK_LETTER C"):
        parse_grade("C")


def test_holdings_with_grade_schemes_and_award_dates() -> None:
    today = dt.date(2026, 3, 1)
    plain = parse_holding("uk.ac.forth/MC1", today)
    assert plain.award_date == "2026-03-01" and not plain.HasField("grade")
    assert plain.identity_verified
    graded = parse_holding("uk.ac.forth/MC1:percentage=65@2025-06-30", today, False)
    assert (graded.grade.scheme, graded.grade.value) == ("PERCENTAGE", "65")
    assert graded.award_date == "2025-06-30" and not graded.identity_verified
    assert parse_holding("uk.ac.forth/MC1:B", today).grade.scheme == "UK_LETTER"
    with pytest.raises(ExpressionError, match="provider/key"):
        parse_holding("uk.ac.forth", today)
    with pytest.raises(ExpressionError, match="not a date"):
        parse_holding("uk.ac.forth/MC1@2025-02-30", today)


SERIES_GRANTS = st.builds(
    lambda keys, name: rec.Grant(units=rec.UnitSeries(unit_keys=keys, name=name)),
    st.lists(KEYS, min_size=2, max_size=4),
    st.sampled_from(["", "Introductory Biology", 'The "A" series']),
)


@given(st.one_of(KEYS.map(lambda key: rec.Grant(unit_key=key)), SERIES_GRANTS))
def test_what_the_table_shows_of_a_grant_parses_back(grant: rec.Grant) -> None:
    assert parse_grant(format_grant(grant)) == grant


def test_a_series_grant_is_written_with_plus() -> None:
    grant = parse_grant('units BIOLOGY 1A +  BIOLOGY 1AL "Introductory Biology"')
    assert list(grant.units.unit_keys) == ["BIOLOGY 1A", "BIOLOGY 1AL"]
    assert grant.units.name == "Introductory Biology"
    assert format_grant(grant) == 'units BIOLOGY 1A + BIOLOGY 1AL "Introductory Biology"'
    assert parse_grant("BIOLOGY 1AL").unit_key == "BIOLOGY 1AL"


@pytest.mark.parametrize(
    "text", ["units BIOLOGY 1A", "units BIOLOGY 1A +", "BIOLOGY 1A + X", 'CS7DE "name"']
)
def test_a_malformed_grant_names_the_forms(text: str) -> None:
    with pytest.raises(ExpressionError, match="units BIOLOGY 1A \\+ BIOLOGY 1AL"):
        parse_grant(text)


def test_holdings_keep_the_spaces_of_their_keys() -> None:
    today = dt.date(2026, 3, 1)
    holding = parse_holding("uk.ac.x/MAT SCI 45:B@2025-06-30", today)
    assert (holding.credential.key, holding.grade.value) == ("MAT SCI 45", "B")
    found = parse_holdings("uk.ac.x/MAT SCI 45:B, uk.ac.y/BIOLOGY 1AL uk.ac.forth/MC1:A", today)
    assert [h.credential.key for h in found] == ["MAT SCI 45", "BIOLOGY 1AL", "MC1"]
