"""The short written forms of a qualification's award regulations and of a record's quality
assurance, read from catalogue files and typed in the TUI's forms.

They reuse the credit (`10 SCQF`) and level (`SCQF 9`) forms of registry_core.expressions:

- a credit limit is an amount `240 SCQF`, a share `2/3` (or `0.5`, `50%`), or both,
  `240 SCQF or 2/3` (the tighter applies);
- credit required at a level is `120 SCQF at SCQF 10`, or `60 SCQF` at any level;
- a quality assurance is `body[ <body id>]; KIND; date[; reference][; until date]`, e.g.
  `QAA Scotland <https://www.qaa.ac.uk>; INSTITUTIONAL_REVIEW; 2023-05-01; https://ref`.

Each format_* writes what the matching parse_* reads back as the same message. Parsing only
builds the message; whether it is valid is registry_core.records' job.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import cast

from registry.v1 import records_pb2 as rec
from registry_core.expressions import (
    ExpressionError,
    format_credit,
    format_level,
    parse_credit,
    parse_level,
)

SHARE = re.compile(
    r"^(?:(?P<num>\d+)/(?P<den>\d+)|"
    r"(?P<decimal>\d*\.?\d+(?:e-?\d+)?)(?P<percent>%?))$",
    re.IGNORECASE,
)
REQUIREMENT = re.compile(r"^(?P<credit>.*?)(?P<at>\s+at\b\s*(?P<level>.*))?$", re.IGNORECASE)
QA_KINDS = ("INSTITUTIONAL_REVIEW", "PROGRAMME_ACCREDITATION", "PROFESSIONAL_BODY_RECOGNITION")
QA_FORM = (
    "body; KIND; YYYY-MM-DD[; reference][; until YYYY-MM-DD], e.g. 'QAA Scotland; "
    "INSTITUTIONAL_REVIEW; 2023-05-01; https://www.qaa.ac.uk/reviews/123', the body's "
    "id (a URI) in angle brackets after its name if it has one"
)
QA_BODY = re.compile(r"^(?P<body>[^<>]*?)\s*(?:<(?P<id>[^<>]*)>)?$")


def format_share(share: float) -> str:
    """A share as a fraction where one with a small denominator is exact (`2/3`, `1/2`, `1`),
    else as the shortest decimal that reads back as the same number."""
    fraction = Fraction(share).limit_denominator(12)
    if float(fraction) == share:
        return str(fraction)
    return repr(share)


def parse_share(text: str) -> float:
    """`2/3`, `0.5` or `50%`: a share of a whole (whether it is at most 1 is validation's)."""
    match = SHARE.match(text.strip())
    if match is None or (match["den"] is not None and int(match["den"]) == 0):
        raise ExpressionError(
            f"'{text.strip()}' is not a share; write a fraction such as "
            "'2/3', a decimal such as '0.5' or a percentage such as '50%'"
        )
    if match["num"] is not None:
        return int(match["num"]) / int(match["den"])
    return float(match["decimal"]) / (100 if match["percent"] else 1)


def format_credit_limit(limit: rec.CreditLimit) -> str:
    parts = [format_credit(limit.credit)] if limit.HasField("credit") else []
    if limit.HasField("share"):
        parts.append(format_share(limit.share))
    return " or ".join(parts)


def parse_credit_limit(text: str) -> rec.CreditLimit | None:
    """`240 SCQF`, `2/3`, or both joined by `or` (`240 SCQF or 2/3`); None for an empty text."""
    if not text.strip():
        return None
    limit = rec.CreditLimit()
    for part in re.split(r"\s+or\s+", text.strip(), flags=re.IGNORECASE):
        if " " in part.strip():
            if limit.HasField("credit"):
                raise ExpressionError(
                    "gives credit twice; write one amount and at most one "
                    "share, e.g. '240 SCQF or 2/3'"
                )
            credit = parse_credit(part)
            assert credit is not None  # the part is not empty
            limit.credit.CopyFrom(credit)
        elif limit.HasField("share"):
            raise ExpressionError(
                "gives a share twice; write one amount and at most one "
                "share, e.g. '240 SCQF or 2/3'"
            )
        else:
            limit.share = parse_share(part)
    return limit


def format_requirement(requirement: rec.LevelRequirement) -> str:
    credit = format_credit(requirement.credit)
    if requirement.HasField("level"):
        return f"{credit} at {format_level(requirement.level)}"
    return credit


def parse_requirement(text: str) -> rec.LevelRequirement:
    """`120 SCQF at SCQF 10` (credit at that level or above), or `60 SCQF` at any level."""
    match = REQUIREMENT.match(" ".join(text.split()))
    assert match is not None  # every text matches: the level part is optional
    credit = parse_credit(match["credit"])
    if credit is None:
        raise ExpressionError(
            f"'{text.strip()}' gives no credit; write e.g. '120 SCQF at "
            "SCQF 10', or '60 SCQF' at any level"
        )
    requirement = rec.LevelRequirement(credit=credit)
    if match["at"]:
        level = parse_level(match["level"])
        if level is None:
            raise ExpressionError(
                f"'{text.strip()}' has no level after 'at'; write e.g. '120 SCQF at SCQF 10'"
            )
        requirement.level.CopyFrom(level)
    return requirement


def parse_quality_assurance_kind(text: str) -> rec.QualityAssuranceKind:
    """`INSTITUTIONAL_REVIEW`, `PROGRAMME_ACCREDITATION` or `PROFESSIONAL_BODY_RECOGNITION`,
    in any case, with spaces or underscores."""
    name = "_".join(text.upper().replace("-", " ").split())
    if name not in QA_KINDS:
        raise ExpressionError(
            f"'{text.strip()}' is not a kind of quality assurance; use {', '.join(QA_KINDS)}"
        )
    return cast(
        rec.QualityAssuranceKind, rec.QualityAssuranceKind.Value("QUALITY_ASSURANCE_KIND_" + name)
    )


def format_quality_assurance_kind(kind: int) -> str:
    return rec.QualityAssuranceKind.Name(kind).removeprefix("QUALITY_ASSURANCE_KIND_")


def format_quality_assurance(qa: rec.QualityAssurance) -> str:
    body = f"{qa.body} <{qa.body_id}>" if qa.body_id else qa.body
    parts = [body, format_quality_assurance_kind(qa.kind), qa.date]
    if qa.reference:
        parts.append(qa.reference)
    if qa.valid_until:
        parts.append(f"until {qa.valid_until}")
    return "; ".join(parts)


def parse_quality_assurance(text: str) -> rec.QualityAssurance:
    """`body[ <body id>]; KIND; date[; reference][; until date]`."""
    parts = [part.strip() for part in text.split(";")]
    body = QA_BODY.match(parts[0])
    if len(parts) < 3 or len(parts) > 5 or body is None or not all(parts[:3]):
        raise ExpressionError(f"'{text.strip()[:60]}' is not a quality assurance; write {QA_FORM}")
    qa = rec.QualityAssurance(
        body=body["body"],
        body_id=(body["id"] or "").strip(),
        kind=parse_quality_assurance_kind(parts[1]),
        date=parts[2],
    )
    for part in parts[3:]:
        if part.lower().startswith("until "):
            if qa.valid_until:
                raise ExpressionError(f"'{text.strip()[:60]}' gives 'until' twice; write {QA_FORM}")
            qa.valid_until = part[6:].strip()
        elif qa.reference or qa.valid_until:
            raise ExpressionError(
                f"'{text.strip()[:60]}' has more parts than a quality assurance; write {QA_FORM}"
            )
        else:
            qa.reference = part
    return qa
