"""Credential Engine's CTDL: a recognition agreement as a TransferValueProfile."""

from __future__ import annotations

from registry_core.standards import ctdl
from tests.factories import agreement, module


def test_agreement_exports_as_a_ctdl_transfer_value_profile() -> None:
    profile = ctdl.agreement_to_ctdl(
        agreement(valid_from="2025-09-01", valid_to="2028-08-31",
                  sources=[("uk.ac.forth", "MC1"), ("uk.ac.lagan", "LC1")]),
        {"CS7DE": module()})
    assert profile["@type"] == "ceterms:TransferValueProfile"
    assert profile["ceterms:transferValue"] == [{"@type": "schema:QuantitativeValue",
                                                 "schema:value": 15.0,
                                                 "schema:unitText": "UK_CREDIT"}]
    assert [s["ceterms:ctid"] for s in profile["ceterms:transferValueFrom"]] == [
        "uk.ac.forth/MC1", "uk.ac.lagan/LC1"]
    assert profile["ceterms:transferValueFor"][0]["ceterms:ctid"] == "uk.ac.taff/CS7DE"
    assert (profile["ceterms:startDate"], profile["ceterms:endDate"]) == ("2025-09-01",
                                                                          "2028-08-31")
