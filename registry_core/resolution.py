"""Resolution: what a learner's holdings count for at one institution, and why.

Pure functions of records and holdings, so every rule is testable without a server or a
database. The registry loads the candidate agreements and calls `resolve`.

Rules, in the order a registrar would check them: the agreement must be active and within
its validity window; every source credential used must be held, with a grade at or above the
minimum (compared on the conversion table's common percentage scale), awarded no longer ago
than the agreement's maximum age and the credential's own shelf-life, at or above the minimum
level (through EQF), and identity-verified when required. The source group decides which
held credentials an agreement uses (all-of: all; any-of: the first item satisfied; N-of: the
first n items satisfied, in the agreement's order).

No double counting: each holding, and each granted module, is used by at most one grant.
Among the assignments that respect that, the one granting the most credit (in ECTS through
the conversion table) is returned; ties go to the assignment using fewer holdings, then to
agreements earlier in (credit descending, key ascending) order, which makes answers
deterministic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.conversion import table
from registry_core.records import parse_date

Ref = tuple[str, str]
SourceRecord = rec.MicroCredential | rec.LearningUnit
EXACT_SEARCH_LIMIT = 40  # candidates; beyond it the best-first greedy choice is used


def ref_text(ref: Ref) -> str:
    return f"{ref[0]}/{ref[1]}"


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from start to end (negative if end is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


@dataclass(frozen=True)
class Failure:
    reason: int
    explanation: str


@dataclass
class _GroupResult:
    satisfied: bool
    used: list[Ref] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    missing: list[Ref] = field(default_factory=list)


@dataclass(frozen=True)
class Candidate:
    """An agreement whose conditions the holdings meet."""

    agreement: rec.RecognitionAgreement
    used: tuple[Ref, ...]
    granted: eq.GrantedCredit
    ects: float

    @property
    def resources(self) -> frozenset[str]:
        unit = self.agreement.grant.unit_key
        return frozenset([f"h:{ref_text(r)}" for r in self.used] + ([f"u:{unit}"] if unit else []))


def provenance(agreement: rec.RecognitionAgreement) -> eq.ProvenanceStep:
    return eq.ProvenanceStep(institution_id=agreement.institution_id, agreement_key=agreement.key,
                             agreement_version=agreement.version, title=agreement.title)


@dataclass(frozen=True)
class Derivation:
    """A unit a learner reaches through a chain of transitive agreements."""

    originals: frozenset[Ref]  # the held credentials the chain consumes
    chain: tuple[rec.RecognitionAgreement, ...]
    cap_ects: float  # never more than the smallest credit along the chain
    path: frozenset[Ref]  # every credential and unit on the way, to refuse cycles


class _Evaluator:
    def __init__(self, holdings: Mapping[Ref, eq.Holding], sources: Mapping[Ref, SourceRecord],
                 as_of: dt.date, derived: Mapping[Ref, Derivation] | None = None) -> None:
        self.holdings = holdings
        self.sources = sources
        self.as_of = as_of
        self.derived = derived or {}

    def credential(self, ref: Ref, cond: rec.Conditions) -> Failure | None:
        """Why the held credential ref does not meet cond, or None when it does."""
        holding = self.holdings[ref]
        name = ref_text(ref)
        if cond.HasField("minimum_grade"):
            minimum = cond.minimum_grade
            wanted = f"{minimum.value} ({minimum.scheme})"
            if ref in self.derived:
                return Failure(eq.NOT_APPLIED_REASON_GRADE_BELOW_MINIMUM,
                               f"{name} is reached through a chain of agreements, which carries "
                               f"no grade; the agreement needs at least {wanted}")
            if not holding.HasField("grade"):
                return Failure(eq.NOT_APPLIED_REASON_GRADE_BELOW_MINIMUM,
                               f"no grade was given for {name}; the agreement needs at least {wanted}")
            try:
                got = table().grade_percent(holding.grade.scheme, holding.grade.value)
            except (KeyError, ValueError):
                return Failure(eq.NOT_APPLIED_REASON_GRADE_BELOW_MINIMUM,
                               f"the grade '{holding.grade.value}' ({holding.grade.scheme}) of "
                               f"{name} is not in the conversion table; give a grade of a known scheme")
            if got < table().grade_percent(minimum.scheme, minimum.value):
                return Failure(eq.NOT_APPLIED_REASON_GRADE_BELOW_MINIMUM,
                               f"grade {holding.grade.value} ({holding.grade.scheme}) for {name} "
                               f"is below the minimum {wanted}")
        source = self.sources.get(ref)
        limits = [cond.max_credit_age_months]
        if isinstance(source, rec.MicroCredential):
            limits.append(source.credit_validity_months)
        limit = min((m for m in limits if m), default=0)
        if limit:
            age = months_between(parse_date(holding.award_date), self.as_of)
            if age > limit:
                return Failure(eq.NOT_APPLIED_REASON_CREDIT_TOO_OLD,
                               f"{name} was awarded on {holding.award_date}, {age} months before "
                               f"{self.as_of}; credit is accepted up to {limit} months old")
        if cond.HasField("minimum_level"):
            want = cond.minimum_level
            want_eqf = table().eqf_level(want.framework, want.level)
            if source is None:
                return Failure(eq.NOT_APPLIED_REASON_LEVEL_TOO_LOW,
                               f"the level of {name} is unknown (its provider has not published "
                               f"it); the agreement needs {want.framework} {want.level}")
            have = source.level
            have_eqf = table().eqf_level(have.framework, have.level)
            if have_eqf < want_eqf:
                return Failure(eq.NOT_APPLIED_REASON_LEVEL_TOO_LOW,
                               f"{name} is at {have.framework} {have.level} (EQF {have_eqf}); the "
                               f"agreement needs {want.framework} {want.level} (EQF {want_eqf})")
        if cond.identity_verified_required and not holding.identity_verified:
            return Failure(eq.NOT_APPLIED_REASON_IDENTITY_NOT_VERIFIED,
                           f"the assessment of {name} was not identity-verified; the agreement "
                           "requires it")
        return None

    def group(self, group: rec.SourceGroup, cond: rec.Conditions) -> _GroupResult:
        parts: list[_GroupResult] = []
        for item in group.items:
            if item.WhichOneof("item") == "group":
                parts.append(self.group(item.group, cond))
                continue
            ref = (item.credential.institution_id, item.credential.key)
            if ref not in self.holdings:
                parts.append(_GroupResult(False, missing=[ref]))
                continue
            failure = self.credential(ref, cond)
            parts.append(_GroupResult(failure is None, used=[ref],
                                      failures=[failure] if failure else []))
        needed = {rec.GROUP_OPERATOR_ALL_OF: len(parts), rec.GROUP_OPERATOR_ANY_OF: 1,
                  rec.GROUP_OPERATOR_N_OF: group.n}[group.operator]
        ok = [p for p in parts if p.satisfied]
        result = _GroupResult(len(ok) >= needed)
        for part in (ok[:needed] if result.satisfied else parts):
            result.used += part.used if part.satisfied else []
            result.failures += part.failures
            result.missing += part.missing
        return result


def _requirement_text(group: rec.SourceGroup) -> str:
    names = []
    for item in group.items:
        if item.WhichOneof("item") == "group":
            names.append(f"({_requirement_text(item.group)})")
        else:
            names.append(ref_text((item.credential.institution_id, item.credential.key)))
    op = {rec.GROUP_OPERATOR_ALL_OF: "all of", rec.GROUP_OPERATOR_ANY_OF: "any of",
          rec.GROUP_OPERATOR_N_OF: f"{group.n} of"}[group.operator]
    return f"{op} {', '.join(names)}"


def _window(agreement: rec.RecognitionAgreement, as_of: dt.date) -> Failure | None:
    if agreement.status != rec.RECORD_STATUS_ACTIVE:
        state = rec.RecordStatus.Name(agreement.status).removeprefix("RECORD_STATUS_").lower()
        return Failure(eq.NOT_APPLIED_REASON_NOT_ACTIVE, f"the agreement is {state}")
    cond = agreement.conditions
    if cond.valid_from and as_of < parse_date(cond.valid_from):
        return Failure(eq.NOT_APPLIED_REASON_NOT_YET_VALID,
                       f"the agreement applies from {cond.valid_from}, after {as_of}")
    if cond.valid_to and as_of > parse_date(cond.valid_to):
        return Failure(eq.NOT_APPLIED_REASON_EXPIRED,
                       f"the agreement ended on {cond.valid_to}, before {as_of}")
    return None


def _granted(agreement: rec.RecognitionAgreement, used: Sequence[Ref],
             units: Mapping[Ref, rec.LearningUnit]) -> tuple[eq.GrantedCredit, float]:
    granted = eq.GrantedCredit(grant=agreement.grant, provenance=[provenance(agreement)],
                               used_holdings=[rec.CredentialRef(institution_id=i, key=k)
                                              for i, k in used])
    if agreement.grant.WhichOneof("grant") == "general_credit":
        general = agreement.grant.general_credit
        granted.credit.CopyFrom(general.credit)
        granted.level.CopyFrom(general.level)
    else:
        unit = units.get((agreement.institution_id, agreement.grant.unit_key))
        if unit is None:  # the module is not published (yet): granted, credit unknown
            return granted, 0.0
        granted.unit_title = unit.title
        granted.credit.CopyFrom(unit.credit)
        granted.level.CopyFrom(unit.level)
    return granted, table().to_ects(granted.credit.value, granted.credit.system)


def _best_assignment(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The disjoint subset with the most credit (ties: fewer holdings, then earlier order)."""
    if len(candidates) > EXACT_SEARCH_LIMIT:
        chosen: list[Candidate] = []
        taken: set[str] = set()
        for c in candidates:
            if not c.resources & taken:
                chosen.append(c)
                taken |= c.resources
        return chosen
    best: tuple[float, int] = (-1.0, 0)
    best_set: list[Candidate] = []
    suffix = [0.0] * (len(candidates) + 1)
    for i in range(len(candidates) - 1, -1, -1):
        suffix[i] = suffix[i + 1] + candidates[i].ects

    def search(i: int, taken: frozenset[str], chosen: list[Candidate], credit: float,
               holdings: int) -> None:
        nonlocal best, best_set
        if (credit, -holdings) > best:
            best, best_set = (credit, -holdings), list(chosen)
        if i == len(candidates) or credit + suffix[i] < best[0]:
            return
        c = candidates[i]
        if not c.resources & taken:
            chosen.append(c)
            search(i + 1, taken | c.resources, chosen, credit + c.ects, holdings + len(c.used))
            chosen.pop()
        search(i + 1, taken, chosen, credit, holdings)

    search(0, frozenset(), [], 0.0, 0)
    return best_set


