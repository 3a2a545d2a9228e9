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


def test_coded_values_are_shown_with_their_words() -> None:
    mc = micro_credential()
    mc.participation_form = rec.PARTICIPATION_FORM_ONSITE
    mc.subject_isced = "0613"
    mc.grading_scheme = "PASS_FAIL"
    shown = dict(record_lines(mc))
    assert shown["Participation"] == "on site"
    assert shown["Subject (ISCED-F)"] == "0613 – Software and applications development and analysis"
    assert shown["Grading scheme"] == "PASS_FAIL – Pass or fail"
    # The code stays first: the catalogue files and written grants use it.
    assert shown["Credit system"].startswith(f"{mc.credit.system} – ")
    assert shown["Level framework"].startswith(f"{mc.level.framework} – ")


def test_scqf_is_named_as_a_credit_system_or_as_a_framework_by_its_field() -> None:
    mc = micro_credential()
    mc.credit.system, mc.level.framework, mc.level.level = "SCQF", "SCQF", "11"
    shown = dict(record_lines(mc))
    assert shown["Credit system"].endswith("Framework credit")
    assert shown["Level framework"].endswith("Qualifications Framework")


def test_a_subject_code_the_classification_lacks_is_shown_as_written() -> None:
    mc = micro_credential()
    mc.subject_isced = "1234"
    assert dict(record_lines(mc))["Subject (ISCED-F)"] == "1234"


def test_terms_without_a_lifecycle_show_no_status() -> None:
    terms = agreement()
    terms.status = rec.RECORD_STATUS_UNSPECIFIED
    assert "Status" not in dict(record_lines(terms))
