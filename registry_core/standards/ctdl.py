"""Credential Engine's CTDL: a recognition agreement as a `TransferValueProfile`, in the
shape Credential Engine's publishing model requires (CredentialEngine/Registry_Assistant,
RA.Models JsonV2 TransferValueProfile and ValueProfile): a CTID, name, description,
subject webpage and owner (required), and the transfer value as a `ceterms:ValueProfile`
with its credit unit from CE's CreditUnit concept scheme."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

from registry.v1 import records_pb2 as rec
from registry_core.conversion import table
from registry_core.records import source_credentials
from registry_core.standards.common import uri_part

CONTEXT = "https://credreg.net/ctdl/schema/context/json"
# CTIDs are "ce-" and a UUID, fixed for a resource for ever (CE's CTID rules): a UUID5 of
# the record's identity in this namespace gives the same CTID for the same record on every
# export, with no table to keep.
CTID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:credit-registry:ctdl")
CREDIT_UNIT_SCHEME = "https://credreg.net/ctdl/terms/CreditUnit"
# CE's CreditUnit concepts for our credit systems. Only SemesterHour and DegreeCredit are
# attested in CE's own publishing examples (Registry_Assistant); every other system is a
# DegreeCredit (credit toward a degree) whose description names the system.
CREDIT_UNITS = {"US_SEMESTER_HOUR": "creditUnit:SemesterHour"}
DEFAULT_CREDIT_UNIT = "creditUnit:DegreeCredit"
LANGUAGE = "en-GB"


def ctid(institution_id: str, key: str, kind: str = "") -> str:
    """The CTID of a record: for a credential (learning opportunity) from its provider and
    key, for an agreement with kind "agreement" so that it never meets a credential's."""
    name = f"{kind}:{institution_id}/{key}" if kind else f"{institution_id}/{key}"
    return f"ce-{uuid.uuid5(CTID_NAMESPACE, name)}"


def _text(value: str) -> dict[str, str]:
    return {LANGUAGE: value}


def _volume(group: rec.SourceGroup, sources: Mapping[tuple[str, str], rec.Credit]) -> float:
    """The least credit (ECTS) of source credentials that satisfies the group: all of them,
    the smallest one, or the n smallest. A source whose credit is not known sets no bound."""

    def of(item: rec.SourceItem) -> float:
        if item.WhichOneof("item") == "group":
            return _volume(item.group, sources)
        credit = sources.get((item.credential.institution_id, item.credential.key))
        return (
            table().to_ects(credit.value, credit.system) if credit and credit.system else math.inf
        )

    volumes = sorted(of(item) for item in group.items)
    if not volumes:
        return math.inf
    if group.operator == rec.GROUP_OPERATOR_ANY_OF:
        return volumes[0]
    if group.operator == rec.GROUP_OPERATOR_N_OF:
        return sum(volumes[: max(group.n, 1)])
    return sum(volumes)


def _offered(
    agreement: rec.RecognitionAgreement, units: Mapping[str, rec.LearningUnit]
) -> tuple[rec.Credit, list[str]]:
    """The credit the grant names, and the keys of the units it grants."""
    which = agreement.grant.WhichOneof("grant")
    if which == "general_credit":
        return agreement.grant.general_credit.credit, []
    keys = (
        [agreement.grant.unit_key] if which == "unit_key" else list(agreement.grant.units.unit_keys)
    )
    known = [units[k].credit for k in keys if k in units]
    if not known or len(known) < len(keys):
        return rec.Credit(), keys
    system = known[0].system
    return rec.Credit(
        value=sum(table().convert_credit(c.value, c.system, system) for c in known), system=system
    ), keys


def granted_credit(
    agreement: rec.RecognitionAgreement,
    units: Mapping[str, rec.LearningUnit],
    sources: Mapping[tuple[str, str], rec.Credit],
) -> tuple[rec.Credit, str]:
    """What the agreement actually grants, and why it differs from what its grant names: a
    grant gives no more credit than the source credentials it uses carry unless the
    agreement states why (volume_exception), as resolution grants it."""
    offered, _ = _offered(agreement, units)
    if not offered.system:
        return offered, ""
    volume = _volume(agreement.source, sources)
    t = table()
    if t.to_ects(offered.value, offered.system) <= volume + 1e-9:
        return offered, ""
    held = t.convert_credit(volume, "ECTS", offered.system)
    if agreement.volume_exception:
        return offered, (
            f"grants {offered.value:g} {offered.system} for source credentials "
            f"of {held:g} {offered.system}, as the agreement states: "
            f"{agreement.volume_exception}"
        )
    return rec.Credit(value=held, system=offered.system), (
        f"reduced from {offered.value:g} to {held:g} {offered.system}, the credit of the "
        "source credentials: a grant gives no more than its sources carry"
    )


