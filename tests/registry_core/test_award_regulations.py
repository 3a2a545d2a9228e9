"""Scenarios from the regulations' side (issue 19): each states a learner, a qualification
with its regulations, and the answer an admissions officer would give. The regulations are
those of real institutions (docs/rules.md, "Award regulations", and ../DOMAIN.md section 4
give the sources): UEA's RPL policy (at most half of a taught postgraduate award from prior
learning, a quarter from experiential learning, learning from the last five years),
Sheffield Hallam's (at most two thirds, the rest studied at SHU, at the highest level), and
the Scottish college-to-university articulation of HNC and HND.

Each scenario runs what the registry runs: resolve at the awarding institution (with the
qualification as the learner's programme), then evaluate_pathway with the records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.claims import check_holdings, check_prior_learning
from registry_core.errors import InvalidRecord
from registry_core.pathway import pathway
from registry_core.records import validate_record
from registry_core.resolution import Ref, SourceRecord, resolve
from tests.factories import AS_OF, agreement, holding, micro_credential, module

COLLEGE, UNI = "uk.ac.forth", "uk.ac.taff"


def credit(value: float, system: str = "UK_CREDIT") -> rec.Credit:
    return rec.Credit(value=value, system=system)


def level(framework: str, value: str) -> rec.Level:
    return rec.Level(framework=framework, level=value)


def general(
    value: float,
    framework: str = "FHEQ",
    at: str = "7",
    *,
    subject: str = "",
    system: str = "UK_CREDIT",
) -> rec.GeneralCredit:
    return rec.GeneralCredit(
        credit=credit(value, system), level=level(framework, at), subject_isced=subject
    )


def mc(
    key: str,
    value: float = 10,
    *,
    subject: str = "0613",
    framework: str = "FHEQ",
    at: str = "7",
    **changes: object,
) -> rec.MicroCredential:
    """A micro-credential of the college, graded in percentages, its notional hours
    matching its credit."""
    fields: dict[str, Any] = {
        "credit": credit(value),
        "workload_hours": value * 10,
        "level": level(framework, at),
        "subject_isced": subject,
        "grading_scheme": "PERCENTAGE",
        **changes,
    }
    return micro_credential(key=key, **fields)


def award(
    key: str,
    total: float,
    *,
    system: str = "UK_CREDIT",
    framework: str = "FHEQ",
    at: str = "7",
    at_levels: Sequence[tuple[str, str, float]] = (),
    mandatory: Sequence[str] = (),
    **regulations: object,
) -> rec.LearningUnit:
    """A qualification of the university with its regulations."""
    made = module(key=key, credit=total, system=system, framework=framework, level=at)
    made.kind = rec.LEARNING_UNIT_KIND_QUALIFICATION
    rule = made.stacking_rule
    rule.total.CopyFrom(credit(total, system))
    rule.mandatory_unit_keys.extend(mandatory)
    for framework_, level_, amount in at_levels:
        rule.at_levels.add(level=level(framework_, level_), credit=credit(amount, system))
    regs = rule.regulations
    for name, value in regulations.items():
        if isinstance(value, rec.CreditLimit):
            getattr(regs, name).CopyFrom(value)
        elif isinstance(value, list):
            getattr(regs, name).extend(value)
        else:
            setattr(regs, name, value)
    if not regulations:
        rule.ClearField("regulations")
    validate_record(made)
    return made


def taken(
    key: str,
    *,
    award_date: str = "2025-06-01",
    grade: str | None = "65",
    identity_verified: bool = True,
) -> eq.Holding:
    return holding(
        COLLEGE,
        key,
        award_date=award_date,
        grade=("PERCENTAGE", grade) if grade else None,
        identity_verified=identity_verified,
    )


class Network:
    """The college's and the university's published records, and the question's answer."""

    def __init__(
        self,
        sources: Sequence[SourceRecord] = (),
        units: Sequence[rec.LearningUnit] = (),
        agreements: Sequence[rec.RecognitionAgreement] = (),
    ) -> None:
        for record in (*sources, *units, *agreements):
            validate_record(record)
        self.sources: dict[Ref, SourceRecord] = {(s.institution_id, s.key): s for s in sources}
        self.units = {(u.institution_id, u.key): u for u in units}
        self.agreements = list(agreements)

    def transfer(
        self, holdings: Sequence[eq.Holding], *, programme: str = "", as_of: dt.date = AS_OF
    ) -> tuple[list[eq.GrantedCredit], list[eq.NotApplied]]:
        return resolve(
            holdings,
            self.agreements,
            sources=self.sources,
            units=self.units,
            as_of=as_of,
            target=UNI,
            programme=programme,
        )

    def pathway(
        self,
        qualification: rec.LearningUnit,
        holdings: Sequence[eq.Holding],
        *,
        prior_learning: Sequence[eq.PriorLearningAssessment] = (),
        as_of: dt.date = AS_OF,
    ) -> eq.EvaluatePathwayResponse:
        return pathway(
            qualification,
            holdings,
            self.agreements,
            sources=self.sources,
            units=self.units,
            as_of=as_of,
            prior_learning=prior_learning,
        )


