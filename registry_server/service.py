"""gRPC servicers: unpack the request, call the domain in a worker thread (storage is
synchronous), pack the answer. Errors leave through the status table in status.py."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

import grpc
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

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
from registry_core.errors import RegistryError
from registry_core.records import INSTITUTION_ID
from registry_server import audit as audit_store
from registry_server import bilateral as bilateral_store
from registry_server import directory as directory_store
from registry_server import equivalence, failpoints, publication
from registry_server.identity import caller
from registry_server.observability import Metrics, refusal
from registry_server.record_checks import RecordChecks
from registry_server.status import status_of, trailers_of

log = logging.getLogger(__name__)
T = TypeVar("T")


# SQLite reports a busy or unreachable database and a fault in a statement alike, as
# OperationalError; these words mark the first kind.
SQLITE_TRANSIENT = ("locked", "busy", "disk i/o", "unable to open", "disk is full")


def retryable(error: DBAPIError) -> bool:
    """Whether the same call may succeed later: a lost race (IntegrityError), a connection
    problem (PostgreSQL's OperationalError), or SQLite busy, locked or unreachable; not a
    missing table or a bad statement (ProgrammingError, or SQLite's OperationalError)."""
    if isinstance(error, IntegrityError):
        return True
    if not isinstance(error, OperationalError):
        return False
    if type(error.orig).__module__.startswith("psycopg"):
        return True
    return any(word in str(error.orig).lower() for word in SQLITE_TRANSIENT)


class DatabaseCalls:
    """Runs the servicers' storage calls and turns RegistryError into its gRPC status.

    on_loop=False runs each call in the event loop's thread pool, so a slow database (a
    network round trip to PostgreSQL) never stalls other calls. on_loop=True runs it on the
    event loop itself: with SQLite on a small machine that is faster, because the calls are
    short and CPU-bound, and worker threads would only queue for Python's global lock
    (measured: 1.6x the ResolveTransfer throughput on 2 cores).
    """

    def __init__(self, on_loop: bool = False) -> None:
        self.on_loop = on_loop

    async def __call__(self, context: grpc.aio.ServicerContext, call: Callable[[], T],
                       off_loop: bool = False) -> T:
        """Run call; a call whose deadline has already passed is not started. off_loop runs
        it in the thread pool whatever on_loop says."""
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "the call's deadline passed "
                                "before the registry could start it")
        try:
            if self.on_loop and not off_loop:
                return call()
            return await asyncio.to_thread(call)
        except RegistryError as error:
            refusal.set(type(error).__name__)
            context.set_trailing_metadata(trailers_of(error))
            await context.abort(status_of(error), str(error))
        except DBAPIError as error:
            if not retryable(error):
                # A fault in the registry or its schema (a missing table, a bad statement):
                # retrying cannot help, so the caller hears it and the operator is told.
                log.error("database fault, not retryable: %s", error.orig)
                await context.abort(grpc.StatusCode.INTERNAL, "the registry hit an internal "
                                    "database fault; nothing was applied; the operator should "
                                    "check the registry's log and that it is migrated "
                                    "(registry-server migrate)")
            # The database went away or a concurrent writer won a race: nothing was applied,
            # and the same call is worth retrying (agents retry UNAVAILABLE and ABORTED).
            log.warning("database error, reported as retryable: %s", error.orig)
            code = (grpc.StatusCode.UNAVAILABLE if isinstance(error, OperationalError)
                    else grpc.StatusCode.ABORTED)
            await context.abort(code, "the registry's database is busy or unavailable; nothing "
                                "was applied, retry the call")
        raise AssertionError("unreachable: abort raises")


class _Servicer:
    """What every servicer holds: the database and the way its calls are run."""

    def __init__(self, engine: Engine, calls: DatabaseCalls | None = None) -> None:
        self.engine = engine
        self.calls = calls or DatabaseCalls()


class PublicationService(_Servicer, publication_pb2_grpc.PublicationServiceServicer):
    def __init__(self, engine: Engine, metrics: Metrics | None = None,
                 calls: DatabaseCalls | None = None,
                 record_checks: RecordChecks | None = None) -> None:
        super().__init__(engine, calls)
        self.metrics = metrics
        self.record_checks = record_checks or RecordChecks([])
        self.applying = asyncio.Lock()  # first come, first served

    def _applied(self, ack: pub.Acknowledgement) -> None:
        if self.metrics is not None:
            self.metrics.ingested.labels(ack.institution_id).inc(ack.records_applied)

    async def Publish(self, request: pub.PublishRequest,  # noqa: N802 (gRPC's name)
                      context: grpc.aio.ServicerContext) -> pub.PublishResponse:
        if not request.HasField("envelope"):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "request: field 'envelope' is required; send the signed batch")
        who = caller.get()
        own = who.name if who.role == "institution" else None
        checked = None
        if self.record_checks.enabled:
            keys = await self.calls(context, lambda: publication.public_keys(
                self.engine, request.envelope))
            checked = await self.record_checks.check(request.envelope, keys)
        # Publications are applied one at a time, in the order their checks finished, which
        # is the order they arrived: an agent's next batch then does not overtake this one.
        # With record-check workers the transaction runs off the event loop, so the loop
        # can hand the next batch to a worker meanwhile.
        async with self.applying:
            ack = await self.calls(context, lambda: publication.publish(
                self.engine, request.envelope, authenticated_institution=own,
                on_applied=self._applied, checked_elsewhere=checked),
                off_loop=self.record_checks.enabled)
        failpoints.after_commit()
        log.info("publication of %s acknowledged up to seq %d (log index %d)",
                 ack.institution_id, ack.last_seq, ack.receipt.log_index,
                 extra={"institution": ack.institution_id, "seq": ack.last_seq,
                        "records": ack.records_applied})
        return pub.PublishResponse(acknowledgement=ack)

    async def GetCheckpoint(self, request: pub.GetCheckpointRequest,  # noqa: N802
                            context: grpc.aio.ServicerContext) -> pub.GetCheckpointResponse:
        if not INSTITUTION_ID.match(request.institution_id):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "request: field 'institution_id' must be a registry id such as "
                                "'uk.ac.hw'")
        who = caller.get()
        if who.role == "institution" and who.name != request.institution_id:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                f"{who} may read only its own checkpoint, not "
                                f"{request.institution_id}'s")
        found = await self.calls(context, lambda: publication.checkpoint(
            self.engine, request.institution_id))
        newest = await self.calls(context, lambda: bilateral_store.newest_event(
            self.engine, request.institution_id))
        return pub.GetCheckpointResponse(last_seq=found.last_seq, head=found.head,
                                         bilateral_event_id=newest)


