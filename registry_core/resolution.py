"""Resolution: what a learner's holdings count for at one institution, and why.

Pure functions of records and holdings, so every rule is testable without a server or a
database. The registry loads the candidate agreements and calls `resolve`.

Rules, in the order a registrar would check them (docs/rules.md states each with its
source): the agreement must be active and in force on the question's date; every source
credential used must be held and published by its provider, completed within the window the
agreement covers (a different thing from when the agreement is in force), with a grade at or
above the minimum (compared on the conversion table's common percentage scale), awarded no
longer ago than the agreement's maximum age and the credential's own shelf-life, at or above
the minimum level (within a framework by its order, across frameworks through the published
referencing; undecidable is said, never guessed), identity-verified when required (by its
own record where that states it, else by the question's claim), and quality-assured as the
agreement requires. The units it grants must be published. A direct grant gives no more
credit than the holdings it uses carry, unless the agreement states why. A grant restricted
to programmes the question does not name, or with additional requirements, is conditional,
with the conditions in the registrar's words; the agreement's notes go with every grant.

The source group decides which held credentials an agreement may use: all-of all of its
items; any-of one satisfied item; N-of n of them. Each way of satisfying it (up to
MAX_OPTIONS, in the agreement's order) is a candidate, and the choice among them is part of
the best assignment below.

No double counting: each holding, and each granted unit (a series' units, a cross-listed
unit under any of its codes), is used by at most one grant, and each agreement grants once;
holdings whose learning overlaps by their publisher's statement (a micro-credential carved
from a module, held with the module) are not credited by two grants.
Among the assignments that respect that, the one granting the most credit (in ECTS through
the conversion table) is returned; ties go to the assignment using fewer holdings, then to
agreements earlier in (credit descending, key ascending) order, which makes answers
deterministic. Agreements that state one source satisfies both (also_satisfies) may share
holdings within that search, and are granted together, each marked with the other: a
transfer answer states every equivalence, and a pathway counts the shared holdings' credit
once. Plain grants are assigned first, conditional ones from what is left.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.conversion import LevelComparison, table
from registry_core.records import granted_unit_keys, parse_date, source_credentials

Ref = tuple[str, str]
SourceRecord = rec.MicroCredential | rec.LearningUnit
SEARCH_STEPS = 200_000  # of one group of rival grants' search; see _best_of_group
MAX_OPTIONS = 16  # ways of satisfying one agreement's source group that compete as candidates


@functools.lru_cache(maxsize=4096)
def compare_levels(have: tuple[str, str], want: tuple[str, str]) -> LevelComparison:
    """The conversion table's level comparison, remembered: the pairs of levels are few and
    the question is asked for every credential of every agreement with a minimum level."""
    return table().compare_levels(have[0], have[1], want[0], want[1])


def identity_stated(source: SourceRecord | None) -> bool | None:
    """What a credential's own record states of identity-verified assessment: True or False
    when it states it, None when it does not (the question's claim is then taken)."""
    if isinstance(source, rec.MicroCredential) and source.HasField("identity_verified_assessment"):
        return source.identity_verified_assessment
    return None


def _verified(holding: eq.Holding, source: SourceRecord | None) -> bool:
    """Whether a holding's assessment was identity-verified: as its record states, else as
    the question claims."""
    stated = identity_stated(source)
    return holding.identity_verified if stated is None else stated


def overlap_families(held: Sequence[Ref], sources: Mapping[Ref, SourceRecord]) -> dict[Ref, Ref]:
    """Held credentials whose learning overlaps another held one, as a publisher states it
    (overlaps_with, either record naming the other), each mapped to one member of its family:
    the learning a family shares is credited once. {} when none do, as in most answers."""
    held_set = set(held)
    pairs = [
        (ref, (o.institution_id, o.key))
        for ref in held
        if (record := sources.get(ref)) is not None and record.overlaps_with
        for o in record.overlaps_with
    ]
    pairs = [(a, b) for a, b in pairs if b in held_set and a != b]
    if not pairs:
        return {}
    parent: dict[Ref, Ref] = {}

    def root(r: Ref) -> Ref:
        while parent.get(r, r) != r:
            r = parent[r]
        return r

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members = {r for pair in pairs for r in pair}
    return {r: root(r) for r in members}


def ref_text(ref: Ref) -> str:
    return f"{ref[0]}/{ref[1]}"


def months_after(start: dt.date, months: int) -> dt.date:
    """The day months calendar months after start (the month's last day when it is shorter:
    31 January and one month is 28 or 29 February)."""
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    days = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(start.day, days))


def too_old(award_date: str, months: int, as_of: dt.date) -> str | None:
    """Why credit awarded on award_date is older than months on as_of, or None: it is when
    as_of is after the day months after the award (60 months from 14 January 2021 ends on
    14 January 2026)."""
    ends = months_after(parse_date(award_date), months)
    if as_of <= ends:
        return None
    return (
        f"was awarded on {award_date}, more than {months} months before {as_of} (credit "
        f"of that date is accepted until {ends})"
    )


@dataclass(frozen=True)
class Failure:
    reason: eq.NotAppliedReason
    explanation: str


