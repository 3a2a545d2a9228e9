"""How messages to people say counts: "1 record", "2 records", "1 batch", "3 batches"."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str = "") -> str:
    """number and the noun, singular for one: counted(1, "change") is "1 change"; nouns that
    do not add an s give their plural ("entry", "entries")."""
    if number == 1:
        return f"1 {noun}"
    return f"{number} {plural or noun + ('es' if noun.endswith(('s', 'sh', 'ch', 'x')) else 's')}"