def rules(answer: eq.EvaluatePathwayResponse) -> list[int]:
    return [limit.rule for limit in answer.limited_by]


def reason_of(not_applied: Sequence[eq.NotApplied], key: str) -> tuple[int, str]:
    [found] = [n for n in not_applied if n.agreement.agreement_key == key]
    return found.reason, found.explanation


def one_each(
    keys: Sequence[str],
    grant: rec.GeneralCredit | None = None,
) -> list[rec.RecognitionAgreement]:
    """An agreement per credential, each granting general credit of its size at FHEQ 7."""
    return [
        agreement(UNI, f"AG-{k}", sources=[(COLLEGE, k)], general=grant or general(10))
        for k in keys
    ]


# A cap on credit from elsewhere.


def test_six_micro_credentials_do_not_complete_a_pgcert_that_admits_half_from_elsewhere() -> None:
    """UEA: at most 50% of a taught postgraduate award from prior learning. Six 10-credit
    micro-credentials toward a 60-credit PG Certificate: the officer counts 30 and the
    learner studies 30 more."""
    keys = [f"MC{i}" for i in range(1, 7)]
    network = Network([mc(k) for k in keys], agreements=one_each(keys))
    pgcert = award(
        "PGCERT", 60, max_from_elsewhere=rec.CreditLimit(share=0.5), source="UEA RPL policy 2024/25"
    )
    answer = network.pathway(pgcert, [taken(k) for k in keys])
    assert (answer.achieved.value, answer.remaining.value) == (30, 30)
    [limit] = answer.limited_by
    assert limit.rule == eq.PATHWAY_RULE_MAX_FROM_ELSEWHERE
    assert (limit.offered.value, limit.counted.value) == (60, 30)
    assert "30 UK_CREDIT of 60 UK_CREDIT from elsewhere counted" in limit.explanation
    assert "UEA RPL policy 2024/25" in limit.explanation
    assert len(answer.counted) == 6  # every grant stands; the award takes 30 of them


def test_an_amount_cap_and_a_share_cap_apply_the_tighter() -> None:
    keys = [f"MC{i}" for i in range(1, 7)]
    network = Network([mc(k) for k in keys], agreements=one_each(keys))
    pgcert = award("PGCERT", 60, max_from_elsewhere=rec.CreditLimit(credit=credit(20), share=0.5))
    assert network.pathway(pgcert, [taken(k) for k in keys]).achieved.value == 20


# Residency.


def test_residency_at_the_highest_level_is_left_to_study_here() -> None:
    """An MSc of 180 credits, 150 of them at FHEQ 7, of which 90 must be studied at the
    university; two thirds may come from elsewhere. A learner with 150 credits of relevant
    level-7 study elsewhere gets 90 counted, and 90 at level 7 to do here."""
    keys = [f"PG{i}" for i in range(1, 6)]
    network = Network([mc(k, 30) for k in keys], agreements=one_each(keys, general(30)))
    msc = award(
        "MSC",
        180,
        at_levels=[("FHEQ", "7", 150)],
        max_from_elsewhere=rec.CreditLimit(share=2 / 3),
        residency=[rec.LevelRequirement(level=level("FHEQ", "7"), credit=credit(90))],
    )
    answer = network.pathway(msc, [taken(k) for k in keys])
    assert (answer.achieved.value, answer.remaining.value) == (90, 90)
    assert rules(answer) == [eq.PATHWAY_RULE_RESIDENCY]
    assert "90 UK_CREDIT of the award's 180 UK_CREDIT must be studied" in answer.limits[0]
    [remaining] = answer.remaining_at_levels
    assert remaining.credit.value == 90
    [here] = answer.to_study_here
    assert (here.level.level, here.credit.value) == ("7", 90)


# Relevance.


def test_a_history_credential_does_not_count_toward_an_msc_in_computing() -> None:
    """Credit counts toward an award only where it is relevant: the MSc Computing admits
    credit in ICT (ISCED-F 06). 60 credits of history (0222) count nothing; 10 in software
    (0613) count."""
    network = Network(
        [mc("HIST", 60, subject="0222"), mc("SOFT", 10, subject="0613")],
        agreements=[*one_each(["HIST"], general(60)), *one_each(["SOFT"])],
    )
    msc = award("MSC", 180, relevant_subjects_isced=["06"])
    answer = network.pathway(msc, [taken("HIST"), taken("SOFT")])
    assert answer.achieved.value == 10
    [limit] = answer.limited_by
    assert (limit.rule, list(limit.grants)) == (eq.PATHWAY_RULE_NOT_RELEVANT, ["AG-HIST"])
    assert "ISCED-F 06" in limit.explanation


