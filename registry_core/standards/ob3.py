"""Open Badges 3.0 and CLR 2.0 (1EdTech): a micro-credential as an OB3 `Achievement`, and
micro-credentials from an `Achievement`, an `OpenBadgeCredential` / `AchievementCredential`
or a CLR 2.0 `ClrCredential`.

Every document is checked against 1EdTech's OB3 JSON Schema (registry_core/schemas, Draft
2019-09) before it is read, so a refusal names the actual problem and the JSON path of the
element. Which fields map where, and the extension points used for what OB3 has no element
for, are in docs/standards.md ("Open Badges 3.0 and CLR 2.0").
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft201909Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from registry.v1 import records_pb2 as rec
from registry_core.conversion import table
from registry_core.errors import InvalidRecord
from registry_core.standards.common import uri_part

# OB3 defines creditsAvailable as "credit hours" ("Credit hours associated with this entity,
# or credit hours possible. For example 3.0.", OB 3.0 data model, Achievement): US semester
# credit hours, the conversion table's US_SEMESTER_HOUR (1 semester hour = 2 ECTS, its source
# stated there).
CREDIT_HOURS = "US_SEMESTER_HOUR"
# OB3's extensible vocabularies take new terms as "ext:Name" (OB 3.0, "Extending
# enumerated vocabularies"); the schema checks that form. These name what the registry
# carries where OB3 has no element (docs/standards.md lists them).
LEVEL_ALIGNMENT = "ext:FrameworkLevel"
SUBJECT_ALIGNMENT = "ext:ISCEDF"
EXT_CREDIT = "ext:credit"  # the credit as stated, "15 SCQF": creditsAvailable is converted
EXT_WORKLOAD = "ext:workloadHours"
EXT_ASSESSMENT = "ext:assessmentType"
EXT_PARTICIPATION = "ext:participationForm"
EXT_QA = "ext:qualityAssurance"
EXT_STACKABLE = "ext:stackable"
EXT_VALIDITY = "ext:creditValidityMonths"
EXT_IDENTITY = "ext:identityVerifiedAssessment"
EXT_PREREQUISITE = "ext:prerequisite"
EQF_URI = re.compile(r"^https?://data\.europa\.eu/snb/eqf/(\d)$")
ISCED_URI = re.compile(r"^https?://data\.europa\.eu/snb/isced-f/(\d{2,4})$")
FRAMEWORK_URI = re.compile(r"/frameworks/([A-Z_]+)/levels/([^/]+)$")
ESCO = ("http://data.europa.eu/esco/", "https://data.europa.eu/esco/")
PARTICIPATION = {
    "ONLINE": rec.PARTICIPATION_FORM_ONLINE,
    "ONSITE": rec.PARTICIPATION_FORM_ONSITE,
    "BLENDED": rec.PARTICIPATION_FORM_BLENDED,
}
# VC 1.1 named the validity dates as VC 2.0 does not; OB 3.0 credentials before 3.0.3 (and
# CLR 2.0 before 2.0.1) are on VC 1.1. They are read as their VC 2.0 equivalents.
VC1 = "https://www.w3.org/2018/credentials/v1"
VC2 = "https://www.w3.org/ns/credentials/v2"
VC1_DATES = {"issuanceDate": "validFrom", "expirationDate": "validUntil"}
CREDENTIAL_TYPES = ("OpenBadgeCredential", "AchievementCredential")
# The parts of a credential this import reads: a schema error inside one refuses the file;
# one elsewhere (the learner's identity, evidence, results, proof) is reported and ignored.
USED_TOP = {"@context", "type", "validFrom", "validUntil"}
USED_ISSUER = {"id", "type", "name"}


@dataclass
class Supplement:
    """What the registrar states for elements a record needs and the badge does not carry
    (`sync-agent import-badge --credit ...`); a badge's own value always wins."""

    credit: rec.Credit | None = None
    level: rec.Level | None = None
    country: str = ""
    workload_hours: float = 0.0
    assessment_type: str = ""
    participation_form: rec.ParticipationForm = rec.PARTICIPATION_FORM_UNSPECIFIED
    quality_assurance: str = ""
    awarding_body: str = ""


@dataclass
class Imported:
    """One micro-credential read from a badge, with what a registrar should read about it."""

    record: rec.MicroCredential
    achievement_id: str
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------- export


def achievement_id(base_url: str, institution_id: str, key: str) -> str:
    return f"{base_url.rstrip('/')}/achievements/{institution_id}/{uri_part(key)}"


