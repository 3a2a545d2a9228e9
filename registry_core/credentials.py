"""Learners' verifiable credentials: what needs no database.

An institution issues a learner's achievement of one of its published records as an Open
Badges 3.0 `OpenBadgeCredential` (a W3C Verifiable Credential, data model 2.0), signed with a
Data Integrity proof of the cryptosuite `eddsa-rdfc-2022` by the institution's Ed25519 key,
the key the network's directory holds for it (ADR 12 says why this proof format). Its
revocation is a W3C Bitstring Status List the institution publishes through the registry.

This module builds and signs those credentials and status lists, and reads a presented
credential: its proof, its dates and what it claims. Which keys, records and status lists
are trusted is the registry's to decide, against its database
(registry_server/credential_checks.py).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import gzip
import hashlib
import io
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core import jsonld
from registry_core.envelope import Ed25519Signer
from registry_core.errors import InvalidRecord

CRYPTOSUITE = "eddsa-rdfc-2022"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB3_CREDENTIAL_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential"})
# A Europass credential embeds its images, and its seal covers them: the Commission's own
# samples are 130-150 KiB.
MAX_CREDENTIAL_BYTES = 512 * 1024
# A Bitstring Status List has at least 131,072 entries (16 KiB), so that a verifier asking for
# the list learns nothing of which credential it checks (W3C Bitstring Status List v1.0, 6.1).
STATUS_LIST_ENTRIES = 131_072
# The multicodec prefix of an Ed25519 public key in a Multikey / did:key (0xed, varint).
_ED25519_PUB = b"\xed\x01"
# An OB3 Evidence entry by which an issuer states that the assessment was identity-verified
# (OB3 has no element of its own for it; Evidence is its place for how it was assessed).
IDENTITY_VERIFIED_EVIDENCE = "urn:credit-registry:evidence:identity-verified-assessment"
# OB3's ResultDescription.resultType for each grading scheme of the conversion table.
_RESULT_TYPES = {
    "PASS_FAIL": "Status",
    "PERCENTAGE": "Percent",
    "UK_LETTER": "LetterGrade",
    "US_LETTER": "LetterGrade",
    "US_GPA": "GradePointAverage",
}


class CredentialProblem(Exception):
    """A presented credential that cannot be taken: the refusal code and what is wrong."""

    def __init__(self, refusal: int, explanation: str) -> None:
        super().__init__(explanation)
        self.refusal = refusal
        self.explanation = explanation


# -- keys ----------------------------------------------------------------------------------


def multikey(public_key: bytes) -> str:
    """A raw Ed25519 public key as a Multikey (base58btc multibase of the multicodec key)."""
    return "z" + base58.b58encode(_ED25519_PUB + public_key).decode("ascii")


def verification_method(public_key: bytes) -> str:
    """The did:key verification method of a public key: self-describing, so any verifier
    can check the signature; the registry checks the key is the issuer's in its directory."""
    key = multikey(public_key)
    return f"did:key:{key}#{key}"


def public_key_of(method: str) -> bytes:
    """The Ed25519 public key a verification method names by its Multikey: a did:key, or a
    URL whose fragment is the Multikey (as 1EdTech's samples write it)."""
    candidate = method.rsplit("#", 1)[-1] if "#" in method else method.removeprefix("did:key:")
    if not candidate.startswith("z"):
        raise CredentialProblem(
            eq.CREDENTIAL_REFUSAL_UNKNOWN_KEY,
            f"its proof's verificationMethod '{method[:120]}' does not "
            "name an Ed25519 key (a did:key or a #z6Mk… Multikey)",
        )
    try:
        decoded = base58.b58decode(candidate[1:])
    except ValueError:
        decoded = b""
    if not decoded.startswith(_ED25519_PUB) or len(decoded) != 34:
        raise CredentialProblem(
            eq.CREDENTIAL_REFUSAL_UNKNOWN_KEY,
            f"its proof's verificationMethod '{method[:120]}' is not an Ed25519 Multikey",
        )
    return decoded[2:]


