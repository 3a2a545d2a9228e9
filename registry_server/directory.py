"""The network's directory: enrolling institutions and registering their signing keys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, RowMapping, select, update

from registry.v1 import directory_pb2 as directory
from registry_core import envelope as env
from registry_core.errors import AlreadyExists, FailedPrecondition, InvalidRecord, NotFound
from registry_core.records import COUNTRY, INSTITUTION_ID, text_problem
from registry_server.db import writing
from registry_server.paging import trimmed
from registry_server.sql import for_update, table
from registry_server.tables import DirectoryEvent, Institution, SigningKey, utcnow

PAGE_MAX = 1000


def enrol(
    engine: Engine,
    institution_id: str,
    name: str,
    country: str,
    public_key: bytes,
    *,
    actor: str = "operator (registry host)",
) -> directory.Institution:
    """Add an institution with its first signing key. ALREADY_EXISTS if the id or key is taken."""
    what = f"institution {institution_id or '?'}"
    if not INSTITUTION_ID.match(institution_id) or len(institution_id) > 128:
        raise InvalidRecord(
            what, "institution_id", "use lower-case reverse-domain form such as 'uk.ac.hw'"
        )
    if not name.strip() or len(name) > 300:
        raise InvalidRecord(what, "name", "give the institution's name (at most 300 characters)")
    problem = text_problem(name, one_line=True)
    if problem:
        raise InvalidRecord(what, "name", f"{problem}; give the institution's name as printed")
    if not COUNTRY.match(country):
        raise InvalidRecord(
            what, "country", f"'{country[:20]}' is not an ISO 3166-1 alpha-2 code such as 'GB'"
        )
    if len(public_key) != 32:
        raise InvalidRecord(
            what,
            "public_key",
            f"is {len(public_key)} bytes; give the raw 32-byte Ed25519 public key",
        )
    now = utcnow()
    key_id = env.key_id(public_key)
    with writing(engine) as connection:
        i, k = table(Institution), table(SigningKey)
        if connection.execute(
            select(i.c.institution_id).where(i.c.institution_id == institution_id)
        ).first():
            raise AlreadyExists(
                f"institution {institution_id} is already enrolled; rotate its "
                "key instead of enrolling it again"
            )
        if connection.execute(select(k.c.key_id).where(k.c.key_id == key_id)).first():
            raise AlreadyExists(
                f"key {key_id} is already registered; every institution needs its own key"
            )
        connection.execute(
            i.insert(),
            [
                dict(
                    institution_id=institution_id,
                    name=name.strip(),
                    country=country,
                    status=directory.INSTITUTION_STATUS_ACTIVE,
                    created_at=now,
                )
            ],
        )
        connection.execute(
            k.insert(),
            [
                dict(
                    key_id=key_id,
                    institution_id=institution_id,
                    public_key=public_key,
                    status=directory.KEY_STATUS_ACTIVE,
                    created_at=now,
                    revoked_at=None,
                )
            ],
        )
        _event(connection, institution_id, "enrol", actor, key_id=key_id)
    return get_institution(engine, institution_id)


def _event(
    connection: Connection,
    institution_id: str,
    action: str,
    actor: str,
    *,
    key_id: str = "",
    reason: str = "",
) -> None:
    connection.execute(
        table(DirectoryEvent).insert(),
        [
            dict(
                institution_id=institution_id,
                action=action,
                key_id=key_id,
                actor=actor[:200],
                reason=reason[:2000],
                at=utcnow(),
            )
        ],
    )


def _require(connection: Connection, institution_id: str) -> int:
    i = table(Institution)
    status = connection.execute(
        for_update(connection, select(i.c.status).where(i.c.institution_id == institution_id))
    ).scalar()
    if status is None:
        raise NotFound(
            f"institution {institution_id} is not enrolled; check the id with "
            "`registry-server institutions list`"
        )
    return int(status)


def set_status(
    engine: Engine,
    institution_id: str,
    status: int,
    reason: str,
    *,
    actor: str = "operator (registry host)",
) -> directory.Institution:
    """Suspend, reinstate or remove an institution. Its records stay readable."""
    if status not in (
        directory.INSTITUTION_STATUS_ACTIVE,
        directory.INSTITUTION_STATUS_SUSPENDED,
        directory.INSTITUTION_STATUS_REMOVED,
    ):
        raise InvalidRecord(
            f"institution {institution_id}", "status", "use ACTIVE, SUSPENDED or REMOVED"
        )
    if not reason.strip():
        raise InvalidRecord(
            f"institution {institution_id}", "reason", "is required; say why, for the audit log"
        )
    with writing(engine) as connection:
        current = _require(connection, institution_id)
        if current == directory.INSTITUTION_STATUS_REMOVED:
            raise FailedPrecondition(
                f"institution {institution_id} was removed; enrol it again under a new id"
            )
        i = table(Institution)
        connection.execute(
            update(i).where(i.c.institution_id == institution_id).values(status=status)
        )
        name = directory.InstitutionStatus.Name(status).removeprefix("INSTITUTION_STATUS_")
        _event(connection, institution_id, f"status:{name.lower()}", actor, reason=reason)
    return get_institution(engine, institution_id)


def rotate_key(
    engine: Engine,
    institution_id: str,
    public_key: bytes,
    *,
    actor: str = "operator (registry host)",
) -> directory.Institution:
    """Register a new signing key; the institution's active keys are retired. Retired keys
    sign nothing new; what they signed stays verifiable."""
    if len(public_key) != 32:
        raise InvalidRecord(
            f"institution {institution_id}",
            "public_key",
            f"is {len(public_key)} bytes; give the raw 32-byte Ed25519 key",
        )
    new_id = env.key_id(public_key)
    now = utcnow()
    with writing(engine) as connection:
        _require(connection, institution_id)
        k = table(SigningKey)
        if connection.execute(select(k.c.key_id).where(k.c.key_id == new_id)).first():
            raise AlreadyExists(f"key {new_id} is already registered; generate a new key pair")
        connection.execute(
            update(k)
            .where(k.c.institution_id == institution_id, k.c.status == directory.KEY_STATUS_ACTIVE)
            .values(status=directory.KEY_STATUS_RETIRED, revoked_at=now)
        )
        connection.execute(
            k.insert(),
            [
                dict(
                    key_id=new_id,
                    institution_id=institution_id,
                    public_key=public_key,
                    status=directory.KEY_STATUS_ACTIVE,
                    created_at=now,
                    revoked_at=None,
                )
            ],
        )
        _event(connection, institution_id, "rotate-key", actor, key_id=new_id)
    return get_institution(engine, institution_id)


def revoke_key(
    engine: Engine,
    institution_id: str,
    key_id: str,
    reason: str,
    *,
    actor: str = "operator (registry host)",
) -> directory.Institution:
    """Revoke a key (for example after a compromise): it signs nothing new."""
    if not reason.strip():
        raise InvalidRecord(f"key {key_id}", "reason", "is required; say why, for the audit log")
    with writing(engine) as connection:
        _require(connection, institution_id)
        k = table(SigningKey)
        found = connection.execute(
            select(k.c.status).where(k.c.key_id == key_id, k.c.institution_id == institution_id)
        ).scalar()
        if found is None:
            raise NotFound(f"institution {institution_id} has no key {key_id}")
        if found == directory.KEY_STATUS_REVOKED:
            raise FailedPrecondition(f"key {key_id} is already revoked")
        connection.execute(
            update(k)
            .where(k.c.key_id == key_id)
            .values(status=directory.KEY_STATUS_REVOKED, revoked_at=utcnow())
        )
        _event(connection, institution_id, "revoke-key", actor, key_id=key_id, reason=reason)
    return get_institution(engine, institution_id)


def get_institution(engine: Engine, institution_id: str) -> directory.Institution:
    """One institution with its keys; NotFound if it is not enrolled."""
    i = table(Institution)
    with engine.connect() as connection:
        rows = (
            connection.execute(select(i).where(i.c.institution_id == institution_id))
            .mappings()
            .all()
        )
        if not rows:
            raise NotFound(f"institution {institution_id} is not enrolled")
        return _with_keys(connection, rows)[0]


def list_institutions(
    engine: Engine, *, page_size: int = 100, after: str = ""
) -> tuple[list[directory.Institution], str]:
    """Institutions ordered by id, after the given id; returns the page and the next token."""
    if after and (len(after) > 128 or not INSTITUTION_ID.match(after)):
        raise InvalidRecord(
            "request",
            "page_token",
            "is not a token this registry issued; "
            "pass next_page_token from the previous answer, or leave it empty",
        )
    size = min(page_size or 100, PAGE_MAX)
    i = table(Institution)
    with engine.connect() as connection:
        rows = (
            connection.execute(
                select(i)
                .where(i.c.institution_id > after)
                .order_by(i.c.institution_id)
                .limit(size + 1)
            )
            .mappings()
            .all()
        )
        found = _with_keys(connection, rows[:size])
    page, more = trimmed(found, len(rows) > size)
    return list(page), page[-1].institution_id if more else ""


def _with_keys(connection: Connection, rows: Sequence[RowMapping]) -> list[directory.Institution]:
    k = table(SigningKey)
    ids = [r["institution_id"] for r in rows]
    keys = (
        connection.execute(
            select(k).where(k.c.institution_id.in_(ids)).order_by(k.c.created_at, k.c.key_id)
        )
        .mappings()
        .all()
        if ids
        else []
    )
    by_institution: dict[str, list[directory.SigningKey]] = {}
    for key in keys:
        by_institution.setdefault(key["institution_id"], []).append(
            directory.SigningKey(
                key_id=key["key_id"],
                public_key=bytes(key["public_key"]),
                status=key["status"],
                created_at=key["created_at"].isoformat(),
                revoked_at=key["revoked_at"].isoformat() if key["revoked_at"] else "",
            )
        )
    return [
        directory.Institution(
            institution_id=r["institution_id"],
            name=r["name"],
            country=r["country"],
            status=r["status"],
            keys=by_institution.get(r["institution_id"], []),
        )
        for r in rows
    ]
