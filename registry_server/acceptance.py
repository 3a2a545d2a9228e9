"""The one place that decides whether a publication batch is accepted.

Signature, key and institution status, payload shape, sequence continuity, head, record
ownership, record validity, version order, the units agreements grant and the network's
volume settings for micro-credentials are all checked here, in that order, against a
read-only view of the registry's state. Transport and storage call `accept`; they do not
re-implement any part of it. Nothing is parsed before its signature is verified.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from google.protobuf.message import DecodeError

from registry.v1 import directory_pb2 as directory
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core import envelope as env
from registry_core import errors
from registry_core.records import (
    ChangeRow,
    check_batch_records,
    granted_unit_keys,
    label,
)
from registry_server.volume import WARN, VolumeRule, volume_problem

MAX_CHANGES_PER_BATCH = 5_000


@dataclass(frozen=True)
class KeyInfo:
    """What the directory says about one signing key."""

    key_id: str
    institution_id: str
    public_key: bytes
    key_status: int
    institution_status: int


@dataclass(frozen=True)
class Checkpoint:
    """How far the registry holds an institution's change log."""

    last_seq: int
    head: str


class RegistryState(Protocol):
    """The registry state acceptance reads, inside the transaction that will apply the batch."""

    def keys(self, key_ids: Iterable[str]) -> Mapping[str, KeyInfo]: ...

    def checkpoint(self, institution_id: str) -> Checkpoint: ...

    def logged_acknowledgement(
        self, institution_id: str, last_seq: int
    ) -> tuple[str, pub.Acknowledgement] | None:
        """The payload hash and acknowledgement of the logged batch ending at last_seq."""
        ...

    def current_versions(
        self, institution_id: str, records: Iterable[tuple[int, str]]
    ) -> Mapping[tuple[int, str], int]: ...

    def unit_statuses(self, institution_id: str, keys: Iterable[str]) -> Mapping[str, int]:
        """The status of each of these keys that the institution holds as a LearningUnit."""
        ...

    def statuses(self, institution_id: str, kind: int, keys: Iterable[str]) -> Mapping[str, int]:
        """The status of each of these keys that the institution holds as a record of kind."""
        ...


class BatchHeader(NamedTuple):
    """What applying a batch needs of it besides its changes."""

    institution_id: str
    first_seq: int
    last_seq: int
    prev_head: str
    change_count: int

    @classmethod
    def of(cls, batch: pub.Batch) -> BatchHeader:
        return cls(
            batch.institution_id,
            batch.first_seq,
            batch.last_seq,
            batch.prev_head,
            len(batch.changes),
        )


@dataclass(frozen=True)
class Accepted:
    """A batch to apply: verified, parsed and checked."""

    batch: BatchHeader
    key_id: str
    payload_sha256: str
    head: str
    changes: tuple[ChangeRow, ...]
    # What the publisher should know of records applied anyway (the volume settings in
    # "warn" mode), each naming the record, the field and the fix.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckedElsewhere:
    """A payload that a record-check worker found signed by key_id, well framed (its header,
    and a change for every sequence number in order) and with every record meeting the record
    rules; and its changes as the worker checked them."""

    payload_sha256: str
    key_id: str
    header: BatchHeader
    changes: Sequence[ChangeRow]


@dataclass(frozen=True)
class SignedBy:
    """A payload whose signature by key_id (with public_key) was verified before the
    serialised path, so acceptance does not verify it again there."""

    payload_sha256: str
    key_id: str
    public_key: bytes


def verify_signature(envelope: pub.SignedEnvelope, keys: Mapping[str, bytes]) -> SignedBy:
    """Check envelope's payload type and bounds, then verify it against keys (key id -> raw
    public key, whatever the key's status): who signed it, or the refusal acceptance would
    give. Run it before the serialised path and hand the answer to accept."""
    _check_envelope(envelope)
    key_id = env.verify(envelope, keys)
    return SignedBy(payload_digest(envelope.payload), key_id, keys[key_id])


def _check_envelope(envelope: pub.SignedEnvelope) -> None:
    if envelope.payload_type != env.BATCH_PAYLOAD_TYPE:
        raise errors.MalformedPayload(
            f"payload_type '{envelope.payload_type[:80]}' is not '{env.BATCH_PAYLOAD_TYPE}'"
        )
    env.check_bounds(envelope)


@dataclass(frozen=True)
class Replay:
    """A batch the registry applied before: answer with the same acknowledgement."""

    acknowledgement: pub.Acknowledgement