# -- Data Integrity proofs (eddsa-rdfc-2022) --------------------------------------------------


def _timestamp(when: dt.datetime) -> str:
    """An XML Schema dateTime in UTC, to the millisecond: an agent may publish two status
    lists within one second, and the later must be seen as newer."""
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _hash_data(document: dict[str, Any], proof_options: dict[str, Any]) -> bytes:
    """What eddsa-rdfc-2022 signs: SHA-256 of the canonical proof configuration (with the
    document's @context) followed by SHA-256 of the canonical document without its proof
    (W3C Data Integrity EdDSA Cryptosuites v1.0, 3.3.4)."""
    configuration = {"@context": document["@context"], **proof_options}
    return jsonld.canonical_hash(configuration) + jsonld.canonical_hash(document)


def sign(
    document: dict[str, Any], signer: Ed25519Signer, *, created: dt.datetime
) -> dict[str, Any]:
    """The document with a Data Integrity proof by the signer's key."""
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": _timestamp(created),
        "verificationMethod": verification_method(signer.public_key),
        "proofPurpose": "assertionMethod",
    }
    signature = signer.sign(_hash_data(unsigned, options))
    proof = {**options, "proofValue": "z" + base58.b58encode(signature).decode("ascii")}
    return {**unsigned, "proof": [proof]}  # a list: the OB3 schema defines proof as one


@dataclass(frozen=True)
class Proof:
    """A proof whose signature verified: by which key, when it says it was made."""

    public_key: bytes
    verification_method: str
    created: dt.datetime | None


def verify_proof(document: dict[str, Any]) -> Proof:
    """Check the document's eddsa-rdfc-2022 proof against the key its verification method
    names. CredentialProblem (BAD_SIGNATURE, UNKNOWN_KEY or MALFORMED) when it does not
    verify. Whether that key is the issuer's is the caller's question."""
    proofs = document.get("proof")
    proofs = proofs if isinstance(proofs, list) else [proofs] if proofs else []
    ours = [
        p
        for p in proofs
        if isinstance(p, dict)
        and p.get("type") == "DataIntegrityProof"
        and p.get("cryptosuite") in (CRYPTOSUITE, "eddsa-2022")
    ]
    if not ours:
        kinds = (
            ", ".join(
                sorted(
                    {
                        str(p.get("cryptosuite") or p.get("type"))
                        for p in proofs
                        if isinstance(p, dict)
                    }
                )
            )
            or "none"
        )
        raise CredentialProblem(
            eq.CREDENTIAL_REFUSAL_BAD_SIGNATURE,
            f"it has no Data Integrity proof of {CRYPTOSUITE} (proofs: "
            f"{kinds[:100]}); ask the issuer for one signed so",
        )
    proof = dict(ours[0])
    if proof.get("proofPurpose") != "assertionMethod":
        raise CredentialProblem(
            eq.CREDENTIAL_REFUSAL_BAD_SIGNATURE,
            "its proof's proofPurpose is not 'assertionMethod': it does not assert the credential",
        )
    value = str(proof.pop("proofValue", ""))
    method = str(proof.get("verificationMethod", ""))
    public_key = public_key_of(method)
    try:
        signature = base58.b58decode(value[1:]) if value.startswith("z") else b""
    except ValueError:
        signature = b""
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    try:
        data = _hash_data(unsigned, proof)
    except InvalidRecord as error:
        raise CredentialProblem(eq.CREDENTIAL_REFUSAL_MALFORMED, error.problem) from None
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        raise CredentialProblem(
            eq.CREDENTIAL_REFUSAL_BAD_SIGNATURE,
            "its proof does not match its content: it was changed after "
            "it was signed, or was not signed by the key its proof "
            "names",
        ) from None
    return Proof(public_key, method, parse_datetime(proof.get("created")))


def parse_datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# -- identifiers ---------------------------------------------------------------------------


