"""Mutual TLS and the authorisation matrix: every RPC, every role."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from registry.v1 import admin_pb2 as admin
from registry.v1 import (
    admin_pb2_grpc,
    audit_pb2_grpc,
    bilateral_pb2_grpc,
    directory_pb2_grpc,
    equivalence_pb2_grpc,
    publication_pb2_grpc,
)
from registry.v1 import audit_pb2 as audit
from registry.v1 import bilateral_pb2 as bi
from registry.v1 import directory_pb2 as directory
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core import credentials as vc
from registry_core.envelope import Ed25519Signer
from registry_server import identity
from registry_server import pki as pki_tool
from registry_server.publication import checkpoint
from sync_agent.client import open_channel
from tests.conftest import Network, RunningRegistry, client_tls
from tests.factories import batch, micro_credential, signed

OK = grpc.StatusCode.OK
DENIED = grpc.StatusCode.PERMISSION_DENIED
Call = Callable[[grpc.Channel, Network], object]


def publish_own(ch: grpc.Channel, net: Network) -> object:
    envelope = signed(batch("uk.ac.forth", [micro_credential()]), net.signers["uk.ac.forth"])
    return publication_pb2_grpc.PublicationServiceStub(ch).Publish(
        pub.PublishRequest(envelope=envelope), timeout=10
    )


def checkpoint_of_forth(ch: grpc.Channel, net: Network) -> object:
    return publication_pb2_grpc.PublicationServiceStub(ch).GetCheckpoint(
        pub.GetCheckpointRequest(institution_id="uk.ac.forth"), timeout=10
    )


def publish_status_list_of_forth(ch: grpc.Channel, net: Network) -> object:
    listed = vc.status_list_credential(
        list_id=vc.status_list_id("https://r.example", "uk.ac.forth"),
        issuer=vc.issuer_id("https://r.example", "uk.ac.forth"),
        revoked=set(),
        issued=dt.datetime.now(dt.UTC),
    )
    signed_list = vc.sign(listed, net.signers["uk.ac.forth"], created=dt.datetime.now(dt.UTC))
    return publication_pb2_grpc.PublicationServiceStub(ch).PublishStatusList(
        pub.PublishStatusListRequest(status_list_credential=json.dumps(signed_list)), timeout=10
    )


def status_list_of_forth(ch: grpc.Channel, net: Network) -> object:
    return admitted(
        lambda: directory_pb2_grpc.DirectoryServiceStub(ch).GetStatusList(
            directory.GetStatusListRequest(
                id=vc.status_list_id("https://r.example", "uk.ac.forth")
            ),
            timeout=10,
        ),
        grpc.StatusCode.NOT_FOUND,
    )


def list_institutions(ch: grpc.Channel, net: Network) -> object:
    return directory_pb2_grpc.DirectoryServiceStub(ch).ListInstitutions(
        directory.ListInstitutionsRequest(), timeout=10
    )


def resolve(ch: grpc.Channel, net: Network) -> object:
    return equivalence_pb2_grpc.EquivalenceServiceStub(ch).ResolveTransfer(
        eq.ResolveTransferRequest(
            holdings=[
                eq.Holding(
                    credential=rec.CredentialRef(institution_id="uk.ac.forth", key="MC1"),
                    award_date="2025-01-01",
                )
            ],
            target_institution_id="uk.ac.taff",
        ),
        timeout=10,
    )


def list_equivalents(ch: grpc.Channel, net: Network) -> object:
    return equivalence_pb2_grpc.EquivalenceServiceStub(ch).ListEquivalents(
        eq.ListEquivalentsRequest(
            credential=rec.CredentialRef(institution_id="uk.ac.forth", key="MC1")
        ),
        timeout=10,
    )


def list_sources(ch: grpc.Channel, net: Network) -> object:
    return equivalence_pb2_grpc.EquivalenceServiceStub(ch).ListSources(
        eq.ListSourcesRequest(unit=rec.CredentialRef(institution_id="uk.ac.taff", key="M")),
        timeout=10,
    )


def evaluate_pathway(ch: grpc.Channel, net: Network) -> object:
    try:
        return equivalence_pb2_grpc.EquivalenceServiceStub(ch).EvaluatePathway(
            eq.EvaluatePathwayRequest(
                qualification=rec.CredentialRef(institution_id="uk.ac.taff", key="NONE")
            ),
            timeout=10,
        )
    except grpc.RpcError as error:  # admitted, then: no such qualification
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise


def list_conflicts(ch: grpc.Channel, net: Network) -> object:
    return equivalence_pb2_grpc.EquivalenceServiceStub(ch).ListConflicts(
        eq.ListConflictsRequest(institution_id="uk.ac.taff"), timeout=10
    )


def record_proof(ch: grpc.Channel, net: Network) -> object:
    try:
        return audit_pb2_grpc.AuditServiceStub(ch).GetRecordProof(
            audit.GetRecordProofRequest(
                institution_id="uk.ac.taff", kind=rec.RECORD_KIND_AGREEMENT, key="NONE"
            ),
            timeout=10,
        )
    except grpc.RpcError as error:  # admitted, then: no such record
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise


def log_entries(ch: grpc.Channel, net: Network) -> object:
    return audit_pb2_grpc.AuditServiceStub(ch).ListLogEntries(
        audit.ListLogEntriesRequest(), timeout=10
    )


def reflection(ch: grpc.Channel, net: Network) -> object:
    stub: Any = reflection_pb2_grpc.ServerReflectionStub(ch)  # its stubs' types name no methods
    return list(
        stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10
        )
    )


def admitted(call: Callable[[], object], *codes: grpc.StatusCode) -> object:
    """The call's result, or None when it was admitted and then refused for its content."""
    try:
        return call()
    except grpc.RpcError as error:
        if error.code() in codes:
            return None
        raise