def learning_unit_to_ob3(unit: rec.LearningUnit, base_url: str) -> dict[str, Any]:
    """An OB3 Achievement of a module or qualification (what a learner's credential of one
    is about), with the same id form as a micro-credential's."""
    kind = "Course" if unit.kind == rec.LEARNING_UNIT_KIND_MODULE else "Degree"
    outcomes = "\n".join(f"- {o}" for o in unit.learning_outcomes)
    return {
        "id": achievement_id(base_url, unit.institution_id, unit.key),
        "type": ["Achievement"],
        "achievementType": kind,
        "name": unit.title,
        "description": f"{unit.title}: {unit.credit.value:g} {unit.credit.system}"
        + (
            f" at {unit.level.framework} level {unit.level.level}" if unit.HasField("level") else ""
        ),
        "criteria": {"narrative": outcomes or f"Passing {unit.title}."},
        "humanCode": unit.key,
    }


def achievement_key(achievement_id: str, base_url: str) -> tuple[str, str] | None:
    """(institution_id, key) of an achievement id this registry made with base_url
    (micro_credential_to_ob3), the key percent-decoded; None for any other id."""
    prefix = f"{base_url.rstrip('/')}/achievements/"
    if not achievement_id.startswith(prefix):
        return None
    parts = achievement_id[len(prefix) :].split("/")
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], unquote(parts[1])


def _entry(identifier_type: str, value: str) -> dict[str, Any]:
    return {"type": "IdentifierEntry", "identifier": value, "identifierType": identifier_type}


def _level_alignments(level: rec.Level, base: str) -> list[dict[str, Any]]:
    """The record's level, then (for another framework) the EQF level it is referenced to,
    each as an alignment to a URI naming the level: EQF's own concept URIs, else this
    registry's."""

    def one(framework: str, code: str, note: str = "") -> dict[str, Any]:
        eqf = framework == "EQF"
        return {
            "type": ["Alignment"],
            "targetType": LEVEL_ALIGNMENT,
            "targetName": f"{framework} level {code}",
            "targetFramework": framework,
            "targetCode": code,
            "targetUrl": f"http://data.europa.eu/snb/eqf/{code}"
            if eqf
            else f"{base}/frameworks/{framework}/levels/{uri_part(code)}",
            **({"targetDescription": note} if note else {}),
        }

    found = [one(level.framework, level.level)]
    eqf = table().eqf_level(level.framework, level.level)
    if level.framework != "EQF" and eqf is not None:
        found.append(
            one(
                "EQF",
                str(eqf),
                f"the EQF level {level.framework} level {level.level} is referenced to",
            )
        )
    return found


def _grading(scheme: str, achievement: str) -> dict[str, Any]:
    """The grading scheme as an OB3 ResultDescription: its grades low to high (OB3 orders
    allowedValue so), or its numeric range."""
    entry = table().raw["grading_schemes"][scheme]
    described: dict[str, Any] = {
        "id": f"{achievement}#grading-{scheme}",
        "type": ["ResultDescription"],
        "name": f"Grade ({scheme})",
    }
    if "numeric" in entry:
        described |= {
            "resultType": "Percent" if scheme == "PERCENTAGE" else "ScaledScore",
            "valueMin": f"{entry['numeric']['min']:g}",
            "valueMax": f"{entry['numeric']['max']:g}",
        }
    else:
        described |= {
            "resultType": "LetterGrade",
            "allowedValue": [g["grade"] for g in entry["grades"]],
        }
    return described


def micro_credential_to_ob3(mc: rec.MicroCredential, base_url: str) -> dict[str, Any]:
    """An Open Badges 3.0 `Achievement` describing the micro-credential, valid against OB3's
    JSON Schema, that micro_credentials_from_ob3 reads back into the same record."""
    base = base_url.rstrip("/")
    ident = achievement_id(base, mc.institution_id, mc.key)
    hours = table().convert_credit(mc.credit.value, mc.credit.system, CREDIT_HOURS)
    stated = f"{mc.credit.value:g} {mc.credit.system}"
    criteria: dict[str, Any] = {"narrative": "\n".join(f"- {o}" for o in mc.learning_outcomes)}
    if mc.url:
        criteria["id"] = mc.url  # the page that describes it
    alignment = _level_alignments(mc.level, base)
    if mc.subject_isced:
        alignment.append(
            {
                "type": ["Alignment"],
                "targetType": SUBJECT_ALIGNMENT,
                "targetName": f"ISCED-F {mc.subject_isced}",
                "targetFramework": "ISCED-F 2013",
                "targetCode": mc.subject_isced,
                "targetUrl": f"http://data.europa.eu/snb/isced-f/{mc.subject_isced}",
            }
        )
    alignment += [
        {
            "type": ["Alignment"],
            "targetType": "ceasn:Competency",
            "targetName": skill.rstrip("/").rsplit("/", 1)[-1],
            "targetUrl": skill,
            **({"targetFramework": "ESCO"} if skill.startswith(ESCO) else {}),
        }
        for skill in mc.skills
    ]
    other = [
        _entry(EXT_CREDIT, stated),
        _entry(EXT_WORKLOAD, f"{mc.workload_hours:g}"),
        _entry(EXT_ASSESSMENT, mc.assessment_type),
        _entry(
            EXT_PARTICIPATION,
            rec.ParticipationForm.Name(mc.participation_form).removeprefix("PARTICIPATION_FORM_"),
        ),
        _entry(EXT_QA, mc.quality_assurance),
    ]
    if mc.HasField("stackable"):
        other.append(_entry(EXT_STACKABLE, str(mc.stackable).lower()))
    if mc.credit_validity_months:
        other.append(_entry(EXT_VALIDITY, str(mc.credit_validity_months)))
    if mc.HasField("identity_verified_assessment"):
        other.append(_entry(EXT_IDENTITY, str(mc.identity_verified_assessment).lower()))
    other += [_entry(EXT_PREREQUISITE, p) for p in mc.prerequisites]
    achievement: dict[str, Any] = {
        "id": ident,
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": mc.title,
        "description": f"{mc.title}: {stated} credit ({hours:g} US semester credit hours, "
        f"as creditsAvailable), {mc.level.framework} level {mc.level.level}, "
        f"{mc.workload_hours:g} hours of learning; assessed by "
        f"{mc.assessment_type}.",
        "criteria": criteria,
        "creator": {
            "id": f"{base}/institutions/{mc.institution_id}",
            "type": ["Profile"],
            "name": mc.awarding_body,
            "address": {"type": ["Address"], "addressCountryCode": mc.country},
        },
        "creditsAvailable": hours,
        "humanCode": mc.key,
        "alignment": alignment,
        "otherIdentifier": other,
    }
    if mc.subject_isced:
        achievement["fieldOfStudy"] = f"ISCED-F {mc.subject_isced}"
    if mc.grading_scheme:
        achievement["resultDescription"] = [_grading(mc.grading_scheme, ident)]
    return achievement


