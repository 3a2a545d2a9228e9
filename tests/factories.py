"""Valid records and signed batches for tests; each test changes only what it is about."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core.envelope import Signer, next_head, seal

ACTIVE = rec.RECORD_STATUS_ACTIVE


def micro_credential(
    institution_id: str = "uk.ac.forth", key: str = "MC1", *, version: int = 1, **changes: object
) -> rec.MicroCredential:
    mc = rec.MicroCredential(
        institution_id=institution_id,
        key=key,
        version=version,
        status=ACTIVE,
        title="Data Ethics in Practice",
        awarding_body="University of the Forth",
        country="GB",
        learning_outcomes=["Analyse the ethical risks of a data-driven system"],
        workload_hours=150,
        credit=rec.Credit(value=15, system="SCQF"),
        level=rec.Level(framework="SCQF", level="11"),
        assessment_type="Case-study report",
        participation_form=rec.PARTICIPATION_FORM_ONLINE,
        quality_assurance="QAA Scotland ELIR",
        grading_scheme="UK_LETTER",
    )
    for name, value in changes.items():
        if isinstance(value, (rec.Credit, rec.Level)):
            getattr(mc, name).CopyFrom(value)
        elif isinstance(value, list):
            del getattr(mc, name)[:]
            getattr(mc, name).extend(value)
        else:
            setattr(mc, name, value)
    return mc


def module(
    institution_id: str = "uk.ac.taff",
    key: str = "CS7DE",
    *,
    version: int = 1,
    credit: float = 15,
    system: str = "UK_CREDIT",
    framework: str = "FHEQ",
    level: str = "7",
    cross_listed_keys: Sequence[str] = (),
    status: rec.RecordStatus = ACTIVE,
) -> rec.LearningUnit:
    return rec.LearningUnit(
        institution_id=institution_id,
        key=key,
        version=version,
        status=status,
        title=f"Module {key}",
        kind=rec.LEARNING_UNIT_KIND_MODULE,
        credit=rec.Credit(value=credit, system=system),
        level=rec.Level(framework=framework, level=level),
        cross_listed_keys=cross_listed_keys,
    )


def ref(institution_id: str, key: str) -> rec.SourceItem:
    return rec.SourceItem(credential=rec.CredentialRef(institution_id=institution_id, key=key))


def group(operator: rec.GroupOperator, *items: rec.SourceItem, n: int = 0) -> rec.SourceGroup:
    return rec.SourceGroup(operator=operator, n=n, items=items)


def agreement(
    institution_id: str = "uk.ac.taff",
    key: str = "AG1",
    *,
    sources: Sequence[tuple[str, str]] = (("uk.ac.forth", "MC1"),),
    source: rec.SourceGroup | None = None,
    unit_key: str = "CS7DE",
    general: rec.GeneralCredit | None = None,
    units: Sequence[str] = (),
    version: int = 1,
    status: rec.RecordStatus = ACTIVE,
    **conditions: object,
) -> rec.RecognitionAgreement:
    ag = rec.RecognitionAgreement(
        institution_id=institution_id,
        key=key,
        version=version,
        status=status,
        title=f"Agreement {key}",
        source=source or group(rec.GROUP_OPERATOR_ALL_OF, *(ref(i, k) for i, k in sources)),
    )
    if general is not None:
        ag.grant.general_credit.CopyFrom(general)
    elif units:
        ag.grant.units.unit_keys.extend(units)
    else:
        ag.grant.unit_key = unit_key
    for name, value in conditions.items():
        if isinstance(value, (rec.Grade, rec.Level)):
            getattr(ag.conditions, name).CopyFrom(value)
        elif isinstance(value, list):
            getattr(ag.conditions, name).extend(value)
        else:
            setattr(ag.conditions, name, value)
    return ag


def change(seq: int, record: object) -> pub.RecordChange:
    field = {
        rec.MicroCredential: "micro_credential",
        rec.LearningUnit: "learning_unit",
        rec.RecognitionAgreement: "agreement",
        pub.Tombstone: "tombstone",
    }[type(record)]
    made = pub.RecordChange(seq=seq)
    getattr(made, field).CopyFrom(record)
    return made


def batch(
    institution_id: str, records: Sequence[object], *, first_seq: int = 1, prev_head: str = ""
) -> pub.Batch:
    return pub.Batch(
        institution_id=institution_id,
        first_seq=first_seq,
        last_seq=first_seq + len(records) - 1,
        prev_head=prev_head,
        changes=[change(first_seq + i, r) for i, r in enumerate(records)],
        created_at="2026-01-01T00:00:00+00:00",
    )


def signed(b: pub.Batch, signer: Signer) -> pub.SignedEnvelope:
    return seal(b.SerializeToString(deterministic=True), signer)


def head_after(b: pub.Batch) -> str:
    return next_head(b.prev_head, b.SerializeToString(deterministic=True))


def holding(
    institution_id: str = "uk.ac.forth",
    key: str = "MC1",
    *,
    award_date: str = "2025-06-01",
    grade: tuple[str, str] | None = ("UK_LETTER", "A"),
    identity_verified: bool = True,
) -> eq.Holding:
    h = eq.Holding(
        credential=rec.CredentialRef(institution_id=institution_id, key=key),
        award_date=award_date,
        identity_verified=identity_verified,
    )
    if grade:
        h.grade.scheme, h.grade.value = grade
    return h


AS_OF = dt.date(2026, 1, 15)
