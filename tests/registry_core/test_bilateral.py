"""The bilateral agreement core: one canonical content, and every allowed and refused
transition."""

from __future__ import annotations

import pytest

from registry.v1 import records_pb2 as rec
from registry_core.bilateral import (
    TRANSITIONS,
    Action,
    State,
    TransitionRefused,
    Version,
    amend,
    apply,
    content_hash,
)
from tests.factories import agreement, group, ref

A, B = "uk.ac.taff", "uk.ac.forth"


def test_same_agreement_entered_in_two_orders_hashes_the_same() -> None:
    one = agreement(
        source=group(
            rec.GROUP_OPERATOR_ALL_OF,
            ref(B, "X"),
            ref(B, "Y"),
            rec.SourceItem(
                group=group(
                    rec.GROUP_OPERATOR_ANY_OF, ref("uk.ac.lagan", "P"), ref("uk.ac.lagan", "Q")
                )
            ),
        )
    )
    two = agreement(
        source=group(
            rec.GROUP_OPERATOR_ALL_OF,
            rec.SourceItem(
                group=group(
                    rec.GROUP_OPERATOR_ANY_OF, ref("uk.ac.lagan", "Q"), ref("uk.ac.lagan", "P")
                )
            ),
            ref(B, "Y"),
            ref(B, "X"),
        ),
        version=7,
        status=rec.RECORD_STATUS_DRAFT,
    )
    assert content_hash(one) == content_hash(two)
    changed = agreement(source=group(rec.GROUP_OPERATOR_ANY_OF, ref(B, "X"), ref(B, "Y")))
    assert content_hash(changed) != content_hash(
        agreement(source=group(rec.GROUP_OPERATOR_ALL_OF, ref(B, "X"), ref(B, "Y")))
    )


def version(state: State, h: str = "h1") -> Version:
    return Version(proposer=A, partner=B, version=1, content_hash=h, state=state)


def test_propose_countersign_suspend_resume_terminate() -> None:
    v = apply(version(State.DRAFT), Action.PROPOSE, A, "h1", "")
    v = apply(v, Action.COUNTERSIGN, B, "h1", "")
    assert v.state is State.ACTIVE
    v = apply(v, Action.SUSPEND, B, "h1", "under review")
    v = apply(v, Action.RESUME, A, "h1", "")
    v = apply(v, Action.TERMINATE, A, "h1", "programme closed")  # no consent needed
    assert v.state is State.TERMINATED


@pytest.mark.parametrize(
    ("state", "action", "actor", "signed", "reason", "words"),
    [
        (State.PROPOSED, Action.COUNTERSIGN, A, "h1", "", "only the partner"),
        (State.PROPOSED, Action.WITHDRAW, B, "h1", "x", "only the proposer"),
        (State.DRAFT, Action.PROPOSE, B, "h1", "", "only the proposer"),
        (State.PROPOSED, Action.COUNTERSIGN, "uk.ac.lagan", "h1", "", "not a party"),
        (State.PROPOSED, Action.COUNTERSIGN, B, "h2", "", "signature covers content"),
        (State.ACTIVE, Action.COUNTERSIGN, B, "h1", "", "does not allow 'countersign'"),
        (State.TERMINATED, Action.RESUME, A, "h1", "", "allowed now: nothing"),
        (State.REJECTED, Action.PROPOSE, A, "h1", "", "does not allow 'propose'"),
        (State.PROPOSED, Action.REJECT, B, "h1", " ", "needs a reason"),
    ],
)
def test_refused_transitions_say_why(
    state: State, action: Action, actor: str, signed: str, reason: str, words: str
) -> None:
    with pytest.raises(TransitionRefused, match=words):
        apply(version(state), action, actor, signed, reason)


def test_every_transition_in_the_table_is_reachable_from_draft() -> None:
    reachable, frontier = {State.DRAFT}, [State.DRAFT]
    while frontier:
        state = frontier.pop()
        for (source, _), (_, after) in TRANSITIONS.items():
            if source == state and after not in reachable:
                reachable.add(after)
                frontier.append(after)
    assert reachable == set(State)


def test_amendment_is_a_new_proposed_version_by_either_side() -> None:
    active = version(State.ACTIVE)
    new = amend(active, B, "h2")
    assert (new.version, new.state, new.proposer, new.partner) == (2, State.PROPOSED, B, A)
    assert apply(new, Action.COUNTERSIGN, A, "h2", "").state is State.ACTIVE
    with pytest.raises(TransitionRefused, match="changes nothing"):
        amend(active, A, "h1")
    with pytest.raises(TransitionRefused, match="only an active agreement"):
        amend(version(State.PROPOSED), A, "h2")
