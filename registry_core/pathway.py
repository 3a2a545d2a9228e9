"""Stacking toward a qualification, and conflicts between one publisher's agreements."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.conversion import table
from registry_core.records import source_credentials
from registry_core.resolution import provenance


def evaluate_pathway(qualification: rec.LearningUnit,
                     grants: Sequence[eq.GrantedCredit]) -> eq.EvaluatePathwayResponse:
    """How far grants at the qualification's institution go toward it, and what remains.
    Credit is counted in the qualification's credit system (converted through ECTS, rounded
    down); a grant counts toward a level requirement when its level is at or above it (EQF)."""
    t = table()
    rule = qualification.stacking_rule
    system = rule.total.system
    counted = [g for g in grants if g.credit.system]

    def in_system(grant: eq.GrantedCredit) -> float:
        return t.convert_credit(grant.credit.value, grant.credit.system, system)

    achieved = sum(in_system(g) for g in counted)
    answer = eq.EvaluatePathwayResponse(
        counted=counted,
        achieved=rec.Credit(value=achieved, system=system),
        remaining=rec.Credit(value=max(0.0, rule.total.value - achieved), system=system),
    )
    for requirement in rule.at_levels:
        floor = t.eqf_level(requirement.level.framework, requirement.level.level)
        at_level = sum(t.convert_credit(g.credit.value, g.credit.system, requirement.credit.system)
                       for g in counted if g.level.framework
                       and t.eqf_level(g.level.framework, g.level.level) >= floor)
        if at_level < requirement.credit.value:
            answer.remaining_at_levels.append(rec.LevelRequirement(
                level=requirement.level,
                credit=rec.Credit(value=requirement.credit.value - at_level,
                                  system=requirement.credit.system)))
    granted_units = {g.grant.unit_key for g in grants if g.grant.unit_key}
    answer.remaining_mandatory_unit_keys.extend(
        k for k in rule.mandatory_unit_keys if k not in granted_units)
    return answer


def _grant_text(agreement: rec.RecognitionAgreement) -> str:
    if agreement.grant.WhichOneof("grant") == "unit_key":
        return f"module {agreement.grant.unit_key}"
    general = agreement.grant.general_credit
    return (f"{general.credit.value:g} {general.credit.system} general credit at "
            f"{general.level.framework} {general.level.level}")


def find_conflicts(agreements: Sequence[rec.RecognitionAgreement]) -> list[eq.Conflict]:
    """Active agreements of one publisher that name the same source credential but grant
    different things: ambiguities for registrars to settle rather than apply silently."""
    by_source: dict[tuple[str, str], list[rec.RecognitionAgreement]] = defaultdict(list)
    for agreement in agreements:
        if agreement.status != rec.RECORD_STATUS_ACTIVE:
            continue
        for ref in source_credentials(agreement.source):
            by_source[ref].append(agreement)
    conflicts = []
    for (institution, key), found in sorted(by_source.items()):
        grants = {_grant_text(a) for a in found}
        if len(grants) < 2:
            continue
        found.sort(key=lambda a: a.key)
        conflicts.append(eq.Conflict(
            source=rec.CredentialRef(institution_id=institution, key=key),
            agreements=[provenance(a) for a in found],
            explanation=f"{institution}/{key} earns different grants: "
                        + "; ".join(f"{a.key} grants {_grant_text(a)}" for a in found)))
    return conflicts