def _credit_ects(record: SourceRecord | None) -> float:
    if record is None or not record.HasField("credit"):
        return float("inf")
    return table().to_ects(record.credit.value, record.credit.system)


def _derive(held: Mapping[Ref, eq.Holding], agreements: Sequence[rec.RecognitionAgreement],
            sources: Mapping[Ref, SourceRecord], units: Mapping[Ref, rec.LearningUnit],
            target: str, as_of: dt.date, max_depth: int,
            ) -> tuple[dict[Ref, eq.Holding], dict[Ref, Derivation]]:
    """Units reached through up to max_depth - 1 transitive agreements of other institutions.

    Breadth-first, one chain link per round; a unit already on a chain's path is never
    reached again (no cycles), and each unit keeps its best derivation (most credit, then
    shortest chain, then agreement order), so the rounds end."""
    facts: dict[Ref, eq.Holding] = dict(held)
    derived: dict[Ref, Derivation] = {}
    links = sorted((a for a in agreements
                    if a.institution_id != target and a.conditions.transitive_allowed
                    and a.grant.WhichOneof("grant") == "unit_key" and _window(a, as_of) is None),
                   key=lambda a: (a.institution_id, a.key))
    for _ in range(max_depth - 1):
        evaluator = _Evaluator(facts, {**sources, **units}, as_of, derived)
        found: dict[Ref, Derivation] = {}
        for link in links:
            unit_ref = (link.institution_id, link.grant.unit_key)
            if unit_ref in held:
                continue
            result = evaluator.group(link.source, link.conditions)
            if not result.satisfied:
                continue
            path = frozenset().union(*(derived[r].path if r in derived else {r}
                                       for r in result.used))
            if unit_ref in path:
                continue  # a cycle
            chain: list[rec.RecognitionAgreement] = []
            for r in result.used:
                for step in derived[r].chain if r in derived else ():
                    if step not in chain:
                        chain.append(step)
            chain.append(link)
            if len(chain) > max_depth - 1:
                continue
            supplied = sum(derived[r].cap_ects if r in derived else _credit_ects(sources.get(r))
                           for r in result.used)
            option = Derivation(
                originals=frozenset().union(*(derived[r].originals if r in derived else {r}
                                              for r in result.used)),
                chain=tuple(chain), cap_ects=min(_credit_ects(units.get(unit_ref)), supplied),
                path=path | {unit_ref})
            best = found.get(unit_ref) or derived.get(unit_ref)
            if best is None or (-option.cap_ects, len(option.chain)) < (-best.cap_ects,
                                                                         len(best.chain)):
                found[unit_ref] = option
        if not found:
            break
        for unit_ref, derivation in found.items():
            derived[unit_ref] = derivation
            award = min(held[r].award_date for r in derivation.originals)
            facts[unit_ref] = eq.Holding(
                credential=rec.CredentialRef(institution_id=unit_ref[0], key=unit_ref[1]),
                award_date=award,
                identity_verified=all(held[r].identity_verified for r in derivation.originals))
    return facts, derived


