"""A registry in the test's own process, without a transport: the registry's own servicers
(registry_server.service) called directly on a database, as a development registry (no TLS)
answers them. It is a `sync_agent.client.Registry`, so the registrar's app and the agent's
sync run against it unchanged, and most TUI tests need no server or port; a refusal is raised
as gRPC would raise it (code, details, trailing metadata). A few end-to-end tests keep the
real registry over gRPC (tests/tui/test_workflows.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Self, TypeVar

import grpc
from google.protobuf.message import Message
from sqlalchemy import Engine

from registry.v1 import bilateral_pb2 as bi
from registry.v1 import directory_pb2 as directory
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_server import service
from registry_server.fairness import Admission
from registry_server.identity import DEVELOPMENT, Caller, caller

M = TypeVar("M", bound=Message)
T = TypeVar("T")


class Refused(grpc.RpcError):
    """A call the in-process registry refused, as a client of the real one sees it."""

    def __init__(
        self, code: grpc.StatusCode, details: str, trailers: Sequence[tuple[str, Any]]
    ) -> None:
        super().__init__(details)
        self._code, self._details, self._trailers = code, details, tuple(trailers)

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> Any:  # grpc types it as its own metadata tuples
        return self._trailers


class _Context:
    """The part of grpc.aio's servicer context the registry's servicers use."""

    def __init__(self) -> None:
        self.trailers: Sequence[tuple[str, Any]] = ()

    def time_remaining(self) -> float | None:
        return None

    def set_trailing_metadata(self, trailers: Sequence[tuple[str, Any]]) -> None:
        self.trailers = trailers

    def peer(self) -> str:
        return "in-process"

    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise Refused(code, details, self.trailers)


class _Answered:
    """A publication already answered (the in-process registry answers at once)."""

    def __init__(self, answer: Callable[[], pub.PublishResponse]) -> None:
        try:
            self._response: pub.PublishResponse | None = answer()
            self._error: grpc.RpcError | None = None
        except grpc.RpcError as error:
            self._response, self._error = None, error

    def result(self) -> pub.PublishResponse:
        if self._error is not None:
            raise self._error
        assert self._response is not None
        return self._response

    def wait(self) -> None:
        pass


class InMemoryRegistry:
    """The registry's servicers on engine, called in process. `up = False` makes every call
    fail as an unreachable registry's does (UNAVAILABLE), for the offline paths."""

    address = "in-process"
    uses_tls = False

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.request_id = ""
        self.up = True
        calls = service.DatabaseCalls(on_loop=True)
        self.publication = service.PublicationService(engine, calls=calls)
        self.directory = service.DirectoryService(engine, calls)
        self.bilateral = service.BilateralService(engine, calls)
        self.equivalence = service.EquivalenceService(engine, Admission(1), calls)
        self.calls: list[str] = []  # the methods called, in order, for tests to read

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def _call(self, method: str, work: Callable[[Any], Awaitable[T]]) -> T:
        """work's answer, given a servicer context (Any: the servicers are typed for grpc's
        own), as the development caller; a refusal raises Refused."""
        self.calls.append(method)
        if not self.up:
            raise Refused(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses", ())

        async def run() -> T:
            caller.set(Caller(DEVELOPMENT, ""))
            return await work(_Context())

        return asyncio.run(run())

    def _ask(self, method: str, request: Message, answer: type[M]) -> M:
        handler = self.equivalence._answering(method)
        question = request.SerializeToString()
        return answer.FromString(self._call(method, lambda context: handler(question, context)))

    # --- sync_agent.client.Registry ---------------------------------------------------------

    def serving(self) -> bool:
        if not self.up:
            raise Refused(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses", ())
        return True

    def checkpoint(self, institution_id: str) -> pub.GetCheckpointResponse:
        request = pub.GetCheckpointRequest(institution_id=institution_id)
        return self._call("GetCheckpoint", lambda c: self.publication.GetCheckpoint(request, c))

    def publish_async(self, envelope: pub.SignedEnvelope) -> _Answered:
        request = pub.PublishRequest(envelope=envelope)
        return _Answered(
            lambda: self._call("Publish", lambda c: self.publication.Publish(request, c))
        )

    def publish_status_list(self, credential: str) -> pub.PublishStatusListResponse:
        request = pub.PublishStatusListRequest(status_list_credential=credential)
        return self._call(
            "PublishStatusList", lambda c: self.publication.PublishStatusList(request, c)
        )

    def resolve_transfer(self, request: eq.ResolveTransferRequest) -> eq.ResolveTransferResponse:
        return self._ask("ResolveTransfer", request, eq.ResolveTransferResponse)

    def sources(self, institution_id: str, unit_key: str) -> list[rec.RecognitionAgreement]:
        request = eq.ListSourcesRequest(
            unit=rec.CredentialRef(institution_id=institution_id, key=unit_key), page_size=1000
        )
        page = self._ask("ListSources", request, eq.ListSourcesResponse)
        return [e.agreement for e in page.equivalences]

    def conflicts(self, institution_id: str) -> list[eq.Conflict]:
        request = eq.ListConflictsRequest(institution_id=institution_id, page_size=1000)
        return list(self._ask("ListConflicts", request, eq.ListConflictsResponse).conflicts)

    def institutions(self) -> list[directory.Institution]:
        request = directory.ListInstitutionsRequest(page_size=1000)
        page = self._call("ListInstitutions", lambda c: self.directory.ListInstitutions(request, c))
        return list(page.institutions)

    def act(self, step: pub.SignedEnvelope) -> bi.ActResponse:
        request = bi.ActRequest(step=step)
        return self._call("Act", lambda c: self.bilateral.Act(request, c))

    def bilateral_events(self, institution_id: str, after: int) -> list[bi.BilateralEvent]:
        request = bi.ListBilateralEventsRequest(
            institution_id=institution_id, after_event_id=after, page_size=1000
        )
        page = self._call(
            "ListBilateralEvents", lambda c: self.bilateral.ListBilateralEvents(request, c)
        )
        return list(page.events)