# ------------------------------------------------------------------------------ validation


@cache
def schema() -> dict[str, Any]:
    """1EdTech's OB 3.0 AchievementCredential JSON Schema (registry_core/schemas/README.md)."""
    text = (
        resources.files("registry_core")
        .joinpath("schemas/ob_v3p0_achievementcredential_schema.json")
        .read_text("utf-8")
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator(definition: str | None) -> Draft201909Validator:
    """A validator of the whole credential, or of one `$defs` entry: the entry's `$ref`s point
    into the same document, so it is checked as a reference from the whole schema."""
    whole = schema()
    target = (
        whole
        if definition is None
        else {"$schema": whole["$schema"], "$ref": f"#/$defs/{definition}", "$defs": whole["$defs"]}
    )
    return Draft201909Validator(target, format_checker=FormatChecker())


def path_of(parts: Sequence[str | int]) -> str:
    """A JSON path ("$.credentialSubject.achievement.resultDescription[2].type")."""
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _describe(error: ValidationError) -> tuple[list[str | int], str]:
    """Where a schema error is and what it says, in words a registrar acts on."""
    while error.context:  # oneOf/anyOf: the alternative that came nearest, the one that
        # matched the value's type and failed deeper inside it
        depth = len(error.absolute_path)
        pool = (
            [e for e in error.context if len(e.absolute_path) > depth]
            or [e for e in error.context if e.validator != "type"]
            or list(error.context)
        )
        error = best_match(pool) or pool[0]
    where: list[str | int] = list(error.absolute_path)
    value: Any = error.instance
    expected_any: Any = error.validator_value
    if error.validator == "required":
        missing = [p for p in expected_any if p not in value]
        where.append(missing[0] if missing else "?")
        return where, "is missing: OB 3.0 requires it"
    if error.validator == "contains" and where and where[-1] == "type":
        wanted = expected_any.get("enum", [])
        return where, (
            f"is {json.dumps(value)}; it must include " + " or ".join(f"'{w}'" for w in wanted)
        )
    if error.validator == "enum":
        return where, f"is {json.dumps(value)[:80]}; OB 3.0 allows {expected_any}"
    if error.validator == "format":
        return where, f"'{value}' is not a {expected_any}"
    if error.validator == "type":
        return where, f"is {json.dumps(value)[:80]}, not of type {expected_any}"
    return where, error.message[:200]


def _used_in_achievement(rel: Sequence[str | int]) -> bool:
    if not rel or rel[0] in HANDLED - {"creator"}:
        return True
    return rel[0] == "creator" and (len(rel) == 1 or rel[1] in {"id", "type", "name", "address"})


def _used(
    where: Sequence[str | int],
    prefix: Sequence[str | int],
    definition: str | None,
) -> bool:
    """Whether an element at `where` (relative to the credential or achievement at `prefix`)
    is one this import reads: a schema error there refuses the document."""
    rel = list(where)[len(prefix) :]
    if definition == "Achievement":
        return _used_in_achievement(rel)
    if not rel or rel[0] in USED_TOP:
        return True
    if rel[0] == "issuer":
        return len(rel) == 1 or rel[1] in USED_ISSUER and len(rel) <= 3
    if rel[0] == "credentialSubject":
        return (
            len(rel) == 1
            or rel[1] == "type"
            or rel[1] == "achievement"
            and _used_in_achievement(rel[2:])
        )
    return False


def _single_types(document: Any, validator: Draft201909Validator) -> Any:
    """The document with each `type` given as one string where OB3's schema wants a set
    (["Achievement"]) made a one-element list: JSON-LD reads the two alike, and 1EdTech's
    own samples use both."""
    fixed = copy.deepcopy(document)
    for _ in range(20):
        found = [
            e
            for e in validator.iter_errors(fixed)
            if e.validator == "type"
            and e.validator_value == "array"
            and isinstance(e.instance, str)
            and list(e.absolute_path)[-1:] == ["type"]
        ]
        found += [
            c
            for e in validator.iter_errors(fixed)
            for c in e.context or ()
            if c.validator == "type"
            and c.validator_value == "array"
            and isinstance(c.instance, str)
            and list(c.absolute_path)[-1:] == ["type"]
        ]
        if not found:
            break
        for error in found:
            *parent, last = list(error.absolute_path)
            holder = fixed
            for part in parent:
                holder = holder[part]
            holder[last] = [holder[last]] if isinstance(holder[last], str) else holder[last]
    return fixed


def _check(
    document: Any,
    definition: str | None,
    prefix: list[str | int],
    name: str,
    warnings: list[str],
    first: InvalidRecord | None = None,
) -> Any:
    """The document, checked: refused for a schema error in a part the import reads (or for
    `first`, a problem found before, with the schema's problems added), other errors
    reported. Returns it with single-string types made lists (_single_types)."""
    validator = _validator(definition)
    document = _single_types(document, validator)
    refusing = []
    for error in validator.iter_errors(document):
        where, what = _describe(error)
        if _used(where, [], definition):
            refusing.append((prefix + where, what))
        else:
            warnings.append(
                f"{path_of(prefix + where)} {what} (an element this import does "
                "not read, so it is ignored)"
            )
    # The shallowest first: a wrong credential type says more than what it then lacks.
    refusing.sort(key=lambda r: (len(r[0]), list(map(str, r[0]))))
    more = "".join(f"; also {path_of(w)} {t}" for w, t in refusing[:5])
    if first is not None:
        raise InvalidRecord(first.record, first.field, first.problem + more)
    if refusing:
        (where, what), rest = refusing[0], refusing[1:]
        more = "".join(f"; also {path_of(w)} {t}" for w, t in rest[:4])
        raise InvalidRecord(
            name,
            path_of(where),
            f"{what}{more}; see 1EdTech's OB 3.0 specification for the element",
        )
    return document


def _instant(value: Any) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _in_force(
    credential: dict[str, Any], prefix: list[str | int], name: str, now: dt.datetime
) -> InvalidRecord | None:
    """Why a credential is not in force (before validFrom, after validUntil; VC 1.1:
    issuanceDate, expirationDate), or None: it is imported only within its validity."""
    start, end = _instant(credential.get("validFrom")), _instant(credential.get("validUntil"))
    if start is not None and start > now:
        return InvalidRecord(
            name,
            path_of([*prefix, "validFrom"]),
            f"the credential is not yet valid: validFrom is "
            f"{credential['validFrom']}, after now ({now:%Y-%m-%dT%H:%M}Z); "
            "import it once it is in force",
        )
    if end is not None and end < now:
        return InvalidRecord(
            name,
            path_of([*prefix, "validUntil"]),
            f"the credential expired: validUntil is {credential['validUntil']}, "
            f"before now ({now:%Y-%m-%dT%H:%M}Z); ask its issuer for a current "
            "one",
        )
    return None


def _as_vc2(credential: dict[str, Any], warnings: list[str], where: str) -> dict[str, Any]:
    """A VC 1.1 credential (OB 3.0 before 3.0.3) as its VC 2.0 form, to check it against the
    3.0.3 schema: the VC 1.1 context becomes VC 2.0's, issuanceDate validFrom, expirationDate
    validUntil."""
    context = credential.get("@context")
    if not isinstance(context, list) or VC1 not in context:
        return credential
    copied = copy.deepcopy(credential)
    copied["@context"] = [VC2 if c == VC1 else c for c in context]
    for old, new in VC1_DATES.items():
        if old in copied and new not in copied:
            copied[new] = copied.pop(old)
    warnings.append(
        f"{where} is a VC 1.1 credential (OB 3.0 before 3.0.3): its issuanceDate "
        "and expirationDate are read as validFrom and validUntil"
    )
    return copied


def _types(value: Any) -> list[str]:
    return (
        [value]
        if isinstance(value, str)
        else [str(t) for t in value]
        if isinstance(value, list)
        else []
    )


# ---------------------------------------------------------------------------------- import


def achievements_in(
    document: Any, name: str, now: dt.datetime, warnings: list[str]
) -> Iterator[tuple[list[str | int], dict[str, Any], dict[str, Any] | None]]:
    """Each achievement of the document with its JSON path and the credential that states it
    (None for an Achievement alone), every part checked first."""
    if not isinstance(document, dict):
        raise InvalidRecord(
            name,
            "$",
            "is not a JSON object; give an OB 3.0 Achievement, "
            "OpenBadgeCredential or CLR 2.0 ClrCredential",
        )
    types = _types(document.get("type"))
    if "ClrCredential" in types:
        yield from _clr(document, name, now, warnings)
    elif any(t in types for t in CREDENTIAL_TYPES) or "credentialSubject" in document:
        yield _credential(document, [], name, now, warnings)
    elif "Achievement" in types:
        yield [], _check(document, "Achievement", [], name, warnings), None
    else:
        raise InvalidRecord(
            name,
            "$.type",
            f"is {json.dumps(document.get('type'))}; give an "
            "OB 3.0 Achievement, an OpenBadgeCredential or AchievementCredential, "
            "or a CLR 2.0 ClrCredential",
        )


def _credential(
    credential: Any, prefix: list[str | int], name: str, now: dt.datetime, warnings: list[str]
) -> tuple[list[str | int], dict[str, Any], dict[str, Any]]:
    if not isinstance(credential, dict):
        raise InvalidRecord(name, path_of(prefix), "is not a credential (a JSON object)")
    credential = _as_vc2(credential, warnings, path_of(prefix))
    credential = _check(
        credential, None, prefix, name, warnings, _in_force(credential, prefix, name, now)
    )
    if "proof" in credential:
        warnings.append(
            f"{path_of([*prefix, 'proof'])} is not verified: the import reads the "
            "achievement a credential describes, not a learner's award"
        )
    if "credentialStatus" in credential:
        warnings.append(
            f"{path_of([*prefix, 'credentialStatus'])} is not checked: the import "
            "fetches nothing, and a revoked award leaves the achievement it "
            "describes as it was"
        )
    achievement = credential["credentialSubject"]["achievement"]
    return [*prefix, "credentialSubject", "achievement"], achievement, credential


def _clr(
    document: dict[str, Any],
    name: str,
    now: dt.datetime,
    warnings: list[str],
) -> Iterator[tuple[list[str | int], dict[str, Any], dict[str, Any] | None]]:
    """A CLR 2.0 ClrCredential: its structure checked by hand (CLR 2.0 data model: issuer,
    validFrom, a ClrSubject with verifiableCredential and/or achievement), each credential in
    it against the OB3 schema, each achievement against OB3's Achievement."""
    clr = _as_vc2(document, warnings, "$")
    for required in ("issuer", "validFrom", "credentialSubject"):
        if required not in clr:
            raise InvalidRecord(name, f"$.{required}", "is missing: CLR 2.0 requires it")
    issuer = clr["issuer"]
    if not (
        isinstance(issuer, str)
        or isinstance(issuer, dict)
        and "Profile" in _types(issuer.get("type"))
        and issuer.get("id")
    ):
        raise InvalidRecord(name, "$.issuer", "must be a Profile with an id (or its URI)")
    if (problem := _in_force(clr, [], name, now)) is not None:
        raise problem
    subject = clr["credentialSubject"]
    if not isinstance(subject, dict) or "ClrSubject" not in _types(subject.get("type")):
        raise InvalidRecord(name, "$.credentialSubject.type", "must include 'ClrSubject'")
    credentials, achievements = subject.get("verifiableCredential"), subject.get("achievement")
    if not credentials and not achievements:
        raise InvalidRecord(
            name,
            "$.credentialSubject",
            "holds no verifiableCredential and no achievement: there is nothing to import",
        )
    seen: set[str] = set()
    for i, credential in enumerate(credentials or []):
        if isinstance(credential, str):
            warnings.append(
                f"$.credentialSubject.verifiableCredential[{i}] is a compact JWS "
                "credential, which this import does not decode"
            )
            continue
        path, achievement, stated_in = _credential(
            credential, ["credentialSubject", "verifiableCredential", i], name, now, warnings
        )
        seen.add(str(achievement.get("id")))
        yield path, achievement, stated_in
    for i, achievement in enumerate(achievements or []):
        at: list[str | int] = ["credentialSubject", "achievement", i]
        achievement = _check(achievement, "Achievement", at, name, warnings)
        if str(achievement.get("id")) in seen:
            continue  # the same achievement, already read from its credential
        seen.add(str(achievement.get("id")))
        yield at, achievement, None


def _narrative_outcomes(narrative: str) -> list[str]:
    """Learning outcomes from a criteria narrative: the items of a Markdown list (as
    micro_credential_to_ob3 writes them), else the narrative as one statement."""
    lines = [line.strip() for line in narrative.splitlines() if line.strip()]
    if lines and all(line[:2] in ("- ", "* ") for line in lines):
        return [line[2:].strip() for line in lines]
    return [narrative.strip()] if narrative.strip() else []


def _credit(text: str) -> rec.Credit | None:
    value, _, system = text.strip().partition(" ")
    try:
        amount = float(value)
    except ValueError:
        return None
    return (
        rec.Credit(value=amount, system=system)
        if system in table().ects_per_credit and amount > 0
        else None
    )


def _level(alignments: list[tuple[int, dict[str, Any]]]) -> tuple[rec.Level | None, set[int]]:
    """The level: the first level alignment (ours first, then any EQF concept URI) whose
    framework and level the conversion table knows. Returns the alignments it accounts for."""
    t = table()
    found: list[tuple[int, int, rec.Level]] = []
    for i, a in alignments:
        url, framework, code = (
            str(a.get("targetUrl", "")),
            str(a.get("targetFramework", "")),
            str(a.get("targetCode", "")),
        )
        eqf, ours = EQF_URI.match(url), FRAMEWORK_URI.search(url)
        if eqf:
            framework, code = "EQF", eqf.group(1)
        elif ours:
            framework, code = ours.group(1), unquote(ours.group(2))
        elif a.get("targetType") != LEVEL_ALIGNMENT:
            continue
        if code in t.levels.get(framework, ()):
            found.append(
                (
                    0 if a.get("targetType") == LEVEL_ALIGNMENT else 1,
                    i,
                    rec.Level(framework=framework, level=code),
                )
            )
    if not found:
        return None, set()
    found.sort(key=lambda f: (f[0], f[1]))
    return found[0][2], {i for _, i, _ in found}


def _grading_scheme(descriptions: Any, warnings: list[str], where: str) -> str:
    """A grading scheme from a ResultDescription: by the scheme code its name gives, else by
    its allowed grades, else a Percent result as PERCENTAGE; none matched is reported."""
    t = table()
    schemes = t.raw["grading_schemes"]
    for i, d in enumerate(descriptions if isinstance(descriptions, list) else []):
        named = re.search(r"\(([A-Z_]+)\)", str(d.get("name", "")))
        if named and named.group(1) in schemes:
            return named.group(1)
        allowed = {str(v).strip().upper() for v in d.get("allowedValue", [])}
        for scheme, entry in schemes.items():
            if allowed and allowed == {g["grade"] for g in entry.get("grades", [])}:
                return str(scheme)
        if d.get("resultType") == "Percent":
            return "PERCENTAGE"
        warnings.append(
            f"{where}.resultDescription[{i}] ('{d.get('name')}', "
            f"{d.get('resultType')}) matches no grading scheme of the conversion "
            "table; not carried"
        )
    return ""


HANDLED = {
    "id",
    "type",
    "name",
    "description",
    "criteria",
    "creator",
    "creditsAvailable",
    "humanCode",
    "alignment",
    "otherIdentifier",
    "fieldOfStudy",
    "resultDescription",
    "achievementType",
    "@context",
}


def micro_credential_from_achievement(
    achievement: dict[str, Any],
    where: str,
    institution_id: str,
    key: str,
    *,
    issuer: dict[str, Any] | None = None,
    supplement: Supplement | None = None,
    name: str = "OB3 achievement",
) -> tuple[rec.MicroCredential, list[str]]:
    """A micro-credential from one schema-valid OB3 Achievement at JSON path `where`; the
    issuer of the credential that states it names the awarding body where it has no
    creator."""
    given = supplement or Supplement()
    warnings: list[str] = []

    # Everything a micro-credential needs and the achievement does not state is said at
    # once, so that a registrar supplies it all in one go (a newcomer needed seven runs).
    missing: list[tuple[str, str, str]] = []

    def need(element: str, what: str, option: str) -> None:
        missing.append((f"{where}.{element}", what, option))

    extra: dict[str, list[str]] = {}
    for i, entry in enumerate(achievement.get("otherIdentifier", [])):
        kind = str(entry.get("identifierType"))
        if kind.startswith("ext:") and kind in {
            EXT_CREDIT,
            EXT_WORKLOAD,
            EXT_ASSESSMENT,
            EXT_PARTICIPATION,
            EXT_QA,
            EXT_STACKABLE,
            EXT_VALIDITY,
            EXT_IDENTITY,
            EXT_PREREQUISITE,
        }:
            extra.setdefault(kind, []).append(str(entry.get("identifier", "")))
        else:
            warnings.append(
                f"{where}.otherIdentifier[{i}] ({kind} "
                f"'{entry.get('identifier')}') is not carried: the record has no "
                "place for another identifier"
            )

    def ext(kind: str) -> str:
        return next(iter(extra.get(kind, [])), "")

    def number(kind: str) -> float:
        try:
            value = float(ext(kind) or 0)
        except ValueError:
            value = -1.0
        if value < 0 or value != value:  # NaN, too
            raise InvalidRecord(
                name,
                f"{where}.otherIdentifier[{kind}]",
                f"'{ext(kind)}' is not a number of zero or more",
            )
        return value

    # Credit: as stated (ext:credit) where this registry exported it, else creditsAvailable
    # in OB3's unit, US semester credit hours.
    stated = _credit(ext(EXT_CREDIT))
    if stated is None and ext(EXT_CREDIT):
        warnings.append(
            f"{where}.otherIdentifier {EXT_CREDIT} '{ext(EXT_CREDIT)}' is not an "
            "amount and a credit system of the conversion table; not used"
        )
    hours = achievement.get("creditsAvailable")
    if stated is not None:
        credit = stated
        converted = table().convert_credit(stated.value, stated.system, CREDIT_HOURS)
        if hours is not None and abs(float(hours) - converted) > 1e-9:
            warnings.append(
                f"{where}.creditsAvailable is {hours:g} credit hours but "
                f"otherIdentifier {EXT_CREDIT} states {ext(EXT_CREDIT)} "
                f"({converted:g} credit hours); the stated credit is used"
            )
    elif hours is not None and float(hours) > 0:
        credit = rec.Credit(value=float(hours), system=CREDIT_HOURS)
    elif given.credit is not None:
        credit = given.credit
    else:
        credit = rec.Credit()
        need("creditsAvailable", "credit", "--credit (for example '5 ECTS')")

    alignments = [(i, a) for i, a in enumerate(achievement.get("alignment", []))]
    level, level_used = _level(alignments)
    if level is None:
        if given.level is None:
            need(
                "alignment",
                "level (an alignment to a framework level, such as an EQF "
                "level URI http://data.europa.eu/snb/eqf/6)",
                "--level (for example 'EQF 6')",
            )
        level = given.level or rec.Level()
    subject = ""
    skills: list[str] = []
    for i, a in alignments:
        url = str(a.get("targetUrl", ""))
        if i in level_used:
            continue
        if (isced := ISCED_URI.match(url)) is not None:
            subject = subject or isced.group(1)
        elif a.get("targetType") == "ceasn:Competency" or url.startswith(ESCO):
            skills.append(url)
        else:
            warnings.append(
                f"{where}.alignment[{i}] ('{a.get('targetName')}', "
                f"{a.get('targetType', 'no targetType')}) is not carried: only "
                "levels, ISCED-F subjects and competencies map to the record"
            )
    field_of_study = str(achievement.get("fieldOfStudy", ""))
    if not subject and field_of_study:
        code = re.fullmatch(r"(?:ISCED-F\s*)?(\d{2,4})", field_of_study.strip())
        if code:
            subject = code.group(1)
        else:
            warnings.append(
                f"{where}.fieldOfStudy ('{field_of_study}') is not an ISCED-F code; "
                "not carried into subject_isced"
            )

    creator: dict[str, Any] = (
        achievement["creator"] if isinstance(achievement.get("creator"), dict) else {}
    )
    body = (
        str(creator.get("name", "")) or str((issuer or {}).get("name", "")) or given.awarding_body
    )
    if not body:
        need(
            "creator.name",
            "awarding body (a creator name, or its credential's issuer name)",
            "--awarding-body",
        )
    address: dict[str, Any] = creator["address"] if isinstance(creator.get("address"), dict) else {}
    if not address and isinstance(issuer, dict) and isinstance(issuer.get("address"), dict):
        address = issuer["address"]
    country = str(address.get("addressCountryCode", "")) or given.country
    if not country:
        need(
            "creator.address.addressCountryCode",
            "country of the awarding body",
            "--country (ISO 3166-1 alpha-2, for example GB)",
        )
    criteria = achievement.get("criteria", {})
    outcomes = _narrative_outcomes(str(criteria.get("narrative", "")))
    if not outcomes and achievement.get("description"):
        # OB3 requires a description, not a narrative: what it achieves is the nearest.
        outcomes = [str(achievement["description"]).strip()]
        warnings.append(
            f"{where}.criteria has no narrative: the description is taken as the learning outcome"
        )
    if not outcomes:
        need(
            "criteria.narrative",
            "learning outcomes (the criteria have no narrative)",
            "a narrative in the file, one Markdown list item per outcome (no option can "
            "supply them)",
        )
    workload = number(EXT_WORKLOAD) or given.workload_hours
    if not workload:
        need(f"otherIdentifier[{EXT_WORKLOAD}]", "workload in hours", "--workload-hours")
    assessment = ext(EXT_ASSESSMENT) or given.assessment_type
    if not assessment:
        need(f"otherIdentifier[{EXT_ASSESSMENT}]", "type of assessment", "--assessment-type")
    participation = PARTICIPATION.get(ext(EXT_PARTICIPATION).upper(), given.participation_form)
    if not participation:
        need(
            f"otherIdentifier[{EXT_PARTICIPATION}]",
            "form of participation",
            "--participation-form (online, onsite or blended)",
        )
    quality = ext(EXT_QA) or given.quality_assurance
    if not quality:
        need(f"otherIdentifier[{EXT_QA}]", "quality assurance", "--quality-assurance")
    kind = str(achievement.get("achievementType", "MicroCredential"))
    if kind != "MicroCredential":
        warnings.append(
            f"{where}.achievementType is '{kind}'; it is imported as a micro-credential"
        )
    for element in sorted(set(achievement) - HANDLED):
        warnings.append(f"{where}.{element} is not carried: the record has no place for it")
    if (
        stated is None
        and achievement.get("description")
        and outcomes != [str(achievement["description"]).strip()]
    ):
        warnings.append(f"{where}.description is not carried: the record has no description")
    if dropped := sorted(set(creator) - {"id", "type", "name", "address"}):
        warnings.append(
            f"{where}.creator's {', '.join(dropped)} are not carried: the record "
            "names the awarding body only"
        )

    if missing:
        first = missing[0]
        said = "; ".join(
            f"{what}: give it with {option}"
            if len(missing) > 1
            else f"no {what} stated, and a micro-credential needs it: give it with {option}"
            for _, what, option in missing
        )
        if len(missing) > 1:
            said = (
                f"{len(missing)} things a micro-credential needs are not stated "
                f"({', '.join(element for element, _, _ in missing)}): {said}"
            )
        raise InvalidRecord(name, first[0], said)
    record = rec.MicroCredential(
        institution_id=institution_id,
        key=key,
        version=1,
        status=rec.RECORD_STATUS_ACTIVE,
        title=str(achievement.get("name", "")),
        awarding_body=body,
        country=country,
        learning_outcomes=outcomes,
        workload_hours=workload,
        credit=credit,
        level=level,
        assessment_type=assessment,
        participation_form=participation,
        quality_assurance=quality,
        prerequisites=extra.get(EXT_PREREQUISITE, []),
        grading_scheme=_grading_scheme(achievement.get("resultDescription"), warnings, where),
        subject_isced=subject,
        skills=skills,
        credit_validity_months=int(number(EXT_VALIDITY)),
        url=str(criteria.get("id", "")),
    )
    if ext(EXT_STACKABLE):
        record.stackable = ext(EXT_STACKABLE) == "true"
    if ext(EXT_IDENTITY):
        record.identity_verified_assessment = ext(EXT_IDENTITY) == "true"
    return record, warnings


def micro_credentials_from_ob3(
    document: Any,
    institution_id: str,
    *,
    key: str = "",
    achievement: str = "",
    base_url: str = "",
    supplement: Supplement | None = None,
    now: dt.datetime | None = None,
    name: str = "OB3 document",
) -> list[Imported]:
    """Micro-credentials from an OB 3.0 Achievement, an OpenBadgeCredential or
    AchievementCredential, or a CLR 2.0 ClrCredential: every achievement, or only the one
    whose id is `achievement`. Each record's key is `key` (for one achievement), else the key
    in an achievement id this registry made with base_url (achievement_key), else the
    achievement's humanCode."""
    moment = now or dt.datetime.now(dt.UTC)
    warnings: list[str] = []
    found = list(achievements_in(document, name, moment, warnings))
    if achievement:
        found = [f for f in found if f[1].get("id") == achievement]
        if not found:
            raise InvalidRecord(
                name, "--achievement", f"no achievement '{achievement}' in the document"
            )
    if key and len(found) > 1:
        raise InvalidRecord(
            name,
            "--key",
            f"the document holds {len(found)} achievements; "
            "choose one with --achievement ID to give it a key, or leave "
            "--key out to key each by its humanCode",
        )
    imported: list[Imported] = []
    keys: dict[str, str] = {}
    for path, one, credential in found:
        where = path_of(path)
        ident = str(one.get("id", ""))
        own = achievement_key(ident, base_url) if base_url else None
        record_key = key or (own[1] if own else "") or str(one.get("humanCode", ""))
        if not record_key:
            # The id's last part ("…/teamwork", "urn:uuid:…"): stable for the same badge.
            record_key = unquote(re.split(r"[/:]", ident.rstrip("/"))[-1])
            warnings.append(
                f"{where}: no --key and no humanCode; keyed '{record_key}', the last part of its id"
            )
        if record_key in keys:
            # 1EdTech's own CLR sample gives four achievements one id: keyed apart, in order.
            n = 2
            while f"{record_key}-{n}" in keys:
                n += 1
            warnings.append(
                f"{where} would be keyed '{record_key}' as {keys[record_key]} is; "
                f"keyed '{record_key}-{n}'"
            )
            record_key = f"{record_key}-{n}"
        keys[record_key] = where
        issuer = credential.get("issuer") if credential else None
        record, notes = micro_credential_from_achievement(
            one,
            where,
            institution_id,
            record_key,
            issuer=issuer if isinstance(issuer, dict) else None,
            supplement=supplement,
            name=name,
        )
        imported.append(Imported(record, ident, notes))
    if imported:
        imported[0].warnings[:0] = warnings  # the document's own, once
    return imported