def bilateral_act(ch: grpc.Channel, net: Network) -> object:
    stub = bilateral_pb2_grpc.BilateralServiceStub(ch)
    return admitted(
        lambda: stub.Act(
            bi.ActRequest(
                step=pub.SignedEnvelope(
                    payload_type="application/vnd.credit-registry.bilateral-step.v1+protobuf",
                    payload=b"x",
                )
            ),
            timeout=10,
        ),
        grpc.StatusCode.UNAUTHENTICATED,
    )


def bilateral_events_of_forth(ch: grpc.Channel, net: Network) -> object:
    return bilateral_pb2_grpc.BilateralServiceStub(ch).ListBilateralEvents(
        bi.ListBilateralEventsRequest(institution_id="uk.ac.forth"), timeout=10
    )


def bilateral_agreement(ch: grpc.Channel, net: Network) -> object:
    stub = bilateral_pb2_grpc.BilateralServiceStub(ch)
    return admitted(
        lambda: stub.GetBilateralAgreement(
            bi.GetBilateralAgreementRequest(agreement_id="uk.ac.taff/NONE"), timeout=10
        ),
        grpc.StatusCode.NOT_FOUND,
    )


def enrol(ch: grpc.Channel, net: Network) -> object:
    return admin_pb2_grpc.AdminServiceStub(ch).EnrolInstitution(
        admin.EnrolInstitutionRequest(
            institution_id="uk.ac.new",
            name="New College",
            country="GB",
            public_key=Ed25519Signer.generate().public_key,
        ),
        timeout=10,
    )


def suspend_lagan(ch: grpc.Channel, net: Network) -> object:
    return admin_pb2_grpc.AdminServiceStub(ch).SetInstitutionStatus(
        admin.SetInstitutionStatusRequest(
            institution_id="uk.ac.lagan",
            reason="audit",
            status=directory.INSTITUTION_STATUS_SUSPENDED,
        ),
        timeout=10,
    )


def rotate_lagan(ch: grpc.Channel, net: Network) -> object:
    return admin_pb2_grpc.AdminServiceStub(ch).RotateKey(
        admin.RotateKeyRequest(
            institution_id="uk.ac.lagan", public_key=Ed25519Signer.generate().public_key
        ),
        timeout=10,
    )


def revoke_lagan(ch: grpc.Channel, net: Network) -> object:
    return admin_pb2_grpc.AdminServiceStub(ch).RevokeKey(
        admin.RevokeKeyRequest(
            institution_id="uk.ac.lagan", key_id=net.signers["uk.ac.lagan"].key_id, reason="lost"
        ),
        timeout=10,
    )


def revoke_a_certificate(ch: grpc.Channel, net: Network) -> object:
    """Serial 1: no certificate of the test network's CA (theirs are random)."""
    return admin_pb2_grpc.AdminServiceStub(ch).RevokeCertificate(
        admin.RevokeCertificateRequest(serial="0x01", reason="leaked"), timeout=10
    )


def revoked_certificates(ch: grpc.Channel, net: Network) -> object:
    return admin_pb2_grpc.AdminServiceStub(ch).ListRevokedCertificates(
        admin.ListRevokedCertificatesRequest(), timeout=10
    )


def health(ch: grpc.Channel, net: Network) -> object:
    stub: Any = health_pb2_grpc.HealthStub(ch)  # its stubs' types name no methods
    return stub.Check(health_pb2.HealthCheckRequest(), timeout=10)


