"""The European Commission's SHACL shapes for ELM, run by pyshacl on an ELM export.

The shapes (tests/fixtures/standards/validators, copied unchanged) write two URI patterns in
the regular-expression dialect of XPath/Java, which Python's `re` (and so pyshacl 0.40.1 on
rdflib 7.6) cannot compile: pyshacl stops with `re.error` ("global flags not at the start",
"bad escape \\p") before reporting anything. The patterns are translated here, in memory,
into Python's dialect with the same meaning for the addresses an export writes; the files
stay as published:

- `^(?i)(http|https):…` puts the case-insensitive flag after `^`, which Java allows and
  Python refuses: moved to the front (`(?i)^…`), which means the same.
- `[%[\\p{L}\\p{Nl}\\p{Nd}]]` (Java's union of classes: `%`, letters, letter numbers, digits)
  becomes `[%\\w]`: Python's Unicode `\\w` is those plus `_` (one character wider).
- `[[A-Fa-f0-9]\\:\\.]` (a union: hex digits, `:` and `.`, for an IPv6 host) becomes
  `[A-Fa-f0-9:.]`, which is what it means; Python would read the nested `[` as a literal.

Every other pattern is left as it is, and every pattern must then compile: a new dialect
problem in a newer copy of the shapes fails here, by name, rather than inside pyshacl.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pyshacl
import rdflib
from rdflib.namespace import SH

from registry_core import jsonld

VALIDATORS = Path(__file__).resolve().parents[1] / "fixtures" / "standards" / "validators"
JAVA_TO_PYTHON = (
    ("^(?i)", "(?i)^"),
    ("[%[\\p{L}\\p{Nl}\\p{Nd}]]", "[%\\w]"),
    ("[[A-Fa-f0-9]\\:\\.]", "[A-Fa-f0-9:.]"),
)


def python_pattern(pattern: str) -> str:
    for java, python in JAVA_TO_PYTHON:
        pattern = pattern.replace(java, python)
    return pattern


@cache
def shapes(*names: str, activate: bool = False) -> rdflib.Graph:
    """The named shape files as one graph, their patterns in Python's dialect; with
    `activate`, the shapes the files switch off (sh:deactivated) switched on."""
    graph = rdflib.Graph()
    for name in names:
        graph.parse(VALIDATORS / name, format="turtle")
    if activate:
        graph.remove((None, SH.deactivated, None))
    for subject, literal in list(graph.subject_objects(SH.pattern)):
        translated = python_pattern(str(literal))
        re.compile(translated)  # raises, naming the pattern, if the dialect still differs
        if translated != str(literal):
            graph.remove((subject, SH.pattern, literal))
            graph.add((subject, SH.pattern, rdflib.Literal(translated)))
    return graph


def violations(document: dict[str, Any], *names: str, activate: bool = False) -> str:
    """The shapes' report on the document ("" when it conforms): expanded offline with the
    vendored contexts, as RDF, without inference (the shapes check what is written)."""
    data = rdflib.Graph().parse(data=json.dumps(jsonld.expand(document)), format="json-ld")
    conforms, _, text = pyshacl.validate(
        data, shacl_graph=shapes(*names, activate=activate), inference="none", advanced=True
    )
    return "" if conforms else str(text)
