"""Stacking toward a qualification under its regulations, and conflicts between one
publisher's agreements.

A pathway answer is the one an admissions officer would sign: the grants a learner earns at
the awarding institution count toward the award only as its regulations allow
(AwardRegulations, docs/rules.md "Award regulations"), and each rule that held credit back
is named with the figures."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.conversion import table
from registry_core.records import granted_unit_keys, source_credentials
from registry_core.resolution import compare_levels, linked, provenance, resolve, too_old

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
    """One grant on its way into the award: its credit in the award's system, as the rules
    so far leave it."""

    grant: eq.GrantedCredit
    name: str  # how answers name it: its last agreement's key, or "RPL <module>"
    value: float
    experiential: bool = False
    excluded: bool = False  # by a rule that keeps it out of the award altogether


def _name(grant: eq.GrantedCredit) -> str:
    if grant.HasField("prior_learning"):
        return f"RPL {grant.prior_learning.unit_key}"
    return grant.provenance[-1].agreement_key


class _Pathway:
    """The answer being built, with what each rule needs: the qualification's rule and
    regulations, and the learner's records (sources by reference, the institution's units by
    key, holdings by reference, the question's date)."""

    def __init__(
        self,
        qualification: rec.LearningUnit,
        *,
        sources: Mapping[Ref, SourceRecord] | None = None,
        units: Mapping[str, rec.LearningUnit] | None = None,
        holdings: Sequence[eq.Holding] = (),
        as_of: dt.date | None = None,
    ) -> None:
        self.rule = qualification.stacking_rule
        self.regs = self.rule.regulations
        self.system = self.rule.total.system
        self.answer = eq.EvaluatePathwayResponse()
        self.cited = f" ({self.regs.source})" if self.regs.source else ""
        self.sources = sources or {}
        self.units = units or {}
        self.held = {(h.credential.institution_id, h.credential.key): h for h in holdings}
        self.as_of = as_of

    def credit(self, value: float) -> rec.Credit:
        return rec.Credit(value=value, system=self.system)

    def limit(
        self,
        rule: eq.PathwayRule,
        explanation: str,
        items: Sequence[_Item] = (),
        offered: float | None = None,
        counted: float | None = None,
    ) -> None:
        found = self.answer.limited_by.add(
            rule=rule, explanation=explanation, grants=[i.name for i in items]
        )
        if offered is not None:
            found.offered.CopyFrom(self.credit(offered))
        if counted is not None:
            found.counted.CopyFrom(self.credit(counted))
        self.answer.limits.append(explanation)

    def cap(self, limit: rec.CreditLimit) -> tuple[float, str]:
        """A credit limit in the award's system (the tighter of its amount and share, a share
        rounded to the half credit, as credit is counted), and how the regulations state it
        when that is not the figure itself."""
        found, stated = float("inf"), []
        t = table()
        if limit.HasField("credit"):
            found = t.convert_credit(limit.credit.value, limit.credit.system, self.system)
            if limit.credit.system != self.system:
                stated.append(f"{limit.credit.value:g} {limit.credit.system}")
        if limit.HasField("share"):
            # 0.6667 of 180 is 120.006: a share written to four places means the credit it
            # rounds to, so within a tenth of a credit it is that credit; else rounded down.
            share = math.floor(limit.share * self.rule.total.value * 2 + 0.1) / 2
            if share < found:
                found = share
                stated.append(
                    f"{limit.share:.4g} of the award's {self.amount(self.rule.total.value)}"
                )
        return found, f" ({', '.join(stated)})" if stated else ""

    def amount(self, value: float) -> str:
        return f"{value:g} {self.system}"

    def exclusion(
        self,
        grant: eq.GrantedCredit,
        name: str,
    ) -> tuple[eq.PathwayRule, str] | None:
        """The rule that keeps a grant's credit out of the award altogether, with why: a
        source stated not stackable, credit older than the currency limit, or credit outside
        the relevant subjects and programme modules; None when it may count."""
        used = [(h.institution_id, h.key) for h in grant.used_holdings]
        for ref in used:
            source = self.sources.get(ref)
            if (
                isinstance(source, rec.MicroCredential)
                and source.HasField("stackable")
                and not source.stackable
            ):
                return (
                    eq.PATHWAY_RULE_NOT_STACKABLE,
                    f"{name} does not count toward the award: its provider states that "
                    f"{ref[0]}/{ref[1]} stands alone (not stackable); the grant itself "
                    "still holds at the institution",
                )
        limit = self.regs.max_credit_age_months
        if limit and self.as_of is not None:
            for ref in used:
                holding = self.held.get(ref)
                if holding is None:
                    continue
                old = too_old(holding.award_date, limit, self.as_of)
                if old is not None:
                    return (
                        eq.PATHWAY_RULE_NOT_CURRENT,
                        f"{name} does not count toward the award: {ref[0]}/{ref[1]} {old}, "
                        f"and the regulations accept learning up to {limit} months "
                        f"old{self.cited}",
                    )
        if self.regs.relevant_subjects_isced and not self.relevant(grant):
            subjects = ", ".join(self.regs.relevant_subjects_isced)
            return (
                eq.PATHWAY_RULE_NOT_RELEVANT,
                f"{name} does not count toward the award: it is neither for one of the "
                f"programme's modules nor in its subjects (ISCED-F {subjects}){self.cited}",
            )
        return None

    def counts(self, grant: eq.GrantedCredit) -> bool:
        """Whether a grant may count toward the award (for resolution to prefer it)."""
        return self.exclusion(grant, "") is None

    def relevant(self, grant: eq.GrantedCredit) -> bool:
        """Whether credit is relevant to the award: granted for one of its modules, or in one
        of its subjects (the granted units' subjects, else the general credit's, else the
        source credentials'); credit of no known subject is not shown relevant."""
        programme = {*self.rule.mandatory_unit_keys, *self.regs.programme_unit_keys}
        if _unit_codes(grant) & programme:
            return True
        subjects = [
            self.units[k].subject_isced
            for k in granted_unit_keys(grant.grant)
            if k in self.units and self.units[k].subject_isced
        ]
        if not subjects and grant.grant.WhichOneof("grant") == "general_credit":
            subjects = (
                [grant.grant.general_credit.subject_isced]
                if (grant.grant.general_credit.subject_isced)
                else []
            )
        if not subjects:
            subjects = [
                s.subject_isced
                for h in grant.used_holdings
                if (s := self.sources.get((h.institution_id, h.key))) is not None
                and s.subject_isced
            ]
        return bool(subjects) and all(
            any(subject.startswith(prefix) for prefix in self.regs.relevant_subjects_isced)
            for subject in subjects
        )