def payload_digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def accept(
    envelope: pub.SignedEnvelope,
    state: RegistryState,
    *,
    authenticated_institution: str | None = None,
    checked_elsewhere: CheckedElsewhere | None = None,
    signed_by: SignedBy | None = None,
    volume: VolumeRule = VolumeRule(),
) -> Accepted | Replay:
    """Accept or refuse envelope. Raises a RegistryError subclass that says why and what to do.

    authenticated_institution is the institution named by the caller's TLS certificate, when
    the transport has one; a batch must then be that institution's own. checked_elsewhere
    is what a record-check worker reported for a payload whose records all meet the record
    rules (registry_server/record_checks.py): for that exact payload they are not run again.
    Every other check runs here as always. volume is the network's volume settings for
    micro-credentials (registry_server.volume): refused, or warned of in Accepted.warnings.
    signed_by is verify_signature's answer for envelope, found before the serialised path:
    for that exact payload and a key the directory still holds, the signature is not
    verified again.
    """
    _check_envelope(envelope)  # bounds first: nothing is looked up or verified beyond them
    known = state.keys(env.signing_key_ids(envelope))
    digest = payload_digest(envelope.payload)
    # What a worker checked of exactly these bytes is not checked again (its signature, with a
    # key still in the directory; its framing; its record rules). The key's and the
    # institution's status, the sequence and the versions are checked here in any case.
    checked = (
        checked_elsewhere
        if checked_elsewhere is not None
        and checked_elsewhere.payload_sha256 == digest
        and checked_elsewhere.key_id in known
        else None
    )
    if checked is not None:
        key_id = checked.key_id
    elif (
        signed_by is not None
        and signed_by.payload_sha256 == digest
        and signed_by.key_id in known
        and known[signed_by.key_id].public_key == signed_by.public_key
    ):
        key_id = signed_by.key_id
    else:
        key_id = env.verify(envelope, {k: info.public_key for k, info in known.items()})
    key = known[key_id]
    if authenticated_institution is not None and authenticated_institution != key.institution_id:
        raise errors.ForeignRecord(
            f"the batch is signed by {key.institution_id}'s key but the connection is "
            f"{authenticated_institution}'s; an institution publishes only its own records"
        )
    if key.institution_status != directory.INSTITUTION_STATUS_ACTIVE:
        raise errors.InstitutionNotActive(
            f"institution {key.institution_id} is not active in the directory; ask the network "
            "operator to reinstate it"
        )
    if key.key_status != directory.KEY_STATUS_ACTIVE:
        replay = _replay_by_retired_key(envelope, key, digest, checked, state)
        if replay is not None:
            return replay
        raise errors.KeyNotActive(
            f"key {key_id} of {key.institution_id} is revoked or retired and signs nothing new; "
            "sign with the institution's current key"
        )

    batch: pub.Batch | None = None
    if checked is not None:
        header = checked.header
    else:
        batch = _parse(envelope.payload)
        header = BatchHeader.of(batch)
    if header.institution_id != key.institution_id:
        raise errors.ForeignRecord(
            f"the batch names institution '{header.institution_id[:80]}' but is signed by "
            f"{key.institution_id}'s key"
        )
    if batch is not None:
        check_shape(batch)
    checkpoint = state.checkpoint(header.institution_id)
    replay = _check_sequence(header, digest, checkpoint, state)
    if replay is not None:
        return replay
    items: Sequence[ChangeRow]
    if batch is not None:
        items = check_batch_records(batch)
    else:
        assert checked is not None
        items = checked.changes
    changes = _check_versions(header.institution_id, items, state)
    _check_granted_units(header.institution_id, changes, state)
    warnings = _check_volume(header.institution_id, changes, volume)
    return Accepted(
        header, key_id, digest, env.next_head(header.prev_head, envelope.payload), changes, warnings
    )


def _replay_by_retired_key(
    envelope: pub.SignedEnvelope,
    key: KeyInfo,
    digest: str,
    checked: CheckedElsewhere | None,
    state: RegistryState,
) -> Replay | None:
    """A batch the registry applied before, signed by a key since retired by a rotation:
    sent again (an agent that did not hear the acknowledgement), it gets that acknowledgement,
    as any replay does. A retired key signs nothing new; a revoked one is not trusted even
    for this."""
    if key.key_status != directory.KEY_STATUS_RETIRED:
        return None
    if checked is not None:
        header = checked.header
    else:
        try:
            header = BatchHeader.of(_parse(envelope.payload))
        except errors.MalformedPayload:
            return None
    if header.institution_id != key.institution_id:
        return None
    logged = state.logged_acknowledgement(header.institution_id, header.last_seq)
    if logged is not None and logged[0] == digest:
        return Replay(logged[1])
    return None


def _parse(payload: bytes) -> pub.Batch:
    batch = pub.Batch()
    try:
        batch.ParseFromString(payload)
    except DecodeError as exc:
        raise errors.MalformedPayload(f"the payload is not a serialised Batch: {exc}") from None
    return batch


