"""The electronic seal on a European Digital Credential (Europass, ELM v3): JAdES, a JSON Web
Signature (JSON serialisation) whose protected header carries the sealing certificate
(`x5c`) and the signing time (`sigT`), over the credential as an unencoded payload
(RFC 7797, `b64` false).

What can be checked offline is: the signature over the credential's exact bytes against the
certificate's public key, and that the certificate was valid when the seal was made. What
cannot: whether the certificate is a qualified seal on the EU trusted lists (that needs the
lists, fetched), its revocation (OCSP or CRL, fetched), and the qualified timestamp token.
The caller says so. Hand-written on `cryptography` because the European Commission's own
signed samples write `"b64": "False"` (a string, not JSON's false), which general JOSE
libraries refuse.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from registry.v1 import equivalence_pb2 as eq
from registry_core.credentials import CredentialProblem, parse_datetime

_HASHES: dict[str, hashes.HashAlgorithm] = {
    "256": hashes.SHA256(),
    "384": hashes.SHA384(),
    "512": hashes.SHA512(),
}


def is_jades(document: dict[str, Any]) -> bool:
    return isinstance(document.get("payload"), str) and isinstance(document.get("signatures"), list)


@dataclass(frozen=True)
class Seal:
    """A seal whose signature verified."""

    certificate: str  # the sealing certificate's subject
    algorithm: str
    signed_at: dt.datetime | None
    payload: dict[str, Any]


def _bytes(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _refused(problem: str) -> CredentialProblem:
    return CredentialProblem(eq.CREDENTIAL_REFUSAL_BAD_SIGNATURE, problem)


def verify(document: dict[str, Any]) -> Seal:
    """Check the first signature of a JAdES-sealed credential. CredentialProblem
    (BAD_SIGNATURE) when it does not verify, MALFORMED when it is not a JAdES seal."""
    signatures: list[Any] = document["signatures"]
    try:
        signature = signatures[0]
        protected_text = str(signature["protected"])
        header = json.loads(_bytes(protected_text))
        signed = _bytes(str(signature["signature"]))
        certificate = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    except (TypeError, KeyError, IndexError, ValueError, binascii.Error):
        raise CredentialProblem(
            eq.CREDENTIAL_REFUSAL_MALFORMED,
            "its JAdES seal has no readable protected header with a "
            "certificate (x5c) and signature",
        ) from None
    algorithm = str(header.get("alg", ""))
    unencoded = str(header.get("b64", True)).lower() == "false"
    payload = str(document["payload"])
    body = (
        payload
        if unencoded
        else base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")
    )
    data = f"{protected_text}.{body}".encode()
    key = certificate.public_key()
    digest = _HASHES.get(algorithm[2:])
    try:
        if algorithm.startswith("RS") and digest and isinstance(key, rsa.RSAPublicKey):
            key.verify(signed, data, padding.PKCS1v15(), digest)
        elif algorithm.startswith("PS") and digest and isinstance(key, rsa.RSAPublicKey):
            key.verify(signed, data, padding.PSS(padding.MGF1(digest), digest.digest_size), digest)
        elif algorithm.startswith("ES") and digest and isinstance(key, ec.EllipticCurvePublicKey):
            half = len(signed) // 2  # JOSE writes r and s side by side, not DER
            key.verify(
                encode_dss_signature(int.from_bytes(signed[:half]), int.from_bytes(signed[half:])),
                data,
                ec.ECDSA(digest),
            )
        else:
            raise _refused(
                f"its seal's algorithm {algorithm or '(none)'} with a "
                f"{type(key).__name__} certificate is not one the registry checks "
                "(RS, PS or ES with SHA-2)"
            )
    except InvalidSignature:
        raise _refused(
            "its seal does not match its content: it was changed after it was sealed"
        ) from None
    signed_at = parse_datetime(header.get("sigT"))
    if signed_at is not None and not (
        certificate.not_valid_before_utc <= signed_at <= certificate.not_valid_after_utc
    ):
        raise _refused(
            f"it was sealed on {signed_at:%Y-%m-%d}, outside its certificate's "
            f"validity ({certificate.not_valid_before_utc:%Y-%m-%d} to "
            f"{certificate.not_valid_after_utc:%Y-%m-%d})"
        )
    try:
        credential = json.loads(payload)
    except ValueError:
        raise CredentialProblem(
            eq.CREDENTIAL_REFUSAL_MALFORMED, "its sealed payload is not JSON"
        ) from None
    return Seal(
        certificate.subject.rfc4514_string(),
        algorithm,
        signed_at,
        credential if isinstance(credential, dict) else {},
    )