def _prior_learning_grants(
    assessments: Sequence[eq.PriorLearningAssessment], units: Mapping[str, rec.LearningUnit]
) -> list[eq.GrantedCredit]:
    """Credit for each module whose outcomes the institution's assessment found all met and
    accepted (claims.check_prior_learning has refused any other accepted one)."""
    found = []
    for assessment in assessments:
        unit = units.get(assessment.unit_key)
        if assessment.decision != eq.RECOGNITION_DECISION_ACCEPTED or unit is None:
            continue
        granted = eq.GrantedCredit(
            grant=rec.Grant(unit_key=unit.key),
            unit_title=unit.title,
            credit=unit.credit,
            prior_learning=assessment,
        )
        if unit.HasField("level"):
            granted.level.CopyFrom(unit.level)
        granted.units.add(
            unit_key=unit.key,
            title=unit.title,
            credit=unit.credit,
            level=unit.level if unit.HasField("level") else None,
            cross_listed_keys=unit.cross_listed_keys,
        )
        found.append(granted)
    return found


def _unit_codes(grant: eq.GrantedCredit) -> set[str]:
    return {*granted_unit_keys(grant.grant)} | {
        code for unit in grant.units for code in unit.cross_listed_keys
    }


def pathway(
    qualification: rec.LearningUnit,
    holdings: Sequence[eq.Holding],
    agreements: Sequence[rec.RecognitionAgreement],
    *,
    sources: Mapping[Ref, SourceRecord],
    units: Mapping[Ref, rec.LearningUnit],
    as_of: dt.date,
    prior_learning: Sequence[eq.PriorLearningAssessment] = (),
    max_depth: int = 1,
) -> eq.EvaluatePathwayResponse:
    """The whole pathway question: resolve the holdings at the qualification's institution
    (with the qualification as the learner's programme, preferring among rival grants those
    its regulations let count), then evaluate_pathway; the agreements that did not apply
    come with the answer. units are the institution's units by reference: those the
    agreements grant and those the assessments name."""
    institution = qualification.institution_id
    own = {key: unit for (owner, key), unit in units.items() if owner == institution}
    judge = _Pathway(qualification, sources=sources, units=own, holdings=holdings, as_of=as_of)
    grants, not_applied = resolve(
        holdings,
        agreements,
        sources=sources,
        units=units,
        as_of=as_of,
        target=institution,
        max_depth=max_depth,
        programme=qualification.key,
        counts=judge.counts,
    )
    answer = evaluate_pathway(
        qualification,
        grants,
        sources=sources,
        units=own,
        holdings=holdings,
        prior_learning=prior_learning,
        as_of=as_of,
    )
    answer.not_applied.extend(not_applied)
    return answer


