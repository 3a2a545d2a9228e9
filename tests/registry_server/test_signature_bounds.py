"""Signed envelopes are bounded before any signature is verified, signatures are matched to
directory keys by key id, and a batch applied before is acknowledged again after its key was
retired by a rotation."""

from __future__ import annotations

import os
from collections.abc import Iterator

import grpc
import pytest

from registry.v1 import publication_pb2 as pub
from registry.v1 import publication_pb2_grpc
from registry_core import envelope as env
from registry_core import errors
from registry_core.envelope import Ed25519Signer
from registry_server import bilateral, directory, publication
from tests.conftest import Network, RunningRegistry, registry_state
from tests.factories import batch, micro_credential, signed


def junk_signature() -> pub.Signature:
    """A signature by a key id the directory does not hold."""
    return pub.Signature(key_id=os.urandom(16).hex(), sig=os.urandom(64))


def with_signatures_before(
    envelope: pub.SignedEnvelope, extra: list[pub.Signature]
) -> pub.SignedEnvelope:
    out = pub.SignedEnvelope()
    out.CopyFrom(envelope)
    del out.signatures[:]
    out.signatures.extend([*extra, *envelope.signatures])
    return out


def forth_batch(network: Network) -> pub.SignedEnvelope:
    return signed(batch("uk.ac.forth", [micro_credential()]), network.signers["uk.ac.forth"])


