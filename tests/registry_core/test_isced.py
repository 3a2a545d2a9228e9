"""Subject codes are named as ISCED-F 2013 names them, residual fields by the
classification's own rule, and a code it lacks gets no name."""

from __future__ import annotations

import pytest

from registry_core import isced


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("06", "Information and Communication Technologies (ICTs)"),
        ("031", "Social and behavioural sciences"),
        ("0613", "Software and applications development and analysis"),
        ("0421", "Law"),
        ("9999", "Field unknown"),
    ],
)
def test_broad_narrow_and_detailed_fields_have_their_names(code: str, name: str) -> None:
    assert isced.name(code) == name


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("0610", "Information and Communication Technologies (ICTs) not further defined"),
        ("0539", "Physical sciences not elsewhere classified"),
        ("0400", "Business, administration and law not further defined"),
        ("0188", "Inter-disciplinary programmes and qualifications involving education"),
        (
            "058",
            "Inter-disciplinary programmes and qualifications involving natural sciences, "
            "mathematics and statistics",
        ),
    ],
)
def test_residual_fields_are_named_by_the_classifications_rule(code: str, name: str) -> None:
    assert isced.name(code) == name


@pytest.mark.parametrize("code", ["12", "1234", "0618", "0699", "06130", "", "x6"])
def test_a_code_the_classification_lacks_has_no_name(code: str) -> None:
    assert isced.name(code) == ""
    assert isced.labelled(code) == code


def test_a_labelled_code_keeps_the_code_first() -> None:
    assert isced.labelled("0313") == "0313 – Psychology"