def evaluate_pathway(
    qualification: rec.LearningUnit,
    grants: Sequence[eq.GrantedCredit],
    *,
    sources: Mapping[Ref, SourceRecord] | None = None,
    units: Mapping[str, rec.LearningUnit] | None = None,
    holdings: Sequence[eq.Holding] = (),
    prior_learning: Sequence[eq.PriorLearningAssessment] = (),
    as_of: dt.date | None = None,
) -> eq.EvaluatePathwayResponse:
    """How far grants at the qualification's institution, and its assessments of the
    learner's experiential learning, go toward the qualification under its regulations, and
    what remains.

    sources are the held credentials' records (for stackable and subject), units the
    institution's modules by key (for subjects and assessed prior learning), holdings the
    question's (for award dates), as_of the question's date. Credit is counted in the
    qualification's credit system (converted through ECTS, rounded down). In order:
    conditional grants are listed apart and count nothing until their conditions are met;
    credit from a source stated not stackable, older than the regulations' currency limit,
    or outside their relevant subjects and programme modules does not count; of grants
    whose agreements share holdings (also_satisfies), the one worth most of those that
    count counts the holdings' credit; an assessed module already granted by an agreement
    is credited once, by whichever gives more; experiential learning counts up to its own
    cap; all credit from elsewhere counts up to the tighter of the cap on it and what
    residency leaves. A level floor counts grants shown to reach its level
    (conversion.compare_levels: within a framework by its order, across through the
    published referencing), within the same caps; a mandatory module is met by a grant the
    caps admit. Each rule that held credit back is in limited_by, with the figures."""
    t = table()
    p = _Pathway(qualification, sources=sources, units=units, holdings=holdings, as_of=as_of)
    answer = p.answer
    answer.conditional.extend(g for g in grants if g.conditional)
    plain = [g for g in grants if not g.conditional]
    items: list[_Item] = []
    for grant in plain:
        offered = (
            t.convert_credit(grant.credit.value, grant.credit.system, p.system)
            if grant.credit.system
            else 0.0
        )
        items.append(_admitted(p, _Item(grant, _name(grant), offered)))
    item_of = {id(item.grant): item for item in items}
    for group in _shared_groups(plain):
        live = [item_of[id(g)] for g in group if g.credit.system and not item_of[id(g)].excluded]
        if len(live) < 2:
            continue
        best = max(live, key=lambda i: t.to_ects(i.grant.credit.value, i.grant.credit.system))
        for item in live:
            if item is not best:
                p.limit(
                    eq.PATHWAY_RULE_COUNTED_ONCE,
                    f"{item.name} uses the same holdings as {best.name} (the agreements "
                    "say one source satisfies both): its units count, and the holdings' "
                    f"credit counts once, through {best.name}",
                    [item],
                    item.value,
                    0.0,
                )
                item.value = 0.0
    for grant in _prior_learning_grants(prior_learning, p.units):
        offered = t.convert_credit(grant.credit.value, grant.credit.system, p.system)
        item = _admitted(p, _Item(grant, _name(grant), offered, experiential=True))
        unit = grant.grant.unit_key
        rival = next(
            (
                i
                for i in items
                if not i.excluded and not i.experiential and unit in _unit_codes(i.grant)
            ),
            None,
        )
        if rival is not None and not item.excluded:
            if item.value > rival.value:
                p.limit(
                    eq.PATHWAY_RULE_COUNTED_ONCE,
                    f"{rival.name} grants module {unit}, which the institution's "
                    f"assessment ({item.name}) recognises with more credit: the learning "
                    "is credited once, through the assessment",
                    [rival],
                    rival.value,
                    0.0,
                )
                rival.value = 0.0
            else:
                p.limit(
                    eq.PATHWAY_RULE_COUNTED_ONCE,
                    f"{item.name}: module {unit} is already granted by {rival.name} with "
                    "as much credit; the learning is credited once, through the agreement",
                    [item],
                    item.value,
                    0.0,
                )
                continue
        items.append(item)
    _count(p, items)
    answer.counted.extend(i.grant for i in items if i.value > 0)
    answer.to_study_here.extend(p.regs.residency)
    return answer