def _through_chains(candidate: Candidate, derived: Mapping[Ref, Derivation],
                    sources: Mapping[Ref, SourceRecord]) -> Candidate:
    """A candidate that uses units reached through chains: it consumes the chains' original
    holdings, names every agreement on the way, and grants no more than the chain carries."""
    if not any(r in derived for r in candidate.used):
        return candidate
    originals: list[Ref] = []
    steps: list[rec.RecognitionAgreement] = []
    for r in candidate.used:
        for original in sorted(derived[r].originals) if r in derived else [r]:
            if original not in originals:
                originals.append(original)
        for step in derived[r].chain if r in derived else ():
            if step not in steps:
                steps.append(step)
    cap = sum(derived[r].cap_ects if r in derived else _credit_ects(sources.get(r))
              for r in candidate.used)
    granted = eq.GrantedCredit()
    granted.CopyFrom(candidate.granted)
    del granted.used_holdings[:]
    granted.used_holdings.extend(rec.CredentialRef(institution_id=i, key=k) for i, k in originals)
    del granted.provenance[:]
    granted.provenance.extend([*(provenance(a) for a in steps), provenance(candidate.agreement)])
    ects = candidate.ects
    if cap < ects and granted.credit.system:
        granted.credit.value = table().convert_credit(cap, "ECTS", granted.credit.system)
        ects = table().to_ects(granted.credit.value, granted.credit.system)
    return Candidate(candidate.agreement, tuple(originals), granted, ects)


