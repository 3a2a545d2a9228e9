"""Record rules checked in a worker process, and what acceptance does with its answer."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from registry.v1 import publication_pb2 as pub
from registry_core.envelope import Ed25519Signer
from registry_core.errors import InvalidRecord, KeyNotActive, UnknownKey
from registry_core.records import CheckedChange
from registry_server import acceptance, directory, publication, record_checks
from registry_server.acceptance import payload_digest
from registry_server.db import writing
from registry_server.publication import TransactionState
from registry_server.record_checks import RecordChecks
from tests.conftest import Network
from tests.factories import agreement, batch, micro_credential, signed


def ask(
    envelopes: list[pub.SignedEnvelope], keys: dict[str, bytes], kill_first: bool = False
) -> list[str | None]:
    """The worker's answer for each envelope, from one worker process."""

    async def run() -> list[str | None]:
        checks = await RecordChecks.start(1)
        try:
            if kill_first:
                os.kill(checks.workers[0].process.pid, signal.SIGKILL)
                await checks.workers[0].process.wait()
            answers = [await checks.check(e, keys) for e in envelopes]
            return [a.decoded().payload_sha256 if a else None for a in answers]
        finally:
            await checks.close()

    return asyncio.run(run())


def one_valid_batch() -> tuple[dict[str, bytes], pub.SignedEnvelope]:
    """A signer's directory keys, and a batch it signed whose one record is valid."""
    signer = Ed25519Signer.generate()
    return (
        {signer.key_id: signer.public_key},
        signed(batch("uk.ac.forth", [micro_credential(key="MC1")]), signer),
    )


def test_a_worker_passes_valid_records_and_nothing_else() -> None:
    signer = Ed25519Signer.generate()
    keys = {signer.key_id: signer.public_key}
    good = signed(batch("uk.ac.forth", [micro_credential(key="MC1")]), signer)
    bad_record = signed(batch("uk.ac.forth", [micro_credential(key="MC1", country="UK")]), signer)
    foreign = signed(batch("uk.ac.forth", [micro_credential("uk.ac.taff")]), signer)
    forged = pub.SignedEnvelope()
    forged.CopyFrom(good)
    forged.signatures[0].sig = Ed25519Signer.generate().sign(b"other")
    malformed = pub.SignedEnvelope(
        payload_type=good.payload_type, payload=b"\xff\xff", signatures=good.signatures
    )
    answers = ask([good, bad_record, foreign, forged, malformed], keys)
    assert answers == [payload_digest(good.payload), None, None, None, None]


def test_a_dead_worker_is_replaced_and_its_batch_checked_in_process() -> None:
    keys, envelope = one_valid_batch()
    assert ask([envelope, envelope], keys, kill_first=True) == [
        None,
        payload_digest(envelope.payload),
    ]


def test_acceptance_trusts_a_worker_only_for_the_bytes_it_checked(network: Network) -> None:
    """A worker's answer stands in for the record rules of those exact bytes only; for any
    other payload (here one with an invalid record) the rules run and refuse it."""
    forth = network.signers["uk.ac.forth"]
    valid = signed(batch("uk.ac.forth", [micro_credential(key="MC1")]), forth)
    invalid = signed(batch("uk.ac.forth", [micro_credential(key="MC1", country="UK")]), forth)
    keys = {forth.key_id: forth.public_key}
    checked = record_checks.check(valid.SerializeToString(), keys)
    assert checked is not None and record_checks.check(invalid.SerializeToString(), keys) is None
    with writing(network.engine) as connection:
        publication._lock_log(connection)
        with pytest.raises(InvalidRecord, match="country"):
            acceptance.accept(invalid, TransactionState(connection), checked_elsewhere=checked)
    ack = publication.publish(network.engine, valid, checked_elsewhere=checked)
    assert ack.records_applied == 1


def test_a_worker_vouches_for_the_signature_only_with_a_key_the_directory_holds(
    network: Network,
) -> None:
    """The worker was given a key the directory does not hold (as if removed meanwhile):
    acceptance then verifies the signature itself against the directory, and refuses."""
    stranger = Ed25519Signer.generate()
    envelope = signed(batch("uk.ac.forth", [micro_credential(key="MC1")]), stranger)
    checked = record_checks.check(
        envelope.SerializeToString(), {stranger.key_id: stranger.public_key}
    )
    assert checked is not None
    with pytest.raises(UnknownKey), writing(network.engine) as connection:
        acceptance.accept(envelope, TransactionState(connection), checked_elsewhere=checked)