@dataclass
class _GroupResult:
    satisfied: bool
    # Satisfied: the ways of satisfying the group (the credentials each uses), the agreement's
    # order first, at most MAX_OPTIONS. Not: every item's failures and missing credentials.
    options: list[list[Ref]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    missing: list[Ref] = field(default_factory=list)


def _ways(items: Sequence[list[list[Ref]]], needed: int) -> list[list[Ref]]:
    """The ways of satisfying `needed` of the satisfied items (each item's own ways given),
    in the agreement's order, each once, at most MAX_OPTIONS: the first is the first items'
    first ways, what a group took before choosing was part of the best assignment."""
    found: dict[tuple[Ref, ...], None] = {}
    for chosen in itertools.combinations(items, needed):
        for parts in itertools.product(*chosen):
            used = tuple(dict.fromkeys(ref for part in parts for ref in part))
            found.setdefault(used)
            if len(found) >= MAX_OPTIONS:
                return [list(way) for way in found]
    return [list(way) for way in found]


@dataclass(frozen=True)
class Candidate:
    """One way an agreement's conditions are met by the holdings."""

    agreement: rec.RecognitionAgreement
    used: tuple[Ref, ...]
    granted: eq.GrantedCredit
    ects: float
    # The units it grants, each under one code whatever code the agreement names it by.
    units: tuple[str, ...] = ()
    # Whether other ways of meeting the same agreement compete with it (one may be taken).
    exclusive: bool = False
    # Whether its agreement names others its source also satisfies (read once: a repeated
    # field costs more to test than an attribute).
    links: bool = False
    # Its holdings whose learning overlaps other holdings', each with its family
    # (overlap_families): (family, holding).
    learning: tuple[tuple[Ref, Ref], ...] = ()

    @property
    def resources(self) -> tuple[tuple[str, object], ...]:
        """What the grant consumes, each at most once in an answer: its holdings, the units it
        grants and, when the agreement has other candidates, the agreement itself."""
        return (
            *(("h", r) for r in self.used),
            *(("u", u) for u in self.units),
            *((("a", self.agreement.key),) if self.exclusive else ()),
        )

    def overlaps(self, other: Candidate) -> bool:
        """Whether the two would credit the same learning through different holdings (a
        micro-credential and the module it was carved from). One holding used by both is
        the holdings' rule, not this one."""
        return any(f == g and r != s for f, r in self.learning for g, s in other.learning)


def provenance(agreement: rec.RecognitionAgreement) -> eq.ProvenanceStep:
    return eq.ProvenanceStep(
        institution_id=agreement.institution_id,
        agreement_key=agreement.key,
        agreement_version=agreement.version,
        title=agreement.title,
    )


@dataclass(frozen=True)
class Derivation:
    """A unit a learner reaches through a chain of transitive agreements."""

    originals: frozenset[Ref]  # the held credentials the chain consumes
    chain: tuple[rec.RecognitionAgreement, ...]
    cap_ects: float  # never more than the smallest credit along the chain
    path: frozenset[Ref]  # every credential and unit on the way, to refuse cycles


class _Evaluator:
    def __init__(
        self,
        holdings: Mapping[Ref, eq.Holding],
        sources: Mapping[Ref, SourceRecord],
        as_of: dt.date,
        derived: Mapping[Ref, Derivation] | None = None,
    ) -> None:
        self.holdings = holdings
        self.sources = sources
        self.as_of = as_of
        self.derived = derived or {}

    def credential(self, ref: Ref, cond: rec.Conditions) -> Failure | None:
        """Why the held credential ref does not meet cond, or None when it does. (Names are
        built only for a failure: this runs for every credential of every candidate.)"""
        holding = self.holdings[ref]
        source = self.sources.get(ref)
        if ref not in self.derived and (
            source is None or source.status != rec.RECORD_STATUS_ACTIVE
        ):
            state = (
                "not published by its provider, or withdrawn"
                if source is None
                else rec.RecordStatus.Name(source.status).removeprefix("RECORD_STATUS_").lower()
            )
            if source is not None and source.superseded_by:
                state += f" by {source.institution_id}/{source.superseded_by}"
            return Failure(
                eq.NOT_APPLIED_REASON_SOURCE_NOT_PUBLISHED,
                f"{ref_text(ref)} is {state}; the registry recognises only "
                "credentials their provider has published and keeps active",
            )
        if cond.completed_from or cond.completed_to:
            completed = parse_date(holding.award_date)
            if cond.completed_from and completed < parse_date(cond.completed_from):
                return Failure(
                    eq.NOT_APPLIED_REASON_COMPLETED_OUTSIDE_WINDOW,
                    f"{ref_text(ref)} was completed on {holding.award_date}, before "
                    f"{cond.completed_from}, the earliest completion the agreement "
                    "covers",
                )
            if cond.completed_to and completed > parse_date(cond.completed_to):
                return Failure(
                    eq.NOT_APPLIED_REASON_COMPLETED_OUTSIDE_WINDOW,
                    f"{ref_text(ref)} was completed on {holding.award_date}, after "
                    f"{cond.completed_to}, the latest completion the agreement "
                    "covers",
                )
        if cond.HasField("minimum_grade"):
            minimum = cond.minimum_grade
            if ref in self.derived:
                return Failure(
                    eq.NOT_APPLIED_REASON_GRADE_BELOW_MINIMUM,
                    f"{ref_text(ref)} is reached through a chain of agreements, "
                    "which carries no grade; the agreement needs at least "
                    f"{minimum.value} ({minimum.scheme})",
                )
            if not holding.HasField("grade"):
                return Failure(
                    eq.NOT_APPLIED_REASON_GRADE_BELOW_MINIMUM,
                    f"no grade was given for {ref_text(ref)}; the agreement needs "
                    f"at least {minimum.value} ({minimum.scheme})",
                )
            try:
                got = table().grade_percent(holding.grade.scheme, holding.grade.value)
            except (KeyError, ValueError):
                return Failure(
                    eq.NOT_APPLIED_REASON_GRADE_BELOW_MINIMUM,
                    f"the grade '{holding.grade.value}' ({holding.grade.scheme}) of "
                    f"{ref_text(ref)} is not in the conversion table; give a grade "
                    "of a known scheme",
                )
            if got < table().grade_percent(minimum.scheme, minimum.value):
                return Failure(
                    eq.NOT_APPLIED_REASON_GRADE_BELOW_MINIMUM,
                    f"grade {holding.grade.value} ({holding.grade.scheme}) for "
                    f"{ref_text(ref)} is below the minimum {minimum.value} "
                    f"({minimum.scheme})",
                )
        limit = cond.max_credit_age_months  # the tighter of it and the shelf-life; 0: none
        if isinstance(source, rec.MicroCredential) and source.credit_validity_months:
            limit = min(limit or source.credit_validity_months, source.credit_validity_months)
        if limit and (old := too_old(holding.award_date, limit, self.as_of)) is not None:
            return Failure(
                eq.NOT_APPLIED_REASON_CREDIT_TOO_OLD,
                f"{ref_text(ref)} {old}; credit is accepted up to {limit} months old",
            )
        if cond.HasField("minimum_level"):
            want = cond.minimum_level
            if source is None or not source.HasField("level"):
                return Failure(
                    eq.NOT_APPLIED_REASON_LEVEL_NOT_COMPARABLE,
                    f"{ref_text(ref)} has no level in a framework the registry "
                    f"knows; the agreement needs {want.framework} {want.level}",
                )
            have = source.level
            compared = compare_levels((have.framework, have.level), (want.framework, want.level))
            if compared.meets is None:
                return Failure(
                    eq.NOT_APPLIED_REASON_LEVEL_NOT_COMPARABLE,
                    f"the level of {ref_text(ref)} cannot be shown to reach the "
                    f"agreement's minimum: {compared.how}",
                )
            if not compared.meets:
                return Failure(
                    eq.NOT_APPLIED_REASON_LEVEL_TOO_LOW,
                    f"{ref_text(ref)} is at {have.framework} {have.level}, below "
                    f"the minimum {want.framework} {want.level} ({compared.how})",
                )
        if cond.identity_verified_required:
            if not _verified(holding, source):
                said = (
                    "its record states that its assessment is not"
                    if identity_stated(source) is False
                    else "the question does not say it was"
                )
                return Failure(
                    eq.NOT_APPLIED_REASON_IDENTITY_NOT_VERIFIED,
                    f"the assessment of {ref_text(ref)} was not identity-verified "
                    f"({said}); the agreement requires it",
                )
        if cond.verified_holdings_required and not holding.verifiable_credential:
            # The registry keeps a presented credential on a holding only once it verified
            # it (registry_server/learner_credentials.py leaves out those it refuses).
            return Failure(
                eq.NOT_APPLIED_REASON_HOLDING_NOT_VERIFIED,
                f"{ref_text(ref)} is only stated in the question; the agreement "
                "requires the learner's credential, verified (present it in "
                "verifiable_credential)",
            )
        if cond.HasField("required_quality_assurance"):
            return self.quality(ref, source, cond.required_quality_assurance)
        return None

    def quality(
        self, ref: Ref, source: SourceRecord | None, required: rec.QualityAssuranceRequirement
    ) -> Failure | None:
        """Why the credential lacks the quality assurance required, or None."""
        bodies = {_normal(b) for b in required.bodies}
        kinds = set(required.kinds)
        for qa in source.quality_assurances if source is not None else ():
            if (
                (not bodies or _normal(qa.body) in bodies or _normal(qa.body_id) in bodies)
                and (not kinds or qa.kind in kinds)
                and parse_date(qa.date) <= self.as_of
                and (not qa.valid_until or self.as_of <= parse_date(qa.valid_until))
            ):
                return None
        wanted = (
            " or ".join(
                rec.QualityAssuranceKind.Name(k)
                .removeprefix("QUALITY_ASSURANCE_KIND_")
                .lower()
                .replace("_", " ")
                for k in required.kinds
            )
            or "quality assurance"
        )
        by = f" by {' or '.join(required.bodies)}" if required.bodies else ""
        return Failure(
            eq.NOT_APPLIED_REASON_QUALITY_ASSURANCE_NOT_MET,
            f"{ref_text(ref)} states no {wanted}{by} in force on {self.as_of}; "
            "the agreement requires it of every source credential",
        )

    def group(self, group: rec.SourceGroup, cond: rec.Conditions) -> _GroupResult:
        """Whether the holdings satisfy group under cond. Satisfied: the ways they do (see
        _ways). Not: every item's failures and missing credentials, in the agreement's
        order."""
        satisfied: list[list[list[Ref]]] = []  # each satisfied item's ways
        failures: list[Failure] = []
        missing: list[Ref] = []
        one_way = True  # every satisfied item has one way (a credential always does)
        for item in group.items:
            if item.WhichOneof("item") == "group":
                part = self.group(item.group, cond)
                if part.satisfied:
                    satisfied.append(part.options)
                    one_way = one_way and len(part.options) == 1
                else:
                    failures += part.failures
                    missing += part.missing
                continue
            ref = (item.credential.institution_id, item.credential.key)
            if ref not in self.holdings:
                missing.append(ref)
            elif (failure := self.credential(ref, cond)) is None:
                satisfied.append([[ref]])
            else:
                failures.append(failure)
        needed = {
            rec.GROUP_OPERATOR_ALL_OF: len(group.items),
            rec.GROUP_OPERATOR_ANY_OF: 1,
            rec.GROUP_OPERATOR_N_OF: group.n,
        }[group.operator]
        if len(satisfied) == needed and one_way:  # most groups: no choice to make
            return _GroupResult(True, options=[[ref for ways in satisfied for ref in ways[0]]])
        if len(satisfied) >= needed:
            return _GroupResult(True, options=_ways(satisfied, needed))
        return _GroupResult(False, failures=failures, missing=missing)


def _requirement_text(group: rec.SourceGroup) -> str:
    names = []
    for item in group.items:
        if item.WhichOneof("item") == "group":
            names.append(f"({_requirement_text(item.group)})")
        else:
            names.append(ref_text((item.credential.institution_id, item.credential.key)))
    op = {
        rec.GROUP_OPERATOR_ALL_OF: "all of",
        rec.GROUP_OPERATOR_ANY_OF: "any of",
        rec.GROUP_OPERATOR_N_OF: f"{group.n} of",
    }[group.operator]
    return f"{op} {', '.join(names)}"


def _window(agreement: rec.RecognitionAgreement, as_of: dt.date) -> Failure | None:
    if agreement.status != rec.RECORD_STATUS_ACTIVE:
        state = rec.RecordStatus.Name(agreement.status).removeprefix("RECORD_STATUS_").lower()
        return Failure(eq.NOT_APPLIED_REASON_NOT_ACTIVE, f"the agreement is {state}")
    cond = agreement.conditions
    if cond.valid_from and as_of < parse_date(cond.valid_from):
        return Failure(
            eq.NOT_APPLIED_REASON_NOT_YET_VALID,
            f"the agreement applies from {cond.valid_from}, after {as_of}",
        )
    if cond.valid_to and as_of > parse_date(cond.valid_to):
        return Failure(
            eq.NOT_APPLIED_REASON_EXPIRED, f"the agreement ended on {cond.valid_to}, before {as_of}"
        )
    return None


def unit_code(unit: rec.LearningUnit) -> str:
    """One code for a unit whichever of its cross-listed codes an agreement names it by."""
    return min(unit.key, *unit.cross_listed_keys) if unit.cross_listed_keys else unit.key


def _granted(
    agreement: rec.RecognitionAgreement,
    units: Mapping[Ref, rec.LearningUnit],
) -> tuple[eq.GrantedCredit, float, tuple[str, ...]] | Failure:
    """What the agreement grants, its credit in ECTS and the codes of the units it grants;
    a Failure when a unit it grants is not published (or no longer active)."""
    granted = eq.GrantedCredit(grant=agreement.grant, provenance=[provenance(agreement)])
    if agreement.notes:  # rare: an empty repeated field costs to pass
        granted.notes.extend(agreement.notes)
    if agreement.grant.WhichOneof("grant") == "general_credit":
        general = agreement.grant.general_credit
        granted.credit.CopyFrom(general.credit)
        granted.level.CopyFrom(general.level)
        return granted, table().to_ects(general.credit.value, general.credit.system), ()
    found: list[rec.LearningUnit] = []
    for key in granted_unit_keys(agreement.grant):
        unit = units.get((agreement.institution_id, key))
        if unit is None or unit.status != rec.RECORD_STATUS_ACTIVE:
            state = (
                "has not published it, or withdrew it"
                if unit is None
                else "has made it "
                + rec.RecordStatus.Name(unit.status).removeprefix("RECORD_STATUS_").lower()
            )
            return Failure(
                eq.NOT_APPLIED_REASON_UNIT_NOT_PUBLISHED,
                f"it grants {agreement.institution_id}/{key}, but "
                f"{agreement.institution_id} {state}",
            )
        found.append(unit)
        one = granted.units.add()  # set field by field: ~3x cheaper than keyword arguments
        one.unit_key, one.title = unit.key, unit.title
        one.credit.CopyFrom(unit.credit)
        if unit.HasField("level"):
            one.level.CopyFrom(unit.level)
        if unit.cross_listed_keys:
            one.cross_listed_keys.extend(unit.cross_listed_keys)
    first = found[0]
    if len(found) == 1:
        granted.unit_title = first.title
        granted.credit.CopyFrom(first.credit)
        if first.HasField("level"):
            granted.level.CopyFrom(first.level)
    else:  # a series: its credit in the first unit's system, at its lowest level
        t = table()
        system = first.credit.system
        granted.unit_title = agreement.grant.units.name or " + ".join(u.title for u in found)
        granted.credit.system = system
        granted.credit.value = sum(
            t.convert_credit(u.credit.value, u.credit.system, system) for u in found
        )
        levels = [u.level for u in found if u.HasField("level")]
        if len(levels) == len(found) and len({lv.framework for lv in levels}) == 1:
            granted.level.CopyFrom(min(levels, key=lambda lv: t.rank[lv.framework][lv.level]))
    return (
        granted,
        table().to_ects(granted.credit.value, granted.credit.system),
        tuple(unit_code(u) for u in found),
    )


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _conditions(agreement: rec.RecognitionAgreement, programme: str) -> list[str]:
    """What a grant of agreement is conditional on, in the registrar's words, for a learner
    whose intended programme is programme ("" when the question names none)."""
    cond = agreement.conditions
    found: list[str] = []
    if cond.for_programmes or cond.restriction_text:
        if not (programme and _normal(programme) in map(_normal, cond.for_programmes)):
            found.append(
                cond.restriction_text
                or "only for learners on programme " + ", ".join(cond.for_programmes)
            )
    found += cond.additional_requirements
    return found


def _best_assignment(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The disjoint subset with the most credit; ties go to the one using fewer holdings,
    then to the one taking earlier candidates (the order given: credit descending).

    Candidates that share no holding or module, directly or through others, do not compete,
    so each group of rivals is searched on its own and the answer is the union of the
    groups' bests: credit and holdings add up across groups, and "earlier candidates first"
    compares each group's choice on its own.

    Two grants compete when they share a unit, are two ways of one agreement, or share a
    holding, unless their agreements state that one source satisfies both (also_satisfies):
    such a holding is a bit for each pair of its grants that are not so linked, so the
    grants that may share it never collide on it, and each taken grant still owns a bit
    of its own that the search's bound counts."""
    bits: dict[tuple[object, ...], int] = {}  # a holding (or pair), unit or agreement -> bit
    masks: list[int] = []
    holds: list[int] = []
    shared = _shared_holdings(candidates)
    for i, c in enumerate(candidates):
        held = 0
        for r in c.used:
            if r not in shared:
                held |= 1 << bits.setdefault(("h", r), len(bits))
                continue
            for j in shared[r]:
                if j != i and not linked(c.agreement, candidates[j].agreement):
                    held |= 1 << bits.setdefault(("p", r, min(i, j), max(i, j)), len(bits))
        holds.append(held)
        for unit in c.units:
            held |= 1 << bits.setdefault(("u", unit), len(bits))
        if c.learning:  # rare: a pair bit for each other candidate crediting the same learning
            for j, other in enumerate(candidates):
                if j != i and c.overlaps(other):
                    held |= 1 << bits.setdefault(("l", min(i, j), max(i, j)), len(bits))
        if c.exclusive:
            held |= 1 << bits.setdefault(("a", c.agreement.key), len(bits))
        masks.append(held)
    credit = [round(c.ects * 1_000_000) for c in candidates]  # micro-ECTS: exact sums, exact ties
    every = 0
    for mask in masks:
        if every & mask:
            break
        every |= mask
    else:  # no two share anything (most answers): each is taken if it grants any credit
        return [c for c, value in zip(candidates, credit) if value > 0]
    parent = list(range(len(candidates)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[int, int] = {}  # a resource's bit -> the first candidate using it
    for i, mask in enumerate(masks):
        for bit in _bits(mask):
            parent[root(i)] = root(first_with.setdefault(bit, i))
    groups: dict[int, list[int]] = {}
    for i in range(len(candidates)):
        groups.setdefault(root(i), []).append(i)
    uses = [len(c.used) for c in candidates]
    chosen: list[int] = []
    for members in groups.values():
        if all(masks[i] & masks[j] for n, i in enumerate(members) for j in members[n + 1 :]):
            # A grant alone, or rivals of which every two share something (two rivals always
            # do): at most one is taken, the search's answer without the search (the first
            # with the most credit and, among those, the fewest holdings), if it grants any.
            best = min(members, key=lambda i: (-credit[i], uses[i], i))
            chosen += [best] if credit[best] > 0 else []
        else:
            chosen += _best_of_group(members, masks, holds, credit, uses)
    return [candidates[i] for i in sorted(chosen)]


def _shared_holdings(candidates: Sequence[Candidate]) -> dict[Ref, list[int]]:
    """The holdings that two candidates of linked agreements (also_satisfies) both use, with
    the candidates (by index) using each; {} when no agreement states such a link, as in
    most answers."""
    if not any(c.links for c in candidates):
        return {}
    users: dict[Ref, list[int]] = {}
    for i, c in enumerate(candidates):
        for r in c.used:
            users.setdefault(r, []).append(i)
    return {
        r: found
        for r, found in users.items()
        if any(
            linked(candidates[i].agreement, candidates[j].agreement)
            for n, i in enumerate(found)
            for j in found[n + 1 :]
        )
    }


def linked(a: rec.RecognitionAgreement, b: rec.RecognitionAgreement) -> bool:
    """Whether two agreements state that one source satisfies both (either naming the
    other in also_satisfies)."""
    return a.key != b.key and (b.key in a.also_satisfies or a.key in b.also_satisfies)


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low
        mask ^= low


def _best_of_group(
    members: Sequence[int],
    masks: Sequence[int],
    holds: Sequence[int],
    credit: Sequence[int],
    uses: Sequence[int],
) -> list[int]:
    """The best disjoint subset of one group of rival candidates (indices in order).

    Depth first, taking each candidate before leaving it out, so the first subset found is
    the greedy one and a later one replaces the best only when it is strictly better (more
    credit, or as much with fewer holdings): among equals the earliest found, the one taking
    earlier candidates, stays. A branch is cut when even its optimistic bound cannot beat
    the best. Each grant still to come uses a free holding of its own, so the bound is, for
    each free holding, the most credit a grant still possible could bring with it (plus
    grants that use no holding). A group whose search passes SEARCH_STEPS steps keeps the
    best found by then, never worse than the greedy choice."""
    m = len(members)
    mask = [masks[i] for i in members]
    hold = [holds[i] for i in members]
    value = [credit[i] for i in members]
    used = [uses[i] for i in members]
    # What the candidates from k on could add: their credit, the largest, the holdings they
    # use, and how many use none, with their credit.
    after_value, after_max, after_held = [0] * (m + 1), [0] * (m + 1), [0] * (m + 1)
    after_bare, after_bare_value = [0] * (m + 1), [0] * (m + 1)
    for k in range(m - 1, -1, -1):
        after_value[k] = after_value[k + 1] + value[k]
        after_max[k] = max(after_max[k + 1], value[k])
        after_held[k] = after_held[k + 1] | hold[k]
        after_bare[k] = after_bare[k + 1] + (hold[k] == 0)
        after_bare_value[k] = after_bare_value[k + 1] + (value[k] if hold[k] == 0 else 0)
    by_holding: dict[int, list[int]] = {}  # a holding's bit -> its candidates, most credit first
    for k in sorted(range(m), key=lambda k: (-value[k], k)):
        for bit in _bits(hold[k]):
            by_holding.setdefault(bit, []).append(k)
    best_value, best_used, best = -1, 0, []
    chosen: list[int] = []
    steps, greedy_found = 0, False

    def search(k: int, taken: int, total: int, holdings: int) -> None:
        nonlocal best_value, best_used, best, steps, greedy_found
        if total > best_value or (total == best_value and holdings < best_used):
            best_value, best_used, best = total, holdings, list(chosen)
        try:
            while k < m:  # take candidate k (recursively), then go on without it
                steps += 1
                if greedy_found and steps > SEARCH_STEPS:
                    return
                extra = after_bare_value[k]
                for bit in _bits(after_held[k] & ~taken):
                    extra += next(
                        (value[j] for j in by_holding[bit] if j >= k and not mask[j] & taken), 0
                    )
                bound = total + min(after_value[k], extra)
                if bound < best_value:
                    return
                if bound == best_value and not after_bare[k]:
                    # It can at best equal the best's credit, so it must use fewer holdings
                    # to win, and each further grant uses at least one.
                    more = 0 if total >= best_value else -(-(best_value - total) // after_max[k])
                    if holdings + more >= best_used:
                        return
                if not mask[k] & taken:
                    chosen.append(members[k])
                    search(k + 1, taken | mask[k], total + value[k], holdings + used[k])
                    chosen.pop()
                k += 1
        finally:
            greedy_found = True  # the first call to end ends the first, greedy, descent

    search(0, 0, 0, 0)
    return best


def _credit_ects(record: SourceRecord | None) -> float:
    if record is None or not record.HasField("credit"):
        return float("inf")
    return table().to_ects(record.credit.value, record.credit.system)


def _derive(
    held: Mapping[Ref, eq.Holding],
    agreements: Sequence[rec.RecognitionAgreement],
    sources: Mapping[Ref, SourceRecord],
    units: Mapping[Ref, rec.LearningUnit],
    target: str,
    as_of: dt.date,
    max_depth: int,
) -> tuple[dict[Ref, eq.Holding], dict[Ref, Derivation]]:
    """Units reached through up to max_depth - 1 transitive agreements of other institutions.

    Breadth-first, one chain link per round; a unit already on a chain's path is never
    reached again (no cycles), and each unit keeps its best derivation (most credit, then
    shortest chain, then agreement order), so the rounds end. Each round looks only at the
    links naming what the round before reached or improved (the first: the held
    credentials); for the others nothing they name has changed, so neither has what they
    give."""
    facts: dict[Ref, eq.Holding] = dict(held)
    derived: dict[Ref, Derivation] = {}
    if max_depth <= 1:  # direct agreements only: no chain link to look at
        return facts, derived
    links = sorted(
        (
            a
            for a in agreements
            if a.institution_id != target
            and a.conditions.transitive_allowed
            and a.grant.WhichOneof("grant") == "unit_key"
            and _window(a, as_of) is None
        ),
        key=lambda a: (a.institution_id, a.key),
    )
    naming: dict[Ref, list[int]] = {}  # a credential or unit -> the links naming it
    for n, link in enumerate(links):
        for ref in source_credentials(link.source):
            naming.setdefault(ref, []).append(n)
    # A stored agreement's groups are never empty (records.py), so a link is met only
    # through something it names: at first, a held credential.
    to_look_at = sorted({n for ref in held for n in naming.get(ref, ())})
    for _ in range(max_depth - 1):
        evaluator = _Evaluator(facts, {**sources, **units}, as_of, derived)
        found: dict[Ref, Derivation] = {}
        for link in (links[n] for n in to_look_at):
            unit_ref = (link.institution_id, link.grant.unit_key)
            if unit_ref in held:
                continue
            result = evaluator.group(link.source, link.conditions)
            if not result.satisfied:
                continue
            used = result.options[0]  # a chain link takes the first way its group is met
            path = frozenset().union(*(derived[r].path if r in derived else {r} for r in used))
            if unit_ref in path:
                continue  # a cycle
            chain: list[rec.RecognitionAgreement] = []
            for r in used:
                for step in derived[r].chain if r in derived else ():
                    if step not in chain:
                        chain.append(step)
            chain.append(link)
            if len(chain) > max_depth - 1:
                continue
            supplied = sum(
                derived[r].cap_ects if r in derived else _credit_ects(sources.get(r)) for r in used
            )
            option = Derivation(
                originals=frozenset().union(
                    *(derived[r].originals if r in derived else {r} for r in used)
                ),
                chain=tuple(chain),
                cap_ects=min(_credit_ects(units.get(unit_ref)), supplied),
                path=path | {unit_ref},
            )
            best = found.get(unit_ref) or derived.get(unit_ref)
            if best is None or (-option.cap_ects, len(option.chain)) < (
                -best.cap_ects,
                len(best.chain),
            ):
                found[unit_ref] = option
        if not found:
            break
        to_look_at = sorted({n for unit_ref in found for n in naming.get(unit_ref, ())})
        for unit_ref, derivation in found.items():
            derived[unit_ref] = derivation
            award = min(held[r].award_date for r in derivation.originals)
            facts[unit_ref] = eq.Holding(
                credential=rec.CredentialRef(institution_id=unit_ref[0], key=unit_ref[1]),
                award_date=award,
                identity_verified=all(
                    _verified(held[r], sources.get(r)) for r in derivation.originals
                ),
            )
    return facts, derived


def _through_chains(
    candidate: Candidate, derived: Mapping[Ref, Derivation], sources: Mapping[Ref, SourceRecord]
) -> Candidate:
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
    cap = sum(
        derived[r].cap_ects if r in derived else _credit_ects(sources.get(r))
        for r in candidate.used
    )
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
    return Candidate(
        candidate.agreement,
        tuple(originals),
        granted,
        ects,
        candidate.units,
        candidate.exclusive,
        candidate.links,
        candidate.learning,
    )


def resolve(
    holdings: Sequence[eq.Holding],
    agreements: Sequence[rec.RecognitionAgreement],
    *,
    sources: Mapping[Ref, SourceRecord],
    units: Mapping[Ref, rec.LearningUnit],
    as_of: dt.date,
    target: str | None = None,
    max_depth: int = 1,
    programme: str = "",
    counts: Callable[[eq.GrantedCredit], bool] | None = None,
) -> tuple[list[eq.GrantedCredit], list[eq.NotApplied]]:
    """The grants the holdings earn at the target, and for every target agreement that did
    not apply, the reason. `agreements` are the target's agreements and, for chains, other
    institutions' transitive ones; `sources` the held credentials' records (published, with
    level and shelf-life); `units` the learning units by (institution, key). max_depth 1 is
    direct agreements only; n follows chains of up to n agreements. programme is the
    learner's intended programme at the target, for restricted agreements ("" if unknown).
    counts, for a pathway, says whether a grant would count toward the award at all (its
    regulations may keep out a non-stackable, old or irrelevant source's credit): among
    grants that compete for the same holdings or units, one that counts is preferred, as an
    admissions officer would choose it."""
    held = {(h.credential.institution_id, h.credential.key): h for h in holdings}
    if target is None:
        target = agreements[0].institution_id if agreements else ""
    facts, derived = _derive(held, agreements, sources, units, target, as_of, max(max_depth, 1))
    evaluator = _Evaluator(facts, {**sources, **units}, as_of, derived)
    families = overlap_families(list(held), sources)
    volumes = {ref: _credit_ects(record) for ref, record in sources.items()}
    candidates: list[Candidate] = []
    not_applied: list[eq.NotApplied] = []
    for agreement in sorted(
        (a for a in agreements if a.institution_id == target),
        key=lambda a: (a.institution_id, a.key),
    ):
        failure = _window(agreement, as_of)
        if failure is None:
            result = evaluator.group(agreement.source, agreement.conditions)
            if result.satisfied:
                grant = _granted(agreement, units)
                if not isinstance(grant, Failure):
                    candidates += _candidates(
                        agreement,
                        result.options,
                        grant,
                        programme,
                        derived,
                        sources,
                        families,
                        volumes,
                    )
                    continue
                failure = grant
            elif result.failures:
                failure = result.failures[0]
            else:
                missing = ", ".join(ref_text(r) for r in result.missing)
                failure = Failure(
                    eq.NOT_APPLIED_REASON_MISSING_REQUIREMENT,
                    f"needs {_requirement_text(agreement.source)}; not held: {missing}",
                )
        not_applied.append(
            eq.NotApplied(
                agreement=provenance(agreement),
                reason=failure.reason,
                explanation=failure.explanation,
            )
        )

    if counts is not None:  # weighed as a millionth: taken only when nothing counting competes
        candidates = [
            c if counts(c.granted) else replace(c, ects=c.ects * 1e-6) for c in candidates
        ]
    candidates.sort(key=lambda c: (-c.ects, len(c.used), c.agreement.key))
    chosen = _assign(candidates)
    chosen_keys = {c.agreement.key for c in chosen}
    for c in candidates if len(chosen) < len(candidates) else ():  # only when some lost
        if c.agreement.key in chosen_keys:
            continue
        chosen_keys.add(c.agreement.key)  # its best way is reported; the others are the same
        rivals = [o for o in chosen if not _compatible(c, o)]
        names = ", ".join(o.agreement.key for o in rivals)
        if rivals and all(
            c.overlaps(o) and _compatible(replace(c, learning=()), o) for o in rivals
        ):
            mine = {f for f, _ in c.learning}
            overlapping = sorted(
                {ref_text(r) for o in rivals for f, r in o.learning if f in mine}
                - set(map(ref_text, c.used))
            )
            not_applied.append(
                eq.NotApplied(
                    agreement=provenance(c.agreement),
                    reason=eq.NOT_APPLIED_REASON_LEARNING_ALREADY_COUNTED,
                    explanation=f"the learning of {', '.join(map(ref_text, c.used))} overlaps "
                    f"{', '.join(overlapping)} (as their publisher states), which "
                    f"agreement {names} already credits with as much or more: the "
                    "same learning is credited once",
                )
            )
            continue
        not_applied.append(
            eq.NotApplied(
                agreement=provenance(c.agreement),
                reason=eq.NOT_APPLIED_REASON_HOLDING_ALREADY_USED,
                explanation=f"its holdings or units are already used by agreement "
                f"{names}, which grants as much credit or more"
                + (" without conditions" if c.granted.conditional else ""),
            )
        )
    grants = [c.granted for c in sorted(chosen, key=lambda c: (c.agreement.key,))]
    not_applied.sort(key=lambda n: (n.agreement.institution_id, n.agreement.agreement_key))
    return grants, not_applied


def _candidates(
    agreement: rec.RecognitionAgreement,
    options: Sequence[Sequence[Ref]],
    grant: tuple[eq.GrantedCredit, float, tuple[str, ...]],
    programme: str,
    derived: Mapping[Ref, Derivation],
    sources: Mapping[Ref, SourceRecord],
    families: Mapping[Ref, Ref],
    volumes: Mapping[Ref, float],
) -> list[Candidate]:
    """A candidate for each way the agreement's source group is met."""
    granted, ects, codes = grant
    links = bool(agreement.also_satisfies)
    conditions = _conditions(agreement, programme)
    if conditions:
        granted.conditional = True
        granted.conditions.extend(conditions)
    found = []
    for used in options:
        one = granted
        if len(options) > 1:
            one = eq.GrantedCredit()
            one.CopyFrom(granted)
        one.used_holdings.extend(rec.CredentialRef(institution_id=i, key=k) for i, k in used)
        candidate = Candidate(agreement, tuple(used), one, ects, codes, len(options) > 1, links)
        if any(r in derived for r in used):
            candidate = _through_chains(candidate, derived, sources)
        else:
            candidate = _within_volume(candidate, volumes)
        if families:
            learning = tuple((families[r], r) for r in candidate.used if r in families)
            candidate = replace(candidate, learning=learning)
        found.append(candidate)
    return found


def _within_volume(candidate: Candidate, volumes: Mapping[Ref, float]) -> Candidate:
    """A direct grant gives no more credit than the holdings it uses carry (volumes: each
    held credential's credit in ECTS), unless its agreement states why it does
    (volume_exception); the answer then says so. A holding whose record carries no credit
    sets no bound."""
    granted = candidate.granted
    system = granted.credit.system
    if not system:
        return candidate
    volume = 0.0
    for r in candidate.used:
        volume += volumes.get(r, float("inf"))
    if candidate.ects <= volume + 1e-9:
        return candidate
    t = table()
    source_credit = t.convert_credit(volume, "ECTS", system)
    granted.source_credit.value, granted.source_credit.system = source_credit, system
    exception = candidate.agreement.volume_exception
    if exception:
        granted.volume_explanation = (
            f"grants {granted.credit.value:g} {system} for holdings of {source_credit:g} "
            f"{system}, as the agreement states: {exception}"
        )
        return candidate
    offered = granted.credit.value  # the message is this candidate's own: change it in place
    granted.credit.value = source_credit
    granted.volume_explanation = (
        f"reduced from {offered:g} to {source_credit:g} {system}, the credit of the holdings "
        "it uses: a grant gives no more than its sources carry unless the agreement states "
        "why (a volume exception)"
    )
    c = candidate  # constructed, not dataclasses.replace: this runs for many grants
    return Candidate(
        c.agreement,
        c.used,
        granted,
        t.to_ects(source_credit, system),
        c.units,
        c.exclusive,
        c.links,
        c.learning,
    )


def _assign(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The grants of an answer: the best assignment of the plain candidates, then of the
    conditional ones to what is left. Conditional grants restricted to different
    programmes do not compete: a learner is on one programme, so each restriction's grants
    are assigned on their own (one course articulated differently for two majors gives both,
    each conditional on its major). Granted agreements that share holdings by their own
    statement (also_satisfies) are marked with each other."""
    plain = [c for c in candidates if not c.granted.conditional]
    chosen = _best_assignment(plain)
    if len(plain) < len(candidates):
        by_restriction: dict[tuple[str, ...], list[Candidate]] = {}
        for c in candidates:
            if c.granted.conditional and all(_compatible(c, o) for o in chosen):
                restriction = tuple(sorted(map(_normal, c.agreement.conditions.for_programmes)))
                by_restriction.setdefault(restriction, []).append(c)
        for restriction in sorted(by_restriction):
            chosen += _best_assignment(by_restriction[restriction])
    if any(c.links for c in chosen):
        for n, c in enumerate(chosen):
            for other in chosen[n + 1 :]:
                if linked(c.agreement, other.agreement) and set(c.used) & set(other.used):
                    c.granted.shares_holdings_with.append(other.agreement.key)
                    other.granted.shares_holdings_with.append(c.agreement.key)
    return chosen


def _compatible(c: Candidate, other: Candidate) -> bool:
    """Whether two candidates may both be granted: they share nothing, or only holdings
    their agreements state one source satisfies both."""
    if c.learning and c.overlaps(other):
        return False
    mine, theirs = set(c.resources), set(other.resources)
    common = mine & theirs
    return not common or (
        all(kind == "h" for kind, _ in common) and linked(c.agreement, other.agreement)
    )