class DirectoryService(_Servicer, directory_pb2_grpc.DirectoryServiceServicer):
    async def ListInstitutions(self, request: directory.ListInstitutionsRequest,  # noqa: N802
                               context: grpc.aio.ServicerContext
                               ) -> directory.ListInstitutionsResponse:
        page, token = await self.calls(context, lambda: directory_store.list_institutions(
            self.engine, page_size=request.page_size, after=request.page_token))
        return directory.ListInstitutionsResponse(institutions=page, next_page_token=token)


class EquivalenceService(_Servicer, equivalence_pb2_grpc.EquivalenceServiceServicer):
    async def ResolveTransfer(self, request: eq.ResolveTransferRequest,  # noqa: N802
                              context: grpc.aio.ServicerContext) -> eq.ResolveTransferResponse:
        return await self.calls(context,
                                lambda: equivalence.resolve_transfer(self.engine, request))

    async def ListEquivalents(self, request: eq.ListEquivalentsRequest,  # noqa: N802
                              context: grpc.aio.ServicerContext) -> eq.ListEquivalentsResponse:
        return await self.calls(context,
                                lambda: equivalence.list_equivalents(self.engine, request))

    async def ListSources(self, request: eq.ListSourcesRequest,  # noqa: N802
                          context: grpc.aio.ServicerContext) -> eq.ListSourcesResponse:
        return await self.calls(context,
                                lambda: equivalence.list_sources(self.engine, request))

    async def EvaluatePathway(self, request: eq.EvaluatePathwayRequest,  # noqa: N802
                              context: grpc.aio.ServicerContext) -> eq.EvaluatePathwayResponse:
        return await self.calls(context,
                                lambda: equivalence.evaluate_pathway(self.engine, request))

    async def ListConflicts(self, request: eq.ListConflictsRequest,  # noqa: N802
                            context: grpc.aio.ServicerContext) -> eq.ListConflictsResponse:
        return await self.calls(context,
                                lambda: equivalence.list_conflicts(self.engine, request))


