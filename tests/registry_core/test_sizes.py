"""registry_core.sizes.leading_within: what fits of a run of sizes, at least one piece."""

from __future__ import annotations

from registry_core.sizes import leading_within


def test_pieces_are_taken_while_their_total_stays_within_the_budget() -> None:
    assert leading_within([4, 4, 4], 8) == 2
    assert leading_within([4, 4, 4], 12) == 3


def test_a_first_piece_over_the_budget_is_taken_alone_and_none_of_nothing() -> None:
    assert leading_within([20, 1], 8) == 1
    assert leading_within([], 8) == 0