def check_shape(batch: pub.Batch) -> None:
    """A batch's framing: some changes, not too many, one per sequence number in order."""
    count = len(batch.changes)
    errors.check_stored_int("batch", "first_seq", batch.first_seq)
    errors.check_stored_int("batch", "last_seq", batch.last_seq)
    for i, change in enumerate(batch.changes):
        errors.check_stored_int("batch", f"changes[{i}].seq", change.seq)
    if count == 0:
        raise errors.MalformedPayload(
            "the batch has no changes; a sync with nothing new "
            "compares checkpoints instead of publishing"
        )
    if count > MAX_CHANGES_PER_BATCH:
        raise errors.BatchTooLarge(
            f"the batch has {count} changes; send at most {MAX_CHANGES_PER_BATCH} per call"
        )
    if batch.first_seq < 1 or batch.last_seq != batch.first_seq + count - 1:
        raise errors.MalformedPayload(
            f"first_seq {batch.first_seq} and last_seq {batch.last_seq} do not frame its "
            f"{count} changes; they must run from first_seq (at least 1) without gaps"
        )
    seqs = [change.seq for change in batch.changes]
    if seqs != list(range(batch.first_seq, batch.first_seq + count)):
        offset = next(i for i, seq in enumerate(seqs) if seq != batch.first_seq + i)
        raise errors.MalformedPayload(
            f"change {offset} has seq {seqs[offset]}, expected {batch.first_seq + offset}; "
            "changes must be in sequence order, one per sequence number"
        )


def _check_sequence(
    batch: BatchHeader, digest: str, checkpoint: Checkpoint, state: RegistryState
) -> Replay | None:
    expected = checkpoint.last_seq + 1
    if batch.last_seq <= checkpoint.last_seq:
        logged = state.logged_acknowledgement(batch.institution_id, batch.last_seq)
        if logged is not None and logged[0] == digest:
            return Replay(logged[1])
        raise errors.Rollback(
            f"seq {batch.first_seq}-{batch.last_seq} is already applied with other content; "
            f"the registry holds up to seq {checkpoint.last_seq}: publish new changes from "
            f"seq {expected} (the agent's log must not be rewritten)",
            last_seq=checkpoint.last_seq,
            head=checkpoint.head,
        )
    if batch.first_seq > expected:
        raise errors.SequenceGap(
            f"the batch starts at seq {batch.first_seq} but the registry holds up to seq "
            f"{checkpoint.last_seq}; resend from seq {expected}",
            last_seq=checkpoint.last_seq,
            head=checkpoint.head,
        )
    if batch.first_seq < expected:
        raise errors.Rollback(
            f"the batch starts at seq {batch.first_seq} but the registry already holds up to "
            f"seq {checkpoint.last_seq}; resend from seq {expected}",
            last_seq=checkpoint.last_seq,
            head=checkpoint.head,
        )
    if batch.prev_head != checkpoint.head:
        raise errors.Fork(
            f"the batch builds on head '{batch.prev_head[:64]}' but the registry's head is "
            f"'{checkpoint.head}'; fetch the checkpoint and rebuild the batch on it",
            last_seq=checkpoint.last_seq,
            head=checkpoint.head,
        )
    return None


def _check_versions(
    owner: str, items: Sequence[ChangeRow], state: RegistryState
) -> tuple[ChangeRow, ...]:
    """The checked changes against what the registry holds: versions only rise, and a
    withdrawal names a held record."""
    versions = dict(state.current_versions(owner, {(c[1], c[2]) for c in items}))
    held = set(versions)  # what the registry holds already, before this batch
    for seq, kind, key, version, _, record, _ in items:
        current = versions.get((kind, key))
        if record is None and current is None:
            raise errors.InvalidRecord(
                label(kind, owner, key),
                "tombstone.key",
                f"seq {seq} withdraws a record the registry does not "
                "hold; publish it before withdrawing it",
            )
        if current is not None and version <= current:
            raise errors.StaleVersion(
                f"{label(kind, owner, key)} (seq {seq}) has version {version} but "
                f"version {current} is already published; each change must raise the version"
            )
        versions[(kind, key)] = version
    _check_withdrawals_final(owner, items, held, state)
    return tuple(items)


