"""Issuing learners' credentials and publishing their revocation (ADR 12).

The institution issues a learner's achievement of one of its published records (a
micro-credential, module or qualification) as an Open Badges 3.0 credential signed with
the agent's key, the key the registry's directory holds for the institution. Each credential
gets an entry in the institution's status list; revoking one sets its entry, and the agent
publishes the signed list through the registry, where partners' questions check it.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.v1 import records_pb2 as rec
from registry_core import credentials as vc
from registry_core.conversion import table
from registry_core.errors import InvalidRecord
from registry_core.records import parse_date
from registry_core.standards import ob3
from sync_agent.config import AgentConfig
from sync_agent.store import AgentStore

BATCH_COLUMNS = ("record_key", "student_id", "award_date")
OPTIONAL_COLUMNS = ("name", "email", "grade_scheme", "grade", "identity_verified", "valid_until")


def achievement(record: rec.MicroCredential | rec.LearningUnit, base_url: str) -> dict[str, Any]:
    if isinstance(record, rec.MicroCredential):
        return ob3.micro_credential_to_ob3(record, base_url)
    return ob3.learning_unit_to_ob3(record, base_url)


def _record(store: AgentStore, key: str) -> rec.MicroCredential | rec.LearningUnit:
    for kind in (rec.RECORD_KIND_MICRO_CREDENTIAL, rec.RECORD_KIND_LEARNING_UNIT):
        found = store.get(kind, key)
        if isinstance(found, rec.MicroCredential | rec.LearningUnit):
            if found.status != rec.RECORD_STATUS_ACTIVE:
                state = rec.RecordStatus.Name(found.status).removeprefix("RECORD_STATUS_")
                raise InvalidRecord(
                    f"record {key}",
                    "status",
                    f"is {state.lower()}; issue credentials only of active records",
                )
            return found
    if store.get(rec.RECORD_KIND_AGREEMENT, key) is not None:
        raise InvalidRecord(
            f"record {key}",
            "key",
            "is an agreement; credentials are of micro-credentials, modules and qualifications",
        )
    raise InvalidRecord(
        f"record {key}",
        "key",
        "is no micro-credential, module or "
        "qualification in this agent's store; import it first, or check the "
        "key (`sync-agent list`)",
    )


def check_issuable(
    store: AgentStore,
    key: str,
    award: vc.Award,
    valid_until: dt.date | None = None,
    now: dt.datetime | None = None,
) -> rec.MicroCredential | rec.LearningUnit:
    """The record a credential would be of; InvalidRecord when none can be issued."""
    record = _record(store, key)
    now = now or dt.datetime.now(dt.UTC)
    if award.award_date > now.date():
        raise InvalidRecord(
            f"credential of {key}",
            "award_date",
            f"{award.award_date} is in the future; give the date it was awarded",
        )
    if award.grade.scheme and record.grading_scheme and award.grade.scheme != record.grading_scheme:
        raise InvalidRecord(
            f"credential of {key}",
            "grade",
            f"is in {award.grade.scheme}; the record is graded {record.grading_scheme}",
        )
    if award.grade.scheme and not table().is_grade(award.grade.scheme, award.grade.value):
        raise InvalidRecord(
            f"credential of {key}",
            "grade",
            f"'{award.grade.value}' is not a grade of {award.grade.scheme}; "
            f"the schemes are {', '.join(table().grading_schemes)}",
        )
    if valid_until is not None and valid_until < max(award.award_date, now.date()):
        raise InvalidRecord(
            f"credential of {key}",
            "valid_until",
            f"{valid_until} is before "
            + ("the award date" if valid_until < award.award_date else "today")
            + "; give a later date, or none (a credential need not expire)",
        )
    return record


def issue(
    config: AgentConfig,
    store: AgentStore,
    key: str,
    learner: vc.Learner,
    award: vc.Award,
    *,
    valid_until: dt.date | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """A signed credential of record key for the learner, recorded in the store."""
    now = now or dt.datetime.now(dt.UTC)
    record = check_issuable(store, key, award, valid_until, now)
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    list_name, entry = status_entry(store.add_issued(credential_id, key))
    unsigned = vc.open_badge_credential(
        achievement(record, config.base_url),
        credential_id=credential_id,
        issuer=vc.issuer_id(config.base_url, config.institution_id),
        issuer_name=config.name,
        learner=learner,
        award=award,
        issued=now,
        status_list=vc.status_list_id(config.base_url, config.institution_id, list_name),
        status_index=entry,
        valid_until=valid_until,
    )
    return vc.sign(unsigned, config.signer(), created=now)


@dataclass(frozen=True)
class BatchRow:
    line: int
    key: str
    learner: vc.Learner
    award: vc.Award
    valid_until: dt.date | None


def read_batch(path: Path) -> Iterator[BatchRow]:
    """Rows of a student-records export (CSV with a header: record_key, student_id,
    award_date, and optionally name, email, grade_scheme, grade, identity_verified
    (yes/no), valid_until). InvalidRecord names the line and column of a bad value."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            raise InvalidRecord(
                path.name,
                "(file)",
                "is empty; give a header line "
                f"({', '.join(BATCH_COLUMNS)}, …) and a row per credential",
            )
        missing = [c for c in BATCH_COLUMNS if c not in reader.fieldnames]
        unknown = [c for c in reader.fieldnames if c not in BATCH_COLUMNS + OPTIONAL_COLUMNS]
        if missing or unknown:
            raise InvalidRecord(
                path.name,
                (missing or unknown)[0],
                ("is a required column" if missing else "is not a column this file may have")
                + "; the columns are "
                f"{', '.join(BATCH_COLUMNS + OPTIONAL_COLUMNS)}",
            )
        for line, row in enumerate(reader, start=2):
            yield _batch_row(f"{path.name} line {line}", line, row)