# Rows: RPC. Columns: the institution itself (forth), another institution (taff), a partner,
# the operator.
MATRIX: list[tuple[Call, tuple[grpc.StatusCode, ...]]] = [
    (publish_own, (OK, DENIED, DENIED, DENIED)),
    (checkpoint_of_forth, (OK, DENIED, DENIED, DENIED)),
    (publish_status_list_of_forth, (OK, DENIED, DENIED, DENIED)),
    (status_list_of_forth, (OK, OK, OK, OK)),
    (list_institutions, (OK, OK, OK, OK)),
    (resolve, (OK, OK, OK, OK)),
    (list_equivalents, (OK, OK, OK, OK)),
    (list_sources, (OK, OK, OK, OK)),
    (evaluate_pathway, (OK, OK, OK, OK)),
    (list_conflicts, (OK, OK, OK, OK)),
    (record_proof, (OK, OK, OK, OK)),
    (log_entries, (OK, OK, OK, OK)),
    (reflection, (OK, OK, OK, OK)),
    (bilateral_act, (OK, OK, DENIED, DENIED)),
    (bilateral_events_of_forth, (OK, DENIED, DENIED, DENIED)),
    (bilateral_agreement, (OK, OK, OK, OK)),
    (enrol, (DENIED, DENIED, DENIED, OK)),
    (suspend_lagan, (DENIED, DENIED, DENIED, OK)),
    (rotate_lagan, (DENIED, DENIED, DENIED, OK)),
    (revoke_lagan, (DENIED, DENIED, DENIED, OK)),
    (revoke_a_certificate, (DENIED, DENIED, DENIED, OK)),
    (revoked_certificates, (DENIED, DENIED, DENIED, OK)),
    (health, (OK, OK, OK, OK)),
]
ROLES = ("institution-uk.ac.forth", "institution-uk.ac.taff", "partner-ucas", "operator-alice")


def outcome(call: Call, channel: grpc.Channel, network: Network) -> grpc.StatusCode:
    try:
        call(channel, network)
    except grpc.RpcError as error:
        return error.code()
    return OK


@pytest.mark.parametrize("column", range(len(ROLES)), ids=ROLES)
def test_authorisation_matrix(
    network: Network, tls_registry: RunningRegistry, pki: Path, column: int
) -> None:
    with open_channel(tls_registry.address, client_tls(pki, ROLES[column])) as channel:
        got = {call.__name__: outcome(call, channel, network) for call, _ in MATRIX}
    want = {call.__name__: codes[column] for call, codes in MATRIX}
    assert got == want


@pytest.mark.parametrize(
    ("stem", "rogue"),
    [(None, False), ("institution-uk.ac.forth", True)],
    ids=["no certificate", "certificate of another CA"],
)
def test_clients_without_a_network_certificate_are_refused(
    network: Network, tls_registry: RunningRegistry, pki: Path, stem: str | None, rogue: bool
) -> None:
    tls = client_tls(pki, stem, pki / "rogue" if rogue else None)
    with open_channel(tls_registry.address, tls) as channel:
        for call, _ in MATRIX:
            assert outcome(call, channel, network) == grpc.StatusCode.UNAVAILABLE, call.__name__
    assert publication_state(network) == 0


def test_plaintext_client_cannot_talk_to_a_tls_registry(
    network: Network, tls_registry: RunningRegistry
) -> None:
    with grpc.insecure_channel(tls_registry.address) as channel:
        assert outcome(list_institutions, channel, network) == grpc.StatusCode.UNAVAILABLE


def test_institution_cannot_publish_a_batch_signed_by_another(
    network: Network, tls_registry: RunningRegistry, pki: Path
) -> None:
    """Taff relays Forth's genuinely signed batch: refused, because the connection is Taff's."""
    with open_channel(tls_registry.address, client_tls(pki, "institution-uk.ac.taff")) as ch:
        with pytest.raises(grpc.RpcError) as caught:
            publish_own(ch, network)
    assert caught.value.code() == DENIED
    assert "connection is uk.ac.taff's" in (caught.value.details() or "")
    assert publication_state(network) == 0


def two_role_certificate(pki: Path) -> str:
    """A certificate from the network's CA naming an institution and an operator."""
    stem = "two-roles"
    if not (pki / f"{stem}.pem").exists():
        pki_tool._issue(
            pki,
            stem,
            "uk.ac.forth",
            [
                x509.UniformResourceIdentifier(f"{pki_tool.URN_PREFIX}institution:uk.ac.forth"),
                x509.UniformResourceIdentifier(f"{pki_tool.URN_PREFIX}operator:alice"),
            ],
            ExtendedKeyUsageOID.CLIENT_AUTH,
            30,
        )
    return stem