def test_specific_credit_for_a_programme_module_is_relevant_whatever_its_subject() -> None:
    ethics = module(UNI, "CS7DE")
    ethics.subject_isced = "0223"  # philosophy and ethics, outside 06
    network = Network(
        [mc("ETH", 15, subject="0223")],
        [ethics],
        [agreement(UNI, "AG-ETH", sources=[(COLLEGE, "ETH")])],
    )
    msc = award("MSC", 180, relevant_subjects_isced=["06"], programme_unit_keys=["CS7DE"])
    assert network.pathway(msc, [taken("ETH")]).achieved.value == 15


def test_a_non_stackable_micro_credential_earns_its_module_but_nothing_toward_the_award() -> None:
    """The provider states the micro-credential stands alone (stackable false): the
    exemption holds in a transfer answer, but it does not stack into the award."""
    network = Network(
        [mc("SOLO", 15, stackable=False)],
        [module(UNI, "CS7DE")],
        [agreement(UNI, "AG-SOLO", sources=[(COLLEGE, "SOLO")])],
    )
    grants, _ = network.transfer([taken("SOLO")])
    assert [g.grant.unit_key for g in grants] == ["CS7DE"]
    answer = network.pathway(award("MSC", 180, mandatory=["CS7DE"]), [taken("SOLO")])
    assert answer.achieved.value == 0
    assert rules(answer) == [eq.PATHWAY_RULE_NOT_STACKABLE]
    assert list(answer.remaining_mandatory_unit_keys) == ["CS7DE"]


def test_a_micro_credential_that_does_not_state_stackability_stacks_as_before() -> None:
    unstated = mc("OPEN", 15)
    assert not unstated.HasField("stackable")
    network = Network(
        [unstated], [module(UNI, "CS7DE")], [agreement(UNI, "AG-OPEN", sources=[(COLLEGE, "OPEN")])]
    )
    assert network.pathway(award("MSC", 180), [taken("OPEN")]).achieved.value == 15


def test_learning_older_than_the_currency_limit_does_not_count() -> None:
    """UEA: learning must be from the last five years."""
    network = Network([mc("OLD", 10), mc("NEW", 10)], agreements=one_each(["OLD", "NEW"]))
    pgcert = award("PGCERT", 60, max_credit_age_months=60)
    answer = network.pathway(pgcert, [taken("OLD", award_date="2019-06-01"), taken("NEW")])
    assert answer.achieved.value == 10
    [limit] = answer.limited_by
    assert limit.rule == eq.PATHWAY_RULE_NOT_CURRENT
    assert "more than 60 months before 2026-01-15" in limit.explanation


# Level floors in each framework's own levels.


def test_a_level_floor_met_only_in_eqf_is_not_counted_at_that_level() -> None:
    """An honours degree needs 90 credits at SCQF 10. Credit at Ireland's NFQ 8 is EQF 6,
    as are SCQF 9 and 10: the referencing does not show it reaches SCQF 10, so it counts
    toward the total but not the floor, and the answer says why."""
    irish = micro_credential(
        "ie.tud",
        "IR8",
        credit=credit(5, "ECTS"),
        workload_hours=125,
        level=level("NFQ_IE", "8"),
        grading_scheme="",
    )
    network = Network(
        [irish],
        agreements=[
            agreement(
                UNI,
                "AG-IR8",
                sources=[("ie.tud", "IR8")],
                general=general(10, "NFQ_IE", "8", system="SCQF"),
            )
        ],
    )
    honours = award(
        "BSCH", 480, system="SCQF", framework="SCQF", at="10", at_levels=[("SCQF", "10", 90)]
    )
    answer = network.pathway(honours, [holding("ie.tud", "IR8", grade=None)])
    assert answer.achieved.value == 10
    [floor] = answer.remaining_at_levels
    assert floor.credit.value == 90
    [limit] = answer.limited_by
    assert limit.rule == eq.PATHWAY_RULE_LEVEL_NOT_SHOWN
    assert "does not show that NFQ_IE 8 reaches SCQF 10" in limit.explanation


# Recognition of experiential learning.


def outcomes_module(key: str = "CS7DE", value: float = 15) -> rec.LearningUnit:
    made = module(UNI, key, credit=value)
    made.learning_outcomes.extend(["Analyse data risks", "Apply the law", "Write a policy"])
    return made


def rpel(
    unit_key: str = "CS7DE",
    outcomes: Sequence[int] = (1, 2, 3),
    decision: eq.RecognitionDecision = eq.RECOGNITION_DECISION_ACCEPTED,
) -> eq.PriorLearningAssessment:
    return eq.PriorLearningAssessment(
        unit_key=unit_key,
        assessor="Dr A. Assessor",
        assessed_on="2025-11-20",
        outcomes_met=outcomes,
        decision=decision,
        reference="RPL-2025-0042",
    )


def test_an_assessed_portfolio_earns_the_module_it_was_mapped_to() -> None:
    """A learner's portfolio, assessed by the university against CS7DE's three outcomes and
    accepted: 15 credits of experiential learning, and the mandatory module is met."""
    network = Network(units=[outcomes_module()])
    answer = network.pathway(award("MSC", 180, mandatory=["CS7DE"]), [], prior_learning=[rpel()])
    assert (answer.achieved.value, answer.counted_experiential.value) == (15, 15)
    [counted] = answer.counted
    assert counted.prior_learning.assessor == "Dr A. Assessor" and not counted.provenance
    assert list(answer.remaining_mandatory_unit_keys) == []


