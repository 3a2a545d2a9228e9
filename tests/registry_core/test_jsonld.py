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
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://attacker.example/context.json",
        ],
        "type": "Thing",
    }
    with pytest.raises(jsonld.UnknownContext) as refused:
        jsonld.expand(document)
    assert refused.value.field == "@context"
    assert "https://attacker.example/context.json" in str(refused.value)


def test_no_sample_makes_the_processor_reach_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every JSON-LD sample the tests hold is expanded with every connection refused: a
    context not vendored would fail here, not fetch."""
    import socket

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the JSON-LD processor tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    expanded = 0
    for path in sorted(STANDARDS.rglob("*.json*")):
        if "validators" in path.parts:
            continue
        document = json.loads(path.read_text())
        if isinstance(document, dict) and isinstance(document.get("payload"), str):
            try:
                document = json.loads(document["payload"])  # a JAdES-sealed credential
            except ValueError:
                continue  # a base64url or compact payload: the ELM tests read those
        if not isinstance(document, dict) or "@context" not in document:
            continue
        try:
            jsonld.expand(document)
        except jsonld.UnknownContext:
            continue  # refused by name: what the test wants, short of expanding
        expanded += 1
    assert expanded >= 30
