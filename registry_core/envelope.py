"""Signed envelopes (DSSE) and the hash chain of an institution's publications.

A batch travels as exact payload bytes inside an envelope; signatures cover the DSSE
pre-authentication encoding PAE(payload_type, payload). Verification checks those bytes and
only then does anyone parse them: nothing is ever re-serialised to be verified.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.v1 import publication_pb2 as pub
from registry_core.errors import MalformedPayload, SignatureError, UnknownKey

BATCH_PAYLOAD_TYPE = "application/vnd.credit-registry.batch.v1+protobuf"

# What one envelope may carry, checked before any signature is looked up or verified: an
# institution signs with one key, two while it rotates; the rest is room for co-signers.
# Unbounded, 60,000 signatures (7 MB) took 20 s to refuse while other publications waited.
MAX_SIGNATURES = 32
MAX_KEY_ID_CHARS = 64  # a directory key id is 32 hex characters
MAX_SIGNATURE_BYTES = 64  # an Ed25519 signature is 64 bytes
# The signed payload's size: an agent splits its batches to stay below it (about 1,000
# records of a catalogue are 0.3–1 MB), and every logged envelope then fits in one page of
# ListLogEntries that a client with gRPC's default 4 MiB limit reads (registry_server.paging).
MAX_PAYLOAD_BYTES = 3 * 1024 * 1024


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def key_id(public_key: bytes) -> str:
    """The directory's id for a raw Ed25519 public key."""
    return hashlib.sha256(public_key).hexdigest()[:32]


def next_head(prev_head: str, payload: bytes) -> str:
    """The institution's head after a batch: it chains every payload the registry accepted."""
    digest = hashlib.sha256(prev_head.encode("ascii") + b"\n")
    digest.update(payload)  # not concatenated: a batch's payload is a few hundred KB
    return digest.hexdigest()


class Signer(Protocol):
    """Anything that signs bytes with a key the directory knows by key_id."""

    @property
    def key_id(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


class Ed25519Signer:
    """A Signer holding an Ed25519 private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = key_id(self.public_key)

    @classmethod
    def generate(cls) -> Ed25519Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes) -> Ed25519Signer:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise SignatureError("the key file does not hold an Ed25519 private key")
        return cls(key)

    @classmethod
    def from_file(cls, path: Path) -> Ed25519Signer:
        return cls.from_pem(path.read_bytes())

    def private_pem(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)


def seal(
    payload: bytes, signer: Signer, payload_type: str = BATCH_PAYLOAD_TYPE
) -> pub.SignedEnvelope:
    """An envelope carrying payload, signed by signer."""
    signature = pub.Signature(key_id=signer.key_id, sig=signer.sign(pae(payload_type, payload)))
    return pub.SignedEnvelope(payload_type=payload_type, payload=payload, signatures=[signature])


@dataclass(frozen=True)
class VerificationResult:
    """Which key ids signed validly, and why the others did not."""

    valid_key_ids: tuple[str, ...]
    unknown_key_ids: tuple[str, ...]
    failed_key_ids: tuple[str, ...]

    @property
    def verified(self) -> bool:
        return bool(self.valid_key_ids)


def check_bounds(envelope: pub.SignedEnvelope) -> None:
    """Refuse (MalformedPayload) an envelope carrying more signatures, or longer key ids or
    signatures, than MAX_SIGNATURES, MAX_KEY_ID_CHARS and MAX_SIGNATURE_BYTES. Cheap: run it
    before anything looks a key up or verifies a signature. A payload over
    MAX_PAYLOAD_BYTES is refused too."""
    if len(envelope.payload) > MAX_PAYLOAD_BYTES:
        raise MalformedPayload(
            f"field 'payload' is {len(envelope.payload):,} bytes; at most "
            f"{MAX_PAYLOAD_BYTES:,} are allowed: send the changes in smaller batches (the "
            "sync agent does)"
        )
    count = len(envelope.signatures)
    if count > MAX_SIGNATURES:
        raise MalformedPayload(
            f"field 'signatures': the envelope carries {count} signatures; at most "
            f"{MAX_SIGNATURES} are allowed: sign with the institution's current key only"
        )
    for index, signature in enumerate(envelope.signatures):
        if len(signature.key_id) > MAX_KEY_ID_CHARS:
            raise MalformedPayload(
                f"field 'signatures[{index}].key_id' is {len(signature.key_id)} characters; at "
                f"most {MAX_KEY_ID_CHARS} are allowed: use the key id the directory gives"
            )
        if len(signature.sig) > MAX_SIGNATURE_BYTES:
            raise MalformedPayload(
                f"field 'signatures[{index}].sig' is {len(signature.sig)} bytes; at most "
                f"{MAX_SIGNATURE_BYTES} are allowed (an Ed25519 signature)"
            )


def signing_key_ids(envelope: pub.SignedEnvelope) -> list[str]:
    """The distinct key ids envelope's signatures name, in order (look these up, once each)."""
    return list(dict.fromkeys(signature.key_id for signature in envelope.signatures))


def check_signatures(
    envelope: pub.SignedEnvelope, keys: Mapping[str, bytes], *, first_valid: bool = False
) -> VerificationResult:
    """Check the signatures of envelope against keys (key id -> raw public key), each matched
    to its key by its key id, whatever its position: one with a key id not in keys is only
    noted, never verified. first_valid: stop at the first valid signature."""
    message = pae(envelope.payload_type, envelope.payload)
    valid: list[str] = []
    unknown: list[str] = []
    failed: list[str] = []
    for signature in envelope.signatures:
        raw = keys.get(signature.key_id)
        if raw is None:
            unknown.append(signature.key_id)
            continue
        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(signature.sig, message)
        except (InvalidSignature, ValueError):
            failed.append(signature.key_id)
        else:
            valid.append(signature.key_id)
            if first_valid:
                break
    return VerificationResult(tuple(valid), tuple(unknown), tuple(failed))


def verify(envelope: pub.SignedEnvelope, keys: Mapping[str, bytes]) -> str:
    """The key id of a valid signature, or SignatureError / UnknownKey saying why not."""
    result = check_signatures(envelope, keys, first_valid=True)
    if result.verified:
        return result.valid_key_ids[0]
    if not envelope.signatures:
        raise SignatureError(
            "the envelope carries no signature; sign the batch with the institution's key"
        )
    if result.failed_key_ids:
        raise SignatureError(
            f"signature by key {result.failed_key_ids[0]} does not match the "
            "payload; the batch was altered or signed with another key"
        )
    raise UnknownKey(
        f"key {result.unknown_key_ids[0][:40]} is not registered for this "
        "institution; ask the network operator to enrol it"
    )
