"""Rules the test suite keeps about itself: nothing in it judges a timing, so a run on a
shared, noisy machine fails only when the code is wrong."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, settings

TESTS = Path(__file__).resolve().parent


def test_hypothesis_runs_without_deadline_or_too_slow_check() -> None:
    # Loaded in tests/conftest.py. Hypothesis's defaults fail an example that takes over
    # 200 ms, and a test whose data generation is slow: both happen when the machine stalls.
    loaded = settings.default
    assert loaded is not None
    assert loaded.deadline is None
    assert HealthCheck.too_slow in loaded.suppress_health_check


def test_no_test_sets_a_deadline_of_its_own() -> None:
    timed = [
        f"{path.relative_to(TESTS)}:{n}"
        for path in sorted(TESTS.rglob("*.py"))
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if re.search(r"settings\(.*deadline\s*=\s*(?!None)", line)
    ]
    assert timed == [], f"a Hypothesis deadline is a timing assertion: {timed}"
