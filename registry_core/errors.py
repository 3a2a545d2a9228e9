"""Errors that name what went wrong. The registry maps them to gRPC status codes in one table
(registry_server/status.py); the agent and the TUI show their messages to people."""

from __future__ import annotations


class RegistryError(Exception):
    """Base of every error this project raises on purpose."""


class InvalidRecord(RegistryError):
    """A record breaks a rule. Names the record, the field and the fix."""

    def __init__(self, record: str, field: str, problem: str) -> None:
        self.record = record
        self.field = field
        self.problem = problem
        super().__init__(f"{record}: field '{field}': {problem}")


# The largest integer the registry stores or compares in SQL (a signed 64-bit BIGINT); a
# uint64 field of a request can carry more.
STORED_INT_MAX = 2**63 - 1


def check_stored_int(record: str, field: str, value: int) -> None:
    """Refuse an integer the database cannot hold, naming the field (rather than letting
    the driver's OverflowError reach the client as an internal error)."""
    if value > STORED_INT_MAX:
        raise InvalidRecord(
            record,
            field,
            f"is {value}, beyond the largest number the "
            f"registry keeps ({STORED_INT_MAX}); send a value in range",
        )


class MalformedPayload(RegistryError):
    """Bytes that do not parse as what they claim to be."""


class SignatureError(RegistryError):
    """No valid signature by a key the verifier trusts."""


class UnknownKey(SignatureError):
    """The envelope is signed by a key the directory does not know."""


class KeyNotActive(RegistryError):
    """The signing key is revoked or retired: it signs nothing new."""


class InstitutionNotActive(RegistryError):
    """The institution is unknown, suspended or removed."""


class ForeignRecord(RegistryError):
    """A batch carries a record of another institution."""


# The trailing metadata that carries a SequenceError's checkpoint over gRPC, so an agent knows
# where the registry is (registry_server/status.py sends it, sync_agent/sync.py reads it).
CHECKPOINT_SEQ = "registry-checkpoint-seq"
CHECKPOINT_HEAD = "registry-checkpoint-head"


class SequenceError(RegistryError):
    """A batch does not continue the registry's checkpoint. `hint` says what to do."""

    def __init__(self, message: str, *, last_seq: int, head: str) -> None:
        self.last_seq = last_seq
        self.head = head
        super().__init__(message)


class SequenceGap(SequenceError):
    """The batch starts after the checkpoint: changes in between are missing."""


class Rollback(SequenceError):
    """The batch covers sequence numbers already applied, with other content."""


class Fork(SequenceError):
    """The batch does not build on the registry's head."""


class StaleVersion(RegistryError):
    """A change does not advance its record's version."""


class BatchTooLarge(RegistryError):
    """A batch has more changes than the registry takes in one call."""


class TooCostly(RegistryError):
    """A question whose answer would take more of the registry than one question may: the
    message says what to ask instead. subject names the bound (for QuotaFailure)."""

    def __init__(self, subject: str, message: str) -> None:
        self.subject = subject
        super().__init__(message)


class Busy(RegistryError):
    """The registry, or this caller's share of it, is full for now; the same call may
    succeed after retry_seconds."""

    def __init__(self, subject: str, message: str, retry_seconds: float) -> None:
        self.subject = subject
        self.retry_seconds = retry_seconds
        super().__init__(message)


class NotPermitted(RegistryError):
    """The caller may not take this step (not a party, or not the party allowed)."""


class FailedPrecondition(RegistryError):
    """The operation does not fit the current state (for example, revoking a revoked key)."""


class NotFound(RegistryError):
    """A named institution, key or record does not exist."""


class AlreadyExists(RegistryError):
    """An institution or key with that id exists already."""
