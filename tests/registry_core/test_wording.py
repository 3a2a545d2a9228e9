"""Counts in messages read as English: one of a thing, several things."""

from __future__ import annotations

import pytest

from registry_core.wording import counted


@pytest.mark.parametrize(
    ("number", "noun", "plural", "said"),
    [
        (1, "change", "", "1 change"),
        (0, "change", "", "0 changes"),
        (3, "batch", "", "3 batches"),
        (1, "batch", "", "1 batch"),
        (2, "log entry", "log entries", "2 log entries"),
        (1, "log entry", "log entries", "1 log entry"),
    ],
)
def test_a_count_takes_the_singular_for_one_and_the_plural_otherwise(
    number: int, noun: str, plural: str, said: str
) -> None:
    assert counted(number, noun, plural) == said
