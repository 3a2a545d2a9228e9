from __future__ import annotations

import pytest

from registry_core.conversion import table


def test_every_entry_names_its_source() -> None:
    raw = table().raw
    for section in ("credit_systems", "level_frameworks", "grading_schemes"):
        for name, entry in raw[section].items():
            assert entry.get("source"), f"{section}.{name} has no source"


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (10, "SCQF", "ECTS", 5.0),
        (5, "ECTS", "SCQF", 10.0),
        (15, "UK_CREDIT", "SCQF", 15.0),
        (3, "US_SEMESTER_HOUR", "ECTS", 6.0),
        (15, "UK_CREDIT", "US_SEMESTER_HOUR", 3.5),  # 3.75 rounds down to the half credit
    ],
)
def test_credit_converts_through_ects_rounding_down(
    value: float, source: str, target: str, expected: float
) -> None:
    assert table().convert_credit(value, source, target) == expected


def test_conversion_never_grants_more_than_the_source() -> None:
    t = table()
    for a in t.credit_systems:
        for b in t.credit_systems:
            for value in (1, 5, 7.5, 10, 15, 20, 60):
                converted = t.convert_credit(value, a, b)
                assert t.to_ects(converted, b) <= t.to_ects(value, a) + 1e-9


@pytest.mark.parametrize(
    ("framework", "level", "eqf"),
    [
        ("SCQF", "11", 7),
        ("SCQF", "9", 6),
        ("FHEQ", "7", 7),
        ("RQF", "4", 5),
        ("NFQ_IE", "8", 6),
        ("AQF", "7", 6),
        ("EQF", "5", 5),
    ],
)
def test_levels_are_referenced_to_eqf(framework: str, level: str, eqf: int) -> None:
    assert table().eqf_level(framework, level) == eqf


def test_grades_of_different_schemes_compare_on_one_scale() -> None:
    t = table()
    assert t.grade_percent("UK_LETTER", "b") == 60
    assert t.grade_percent("PERCENTAGE", "64") > t.grade_percent("UK_LETTER", "B")
    assert t.grade_percent("UK_CLASSIFICATION", "FIRST") == t.grade_percent("UK_LETTER", "A")
    with pytest.raises(ValueError, match="not a grade of UK_LETTER"):
        t.grade_percent("UK_LETTER", "Z")
    with pytest.raises(ValueError, match="outside 0-100"):
        t.grade_percent("PERCENTAGE", "101")
