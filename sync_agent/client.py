"""The agent's connection to the registry: one channel, reused for every call.

`Registry` is what the agent's sync and the registrar's app ask of a registry;
`RegistryClient` is it over gRPC. A test double (tests/in_memory_registry.py) is it in
process, without a transport."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Self

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from registry.v1 import bilateral_pb2 as bi
from registry.v1 import (
    bilateral_pb2_grpc,
    directory_pb2_grpc,
    equivalence_pb2_grpc,
    publication_pb2_grpc,
)
from registry.v1 import directory_pb2 as directory
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core.logs import REQUEST_ID_HEADER

CALL_TIMEOUT_SECONDS = 30.0
PROBE_SECONDS = 3.0  # a health check's time limit: an answer on a working network is instant
# gRPC waits longer and longer between attempts to reconnect a channel (up to two minutes by
# default) and fails calls at once meanwhile; capped, a registry back after a long restart
# is noticed within this long.
RECONNECT_MAX_SECONDS = 30.0
_CHANNEL_OPTIONS = [("grpc.max_reconnect_backoff_ms", int(RECONNECT_MAX_SECONDS * 1000))]


@dataclass(frozen=True)
class ClientTLS:
    """PEM bytes of the network's CA and of this client's certificate and key."""

    ca: bytes
    certificate: bytes
    private_key: bytes

    @classmethod
    def from_files(cls, ca: Path, certificate: Path, private_key: Path) -> ClientTLS:
        return cls(ca.read_bytes(), certificate.read_bytes(), private_key.read_bytes())


def open_channel(address: str, tls: ClientTLS | None) -> grpc.Channel:
    """A channel to the registry: mutual TLS when tls is given, plaintext otherwise."""
    if tls is None:
        return grpc.insecure_channel(address, options=_CHANNEL_OPTIONS)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=tls.ca, private_key=tls.private_key, certificate_chain=tls.certificate
    )
    return grpc.secure_channel(address, credentials, options=_CHANNEL_OPTIONS)


class Pending(Protocol):
    """A publication sent and not yet answered."""

    def result(self) -> pub.PublishResponse: ...

    def wait(self) -> None: ...


class Registry(Protocol):
    """The calls to a registry the agent and the registrar's app make; a refusal raises
    grpc.RpcError (its code(), details() and trailing_metadata() as the registry sent
    them)."""

    address: str
    uses_tls: bool
    request_id: str

    def __enter__(self) -> Self: ...

    def __exit__(self, *_: object) -> None: ...

    def serving(self) -> bool: ...

    def checkpoint(self, institution_id: str) -> pub.GetCheckpointResponse: ...

    def publish_async(self, envelope: pub.SignedEnvelope) -> Pending: ...

    def publish_status_list(self, credential: str) -> pub.PublishStatusListResponse: ...

    def resolve_transfer(
        self, request: eq.ResolveTransferRequest
    ) -> eq.ResolveTransferResponse: ...

    def sources(self, institution_id: str, unit_key: str) -> list[rec.RecognitionAgreement]: ...

    def conflicts(self, institution_id: str) -> list[eq.Conflict]: ...

    def institutions(self) -> list[directory.Institution]: ...

    def act(self, step: pub.SignedEnvelope) -> bi.ActResponse: ...

    def bilateral_events(self, institution_id: str, after: int) -> list[bi.BilateralEvent]: ...


class PendingPublication:
    """A Publish call in flight."""

    def __init__(self, call: grpc.Future[Any]) -> None:
        self.call = call

    def result(self) -> pub.PublishResponse:
        """The answer (acknowledgement and warnings), once the registry gives it; raises
        grpc.RpcError if it refuses the batch or cannot be reached."""
        return self.call.result()  # type: ignore[no-any-return]

    def wait(self) -> None:
        """Until the call has ended, whatever its outcome."""
        self.call.exception()


class RegistryClient:
    """Typed calls to the registry's services over one gRPC channel."""

    def __init__(self, address: str, tls: ClientTLS | None = None) -> None:
        self.address = address
        self.uses_tls = tls is not None
        # Sent with every call, so the registry's log lines for a sync carry the agent's id.
        self.request_id = ""
        self.channel = open_channel(address, tls)
        self.publication = publication_pb2_grpc.PublicationServiceStub(self.channel)
        self.equivalence = equivalence_pb2_grpc.EquivalenceServiceStub(self.channel)
        self.bilateral = bilateral_pb2_grpc.BilateralServiceStub(self.channel)
        self.directory = directory_pb2_grpc.DirectoryServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def serving(self) -> bool:
        """Whether the registry answers and serves (grpc.health.v1): false while it drains or
        its database is down. Raises grpc.RpcError when it cannot be reached."""
        stub: Any = health_pb2_grpc.HealthStub(self.channel)  # its stubs' types name no methods
        answer = stub.Check(health_pb2.HealthCheckRequest(), timeout=PROBE_SECONDS)
        return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)

    def checkpoint(self, institution_id: str) -> pub.GetCheckpointResponse:
        return self.publication.GetCheckpoint(  # type: ignore[no-any-return]
            pub.GetCheckpointRequest(institution_id=institution_id),
            timeout=CALL_TIMEOUT_SECONDS,
            metadata=self._metadata(),
        )

    def publish_async(self, envelope: pub.SignedEnvelope) -> PendingPublication:
        """Send a batch without waiting for its acknowledgement."""
        return PendingPublication(
            self.publication.Publish.future(
                pub.PublishRequest(envelope=envelope),
                timeout=CALL_TIMEOUT_SECONDS,
                metadata=self._metadata(),
            )
        )

    def publish_status_list(self, credential: str) -> pub.PublishStatusListResponse:
        return self.publication.PublishStatusList(  # type: ignore[no-any-return]
            pub.PublishStatusListRequest(status_list_credential=credential),
            timeout=CALL_TIMEOUT_SECONDS,
            metadata=self._metadata(),
        )

    def resolve_transfer(self, request: eq.ResolveTransferRequest) -> eq.ResolveTransferResponse:
        return self.equivalence.ResolveTransfer(  # type: ignore[no-any-return]
            request, timeout=CALL_TIMEOUT_SECONDS, metadata=self._metadata()
        )

    def sources(self, institution_id: str, unit_key: str) -> list[rec.RecognitionAgreement]:
        """Reverse look-up: every active agreement that grants this unit, every page."""
        found: list[rec.RecognitionAgreement] = []
        token = ""
        while True:
            page = self.equivalence.ListSources(
                eq.ListSourcesRequest(
                    unit=rec.CredentialRef(institution_id=institution_id, key=unit_key),
                    page_size=1000,
                    page_token=token,
                ),
                timeout=CALL_TIMEOUT_SECONDS,
                metadata=self._metadata(),
            )
            found += [e.agreement for e in page.equivalences]
            token = page.next_page_token
            if not token:
                return found

    def conflicts(self, institution_id: str) -> list[eq.Conflict]:
        """The agreements of one publisher that disagree about the same source, every page."""
        found: list[eq.Conflict] = []
        token = ""
        while True:
            page = self.equivalence.ListConflicts(
                eq.ListConflictsRequest(
                    institution_id=institution_id, page_size=1000, page_token=token
                ),
                timeout=CALL_TIMEOUT_SECONDS,
                metadata=self._metadata(),
            )
            found += page.conflicts
            token = page.next_page_token
            if not token:
                return found

    def institutions(self) -> list[directory.Institution]:
        """The network's directory, every page."""
        found: list[directory.Institution] = []
        token = ""
        while True:
            page = self.directory.ListInstitutions(
                directory.ListInstitutionsRequest(page_size=1000, page_token=token),
                timeout=CALL_TIMEOUT_SECONDS,
                metadata=self._metadata(),
            )
            found += page.institutions
            token = page.next_page_token
            if not token:
                return found

    def act(self, step: pub.SignedEnvelope) -> bi.ActResponse:
        """Take one signed step on a bilateral agreement."""
        answer: bi.ActResponse = self.bilateral.Act(
            bi.ActRequest(step=step), timeout=CALL_TIMEOUT_SECONDS, metadata=self._metadata()
        )
        return answer

    def bilateral_events(self, institution_id: str, after: int) -> list[bi.BilateralEvent]:
        """Every step on the institution's bilateral agreements after a cursor."""
        events: list[bi.BilateralEvent] = []
        while True:
            page = self.bilateral.ListBilateralEvents(
                bi.ListBilateralEventsRequest(
                    institution_id=institution_id, after_event_id=after, page_size=1000
                ),
                timeout=CALL_TIMEOUT_SECONDS,
                metadata=self._metadata(),
            )
            events += page.events
            after = page.next_after_event_id
            if not after:
                return events

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        return ((REQUEST_ID_HEADER, self.request_id),) if self.request_id else ()
