"""Fitting whole pieces into a size bound: a batch an agent sends, a page the registry
answers. Both keep at least one piece, which the bound was chosen to exceed."""

from __future__ import annotations

from collections.abc import Iterable


def leading_within(sizes: Iterable[int], budget: int) -> int:
    """How many of sizes, from the first, fit within budget bytes together: at least one,
    if there are any."""
    used = taken = 0
    for size in sizes:
        used += size
        if used > budget and taken:
            break
        taken += 1
    return taken
