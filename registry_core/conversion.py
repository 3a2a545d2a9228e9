"""The conversion table: credit systems, level frameworks and grading schemes.

All numbers live in conversion_table.json with their sources; this module only reads them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class LevelComparison:
    """Whether a level meets a minimum: True, False, or None when it cannot be decided, with
    how it was compared (in words, for the answer)."""

    meets: bool | None
    how: str


class ConversionTable:
    """Read-only view of conversion_table.json, indexed once for the hot paths (validation
    runs these look-ups for every record of every batch)."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        # A rate may be written as a fraction ("4/3"), where a decimal would round.
        self.ects_per_credit: dict[str, float] = {
            name: float(Fraction(str(entry["ects_per_credit"])))
            for name, entry in raw["credit_systems"].items()
        }
        frameworks = raw["level_frameworks"]
        # Only the levels a framework references to EQF (not US_DIVISION, SCQF 1-2, Entry 1-2).
        self.to_eqf: dict[str, dict[str, int]] = {
            name: {level: int(eqf) for level, eqf in entry["to_eqf"].items()}
            for name, entry in frameworks.items()
        }
        # Every level of a framework, valid in records, in its framework's order.
        self.levels: dict[str, tuple[str, ...]] = {
            name: (*entry["levels"], *entry.get("spans", {})) for name, entry in frameworks.items()
        }
        # A level's place in its own framework, as (lowest, highest) ranks: a point, except
        # for a level that spans several (RQF's legacy "E").
        self.rank: dict[str, dict[str, tuple[int, int]]] = {}
        for name, entry in frameworks.items():
            order = {level: (i, i) for i, level in enumerate(entry["levels"])}
            for level, (low, high) in entry.get("spans", {}).items():
                order[level] = (order[low][0], order[high][1])
            self.rank[name] = order
        self.correspondences: dict[str, dict[str, dict[str, tuple[int, int]]]] = {
            name: {
                framework: {level: (int(low), int(high)) for level, (low, high) in levels.items()}
                for framework, levels in entry["levels"].items()
            }
            for name, entry in raw.get("level_correspondences", {}).items()
        }
        self.credit_systems: tuple[str, ...] = tuple(sorted(self.ects_per_credit))
        self.level_frameworks: tuple[str, ...] = tuple(sorted(frameworks))
        self.grading_schemes: tuple[str, ...] = tuple(sorted(raw["grading_schemes"]))

    def levels_of(self, framework: str) -> list[str]:
        return list(self.levels[framework])

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

    def eqf_level(self, framework: str, level: str) -> int | None:
        """The EQF level a framework level is referenced to; None when it is not referenced."""
        return self.to_eqf[framework].get(level)

    def compare_levels(
        self, have_framework: str, have: str, want_framework: str, want: str
    ) -> LevelComparison:
        """Whether have is at or above the minimum want (docs/rules.md, "Levels"): within a
        framework by its own order; between UK frameworks through their published
        correspondence; otherwise through EQF, where a level that shares its EQF level with a
        lower one of its own framework (FHEQ 5 beside FHEQ 4) cannot be shown reached by
        another framework's level at that EQF level. Never guesses: None when undecided."""
        named_have, named_want = f"{have_framework} {have}", f"{want_framework} {want}"
        if have_framework == want_framework:
            return LevelComparison(
                _reaches(self.rank[have_framework][have], self.rank[want_framework][want]),
                f"{named_have} against {named_want} in the same framework",
            )
        for name, scale in self.correspondences.items():
            if have in scale.get(have_framework, {}) and want in scale.get(want_framework, {}):
                return LevelComparison(
                    _reaches(scale[have_framework][have], scale[want_framework][want]),
                    f"{named_have} against {named_want} through the {name} frameworks' "
                    "published correspondence",
                )
        have_eqf = self.to_eqf[have_framework].get(have)
        want_eqf = self.to_eqf[want_framework].get(want)
        if have_eqf is None or want_eqf is None:
            unreferenced = named_have if have_eqf is None else named_want
            return LevelComparison(
                None,
                f"{unreferenced} is not referenced to EQF, so "
                f"{named_have} cannot be compared with {named_want}",
            )
        how = f"{named_have} (EQF {have_eqf}) against {named_want} (EQF {want_eqf}) through EQF"
        if have_eqf != want_eqf:
            return LevelComparison(have_eqf > want_eqf, how)
        lower = [
            level
            for level, eqf in self.to_eqf[want_framework].items()
            if eqf == want_eqf
            and self.rank[want_framework][level][1] < self.rank[want_framework][want][0]
        ]
        if not lower:
            return LevelComparison(True, how)
        return LevelComparison(
            None,
            f"{how}: EQF {want_eqf} also holds {want_framework} "
            f"{', '.join(lower)}, so the EQF level alone does not show "
            f"that {named_have} reaches {named_want}",
        )

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


def _reaches(have: tuple[int, int], want: tuple[int, int]) -> bool | None:
    """Whether a level placed at have (lowest, highest) on a scale is at or above the bottom
    of want: True when all of it is, False when none of it is, None when it spans it."""
    (low, high), (floor, _) = have, want
    return True if low >= floor else False if high < floor else None


@cache
def table() -> ConversionTable:
    """The conversion table shipped with the package."""
    text = resources.files("registry_core").joinpath("conversion_table.json").read_text("utf-8")
    return ConversionTable(json.loads(text))
