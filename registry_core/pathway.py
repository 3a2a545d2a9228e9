"""Stacking toward a qualification under its regulations, and conflicts between one
publisher's agreements.

A pathway answer is the one an admissions officer would sign: the grants a learner earns at
the awarding institution count toward the award only as its regulations allow
(AwardRegulations, docs/rules.md "Award regulations"), and each rule that held credit back
is named with the figures."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.conversion import table
from registry_core.records import granted_unit_keys, parse_date, source_credentials
from registry_core.resolution import compare_levels, linked, months_between, provenance

Ref = tuple[str, str]
SourceRecord = rec.MicroCredential | rec.LearningUnit


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


@dataclass
class _Item:
    """One grant on its way into the award: its credit in the award's system, as offered
    and as the rules so far leave it."""

    grant: eq.GrantedCredit
    name: str  # how answers name it: its last agreement's key, or "RPL <module>"
    offered: float
    value: float
    experiential: bool = False
    excluded: bool = False  # by a rule that keeps it out of the award altogether


def _name(grant: eq.GrantedCredit) -> str:
    if grant.HasField("prior_learning"):
        return f"RPL {grant.prior_learning.unit_key}"
    return grant.provenance[-1].agreement_key


class _Pathway:
    """The answer being built, with the figures each rule needs."""

    def __init__(self, qualification: rec.LearningUnit) -> None:
        self.rule = qualification.stacking_rule
        self.regs = self.rule.regulations
        self.system = self.rule.total.system
        self.answer = eq.EvaluatePathwayResponse()
        self.cited = f" ({self.regs.source})" if self.regs.source else ""

    def credit(self, value: float) -> rec.Credit:
        return rec.Credit(value=value, system=self.system)

    def limit(self, rule: eq.PathwayRule, explanation: str, items: Sequence[_Item] = (),
              offered: float | None = None, counted: float | None = None) -> None:
        found = self.answer.limited_by.add(rule=rule, explanation=explanation,
                                           grants=[i.name for i in items])
        if offered is not None:
            found.offered.CopyFrom(self.credit(offered))
        if counted is not None:
            found.counted.CopyFrom(self.credit(counted))
        self.answer.limits.append(explanation)

    def cap(self, limit: rec.CreditLimit) -> float:
        """A credit limit in the award's system: the tighter of its amount and share."""
        found = float("inf")
        if limit.HasField("credit"):
            found = table().convert_credit(limit.credit.value, limit.credit.system, self.system)
        if limit.HasField("share"):
            found = min(found, limit.share * self.rule.total.value)
        return found

    def amount(self, value: float) -> str:
        return f"{value:g} {self.system}"


def _prior_learning_grants(assessments: Sequence[eq.PriorLearningAssessment],
                           units: Mapping[str, rec.LearningUnit]) -> list[eq.GrantedCredit]:
    """Credit for each module whose outcomes the institution's assessment found all met and
    accepted (claims.check_prior_learning has refused any other accepted one)."""
    found = []
    for assessment in assessments:
        unit = units.get(assessment.unit_key)
        if assessment.decision != eq.RECOGNITION_DECISION_ACCEPTED or unit is None:
            continue
        granted = eq.GrantedCredit(grant=rec.Grant(unit_key=unit.key), unit_title=unit.title,
                                   credit=unit.credit, prior_learning=assessment)
        if unit.HasField("level"):
            granted.level.CopyFrom(unit.level)
        granted.units.add(unit_key=unit.key, title=unit.title, credit=unit.credit,
                          level=unit.level if unit.HasField("level") else None,
                          cross_listed_keys=unit.cross_listed_keys)
        found.append(granted)
    return found


def _unit_codes(grant: eq.GrantedCredit) -> set[str]:
    return ({*granted_unit_keys(grant.grant)}
            | {code for unit in grant.units for code in unit.cross_listed_keys})


