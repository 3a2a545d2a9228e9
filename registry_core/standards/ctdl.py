"""Credential Engine's CTDL: a recognition agreement as a `TransferValueProfile`."""

from __future__ import annotations

from typing import Any

from registry.v1 import records_pb2 as rec
from registry_core.records import source_credentials


def agreement_to_ctdl(agreement: rec.RecognitionAgreement,
                      units: dict[str, rec.LearningUnit]) -> dict[str, Any]:
    """A Credential Engine CTDL `TransferValueProfile` for a recognition agreement."""
    if agreement.grant.WhichOneof("grant") == "unit_key":
        unit = units.get(agreement.grant.unit_key)
        credit = unit.credit if unit else rec.Credit()
        target = [{"@type": "ceterms:LearningOpportunityProfile",
                   "ceterms:ctid": f"{agreement.institution_id}/{agreement.grant.unit_key}",
                   "ceterms:name": {"en-GB": unit.title if unit else agreement.grant.unit_key}}]
    else:
        credit = agreement.grant.general_credit.credit
        target = []
    profile: dict[str, Any] = {
        "@context": "https://credreg.net/ctdl/schema/context/json",
        "@type": "ceterms:TransferValueProfile",
        "ceterms:ctid": f"{agreement.institution_id}/{agreement.key}",
        "ceterms:name": {"en-GB": agreement.title or agreement.key},
        "ceterms:ownedBy": [agreement.institution_id],
        "ceterms:transferValue": [{"@type": "schema:QuantitativeValue",
                                   "schema:value": credit.value,
                                   "schema:unitText": credit.system}],
        "ceterms:transferValueFrom": [
            {"@type": "ceterms:LearningOpportunityProfile", "ceterms:ctid": f"{provider}/{key}",
             "ceterms:ownedBy": [provider]}
            for provider, key in source_credentials(agreement.source)],
        "ceterms:transferValueFor": target,
    }
    if agreement.conditions.valid_from:
        profile["ceterms:startDate"] = agreement.conditions.valid_from
    if agreement.conditions.valid_to:
        profile["ceterms:endDate"] = agreement.conditions.valid_to
    return profile