def _admitted(p: _Pathway, item: _Item) -> _Item:
    """The item, kept out of the award (value 0, excluded, the rule named) when its
    regulations do not admit its credit at all."""
    found = p.exclusion(item.grant, item.name)
    if found is not None:
        rule, why = found
        p.limit(rule, why, [item], item.value, 0.0)
        item.value, item.excluded = 0.0, True
    return item


def _count(p: _Pathway, items: Sequence[_Item]) -> None:
    """The totals under the caps, the level requirements and mandatory modules within them."""
    t = table()
    answer, regs, total = p.answer, p.regs, p.rule.total.value
    offered_experiential = sum(i.value for i in items if i.experiential)
    experiential = offered_experiential
    binding: eq.PathwayRule = eq.PATHWAY_RULE_UNSPECIFIED
    if regs.HasField("max_experiential"):
        cap, stated = p.cap(regs.max_experiential)
        if experiential > cap:
            p.limit(
                eq.PATHWAY_RULE_MAX_EXPERIENTIAL,
                f"{p.amount(cap)} of {p.amount(experiential)} from experiential learning "
                f"counted: the award admits at most {p.amount(cap)}{stated} from "
                f"it{p.cited}",
                [i for i in items if i.experiential and i.value],
                experiential,
                cap,
            )
            experiential = cap
    external = sum(i.value for i in items if not i.experiential) + experiential
    residency = sum(
        t.convert_credit(r.credit.value, r.credit.system, p.system) for r in regs.residency
    )
    cap_elsewhere, stated = (
        p.cap(regs.max_from_elsewhere)
        if regs.HasField("max_from_elsewhere")
        else (float("inf"), "")
    )
    room = total - residency
    counted = min(external, cap_elsewhere, room)
    if external > counted:
        contributing = [i for i in items if i.value]
        if cap_elsewhere <= room:
            binding = eq.PATHWAY_RULE_MAX_FROM_ELSEWHERE
            p.limit(
                binding,
                f"{p.amount(counted)} of {p.amount(external)} from elsewhere counted: the "
                f"award admits at most {p.amount(cap_elsewhere)}{stated} from transfer and "
                f"prior learning{p.cited}",
                contributing,
                external,
                counted,
            )
        else:
            binding = eq.PATHWAY_RULE_RESIDENCY
            p.limit(
                binding,
                f"{p.amount(counted)} of {p.amount(external)} from elsewhere counted: "
                f"{p.amount(residency)} of the award's {p.amount(total)} must be studied "
                f"at the institution{p.cited}",
                contributing,
                external,
                counted,
            )
    counted = min(counted, total)
    experiential = min(experiential, counted)
    answer.achieved.CopyFrom(p.credit(counted))
    answer.remaining.CopyFrom(p.credit(max(0.0, total - counted)))
    answer.counted_from_elsewhere.CopyFrom(p.credit(counted))
    answer.counted_experiential.CopyFrom(p.credit(experiential))
    for requirement in p.rule.at_levels:
        _at_level(p, items, requirement, counted, experiential)
    _mandatory(
        p,
        items,
        counted,
        experiential,
        binding if offered_experiential <= experiential else eq.PATHWAY_RULE_MAX_EXPERIENTIAL,
    )