def evaluate_pathway(qualification: rec.LearningUnit,
                     grants: Sequence[eq.GrantedCredit], *,
                     sources: Mapping[Ref, SourceRecord] | None = None,
                     units: Mapping[str, rec.LearningUnit] | None = None,
                     holdings: Sequence[eq.Holding] = (),
                     prior_learning: Sequence[eq.PriorLearningAssessment] = (),
                     as_of: dt.date | None = None) -> eq.EvaluatePathwayResponse:
    """How far grants at the qualification's institution, and its assessments of the
    learner's experiential learning, go toward the qualification under its regulations, and
    what remains.

    sources are the held credentials' records (for stackable and subject), units the
    institution's modules by key (for subjects and assessed prior learning), holdings the
    question's (for award dates), as_of the question's date. Credit is counted in the
    qualification's credit system (converted through ECTS, rounded down). In order:
    conditional grants are listed apart and count nothing until their conditions are met;
    grants whose agreements share holdings (also_satisfies) count the holdings' credit once;
    credit from a source stated not stackable, older than the regulations' currency limit,
    or outside their relevant subjects and programme modules does not count; experiential
    learning counts up to its own cap; all credit from elsewhere counts up to the tighter of
    the cap on it and what residency leaves. A grant counts toward a level requirement when
    its level is shown to reach it (conversion.compare_levels: within a framework by its
    order, across through the published referencing), within the same caps. Each rule that
    held credit back is in limited_by, with the figures."""
    sources = sources or {}
    units = units or {}
    t = table()
    p = _Pathway(qualification)
    answer = p.answer
    answer.conditional.extend(g for g in grants if g.conditional)
    plain = [g for g in grants if not g.conditional]
    items: list[_Item] = []
    for group in _shared_groups(plain):
        best = max(group, key=lambda g: t.to_ects(g.credit.value, g.credit.system)
                   if g.credit.system else 0.0)
        for grant in group:
            offered = (t.convert_credit(grant.credit.value, grant.credit.system, p.system)
                       if grant.credit.system else 0.0)
            item = _Item(grant, _name(grant), offered, offered if grant is best else 0.0)
            items.append(item)
            if grant is not best and grant.credit.system:
                p.limit(eq.PATHWAY_RULE_COUNTED_ONCE,
                        f"{item.name} uses the same holdings as {_name(best)} (the agreements "
                        "say one source satisfies both): its units count, its credit is not "
                        "counted again", [item], offered, 0.0)
    granted_codes = {code for g in plain for code in _unit_codes(g)}
    for grant in _prior_learning_grants(prior_learning, units):
        offered = t.convert_credit(grant.credit.value, grant.credit.system, p.system)
        item = _Item(grant, _name(grant), offered, offered, experiential=True)
        if grant.grant.unit_key in granted_codes:
            p.limit(eq.PATHWAY_RULE_COUNTED_ONCE,
                    f"{item.name}: module {grant.grant.unit_key} is already granted by an "
                    "agreement; the learning is credited once", [item], offered, 0.0)
            continue
        items.append(item)
    held = {(h.credential.institution_id, h.credential.key): h for h in holdings}
    for item in items:
        _apply_regulations(p, item, sources, units, held, as_of)
    _count(p, items)
    answer.counted.extend(i.grant for i in items if i.value > 0)
    usable = {code for i in items if not i.excluded for code in _unit_codes(i.grant)}
    answer.remaining_mandatory_unit_keys.extend(
        k for k in p.rule.mandatory_unit_keys if k not in usable)
    answer.to_study_here.extend(p.regs.residency)
    return answer


def _apply_regulations(p: _Pathway, item: _Item, sources: Mapping[Ref, SourceRecord],
                       units: Mapping[str, rec.LearningUnit], held: Mapping[Ref, eq.Holding],
                       as_of: dt.date | None) -> None:
    """Keep out of the award what its regulations do not admit, saying which and why."""
    used = [(h.institution_id, h.key) for h in item.grant.used_holdings]
    for ref in used:
        source = sources.get(ref)
        if (isinstance(source, rec.MicroCredential) and source.HasField("stackable")
                and not source.stackable):
            p.limit(eq.PATHWAY_RULE_NOT_STACKABLE,
                    f"{item.name} does not count toward the award: its source {ref[0]}/{ref[1]} "
                    "is stated not stackable by its provider (the grant itself stands)",
                    [item], item.value, 0.0)
            item.value, item.excluded = 0.0, True
            return
    limit = p.regs.max_credit_age_months
    if limit and as_of is not None:
        for ref in used:
            holding = held.get(ref)
            if holding is None:
                continue
            age = months_between(parse_date(holding.award_date), as_of)
            if age > limit:
                p.limit(eq.PATHWAY_RULE_NOT_CURRENT,
                        f"{item.name} does not count toward the award: {ref[0]}/{ref[1]} was "
                        f"awarded {age} months before {as_of}, and the regulations accept "
                        f"learning up to {limit} months old{p.cited}", [item], item.value, 0.0)
                item.value, item.excluded = 0.0, True
                return
    if p.regs.relevant_subjects_isced and not _relevant(p, item, sources, units):
        subjects = ", ".join(p.regs.relevant_subjects_isced)
        p.limit(eq.PATHWAY_RULE_NOT_RELEVANT,
                f"{item.name} does not count toward the award: it is neither for one of the "
                f"programme's modules nor in its subjects (ISCED-F {subjects}){p.cited}",
                [item], item.value, 0.0)
        item.value, item.excluded = 0.0, True


