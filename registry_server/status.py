"""The one table that maps this project's errors to gRPC status codes, and the failure a
call reports for an error raised while it ran."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from registry_core import errors

log = logging.getLogger(__name__)

STATUS_OF: list[tuple[type[errors.RegistryError], grpc.StatusCode]] = [
    # Order matters: subclasses before their bases.
    (errors.InvalidRecord, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.MalformedPayload, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.UnknownKey, grpc.StatusCode.UNAUTHENTICATED),
    (errors.SignatureError, grpc.StatusCode.UNAUTHENTICATED),
    (errors.KeyNotActive, grpc.StatusCode.PERMISSION_DENIED),
    (errors.InstitutionNotActive, grpc.StatusCode.PERMISSION_DENIED),
    (errors.ForeignRecord, grpc.StatusCode.PERMISSION_DENIED),
    (errors.NotPermitted, grpc.StatusCode.PERMISSION_DENIED),
    (errors.SequenceError, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.StaleVersion, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.BatchTooLarge, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.TooCostly, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Busy, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
]

# Trailing metadata on FAILED_PRECONDITION for sequence errors: where the agent should resume.
CHECKPOINT_SEQ = errors.CHECKPOINT_SEQ
CHECKPOINT_HEAD = errors.CHECKPOINT_HEAD


def status_of(error: errors.RegistryError) -> grpc.StatusCode:
    for kind, code in STATUS_OF:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.INTERNAL


# The trailing metadata key of a google.rpc.Status with rich details, as grpcio-status's
# rpc_status.from_call reads it.
STATUS_DETAILS = "grpc-status-details-bin"


def trailers_of(error: errors.RegistryError) -> tuple[tuple[str, str | bytes], ...]:
    if isinstance(error, errors.SequenceError):
        return ((CHECKPOINT_SEQ, str(error.last_seq)), (CHECKPOINT_HEAD, error.head))
    if isinstance(error, errors.InvalidRecord):
        return ((STATUS_DETAILS, bad_request(error).SerializeToString()),)
    if isinstance(error, errors.TooCostly | errors.Busy):
        return ((STATUS_DETAILS, quota_failure(error).SerializeToString()),)
    return ()


def bad_request(error: errors.InvalidRecord) -> status_pb2.Status:
    """The google.rpc.Status of an InvalidRecord: a BadRequest whose field violation names
    the field, and the record and fix in its description, so a client can point at it."""
    violation = error_details_pb2.BadRequest.FieldViolation(
        field=error.field, description=f"{error.record}: {error.problem}"
    )
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.BadRequest(field_violations=[violation]))
    return status_pb2.Status(code=status_of(error).value[0], message=str(error), details=[detail])


def quota_failure(error: errors.TooCostly | errors.Busy) -> status_pb2.Status:
    """The google.rpc.Status of a refusal for cost or load: a QuotaFailure naming the bound
    that was reached, and, when the same call may succeed later, a RetryInfo saying when."""
    details = [
        error_details_pb2.QuotaFailure(
            violations=[
                error_details_pb2.QuotaFailure.Violation(
                    subject=error.subject, description=str(error)
                )
            ]
        )
    ]
    if isinstance(error, errors.Busy):
        retry = error_details_pb2.RetryInfo()
        retry.retry_delay.FromNanoseconds(int(error.retry_seconds * 1e9))
        details.append(retry)
    packed = []
    for detail in details:
        wrapped = any_pb2.Any()
        wrapped.Pack(detail)
        packed.append(wrapped)
    return status_pb2.Status(
        code=grpc.StatusCode.RESOURCE_EXHAUSTED.value[0], message=str(error), details=packed
    )


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


@dataclass(frozen=True)
class Failure:
    """What a call that failed reports: its status, its message, trailing metadata, and the
    refusal's name for the metrics (empty when it is not a refusal). Plain data, so that a
    worker process can send it back to the registry's."""

    code: grpc.StatusCode
    message: str
    trailers: tuple[tuple[str, str | bytes], ...] = ()
    refusal: str = ""


# What a caller hears of a bug (an exception no rule maps): a status, not the exception's
# text, which is ours and may say anything; the operator finds the trace in the log.
INTERNAL_FAULT = Failure(
    grpc.StatusCode.INTERNAL,
    "the registry hit an internal fault "
    "answering this call; nothing was applied; the operator should "
    "check the registry's log",
)


def refusal_of(error: errors.RegistryError) -> Failure:
    """The failure to report for one of the project's own errors (every one has one)."""
    return Failure(status_of(error), str(error), trailers_of(error), type(error).__name__)


def failure_of(error: Exception) -> Failure | None:
    """The failure to report for error, or None for an error that is a bug (it propagates)."""
    if isinstance(error, errors.RegistryError):
        return refusal_of(error)
    if not isinstance(error, DBAPIError):
        return None
    if not retryable(error):
        # A fault in the registry or its schema (a missing table, a bad statement): retrying
        # cannot help, so the caller hears it and the operator is told.
        log.error("database fault, not retryable: %s", error.orig)
        return Failure(
            grpc.StatusCode.INTERNAL,
            "the registry hit an internal database "
            "fault; nothing was applied; the operator should check the registry's "
            "log and that it is migrated (registry-server migrate)",
        )
    # The database went away or a concurrent writer won a race: nothing was applied, and the
    # same call is worth retrying (agents retry UNAVAILABLE and ABORTED).
    log.warning("database error, reported as retryable: %s", error.orig)
    code = (
        grpc.StatusCode.UNAVAILABLE
        if isinstance(error, OperationalError)
        else grpc.StatusCode.ABORTED
    )
    return Failure(
        code, "the registry's database is busy or unavailable; nothing was applied, retry the call"
    )