def test_a_certificate_naming_two_roles_is_refused_for_every_call(
    network: Network, tls_registry: RunningRegistry, pki: Path
) -> None:
    """Neither role wins: not the first (an institution publishing), not the second (an
    operator enrolling)."""
    with open_channel(tls_registry.address, client_tls(pki, two_role_certificate(pki))) as ch:
        for call in (publish_own, enrol, list_institutions):
            with pytest.raises(grpc.RpcError) as caught:
                call(ch, network)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED, call.__name__
            details = caught.value.details() or ""
            assert "names 2 roles" in details and "exactly one" in details, details
    assert publication_state(network) == 0


def test_a_certificate_naming_its_one_role_twice_is_that_role() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    uri = f"{pki_tool.URN_PREFIX}partner:ucas"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ucas")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier(uri), x509.UniformResourceIdentifier(uri)]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    assert identity._caller_in(cert.public_bytes(serialization.Encoding.PEM)) == identity.Caller(
        "partner", "ucas"
    )


def publication_state(network: Network) -> int:
    return checkpoint(network.engine, "uk.ac.forth").last_seq


COVERS = {
    "publish_own": "registry.v1.PublicationService.Publish",
    "checkpoint_of_forth": "registry.v1.PublicationService.GetCheckpoint",
    "list_institutions": "registry.v1.DirectoryService.ListInstitutions",
    "resolve": "registry.v1.EquivalenceService.ResolveTransfer",
    "list_equivalents": "registry.v1.EquivalenceService.ListEquivalents",
    "list_sources": "registry.v1.EquivalenceService.ListSources",
    "evaluate_pathway": "registry.v1.EquivalenceService.EvaluatePathway",
    "list_conflicts": "registry.v1.EquivalenceService.ListConflicts",
    "publish_status_list_of_forth": "registry.v1.PublicationService.PublishStatusList",
    "status_list_of_forth": "registry.v1.DirectoryService.GetStatusList",
    "record_proof": "registry.v1.AuditService.GetRecordProof",
    "log_entries": "registry.v1.AuditService.ListLogEntries",
    "enrol": "registry.v1.AdminService.EnrolInstitution",
    "suspend_lagan": "registry.v1.AdminService.SetInstitutionStatus",
    "rotate_lagan": "registry.v1.AdminService.RotateKey",
    "revoke_lagan": "registry.v1.AdminService.RevokeKey",
    "revoke_a_certificate": "registry.v1.AdminService.RevokeCertificate",
    "revoked_certificates": "registry.v1.AdminService.ListRevokedCertificates",
    "bilateral_act": "registry.v1.BilateralService.Act",
    "bilateral_events_of_forth": "registry.v1.BilateralService.ListBilateralEvents",
    "bilateral_agreement": "registry.v1.BilateralService.GetBilateralAgreement",
}


def test_matrix_covers_every_rpc_of_the_contract() -> None:
    from registry.v1 import (
        admin_pb2,
        audit_pb2,
        bilateral_pb2,
        directory_pb2,
        equivalence_pb2,
        publication_pb2,
    )

    rpcs = {
        m.full_name
        for module in (
            admin_pb2,
            audit_pb2,
            bilateral_pb2,
            directory_pb2,
            equivalence_pb2,
            publication_pb2,
        )
        for service in module.DESCRIPTOR.services_by_name.values()
        for m in service.methods
    }
    assert rpcs == set(COVERS.values())
    assert set(COVERS) <= {call.__name__ for call, _ in MATRIX}


def test_every_call_is_authorised_for_its_own_caller(
    network: Network, tls_registry: RunningRegistry, pki: Path
) -> None:
    """The interceptors build each method's handler once; the caller is still judged on
    every call. One registry, every role in turn, each role twice, in both orders: each call
    is let in or refused by its own role, whoever called the method before. (A call let in
    twice may answer differently the second time, such as enrolling the same institution:
    what is compared is whether it was refused.)"""
    order = list(range(len(ROLES))) + list(reversed(range(len(ROLES))))
    for column in order:
        with open_channel(tls_registry.address, client_tls(pki, ROLES[column])) as channel:
            refused = {
                call.__name__: outcome(call, channel, network) == DENIED for call, _ in MATRIX
            }
        assert refused == {call.__name__: codes[column] == DENIED for call, codes in MATRIX}, ROLES[
            column
        ]