def _value_profile(credit: rec.Credit, note: str) -> dict[str, Any]:
    name = table().raw["credit_systems"][credit.system]["name"]
    return {
        "@type": "ceterms:ValueProfile",
        "ceterms:creditUnitType": [
            {
                "@type": "ceterms:CredentialAlignmentObject",
                "ceterms:framework": CREDIT_UNIT_SCHEME,
                "ceterms:targetNode": CREDIT_UNITS.get(credit.system, DEFAULT_CREDIT_UNIT),
                "ceterms:targetNodeName": _text(name),
            }
        ],
        "schema:value": credit.value,
        "schema:description": _text(
            f"{credit.value:g} {credit.system} ({name})" + (f"; {note}" if note else "")
        ),
    }


def agreement_to_ctdl(
    agreement: rec.RecognitionAgreement,
    units: Mapping[str, rec.LearningUnit],
    *,
    base_url: str = "https://registry.example.org",
    sources: Mapping[tuple[str, str], rec.Credit] | None = None,
) -> dict[str, Any]:
    """A Credential Engine CTDL `TransferValueProfile` for a recognition agreement. `units`
    are the recogniser's learning units (for the credit of a granted unit); `sources` the
    credit of whichever source credentials are known, so that the transfer value is what the
    agreement actually grants."""
    base = base_url.rstrip("/")
    institution = agreement.institution_id

    def owner(institution_id: str) -> str:
        return f"{base}/institutions/{institution_id}"

    credit, note = granted_credit(agreement, units, sources or {})
    _, keys = _offered(agreement, units)
    sources_list = source_credentials(agreement.source)
    operator = {
        rec.GROUP_OPERATOR_ALL_OF: "all of",
        rec.GROUP_OPERATOR_ANY_OF: "any of",
        rec.GROUP_OPERATOR_N_OF: f"{agreement.source.n} of",
    }.get(agreement.source.operator, "")
    grant = (
        ", ".join(units[k].title if k in units else k for k in keys)
        if keys
        else f"{credit.value:g} {credit.system} of general credit"
    )
    description = (
        f"Holding {operator} "
        + ", ".join(f"{p} {k}" for p, k in sources_list)
        + f" earns {grant} at {institution}"
        + (f" ({credit.value:g} {credit.system})" if keys and credit.system else "")
        + (f"; {note}" if note else "")
        + "."
        + "".join(f" {n}" for n in agreement.notes)
    )
    profile: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "ceterms:TransferValueProfile",
        "ceterms:ctid": ctid(institution, agreement.key, "agreement"),
        "ceterms:name": _text(agreement.title or agreement.key),
        "ceterms:description": _text(description),
        "ceterms:subjectWebpage": f"{base}/agreements/{institution}/{uri_part(agreement.key)}",
        "ceterms:ownedBy": [owner(institution)],
        "ceterms:transferValueFrom": [
            {
                "@type": "ceterms:LearningOpportunityProfile",
                "ceterms:ctid": ctid(provider, key),
                "ceterms:name": _text(f"{provider} {key}"),
                "ceterms:ownedBy": [owner(provider)],
            }
            for provider, key in sources_list
        ],
        "ceterms:transferValueFor": [
            {
                "@type": "ceterms:LearningOpportunityProfile",
                "ceterms:ctid": ctid(institution, k),
                "ceterms:name": _text(units[k].title if k in units else k),
                "ceterms:ownedBy": [owner(institution)],
            }
            for k in keys
        ],
    }
    if credit.system:  # else the granted unit is not known here, nor its credit
        profile["ceterms:transferValue"] = [_value_profile(credit, note)]
    if agreement.conditions.valid_from:
        profile["ceterms:startDate"] = agreement.conditions.valid_from
    if agreement.conditions.valid_to:
        profile["ceterms:endDate"] = agreement.conditions.valid_to
    return profile
