"""The agent's connection to the registry: one channel, reused for every call."""

from __future__ import annotations

import grpc

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import equivalence_pb2_grpc
from registry.v1 import publication_pb2 as pub
from registry.v1 import publication_pb2_grpc

CALL_TIMEOUT_SECONDS = 30.0


class RegistryClient:
    """Typed calls to the registry's services over one gRPC channel."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.channel = grpc.insecure_channel(address)
        self.publication = publication_pb2_grpc.PublicationServiceStub(self.channel)
        self.equivalence = equivalence_pb2_grpc.EquivalenceServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def checkpoint(self, institution_id: str) -> pub.GetCheckpointResponse:
        return self.publication.GetCheckpoint(  # type: ignore[no-any-return]
            pub.GetCheckpointRequest(institution_id=institution_id),
            timeout=CALL_TIMEOUT_SECONDS)

    def publish(self, envelope: pub.SignedEnvelope) -> pub.Acknowledgement:
        response = self.publication.Publish(pub.PublishRequest(envelope=envelope),
                                            timeout=CALL_TIMEOUT_SECONDS)
        return response.acknowledgement  # type: ignore[no-any-return]

    def resolve_transfer(self, request: eq.ResolveTransferRequest) -> eq.ResolveTransferResponse:
        return self.equivalence.ResolveTransfer(  # type: ignore[no-any-return]
            request, timeout=CALL_TIMEOUT_SECONDS)