def test_experiential_learning_counts_up_to_its_own_cap() -> None:
    """UEA: experiential learning at most 25% of a taught postgraduate award."""
    network = Network(units=[outcomes_module("CS7A", 15), outcomes_module("CS7B", 15)])
    pgcert = award("PGCERT", 60, max_experiential=rec.CreditLimit(share=0.25))
    answer = network.pathway(pgcert, [], prior_learning=[rpel("CS7A"), rpel("CS7B")])
    assert answer.achieved.value == 15
    assert rules(answer) == [eq.PATHWAY_RULE_MAX_EXPERIENTIAL]


def test_a_refused_assessment_earns_nothing() -> None:
    network = Network(units=[outcomes_module()])
    answer = network.pathway(
        award("MSC", 180),
        [],
        prior_learning=[rpel(outcomes=(1,), decision=eq.RECOGNITION_DECISION_REFUSED)],
    )
    assert answer.achieved.value == 0 and not answer.counted


@pytest.mark.parametrize(
    ("assessment", "field", "words"),
    [
        (rpel(outcomes=(1, 2)), "prior_learning[0].decision", "does not meet outcomes 3"),
        (rpel(outcomes=(1, 2, 4)), "prior_learning[0].outcomes_met[2]", "outcomes 1 to 3"),
        (rpel(unit_key="NOPE"), "prior_learning[0].unit_key", "not an active module"),
        (
            eq.PriorLearningAssessment(
                unit_key="CS7DE", assessed_on="2025-11-20", decision=eq.RECOGNITION_DECISION_REFUSED
            ),
            "prior_learning[0].assessor",
            "name who assessed",
        ),
    ],
)
def test_an_assessment_record_that_cannot_stand_is_refused_with_its_field(
    assessment: eq.PriorLearningAssessment, field: str, words: str
) -> None:
    bad = check_prior_learning([assessment], {"CS7DE": outcomes_module()}, UNI, AS_OF)
    assert bad is not None and bad.field == field and words in bad.problem


def test_a_module_without_learning_outcomes_cannot_be_assessed_against() -> None:
    bad = check_prior_learning([rpel()], {"CS7DE": module(UNI, "CS7DE")}, UNI, AS_OF)
    assert bad is not None and "learning_outcomes" in bad.problem


# The same learning counted once.


def test_a_micro_credential_carved_from_a_module_and_the_module_earn_credit_once() -> None:
    """The college carved DE-MC (10 credits) out of its module DE200 (20 credits) and says
    so. A learner holding both earns the module's grant; the micro-credential's is not
    applied, with the reason, and the award counts 20, not 30."""
    whole = module(COLLEGE, "DE200", credit=20)
    whole.subject_isced = "0613"
    part = mc("DE-MC", 10, overlaps_with=[rec.CredentialRef(institution_id=COLLEGE, key="DE200")])
    network = Network(
        [part, whole],
        agreements=[
            agreement(UNI, "AG-PART", sources=[(COLLEGE, "DE-MC")], general=general(10)),
            agreement(UNI, "AG-WHOLE", sources=[(COLLEGE, "DE200")], general=general(20)),
        ],
    )
    holdings = [taken("DE-MC"), holding(COLLEGE, "DE200", grade=None)]
    grants, not_applied = network.transfer(holdings)
    assert [g.provenance[-1].agreement_key for g in grants] == ["AG-WHOLE"]
    code, words = reason_of(not_applied, "AG-PART")
    assert code == eq.NOT_APPLIED_REASON_LEARNING_ALREADY_COUNTED
    assert f"{COLLEGE}/DE200" in words and "credited once" in words
    assert network.pathway(award("MSC", 180), holdings).achieved.value == 20


def test_a_direct_grant_gives_no_more_than_its_source_carries() -> None:
    """A 10-credit micro-credential exempts the learner from a 15-credit module: the module
    is granted, with 10 credits, and the answer says why."""
    network = Network(
        [mc("SMALL", 10)],
        [module(UNI, "CS7DE", credit=15)],
        [agreement(UNI, "AG-SMALL", sources=[(COLLEGE, "SMALL")])],
    )
    [grant], _ = network.transfer([taken("SMALL")])
    assert (grant.grant.unit_key, grant.credit.value, grant.source_credit.value) == (
        "CS7DE",
        10,
        10,
    )
    assert "reduced from 15 to 10 UK_CREDIT" in grant.volume_explanation


def test_an_agreement_that_states_why_grants_more_than_its_source() -> None:
    made = agreement(UNI, "AG-BIG", sources=[(COLLEGE, "BIG")])
    made.volume_exception = "a substantial micro-credential with a work-based project"
    network = Network([mc("BIG", 10)], [module(UNI, "CS7DE", credit=15)], [made])
    [grant], _ = network.transfer([taken("BIG")])
    assert grant.credit.value == 15
    assert "as the agreement states: a substantial" in grant.volume_explanation