def _check_withdrawals_final(
    owner: str, items: Sequence[ChangeRow], held: set[tuple[int, str]], state: RegistryState
) -> None:
    """A record the registry holds as withdrawn stays withdrawn: a withdrawal is final (what
    a registrar is told when withdrawing), so a later version may not bring it back. Only
    records already held (held: (kind, key)) are looked up: a batch of new records pays
    nothing."""
    again: dict[int, list[str]] = {}
    for _, kind, key, _, status, record, _ in items:
        if record is not None and status != rec.RECORD_STATUS_WITHDRAWN and (kind, key) in held:
            again.setdefault(kind, []).append(key)
    for kind, keys in sorted(again.items()):
        withdrawn = {
            key
            for key, status in state.statuses(owner, kind, keys).items()
            if status == rec.RECORD_STATUS_WITHDRAWN
        }
        for seq, item_kind, key, _, _, record, _ in items:
            if item_kind == kind and key in withdrawn and record is not None:
                raise errors.InvalidRecord(
                    label(kind, owner, key),
                    "status",
                    f"seq {seq} brings back a record the registry holds as withdrawn; a "
                    "withdrawal is final: publish it again under a new key",
                )


def unpublished_units(
    owner: str, granted: Iterable[str], in_batch: Mapping[str, bool], state: RegistryState
) -> dict[str, str]:
    """Of the unit keys granted, those owner has not published as a LearningUnit, each with
    why ("is not published" or "is withdrawn"). in_batch: the batch's own units, by key, with
    whether the batch leaves each published (not withdrawn); the others are read from state
    in one look-up."""
    wanted = [key for key in dict.fromkeys(granted) if key not in in_batch]
    held = state.unit_statuses(owner, wanted) if wanted else {}
    missing: dict[str, str] = {}
    for key in dict.fromkeys(granted):
        if key in in_batch:
            published, withdrawn = in_batch[key], True
        else:
            status = held.get(key)
            published = status is not None and status != rec.RECORD_STATUS_WITHDRAWN
            withdrawn = status is not None
        if not published:
            missing[key] = "is withdrawn" if withdrawn else "is not published"
    return missing


def grant_field(grant: rec.Grant, unit_key: str) -> str:
    """The field of grant that names unit_key, as errors name it."""
    if grant.WhichOneof("grant") == "units":
        return f"grant.units.unit_keys[{list(grant.units.unit_keys).index(unit_key)}]"
    return "grant.unit_key"


def _check_granted_units(owner: str, changes: Sequence[ChangeRow], state: RegistryState) -> None:
    """Every unit an agreement of the batch grants (unless the agreement is withdrawn) is a
    LearningUnit of the publisher's, published in this batch or before it and not withdrawn
    by it. The units the batch does not publish are read in one look-up; the edges of the
    checked changes name the granted units, so agreements are parsed only to name the field
    of one that fails."""
    latest = {(c[1], c[2]): c for c in changes}
    granted = {
        edge[4]
        for (kind, _), c in latest.items()
        if kind == rec.RECORD_KIND_AGREEMENT and c[4] != rec.RECORD_STATUS_WITHDRAWN
        for edge in c[6]
        if edge[4]
    }
    if not granted:
        return
    in_batch = {
        key: c[5] is not None and c[4] != rec.RECORD_STATUS_WITHDRAWN
        for (kind, key), c in latest.items()
        if kind == rec.RECORD_KIND_LEARNING_UNIT
    }
    missing = unpublished_units(owner, sorted(granted), in_batch, state)
    if not missing:
        return
    for seq, kind, key, _, status, record, edges in sorted(latest.values()):
        unit = next((edge[4] for edge in edges if edge[4] in missing), None)
        if unit is None or record is None or status == rec.RECORD_STATUS_WITHDRAWN:
            continue
        agreement = rec.RecognitionAgreement.FromString(record)
        # In the grant's order, so the error names the first unit of a series that fails.
        unit = next(k for k in granted_unit_keys(agreement.grant) if k in missing)
        raise errors.InvalidRecord(
            label(kind, owner, key),
            grant_field(agreement.grant, unit),
            f"(seq {seq}) grants unit '{unit}', which {missing[unit]} as a LearningUnit of "
            f"{owner}; publish the unit in this batch or an earlier one, or grant a unit "
            "that is published",
        )


def _check_volume(owner: str, changes: Sequence[ChangeRow], volume: VolumeRule) -> tuple[str, ...]:
    """The batch's micro-credentials against the network's volume settings: the first one
    outside them refuses the batch, or in "warn" mode each is a warning. A withdrawal is not
    checked (a record published before the settings must still be withdrawable)."""
    warnings = []
    for seq, kind, key, _, status, record, _ in changes:
        if (
            kind != rec.RECORD_KIND_MICRO_CREDENTIAL
            or record is None
            or status == rec.RECORD_STATUS_WITHDRAWN
        ):
            continue
        mc = rec.MicroCredential.FromString(record)
        problem = volume_problem(mc.workload_hours, mc.credit.value, mc.credit.system, volume)
        if problem is None:
            continue
        field, text = problem
        error = errors.InvalidRecord(label(kind, owner, key), field, f"(seq {seq}) {text}")
        if volume.mode != WARN:
            raise error
        warnings.append(str(error))
    return tuple(warnings)
