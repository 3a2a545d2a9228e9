"""The short written forms registrars read and type for the parts of an agreement.

A source group is written the way the agreements table shows it, so what a registrar reads is
what they can type back:

    all of uk.ac.forth/FOR-PY01, (2 of uk.ac.lagan/LAG-DA01, uk.ac.lagan/LAG-DA02, uk.ac.x/Y)

Operators are read in any case (`ALL OF`, `Any Of`, `2 OF`). A key is written as the source
system writes it, single spaces included (`uk.ac.x/MAT SCI 45`): it runs to the next comma or
bracket. A space followed by another `provider/` therefore reads as a missing comma.

A grant is a module key (`CS7DE`, `BIOLOGY 1AL`), several units granted together
(`units BIOLOGY 1A + BIOLOGY 1AL`, optionally named: `units BIOLOGY 1A + BIOLOGY 1AL
"Introductory Biology"`) or general credit (`15 UK_CREDIT general at FHEQ 7`).
A list of short forms (registry_core.regulation_expressions) is written with ` | ` between
its items, as the catalogue files' list columns are. Parsing only
builds the message; whether it is valid is registry_core.records' job, so the rules live in
one place.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.conversion import table

# `all of`, `any of` or `<number> of`, in any case; the CSV column also takes ALL_OF, ANY_OF.
OPERATOR = re.compile(r"(?P<word>all|any|\d+)[ _]+of", re.IGNORECASE)
OPERATOR_CHOICES = "'all of', 'any of' or 'N of' with N a number such as '2 of' (any case)"
# A key may hold single spaces, so a reference runs on to the next comma or bracket.
TOKEN = re.compile(
    r"\s*(?:(?P<open>\()|(?P<close>\))|(?P<comma>,)|"
    r"(?P<op>(?:all|any|\d+)\s+of)\b|(?P<ref>[^\s,()]+(?:\s+[^\s,()]+)*))",
    re.IGNORECASE,
)
# Whitespace before `provider/`: where a second credential starts (an institution id has a dot).
NEXT_CREDENTIAL = re.compile(r"\s+(?=[a-z0-9][a-z0-9-]*(?:\.[a-z0-9][a-z0-9-]*)+/)")
GENERAL_CREDIT = re.compile(
    r"^(?P<value>\d+(?:\.\d+)?) (?P<system>\S+) general at "
    r"(?P<framework>\S+) (?P<level>\S+)$"
)
SERIES = re.compile(r'^units\s+(?P<keys>[^"]*\+[^"]*?)\s*(?:"(?P<name>.*)")?$', re.IGNORECASE)
GRANT_FORMS = (
    "a module key (CS7DE), units granted together ('units BIOLOGY 1A + BIOLOGY 1AL', "
    "optionally followed by the series' name in double quotes) or general credit "
    "such as '15 UK_CREDIT general at FHEQ 7'"
)


LIST_SEPARATOR = "|"
CREDIT = re.compile(r"^(?P<value>\d+(?:\.\d+)?) (?P<system>\S+)$")


class ExpressionError(ValueError):
    """Text that is not a source group, grant, level or grade; says where and what to write."""


def format_credit(credit: rec.Credit) -> str:
    return f"{credit.value:g} {credit.system}"


def parse_credit(text: str) -> rec.Credit | None:
    """`10 SCQF` (a value and a credit system); None for an empty text."""
    if not text.strip():
        return None
    match = CREDIT.match(" ".join(text.split()))
    if match is None:
        raise ExpressionError(
            f"'{text.strip()}' is not credit; write the value and the credit system, e.g. '10 SCQF'"
        )
    return rec.Credit(value=float(match["value"]), system=match["system"].upper())


def format_level(level: rec.Level) -> str:
    return f"{level.framework} {level.level}".strip()


def split_list(text: str) -> list[str]:
    """The items of a list written with ` | ` between them, trimmed, empty ones dropped."""
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


def join_list(items: Iterable[str]) -> str:
    return f" {LIST_SEPARATOR} ".join(items)


def format_operator(group: rec.SourceGroup) -> str:
    """`all of`, `any of` or `N of`."""
    return {
        rec.GROUP_OPERATOR_ALL_OF: "all of",
        rec.GROUP_OPERATOR_ANY_OF: "any of",
        rec.GROUP_OPERATOR_N_OF: f"{group.n} of",
    }.get(group.operator, "?")


def parse_operator(text: str) -> tuple[rec.GroupOperator, int]:
    """The operator and its N (0 unless N of) of `all of`, `any of` or `N of`, in any case,
    with a space or an underscore; ExpressionError lists the choices."""
    match = OPERATOR.fullmatch(text.strip())
    if match is None:
        raise ExpressionError(f"'{text.strip()}' is not a group operator; use {OPERATOR_CHOICES}")
    word = match["word"].lower()
    if word == "all":
        return rec.GROUP_OPERATOR_ALL_OF, 0
    if word == "any":
        return rec.GROUP_OPERATOR_ANY_OF, 0
    return rec.GROUP_OPERATOR_N_OF, int(word)


def format_sources(group: rec.SourceGroup) -> str:
    """A source group as registrars write it (nested groups in brackets)."""
    op = format_operator(group)
    items = [
        f"({format_sources(i.group)})"
        if i.WhichOneof("item") == "group"
        else f"{i.credential.institution_id}/{i.credential.key}"
        for i in group.items
    ]
    return f"{op} {', '.join(items)}"


def parse_sources(text: str) -> rec.SourceGroup:
    """The source group a registrar wrote; ExpressionError says what is wrong and where."""
    tokens = _tokens(text)
    group, end = _group(tokens, 0)
    if end != len(tokens):
        raise ExpressionError(
            f"unexpected '{tokens[end][1]}' after the group; put further "
            "items after a comma, or nest a group in brackets"
        )
    return group


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, at = [], 0
    text = text.rstrip()
    while at < len(text):
        match = TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise ExpressionError(f"cannot read '{text[at : at + 20]}'")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        at = match.end()
    return tokens


def _group(tokens: list[tuple[str, str]], at: int) -> tuple[rec.SourceGroup, int]:
    if at >= len(tokens) or tokens[at][0] != "op":
        found = tokens[at][1] if at < len(tokens) else ""
        words = []
        for word in found.split():
            if "/" in word:
                break
            words.append(word)
        if words:  # a misspelt operator before the first credential: `both of uk.ac.x/A`
            parse_operator(" ".join(words))
        raise ExpressionError(
            f"expected a group operator but found "
            f"{repr(found) if found else 'nothing'}; use {OPERATOR_CHOICES}"
        )
    op = tokens[at][1].lower()
    group = rec.SourceGroup()
    group.operator, group.n = parse_operator(op)
    at += 1
    while True:
        if at >= len(tokens):
            after = f"'{op}'" if not group.items else "','"
            raise ExpressionError(
                f"{after} needs an item after it: provider/key or a bracketed group"
            )
        kind, value = tokens[at]
        if kind == "open":
            inner, at = _group(tokens, at + 1)
            if at >= len(tokens) or tokens[at][0] != "close":
                raise ExpressionError("a bracket is not closed; add ')' after the nested group")
            group.items.add(group=inner)
            at += 1
        elif kind == "ref":
            if NEXT_CREDENTIAL.search(value):
                raise ExpressionError(
                    f"'{value}' reads as several credentials; separate them with commas"
                )
            group.items.add(credential=parse_reference(value))
            at += 1
        else:
            raise ExpressionError(
                f"expected provider/key or '(' but found '{value}'; put a nested group in brackets"
            )
        if at < len(tokens) and tokens[at][0] == "comma":
            at += 1
            continue
        return group, at


def parse_reference(text: str) -> rec.CredentialRef:
    """`provider/key`: the provider is everything before the first slash, the key (spaces and
    further slashes included) everything after it."""
    provider, slash, key = text.strip().partition("/")
    if not slash or not provider or not key:
        raise ExpressionError(f"'{text.strip()}' is not provider/key, e.g. uk.ac.forth/FOR-PY01")
    return rec.CredentialRef(institution_id=provider, key=key)


def format_grant(grant: rec.Grant) -> str:
    which = grant.WhichOneof("grant")
    if which == "unit_key":
        return grant.unit_key
    if which == "units":
        name = f' "{grant.units.name}"' if grant.units.name else ""
        return f"units {' + '.join(grant.units.unit_keys)}{name}"
    general = grant.general_credit
    return f"{format_credit(general.credit)} general at {format_level(general.level)}"


def parse_grant(text: str) -> rec.Grant:
    """A module key (single spaces kept), `units <key> + <key>[ "<name>"]`, or
    `<value> <SYSTEM> general at <FRAMEWORK> <level>`."""
    text = text.strip()
    match = GENERAL_CREDIT.match(" ".join(text.split()))
    if match:
        return rec.Grant(
            general_credit=rec.GeneralCredit(
                credit=rec.Credit(value=float(match["value"]), system=match["system"].upper()),
                level=rec.Level(framework=match["framework"].upper(), level=match["level"]),
            )
        )
    series = SERIES.match(text)
    if series:
        keys = [key.strip() for key in series["keys"].split("+")]
        if not all(keys):
            raise ExpressionError(f"'+' needs a unit key on each side; write {GRANT_FORMS}")
        return rec.Grant(units=rec.UnitSeries(unit_keys=keys, name=series["name"] or ""))
    if re.search(r'["+]', text) or re.match(r"(?i)units\s|\d+(?:\.\d+)?\s+\S+\s+general\b", text):
        raise ExpressionError(f"write {GRANT_FORMS}")
    amount = re.match(r"\d+(?:\.\d+)?\s+(?P<unit>\S+)", text)
    if amount and _is_credit_word(amount["unit"]):
        # "10 credits" or "15 UK_CREDIT": an amount of credit, not a module's key.
        raise ExpressionError(
            f"'{text[:40]}' is an amount of credit; general credit names its system and level: "
            "'15 UK_CREDIT general at FHEQ 7' (a module is granted by its key, e.g. CS7DE)"
        )
    return rec.Grant(unit_key=text)


def _is_credit_word(word: str) -> bool:
    """Does word name credit: 'credits', 'ECTS' or another system of the conversion table?"""
    return (
        word.lower().rstrip("s") in ("credit", "cat", "point")
        or word.upper() in table().ects_per_credit
    )


def _code_and_value(text: str, what: str) -> tuple[str, str] | None:
    """`CODE value` (a framework or scheme code, upper-cased, and a value); None for an empty
    text; what names the two parts for the error."""
    parts = text.split()
    if not parts:
        return None
    if len(parts) != 2:
        raise ExpressionError(f"write {what}")
    return parts[0].upper(), parts[1]


def parse_level(text: str) -> rec.Level | None:
    """`FHEQ 7` (framework and level); None for an empty text."""
    pair = _code_and_value(text, "the framework and the level, e.g. 'FHEQ 7'")
    return rec.Level(framework=pair[0], level=pair[1]) if pair else None


def format_grade(grade: rec.Grade) -> str:
    return f"{grade.scheme} {grade.value}".strip()


def parse_grade(text: str) -> rec.Grade | None:
    """`UK_LETTER C` (scheme and grade); None for an empty text."""
    pair = _code_and_value(text, "the grading scheme and the grade, e.g. 'UK_LETTER C'")
    return rec.Grade(scheme=pair[0], value=pair[1]) if pair else None


HOLDING = re.compile(
    r"^(?P<provider>[^/\s:@]+)/(?P<key>[^\s:@]+(?:\s+[^\s:@]+)*)"
    r"(?::(?:(?P<scheme>[A-Za-z_]+)=)?(?P<grade>[^\s@]+))?"
    r"(?:@(?P<date>\S+))?$"
)


def parse_holding(text: str, today: dt.date, identity_verified: bool = True) -> eq.Holding:
    """A learner's holding: `provider/key[:grade][@award-date]`. The grade is UK_LETTER unless
    a scheme is named (`:PERCENTAGE=65`); the award date defaults to today."""
    match = HOLDING.match(text)
    if match is None:
        raise ExpressionError(
            f"'{text}' is not provider/key[:grade][@YYYY-MM-DD], e.g. "
            "uk.ac.forth/FOR-PY01:B@2025-06-30"
        )
    date = match["date"] or today.isoformat()
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        raise ExpressionError(
            f"'{date}' in '{text}' is not a date in the form YYYY-MM-DD"
        ) from None
    holding = eq.Holding(
        credential=rec.CredentialRef(institution_id=match["provider"], key=match["key"]),
        award_date=date,
        identity_verified=identity_verified,
    )
    if match["grade"]:
        holding.grade.scheme = (match["scheme"] or "UK_LETTER").upper()
        holding.grade.value = match["grade"]
    return holding


def parse_holdings(text: str, today: dt.date, identity_verified: bool = True) -> list[eq.Holding]:
    """Holdings separated by commas (or by spaces before the next `provider/`, so a key keeps
    its own spaces): `uk.ac.x/MAT SCI 45:B, uk.ac.y/Z`."""
    return [
        parse_holding(part, today, identity_verified)
        for chunk in text.split(",")
        for part in NEXT_CREDENTIAL.split(chunk.strip())
        if part.strip()
    ]
