"""Volume sanity at publish: whether a micro-credential's notional hours fit its credit, and
whether it is small enough to be called a micro-credential. Both are network settings
(registry_server.config; docs/rules.md "Volume of learning at publish"), so they live here,
beside acceptance, not in the records' own rules (registry_core.records), which hold
everywhere.

Figures in, message out: acceptance names the record and refuses or warns."""

from __future__ import annotations

from dataclasses import dataclass

from registry_core.conversion import table

REFUSE, WARN = "refuse", "warn"
MODES = (REFUSE, WARN)


@dataclass(frozen=True)
class VolumeRule:
    """The network's volume settings.

    workload_tolerance: how far a micro-credential's workload_hours may be from the notional
    hours of its credit (conversion_table.json's notional_hours_per_credit: 10 a UK or SCQF
    credit, 27.5 an ECTS credit), as a share of them; 0 does not check. The default, 0.5
    (hours from 50% to 150% of the notional figure), admits every reading the frameworks
    allow: ECTS's own 25-30 hours a credit (91%-109%), and the UK's 20 hours an ECTS credit
    (2 UK credits to 1 ECTS: 73%), with room for an institution's estimate; it refuses hours
    counted in the wrong system (10 hours an ECTS credit: 36%; 25-30 hours a UK credit:
    250%-300%) and slips of a digit (1,500 hours for 15 credits: 1,000%).

    credit_limit_ects: the credit, in ECTS, at and above which a credential is too large to
    be published as a micro-credential; 0 for no limit. QAA's Micro-credentials
    Characteristics Statement (2022) sets no fixed upper limit but describes
    micro-credentials as smaller than a full award; the smallest full higher-education award,
    the Postgraduate Certificate, is 60 UK credits (30 ECTS), the default.

    mode: "refuse" refuses the batch (InvalidRecord, nothing applied); "warn" applies it and
    tells the publisher (a warning in the publication's trailing metadata and the log)."""

    workload_tolerance: float = 0.5
    credit_limit_ects: float = 30.0
    mode: str = REFUSE


def volume_problem(
    hours: float, credit: float, system: str, rule: VolumeRule
) -> tuple[str, str] | None:
    """(field, problem) of the first figure of a micro-credential outside rule: its credit
    (credit.value) or its hours against that credit (workload_hours); None when both fit.
    system is a credit system of the conversion table (the record rules have checked it)."""
    t = table()
    ects = t.to_ects(credit, system)
    if rule.credit_limit_ects and ects >= rule.credit_limit_ects:
        limit = rule.credit_limit_ects / t.ects_per_credit[system]
        return (
            "credit.value",
            f"is {credit:g} {system} ({ects:g} ECTS); this network publishes as "
            f"micro-credentials only credentials of less than {limit:g} {system} "
            f"({rule.credit_limit_ects:g} ECTS, setting credit_limit_ects: QAA's "
            "characteristics: smaller than a full award); publish a credential of this "
            "size as a learning unit, or state the credit it carries",
        )
    if not rule.workload_tolerance:
        return None
    per_credit = float(t.raw["credit_systems"][system]["notional_hours_per_credit"])
    notional = credit * per_credit
    low = notional * (1 - rule.workload_tolerance)
    high = notional * (1 + rule.workload_tolerance)
    if low <= hours <= high:
        return None
    return (
        "workload_hours",
        f"is {hours:g} for {credit:g} {system} credits, which are {notional:g} notional "
        f"hours ({per_credit:g} a credit); this network accepts {max(low, 0):g} to "
        f"{high:g} (setting workload_tolerance {rule.workload_tolerance:g}); give the "
        "notional hours of the whole credential, or correct its credit",
    )