def _batch_row(where: str, line: int, row: dict[str | None, Any]) -> BatchRow:
    if None in row:  # DictReader's key for fields past the header's
        raise InvalidRecord(
            where,
            "(row)",
            f"has {len(row) - 1 + len(row[None])} fields, the "
            f"header {len(row) - 1}; check for an unquoted comma",
        )
    cell = {name: (value or "").strip() for name, value in row.items() if name is not None}
    for column in BATCH_COLUMNS:
        if not cell.get(column):
            raise InvalidRecord(
                where,
                column,
                "is empty"
                if column in row and row[column] is not None
                else "is missing (the row is short)",
            )
    dates: dict[str, dt.date | None] = {}
    for column in ("award_date", "valid_until"):
        try:
            dates[column] = parse_date(cell[column]) if cell.get(column) else None
        except ValueError as error:
            raise InvalidRecord(where, column, str(error)) from None
    verified = cell.get("identity_verified", "").lower()
    if verified not in ("yes", "no", "true", "false", ""):
        raise InvalidRecord(where, "identity_verified", "write yes or no")
    grade = rec.Grade(scheme=cell.get("grade_scheme", ""), value=cell.get("grade", ""))
    if bool(grade.scheme) != bool(grade.value):
        raise InvalidRecord(
            where,
            "grade_scheme" if not grade.scheme else "grade",
            "grade_scheme and grade are two columns (UK_LETTER and B): give both, or neither",
        )
    awarded = dates["award_date"]
    assert awarded is not None
    return BatchRow(
        line,
        cell["record_key"],
        vc.Learner(cell["student_id"], cell.get("name", ""), cell.get("email", "")),
        vc.Award(awarded, grade, verified in ("yes", "true")),
        dates["valid_until"],
    )


def status_entry(number: int) -> tuple[str, int]:
    """The status list and entry of the institution's number-th credential: 131,072 to a
    list ("revocation", then "revocation-2", …), so that no list outgrows what a verifier
    downloads."""
    block, entry = divmod(number, vc.STATUS_LIST_ENTRIES)
    return ("revocation" if block == 0 else f"revocation-{block + 1}"), entry


def status_lists(
    config: AgentConfig, store: AgentStore, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """The institution's signed status lists, as they stand: one for each 131,072
    credentials issued."""
    now = now or dt.datetime.now(dt.UTC)
    issued = store.issued()
    blocks = (issued[-1][2] // vc.STATUS_LIST_ENTRIES + 1) if issued else 1
    revoked = store.revoked_indexes()
    lists = []
    for block in range(blocks):
        name, _ = status_entry(block * vc.STATUS_LIST_ENTRIES)
        first = block * vc.STATUS_LIST_ENTRIES
        unsigned = vc.status_list_credential(
            list_id=vc.status_list_id(config.base_url, config.institution_id, name),
            issuer=vc.issuer_id(config.base_url, config.institution_id),
            revoked={i - first for i in revoked if first <= i < first + vc.STATUS_LIST_ENTRIES},
            issued=now,
        )
        lists.append(vc.sign(unsigned, config.signer(), created=now))
    return lists


def status_list_due(store: AgentStore) -> bool:
    """Whether the registry's list is behind the store: never published while credentials
    were issued, or revocations since."""
    published = store.status_published()
    if published is None:
        return bool(store.issued())
    return published[0] != len(store.revoked_indexes())
