"""What a question claims about a learner, checked against the published records.

A partner's question states what the learner holds (credential, award date, grade) and, for
a pathway, what the qualification's institution assessed of the learner's experiential
learning. The registry does not take those claims on trust where the records or the
calendar contradict them: a claim that cannot be true is bad input, refused with the field
and the fix (the caller must correct the question), not an agreement that "did not apply".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.records import parse_date

Ref = tuple[str, str]
SourceRecord = rec.MicroCredential | rec.LearningUnit
MAX_PRIOR_LEARNING = 100


@dataclass(frozen=True)
class BadClaim:
    """One claim refused: the request's field, what is wrong and what to do."""

    field: str
    problem: str


def check_holdings(
    holdings: Sequence[eq.Holding], sources: Mapping[Ref, SourceRecord], latest: dt.date
) -> BadClaim | None:
    """The first holding claim that cannot be true, or None. latest is the last day an award
    can have happened: the question's date, or today when that is earlier (an award in the
    future has not happened). A grade must be in the scheme the credential's record states,
    where it states one (a percentage is not a grade of a pass/fail credential)."""
    for i, holding in enumerate(holdings):
        if parse_date(holding.award_date) > latest:
            return BadClaim(
                f"holdings[{i}].award_date",
                f"{holding.award_date} is after {latest}: an award in the future "
                "has not happened; give the date the credential was awarded",
            )
        if not holding.HasField("grade"):
            continue
        ref = (holding.credential.institution_id, holding.credential.key)
        source = sources.get(ref)
        scheme = source.grading_scheme if source is not None else ""
        if scheme and holding.grade.scheme != scheme:
            return BadClaim(
                f"holdings[{i}].grade.scheme",
                f"{ref[0]}/{ref[1]} is graded {scheme}, so a "
                f"{holding.grade.scheme or 'scheme-less'} grade cannot be one of "
                f"its results; give its grade in {scheme}, or no grade",
            )
    return None


def check_prior_learning(
    assessments: Sequence[eq.PriorLearningAssessment],
    units: Mapping[str, rec.LearningUnit],
    institution_id: str,
    latest: dt.date,
) -> BadClaim | None:
    """The first assessment of experiential learning that is not a complete, possible
    record of the institution's decision, or None. units are the institution's active units
    by key (those the assessments name)."""
    if len(assessments) > MAX_PRIOR_LEARNING:
        return BadClaim(
            "prior_learning", f"has {len(assessments)} entries; send at most {MAX_PRIOR_LEARNING}"
        )
    seen: set[str] = set()
    for i, assessment in enumerate(assessments):
        where = f"prior_learning[{i}]"
        unit = units.get(assessment.unit_key)
        if unit is None:
            return BadClaim(
                f"{where}.unit_key",
                f"'{assessment.unit_key[:60]}' is not an active "
                f"module of {institution_id}; name the module the learning was "
                "assessed against",
            )
        if unit.kind != rec.LEARNING_UNIT_KIND_MODULE:
            return BadClaim(
                f"{where}.unit_key",
                f"{institution_id}/{unit.key} is a "
                "qualification; experiential learning is assessed against a module",
            )
        if not unit.learning_outcomes:
            return BadClaim(
                f"{where}.unit_key",
                f"{institution_id}/{unit.key} states no "
                "learning_outcomes to assess against; publish them with the module",
            )
        if assessment.unit_key in seen:
            return BadClaim(
                f"{where}.unit_key",
                f"assesses {assessment.unit_key} again; send the one decision that stands",
            )
        seen.add(assessment.unit_key)
        if not assessment.assessor.strip():
            return BadClaim(f"{where}.assessor", "is required; name who assessed the evidence")
        try:
            assessed = parse_date(assessment.assessed_on)
        except ValueError as exc:
            return BadClaim(f"{where}.assessed_on", str(exc))
        if assessed > latest:
            return BadClaim(
                f"{where}.assessed_on",
                f"{assessed} is after {latest}; give the date of the decision",
            )
        count = len(unit.learning_outcomes)
        for n, outcome in enumerate(assessment.outcomes_met):
            if not 1 <= outcome <= count or outcome in assessment.outcomes_met[:n]:
                return BadClaim(
                    f"{where}.outcomes_met[{n}]",
                    f"{outcome} is not one of outcomes 1 to {count} of "
                    f"{institution_id}/{unit.key}, or repeats one; number each "
                    "outcome met once",
                )
        if assessment.decision not in (
            eq.RECOGNITION_DECISION_ACCEPTED,
            eq.RECOGNITION_DECISION_REFUSED,
        ):
            return BadClaim(f"{where}.decision", "is required; use ACCEPTED or REFUSED")
        if (
            assessment.decision == eq.RECOGNITION_DECISION_ACCEPTED
            and len(assessment.outcomes_met) < count
        ):
            unmet = sorted(set(range(1, count + 1)) - set(assessment.outcomes_met))
            return BadClaim(
                f"{where}.decision",
                f"accepts a claim that does not meet outcomes "
                f"{', '.join(map(str, unmet))} of {institution_id}/{unit.key}; "
                "credit for a module is given for all of its outcomes: record the "
                "decision as REFUSED, or the outcomes the evidence meets",
            )
    return None
