"""The agent's side of bilateral agreements: sign a step, send it, and read what the last
sync pulled (what awaits this institution's decision)."""

from __future__ import annotations

import datetime as dt

from registry.v1 import bilateral_pb2 as bi
from registry.v1 import records_pb2 as rec
from registry_core.bilateral import STEP_PAYLOAD_TYPE, content_hash
from registry_core.envelope import Signer, seal
from sync_agent.client import Registry
from sync_agent.store import AgentStore

ACTIONS = {
    "countersign": bi.BILATERAL_ACTION_COUNTERSIGN,
    "reject": bi.BILATERAL_ACTION_REJECT,
    "withdraw": bi.BILATERAL_ACTION_WITHDRAW,
    "suspend": bi.BILATERAL_ACTION_SUSPEND,
    "resume": bi.BILATERAL_ACTION_RESUME,
    "terminate": bi.BILATERAL_ACTION_TERMINATE,
}


class BilateralError(Exception):
    """A step the agent cannot prepare; the message says what to do."""


def _send(client: Registry, signer: Signer, step: bi.BilateralStep) -> bi.ActResponse:
    step.signed_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return client.act(seal(step.SerializeToString(), signer, STEP_PAYLOAD_TYPE))


def propose(
    client: Registry,
    signer: Signer,
    institution_id: str,
    terms: rec.RecognitionAgreement,
    partner: str,
    agreement_id: str = "",
    version: int = 1,
) -> bi.ActResponse:
    """Propose terms to partner (a new agreement, or version n of an active one)."""
    step = bi.BilateralStep(
        agreement_id=agreement_id or f"{institution_id}/{terms.key}",
        version=version,
        action=bi.BILATERAL_ACTION_PROPOSE,
        actor=institution_id,
        partner=partner,
        terms=terms,
        content_hash=content_hash(terms),
    )
    return _send(client, signer, step)


def act(
    client: Registry,
    signer: Signer,
    store: AgentStore,
    action: str,
    agreement_id: str,
    version: int,
    reason: str = "",
) -> bi.ActResponse:
    """Counter-sign, reject, withdraw, suspend, resume or terminate a version, signing the
    hash of the terms as this agent received them (sync first to have them)."""
    proposal = store.bilateral_terms(agreement_id, version)
    if proposal is None:
        raise BilateralError(
            f"no terms of {agreement_id} version {version} in this store; run "
            "`sync-agent sync` to pull them, then try again"
        )
    step = bi.BilateralStep(
        agreement_id=agreement_id,
        version=version,
        action=ACTIONS[action],
        actor=store.institution_id,
        reason=reason,
        content_hash=content_hash(proposal.terms),
    )
    return _send(client, signer, step)


def awaiting_decision(store: AgentStore) -> list[bi.BilateralStep]:
    """Proposals made to this institution that it has not decided on yet."""
    return [
        step
        for step, state in store.bilateral_latest()
        if state == bi.BILATERAL_STATE_PROPOSED
        and step.actor != store.institution_id
        and step.action == bi.BILATERAL_ACTION_PROPOSE
    ]


def in_force_before(
    store: AgentStore, agreement_id: str, version: int
) -> tuple[int, rec.RecognitionAgreement | None] | None:
    """The version of an agreement in force (active or suspended) before version, with its
    terms (None when this store never pulled them); None when no earlier version is in force,
    as for a new agreement."""
    earlier = [
        step.version
        for step, state in store.bilateral_latest()
        if step.agreement_id == agreement_id
        and step.version < version
        and state in (bi.BILATERAL_STATE_ACTIVE, bi.BILATERAL_STATE_SUSPENDED)
    ]
    if not earlier:
        return None
    proposal = store.bilateral_terms(agreement_id, max(earlier))
    return max(earlier), proposal.terms if proposal is not None else None