def test_an_hnc_is_not_offered_the_year_three_place_that_needs_an_hnd() -> None:
    """Scottish articulation: an HND (240 SCQF credits at SCQF 8) enters year 3 of an
    honours degree; an HNC (96 credits at SCQF 7) enters year 2, with 120 credits, which
    the agreement grants deliberately beyond the HNC's 96 and says why."""
    hnc = module(COLLEGE, "HNC-COMP", credit=96, system="SCQF", framework="SCQF", level="7")
    hnd = module(COLLEGE, "HND-COMP", credit=240, system="SCQF", framework="SCQF", level="8")
    for made in (hnc, hnd):
        made.kind = rec.LEARNING_UNIT_KIND_QUALIFICATION
        made.subject_isced = "0613"
    year2 = agreement(
        UNI,
        "HNC-Y2",
        sources=[(COLLEGE, "HNC-COMP")],
        general=general(120, "SCQF", "7", system="SCQF"),
    )
    year2.volume_exception = "advanced standing into year 2 under the articulation agreement"
    year3 = agreement(
        UNI,
        "HND-Y3",
        sources=[(COLLEGE, "HND-COMP")],
        general=general(240, "SCQF", "8", system="SCQF"),
    )
    network = Network([hnc, hnd], agreements=[year2, year3])
    learner = [holding(COLLEGE, "HNC-COMP", grade=None)]
    grants, not_applied = network.transfer(learner)
    [grant] = grants
    assert (grant.provenance[-1].agreement_key, grant.credit.value) == ("HNC-Y2", 120)
    assert "for holdings of 96 SCQF" in grant.volume_explanation
    code, words = reason_of(not_applied, "HND-Y3")
    assert code == eq.NOT_APPLIED_REASON_MISSING_REQUIREMENT and "HND-COMP" in words
    honours = award("BSCH", 480, system="SCQF", framework="SCQF", at="10")
    assert network.pathway(honours, learner).achieved.value == 120


# Claims the engine does not take on trust.


def test_a_draft_credential_earns_nothing_and_the_answer_says_it_is_a_draft() -> None:
    network = Network(
        [mc("DRAFT", 15, status=rec.RECORD_STATUS_DRAFT)],
        [module(UNI, "CS7DE")],
        [agreement(UNI, "AG-DRAFT", sources=[(COLLEGE, "DRAFT")])],
    )
    grants, not_applied = network.transfer([taken("DRAFT")])
    code, words = reason_of(not_applied, "AG-DRAFT")
    assert not grants and code == eq.NOT_APPLIED_REASON_SOURCE_NOT_PUBLISHED
    assert f"{COLLEGE}/DRAFT is draft" in words


def test_a_superseded_credential_earns_nothing_and_names_its_successor() -> None:
    network = Network(
        [mc("OLD", 15, status=rec.RECORD_STATUS_SUPERSEDED, superseded_by="NEW")],
        [module(UNI, "CS7DE")],
        [agreement(UNI, "AG-OLD", sources=[(COLLEGE, "OLD")])],
    )
    _, not_applied = network.transfer([taken("OLD")])
    assert f"is superseded by {COLLEGE}/NEW" in reason_of(not_applied, "AG-OLD")[1]


def test_an_award_date_in_the_future_is_refused_as_bad_input() -> None:
    bad = check_holdings([taken("MC1", award_date="2026-03-01")], {}, AS_OF)
    assert bad is not None and bad.field == "holdings[0].award_date"
    assert "has not happened" in bad.problem


def test_a_percentage_claimed_for_a_pass_fail_credential_is_refused() -> None:
    passfail: Mapping[Ref, SourceRecord] = {(COLLEGE, "PF"): mc("PF", grading_scheme="PASS_FAIL")}
    bad = check_holdings([taken("PF", grade="72")], passfail, AS_OF)
    assert bad is not None and bad.field == "holdings[0].grade.scheme"
    assert "is graded PASS_FAIL" in bad.problem
    passed = holding(COLLEGE, "PF", grade=("PASS_FAIL", "PASS"))
    assert check_holdings([passed], passfail, AS_OF) is None


def test_identity_verification_is_read_from_the_credentials_own_record() -> None:
    """The record states whether assessment is identity-verified; the question's claim is
    taken only where it does not."""
    network = Network(
        [
            mc("NOID", 15, identity_verified_assessment=False),
            mc("ID", 15, identity_verified_assessment=True),
        ],
        [module(UNI, "CS7DE"), module(UNI, "CS7X")],
        [
            agreement(UNI, "AG-NOID", sources=[(COLLEGE, "NOID")], identity_verified_required=True),
            agreement(
                UNI,
                "AG-ID",
                sources=[(COLLEGE, "ID")],
                unit_key="CS7X",
                identity_verified_required=True,
            ),
        ],
    )
    grants, not_applied = network.transfer(
        [taken("NOID", identity_verified=True), taken("ID", identity_verified=False)]
    )
    assert [g.provenance[-1].agreement_key for g in grants] == ["AG-ID"]
    code, words = reason_of(not_applied, "AG-NOID")
    assert code == eq.NOT_APPLIED_REASON_IDENTITY_NOT_VERIFIED and "its record states" in words