class AdminService(_Servicer, admin_pb2_grpc.AdminServiceServicer):
    """Operator administration; the interceptor admits operators only."""

    async def EnrolInstitution(self, request: admin.EnrolInstitutionRequest,  # noqa: N802
                               context: grpc.aio.ServicerContext
                               ) -> admin.EnrolInstitutionResponse:
        actor = str(caller.get())
        found = await self.calls(context, lambda: directory_store.enrol(
            self.engine, request.institution_id, request.name, request.country,
            request.public_key, actor=actor))
        return admin.EnrolInstitutionResponse(institution=found)

    async def SetInstitutionStatus(self, request: admin.SetInstitutionStatusRequest,  # noqa: N802
                                   context: grpc.aio.ServicerContext
                                   ) -> admin.SetInstitutionStatusResponse:
        actor = str(caller.get())
        found = await self.calls(context, lambda: directory_store.set_status(
            self.engine, request.institution_id, request.status, request.reason, actor=actor))
        return admin.SetInstitutionStatusResponse(institution=found)

    async def RotateKey(self, request: admin.RotateKeyRequest,  # noqa: N802
                        context: grpc.aio.ServicerContext) -> admin.RotateKeyResponse:
        actor = str(caller.get())
        found = await self.calls(context, lambda: directory_store.rotate_key(
            self.engine, request.institution_id, request.public_key, actor=actor))
        return admin.RotateKeyResponse(institution=found)

    async def RevokeKey(self, request: admin.RevokeKeyRequest,  # noqa: N802
                        context: grpc.aio.ServicerContext) -> admin.RevokeKeyResponse:
        actor = str(caller.get())
        found = await self.calls(context, lambda: directory_store.revoke_key(
            self.engine, request.institution_id, request.key_id, request.reason, actor=actor))
        return admin.RevokeKeyResponse(institution=found)


class AuditService(_Servicer, audit_pb2_grpc.AuditServiceServicer):
    """Proofs and the log, for anyone to check the registry."""

    async def GetRecordProof(self, request: audit.GetRecordProofRequest,  # noqa: N802
                             context: grpc.aio.ServicerContext) -> audit.GetRecordProofResponse:
        proof = await self.calls(context, lambda: audit_store.record_proof(
            self.engine, request.institution_id, request.kind, request.key))
        return audit.GetRecordProofResponse(proof=proof)

    async def ListLogEntries(self, request: audit.ListLogEntriesRequest,  # noqa: N802
                             context: grpc.aio.ServicerContext) -> audit.ListLogEntriesResponse:
        return await self.calls(context, lambda: audit_store.list_log(
            self.engine, request.from_index, request.page_size))


class BilateralService(_Servicer, bilateral_pb2_grpc.BilateralServiceServicer):
    """Signed steps on bilateral agreements; each party pulls its own history."""

    async def Act(self, request: bi.ActRequest,  # noqa: N802
                  context: grpc.aio.ServicerContext) -> bi.ActResponse:
        who = caller.get()
        own = who.name if who.role == "institution" else None
        version, event_id = await self.calls(context, lambda: bilateral_store.act(
            self.engine, request.step, authenticated_institution=own))
        log.info("bilateral %s version %d is now %s", version.agreement_id, version.version,
                 bi.BilateralState.Name(version.state))
        return bi.ActResponse(agreement=version, event_id=event_id)

    async def ListBilateralEvents(self, request: bi.ListBilateralEventsRequest,  # noqa: N802
                                  context: grpc.aio.ServicerContext
                                  ) -> bi.ListBilateralEventsResponse:
        who = caller.get()
        if who.role == "institution" and who.name != request.institution_id:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                f"{who} may read only its own bilateral history")
        return await self.calls(context, lambda: bilateral_store.events_for(
            self.engine, request.institution_id, request.after_event_id, request.page_size))

    async def GetBilateralAgreement(self, request: bi.GetBilateralAgreementRequest,  # noqa: N802
                                    context: grpc.aio.ServicerContext
                                    ) -> bi.GetBilateralAgreementResponse:
        return await self.calls(context, lambda: bilateral_store.history(self.engine,
                                                                  request.agreement_id))
