"""gRPC servicers: unpack the request, call the domain in a worker thread (storage is
synchronous), pack the answer. Errors leave through the status table in status.py."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import grpc
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from registry.v1 import admin_pb2 as admin
from registry.v1 import (
    admin_pb2_grpc,
    audit_pb2_grpc,
    bilateral_pb2_grpc,
    directory_pb2_grpc,
    publication_pb2_grpc,
)
from registry.v1 import audit_pb2 as audit
from registry.v1 import bilateral_pb2 as bi
from registry.v1 import directory_pb2 as directory
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import publication_pb2 as pub
from registry_core.envelope import check_bounds
from registry_core.errors import Busy, NotPermitted, RegistryError, TooCostly
from registry_core.records import INSTITUTION_ID
from registry_server import audit as audit_store
from registry_server import bilateral as bilateral_store
from registry_server import directory as directory_store
from registry_server import failpoints, learner_credentials, publication, revocation
from registry_server.acceptance import verify_signature
from registry_server.applying import Applied, ApplyWorker
from registry_server.arrival import ArrivalOrder, Place
from registry_server.fairness import Admission, Lane, caller_key, cost_of, parsed
from registry_server.identity import DEVELOPMENT, Caller, caller
from registry_server.observability import Metrics, refusal
from registry_server.queries import QUERIES, SERVICE, QueryWorkers, answer
from registry_server.record_checks import RecordChecks
from registry_server.revocation import RevokedSerials
from registry_server.rpc import Context
from registry_server.status import INTERNAL_FAULT, Failure, failure_of, refusal_of
from registry_server.volume import VolumeRule

log = logging.getLogger(__name__)
T = TypeVar("T")


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

    async def __call__(self, context: Context, call: Callable[[], T], off_loop: bool = False) -> T:
        """Run call; a call whose deadline has already passed is not started. off_loop runs
        it in the thread pool whatever on_loop says."""
        await not_past_deadline(context)
        try:
            if self.on_loop and not off_loop:
                return call()
            return await asyncio.to_thread(call)
        except (RegistryError, DBAPIError) as error:
            failure = failure_of(error)
            assert failure is not None
            await refuse(context, failure)
        except Exception:
            # A bug: grpc would send the exception's type and text as UNKNOWN.
            log.exception("a call failed with an unexpected error")
            await refuse(context, INTERNAL_FAULT)
        raise AssertionError("unreachable: abort raises")


async def not_past_deadline(context: Context) -> None:
    """Refuse a call whose deadline has passed before its work starts."""
    remaining = context.time_remaining()
    if remaining is not None and remaining <= 0:
        await context.abort(
            grpc.StatusCode.DEADLINE_EXCEEDED,
            "the call's deadline passed before the registry could start it",
        )


async def refuse(context: Context, failure: Failure) -> None:
    """End the call with failure (raises, as context.abort does)."""
    if failure.refusal:
        refusal.set(failure.refusal)
    if failure.trailers:
        context.set_trailing_metadata(failure.trailers)
    await context.abort(failure.code, failure.message)


class _Servicer:
    """What every servicer holds: the database and the way its calls are run."""

    def __init__(self, engine: Engine, calls: DatabaseCalls | None = None) -> None:
        self.engine = engine
        self.calls = calls or DatabaseCalls()


class PublicationService(_Servicer, publication_pb2_grpc.PublicationServiceServicer):
    def __init__(
        self,
        engine: Engine,
        metrics: Metrics | None = None,
        calls: DatabaseCalls | None = None,
        record_checks: RecordChecks | None = None,
        volume: VolumeRule = VolumeRule(),
        apply_worker: ApplyWorker | None = None,
    ) -> None:
        super().__init__(engine, calls)
        self.metrics = metrics
        self.record_checks = record_checks or RecordChecks([])
        self.apply_worker = apply_worker or ApplyWorker([])
        self.volume = volume
        self.applying = ArrivalOrder()  # first come, first served

    def _applied(self, ack: pub.Acknowledgement, warnings: Sequence[str]) -> None:
        if self.metrics is not None:
            self.metrics.ingested.labels(ack.institution_id).inc(ack.records_applied)
            if warnings:
                self.metrics.warned.labels(ack.institution_id).inc(len(warnings))

    async def Publish(
        self,
        request: pub.PublishRequest,  # noqa: N802 (gRPC's name)
        context: Context,
    ) -> pub.PublishResponse:
        if not request.HasField("envelope"):
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "request: field 'envelope' is required; send the signed batch",
            )
        place = self.applying.join()  # before any await: the order the batches arrived in
        try:
            return await self._publish(request, context, place)
        finally:
            place.leave()

    async def _publish(
        self, request: pub.PublishRequest, context: Context, place: Place
    ) -> pub.PublishResponse:
        who = caller.get()
        own = who.name if who.role == "institution" else None
        envelope = request.envelope
        # Bounded work first: the envelope's signatures are counted and measured before any
        # key is looked up or any signature verified.
        try:
            check_bounds(envelope)
        except RegistryError as error:
            await refuse(context, refusal_of(error))
        keys = await self.calls(
            context,
            lambda: publication.public_keys(self.engine, envelope),
            off_loop=self.record_checks.enabled,
        )
        vouched = await self.record_checks.check(envelope, keys)
        signed_by = None
        if vouched is None:
            # Verified here, before the serialised path, so that a refused signature never
            # holds another institution's publication (acceptance does not verify it again).
            signed_by = await self.calls(
                context,
                lambda: verify_signature(envelope, keys),
                off_loop=self.record_checks.enabled,
            )
        # Publications are applied one at a time, in the order they arrived (whatever order
        # their checks above finished in): an agent's next batch then does not overtake this
        # one. With record-check workers the transaction runs off the event loop, so the
        # loop can hand the next batch to a worker meanwhile; a batch a worker passed is
        # applied by the apply worker where there is one (registry_server.applying).
        warnings: list[str] = []

        def applied(ack: pub.Acknowledgement, found: Sequence[str]) -> None:
            self._applied(ack, found)
            warnings.extend(found)

        async with place.turn():
            outcome = await self.apply_worker.apply(vouched, own) if vouched is not None else None
            if isinstance(outcome, Failure):
                await refuse(context, outcome)
            if isinstance(outcome, Applied):
                ack = outcome.acknowledgement
                if outcome.fresh:
                    applied(ack, outcome.warnings)
            else:
                checked = await asyncio.to_thread(vouched.decoded) if vouched else None
                ack = await self.calls(
                    context,
                    lambda: publication.publish(
                        self.engine,
                        envelope,
                        authenticated_institution=own,
                        on_applied=applied,
                        checked_elsewhere=checked,
                        signed_by=signed_by,
                        volume=self.volume,
                    ),
                    off_loop=self.record_checks.enabled,
                )
        failpoints.after_commit()
        log.info(
            "publication of %s acknowledged up to seq %d (log index %d)",
            ack.institution_id,
            ack.last_seq,
            ack.receipt.log_index,
            extra={
                "institution": ack.institution_id,
                "seq": ack.last_seq,
                "records": ack.records_applied,
            },
        )
        return pub.PublishResponse(acknowledgement=ack, warnings=warnings)

    async def GetCheckpoint(
        self,
        request: pub.GetCheckpointRequest,  # noqa: N802
        context: Context,
    ) -> pub.GetCheckpointResponse:
        if not INSTITUTION_ID.match(request.institution_id):
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "request: field 'institution_id' must be a registry id such as 'uk.ac.hw'",
            )
        who = caller.get()
        if who.role == "institution" and who.name != request.institution_id:
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{who} may read only its own checkpoint, not {request.institution_id}'s",
            )
        found = await self.calls(
            context, lambda: publication.checkpoint(self.engine, request.institution_id)
        )
        newest = await self.calls(
            context, lambda: bilateral_store.newest_event(self.engine, request.institution_id)
        )
        return pub.GetCheckpointResponse(
            last_seq=found.last_seq, head=found.head, bilateral_event_id=newest
        )

    async def PublishStatusList(
        self,
        request: pub.PublishStatusListRequest,  # noqa: N802
        context: Context,
    ) -> pub.PublishStatusListResponse:
        who = caller.get()
        own = who.name if who.role == "institution" else None
        # Verifying the list's proof canonicalises its RDF: a few milliseconds of CPU, run
        # off the event loop with the write.
        return await self.calls(
            context,
            lambda: learner_credentials.publish_status_list(
                self.engine, request.status_list_credential, caller=own
            ),
            off_loop=True,
        )


class DirectoryService(_Servicer, directory_pb2_grpc.DirectoryServiceServicer):
    async def ListInstitutions(
        self,
        request: directory.ListInstitutionsRequest,  # noqa: N802
        context: Context,
    ) -> directory.ListInstitutionsResponse:
        page, token = await self.calls(
            context,
            lambda: directory_store.list_institutions(
                self.engine, page_size=request.page_size, after=request.page_token
            ),
        )
        return directory.ListInstitutionsResponse(institutions=page, next_page_token=token)

    async def GetStatusList(
        self,
        request: directory.GetStatusListRequest,  # noqa: N802
        context: Context,
    ) -> directory.GetStatusListResponse:
        return await self.calls(
            context, lambda: learner_credentials.get_status_list(self.engine, request.id)
        )


class EquivalenceService(_Servicer):
    """Partners' questions. They pass through as bytes: with query workers, a worker parses
    the question and serialises the answer, and this process only carries them; without, or
    when no worker could answer, the same function answers here (queries.answer). Each is
    weighed and admitted first (fairness), so that no caller starves the others."""

    def __init__(
        self,
        engine: Engine,
        admission: Admission,
        calls: DatabaseCalls | None = None,
        queries: QueryWorkers | None = None,
    ) -> None:
        super().__init__(engine, calls)
        self.queries = queries
        self.admission = admission

    def handler(self) -> grpc.GenericRpcHandler:
        """Every method of the service, bytes in and bytes out."""
        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                method: grpc.unary_unary_rpc_method_handler(self._answering(method))
                for method in QUERIES
            },
        )

    def _answering(self, method: str) -> Callable[[bytes, Context], Awaitable[bytes]]:
        async def answering(question: bytes, context: Context) -> bytes:
            who = caller.get()
            request = parsed(method, question)
            if isinstance(request, eq.EvaluatePathwayRequest):
                refused = prior_learning_refusal(who, request)
                if refused is not None:
                    await refuse(context, refused)
            try:
                lane = cost_of(method, request)
                async with self.admission.admit(
                    caller_key(who.role, who.name, context.peer()), lane
                ):
                    return await self._answer(method, question, lane, context)
            except (TooCostly, Busy) as error:
                await refuse(context, refusal_of(error))
            raise AssertionError("unreachable: abort raises")

        return answering

    async def _answer(self, method: str, question: bytes, lane: Lane, context: Context) -> bytes:
        if self.queries is not None and self.queries.enabled:
            await not_past_deadline(context)
            found = await self.queries.answer(method, question, context.time_remaining(), lane)
            if isinstance(found, Failure):
                await refuse(context, found)
            if isinstance(found, bytes):
                return found
        # In this process: a costly question in a thread, so that the event loop stays free
        # for the cheap ones.
        return await self.calls(
            context, lambda: answer(self.engine, method, question), off_loop=lane is Lane.COSTLY
        )


def prior_learning_refusal(who: Caller, request: eq.EvaluatePathwayRequest) -> Failure | None:
    """Why who may not ask the EvaluatePathway question, or None. Assessments of a learner's
    experiential learning (prior_learning) are the awarding institution's own records of its
    decisions, so only that institution's connection, or a development (plaintext) one, may
    send them; anyone else could claim any module for any learner."""
    if who.role == DEVELOPMENT:
        return None
    awarding = request.qualification.institution_id
    if not request.prior_learning or (who.role == "institution" and who.name == awarding):
        return None
    return refusal_of(
        NotPermitted(
            f"request: field 'prior_learning': {who} may not send assessments of prior learning "
            f"toward a qualification of {awarding[:60] or 'another institution'}: they are the "
            "awarding institution's own records of its decisions, sent with its own certificate; "
            "leave prior_learning empty, or ask the awarding institution for the evaluation"
        )
    )


class AdminService(_Servicer, admin_pb2_grpc.AdminServiceServicer):
    """Operator administration; the interceptor admits operators only. revoked: this
    process's copy of the revoked certificates, read again at once after a revocation."""

    def __init__(
        self,
        engine: Engine,
        calls: DatabaseCalls | None = None,
        revoked: RevokedSerials | None = None,
    ) -> None:
        super().__init__(engine, calls)
        self.revoked = revoked

    async def EnrolInstitution(
        self,
        request: admin.EnrolInstitutionRequest,  # noqa: N802
        context: Context,
    ) -> admin.EnrolInstitutionResponse:
        actor = str(caller.get())
        found = await self.calls(
            context,
            lambda: directory_store.enrol(
                self.engine,
                request.institution_id,
                request.name,
                request.country,
                request.public_key,
                actor=actor,
            ),
        )
        return admin.EnrolInstitutionResponse(institution=found)

    async def SetInstitutionStatus(
        self,
        request: admin.SetInstitutionStatusRequest,  # noqa: N802
        context: Context,
    ) -> admin.SetInstitutionStatusResponse:
        actor = str(caller.get())
        found = await self.calls(
            context,
            lambda: directory_store.set_status(
                self.engine, request.institution_id, request.status, request.reason, actor=actor
            ),
        )
        return admin.SetInstitutionStatusResponse(institution=found)

    async def RotateKey(
        self,
        request: admin.RotateKeyRequest,  # noqa: N802
        context: Context,
    ) -> admin.RotateKeyResponse:
        actor = str(caller.get())
        found = await self.calls(
            context,
            lambda: directory_store.rotate_key(
                self.engine, request.institution_id, request.public_key, actor=actor
            ),
        )
        return admin.RotateKeyResponse(institution=found)

    async def RevokeKey(
        self,
        request: admin.RevokeKeyRequest,  # noqa: N802
        context: Context,
    ) -> admin.RevokeKeyResponse:
        actor = str(caller.get())
        found = await self.calls(
            context,
            lambda: directory_store.revoke_key(
                self.engine, request.institution_id, request.key_id, request.reason, actor=actor
            ),
        )
        return admin.RevokeKeyResponse(institution=found)

    async def RevokeCertificate(
        self,
        request: admin.RevokeCertificateRequest,  # noqa: N802
        context: Context,
    ) -> admin.RevokeCertificateResponse:
        actor = str(caller.get())
        revoked = await self.calls(
            context,
            lambda: revocation.revoke(
                self.engine, revocation.parse_serial(request.serial), request.reason, actor=actor
            ),
        )
        if self.revoked is not None:
            self.revoked.changed_here()
        return admin.RevokeCertificateResponse(revoked=revoked)

    async def ListRevokedCertificates(  # noqa: N802
        self, request: admin.ListRevokedCertificatesRequest, context: Context
    ) -> admin.ListRevokedCertificatesResponse:
        page, token = await self.calls(
            context,
            lambda: revocation.list_revoked(
                self.engine, page_size=request.page_size, after=request.page_token
            ),
        )
        return admin.ListRevokedCertificatesResponse(revoked=page, next_page_token=token)


