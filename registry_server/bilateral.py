"""Bilateral agreements in the registry: signed steps, one record, its whole history.

The rules live in registry_core/bilateral.py; this module verifies who signed a step, keeps
every version and every step (nothing is overwritten), and makes the version in force a
recognition agreement that resolution uses, under the key `bilateral:<agreement id>`.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, delete, func, select, update

from registry.v1 import bilateral_pb2 as bi
from registry.v1 import directory_pb2 as directory
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core import bilateral as core
from registry_core import envelope as env
from registry_core import errors
from registry_core.records import agreement_edges, granted_unit_keys, validate_agreement
from registry_server import bulk
from registry_server.acceptance import grant_field, unpublished_units
from registry_server.db import writing
from registry_server.paging import trimmed
from registry_server.publication import TransactionState, _lock_log
from registry_server.sql import table
from registry_server.tables import (
    AgreementEdge,
    BilateralEventRow,
    BilateralVersion,
    Institution,
    PublishedRecord,
    utcnow,
)

STEP_PAYLOAD_TYPE = core.STEP_PAYLOAD_TYPE
KEY_PREFIX = "bilateral:"

STATE_OF = {
    core.State.PROPOSED: bi.BILATERAL_STATE_PROPOSED,
    core.State.ACTIVE: bi.BILATERAL_STATE_ACTIVE,
    core.State.SUSPENDED: bi.BILATERAL_STATE_SUSPENDED,
    core.State.TERMINATED: bi.BILATERAL_STATE_TERMINATED,
    core.State.REJECTED: bi.BILATERAL_STATE_REJECTED,
    core.State.WITHDRAWN: bi.BILATERAL_STATE_WITHDRAWN,
}
CORE_STATE = {v: k for k, v in STATE_OF.items()}
ACTION_OF = {
    bi.BILATERAL_ACTION_PROPOSE: core.Action.PROPOSE,
    bi.BILATERAL_ACTION_COUNTERSIGN: core.Action.COUNTERSIGN,
    bi.BILATERAL_ACTION_REJECT: core.Action.REJECT,
    bi.BILATERAL_ACTION_WITHDRAW: core.Action.WITHDRAW,
    bi.BILATERAL_ACTION_SUSPEND: core.Action.SUSPEND,
    bi.BILATERAL_ACTION_RESUME: core.Action.RESUME,
    bi.BILATERAL_ACTION_TERMINATE: core.Action.TERMINATE,
}


def _bad(field: str, problem: str) -> errors.InvalidRecord:
    return errors.InvalidRecord("bilateral step", field, problem)


def _versions(connection: Connection, agreement_id: str) -> list[bi.BilateralAgreement]:
    v = table(BilateralVersion)
    rows = (
        connection.execute(select(v).where(v.c.agreement_id == agreement_id).order_by(v.c.version))
        .mappings()
        .all()
    )
    return [
        bi.BilateralAgreement(
            agreement_id=r["agreement_id"],
            version=r["version"],
            proposer=r["proposer"],
            partner=r["partner"],
            state=r["state"],
            content_hash=r["content_hash"],
            terms=rec.RecognitionAgreement.FromString(r["terms"]),
        )
        for r in rows
    ]


def _core(version: bi.BilateralAgreement) -> core.Version:
    return core.Version(
        version.proposer,
        version.partner,
        version.version,
        version.content_hash,
        CORE_STATE[version.state],
    )


def act(
    engine: Engine, envelope: pub.SignedEnvelope, authenticated_institution: str | None = None
) -> tuple[bi.BilateralAgreement, int]:
    """Verify and apply one signed step; returns the version after it and the event id."""
    if envelope.payload_type != STEP_PAYLOAD_TYPE:
        raise errors.MalformedPayload(f"payload_type must be '{STEP_PAYLOAD_TYPE}'")
    env.check_bounds(envelope)  # before anything is looked up or verified
    # Verified before the serialised path (the log's lock), so that a step with a bad
    # signature never holds another institution's write; the key is read again under it.
    with engine.connect() as connection:
        found = TransactionState(connection).keys(env.signing_key_ids(envelope))
    key_id = env.verify(envelope, {k: i.public_key for k, i in found.items()})
    with writing(engine) as connection:
        _lock_log(connection)  # one writer at a time, as for publications (ADR 0002)
        signer = TransactionState(connection).keys([key_id]).get(key_id)
        if signer is None or signer.public_key != found[key_id].public_key:
            raise errors.UnknownKey(
                f"key {key_id} was removed from the directory while the "
                "step was verified; send the step again"
            )
        if (
            signer.key_status != directory.KEY_STATUS_ACTIVE
            or signer.institution_status != directory.INSTITUTION_STATUS_ACTIVE
        ):
            raise errors.KeyNotActive(
                f"key {key_id} of {signer.institution_id} may not sign "
                "new steps; sign with the institution's current key"
            )
        step = bi.BilateralStep()
        try:
            step.ParseFromString(envelope.payload)
        except Exception:  # noqa: BLE001 - any decode failure is a malformed payload
            raise errors.MalformedPayload("the payload is not a serialised BilateralStep") from None
        if step.actor != signer.institution_id or (
            authenticated_institution and authenticated_institution != step.actor
        ):
            raise errors.ForeignRecord(
                f"the step is signed by {signer.institution_id} for "
                f"actor '{step.actor[:80]}'; an institution acts only "
                "for itself"
            )
        action = ACTION_OF.get(step.action)
        if action is None:
            raise _bad(
                "action",
                "is not set; use PROPOSE, COUNTERSIGN, REJECT, WITHDRAW, "
                "SUSPEND, RESUME or TERMINATE",
            )
        versions = _versions(connection, step.agreement_id)
        try:
            if action is core.Action.PROPOSE:
                version = _propose(connection, step, versions)
            else:
                version = _step(connection, step, action, versions)
        except core.PartyRefused as refused:
            raise errors.NotPermitted(str(refused)) from None
        except core.ReasonRequired as refused:
            raise _bad("reason", str(refused)) from None
        except core.TransitionRefused as refused:
            raise errors.FailedPrecondition(str(refused)) from None
        event_id = _record_event(connection, step, envelope, version)
        _publish_effects(connection, version, versions)
    return version, event_id


def _propose(
    connection: Connection, step: bi.BilateralStep, versions: list[bi.BilateralAgreement]
) -> bi.BilateralAgreement:
    terms = rec.RecognitionAgreement()
    terms.CopyFrom(step.terms)
    terms.version, terms.status = max(step.version, 1), rec.RECORD_STATUS_ACTIVE
    validate_agreement(terms)
    partner = step.partner
    if not versions:
        if not step.agreement_id.startswith(f"{step.actor}/") or step.version != 1:
            raise _bad("agreement_id", f"a new agreement is '{step.actor}/<key>' at version 1")
    else:
        partner = (
            versions[-1].partner if versions[-1].proposer == step.actor else versions[-1].proposer
        )
    if terms.institution_id not in (step.actor, partner):
        raise _bad(
            "terms.institution_id", "the recognising institution must be one of the two parties"
        )
    i = table(Institution)
    if (
        connection.execute(select(i.c.institution_id).where(i.c.institution_id == partner)).first()
        is None
        or partner == step.actor
    ):
        raise _bad("partner", f"'{partner[:80]}' is not another enrolled institution")
    granted = granted_unit_keys(terms.grant)
    missing = unpublished_units(terms.institution_id, granted, {}, TransactionState(connection))
    if missing:
        unit = next(key for key in granted if key in missing)
        raise _bad(
            f"terms.{grant_field(terms.grant, unit)}",
            f"grants unit '{unit}', which {missing[unit]} as a LearningUnit of "
            f"{terms.institution_id}; the recogniser publishes it first",
        )
    digest = core.content_hash(terms)
    if step.content_hash != digest:
        raise _bad(
            "content_hash",
            f"{step.content_hash[:12]}… is not the hash of the terms "
            f"sent ({digest[:12]}…); sign the canonical terms",
        )
    if not versions:
        new = core.apply(
            core.Version(step.actor, partner, 1, digest, core.State.DRAFT),
            core.Action.PROPOSE,
            step.actor,
            digest,
            step.reason,
        )
    else:
        latest = versions[-1]
        if latest.state == bi.BILATERAL_STATE_PROPOSED:
            raise core.TransitionRefused(
                f"version {latest.version} awaits a decision; withdraw "
                "it before proposing other terms"
            )
        new = core.amend(_core(latest), step.actor, digest)
        if step.version != new.version:
            raise errors.StaleVersion(
                f"the amendment must be version {new.version}, not "
                f"{step.version}; fetch the agreement and sign again"
            )
    return bi.BilateralAgreement(
        agreement_id=step.agreement_id,
        version=new.version,
        proposer=new.proposer,
        partner=new.partner,
        state=STATE_OF[new.state],
        content_hash=digest,
        terms=terms,
    )


def _step(
    connection: Connection,
    step: bi.BilateralStep,
    action: core.Action,
    versions: list[bi.BilateralAgreement],
) -> bi.BilateralAgreement:
    found = [v for v in versions if v.version == step.version]
    if not found:
        raise errors.NotFound(
            f"bilateral agreement {step.agreement_id[:120]} has no version {step.version}"
        )
    current = found[0]
    after = core.apply(_core(current), action, step.actor, step.content_hash, step.reason)
    version = bi.BilateralAgreement()
    version.CopyFrom(current)
    version.state = STATE_OF[after.state]
    return version


def _record_event(
    connection: Connection,
    step: bi.BilateralStep,
    envelope: pub.SignedEnvelope,
    version: bi.BilateralAgreement,
) -> int:
    v, e = table(BilateralVersion), table(BilateralEventRow)
    terms = version.terms.SerializeToString(deterministic=True)
    exists = connection.execute(
        select(v.c.version).where(
            v.c.agreement_id == version.agreement_id, v.c.version == version.version
        )
    ).first()
    if exists:
        connection.execute(
            update(v)
            .where(v.c.agreement_id == version.agreement_id, v.c.version == version.version)
            .values(state=version.state)
        )
    else:
        connection.execute(
            v.insert(),
            [
                dict(
                    agreement_id=version.agreement_id,
                    version=version.version,
                    proposer=version.proposer,
                    partner=version.partner,
                    state=version.state,
                    content_hash=version.content_hash,
                    terms=terms,
                )
            ],
        )
    last = connection.execute(select(e.c.event_id).order_by(e.c.event_id.desc()).limit(1)).scalar()
    event_id = int(last or 0) + 1
    parties = sorted((version.proposer, version.partner))
    connection.execute(
        e.insert(),
        [
            dict(
                event_id=event_id,
                agreement_id=version.agreement_id,
                version=version.version,
                party_a=parties[0],
                party_b=parties[1],
                action=step.action,
                state_after=version.state,
                envelope=envelope.SerializeToString(deterministic=True),
                at=utcnow(),
            )
        ],
    )
    return event_id


def _publish_effects(
    connection: Connection, version: bi.BilateralAgreement, versions: list[bi.BilateralAgreement]
) -> None:
    """The version in force is a recognition agreement of the recognising party."""
    key = f"{KEY_PREFIX}{version.agreement_id}"
    owner = version.terms.institution_id
    r, e = table(PublishedRecord), table(AgreementEdge)
    if version.state == bi.BILATERAL_STATE_ACTIVE:
        for older in versions:  # an amendment in force supersedes the version before it
            if older.version < version.version and older.state in (
                bi.BILATERAL_STATE_ACTIVE,
                bi.BILATERAL_STATE_SUSPENDED,
            ):
                connection.execute(
                    update(table(BilateralVersion))
                    .where(
                        table(BilateralVersion).c.agreement_id == older.agreement_id,
                        table(BilateralVersion).c.version == older.version,
                    )
                    .values(state=bi.BILATERAL_STATE_SUPERSEDED)
                )
        record = rec.RecognitionAgreement()
        record.CopyFrom(version.terms)
        record.key, record.version, record.status = key, version.version, rec.RECORD_STATUS_ACTIVE
        stamp = bulk.timestamp(connection, utcnow())
        bulk.upsert(
            connection,
            PublishedRecord,
            ["institution_id", "kind", "key"],
            [
                (
                    owner,
                    rec.RECORD_KIND_AGREEMENT,
                    key,
                    version.version,
                    record.status,
                    0,
                    0,
                    record.SerializeToString(deterministic=True),
                    stamp,
                )
            ],
        )
        connection.execute(delete(e).where(e.c.institution_id == owner, e.c.agreement_key == key))
        bulk.insert(connection, AgreementEdge, agreement_edges(record))
    elif version.state in (bi.BILATERAL_STATE_SUSPENDED, bi.BILATERAL_STATE_TERMINATED):
        status = (
            rec.RECORD_STATUS_SUSPENDED
            if version.state == bi.BILATERAL_STATE_SUSPENDED
            else rec.RECORD_STATUS_WITHDRAWN
        )
        connection.execute(
            update(r)
            .where(
                r.c.institution_id == owner, r.c.key == key, r.c.kind == rec.RECORD_KIND_AGREEMENT
            )
            .values(status=status)
        )
        if status == rec.RECORD_STATUS_WITHDRAWN:
            connection.execute(
                delete(e).where(e.c.institution_id == owner, e.c.agreement_key == key)
            )
        else:
            connection.execute(
                update(e)
                .where(e.c.institution_id == owner, e.c.agreement_key == key)
                .values(status=status)
            )


def history(engine: Engine, agreement_id: str) -> bi.GetBilateralAgreementResponse:
    e = table(BilateralEventRow)
    with engine.connect() as connection:
        versions = _versions(connection, agreement_id)
        rows = (
            connection.execute(
                select(e).where(e.c.agreement_id == agreement_id).order_by(e.c.event_id)
            )
            .mappings()
            .all()
        )
    if not versions:
        raise errors.NotFound(f"no bilateral agreement {agreement_id[:120]}")
    return bi.GetBilateralAgreementResponse(versions=versions, history=[_event(r) for r in rows])


def _event(row: object) -> bi.BilateralEvent:
    r = row  # a RowMapping
    return bi.BilateralEvent(
        event_id=r["event_id"],  # type: ignore[index]
        agreement_id=r["agreement_id"],  # type: ignore[index]
        state_after=r["state_after"],  # type: ignore[index]
        step=pub.SignedEnvelope.FromString(r["envelope"]),  # type: ignore[index]
    )


def events_for(
    engine: Engine, institution_id: str, after: int, page_size: int
) -> bi.ListBilateralEventsResponse:
    """Steps on agreements the institution is party to, after a cursor, oldest first."""
    errors.check_stored_int("request", "after_event_id", after)
    e = table(BilateralEventRow)
    size = min(page_size or 100, 1000)
    with engine.connect() as connection:
        rows = (
            connection.execute(
                select(e)
                .where(
                    e.c.event_id > after,
                    (e.c.party_a == institution_id) | (e.c.party_b == institution_id),
                )
                .order_by(e.c.event_id)
                .limit(size + 1)
            )
            .mappings()
            .all()
        )
    events, more = trimmed([_event(r) for r in rows[:size]], len(rows) > size)
    return bi.ListBilateralEventsResponse(
        events=events, next_after_event_id=events[-1].event_id if more else 0
    )


def newest_event(engine: Engine, institution_id: str) -> int:
    """The newest step on an agreement the institution is party to (0 when none)."""
    e = table(BilateralEventRow)
    with engine.connect() as connection:
        newest = connection.execute(
            select(func.max(e.c.event_id)).where(
                (e.c.party_a == institution_id) | (e.c.party_b == institution_id)
            )
        ).scalar()
    return int(newest or 0)
