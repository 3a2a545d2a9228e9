"""The written forms of award regulations and quality assurance: what a form or a catalogue
file shows parses back to the same message, and a mistake says what to write instead."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.v1 import records_pb2 as rec
from registry_core.conversion import table
from registry_core.expressions import ExpressionError, parse_credit
from registry_core.regulation_expressions import (
    QA_KINDS,
    format_credit_limit,
    format_quality_assurance,
    format_requirement,
    format_share,
    parse_credit_limit,
    parse_quality_assurance,
    parse_requirement,
    parse_share,
)

CREDITS = st.builds(
    lambda halves, system: rec.Credit(value=halves / 2, system=system),
    st.integers(1, 2000),
    st.sampled_from(sorted(table().ects_per_credit)),
)
LEVELS = st.sampled_from(
    [
        rec.Level(framework="SCQF", level="10"),
        rec.Level(framework="FHEQ", level="7"),
        rec.Level(framework="US_DIVISION", level="UPPER"),
    ]
)
SHARES = st.one_of(
    st.builds(lambda n, d: n / d, st.integers(0, 12), st.integers(1, 12)), st.floats(0, 1)
)
# Free text as registrars write it: no separator of the form, no space at either end.
WORDS = st.from_regex(r"[A-Za-z0-9.,:/()'&-]+(?: [A-Za-z0-9.,:/()'&-]+){0,3}", fullmatch=True)
DATES = st.dates().map(lambda d: d.isoformat())


@given(SHARES)
def test_a_share_reads_back_as_the_same_number(share: float) -> None:
    assert parse_share(format_share(share)) == share


def test_a_share_is_a_fraction_a_decimal_or_a_percentage() -> None:
    assert (parse_share("2/3"), parse_share("0.5"), parse_share("50%")) == (2 / 3, 0.5, 0.5)
    assert (format_share(2 / 3), format_share(0.5), format_share(1.0)) == ("2/3", "1/2", "1")
    assert format_share(0.6667) == "0.6667"  # not exactly 2/3, so not written as it
    assert Fraction(format_share(0.25)) == Fraction(1, 4)


@given(
    st.one_of(
        CREDITS.map(lambda c: rec.CreditLimit(credit=c)),
        SHARES.map(lambda s: rec.CreditLimit(share=s)),
        st.builds(lambda c, s: rec.CreditLimit(credit=c, share=s), CREDITS, SHARES),
    )
)
def test_a_credit_limit_reads_back_as_the_same_limit(limit: rec.CreditLimit) -> None:
    assert parse_credit_limit(format_credit_limit(limit)) == limit


def test_a_credit_limit_is_an_amount_a_share_or_both() -> None:
    both = parse_credit_limit("240  scqf OR 2/3")
    assert both == rec.CreditLimit(credit=rec.Credit(value=240, system="SCQF"), share=2 / 3)
    assert format_credit_limit(both) == "240 SCQF or 2/3"
    assert parse_credit_limit("1/2 or 60 ECTS") == rec.CreditLimit(
        credit=rec.Credit(value=60, system="ECTS"), share=0.5
    )
    assert parse_credit_limit("  ") is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("two thirds", "is not credit; write the value and the credit system, e.g. '10 SCQF'"),
        ("2/0", "'2/0' is not a share; write a fraction such as '2/3'"),
        ("half", "'half' is not a share"),
        ("240 SCQF or 120 SCQF", "gives credit twice"),
        ("1/2 or 2/3", "gives a share twice"),
    ],
)
def test_a_malformed_credit_limit_says_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_credit_limit(text)
    assert says in str(caught.value)


@given(
    st.builds(lambda c, lv: rec.LevelRequirement(credit=c, level=lv), CREDITS, LEVELS)
    | CREDITS.map(lambda c: rec.LevelRequirement(credit=c))
)
def test_credit_at_a_level_reads_back_as_the_same_requirement(
    requirement: rec.LevelRequirement,
) -> None:
    assert parse_requirement(format_requirement(requirement)) == requirement


def test_credit_at_a_level_or_at_any_level() -> None:
    at = parse_requirement("120 scqf at scqf 10")
    assert at == rec.LevelRequirement(
        credit=rec.Credit(value=120, system="SCQF"), level=rec.Level(framework="SCQF", level="10")
    )
    anywhere = parse_requirement("60 SCQF")
    assert not anywhere.HasField("level") and format_requirement(anywhere) == "60 SCQF"
    with pytest.raises(ExpressionError, match="no level after 'at'"):
        parse_requirement("120 SCQF at ")
    with pytest.raises(ExpressionError, match="is not credit"):
        parse_requirement("SCQF 10")
    with pytest.raises(ExpressionError, match="'FHEQ 7'"):
        parse_requirement("120 SCQF at SCQF level 10")
    assert parse_credit("10 scqf") == rec.Credit(value=10, system="SCQF")


@given(
    st.builds(
        lambda body, body_id, kind, date, reference, until: rec.QualityAssurance(
            body=body,
            body_id=body_id,
            kind="QUALITY_ASSURANCE_KIND_" + kind,
            date=date,
            reference=reference,
            valid_until=until,
        ),
        WORDS,
        st.sampled_from(["", "https://www.qaa.ac.uk", "urn:eqar:agency:52"]),
        st.sampled_from(QA_KINDS),
        DATES,
        st.one_of(st.just(""), WORDS.filter(lambda w: not w.lower().startswith("until "))),
        st.one_of(st.just(""), DATES),
    )
)
def test_a_quality_assurance_reads_back_as_the_same(qa: rec.QualityAssurance) -> None:
    assert parse_quality_assurance(format_quality_assurance(qa)) == qa


def test_a_quality_assurance_is_written_body_kind_date_reference_until() -> None:
    qa = parse_quality_assurance(
        "QAA Scotland <https://www.qaa.ac.uk> ; institutional review; 2023-05-01; until 2028-05-01"
    )
    assert qa == rec.QualityAssurance(
        body="QAA Scotland",
        body_id="https://www.qaa.ac.uk",
        kind=rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW,
        date="2023-05-01",
        valid_until="2028-05-01",
    )
    assert format_quality_assurance(qa) == (
        "QAA Scotland <https://www.qaa.ac.uk>; INSTITUTIONAL_REVIEW; 2023-05-01; until 2028-05-01"
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("QAA Scotland; 2023-05-01", "is not a quality assurance; write body; KIND; YYYY-MM-DD"),
        (
            "QAA Scotland; ELIR; 2023-05-01",
            "'ELIR' is not a kind of quality assurance; use "
            "INSTITUTIONAL_REVIEW, PROGRAMME_ACCREDITATION, PROFESSIONAL_BODY_RECOGNITION",
        ),
        (
            "QAA; INSTITUTIONAL_REVIEW; 2023-05-01; ref; ref2",
            "has more parts than a quality assurance",
        ),
        (
            "QAA; INSTITUTIONAL_REVIEW; 2023-05-01; until 2024-01-01; until 2025-01-01",
            "gives 'until' twice",
        ),
        ("QAA <a> <b>; INSTITUTIONAL_REVIEW; 2023-05-01", "is not a quality assurance"),
    ],
)
def test_a_malformed_quality_assurance_says_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_quality_assurance(text)
    assert says in str(caught.value)
