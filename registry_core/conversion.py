"""The conversion table: credit systems, level frameworks and grading schemes.

All numbers live in conversion_table.json with their sources; this module only reads them.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from typing import Any


class ConversionTable:
    """Read-only view of conversion_table.json, indexed once for the hot paths (validation
    runs these look-ups for every record of every batch)."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.ects_per_credit: dict[str, float] = {
            name: float(entry["ects_per_credit"]) for name, entry in raw["credit_systems"].items()}
        self.to_eqf: dict[str, dict[str, int]] = {
            name: {level: int(eqf) for level, eqf in entry["to_eqf"].items()}
            for name, entry in raw["level_frameworks"].items()}
        self.credit_systems: tuple[str, ...] = tuple(sorted(self.ects_per_credit))
        self.level_frameworks: tuple[str, ...] = tuple(sorted(self.to_eqf))
        self.grading_schemes: tuple[str, ...] = tuple(sorted(raw["grading_schemes"]))

    def levels_of(self, framework: str) -> list[str]:
        return list(self.to_eqf[framework])

    def to_ects(self, value: float, system: str) -> float:
        return value * self.ects_per_credit[system]

    def convert_credit(self, value: float, from_system: str, to_system: str) -> float:
        """Credit in another system, rounded down to the nearest half credit of the target so
        that a conversion never grants more than the source carried."""
        if from_system == to_system:
            return value
        ects = self.to_ects(value, from_system)
        exact = ects / self.ects_per_credit[to_system]
        return math.floor(exact * 2 + 1e-9) / 2

    def eqf_level(self, framework: str, level: str) -> int:
        """The EQF level a framework level is referenced to."""
        return self.to_eqf[framework][level]

    def is_grade(self, scheme: str, value: str) -> bool:
        try:
            self.grade_percent(scheme, value)
        except ValueError:
            return False
        return True

    def grade_percent(self, scheme: str, value: str) -> float:
        """A grade on the common percentage scale, so grades of different schemes compare."""
        entry = self.raw["grading_schemes"][scheme]
        if "numeric" in entry:
            try:
                mark = float(value)
            except ValueError:
                raise ValueError(f"'{value}' is not a number") from None
            low, high = entry["numeric"]["min"], entry["numeric"]["max"]
            if not low <= mark <= high:
                raise ValueError(f"{mark} is outside {low}-{high}")
            return mark
        for grade in entry["grades"]:
            if grade["grade"] == value.strip().upper():
                return float(grade["percent"])
        names = ", ".join(g["grade"] for g in entry["grades"])
        raise ValueError(f"'{value}' is not a grade of {scheme} (one of {names})")


@cache
def table() -> ConversionTable:
    """The conversion table shipped with the package."""
    text = resources.files("registry_core").joinpath("conversion_table.json").read_text("utf-8")
    return ConversionTable(json.loads(text))
