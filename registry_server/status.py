"""The one table that maps this project's errors to gRPC status codes."""

from __future__ import annotations

import grpc

from registry_core import errors

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


def trailers_of(error: errors.RegistryError) -> tuple[tuple[str, str], ...]:
    if isinstance(error, errors.SequenceError):
        return ((CHECKPOINT_SEQ, str(error.last_seq)), (CHECKPOINT_HEAD, error.head))
    return ()
