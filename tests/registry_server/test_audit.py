"""The audit log: receipts, proofs a partner checks with public keys only, and log verify."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from sqlalchemy import Engine, select, update

from registry.v1 import audit_pb2 as audit
from registry.v1 import audit_pb2_grpc, directory_pb2_grpc, equivalence_pb2_grpc
from registry.v1 import directory_pb2 as directory
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core import errors
from registry_core.envelope import Ed25519Signer
from registry_core.proof import ProofError, verify_record
from registry_server import audit as audit_store
from registry_server import directory as directory_store
from registry_server import publication
from registry_server.db import make_engine, upgrade
from registry_server.sql import table
from registry_server.tables import BatchLogEntry, PublishedRecord
from tests.conftest import Network
from tests.factories import agreement, batch, micro_credential, module, signed


def populate(network: Network) -> None:
    forth, taff = network.signers["uk.ac.forth"], network.signers["uk.ac.taff"]
    a1 = publication.publish(
        network.engine, signed(batch("uk.ac.forth", [micro_credential()]), forth)
    )
    publication.publish(network.engine, signed(batch("uk.ac.taff", [module(), agreement()]), taff))
    publication.publish(
        network.engine,
        signed(
            batch(
                "uk.ac.forth",
                [micro_credential(version=2, title="Second edition")],
                first_seq=2,
                prev_head=a1.head,
            ),
            forth,
        ),
    )


def test_clean_log_verifies(network: Network) -> None:
    populate(network)
    report = audit_store.verify_log(network.engine)
    assert report.ok, report.problems
    assert (report.entries, report.records_checked) == (3, 3)


def test_tampered_record_is_found(network: Network) -> None:
    populate(network)
    forged = micro_credential(version=2, title="Forged by the operator")
    r = table(PublishedRecord)
    with network.engine.begin() as c:
        c.execute(
            update(r)
            .where(r.c.key == "MC1")
            .values(payload=forged.SerializeToString(deterministic=True))
        )
    report = audit_store.verify_log(network.engine)
    assert report.problems == [
        "MicroCredential uk.ac.forth/MC1: stored content differs from what was signed"
    ]


def test_tampered_log_entry_is_found(network: Network) -> None:
    populate(network)
    log = table(BatchLogEntry)
    with network.engine.begin() as c:
        c.execute(update(log).where(log.c.log_index == 2).values(log_head="0" * 64))
    assert any(
        "log index 2: log head" in p for p in audit_store.verify_log(network.engine).problems
    )


def test_partner_verifies_an_answer_with_public_keys_only(
    network: Network, channel: grpc.Channel
) -> None:
    populate(network)
    keys = {
        k.key_id: k.public_key
        for i in directory_pb2_grpc.DirectoryServiceStub(channel)
        .ListInstitutions(directory.ListInstitutionsRequest())
        .institutions
        if i.institution_id == "uk.ac.taff"
        for k in i.keys
    }
    [found] = (
        equivalence_pb2_grpc.EquivalenceServiceStub(channel)
        .ListEquivalents(
            eq.ListEquivalentsRequest(
                credential=rec.CredentialRef(institution_id="uk.ac.forth", key="MC1")
            )
        )
        .equivalences
    )
    proof = (
        audit_pb2_grpc.AuditServiceStub(channel)
        .GetRecordProof(
            audit.GetRecordProofRequest(
                institution_id="uk.ac.taff", kind=rec.RECORD_KIND_AGREEMENT, key="AG1"
            )
        )
        .proof
    )
    assert verify_record(proof, found.agreement, keys).institution_id == "uk.ac.taff"
    altered = rec.RecognitionAgreement()
    altered.CopyFrom(found.agreement)
    altered.grant.unit_key = "SOMETHING-ELSE"
    with pytest.raises(ProofError, match="differs from what uk.ac.taff signed"):
        verify_record(proof, altered, keys)
    other_keys = {network.signers["uk.ac.forth"].key_id: network.signers["uk.ac.forth"].public_key}
    with pytest.raises(errors.UnknownKey):
        verify_record(proof, found.agreement, other_keys)


def test_revoked_key_signs_nothing_new_but_old_records_stay_verifiable(network: Network) -> None:
    populate(network)
    old_key = network.signers["uk.ac.forth"]
    directory_store.revoke_key(network.engine, "uk.ac.forth", old_key.key_id, "laptop stolen")
    head = publication.checkpoint(network.engine, "uk.ac.forth").head
    with pytest.raises(errors.KeyNotActive, match="revoked or retired"):
        publication.publish(
            network.engine,
            signed(
                batch("uk.ac.forth", [micro_credential(key="NEW")], first_seq=3, prev_head=head),
                old_key,
            ),
        )
    assert audit_store.verify_log(network.engine).ok
    proof = audit_store.record_proof(
        network.engine, "uk.ac.forth", rec.RECORD_KIND_MICRO_CREDENTIAL, "MC1"
    )
    verify_record(
        proof,
        micro_credential(version=2, title="Second edition"),
        {old_key.key_id: old_key.public_key},
    )
    new_key = Ed25519Signer.generate()
    directory_store.rotate_key(network.engine, "uk.ac.forth", new_key.public_key)
    ack = publication.publish(
        network.engine,
        signed(
            batch("uk.ac.forth", [micro_credential(key="NEW")], first_seq=3, prev_head=head),
            new_key,
        ),
    )
    assert ack.last_seq == 3
    assert audit_store.verify_log(network.engine).ok


def test_suspended_institution_cannot_publish_until_reinstated(network: Network) -> None:
    directory_store.set_status(
        network.engine, "uk.ac.lagan", directory.INSTITUTION_STATUS_SUSPENDED, "unpaid fees"
    )
    envelope = signed(
        batch("uk.ac.lagan", [micro_credential("uk.ac.lagan")]), network.signers["uk.ac.lagan"]
    )
    with pytest.raises(errors.InstitutionNotActive, match="reinstate"):
        publication.publish(network.engine, envelope)
    directory_store.set_status(
        network.engine, "uk.ac.lagan", directory.INSTITUTION_STATUS_ACTIVE, "paid"
    )
    assert publication.publish(network.engine, envelope).last_seq == 1


def test_log_verify_command(sqlite_engine: Engine) -> None:
    network = Network(sqlite_engine)
    for institution in ("uk.ac.forth", "uk.ac.taff"):
        network.enrol(institution)
    populate(network)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-m", "registry_server.cli", "--database-url", url, "log", "verify"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "3 log entries and 3 records checked: all verified" in done.stdout
    assert "alembic" not in done.stderr, "a routine command says nothing of migrations"
    r = table(PublishedRecord)
    with sqlite_engine.begin() as c:
        c.execute(
            update(r).where(r.c.key == "AG1").values(status=rec.RECORD_STATUS_WITHDRAWN, version=9)
        )
    done = subprocess.run(
        [sys.executable, "-m", "registry_server.cli", "--database-url", url, "log", "verify"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert "PROBLEM RecognitionAgreement uk.ac.taff/AG1" in done.stdout


def test_a_damaged_entry_is_named_and_the_entries_after_it_are_still_checked(
    network: Network,
) -> None:
    """An envelope whose first byte is 0xFF (not a message) crashed `log verify` with a
    DecodeError, and nothing after it was checked."""
    populate(network)
    log = table(BatchLogEntry)
    with network.engine.begin() as c:
        stored = c.execute(select(log.c.envelope).where(log.c.log_index == 1)).scalar_one()
        c.execute(
            update(log).where(log.c.log_index == 1).values(envelope=b"\xff" + bytes(stored)[1:])
        )
        c.execute(update(log).where(log.c.log_index == 3).values(log_head="0" * 64))
    problems = audit_store.verify_log(network.engine).problems
    assert any(
        p.startswith("log index 1: its stored envelope is not a signed envelope") for p in problems
    ), problems
    assert any("log index 3: log head" in p for p in problems), problems


def test_a_damaged_database_page_is_found_by_the_databases_own_check(tmp_path: Path) -> None:
    """A page that no log entry reads (here an index's) passed `log verify` before."""
    path = tmp_path / "registry.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    network = Network(engine)
    for institution in ("uk.ac.forth", "uk.ac.taff"):
        network.enrol(institution)
    populate(network)
    assert audit_store.verify_log(engine).ok
    with engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = int(c.exec_driver_sql("PRAGMA page_size").scalar_one())
        root = int(
            c.exec_driver_sql(
                "SELECT rootpage FROM sqlite_master WHERE type = 'index' AND "
                "tbl_name = 'published_record' LIMIT 1"
            ).scalar_one()
        )
    engine.dispose()
    with path.open("r+b") as database:  # garble the index's root page header
        database.seek((root - 1) * page_size)
        database.write(b"\xa5" * 16)
    damaged = make_engine(f"sqlite:///{path}")
    problems = audit_store.verify_log(damaged).problems
    damaged.dispose()
    assert any(p.startswith("database integrity") for p in problems), problems