def _relevant(p: _Pathway, item: _Item, sources: Mapping[Ref, SourceRecord],
              units: Mapping[str, rec.LearningUnit]) -> bool:
    """Whether credit is relevant to the award: granted for one of its modules, or in one of
    its subjects (the granted units' subjects, else the general credit's, else the source
    credentials'); credit of no known subject is not shown relevant."""
    programme = {*p.rule.mandatory_unit_keys, *p.regs.programme_unit_keys}
    if _unit_codes(item.grant) & programme:
        return True
    subjects = [units[k].subject_isced for k in granted_unit_keys(item.grant.grant)
                if k in units and units[k].subject_isced]
    if not subjects and item.grant.grant.WhichOneof("grant") == "general_credit":
        subjects = [item.grant.grant.general_credit.subject_isced] if (
            item.grant.grant.general_credit.subject_isced) else []
    if not subjects:
        subjects = [s.subject_isced for h in item.grant.used_holdings
                    if (s := sources.get((h.institution_id, h.key))) is not None
                    and s.subject_isced]
    return bool(subjects) and all(
        any(subject.startswith(prefix) for prefix in p.regs.relevant_subjects_isced)
        for subject in subjects)


def _count(p: _Pathway, items: Sequence[_Item]) -> None:
    """The totals under the caps, and the level requirements within them."""
    t = table()
    answer, regs, total = p.answer, p.regs, p.rule.total.value
    experiential = sum(i.value for i in items if i.experiential)
    if regs.HasField("max_experiential"):
        cap = p.cap(regs.max_experiential)
        if experiential > cap:
            p.limit(eq.PATHWAY_RULE_MAX_EXPERIENTIAL,
                    f"{p.amount(cap)} of {p.amount(experiential)} from experiential learning "
                    f"counted: the award admits at most {p.amount(cap)} from it{p.cited}",
                    [i for i in items if i.experiential and i.value], experiential, cap)
            experiential = cap
    external = sum(i.value for i in items if not i.experiential) + experiential
    residency = sum(t.convert_credit(r.credit.value, r.credit.system, p.system)
                    for r in regs.residency)
    cap_elsewhere = p.cap(regs.max_from_elsewhere) if regs.HasField("max_from_elsewhere") \
        else float("inf")
    room = total - residency
    counted = min(external, cap_elsewhere, room)
    if external > counted:
        contributing = [i for i in items if i.value]
        if cap_elsewhere <= room:
            p.limit(eq.PATHWAY_RULE_MAX_FROM_ELSEWHERE,
                    f"{p.amount(counted)} of {p.amount(external)} from elsewhere counted: the "
                    f"award admits at most {p.amount(cap_elsewhere)} from transfer and prior "
                    f"learning{p.cited}", contributing, external, counted)
        else:
            p.limit(eq.PATHWAY_RULE_RESIDENCY,
                    f"{p.amount(counted)} of {p.amount(external)} from elsewhere counted: "
                    f"{p.amount(residency)} of the award's {p.amount(total)} must be studied "
                    f"at the institution{p.cited}", contributing, external, counted)
    counted = min(counted, total)
    answer.achieved.CopyFrom(p.credit(counted))
    answer.remaining.CopyFrom(p.credit(max(0.0, total - counted)))
    answer.counted_from_elsewhere.CopyFrom(p.credit(counted))
    answer.counted_experiential.CopyFrom(p.credit(min(experiential, counted)))
    for requirement in p.rule.at_levels:
        _at_level(p, items, requirement, counted)


def _at_level(p: _Pathway, items: Sequence[_Item], requirement: rec.LevelRequirement,
              counted: float) -> None:
    """Credit toward one level requirement: grants shown to reach its level, no more than
    all credit counted from elsewhere, nor than the requirement less the residency that
    must be studied here at a level reaching it."""
    t = table()
    floor = requirement.level
    system = requirement.credit.system
    at_level = 0.0
    for item in items:
        if not item.value:
            continue
        grant = item.grant
        if not grant.level.framework:
            p.limit(eq.PATHWAY_RULE_LEVEL_NOT_SHOWN,
                    f"{item.name} has no level, so it does not count toward {floor.framework} "
                    f"{floor.level}", [item])
            continue
        compared = compare_levels((grant.level.framework, grant.level.level),
                                  (floor.framework, floor.level))
        if compared.meets:
            at_level += t.convert_credit(item.value, p.system, system)
        elif compared.meets is None:
            p.limit(eq.PATHWAY_RULE_LEVEL_NOT_SHOWN,
                    f"{item.name} does not count toward {floor.framework} {floor.level}: "
                    f"{compared.how}", [item])
    here = sum(t.convert_credit(r.credit.value, r.credit.system, system)
               for r in p.regs.residency
               if r.HasField("level") and compare_levels(
                   (r.level.framework, r.level.level), (floor.framework, floor.level)).meets)
    at_level = min(at_level, t.convert_credit(counted, p.system, system),
                   max(0.0, requirement.credit.value - here))
    if at_level < requirement.credit.value:
        p.answer.remaining_at_levels.append(rec.LevelRequirement(
            level=requirement.level,
            credit=rec.Credit(value=requirement.credit.value - at_level, system=system)))


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
