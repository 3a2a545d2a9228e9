"""The record forms: an edit changes what the form shows and keeps everything else."""

from __future__ import annotations

from registry.v1 import records_pb2 as rec
from tests.factories import agreement
from tui.forms import _with_unshown_kept, agreement_fields, agreement_values, build_agreement


def test_an_agreement_edit_keeps_the_conditions_the_form_does_not_show() -> None:
    original = agreement(
        valid_from="2025-01-01", completed_from="2025-08-01", restriction_text="majors only"
    )
    original.conditions.for_programmes.append("GLOBAL STUDIES")
    original.notes.append("Lab included")
    values = {**agreement_values(original), "title": "Renamed", "conditions.valid_from": ""}
    merged = _with_unshown_kept(original, build_agreement("uk.ac.taff", values), agreement_fields())
    assert isinstance(merged, rec.RecognitionAgreement)
    assert merged.title == "Renamed" and merged.conditions.valid_from == ""
    assert merged.conditions.completed_from == "2025-08-01"
    assert list(merged.conditions.for_programmes) == ["GLOBAL STUDIES"]
    assert merged.conditions.restriction_text == "majors only"
    assert list(merged.notes) == ["Lab included"]
