"""Learners' credentials in the registry: which are trusted (ADR 12).

The one place that decides whether a credential a partner presents in a question is
verified, and whether an institution's status list may replace the one the registry holds.
Both trust a signature only when the directory holds its key for the institution that the
credential names as its issuer; registry_core/credentials.py does the parts that need no
database (the proof itself, the dates, what the credential claims).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy import Engine, select

from registry.v1 import directory_pb2 as directory
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core import credentials as vc
from registry_core import envelope as env
from registry_core import jades
from registry_core.errors import (
    FailedPrecondition,
    InvalidRecord,
    KeyNotActive,
    NotFound,
    NotPermitted,
    UnknownKey,
)
from registry_server.db import Reads, reading, writing
from registry_server.sql import table
from registry_server.tables import DirectoryEvent, StatusList, utcnow

# Verifying a credential canonicalises its RDF (a few milliseconds each): a question may
# present this many, so that one question cannot hold a query worker for long.
MAX_PRESENTED = 50
# A status list of 131,072 entries compresses to a few hundred bytes while few are revoked.
MAX_STATUS_LIST_BYTES = 64 * 1024
# How far ahead of the registry's clock an agent's may be.
CLOCK_SKEW = dt.timedelta(minutes=5)
_SOURCE_KINDS = (rec.RECORD_KIND_MICRO_CREDENTIAL, rec.RECORD_KIND_LEARNING_UNIT)


@dataclass(frozen=True)
class _Key:
    institution_id: str
    status: int
    retired_at: dt.datetime | None
    institution_status: int


def _key(reads: Reads, public_key: bytes) -> _Key | None:
    mark = reads.mark
    rows = reads.rows(
        "SELECT k.institution_id, k.status, k.revoked_at, i.status FROM signing_key k "
        f"JOIN institution i ON i.institution_id = k.institution_id WHERE k.key_id = {mark}",
        [env.key_id(public_key)],
    )
    if not rows:
        return None
    institution, status, retired, institution_status = rows[0]
    if isinstance(retired, str):  # SQLite's driver returns the stored text
        retired = dt.datetime.fromisoformat(retired)
    if retired is not None and retired.tzinfo is None:
        retired = retired.replace(tzinfo=dt.UTC)
    return _Key(str(institution), int(status), retired, int(institution_status))


def _enrolled(reads: Reads, institution_id: str) -> bool:
    return bool(
        reads.rows(
            f"SELECT 1 FROM institution WHERE institution_id = {reads.mark}", [institution_id]
        )
    )


def _short(key_id: str) -> str:
    return key_id[:12] + "…"


class _Check:
    """One presented credential, checked step by step; each step that passes is said."""

    def __init__(
        self, reads: Reads, index: int, holding: eq.Holding, as_of: dt.date, now: dt.datetime
    ) -> None:
        self.reads, self.holding, self.as_of, self.now = reads, holding, as_of, now
        self.result = eq.HoldingCheck(holding=index, evidence=eq.HOLDING_EVIDENCE_REFUSED)
        self.result.credential.CopyFrom(holding.credential)

    def run(self) -> eq.Holding | None:
        """The holding as the verified credential states it, or None when refused (the
        reason is in self.result)."""
        try:
            return self._verified()
        except vc.CredentialProblem as problem:
            self.result.refusal = problem.refusal  # type: ignore[assignment]
            self.result.explanation = f"not verified: {problem.explanation}"
            return None

    def _verified(self) -> eq.Holding:
        result = self.result
        document = vc.parse(self.holding.verifiable_credential)
        if jades.is_jades(document):
            self._sealed_elsewhere(document)
        if not vc.is_open_badge(document):
            issuer = vc.institution_of_issuer(vc.issuer_of(document))
            if issuer is not None and _enrolled(self.reads, issuer):
                self._claimed(document)
                vc.presented_of(document)  # one of ours with a wrong type: MALFORMED, named
            self._from_elsewhere(document)
        presented = vc.presented_of(document)
        result.credential_id, result.issuer = presented.credential_id, presented.issuer
        self._claimed(document)
        proof = vc.verify_proof(presented.document)
        key_id = env.key_id(proof.public_key)
        result.checked.append(f"signature ({vc.CRYPTOSUITE}) by key {_short(key_id)}")
        issuer = vc.institution_of_issuer(presented.issuer)
        key = _key(self.reads, proof.public_key)
        if key is None:
            if issuer is None or not _enrolled(self.reads, issuer):
                vc.check_dates(presented, self.now)
                result.checked.append("validity dates")
                result.not_checked.append(
                    f"whether key {_short(key_id)} is {presented.issuer[:120]}'s: that issuer "
                    "is not in the network's directory, and the registry fetches no issuer "
                    "documents"
                )
                result.not_checked.append(
                    "revocation status, and the achievement against published records"
                )
                raise vc.CredentialProblem(
                    eq.CREDENTIAL_REFUSAL_OUTSIDE_NETWORK,
                    "its issuer is outside the network; its signature is valid for the key "
                    "it names, but nothing ties that key to the issuer. Admissions may "
                    "consider it as evidence; it earns nothing under the network's "
                    "agreements",
                )
            raise vc.CredentialProblem(
                eq.CREDENTIAL_REFUSAL_UNKNOWN_KEY,
                f"it is signed by key {_short(key_id)}, which the "
                f"directory does not hold for {issuer}",
            )
        if issuer != key.institution_id:
            raise vc.CredentialProblem(
                eq.CREDENTIAL_REFUSAL_WRONG_ISSUER,
                f"it is signed by {key.institution_id}'s key, but names "
                f"{presented.issuer[:120]} as its issuer",
            )
        result.checked.append(f"the key is {issuer}'s in the network's directory")
        if key.institution_status != directory.INSTITUTION_STATUS_ACTIVE:
            raise vc.CredentialProblem(
                eq.CREDENTIAL_REFUSAL_ISSUER_NOT_ACTIVE,
                f"its issuer {issuer} is suspended or removed from the network",
            )
        if key.status != directory.KEY_STATUS_ACTIVE:
            self._signed_before_retirement(proof, presented, key, key_id)
        vc.check_dates(presented, self.now)
        result.checked.append("validity dates")
        record = vc.record_of_achievement(presented.achievement_id)
        if record is None or record[0] != issuer or not self._published(*record):
            raise vc.CredentialProblem(
                eq.CREDENTIAL_REFUSAL_NOT_PUBLISHED,
                f"its achievement {presented.achievement_id[:160]} is no "
                f"record {issuer} published in the registry",
            )
        result.checked.append(f"the achievement is {record[0]}/{record[1]}, published")
        self._status(presented, issuer)
        if presented.award_date is None:
            raise vc.CredentialProblem(
                eq.CREDENTIAL_REFUSAL_MALFORMED, "it states no awardedDate (nor validFrom)"
            )
        if presented.award_date > min(self.as_of, self.now.date()):
            # Refused as a holding, not as a bad question: the partner did not write it.
            raise vc.CredentialProblem(
                eq.CREDENTIAL_REFUSAL_NOT_YET_VALID,
                f"it was awarded on {presented.award_date}, after the question's date {self.as_of}",
            )
        verified = eq.Holding(
            award_date=presented.award_date.isoformat(),
            grade=presented.grade,
            identity_verified=presented.identity_verified,
            verifiable_credential=self.holding.verifiable_credential,
        )
        verified.credential.institution_id, verified.credential.key = record
        self._agrees(verified)
        result.credential.CopyFrom(verified.credential)
        result.evidence = eq.HOLDING_EVIDENCE_VERIFIED
        result.explanation = (
            f"verified: {record[0]}/{record[1]} awarded "
            f"{verified.award_date}"
            + (
                f", grade {verified.grade.value} ({verified.grade.scheme})"
                if verified.grade.scheme
                else ""
            )
            + (", identity-verified assessment" if verified.identity_verified else "")
        )
        return verified

    def _claimed(self, document: dict[str, Any]) -> None:
        """Name the holding by the record its achievement claims, before anything is
        trusted, so that a refused one still says what it claimed to be."""
        subject = document.get("credentialSubject")
        achievement = subject.get("achievement") if isinstance(subject, dict) else None
        claimed = (
            vc.record_of_achievement(str(achievement.get("id", "")))
            if isinstance(achievement, dict)
            else None
        )
        if claimed and not self.result.credential.key:
            self.result.credential.institution_id, self.result.credential.key = claimed

    def _outside(self, what: str) -> vc.CredentialProblem:
        return vc.CredentialProblem(
            eq.CREDENTIAL_REFUSAL_OUTSIDE_NETWORK,
            f"{what}; its issuer is outside the network, whose agreements name the records of "
            "its institutions, so it earns nothing under them. Admissions may weigh it as "
            "evidence, with what was and was not checked",
        )

    def _sealed_elsewhere(self, document: dict[str, Any]) -> NoReturn:
        """A European Digital Credential (Europass) with a JAdES seal."""
        seal = jades.verify(document)
        credential = seal.payload
        self.result.credential_id = str(credential.get("id", ""))[:300]
        self.result.issuer = vc.issuer_of(credential)[:300]
        self.result.checked.append(
            f"JAdES seal ({seal.algorithm}) over the credential's exact "
            f"bytes, by the certificate of {seal.certificate[:160]}"
        )
        if seal.signed_at is not None:
            self.result.checked.append(
                f"the certificate was valid when it sealed ({seal.signed_at:%Y-%m-%d})"
            )
        self._dates(credential)
        self.result.not_checked.extend(
            [
                "whether the certificate is a qualified electronic seal on the EU trusted lists, "
                "and whether it was revoked: the registry works offline, without the lists or "
                "OCSP",
                "the qualified timestamp of the seal",
            ]
        )
        raise self._outside("a European Digital Credential, sealed")

    def _from_elsewhere(self, document: dict[str, Any]) -> NoReturn:
        """A verifiable credential of another kind: CLR 2.0, ELM with a Data Integrity
        proof."""
        kinds = vc.types_of(document)
        if "VerifiableCredential" not in kinds:
            vc.presented_of(document)  # raises, naming the type
        what = (
            "a CLR 2.0 learner record"
            if "ClrCredential" in kinds
            else "a European Digital Credential"
            if "EuropeanDigitalCredential" in kinds
            else f"a {', '.join(sorted(kinds - {'VerifiableCredential'})) or 'verifiable'} "
            "credential"
        )
        self.result.credential_id = str(document.get("id", ""))[:300]
        self.result.issuer = vc.issuer_of(document)[:300]
        if document.get("proof"):
            proof = vc.verify_proof(document)
            self.result.checked.append(
                f"signature ({vc.CRYPTOSUITE}) by the key its proof "
                f"names, {proof.verification_method[:120]}"
            )
            self.result.not_checked.append(
                "whether that key is the issuer's: the issuer is "
                "not in the network's directory, and the registry "
                "fetches no issuer documents"
            )
        else:
            self.result.not_checked.append("who issued it: it carries no proof")
        self._dates(document)
        raise self._outside(what)

    def _dates(self, document: dict[str, Any]) -> None:
        until = vc.parse_datetime(document.get("validUntil") or document.get("expirationDate"))
        if until is not None and until < self.now:
            raise vc.CredentialProblem(
                eq.CREDENTIAL_REFUSAL_EXPIRED, f"it expired on {until:%Y-%m-%d}"
            )
        self.result.checked.append("not expired")

    def _signed_before_retirement(
        self, proof: vc.Proof, presented: vc.Presented, key: _Key, key_id: str
    ) -> None:
        """A retired or revoked key counts only for what it signed before: the proof's
        date (and the credential's validFrom) must be earlier."""
        state = directory.KeyStatus.Name(key.status).removeprefix("KEY_STATUS_").lower()
        signed = proof.created or presented.valid_from
        if (
            key.retired_at is None
            or signed is None
            or signed >= key.retired_at
            or (presented.valid_from is not None and presented.valid_from >= key.retired_at)
        ):
            when = f" on {key.retired_at:%Y-%m-%d}" if key.retired_at else ""
            raise vc.CredentialProblem(
                eq.CREDENTIAL_REFUSAL_KEY_RETIRED,
                f"it is signed by key {_short(key_id)}, {state}{when}, "
                "and not before then; ask the issuer to issue it again",
            )
        self.result.checked.append(
            f"signed {signed:%Y-%m-%d}, before key {_short(key_id)} "
            f"was {state} ({key.retired_at:%Y-%m-%d})"
        )

    def _published(self, institution_id: str, key: str) -> bool:
        mark = self.reads.mark
        return bool(
            self.reads.rows(
                f"SELECT 1 FROM published_record WHERE institution_id = {mark} AND key = {mark} "
                f"AND kind IN ({', '.join(str(k) for k in _SOURCE_KINDS)})",
                [institution_id, key],
            )
        )

    def _status(self, presented: vc.Presented, issuer: str) -> None:
        entry = presented.status
        if entry is None:
            self.result.checked.append("no revocation status: the issuer cannot revoke it")
            return
        mark = self.reads.mark
        rows = self.reads.rows(
            f"SELECT institution_id, credential FROM status_list WHERE list_id = {mark}",
            [entry.list_id],
        )
        if not rows or rows[0][0] != issuer:
            raise vc.CredentialProblem(
                eq.CREDENTIAL_REFUSAL_STATUS_UNKNOWN,
                f"its status list {entry.list_id[:160]} is not one "
                f"{issuer} published to the registry, so whether it "
                "was revoked cannot be checked",
            )
        listed = json.loads(rows[0][1])
        try:
            bits = vc.decode_status_list(str(listed["credentialSubject"]["encodedList"]))
            revoked = vc.is_set(bits, entry.index)
        except (ValueError, IndexError, OSError):
            raise vc.CredentialProblem(
                eq.CREDENTIAL_REFUSAL_MALFORMED,
                f"its statusListIndex {entry.index} is not in status list {entry.list_id[:160]}",
            ) from None
        if revoked:
            raise vc.CredentialProblem(
                eq.CREDENTIAL_REFUSAL_REVOKED,
                f"{issuer} revoked it (status list {entry.list_id[:160]}, "
                f"entry {entry.index}, as of {listed.get('validFrom')})",
            )
        self.result.checked.append(f"not revoked (status list of {listed.get('validFrom')})")

    def _agrees(self, verified: eq.Holding) -> None:
        """What the question states beside the credential must be what the credential says."""
        stated = self.holding
        for name, given, actual in (
            (
                "credential",
                (stated.credential.institution_id, stated.credential.key),
                (verified.credential.institution_id, verified.credential.key),
            ),
            ("award_date", stated.award_date, verified.award_date),
            (
                "grade",
                (stated.grade.scheme, stated.grade.value),
                (verified.grade.scheme, verified.grade.value),
            ),
        ):
            if any(given) if isinstance(given, tuple) else given:
                if given != actual:
                    raise vc.CredentialProblem(
                        eq.CREDENTIAL_REFUSAL_MISMATCH,
                        f"the question states {name} {given}, the credential {actual}; leave "
                        f"holdings[{self.result.holding}].{name} empty or make it agree",
                    )


def check_holdings(
    reads: Reads, holdings: Sequence[eq.Holding], as_of: dt.date, now: dt.datetime | None = None
) -> tuple[list[eq.Holding], list[eq.HoldingCheck]]:
    """The holdings to resolve, and how each was taken. A holding with a credential that
    verifies is replaced by what the credential states (and keeps the credential, the mark
    of a verified holding: registry_core.resolution reads it so); one that does not verify is
    left out; one without a credential is taken as stated."""
    now = now or dt.datetime.now(dt.UTC)
    taken: list[eq.Holding] = []
    checks: list[eq.HoldingCheck] = []
    for index, holding in enumerate(holdings):
        if not holding.verifiable_credential:
            checks.append(
                eq.HoldingCheck(
                    holding=index,
                    credential=holding.credential,
                    evidence=eq.HOLDING_EVIDENCE_SELF_ASSERTED,
                    explanation="as the question states it (no credential presented)",
                )
            )
            taken.append(holding)
            continue
        check = _Check(reads, index, holding, as_of, now)
        verified = check.run()
        checks.append(check.result)
        if verified is not None:
            taken.append(verified)
    return taken, checks


# -- status lists --------------------------------------------------------------------------


def publish_status_list(
    engine: Engine, text: str, *, caller: str | None = None
) -> pub.PublishStatusListResponse:
    """Store an institution's newer status list. caller: the institution the connection
    authenticated (mutual TLS), when there is one; it must be the list's issuer."""
    what = "status list credential"
    if len(text.encode("utf-8")) > MAX_STATUS_LIST_BYTES:
        raise InvalidRecord(
            what, "status_list_credential", f"is larger than {MAX_STATUS_LIST_BYTES // 1024} KiB"
        )
    try:
        document = json.loads(text)
    except ValueError as error:
        raise InvalidRecord(what, "status_list_credential", f"is not JSON ({error})") from None
    subject = document.get("credentialSubject") if isinstance(document, dict) else None
    if (
        not isinstance(subject, dict)
        or "BitstringStatusListCredential" not in (document.get("type") or [])
        or subject.get("statusPurpose") != "revocation"
    ):
        raise InvalidRecord(
            what,
            "type",
            "must be a BitstringStatusListCredential whose "
            "credentialSubject has statusPurpose 'revocation'",
        )
    list_id = str(document.get("id", ""))
    issuer = vc.institution_of_issuer(vc.issuer_of(document))
    if issuer is None or vc.owner_of_status_list(list_id) != issuer:
        raise InvalidRecord(
            what,
            "id",
            f"'{list_id[:160]}' must be …/status/{issuer or '…'}/"
            "NAME, a list of its issuer's (issuer …/institutions/ID)",
        )
    try:
        bits = vc.decode_status_list(str(subject.get("encodedList", "")))
    except (ValueError, OSError) as error:
        raise InvalidRecord(
            what,
            "credentialSubject.encodedList",
            f"is not a GZIP-compressed base64url bitstring ({error})",
        ) from None
    if len(bits) * 8 < vc.STATUS_LIST_ENTRIES:
        raise InvalidRecord(
            what,
            "credentialSubject.encodedList",
            f"has {len(bits) * 8} entries; a status list has at least "
            f"{vc.STATUS_LIST_ENTRIES}, so that checking one reveals nothing",
        )
    valid_from = vc.parse_datetime(document.get("validFrom"))
    if valid_from is None:
        raise InvalidRecord(what, "validFrom", "is required (an ISO date-time)")
    if valid_from > dt.datetime.now(dt.UTC) + CLOCK_SKEW:
        # Held, it would block every list until that date (a newer one must be later).
        raise InvalidRecord(
            what, "validFrom", f"{document['validFrom']} is in the future; check the agent's clock"
        )
    try:
        proof = vc.verify_proof(document)
    except vc.CredentialProblem as problem:
        raise UnknownKey(f"{what} {list_id[:160]}: {problem.explanation}") from None
    if caller is not None and caller != issuer:
        raise NotPermitted(f"{caller} may not publish {issuer}'s status list")
    revoked = sum(bin(byte).count("1") for byte in bits)
    now = utcnow()
    with writing(engine) as connection:
        key = _key(Reads.on(connection), proof.public_key)
        if key is None or key.institution_id != issuer:
            raise UnknownKey(
                f"{what} {list_id[:160]}: signed by a key the directory does not hold for {issuer}"
            )
        if key.status != directory.KEY_STATUS_ACTIVE:
            raise KeyNotActive(
                f"{what} {list_id[:160]}: signed by a retired or revoked key; "
                "sign it with the institution's active key"
            )
        if key.institution_status != directory.INSTITUTION_STATUS_ACTIVE:
            raise NotPermitted(f"{issuer} is suspended or removed: it publishes nothing")
        lists = table(StatusList)
        found = connection.execute(
            select(lists.c.valid_from, lists.c.credential).where(lists.c.list_id == list_id)
        ).first()
        held = (
            None
            if found is None
            else (found[0] if found[0].tzinfo else found[0].replace(tzinfo=dt.UTC))
        )
        if found is not None and found[1] == text:  # a retry of the same publication
            return pub.PublishStatusListResponse(
                id=list_id, valid_from=str(document["validFrom"]), revoked=revoked
            )
        if held is not None and held >= valid_from:
            raise FailedPrecondition(
                f"{what} {list_id[:160]}: the registry holds a list "
                f"valid from {held:%Y-%m-%dT%H:%M:%SZ}; publish a newer "
                "one (a later validFrom)"
            )
        row = dict(
            list_id=list_id,
            institution_id=issuer,
            credential=text,
            valid_from=valid_from,
            revoked=revoked,
            updated_at=now,
        )
        if held is None:
            connection.execute(lists.insert(), [row])
        else:
            connection.execute(lists.update().where(lists.c.list_id == list_id), [row])
        connection.execute(
            table(DirectoryEvent).insert(),
            [
                dict(
                    institution_id=issuer,
                    action="status-list",
                    key_id=env.key_id(proof.public_key),
                    actor=caller or issuer,
                    reason=f"{list_id[:1800]}: {revoked} revoked",
                    at=now,
                )
            ],
        )
    return pub.PublishStatusListResponse(
        id=list_id, valid_from=str(document["validFrom"]), revoked=revoked
    )


def get_status_list(engine: Engine, list_id: str) -> directory.GetStatusListResponse:
    with reading(engine) as reads:
        rows = reads.rows(
            f"SELECT credential, institution_id FROM status_list WHERE list_id = {reads.mark}",
            [list_id],
        )
    if not rows:
        raise NotFound(f"no status list {list_id[:160]} was published to the registry")
    return directory.GetStatusListResponse(
        status_list_credential=rows[0][0], institution_id=rows[0][1]
    )