def issuer_id(base_url: str, institution_id: str) -> str:
    return f"{base_url.rstrip('/')}/institutions/{institution_id}"


def status_list_id(base_url: str, institution_id: str, name: str = "revocation") -> str:
    return f"{base_url.rstrip('/')}/status/{institution_id}/{name}"


def _after(marker: str, uri: str, parts: int) -> tuple[str, ...] | None:
    """The path segments after marker in an id of ours (any host: the network's public
    address is a deployment's choice), percent-decoded."""
    _, found, rest = uri.partition(marker)
    segments = rest.split("#", 1)[0].split("/")
    if not found or len(segments) != parts or not all(segments):
        return None
    return tuple(unquote(s) for s in segments)


def institution_of_issuer(uri: str) -> str | None:
    found = _after("/institutions/", uri, 1)
    return found[0] if found else None


def owner_of_status_list(uri: str) -> str | None:
    """The institution of a status list id `…/status/{institution}/{name}`."""
    found = _after("/status/", uri, 2)
    return found[0] if found else None


def record_of_achievement(uri: str) -> tuple[str, str] | None:
    """(institution, key) of an achievement id `…/achievements/{institution}/{key}`."""
    found = _after("/achievements/", uri, 2)
    return (found[0], found[1]) if found else None


# -- issuing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Learner:
    """Whom a credential is issued to. The student number is written only hashed (salted
    SHA-256 as an OB3 IdentityObject of type sisSourcedId), so a credential shown to a partner
    does not carry the institution's internal identifier in clear."""

    student_id: str
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class Award:
    """What the learner achieved: the award date, the grade (scheme and value), whether the
    assessment was identity-verified."""

    award_date: dt.date
    grade: rec.Grade = field(default_factory=rec.Grade)
    identity_verified: bool = False


def _identity(kind: str, value: str) -> dict[str, Any]:
    salt = secrets.token_hex(8)
    digest = hashlib.sha256((value + salt).encode("utf-8")).hexdigest()
    return {
        "type": "IdentityObject",
        "identityType": kind,
        "hashed": True,
        "identityHash": f"sha256${digest}",
        "salt": salt,
    }