class AuditService(_Servicer, audit_pb2_grpc.AuditServiceServicer):
    """Proofs and the log, for anyone to check the registry."""

    async def GetRecordProof(
        self,
        request: audit.GetRecordProofRequest,  # noqa: N802
        context: Context,
    ) -> audit.GetRecordProofResponse:
        proof = await self.calls(
            context,
            lambda: audit_store.record_proof(
                self.engine, request.institution_id, request.kind, request.key
            ),
        )
        return audit.GetRecordProofResponse(proof=proof)

    async def ListLogEntries(
        self,
        request: audit.ListLogEntriesRequest,  # noqa: N802
        context: Context,
    ) -> audit.ListLogEntriesResponse:
        return await self.calls(
            context,
            lambda: audit_store.list_log(self.engine, request.from_index, request.page_size),
        )


class BilateralService(_Servicer, bilateral_pb2_grpc.BilateralServiceServicer):
    """Signed steps on bilateral agreements; each party pulls its own history."""

    async def Act(
        self,
        request: bi.ActRequest,  # noqa: N802
        context: Context,
    ) -> bi.ActResponse:
        who = caller.get()
        own = who.name if who.role == "institution" else None
        version, event_id = await self.calls(
            context,
            lambda: bilateral_store.act(self.engine, request.step, authenticated_institution=own),
        )
        log.info(
            "bilateral %s version %d is now %s",
            version.agreement_id,
            version.version,
            bi.BilateralState.Name(version.state),
        )
        return bi.ActResponse(agreement=version, event_id=event_id)

    async def ListBilateralEvents(
        self,
        request: bi.ListBilateralEventsRequest,  # noqa: N802
        context: Context,
    ) -> bi.ListBilateralEventsResponse:
        who = caller.get()
        if who.role == "institution" and who.name != request.institution_id:
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED, f"{who} may read only its own bilateral history"
            )
        return await self.calls(
            context,
            lambda: bilateral_store.events_for(
                self.engine, request.institution_id, request.after_event_id, request.page_size
            ),
        )

    async def GetBilateralAgreement(
        self,
        request: bi.GetBilateralAgreementRequest,  # noqa: N802
        context: Context,
    ) -> bi.GetBilateralAgreementResponse:
        return await self.calls(
            context, lambda: bilateral_store.history(self.engine, request.agreement_id)
        )
