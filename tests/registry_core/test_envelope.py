from __future__ import annotations

import pytest

from registry_core import envelope as env
from registry_core.errors import SignatureError, UnknownKey


def test_signature_covers_the_exact_payload_bytes() -> None:
    signer = env.Ed25519Signer.generate()
    sealed = env.seal(b"payload", signer)
    keys = {signer.key_id: signer.public_key}
    assert env.verify(sealed, keys) == signer.key_id
    sealed.payload = b"payloaD"
    with pytest.raises(SignatureError, match="does not match the payload"):
        env.verify(sealed, keys)


def test_payload_type_is_authenticated_too() -> None:
    signer = env.Ed25519Signer.generate()
    sealed = env.seal(b"payload", signer)
    sealed.payload_type = "text/plain"
    with pytest.raises(SignatureError):
        env.verify(sealed, {signer.key_id: signer.public_key})


def test_unknown_key_and_missing_signature_are_told_apart() -> None:
    signer, other = env.Ed25519Signer.generate(), env.Ed25519Signer.generate()
    with pytest.raises(UnknownKey, match="not registered"):
        env.verify(env.seal(b"x", signer), {other.key_id: other.public_key})
    unsigned = env.seal(b"x", signer)
    del unsigned.signatures[:]
    with pytest.raises(SignatureError, match="no signature"):
        env.verify(unsigned, {signer.key_id: signer.public_key})


def test_key_round_trips_through_pem() -> None:
    signer = env.Ed25519Signer.generate()
    again = env.Ed25519Signer.from_pem(signer.private_pem())
    assert again.key_id == signer.key_id
    assert env.verify(env.seal(b"x", again), {signer.key_id: signer.public_key})


def test_pae_matches_the_dsse_specification() -> None:
    # The example from the DSSE protocol document.
    assert env.pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_head_chains_payloads() -> None:
    first = env.next_head("", b"a")
    assert env.next_head(first, b"b") != env.next_head("", b"b")
    assert env.next_head("", b"a") == first