# Quality assurance partners can require.


def accredited(
    key: str, body: str, kind: rec.QualityAssuranceKind, valid_until: str = ""
) -> rec.MicroCredential:
    return mc(
        key,
        15,
        quality_assurances=[
            rec.QualityAssurance(
                body=body,
                body_id=f"https://{body.lower()}.example.org",
                kind=kind,
                date="2024-01-10",
                reference="ACC-1",
                valid_until=valid_until,
            )
        ],
    )


def test_an_agreement_can_require_accreditation_by_a_named_body() -> None:
    required = rec.QualityAssuranceRequirement(
        bodies=["BCS"], kinds=[rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION]
    )
    sources = [
        accredited("BCS-OK", "BCS", rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION),
        accredited("OTHER", "ACME", rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION),
        accredited(
            "LAPSED",
            "BCS",
            rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION,
            valid_until="2025-12-31",
        ),
        mc("NONE", 15),
    ]
    agreements = []
    for n, source in enumerate(sources):
        made = agreement(UNI, f"AG-{source.key}", sources=[(COLLEGE, source.key)], unit_key=f"U{n}")
        made.conditions.required_quality_assurance.CopyFrom(required)
        agreements.append(made)
    network = Network(sources, [module(UNI, f"U{n}") for n in range(4)], agreements)
    grants, not_applied = network.transfer([taken(s.key) for s in sources])
    assert [g.provenance[-1].agreement_key for g in grants] == ["AG-BCS-OK"]
    for key in ("AG-OTHER", "AG-LAPSED", "AG-NONE"):
        code, words = reason_of(not_applied, key)
        assert code == eq.NOT_APPLIED_REASON_QUALITY_ASSURANCE_NOT_MET
        assert "programme accreditation by BCS" in words


# Regulations are data, validated with the field named.


@pytest.mark.parametrize(
    ("regulations", "field"),
    [
        (
            {"max_from_elsewhere": rec.CreditLimit(share=1.5)},
            "stacking_rule.regulations.max_from_elsewhere.share",
        ),
        (
            {"max_from_elsewhere": rec.CreditLimit(share=5e-324)},  # a share that reads as 0
            "stacking_rule.regulations.max_from_elsewhere.share",
        ),
        (
            {"max_from_elsewhere": rec.CreditLimit(share=float("nan"))},
            "stacking_rule.regulations.max_from_elsewhere.share",
        ),
        ({"max_from_elsewhere": rec.CreditLimit()}, "stacking_rule.regulations.max_from_elsewhere"),
        (
            {"residency": [rec.LevelRequirement(credit=credit(200))]},
            "stacking_rule.regulations.residency",
        ),
        (
            {"relevant_subjects_isced": ["6x"]},
            "stacking_rule.regulations.relevant_subjects_isced[0]",
        ),
        ({"max_credit_age_months": 5000}, "stacking_rule.regulations.max_credit_age_months"),
    ],
)
def test_invalid_regulations_are_refused_naming_the_field(
    regulations: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidRecord) as caught:
        award("PGCERT", 60, **regulations)
    assert caught.value.field == field


def test_a_qualification_without_regulations_counts_every_grant_as_before() -> None:
    keys = [f"MC{i}" for i in range(1, 7)]
    network = Network([mc(k) for k in keys], agreements=one_each(keys))
    answer = network.pathway(award("PGCERT", 60), [taken(k) for k in keys])
    assert (answer.achieved.value, answer.remaining.value, list(answer.limited_by)) == (60, 0, [])


# What holds for every learner and every regulation.


