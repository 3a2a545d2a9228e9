"""One record in the words of its form: each field a registrar can set, under the form's
label and in the written form the form itself shows, so what is read here is what would be
edited (not the protobuf message's field names and enum codes)."""

from __future__ import annotations

from registry.v1 import records_pb2 as rec
from registry_core import isced
from registry_core.records import Record
from tui.forms import AGREEMENT, LEARNING_UNIT, MICRO_CREDENTIAL, FormKind
from tui.words import choice_label

KINDS: dict[type, FormKind] = {
    rec.MicroCredential: MICRO_CREDENTIAL,
    rec.LearningUnit: LEARNING_UNIT,
    rec.RecognitionAgreement: AGREEMENT,
}


def record_lines(record: Record) -> list[tuple[str, str]]:
    """(label, value) for every field the record states, in the form's order; a switch as
    yes or no, an optional choice left blank as the form says it ("not stated"). The status
    is the record's own (the form offers only the statuses a registrar may set)."""
    kind = KINDS[type(record)]
    values = kind.values(record)
    found = []
    for field in kind.fields():
        if field.shown_when is not None:
            other, wanted = field.shown_when
            if values.get(other) != wanted:
                continue
        if field.name == "status":
            # Unspecified on a bilateral proposal's terms, which carry no lifecycle.
            status = rec.RecordStatus.Name(record.status).removeprefix("RECORD_STATUS_")
            text = "" if status == "UNSPECIFIED" else choice_label(status)
        elif field.kind == "switch":
            text = "yes" if values.get(field.name) else "no"
        else:
            text = str(values.get(field.name, "") or "")
            if field.kind == "choice" and text:
                text = choice_label(text, field.section)
            elif field.name == "subject_isced" and text:
                text = isced.labelled(text)
            elif not text and field.kind == "choice" and field.optional_choice:
                text = field.blank
        if text:
            found.append((field.label, text))
    return found


def record_differences(old: Record, new: Record) -> list[tuple[str, str, str]]:
    """(label, old value, new value) for every field whose words differ between two records
    of one kind, in the form's order; a field one of them leaves empty reads "not stated".
    The status is left out: it is the record's lifecycle, not its terms."""
    before, after = dict(record_lines(old)), dict(record_lines(new))
    labels = [label for label, _ in record_lines(new)]
    labels += [label for label in before if label not in after]
    return [
        (label, before.get(label, "not stated"), after.get(label, "not stated"))
        for label in labels
        if label != "Status" and before.get(label) != after.get(label)
    ]
