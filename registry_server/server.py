"""The registry's gRPC server: our services plus the standard health and reflection ones."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy import Engine

from registry.v1 import (
    directory_pb2,
    directory_pb2_grpc,
    equivalence_pb2,
    equivalence_pb2_grpc,
    publication_pb2,
    publication_pb2_grpc,
)
from registry_server import service

SERVICE_NAMES = (
    publication_pb2.DESCRIPTOR.services_by_name["PublicationService"].full_name,
    directory_pb2.DESCRIPTOR.services_by_name["DirectoryService"].full_name,
    equivalence_pb2.DESCRIPTOR.services_by_name["EquivalenceService"].full_name,
)
# Batches are about 1,000 records; this leaves room for the largest valid ones and refuses
# anything bigger with RESOURCE_EXHAUSTED before it is read.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


async def build(engine: Engine, address: str) -> tuple[grpc.aio.Server, int]:
    """A started server listening on address ("host:port", port 0 picks one); returns the
    server and its bound port."""
    server = grpc.aio.server(options=[
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ])
    publication_pb2_grpc.add_PublicationServiceServicer_to_server(
        service.PublicationService(engine), server)
    directory_pb2_grpc.add_DirectoryServiceServicer_to_server(service.DirectoryService(engine),
                                                              server)
    equivalence_pb2_grpc.add_EquivalenceServiceServicer_to_server(
        service.EquivalenceService(engine), server)

    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)

    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"could not listen on {address}; is the port in use?")
    await server.start()
    return server, port

