"""JSON-LD processing that never reaches the network.

Credentials name their vocabularies by URL in `@context`. Signing and verifying a Data
Integrity proof canonicalises the credential's RDF, which needs every one of those contexts;
fetching them would let any presented file make the registry call an address of its
choosing, and make a verification depend on a third party's server being up. So each known
context is answered from the copy in `registry_core/contexts/` (sources and licences in its
README) and any other URL is refused with an error that names it.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

from pyld import jsonld

from registry_core.errors import InvalidRecord


class UnknownContext(InvalidRecord):
    """A document names a JSON-LD context this registry holds no copy of."""

    def __init__(self, url: str) -> None:
        super().__init__(
            "JSON-LD document",
            "@context",
            f"names {url[:200]}, a context this registry holds no copy of (it "
            "fetches none); use the published contexts of VC 1.1/2.0, Open "
            "Badges 3.0, CLR 2.0 or ELM v3 (registry_core/contexts/README.md)",
        )
        self.url = url


@cache
def _context_map() -> dict[str, str]:
    folder = resources.files("registry_core") / "contexts"
    mapping: dict[str, str] = json.loads((folder / "context-map.json").read_text("utf-8"))
    return mapping


@cache
def context_document(url: str) -> dict[str, Any]:
    """The context document for `url`, from the vendored copy."""
    name = _context_map().get(url)
    if name is None:
        raise UnknownContext(url)
    folder = resources.files("registry_core") / "contexts"
    document: dict[str, Any] = json.loads((folder / name).read_text("utf-8"))
    return document


def _load(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"contextUrl": None, "documentUrl": url, "document": context_document(url)}


def _options() -> dict[str, Any]:
    return {"documentLoader": _load}


def known_contexts() -> frozenset[str]:
    return frozenset(_context_map())


def expand(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document in expanded form (full IRIs): how to read terms whatever prefixes a
    producer chose. UnknownContext when it names a context not held here."""
    try:
        expanded: list[dict[str, Any]] = jsonld.expand(document, _options())
    except jsonld.JsonLdError as error:
        raise _unwrap(error) from error
    return expanded


def compact(document: dict[str, Any] | list[Any], context: list[str]) -> dict[str, Any]:
    """The document in the terms of `context` (a list of known context URLs): how to read a
    document whose producer chose other contexts, prefixes or the expanded form, by the
    names a reader expects. UnknownContext when either names a context not held here."""
    try:
        compacted: dict[str, Any] = jsonld.compact(document, {"@context": context}, _options())
    except jsonld.JsonLdError as error:
        raise _unwrap(error) from error
    return compacted


def canonical_nquads(document: dict[str, Any]) -> str:
    """The document's RDF, canonicalised by RDFC-1.0 (URDNA2015) as N-Quads: what the
    Data Integrity cryptosuite eddsa-rdfc-2022 hashes.

    In safe mode, as Data Integrity requires: a property that no context defines would be
    dropped from the RDF, so a signature would not cover it and anyone could add or change
    it; such a document is refused, naming the properties."""
    dropped: list[str] = []
    processor = jsonld.JsonLdProcessor(on_property_dropped=lambda name: dropped.append(str(name)))
    try:
        nquads: str = processor.normalize(
            document, {"algorithm": "URDNA2015", "format": "application/n-quads", **_options()}
        )
    except jsonld.JsonLdError as error:
        raise _unwrap(error) from error
    if dropped:
        names = ", ".join(sorted(set(dropped)))[:300]
        raise InvalidRecord(
            "JSON-LD document",
            names.split(",")[0],
            f"no context defines {names}: a signature would not cover "
            "it; remove it, or name the context that defines it",
        )
    return nquads


def canonical_hash(document: dict[str, Any]) -> bytes:
    return hashlib.sha256(canonical_nquads(document).encode("utf-8")).digest()


def _unwrap(error: Exception) -> Exception:
    """PyLD wraps a loader's error in layers of JsonLdError; find ours, else describe it."""
    seen: Exception | None = error
    while seen is not None:
        if isinstance(seen, UnknownContext):
            return seen
        cause = getattr(seen, "cause", None) or seen.__cause__
        seen = cause if isinstance(cause, Exception) else None
    return InvalidRecord(
        "JSON-LD document",
        "@context",
        f"cannot be processed as JSON-LD ({str(error)[:200]}); check the "
        "context list and the terms it defines",
    )
