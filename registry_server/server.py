"""The registry's gRPC server: our services plus the standard health and reflection ones."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy import Engine

from registry.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    audit_pb2,
    audit_pb2_grpc,
    bilateral_pb2,
    bilateral_pb2_grpc,
    directory_pb2,
    directory_pb2_grpc,
    equivalence_pb2,
    publication_pb2,
    publication_pb2_grpc,
)
from registry_server import service
from registry_server.applying import ApplyWorker
from registry_server.fairness import Admission, Lane
from registry_server.health import Health, database_probe
from registry_server.identity import AuthorisationInterceptor
from registry_server.observability import Metrics, ObservabilityInterceptor
from registry_server.queries import QueryWorkers
from registry_server.record_checks import RecordChecks
from registry_server.revocation import RevokedSerials
from registry_server.tls import ServerCertificates
from registry_server.volume import VolumeRule

SERVICE_NAMES = (
    publication_pb2.DESCRIPTOR.services_by_name["PublicationService"].full_name,
    directory_pb2.DESCRIPTOR.services_by_name["DirectoryService"].full_name,
    admin_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name,
    audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name,
    bilateral_pb2.DESCRIPTOR.services_by_name["BilateralService"].full_name,
    equivalence_pb2.DESCRIPTOR.services_by_name["EquivalenceService"].full_name,
)
# Batches are about 1,000 records; this leaves room for the largest valid ones and refuses
# anything bigger with RESOURCE_EXHAUSTED before it is read.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


class CannotListen(OSError):
    """The registry's address could not be bound; says which and what to do."""


async def build(
    engine: Engine,
    address: str,
    tls: ServerCertificates | None = None,
    metrics: Metrics | None = None,
    database_on_loop: bool = False,
    record_checks: RecordChecks | None = None,
    query_workers: QueryWorkers | None = None,
    volume: VolumeRule = VolumeRule(),
    health_status: Health | None = None,
    admission: Admission | None = None,
    apply_worker: ApplyWorker | None = None,
) -> tuple[grpc.aio.Server, int]:
    """A started server listening on address ("host:port", port 0 picks one); returns the
    server and its bound port. Without tls it serves plaintext, for one machine only.
    database_on_loop: run storage calls on the event loop instead of its thread pool (see
    service.DatabaseCalls). volume: the network's volume settings for micro-credentials.
    health_status: what the health service reports (by default a Health probing engine;
    the caller keeps it to drain and stop it). admission: who may ask partners' questions
    now (fairness; by default one costly question per query worker). apply_worker: applies
    the batches record_checks passed (registry_server.applying)."""
    metrics = metrics or Metrics(engine)
    metrics.watch(
        tls.in_use if tls else None,
        [pool for pool in (record_checks, query_workers, apply_worker) if pool is not None],
    )
    calls = service.DatabaseCalls(on_loop=database_on_loop)
    # Outermost first: every call gets its request id and is measured, refused ones included.
    revoked = RevokedSerials(engine, on_loop=database_on_loop) if tls is not None else None
    interceptors = [
        ObservabilityInterceptor(metrics),
        AuthorisationInterceptor(tls is not None, revoked),
    ]
    server = grpc.aio.server(
        interceptors=interceptors,
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            # A second registry on a port in use must fail to bind, not share the port (gRPC
            # sets SO_REUSEPORT by default, and the kernel would split the calls between them).
            ("grpc.so_reuseport", 0),
        ],
    )
    publication_pb2_grpc.add_PublicationServiceServicer_to_server(
        service.PublicationService(engine, metrics, calls, record_checks, volume, apply_worker),
        server,
    )
    directory_pb2_grpc.add_DirectoryServiceServicer_to_server(
        service.DirectoryService(engine, calls), server
    )
    admission = admission or Admission(
        len(query_workers.workers) if query_workers is not None else 1
    )
    admission.on_wait = lambda lane, waited: metrics.query_wait_seconds.labels(lane.value).observe(
        waited
    )
    for lane in Lane:
        metrics.query_queue_depth.labels(lane.value).set_function(
            lambda lane=lane: admission.lanes[lane].waiting  # type: ignore[misc]
        )
    server.add_generic_rpc_handlers(
        (service.EquivalenceService(engine, admission, calls, query_workers).handler(),)
    )
    admin_pb2_grpc.add_AdminServiceServicer_to_server(
        service.AdminService(engine, calls, revoked), server
    )
    audit_pb2_grpc.add_AuditServiceServicer_to_server(service.AuditService(engine, calls), server)
    bilateral_pb2_grpc.add_BilateralServiceServicer_to_server(
        service.BilateralService(engine, calls), server
    )

    health_status = health_status or Health(database_probe(engine), SERVICE_NAMES)
    health_status.on_change = lambda up: metrics.database_up.set(1 if up else 0)
    health_pb2_grpc.add_HealthServicer_to_server(health_status.servicer, server)
    await health_status.start()
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )

    try:
        if tls is None:
            port = server.add_insecure_port(address)
        else:
            port = server.add_secure_port(address, tls.credentials())
    except RuntimeError:  # gRPC's "Failed to bind to address"
        port = 0
    if port == 0:
        raise CannotListen(
            f"cannot listen on {address}: the port is in use (another "
            "registry?) or the address is not this machine's; stop the other "
            "process or choose another port with --listen"
        )
    await server.start()
    return server, port
