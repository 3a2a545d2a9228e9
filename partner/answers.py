"""The registry's answers in words an admissions officer reads: one function per answer,
each returning lines. The demo network prints its answers with these too."""

from __future__ import annotations

from collections.abc import Sequence

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.expressions import format_grant, format_sources


def words(code: str, prefix: str) -> str:
    """An enum value's name as words: NOT_APPLIED_REASON_CREDIT_TOO_OLD, 'credit too old'."""
    return code.removeprefix(prefix).lower().replace("_", " ")


def credit(value: rec.Credit) -> str:
    return f"{value.value:g} {value.system}"


def level(value: rec.Level) -> str:
    return f"{value.framework} {value.level}" if value.framework else "no level"


def grant_lines(grant: eq.GrantedCredit) -> list[str]:
    """One grant: what, how much, for which holdings, by which agreements, on what terms."""
    which = grant.grant.WhichOneof("grant")
    if which == "unit_key":
        what = f"module {grant.grant.unit_key} {grant.unit_title}"
    elif which == "units":
        what = f"modules {' + '.join(u.unit_key for u in grant.units)} ({grant.unit_title})"
    else:
        what = "general credit"
    lines = [
        f"  {'CONDITIONAL' if grant.conditional else 'GRANTED'}  {what}: "
        f"{credit(grant.credit)} at {level(grant.level)}"
    ]
    if grant.HasField("prior_learning"):
        assessed = grant.prior_learning
        lines.append(
            f"           for experiential learning assessed by {assessed.assessor} "
            f"on {assessed.assessed_on}"
            + (f" ({assessed.reference})" if assessed.reference else "")
        )
    else:
        used = " + ".join(f"{h.institution_id}/{h.key}" for h in grant.used_holdings)
        lines.append(f"           for {used}")
        chain = " then ".join(
            f"{p.agreement_key} v{p.agreement_version} ({p.title}), published by {p.institution_id}"
            for p in grant.provenance
        )
        lines.append(f"           by agreement {chain}")
    lines += [f"           only if: {condition}" for condition in grant.conditions]
    lines += [f"           note: {note}" for note in grant.notes]
    if grant.volume_explanation:
        lines.append(f"           credit: {grant.volume_explanation}")
    if grant.shares_holdings_with:
        lines.append(
            f"           shares its holdings with {', '.join(grant.shares_holdings_with)}"
            " (the agreements say one source satisfies both)"
        )
    return lines


def not_applied_lines(refused: eq.NotApplied) -> list[str]:
    reason = words(eq.NotAppliedReason.Name(refused.reason), "NOT_APPLIED_REASON_")
    return [f"  not applied  {refused.agreement.agreement_key}: {reason} - {refused.explanation}"]


def holding_lines(checks: Sequence[eq.HoldingCheck]) -> list[str]:
    """How the registry took each holding: verified from the learner's credential (and
    what it checked), refused (and why), or as the question stated it."""
    lines = []
    for check in checks:
        evidence = words(eq.HoldingEvidence.Name(check.evidence), "HOLDING_EVIDENCE_")
        ref = (
            f"{check.credential.institution_id}/{check.credential.key}".strip("/")
            or check.credential_id
            or f"holding {check.holding + 1}"
        )
        lines.append(f"  {evidence:<15}{ref}: {check.explanation}")
        if check.evidence == eq.HOLDING_EVIDENCE_VERIFIED:
            lines.append(f"{'':17}checked: {'; '.join(check.checked)}")
        lines += [f"{'':17}not checked: {line}" for line in check.not_checked]
    return lines


def transfer_lines(answer: eq.ResolveTransferResponse) -> list[str]:
    lines = [line for g in answer.grants for line in grant_lines(g)] or ["  nothing granted"]
    lines += [line for n in answer.not_applied for line in not_applied_lines(n)]
    if answer.next_page_token:
        lines.append(f"  (more grants: ask again with --page-token {answer.next_page_token})")
    return lines


def _requirement(found: rec.LevelRequirement) -> str:
    where = f" at {level(found.level)} or above" if found.HasField("level") else ""
    return f"{credit(found.credit)}{where}"


def pathway_lines(
    answer: eq.EvaluatePathwayResponse, institution: str, *, details: bool = True
) -> list[str]:
    """Progress toward a qualification and each rule that held credit back; with details,
    the grants counted and why agreements did not apply."""
    total = answer.achieved.value + answer.remaining.value
    lines = [
        f"  counted {answer.achieved.value:g} of {total:g} {answer.achieved.system}; "
        f"{answer.remaining.value:g} remain"
        + (
            f" ({answer.counted_experiential.value:g} from experiential learning)"
            if answer.counted_experiential.value
            else ""
        ),
        "  still needed at levels: "
        + (", ".join(map(_requirement, answer.remaining_at_levels)) or "none"),
        "  mandatory modules not yet granted: "
        + (", ".join(answer.remaining_mandatory_unit_keys) or "none"),
    ]
    lines += [f"  still to study at {institution}: {_requirement(r)}" for r in answer.to_study_here]
    lines += [
        f"  not counted (conditional): {g.provenance[-1].agreement_key}, only if "
        f"{'; '.join(g.conditions)}"
        for g in answer.conditional
    ]
    lines += [
        f"  limit, {words(eq.PathwayRule.Name(limit.rule), 'PATHWAY_RULE_')}: {limit.explanation}"
        for limit in answer.limited_by
    ]
    if details and answer.counted:
        lines += ["  counted grants:"] + [line for g in answer.counted for line in grant_lines(g)]
    if details:
        lines += [line for n in answer.not_applied for line in not_applied_lines(n)]
    return lines


def agreement_lines(agreement: rec.RecognitionAgreement) -> list[str]:
    """An agreement in one line: who publishes it, what it grants, for what."""
    return [
        f"  {agreement.institution_id}/{agreement.key} v{agreement.version}  grants "
        f"{format_grant(agreement.grant)}  for  {format_sources(agreement.source)}"
        + (f"  ({agreement.title})" if agreement.title else "")
    ]


def conflict_lines(conflict: eq.Conflict) -> list[str]:
    kind = words(eq.ConflictKind.Name(conflict.kind), "CONFLICT_KIND_")
    return [f"  {kind}: {conflict.explanation}"]