def open_badge_credential(
    achievement: dict[str, Any],
    *,
    credential_id: str,
    issuer: str,
    issuer_name: str,
    learner: Learner,
    award: Award,
    issued: dt.datetime,
    status_list: str | None = None,
    status_index: int | None = None,
    valid_until: dt.date | None = None,
) -> dict[str, Any]:
    """An unsigned OB3 OpenBadgeCredential of achievement for the learner."""
    achievement = copy.deepcopy(achievement)
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [_identity("sisSourcedId", learner.student_id)]
        + ([_identity("emailAddress", learner.email)] if learner.email else []),
        "achievement": achievement,
    }
    if award.grade.scheme:
        description = f"{achievement['id']}#grade-{award.grade.scheme}"
        achievement.setdefault("resultDescription", []).append(
            {
                "id": description,
                "type": ["ResultDescription"],
                "name": f"Grade ({award.grade.scheme})",
                "resultType": _RESULT_TYPES.get(award.grade.scheme, "Result"),
            }
        )
        subject["result"] = [
            {"type": ["Result"], "resultDescription": description, "value": award.grade.value}
        ]
    credential: dict[str, Any] = {
        "@context": [VC_V2, OB3_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": achievement.get("name", ""),
        "issuer": {"id": issuer, "type": ["Profile"], "name": issuer_name},
        "validFrom": _timestamp(issued),
        "awardedDate": f"{award.award_date.isoformat()}T00:00:00Z",
        "credentialSubject": subject,
    }
    if learner.name:
        credential["credentialSubject"]["name"] = learner.name
    if award.identity_verified:
        credential["evidence"] = [
            {
                "id": IDENTITY_VERIFIED_EVIDENCE,
                "type": ["Evidence"],
                "name": "Identity-verified assessment",
                "description": "The learner's identity was verified at the assessment.",
            }
        ]
    if valid_until is not None:
        credential["validUntil"] = f"{valid_until.isoformat()}T23:59:59Z"
    if status_list is not None and status_index is not None:
        credential["credentialStatus"] = {
            "id": f"{status_list}#{status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(status_index),
            "statusListCredential": status_list,
        }
    return credential


# -- status lists --------------------------------------------------------------------------


def encode_status_list(revoked: set[int], size: int = STATUS_LIST_ENTRIES) -> str:
    """The encodedList of a Bitstring Status List: index 0 is the first (most significant)
    bit of the first byte; GZIP, then multibase base64url without padding ('u')."""
    bits = bytearray(size // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    packed = base64.urlsafe_b64encode(gzip.compress(bytes(bits), mtime=0)).rstrip(b"=")
    return "u" + packed.decode("ascii")


def decode_status_list(encoded: str) -> bytes:
    """The bitstring of an encodedList (multibase 'u', or plain base64url as the Candidate
    Recommendation wrote it). ValueError when it is not one."""
    text = encoded[1:] if encoded.startswith("u") else encoded
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # A bomb guard: a list larger than 16 MiB of bits is not a status list.
    with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unzipped:
        bits = unzipped.read(16 * 1024 * 1024 + 1)
    if len(bits) > 16 * 1024 * 1024:
        raise ValueError("the status list is larger than 16 MiB uncompressed")
    return bits


def is_set(bits: bytes, index: int) -> bool:
    """Whether entry index of a bitstring is set; IndexError past its end."""
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(
    *, list_id: str, issuer: str, revoked: set[int], issued: dt.datetime
) -> dict[str, Any]:
    """An unsigned BitstringStatusListCredential of the revoked entries."""
    return {
        "@context": [VC_V2],
        "id": list_id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": _timestamp(issued),
        "credentialSubject": {
            "id": f"{list_id}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_status_list(revoked),
        },
    }


# -- reading a presented credential --------------------------------------------------------


@dataclass(frozen=True)
class StatusEntry:
    list_id: str
    index: int


@dataclass(frozen=True)
class Presented:
    """What a presented OB3 credential claims, read before anything is trusted."""

    document: dict[str, Any]
    credential_id: str
    issuer: str
    achievement_id: str
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    award_date: dt.date | None
    grade: rec.Grade
    identity_verified: bool
    status: StatusEntry | None


def types_of(node: Any) -> set[str]:
    value = node.get("type") if isinstance(node, dict) else None
    return (
        {value}
        if isinstance(value, str)
        else {v for v in value if isinstance(v, str)}
        if isinstance(value, list)
        else set()
    )


def _malformed(problem: str) -> CredentialProblem:
    return CredentialProblem(eq.CREDENTIAL_REFUSAL_MALFORMED, problem)


def issuer_of(document: dict[str, Any]) -> str:
    """A credential's issuer id: `issuer` is a Profile with an id, or the id itself."""
    issuer = document.get("issuer")
    return str(issuer.get("id", "") if isinstance(issuer, dict) else issuer or "")


def parse(text: str) -> dict[str, Any]:
    """A presented credential's JSON object (a wallet's {"credential": …} wrapper taken
    off). CredentialProblem (MALFORMED) when it is too large or not a JSON object."""
    if len(text.encode("utf-8")) > MAX_CREDENTIAL_BYTES:
        raise _malformed(
            f"it is larger than {MAX_CREDENTIAL_BYTES // 1024} KiB; present the "
            "credential without embedded images"
        )
    try:
        document = json.loads(text)
    except ValueError as error:
        raise _malformed(
            f"it is not JSON ({error}); send the credential's JSON text, not a JWT or a baked image"
        ) from None
    if isinstance(document, dict) and isinstance(document.get("credential"), dict):
        document = document["credential"]  # a wallet's {"credential": …} wrapper
    if not isinstance(document, dict):
        raise _malformed("it is not a JSON object")
    return document


def is_open_badge(document: dict[str, Any]) -> bool:
    kinds = types_of(document)
    return "VerifiableCredential" in kinds and bool(kinds & OB3_CREDENTIAL_TYPES)


def read_presented(text: str) -> Presented:
    """Parse a presented credential (JSON text) into what it claims. CredentialProblem
    (MALFORMED) when it is not an OB3 credential or lacks what a holding needs."""
    return presented_of(parse(text))


def presented_of(document: dict[str, Any]) -> Presented:
    """What an OB3 credential claims; CredentialProblem (MALFORMED) as read_presented."""
    if not is_open_badge(document):
        raise _malformed(
            f"its type is {sorted(types_of(document)) or 'missing'}; the registry "
            "takes Open Badges 3.0 OpenBadgeCredential or AchievementCredential"
        )
    issuer_uri = issuer_of(document)
    if not issuer_uri:
        raise _malformed("it names no issuer (issuer.id)")
    subject = document.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    if not isinstance(achievement, dict) or not isinstance(achievement.get("id"), str):
        raise _malformed("it has no credentialSubject.achievement with an id")
    assert isinstance(subject, dict)
    awarded = parse_datetime(document.get("awardedDate"))
    valid_from = parse_datetime(document.get("validFrom") or document.get("issuanceDate"))
    valid_until = parse_datetime(document.get("validUntil") or document.get("expirationDate"))
    awarded_on = awarded or valid_from
    return Presented(
        document=document,
        credential_id=str(document.get("id", "")),
        issuer=issuer_uri,
        achievement_id=achievement["id"],
        valid_from=valid_from,
        valid_until=valid_until,
        award_date=awarded_on.date() if awarded_on else None,
        grade=_grade(subject, achievement),
        identity_verified=any(
            isinstance(e, dict) and e.get("id") == IDENTITY_VERIFIED_EVIDENCE
            for e in _list(document.get("evidence"))
        ),
        status=_status(document.get("credentialStatus")),
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


def _grade(subject: dict[str, Any], achievement: dict[str, Any]) -> rec.Grade:
    """The grade a credential states: a Result whose ResultDescription is one of ours
    (`…#grade-{SCHEME}`), in the scheme it names."""
    for result in _list(subject.get("result")):
        described = result.get("resultDescription") if isinstance(result, dict) else None
        if isinstance(described, str) and "#grade-" in described:
            scheme = described.rsplit("#grade-", 1)[1]
            return rec.Grade(scheme=scheme, value=str(result.get("value", "")))
    return rec.Grade()


def _status(value: Any) -> StatusEntry | None:
    for entry in _list(value):
        if (
            isinstance(entry, dict)
            and "BitstringStatusListEntry" in types_of(entry)
            and entry.get("statusPurpose") == "revocation"
        ):
            try:
                index = int(str(entry.get("statusListIndex")))
            except ValueError:
                raise _malformed("its credentialStatus.statusListIndex is not a number") from None
            return StatusEntry(str(entry.get("statusListCredential", "")), index)
    return None


def check_dates(presented: Presented, now: dt.datetime) -> None:
    """A credential is checked as it stands when it is presented (as a verifier does): valid
    from its validFrom until its validUntil. The question's date decides the agreements and
    the credit's age, from the award date; a credential issued since, for an earlier
    award, is as good (institutions issue digital credentials for past awards)."""
    if presented.valid_from is not None and presented.valid_from > now:
        raise CredentialProblem(
            eq.CREDENTIAL_REFUSAL_NOT_YET_VALID,
            f"it is valid from {presented.valid_from:%Y-%m-%d %H:%M} UTC, later than now",
        )
    if presented.valid_until is not None and presented.valid_until < now:
        raise CredentialProblem(
            eq.CREDENTIAL_REFUSAL_EXPIRED,
            f"it expired on {presented.valid_until:%Y-%m-%d}; ask the "
            "learner for a current credential",
        )