def _at_level(
    p: _Pathway,
    items: Sequence[_Item],
    requirement: rec.LevelRequirement,
    counted: float,
    experiential: float,
) -> None:
    """Credit toward one level requirement: grants shown to reach its level (assessed
    experiential learning no more than its cap admits), no more than all credit counted
    from elsewhere, nor than the requirement less the residency that must be studied here
    at a level reaching it."""
    t = table()
    floor = requirement.level
    system = requirement.credit.system
    reached = {False: 0.0, True: 0.0}  # by whether experiential
    for item in items:
        if not item.value:
            continue
        grant = item.grant
        if not grant.level.framework:
            p.limit(
                eq.PATHWAY_RULE_LEVEL_NOT_SHOWN,
                f"{item.name} has no level, so it does not count toward {floor.framework} "
                f"{floor.level}",
                [item],
            )
            continue
        compared = compare_levels(
            (grant.level.framework, grant.level.level), (floor.framework, floor.level)
        )
        if compared.meets:
            reached[item.experiential] += t.convert_credit(item.value, p.system, system)
        elif compared.meets is None:
            p.limit(
                eq.PATHWAY_RULE_LEVEL_NOT_SHOWN,
                f"{item.name} does not count toward {floor.framework} {floor.level}: "
                f"{compared.how}",
                [item],
            )
    here = sum(
        t.convert_credit(r.credit.value, r.credit.system, system)
        for r in p.regs.residency
        if r.HasField("level")
        and compare_levels((r.level.framework, r.level.level), (floor.framework, floor.level)).meets
    )
    at_level = min(
        reached[False] + min(reached[True], t.convert_credit(experiential, p.system, system)),
        t.convert_credit(counted, p.system, system),
        max(0.0, requirement.credit.value - here),
    )
    if at_level < requirement.credit.value:
        p.answer.remaining_at_levels.append(
            rec.LevelRequirement(
                level=requirement.level,
                credit=rec.Credit(value=requirement.credit.value - at_level, system=system),
            )
        )


def _mandatory(
    p: _Pathway,
    items: Sequence[_Item],
    counted: float,
    experiential: float,
    binding: eq.PathwayRule,
) -> None:
    """The mandatory modules not yet met. A module is met by a grant (or assessment) whose
    credit the caps admit: the grants for mandatory modules are admitted first, in order,
    while the credit counted (and, for assessments, the experiential credit counted) lasts;
    a grant the caps leave out leaves its module to study, and a limit says so."""
    mandatory = set(p.rule.mandatory_unit_keys)
    budget, budget_experiential = counted + 1e-9, experiential + 1e-9
    met: set[str] = set()
    left_out: list[_Item] = []
    for item in items:
        codes = _unit_codes(item.grant)
        if item.excluded or not codes & mandatory or codes & mandatory <= met:
            continue
        if item.value <= budget and (not item.experiential or item.value <= budget_experiential):
            budget -= item.value
            if item.experiential:
                budget_experiential -= item.value
            met |= codes
        else:
            left_out.append(item)
    remaining = [k for k in p.rule.mandatory_unit_keys if k not in met]
    p.answer.remaining_mandatory_unit_keys.extend(remaining)
    held_back = sorted({k for i in left_out for k in _unit_codes(i.grant) & set(remaining)})
    if held_back:
        p.limit(
            binding or eq.PATHWAY_RULE_MAX_FROM_ELSEWHERE,
            f"module{'s' if len(held_back) > 1 else ''} {', '.join(held_back)} "
            f"remain{'' if len(held_back) > 1 else 's'} to study: the grant"
            f"{'s' if len(left_out) > 1 else ''} for {'them' if len(held_back) > 1 else 'it'}"
            f" ({', '.join(i.name for i in left_out)}) fall outside what the regulations "
            f"admit from elsewhere{p.cited}",
            left_out,
        )


def _grant_text(agreement: rec.RecognitionAgreement) -> str:
    which = agreement.grant.WhichOneof("grant")
    if which == "unit_key":
        return f"module {agreement.grant.unit_key}"
    if which == "units":
        return f"modules {' + '.join(agreement.grant.units.unit_keys)}"
    general = agreement.grant.general_credit
    return (
        f"{general.credit.value:g} {general.credit.system} general credit at "
        f"{general.level.framework} {general.level.level}"
    )


def _intended(found: Sequence[rec.RecognitionAgreement]) -> bool:
    """Whether every two of the agreements state that the same source satisfies both."""
    return all(linked(a, b) for n, a in enumerate(found) for b in found[n + 1 :])


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
        conflicts.append(
            eq.Conflict(
                source=rec.CredentialRef(institution_id=institution, key=key),
                agreements=[provenance(a) for a in found],
                kind=(
                    eq.CONFLICT_KIND_INTENDED_ONE_TO_MANY
                    if intended
                    else eq.CONFLICT_KIND_CONTRADICTION
                ),
                explanation=f"{institution}/{key} earns different grants"
                + (" by the agreements' own statement (also_satisfies)" if intended else "")
                + ": "
                + "; ".join(f"{a.key} grants {_grant_text(a)}" for a in found),
            )
        )
    return conflicts