def resolve(
    holdings: Sequence[eq.Holding],
    agreements: Sequence[rec.RecognitionAgreement],
    *,
    sources: Mapping[Ref, SourceRecord],
    units: Mapping[Ref, rec.LearningUnit],
    as_of: dt.date,
    target: str | None = None,
    max_depth: int = 1,
) -> tuple[list[eq.GrantedCredit], list[eq.NotApplied]]:
    """The grants the holdings earn at the target, and for every target agreement that did
    not apply, the reason. `agreements` are the target's agreements and, for chains, other
    institutions' transitive ones; `sources` the held credentials' records (for level and
    shelf-life); `units` the learning units by (institution, key). max_depth 1 is direct
    agreements only; n follows chains of up to n agreements."""
    held = {(h.credential.institution_id, h.credential.key): h for h in holdings}
    if target is None:
        target = agreements[0].institution_id if agreements else ""
    facts, derived = _derive(held, agreements, sources, units, target, as_of, max(max_depth, 1))
    evaluator = _Evaluator(facts, {**sources, **units}, as_of, derived)
    candidates: list[Candidate] = []
    not_applied: list[eq.NotApplied] = []
    for agreement in sorted((a for a in agreements if a.institution_id == target),
                            key=lambda a: (a.institution_id, a.key)):
        failure = _window(agreement, as_of)
        if failure is None:
            result = evaluator.group(agreement.source, agreement.conditions)
            if result.satisfied:
                granted, ects = _granted(agreement, result.used, units)
                candidates.append(_through_chains(
                    Candidate(agreement, tuple(result.used), granted, ects), derived, sources))
                continue
            if result.failures:
                failure = result.failures[0]
            else:
                missing = ", ".join(ref_text(r) for r in result.missing)
                failure = Failure(eq.NOT_APPLIED_REASON_MISSING_REQUIREMENT,
                                  f"needs {_requirement_text(agreement.source)}; not held: {missing}")
        not_applied.append(eq.NotApplied(agreement=provenance(agreement), reason=failure.reason,
                                         explanation=failure.explanation))

    candidates.sort(key=lambda c: (-c.ects, len(c.used), c.agreement.key))
    chosen = _best_assignment(candidates)
    chosen_keys = {c.agreement.key for c in chosen}
    for c in candidates:
        if c.agreement.key in chosen_keys:
            continue
        rivals = [o.agreement.key for o in chosen if o.resources & c.resources]
        not_applied.append(eq.NotApplied(
            agreement=provenance(c.agreement), reason=eq.NOT_APPLIED_REASON_HOLDING_ALREADY_USED,
            explanation=f"its holdings or module are already used by agreement "
                        f"{', '.join(rivals)}, which grants as much credit or more"))
    grants = [c.granted for c in sorted(chosen, key=lambda c: (c.agreement.key,))]
    not_applied.sort(key=lambda n: (n.agreement.institution_id, n.agreement.agreement_key))
    return grants, not_applied