@settings(max_examples=200, deadline=None)
@given(
    credits=st.lists(st.sampled_from([5, 10, 15, 20, 30, 60]), min_size=1, max_size=8),
    share=st.none() | st.sampled_from([0.0, 0.25, 1 / 3, 0.5, 2 / 3, 1.0]),
    amount=st.none() | st.sampled_from([20, 60, 120]),
    residency=st.sampled_from([0, 30, 60, 90]),
    experiential=st.none() | st.sampled_from([0.0, 0.25, 0.5]),
    assessed=st.integers(0, 2),
)
def test_no_learner_gets_more_than_the_regulations_admit(
    credits: list[int],
    share: float | None,
    amount: int | None,
    residency: int,
    experiential: float | None,
    assessed: int,
) -> None:
    keys = [f"MC{i}" for i in range(len(credits))]
    units = [outcomes_module(f"RP{i}", 15) for i in range(assessed)]
    network = Network(
        [mc(k, c) for k, c in zip(keys, credits, strict=True)],
        units,
        [
            agreement(UNI, f"AG-{k}", sources=[(COLLEGE, k)], general=general(c))
            for k, c in zip(keys, credits, strict=True)
        ],
    )
    regulations: dict[str, Any] = {}
    if share is not None or amount is not None:
        regulations["max_from_elsewhere"] = rec.CreditLimit(
            share=share, credit=credit(amount) if amount is not None else None
        )
    if experiential is not None:
        regulations["max_experiential"] = rec.CreditLimit(share=experiential)
    if residency:
        regulations["residency"] = [rec.LevelRequirement(credit=credit(residency))]
    msc = award("MSC", 180, at_levels=[("FHEQ", "7", 150)], **regulations)
    answer = network.pathway(
        msc, [taken(k) for k in keys], prior_learning=[rpel(f"RP{i}") for i in range(assessed)]
    )
    achieved = answer.achieved.value
    assert achieved + answer.remaining.value == 180
    assert achieved <= 180 - residency
    assert (
        achieved
        <= min(180 * (1 if share is None else share), float("inf") if amount is None else amount)
        + 1e-9
    )
    assert (
        answer.counted_experiential.value
        <= 180 * (1 if experiential is None else experiential) + 1e-9
    )
    assert achieved <= sum(credits) + 15 * assessed
    [floor] = answer.remaining_at_levels or [rec.LevelRequirement(credit=credit(0))]
    assert 150 - floor.credit.value <= achieved  # a floor counts no more than is admitted
    if achieved < min(sum(credits) + 15 * assessed, 180):
        assert answer.limited_by, "credit held back must be named"


@settings(max_examples=200, deadline=None)
@given(
    sources=st.lists(st.sampled_from([5, 10, 15, 20]), min_size=1, max_size=3),
    unit=st.sampled_from([5, 10, 15, 20, 30, 60]),
    exception=st.booleans(),
)
def test_a_direct_grant_never_exceeds_its_sources_unless_the_agreement_says_why(
    sources: list[int], unit: int, exception: bool
) -> None:
    keys = [f"S{i}" for i in range(len(sources))]
    made = agreement(UNI, "AG", sources=[(COLLEGE, k) for k in keys])
    if exception:
        made.volume_exception = "the module's project is assessed at the college"
    network = Network(
        [mc(k, c) for k, c in zip(keys, sources, strict=True)],
        [module(UNI, "CS7DE", credit=unit)],
        [made],
    )
    [grant], _ = network.transfer([taken(k) for k in keys])
    carried = sum(sources)
    assert grant.credit.value == (unit if exception else min(unit, carried))
    assert bool(grant.volume_explanation) == (unit > carried)


# Found by an admissions officer's audit: the award's rules decide which grant counts, caps
# reach floors and mandatory modules, and credit is counted as an officer counts it.


def test_a_current_assessment_counts_where_an_old_transfer_for_the_same_module_does_not() -> None:
    """UEA: learning from the last five years. A 2018 micro-credential exempts CS7DE; the
    university's 2025 assessment of the learner's portfolio against CS7DE is accepted. The
    old transfer does not count, so the assessment does: 15, and CS7DE is met."""
    network = Network(
        [mc("DE", 15)],
        [outcomes_module("CS7DE")],
        [agreement(UNI, "AG-DE", sources=[(COLLEGE, "DE")])],
    )
    msc = award("MSC", 180, mandatory=["CS7DE"], max_credit_age_months=60)
    answer = network.pathway(
        msc, [taken("DE", award_date="2018-09-01")], prior_learning=[rpel("CS7DE")]
    )
    assert (answer.achieved.value, answer.counted_experiential.value) == (15, 15)
    assert list(answer.remaining_mandatory_unit_keys) == []
    assert rules(answer) == [eq.PATHWAY_RULE_NOT_CURRENT]


@pytest.mark.parametrize("solo_key", ["AG-A-SOLO", "AG-Z-SOLO"])
def test_of_two_grants_for_one_module_the_one_the_award_counts_is_chosen(solo_key: str) -> None:
    """SOLO (not stackable) and STACK each exempt the mandatory CS7DE: toward the award,
    STACK's grant is the one taken, whatever the agreements' keys."""
    network = Network(
        [mc("SOLO", 15, stackable=False), mc("STACK", 15, stackable=True)],
        [module(UNI, "CS7DE")],
        [
            agreement(UNI, solo_key, sources=[(COLLEGE, "SOLO")]),
            agreement(UNI, "AG-M-STACK", sources=[(COLLEGE, "STACK")]),
        ],
    )
    answer = network.pathway(
        award("MSC", 180, mandatory=["CS7DE"]), [taken("SOLO"), taken("STACK")]
    )
    assert answer.achieved.value == 15 and list(answer.remaining_mandatory_unit_keys) == []
    assert [g.provenance[-1].agreement_key for g in answer.counted] == ["AG-M-STACK"]
    assert {n.agreement.agreement_key for n in answer.not_applied} == {solo_key}