def publish_over_grpc(
    registry: RunningRegistry, envelope: pub.SignedEnvelope
) -> pub.PublishResponse:
    with grpc.insecure_channel(registry.address) as ch:
        response: pub.PublishResponse = publication_pb2_grpc.PublicationServiceStub(ch).Publish(
            pub.PublishRequest(envelope=envelope), timeout=20
        )
    return response


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Each signature check in this process, as whether it ran on the serialised path (with
    the log's lock held, where it holds every other publication)."""
    seen: list[bool] = []
    serialised = [False]
    check, lock, publish = env.check_signatures, publication._lock_log, publication.publish

    def counted(*args: object, **kwargs: object) -> env.VerificationResult:
        seen.append(serialised[0])
        return check(*args, **kwargs)  # type: ignore[arg-type]

    def locked(*args: object) -> None:
        serialised[0] = True
        lock(*args)  # type: ignore[arg-type]

    def publishing(*args: object, **kwargs: object) -> pub.Acknowledgement:
        try:
            return publish(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            serialised[0] = False

    monkeypatch.setattr(env, "check_signatures", counted)
    monkeypatch.setattr(publication, "_lock_log", locked)
    monkeypatch.setattr(publication, "publish", publishing)
    yield seen


def test_too_many_signatures_are_refused_over_grpc_naming_the_limit_before_any_is_verified(
    network: Network, registry: RunningRegistry, verifications: list[bool]
) -> None:
    before = registry_state(network.engine)
    flood = with_signatures_before(
        forth_batch(network), [junk_signature() for _ in range(env.MAX_SIGNATURES)]
    )
    with pytest.raises(grpc.RpcError) as refused:
        publish_over_grpc(registry, flood)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"at most {env.MAX_SIGNATURES}" in str(refused.value.details())
    assert "'signatures'" in str(refused.value.details())
    assert verifications == []
    assert registry_state(network.engine) == before


def test_too_many_signatures_are_refused_by_acceptance_itself(network: Network) -> None:
    flood = with_signatures_before(
        forth_batch(network), [junk_signature() for _ in range(env.MAX_SIGNATURES)]
    )
    with pytest.raises(errors.MalformedPayload, match="at most 32"):
        publication.publish(network.engine, flood)


@pytest.mark.parametrize(
    ("field", "signature"),
    [
        ("signatures[0].key_id", pub.Signature(key_id="a" * 65, sig=b"x" * 64)),
        ("signatures[0].sig", pub.Signature(key_id="a" * 32, sig=b"x" * 65)),
    ],
)
def test_an_oversized_key_id_or_signature_is_refused_naming_the_field(
    network: Network,
    registry: RunningRegistry,
    verifications: list[bool],
    field: str,
    signature: pub.Signature,
) -> None:
    envelope = with_signatures_before(forth_batch(network), [signature])
    with pytest.raises(grpc.RpcError) as refused:
        publish_over_grpc(registry, envelope)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"field '{field}'" in str(refused.value.details())
    assert "at most" in str(refused.value.details())
    assert verifications == []


def test_a_publication_is_verified_once_and_not_on_the_serialised_path(
    network: Network, registry: RunningRegistry, verifications: list[bool]
) -> None:
    publish_over_grpc(registry, forth_batch(network))
    assert verifications == [False]


def test_a_bad_signature_is_refused_without_taking_the_serialised_path(
    network: Network, registry: RunningRegistry, verifications: list[bool]
) -> None:
    envelope = forth_batch(network)
    envelope.signatures[0].sig = bytes(64)
    with pytest.raises(grpc.RpcError) as refused:
        publish_over_grpc(registry, envelope)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert verifications == [False]


def test_a_valid_signature_after_sixteen_unknown_key_ids_is_accepted(
    network: Network, registry: RunningRegistry
) -> None:
    envelope = with_signatures_before(forth_batch(network), [junk_signature() for _ in range(16)])
    ack = publish_over_grpc(registry, envelope).acknowledgement
    assert (ack.institution_id, ack.last_seq) == ("uk.ac.forth", 1)


def test_signatures_with_unknown_key_ids_are_not_verified() -> None:
    signer = Ed25519Signer.generate()
    sealed = env.seal(b"payload", signer)
    envelope = with_signatures_before(sealed, [junk_signature() for _ in range(5)])
    result = env.check_signatures(envelope, {signer.key_id: signer.public_key})
    assert result.valid_key_ids == (signer.key_id,)
    assert len(result.unknown_key_ids) == 5 and result.failed_key_ids == ()
    assert env.verify(envelope, {signer.key_id: signer.public_key}) == signer.key_id


def test_a_bilateral_step_with_too_many_signatures_is_refused_naming_the_limit(
    network: Network,
) -> None:
    envelope = pub.SignedEnvelope(
        payload_type=bilateral.STEP_PAYLOAD_TYPE,
        payload=b"step",
        signatures=[junk_signature() for _ in range(env.MAX_SIGNATURES + 1)],
    )
    with pytest.raises(errors.MalformedPayload, match=f"at most {env.MAX_SIGNATURES}"):
        bilateral.act(network.engine, envelope)


def test_a_replay_after_its_key_was_retired_gets_the_original_acknowledgement(
    network: Network,
) -> None:
    envelope = forth_batch(network)
    ack = publication.publish(network.engine, envelope)
    directory.rotate_key(network.engine, "uk.ac.forth", Ed25519Signer.generate().public_key)
    before = registry_state(network.engine)
    assert publication.publish(network.engine, envelope) == ack
    assert registry_state(network.engine) == before


def test_a_new_batch_signed_by_a_retired_key_is_still_refused(network: Network) -> None:
    old = network.signers["uk.ac.forth"]
    ack = publication.publish(
        network.engine, signed(batch("uk.ac.forth", [micro_credential()]), old)
    )
    directory.rotate_key(network.engine, "uk.ac.forth", Ed25519Signer.generate().public_key)
    later = batch("uk.ac.forth", [micro_credential(key="MC9")], first_seq=2, prev_head=ack.head)
    with pytest.raises(errors.KeyNotActive, match="retired"):
        publication.publish(network.engine, signed(later, old))


def test_a_replay_after_its_key_was_revoked_is_refused(network: Network) -> None:
    signer = network.signers["uk.ac.forth"]
    envelope = forth_batch(network)
    publication.publish(network.engine, envelope)
    directory.rotate_key(network.engine, "uk.ac.forth", Ed25519Signer.generate().public_key)
    directory.revoke_key(network.engine, "uk.ac.forth", signer.key_id, "compromised")
    with pytest.raises(errors.KeyNotActive):
        publication.publish(network.engine, envelope)