def test_a_key_revoked_after_the_worker_checked_signs_nothing(network: Network) -> None:
    forth = network.signers["uk.ac.forth"]
    envelope = signed(batch("uk.ac.forth", [micro_credential(key="MC1")]), forth)
    checked = record_checks.check(envelope.SerializeToString(), {forth.key_id: forth.public_key})
    assert checked is not None
    directory.revoke_key(network.engine, "uk.ac.forth", forth.key_id, "lost laptop")
    with pytest.raises(KeyNotActive):
        publication.publish(network.engine, envelope, checked_elsewhere=checked)


def test_a_worker_refuses_a_badly_framed_batch_so_acceptance_names_the_fault() -> None:
    signer = Ed25519Signer.generate()
    gapped = batch("uk.ac.forth", [micro_credential(key="MC1"), micro_credential(key="MC2")])
    gapped.changes[1].seq = 3
    envelope = signed(gapped, signer)
    assert (
        record_checks.check(envelope.SerializeToString(), {signer.key_id: signer.public_key})
        is None
    )


def test_a_worker_answer_survives_the_pipe() -> None:
    signer = Ed25519Signer.generate()
    envelope = signed(
        batch(
            "uk.ac.forth",
            [
                micro_credential(key="MC1"),
                agreement("uk.ac.forth", sources=[("uk.ac.taff", "MC9")]),
            ],
        ),
        signer,
    )
    checked = record_checks.check(envelope.SerializeToString(), {signer.key_id: signer.public_key})
    assert checked is not None
    again = record_checks.decode(record_checks._encode(checked))
    assert again is not None
    assert again.payload_sha256 == checked.payload_sha256
    assert again.key_id == signer.key_id
    assert again.header == acceptance.BatchHeader("uk.ac.forth", 1, 2, "", 2)
    assert [CheckedChange(*c) for c in again.changes] == list(checked.changes)
    assert CheckedChange(*again.changes[1]).edges, "an agreement carries its index rows"


def test_a_stuck_worker_is_stopped_and_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that stops answering (here: paused) is killed after ANSWER_SECONDS; the batch
    is then checked in the registry's process, and the next goes to a new worker."""
    monkeypatch.setattr(record_checks, "ANSWER_SECONDS", 1)
    keys, envelope = one_valid_batch()

    async def run() -> list[str | None]:
        checks = await RecordChecks.start(1)
        try:
            stuck = checks.workers[0].process
            os.kill(stuck.pid, signal.SIGSTOP)
            first = await checks.check(envelope, keys)
            await stuck.wait()
            second = await checks.check(envelope, keys)  # notices, replaces, checks in process
            third = await checks.check(envelope, keys)
            assert checks.workers[0].process is not stuck
            return [a.decoded().payload_sha256 if a else None for a in (first, second, third)]
        finally:
            await checks.close()

    assert asyncio.run(run()) == [None, None, payload_digest(envelope.payload)]


def test_a_replacement_that_cannot_start_leaves_the_checks_in_process(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker that dies while its replacement cannot start (here: a module that fails on
    import) costs ingest nothing but speed: batches are checked in the registry's process,
    and the replacement is tried again later, not on every batch."""
    keys, envelope = one_valid_batch()

    async def run() -> list[str | None]:
        checks = await RecordChecks.start(1)
        try:
            os.kill(checks.workers[0].process.pid, signal.SIGKILL)
            await checks.workers[0].process.wait()
            monkeypatch.setattr(RecordChecks, "MODULE", "registry_server.no_such_module")
            answers = [await checks.check(envelope, keys) for _ in range(3)]
            return [a.decoded().payload_sha256 if a else None for a in answers]
        finally:
            await checks.close()

    assert asyncio.run(run()) == [None, None, None]
    tries = [r for r in caplog.records if "ended before it was ready" in r.getMessage()]
    assert len(tries) == 1, "one failed start, then no retry within RESPAWN_SECONDS"
