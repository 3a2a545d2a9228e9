"""Coded values as a registrar reads them: a choice list offers "active" and "online", not
ACTIVE and ONLINE; a credit system, a level framework and a grading scheme keep their code
(the catalogue files and the agreements' written grants use it: "15 UK_CREDIT at FHEQ 7")
with the name the conversion table gives it beside.

The stored and published values stay the codes; only what is shown changes.
"""

from __future__ import annotations

from registry_core.conversion import table

# The record and participation enums, without their prefix, as a registrar says them.
PLAIN = {
    "DRAFT": "draft",
    "ACTIVE": "active",
    "SUSPENDED": "suspended",
    "SUPERSEDED": "superseded (replaced)",
    "WITHDRAWN": "withdrawn",
    "ONLINE": "online",
    "ONSITE": "on site",
    "BLENDED": "blended",
    "MODULE": "module",
    "QUALIFICATION": "qualification",
}


def choice_label(code: str, section: str = "") -> str:
    """What a choice list shows for a coded value. section: the conversion table's section
    the code is from (credit_systems, level_frameworks, grading_schemes), whose name for it
    is shown beside it (SCQF is a credit system and a framework); the code itself when it
    has no words."""
    entry = table().raw.get(section, {}).get(code) if section else None
    if entry is not None:
        return f"{code} – {entry['name']}"
    return PLAIN.get(code, code)