def test_of_linked_grants_sharing_a_holding_the_relevant_one_counts() -> None:
    """ETHX is articulated to philosophy (PH7A) and to computing (CS7DE), one source
    satisfying both: toward the MSc Computing, CS7DE's 15 count."""
    phil, comp = module(UNI, "PH7A"), module(UNI, "CS7DE")
    phil.subject_isced, comp.subject_isced = "0223", "0613"
    first = agreement(UNI, "AG-A-PHIL", sources=[(COLLEGE, "ETHX")], unit_key="PH7A")
    first.also_satisfies.append("AG-B-CS")
    second = agreement(UNI, "AG-B-CS", sources=[(COLLEGE, "ETHX")], unit_key="CS7DE")
    network = Network([mc("ETHX", 15, subject="0223")], [phil, comp], [first, second])
    answer = network.pathway(award("MSC", 180, relevant_subjects_isced=["06"]), [taken("ETHX")])
    assert answer.achieved.value == 15
    assert rules(answer) == [eq.PATHWAY_RULE_NOT_RELEVANT]


def test_an_experiential_cap_reaches_the_level_floor() -> None:
    """Experiential learning at most 15: of two accepted FHEQ 7 portfolios one counts, so
    only 15 count toward the 150 at FHEQ 7, beside 30 of transfer at FHEQ 6."""
    network = Network(
        [mc("L6", 30, at="6")],
        [outcomes_module("RP1"), outcomes_module("RP2")],
        [agreement(UNI, "AG-L6", sources=[(COLLEGE, "L6")], general=general(30, at="6"))],
    )
    msc = award(
        "MSC",
        180,
        at_levels=[("FHEQ", "7", 150)],
        max_experiential=rec.CreditLimit(credit=credit(15)),
    )
    answer = network.pathway(msc, [taken("L6")], prior_learning=[rpel("RP1"), rpel("RP2")])
    assert (answer.achieved.value, answer.remaining.value) == (45, 135)
    [floor] = answer.remaining_at_levels
    assert floor.credit.value == 135


@pytest.mark.parametrize(
    ("share", "total", "counted"),
    [(0.6667, 180, 120), (0.6666, 180, 120), (2 / 3, 360, 240), (0.33, 360, 118.5)],
)
def test_a_share_cap_is_counted_in_half_credits_as_written(
    share: float, total: float, counted: float
) -> None:
    keys = [f"MC{i}" for i in range(10)]
    network = Network([mc(k, 60) for k in keys], agreements=one_each(keys, general(60)))
    answer = network.pathway(
        award("HONS", total, max_from_elsewhere=rec.CreditLimit(share=share)),
        [taken(k) for k in keys],
    )
    assert answer.achieved.value == counted


def test_a_cap_on_an_award_of_mandatory_modules_leaves_modules_to_study() -> None:
    """Aberystwyth: at most 30 transferred into a PG Certificate of four mandatory 15-credit
    modules; four micro-credentials exempt one each. Two modules remain to study."""
    keys = ["PC1", "PC2", "PC3", "PC4"]
    network = Network(
        [mc(f"MC-{k}", 15) for k in keys],
        [module(UNI, k) for k in keys],
        [agreement(UNI, f"AG-{k}", sources=[(COLLEGE, f"MC-{k}")], unit_key=k) for k in keys],
    )
    pgcert = award(
        "PGCERT", 60, mandatory=keys, max_from_elsewhere=rec.CreditLimit(credit=credit(30))
    )
    answer = network.pathway(pgcert, [taken(f"MC-{k}") for k in keys])
    assert (answer.achieved.value, answer.remaining.value) == (30, 30)
    assert list(answer.remaining_mandatory_unit_keys) == ["PC3", "PC4"]
    assert "modules PC3, PC4 remain to study" in answer.limits[-1]


def test_currency_is_counted_to_the_day() -> None:
    """Five years from 2026-01-15: awarded 2021-01-15 counts; a day or a month earlier not."""
    keys = ["EXACT", "DAY", "MONTH"]
    network = Network([mc(k) for k in keys], agreements=one_each(keys))
    answer = network.pathway(
        award("PGCERT", 60, max_credit_age_months=60),
        [
            taken("EXACT", award_date="2021-01-15"),
            taken("DAY", award_date="2021-01-14"),
            taken("MONTH", award_date="2020-12-16"),
        ],
    )
    assert [g.provenance[-1].agreement_key for g in answer.counted] == ["AG-EXACT"]
    assert rules(answer) == [eq.PATHWAY_RULE_NOT_CURRENT] * 2


def test_a_pathway_answer_says_why_an_agreement_did_not_apply() -> None:
    network = Network(
        [mc("OLD", 15, status=rec.RECORD_STATUS_SUPERSEDED, superseded_by="NEW")],
        [module(UNI, "CS7DE")],
        [agreement(UNI, "AG-OLD", sources=[(COLLEGE, "OLD")])],
    )
    answer = network.pathway(award("MSC", 180), [taken("OLD")])
    [refused] = answer.not_applied
    assert "superseded by uk.ac.forth/NEW" in refused.explanation
