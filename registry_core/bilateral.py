"""Bilateral agreements: one record, two signatures.

The pure core of issue 5: the canonical content hash both parties sign, and the state
machine of an agreement's life (draft → proposed → active → suspended → terminated, plus
rejected and withdrawn). Storage, the RPCs and the agents' pull of pending actions build on
this; nothing here knows of them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum

from registry.v1 import records_pb2 as rec
from registry_core.errors import RegistryError

STEP_PAYLOAD_TYPE = "application/vnd.credit-registry.bilateral-step.v1+protobuf"


def _canonical_group(group: rec.SourceGroup) -> rec.SourceGroup:
    """The group with its items in one order: members of a group are a set, so the order a
    registrar entered them in must not change what both sides sign."""
    items = []
    for item in group.items:
        if item.WhichOneof("item") == "group":
            items.append(rec.SourceItem(group=_canonical_group(item.group)))
        else:
            items.append(rec.SourceItem(credential=item.credential))
    items.sort(key=lambda i: i.SerializeToString(deterministic=True))
    return rec.SourceGroup(operator=group.operator, n=group.n, items=items)


def canonical_content(agreement: rec.RecognitionAgreement) -> bytes:
    """What both parties sign: the agreement's terms, without its lifecycle (status,
    version), in one serialisation whatever the order its groups were entered in."""
    terms = rec.RecognitionAgreement()
    terms.CopyFrom(agreement)
    terms.ClearField("status")
    terms.ClearField("version")
    terms.source.CopyFrom(_canonical_group(agreement.source))
    return terms.SerializeToString(deterministic=True)


def content_hash(agreement: rec.RecognitionAgreement) -> str:
    return hashlib.sha256(canonical_content(agreement)).hexdigest()


class State(Enum):
    DRAFT = "draft"
    PROPOSED = "proposed"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Action(Enum):
    PROPOSE = "propose"
    COUNTERSIGN = "countersign"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    SUSPEND = "suspend"
    RESUME = "resume"
    TERMINATE = "terminate"


class Party(Enum):
    PROPOSER = "proposer"
    PARTNER = "partner"
    EITHER = "either"


# (state, action) -> (who may act, the state after). Terminating needs no consent of the
# other side; suspending and resuming are either side's.
TRANSITIONS: dict[tuple[State, Action], tuple[Party, State]] = {
    (State.DRAFT, Action.PROPOSE): (Party.PROPOSER, State.PROPOSED),
    (State.PROPOSED, Action.COUNTERSIGN): (Party.PARTNER, State.ACTIVE),
    (State.PROPOSED, Action.REJECT): (Party.PARTNER, State.REJECTED),
    (State.PROPOSED, Action.WITHDRAW): (Party.PROPOSER, State.WITHDRAWN),
    (State.ACTIVE, Action.SUSPEND): (Party.EITHER, State.SUSPENDED),
    (State.SUSPENDED, Action.RESUME): (Party.EITHER, State.ACTIVE),
    (State.ACTIVE, Action.TERMINATE): (Party.EITHER, State.TERMINATED),
    (State.SUSPENDED, Action.TERMINATE): (Party.EITHER, State.TERMINATED),
}


class TransitionRefused(RegistryError):
    """A transition the agreement's state, the actor or the signed content does not allow."""


class PartyRefused(TransitionRefused):
    """The actor is not a party, or not the party allowed to take this step."""


class ReasonRequired(TransitionRefused):
    """The step needs a reason and has none."""


@dataclass(frozen=True)
class Version:
    """One version of a bilateral agreement as the registry holds it."""

    proposer: str
    partner: str
    version: int
    content_hash: str
    state: State


def apply(current: Version, action: Action, actor: str, signed_hash: str, reason: str) -> Version:
    """The version after actor's action, or TransitionRefused saying why not. signed_hash is
    the content hash the actor signed: a counter-signature over other content (a drifted copy)
    is refused, which is what keeps one record instead of two copies that disagree."""
    if actor not in (current.proposer, current.partner):
        raise PartyRefused(
            f"{actor} is not a party to this agreement "
            f"({current.proposer} and {current.partner} are)"
        )
    allowed = TRANSITIONS.get((current.state, action))
    if allowed is None:
        raise TransitionRefused(
            f"an agreement that is {current.state.value} does not allow "
            f"'{action.value}'; allowed now: "
            + (", ".join(a.value for (s, a) in TRANSITIONS if s == current.state) or "nothing")
        )
    party, after = allowed
    if party is Party.PROPOSER and actor != current.proposer:
        raise PartyRefused(f"only the proposer {current.proposer} may {action.value}")
    if party is Party.PARTNER and actor != current.partner:
        raise PartyRefused(f"only the partner {current.partner} may {action.value}")
    if signed_hash != current.content_hash:
        raise TransitionRefused(
            f"the signature covers content {signed_hash[:12]}…, not version "
            f"{current.version}'s {current.content_hash[:12]}…; fetch the "
            "current version and sign that"
        )
    if (
        action in (Action.REJECT, Action.SUSPEND, Action.TERMINATE, Action.WITHDRAW)
        and not reason.strip()
    ):
        raise ReasonRequired(f"{action.value} needs a reason, for the other side and the history")
    return Version(current.proposer, current.partner, current.version, current.content_hash, after)


def amend(current: Version, proposer: str, new_hash: str) -> Version:
    """A new version proposed by either party of an active agreement; the current version
    stays in force until the new one is counter-signed."""
    if current.state is not State.ACTIVE:
        raise TransitionRefused(
            f"only an active agreement can be amended; this one is {current.state.value}"
        )
    if proposer not in (current.proposer, current.partner):
        raise PartyRefused(f"{proposer} is not a party to this agreement")
    if new_hash == current.content_hash:
        raise TransitionRefused("the amendment changes nothing; edit the terms first")
    partner = current.partner if proposer == current.proposer else current.proposer
    return Version(proposer, partner, current.version + 1, new_hash, State.PROPOSED)
