"""The detail view shows a record in the words of its form: labels and written forms a
registrar would type, never protobuf's field names or enum codes."""

from __future__ import annotations

from registry.v1 import records_pb2 as rec
from tests.factories import agreement, micro_credential, module
from tui.record_view import record_lines
from tui.tables import kind_name


def test_a_qualification_reads_as_its_form_writes_it() -> None:
    msc = module("uk.ac.taff", "MSC", credit=180)
    msc.kind = rec.LEARNING_UNIT_KIND_QUALIFICATION
    msc.stacking_rule.total.CopyFrom(rec.Credit(value=180, system="UK_CREDIT"))
    msc.stacking_rule.regulations.max_from_elsewhere.share = 2 / 3
    msc.stacking_rule.regulations.relevant_subjects_isced.extend(["06", "0541"])
    shown = dict(record_lines(msc))
    assert shown["Title"] == "Module MSC" and shown["Status"] == "active"
    assert "2/3" in shown["Max from elsewhere"] and "06 | 0541" in shown.values()
    text = "\n".join(f"{label}: {value}" for label, value in record_lines(msc))
    assert "RECORD_STATUS" not in text and "LEARNING_UNIT_KIND" not in text
    assert "share:" not in text and "{" not in text


def test_not_stated_and_withdrawn_are_said_as_such() -> None:
    mc = micro_credential(status=rec.RECORD_STATUS_WITHDRAWN)
    shown = dict(record_lines(mc))
    assert shown["Status"] == "withdrawn"  # the form offers only what a registrar may set
    assert shown["Stackable"] == "Not stated"


def test_an_agreement_shows_its_sources_and_grant_in_written_form() -> None:
    shown = dict(record_lines(agreement(sources=[("uk.ac.forth", "MC1"), ("uk.ac.lagan", "L1")])))
    assert "uk.ac.forth/MC1" in " ".join(shown.values())
    assert "CS7DE" in " ".join(shown.values())


def test_a_records_kind_is_named_as_a_registrar_names_it() -> None:
    qualification = module(key="MSC")
    qualification.kind = rec.LEARNING_UNIT_KIND_QUALIFICATION
    plain = module()
    plain.kind = rec.LEARNING_UNIT_KIND_MODULE
    unstated = module()
    unstated.kind = rec.LEARNING_UNIT_KIND_UNSPECIFIED
    assert [
        kind_name(r) for r in (micro_credential(), plain, unstated, qualification, agreement())
    ] == ["Micro-credential", "Module", "Module", "Qualification", "Agreement"]
