"""An institution's name, as the operator enrols it, is printable text like a record's."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from registry_core.envelope import Ed25519Signer
from registry_core.errors import InvalidRecord
from registry_server import directory


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("\x00", "control character U+0000"),
        ("Forth\x1b[31m College", "control character U+001B"),
        ("\u200b\u200b", "no visible character"),
        ("Forth\nCollege", "control character U+000A"),
        ("\u00a0\ufeff", "no visible character"),
    ],
)
def test_enrolling_an_unprintable_name_is_refused_naming_the_field(
    engine: Engine, name: str, words: str
) -> None:
    with pytest.raises(InvalidRecord) as caught:
        directory.enrol(engine, "uk.ac.forth", name, "GB", Ed25519Signer.generate().public_key)
    assert caught.value.field == "name"
    assert words in caught.value.problem


def test_a_name_in_any_script_is_enrolled(engine: Engine) -> None:
    found = directory.enrol(
        engine, "jp.ac.kyoto", "京都大学", "JP", Ed25519Signer.generate().public_key
    )
    assert found.name == "京都大学"
