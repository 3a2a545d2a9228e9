"""The offline JSON-LD loader: every context the standards name is answered from the vendored
copy, and no other URL is ever fetched."""

from __future__ import annotations

import json

import pytest

from registry_core import jsonld
from tests.conftest import STANDARDS


def test_every_vendored_context_is_valid_json_ld_context() -> None:
    for url in jsonld.known_contexts():
        assert "@context" in jsonld.context_document(url), url


def test_standards_sample_canonicalises_offline() -> None:
    credential = json.loads((STANDARDS / "ob3-achievement-credential-simple.json").read_text())
    credential.pop("proof", None)
    nquads = jsonld.canonical_nquads(credential)
    assert "<https://purl.imsglobal.org/spec/vc/ob/vocab.html#Achievement>" in nquads


def test_unknown_context_is_refused_naming_it_not_fetched() -> None:
    document = {"@context": ["https://www.w3.org/ns/credentials/v2",
                             "https://attacker.example/context.json"], "type": "Thing"}
    with pytest.raises(jsonld.UnknownContext) as refused:
        jsonld.expand(document)
    assert refused.value.field == "@context"
    assert "https://attacker.example/context.json" in str(refused.value)
