"""Stacking toward a qualification, and conflicts between one publisher's agreements."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.conversion import table
from registry_core.records import granted_unit_keys, source_credentials
from registry_core.resolution import compare_levels, linked, provenance


def _shared_groups(grants: Sequence[eq.GrantedCredit]) -> list[list[eq.GrantedCredit]]:
    """The grants in groups that share holdings by their agreements' statement
    (shares_holdings_with, followed both ways), each group in the order given."""
    by_key = {g.provenance[-1].agreement_key: g for g in grants}
    seen: set[str] = set()
    groups = []
    for grant in grants:
        key = grant.provenance[-1].agreement_key
        if key in seen:
            continue
        group, to_visit = [], [key]
        seen.add(key)
        while to_visit:
            member = by_key[to_visit.pop()]
            group.append(member)
            for other in member.shares_holdings_with:
                if other in by_key and other not in seen:
                    seen.add(other)
                    to_visit.append(other)
        groups.append(sorted(group, key=grants.index))
    return groups


def evaluate_pathway(qualification: rec.LearningUnit,
                     grants: Sequence[eq.GrantedCredit]) -> eq.EvaluatePathwayResponse:
    """How far grants at the qualification's institution go toward it, and what remains.

    Credit is counted in the qualification's credit system (converted through ECTS, rounded
    down). Conditional grants are listed apart and count nothing until their conditions are
    met. Grants whose agreements share the same holdings (also_satisfies) count the holdings'
    credit once: the grant worth most counts, the others satisfy their units with no credit
    (a limit says so). A grant counts toward a level requirement when its level is shown to
    reach it (conversion.compare_levels: within a framework by its order, across through the
    published referencing); one that cannot be shown to is not counted there, and a limit
    says so."""
    t = table()
    rule = qualification.stacking_rule
    system = rule.total.system
    plain = [g for g in grants if not g.conditional]
    answer = eq.EvaluatePathwayResponse(conditional=[g for g in grants if g.conditional])
    counted: list[tuple[eq.GrantedCredit, float]] = []  # each plain grant, its credit counted
    for group in _shared_groups(plain):
        best = max(group, key=lambda g: t.to_ects(g.credit.value, g.credit.system)
                   if g.credit.system else 0.0)
        for grant in group:
            value = (t.convert_credit(grant.credit.value, grant.credit.system, system)
                     if grant.credit.system and grant is best else 0.0)
            counted.append((grant, value))
            if grant is not best and grant.credit.system:
                answer.limits.append(
                    f"{grant.provenance[-1].agreement_key} uses the same holdings as "
                    f"{best.provenance[-1].agreement_key} (the agreements say one source "
                    "satisfies both): its units count, its credit is not counted again")
    answer.counted.extend(g for g, _ in counted if g.credit.system)
    achieved = sum(value for _, value in counted)
    answer.achieved.CopyFrom(rec.Credit(value=achieved, system=system))
    answer.remaining.CopyFrom(rec.Credit(value=max(0.0, rule.total.value - achieved),
                                         system=system))
    for requirement in rule.at_levels:
        floor = requirement.level
        at_level = 0.0
        for grant, value in counted:
            if not value:
                continue
            if not grant.level.framework:
                answer.limits.append(f"{grant.provenance[-1].agreement_key} has no level, so "
                                     f"it does not count toward {floor.framework} {floor.level}")
                continue
            compared = compare_levels((grant.level.framework, grant.level.level),
                                      (floor.framework, floor.level))
            if compared.meets:
                at_level += t.convert_credit(value, system, requirement.credit.system)
            elif compared.meets is None:
                answer.limits.append(f"{grant.provenance[-1].agreement_key} does not count "
                                     f"toward {floor.framework} {floor.level}: {compared.how}")
        if at_level < requirement.credit.value:
            answer.remaining_at_levels.append(rec.LevelRequirement(
                level=requirement.level,
                credit=rec.Credit(value=requirement.credit.value - at_level,
                                  system=requirement.credit.system)))
    granted_units = {key for g in plain for key in granted_unit_keys(g.grant)}
    granted_units |= {code for g in plain for unit in g.units for code in unit.cross_listed_keys}
    answer.remaining_mandatory_unit_keys.extend(
        k for k in rule.mandatory_unit_keys if k not in granted_units)
    return answer


def _grant_text(agreement: rec.RecognitionAgreement) -> str:
    which = agreement.grant.WhichOneof("grant")
    if which == "unit_key":
        return f"module {agreement.grant.unit_key}"
    if which == "units":
        return f"modules {' + '.join(agreement.grant.units.unit_keys)}"
    general = agreement.grant.general_credit
    return (f"{general.credit.value:g} {general.credit.system} general credit at "
            f"{general.level.framework} {general.level.level}")


def _intended(found: Sequence[rec.RecognitionAgreement]) -> bool:
    """Whether every two of the agreements state that the same source satisfies both."""
    return all(linked(a, b) for n, a in enumerate(found) for b in found[n + 1:])


def find_conflicts(agreements: Sequence[rec.RecognitionAgreement]) -> list[eq.Conflict]:
    """Active agreements of one publisher that name the same source credential but grant
    different things: contradictions for registrars to settle rather than apply silently,
    or one-to-many articulations the agreements state as intended (also_satisfies), reported
    as such for review."""
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
        intended = _intended(found)
        conflicts.append(eq.Conflict(
            source=rec.CredentialRef(institution_id=institution, key=key),
            agreements=[provenance(a) for a in found],
            kind=(eq.CONFLICT_KIND_INTENDED_ONE_TO_MANY if intended
                  else eq.CONFLICT_KIND_CONTRADICTION),
            explanation=f"{institution}/{key} earns different grants"
                        + (" by the agreements' own statement (also_satisfies)" if intended
                           else "") + ": "
                        + "; ".join(f"{a.key} grants {_grant_text(a)}" for a in found)))
    return conflicts
