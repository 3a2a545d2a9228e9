"""The European Learning Model (ELM v3), the format of Europass and European Digital
Credentials: a micro-credential from an ELM credential (its claimed learning achievement or
activity) or from an ELM learning opportunity or qualification published on its own, and a
micro-credential as an ELM learning opportunity.

Which fields map where, and which cannot, is in docs/standards.md. Imports return the
record and the warnings a registrar should read: real data is inconsistent, and every
element of the source that the record has no field for is named in a warning, never dropped
in silence. A mandatory element the source does not carry, or a credential that is not in
force, is an InvalidRecord naming the field and the fix.

Controlled-vocabulary concepts (EQF, ISCED-F, the credit framework, countries, modes of
learning) are recognised by their URIs; an English label is only a fallback, with a warning,
because labels are translated, reworded and abbreviated by producers.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from registry.v1 import records_pb2 as rec
from registry_core import jsonld
from registry_core.conversion import table
from registry_core.errors import InvalidRecord
from registry_core.standards.common import uri_part
from registry_core.wording import counted

# ISO 3166-1 alpha-3 -> alpha-2 for the countries ELM credentials come from (the EU, EEA,
# the UK and candidate countries, as used by the Publications Office country table).
ALPHA3 = {
    "AUT": "AT",
    "BEL": "BE",
    "BGR": "BG",
    "HRV": "HR",
    "CYP": "CY",
    "CZE": "CZ",
    "DNK": "DK",
    "EST": "EE",
    "FIN": "FI",
    "FRA": "FR",
    "DEU": "DE",
    "GRC": "GR",
    "HUN": "HU",
    "IRL": "IE",
    "ITA": "IT",
    "LVA": "LV",
    "LTU": "LT",
    "LUX": "LU",
    "MLT": "MT",
    "NLD": "NL",
    "POL": "PL",
    "PRT": "PT",
    "ROU": "RO",
    "SVK": "SK",
    "SVN": "SI",
    "ESP": "ES",
    "SWE": "SE",
    "ISL": "IS",
    "LIE": "LI",
    "NOR": "NO",
    "CHE": "CH",
    "GBR": "GB",
    "ALB": "AL",
    "MNE": "ME",
    "MKD": "MK",
    "SRB": "RS",
    "TUR": "TR",
    "UKR": "UA",
    "MDA": "MD",
    "BIH": "BA",
    "GEO": "GE",
    "USA": "US",
    "CAN": "CA",
    "AUS": "AU",
    "NZL": "NZ",
}
# The contexts Europass writes: the importer reads terms by these names.
ELM_CONTEXT = [
    "https://www.w3.org/2018/credentials/v1",
    "http://data.europa.eu/snb/model/context/edc-ap",
]
COUNTRY = "http://publications.europa.eu/resource/authority/country"
LANGUAGE = "http://publications.europa.eu/resource/authority/language"
SNB = "http://data.europa.eu/snb/"
# The EU vocabularies' concept schemes: every concept an export writes names its scheme
# (the ELM shapes and Europass read inScheme), and the importer recognises concepts by URI.
EQF = SNB + "eqf/"
ISCED = SNB + "isced-f/"
SCHEMES = {
    EQF: EQF + "25831c2",
    ISCED: ISCED + "25831c2",
    SNB + "education-credit/": SNB + "education-credit/25831c2",
    SNB + "learning-assessment/": SNB + "learning-assessment/25831c2",
    SNB + "accreditation/": SNB + "accreditation/25831c2",
    SNB + "supervision-verification/": SNB + "supervision-verification/25831c2",
    SNB + "learning-opportunity/": SNB + "learning-opportunity/25831c2",
    SNB + "learning-setting/": SNB + "learning-setting/25831c2",
    SNB + "qdr/": SNB + "qdr/25831c2",
    COUNTRY + "/": COUNTRY,
    LANGUAGE + "/": LANGUAGE,
}
ECTS_URI = SNB + "education-credit/6fcec5c5af"  # "European Credit Transfer System"
# ISCED-F 2013's detailed field 9999, "Field unknown": the shapes require a field of
# education, and a record that states none is exported with it (and imported back as none).
ISCED_UNKNOWN = "9999"
# Modes of learning and assessment (http://data.europa.eu/snb/learning-assessment/25831c2):
# online and blended as Europass's samples write them, "presential" (on site) as Europass
# implementations use it.
MODE_URIS = {
    SNB + "learning-assessment/920fbb3cbe": rec.PARTICIPATION_FORM_ONLINE,
    SNB + "learning-assessment/e92d221e4d": rec.PARTICIPATION_FORM_BLENDED,
    SNB + "learning-assessment/9191af2ed9": rec.PARTICIPATION_FORM_ONSITE,
}
MODE_LABELS = {
    "online": rec.PARTICIPATION_FORM_ONLINE,
    "blended": rec.PARTICIPATION_FORM_BLENDED,
    "hybrid": rec.PARTICIPATION_FORM_BLENDED,
    "in person": rec.PARTICIPATION_FORM_ONSITE,
    "onsite": rec.PARTICIPATION_FORM_ONSITE,
    "on-site": rec.PARTICIPATION_FORM_ONSITE,
    "presential": rec.PARTICIPATION_FORM_ONSITE,
    "face-to-face": rec.PARTICIPATION_FORM_ONSITE,
}
MODE_NAMES = {
    rec.PARTICIPATION_FORM_ONLINE: "Online",
    rec.PARTICIPATION_FORM_BLENDED: "Blended",
    rec.PARTICIPATION_FORM_ONSITE: "Presential",
}
ELM_CREDIT_FRAMEWORKS = {
    "european credit transfer system": "ECTS",
    "european credit transfer and accumulation system": "ECTS",
    "ects": "ECTS",
}
# "Unsupervised without ID Verification" in the supervision-and-verification vocabulary.
UNVERIFIED = SNB + "supervision-verification/c598449d64"
# ELM's Accreditation types (the EU vocabulary http://data.europa.eu/snb/accreditation/25831c2,
# which the EDC application profile requires of an Accreditation's dcType; concept ids as the
# European Commission's EDCI code lists them, eu.europa.ec.empl.edci.constants
# .ControlledListConcept) to our kinds. A licence is a public authority's permission for an
# institution to operate or to offer a programme: the nearest of our kinds at the same level.
# ELM has no type for a professional body's recognition, so nothing maps to it.
_ACCREDITATION = SNB + "accreditation/"
_OWN = "urn:credit-registry:elm:"
ELM_ACCREDITATION_KINDS = {
    _ACCREDITATION + "bb4618238e": rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW,  # QA
    _ACCREDITATION + "003293d2ce": rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW,  # licence
    _ACCREDITATION + "820101cba6": rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION,  # QA
    _ACCREDITATION + "e57dddfcf3": rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION,  # licence
}
# What ELM has no element for travels in an additionalNote whose dc:subject is one of the
# registry's own concepts, so that an export read back loses nothing and a person reading
# the ELM sees the sentence. National levels and other credit systems the EU vocabularies
# do not list are the registry's own concepts too (URN schemes below).
NOTE_SCHEME = _OWN + "note"
NOTE_STACKABLE = NOTE_SCHEME + ":stackable"
NOTE_CREDIT_VALIDITY = NOTE_SCHEME + ":credit-validity-months"
NOTE_IDENTITY = NOTE_SCHEME + ":identity-verified-assessment"
NOTE_QUALITY_ASSURANCE = NOTE_SCHEME + ":quality-assurance"
NOTE_QUALITY_ASSURANCES = NOTE_SCHEME + ":quality-assurances"
LEVEL_SCHEME = _OWN + "level:"  # + framework, and ":" + level for a concept
CREDIT_SCHEME = _OWN + "credit-system:"  # + system code
# Level labels as producers write them ("RQF Level 6", "NFQ level 8"): framework names.
LEVEL_LABEL = re.compile(r"^\s*(?:the\s+)?([A-Za-z_]+)\s+level\s+([A-Za-z0-9]+)\s*$", re.I)
LABEL_FRAMEWORKS = {"nfq": "NFQ_IE", "qqi": "NFQ_IE", "nfq_ie": "NFQ_IE"}
_WEB = ("http://", "https://")
DURATION = re.compile(
    r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+)M)?)?$"
)
COMPACT_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\Z")
SPEC_TYPES = {"Qualification", "LearningAchievementSpecification"}
# The credential's own elements that describe the award to one person, not the learning:
# none has a place in a catalogue record, and each present is named in one warning.
_CREDENTIAL_DROPPED = (
    "issuanceDate",
    "issued",
    "validFrom",
    "validUntil",
    "expirationDate",
    "credentialProfiles",
    "displayParameter",
    "credentialSchema",
    "credentialStatus",
    "evidence",
    "identifier",
    "termsOfUse",
    "attachment",
    "proof",
)
# What the importer reads of a specification, a claim and a learning opportunity; any other
# element present is named in a warning as not carried.
_SPEC_READ = {
    "id",
    "type",
    "title",
    "learningOutcome",
    "volumeOfLearning",
    "creditPoint",
    "eqfLevel",
    "nqfLevel",
    "educationLevel",
    "mode",
    "thematicArea",
    "entryRequirement",
    "accreditation",
    "provenBy",
    "homepage",
    "additionalNote",
    "awardingOpportunity",
    "influencedBy",
    "workload",
}
_CLAIM_READ = {
    "id",
    "type",
    "title",
    "specifiedBy",
    "awardedBy",
    "provenBy",
    "influencedBy",
    "workload",
}
_OPPORTUNITY_READ = {
    "id",
    "type",
    "title",
    "learningAchievementSpecification",
    "providedBy",
    "homepage",
    "@context",
}


def _text(value: Any, language: str = "en") -> str:
    """An ELM language map ({"en": "…"}) or plain string as text."""
    if isinstance(value, list):
        value = next(iter(value), "")
    if isinstance(value, dict):
        return str(value.get(language) or next(iter(value.values()), ""))
    return str(value or "")


def _label(concept: Any) -> str:
    return _text(concept.get("prefLabel")) if isinstance(concept, dict) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in _list(value) if isinstance(v, dict)]


def _first(value: Any) -> dict[str, Any]:
    return next(iter(_dicts(value)), {})


def _id(value: Any) -> str:
    return str(value.get("id", "")) if isinstance(value, dict) else str(value or "")


def _types(value: Any) -> set[str]:
    return {str(t) for t in _list(value.get("type"))} if isinstance(value, dict) else set()


def iso_duration_hours(value: str) -> float | None:
    """Hours in an ISO 8601 duration of hours and minutes ("PT60H"); None for calendar
    durations ("P60M" is sixty months), which are not a workload."""
    match = DURATION.match(value or "")
    if not match or any(match.group(i) for i in (1, 2, 3, 4)) or value in ("P", "PT"):
        return None
    return float(match.group(5) or 0) + float(match.group(6) or 0) / 60


def calendar_duration(value: str) -> str:
    """An ISO 8601 duration in words ("P60M": "60 months"), for a message; the value
    itself when it is not one."""
    match = DURATION.match(value or "")
    if not match:
        return f"'{value}', not an ISO 8601 duration"
    units = ("year", "month", "week", "day", "hour", "minute")
    parts = [
        counted(int(float(amount)), unit) if float(amount).is_integer() else f"{amount} {unit}s"
        for amount, unit in zip(match.groups(), units, strict=True)
        if amount
    ]
    return ", ".join(parts) or "no time at all"


def _web_address(resource: Any) -> str:
    """The contentURL of an ELM WebResource (or of the first of a list)."""
    first = _first(resource)
    return str(first.get("contentURL") or first.get("contentUrl") or "")


def _concept(uri: str, label: str = "", scheme: str = "") -> dict[str, Any]:
    """A SKOS concept as ELM writes one: its URI, its scheme, its English label."""
    if not scheme:
        scheme = next((s for prefix, s in SCHEMES.items() if uri.startswith(prefix)), "")
    concept: dict[str, Any] = {
        "id": uri,
        "type": "Concept",
        "inScheme": {"id": scheme, "type": "ConceptScheme"},
    }
    if label:
        concept["prefLabel"] = {"en": label}
    return concept


# ---------------------------------------------------------------------------------- import


def unwrap(document: Any) -> tuple[dict[str, Any], list[str]]:
    """The ELM document inside the forms Europass hands out: a JAdES-signed file (JSON
    serialisation: the credential in `payload`, as an object, as a JSON string, or base64url
    encoded as JWS defines it; or the compact `header.payload.signature` string), a wrapper
    `{"credential": …}` (the "uploadable" form of the Europass wallet), or a presentation
    holding one credential. The signature is not verified here: a warning says so."""
    warnings: list[str] = []
    for _ in range(4):  # a signed wrapper of a wrapped credential, at most
        if isinstance(document, str):
            parts = document.strip().split(".")
            document = _decoded(parts[1] if len(parts) == 3 else document.strip())
            warnings.append(
                "the JAdES signature (compact form) is not verified by this "
                "import; verify the credential in the Europass wallet first"
            )
            continue
        if isinstance(document, list) and len(document) == 1:  # JSON-LD's expanded form
            document = document[0]
            continue
        if not isinstance(document, dict):
            break
        if "payload" in document and (
            "signatures" in document or "protected" in document or "signature" in document
        ):
            payload = document["payload"]
            document = payload if isinstance(payload, dict) else _decoded(str(payload))
            warnings.append(
                "the JAdES signature is not verified by this import; verify the "
                "credential in the Europass wallet first"
            )
            continue
        if (
            "credential" in document
            and isinstance(document["credential"], (dict, str))
            and not _types(document)
        ):
            document = document["credential"]
            continue
        if _types(document) & {"VerifiablePresentation", "EuropeanDigitalPresentation"}:
            held = _list(document.get("verifiableCredential"))
            if len(held) != 1:
                raise InvalidRecord(
                    "ELM presentation",
                    "verifiableCredential",
                    f"holds {len(held)} credentials; import one credential at a time",
                )
            document = held[0]
            continue
        break
    if not isinstance(document, dict):
        raise InvalidRecord(
            "ELM document",
            "(file)",
            "is not a JSON object; give an ELM v3 credential or learning opportunity in JSON-LD",
        )
    return _in_elm_terms(document), warnings


def _in_elm_terms(document: dict[str, Any]) -> dict[str, Any]:
    """The document in Europass's terms. A producer may name other (known) contexts, define
    its own prefixes or write the expanded form: JSON-LD says the same data then has other
    keys, so such a document is expanded and compacted against ELM_CONTEXT, offline
    (registry_core/jsonld.py). Europass's own files, and plain JSON with no context, are read
    as they are."""
    context = document.get("@context")
    named = (
        [context] if isinstance(context, str) else context if isinstance(context, list) else None
    )
    expanded = context is None and any(k.startswith(("@", "http://", "https://")) for k in document)
    if (context is None and not expanded) or (
        named is not None and all(isinstance(c, str) and c in ELM_CONTEXT for c in named)
    ):
        return document
    return jsonld.compact(document, ELM_CONTEXT)


def _decoded(payload: str) -> Any:
    """A JWS payload: JSON text, or base64url-encoded JSON (RFC 7515 section 7.2)."""
    try:
        return json.loads(payload)
    except ValueError:
        pass
    try:
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        raise InvalidRecord(
            "ELM signed credential",
            "payload",
            "is neither JSON nor "
            "base64url-encoded JSON; give the signed file as Europass "
            "issued it",
        ) from None


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _in_force(document: dict[str, Any], name: str, today: dt.date) -> None:
    """Refuse a credential whose validity has ended or not yet begun."""
    for field in ("expirationDate", "validUntil"):
        end = _date(document.get(field))
        if end is not None and end < today:
            raise InvalidRecord(
                name,
                field,
                f"the credential expired on {end}; import a "
                "credential in force (ask the issuer for a current one)",
            )
    for field in ("validFrom", "issuanceDate"):
        start = _date(document.get(field))
        if start is not None and start > today:
            raise InvalidRecord(
                name, field, f"the credential is not valid until {start}; import it from that date"
            )


def _quality_assurance(
    accreditation: dict[str, Any], of_qualification: bool, warnings: list[str]
) -> rec.QualityAssurance | None:
    """One ELM Accreditation as a quality assurance; None, with a warning saying why, when it
    cannot be one (no accrediting agent or date, or a negative decision). Its kind is its
    dcType's (ELM_ACCREDITATION_KINDS); without a known dcType, where it stands decides, as
    ELM defines Accreditation (rdf/ontology/ELM.ttl): of an organisation, an institutional
    review; of a qualification (or limited to one), a programme accreditation."""
    title = _text(accreditation.get("title")) or "an accreditation"
    agent = _first(accreditation.get("accreditingAgent"))
    body = _text(agent.get("legalName")) or _label(agent)
    date = str(accreditation.get("dateIssued") or accreditation.get("issued") or "")[:10]
    decision = accreditation.get("decision")
    decision_text = (
        f"{_label(decision)} {_id(decision)}".lower() if isinstance(decision, dict) else ""
    )
    missing = "accreditingAgent.legalName" if not body else "dateIssued" if not date else ""
    if missing or "negative" in decision_text:
        why = f"it has no {missing}" if missing else "its decision is negative"
        warnings.append(f"accreditation '{title}' is not carried into quality_assurances: {why}")
        return None
    type_id = _id(_first(accreditation.get("dcType")))
    kind = ELM_ACCREDITATION_KINDS.get(type_id)
    if kind is None:
        of_qualification = of_qualification or bool(accreditation.get("limitQualification"))
        kind = (
            rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION
            if of_qualification
            else rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW
        )
        warnings.append(
            f"accreditation '{title}' has dcType '{type_id}', not one of ELM's "
            f"accreditation types; taken as {rec.QualityAssuranceKind.Name(kind)} "
            "from where it stands"
        )
    agent_id = _id(agent)
    identifier = _first(accreditation.get("identifier"))
    reference = (
        str(identifier.get("notation", ""))
        or _web_address(accreditation.get("report"))
        or _web_address(accreditation.get("landingPage"))
    )
    return rec.QualityAssurance(
        body=body,
        body_id=agent_id if agent_id.startswith(_WEB) else _web_address(agent.get("homepage")),
        kind=kind,
        date=date,
        reference=reference,
        valid_until=str(accreditation.get("expiryDate") or "")[:10],
    )


def _accreditations(
    spec: dict[str, Any], awarding_body: dict[str, Any], warnings: list[str]
) -> list[tuple[str, rec.QualityAssurance]]:
    """The accreditations of the qualification and of its awarding body, with their titles."""
    found = []
    for owner, of_qualification in ((spec, True), (awarding_body, False)):
        for accreditation in _dicts(owner.get("accreditation")):
            qa = _quality_assurance(accreditation, of_qualification, warnings)
            if qa is not None:
                found.append((_text(accreditation.get("title")), qa))
    return found


def _level_of(concept: dict[str, Any], warnings: list[str], where: str) -> tuple[str, str] | None:
    """A level concept as (framework, level): an EQF URI, the registry's own level URN, or,
    failing both, a label such as "RQF Level 6" (with a warning)."""
    uri = _id(concept)
    if uri.startswith(EQF):
        return "EQF", uri.rsplit("/", 1)[-1]
    if uri.startswith(LEVEL_SCHEME):
        framework, _, level = uri.removeprefix(LEVEL_SCHEME).partition(":")
        return framework, level
    match = LEVEL_LABEL.match(_label(concept))
    if match:
        framework = LABEL_FRAMEWORKS.get(match.group(1).lower(), match.group(1).upper())
        if match.group(2) in table().levels.get(framework, ()):
            warnings.append(
                f"{where} '{uri}' is not a URI this importer knows; level taken "
                f"from its label '{_label(concept)}' as {framework} "
                f"{match.group(2)}: check it"
            )
            return framework, match.group(2)
    return None


def _level(
    spec: dict[str, Any], name: str, supplied: rec.Level | None, warnings: list[str]
) -> rec.Level:
    """The record's level: a national framework's where the source states one this registry
    knows (it says more than the EQF level it is referenced to), else the EQF level."""
    found: list[tuple[str, str, str]] = []
    unknown: list[str] = []
    for field in ("nqfLevel", "educationLevel", "eqfLevel"):
        for concept in _dicts(spec.get(field)):
            stated = _level_of(concept, warnings, field)
            if stated is None:
                unknown.append(f"{field} '{_id(concept) or _label(concept)}'")
            elif stated[1] in table().levels.get(stated[0], ()):
                found.append((field, *stated))
            else:
                unknown.append(f"{field} '{_id(concept)}'")
    if unknown:
        warnings.append(
            f"not carried (no level framework this registry knows): {', '.join(unknown)}"
        )
    if supplied is not None:
        return supplied
    national = [f for f in found if f[1] != "EQF"]
    eqf = [f for f in found if f[1] == "EQF"]
    if national:
        _, framework, national_level = national[0]
        mapped = table().eqf_level(framework, national_level)
        if eqf and mapped is not None and str(mapped) != eqf[0][2]:
            warnings.append(
                f"{framework} level {national_level} is EQF {mapped} in the "
                f"conversion table, but the source states EQF {eqf[0][2]}; the "
                "national level is kept"
            )
        return rec.Level(framework=framework, level=national_level)
    if eqf:
        return rec.Level(framework="EQF", level=eqf[0][2])
    raise InvalidRecord(
        name,
        "eqfLevel",
        "the source states no level (EQF, or a national "
        "framework this registry knows); state it (sync-agent import-elm "
        "--level 'EQF 6')",
    )


def _credit(
    spec: dict[str, Any], name: str, supplied: rec.Credit | None, what: str, warnings: list[str]
) -> rec.Credit:
    points = _dicts(spec.get("creditPoint"))
    found: list[rec.Credit] = []
    unknown: list[str] = []
    for point in points:
        framework = _first(point.get("framework"))
        uri = _id(framework)
        system = (
            "ECTS"
            if uri == ECTS_URI
            else uri.removeprefix(CREDIT_SCHEME)
            if uri.startswith(CREDIT_SCHEME)
            else ""
        )
        if not system:
            system = ELM_CREDIT_FRAMEWORKS.get(_label(framework).lower(), "")
            if system:
                warnings.append(
                    f"creditPoint framework '{uri}' is not a URI this importer "
                    f"knows; taken as {system} from its label '{_label(framework)}'"
                )
        try:
            value = float(str(point.get("point", "")).replace(",", "."))
        except ValueError:
            value = 0.0
        if system in table().ects_per_credit and value > 0:
            found.append(rec.Credit(value=value, system=system))
        else:
            unknown.append(f"{point.get('point')} in '{uri or _label(framework)}'")
    if supplied is not None:
        if found or unknown:
            warnings.append(
                f"the source's credit ({', '.join(f'{c.value:g} {c.system}' for c in found)}"
                f"{', ' if found and unknown else ''}{', '.join(unknown)}) is "
                f"replaced by the credit given ({supplied.value:g} {supplied.system})"
            )
        return supplied
    if not found and unknown:
        raise InvalidRecord(
            name,
            "creditPoint.framework",
            f"the credit {', '.join(unknown)} "
            "is in a credit framework this registry does not know; state the "
            "credit in a system it knows (sync-agent import-elm --credit "
            "'5 ECTS'; systems: " + ", ".join(table().ects_per_credit) + ")",
        )
    if not found:
        raise InvalidRecord(
            name,
            "creditPoint",
            f"the {what} states no credit, which a "
            "micro-credential in this registry must carry; if the learning "
            "earns credit, state it (sync-agent import-elm --credit '1 ECTS')",
        )
    # The registry's own concept (a non-ECTS system) is the original; ECTS beside it is the
    # conversion an export adds for ELM readers.
    return next((c for c in found if c.system != "ECTS"), found[0])


def _notes(spec: dict[str, Any], warnings: list[str]) -> dict[str, str]:
    """The registry's own notes (subject in NOTE_SCHEME) by subject; others are warned of."""
    notes: dict[str, str] = {}
    for note in _dicts(spec.get("additionalNote")):
        subject = _id(_first(note.get("subject")))
        if subject.startswith(NOTE_SCHEME):
            notes[subject] = _text(note.get("noteLiteral"))
        else:
            warnings.append(
                "additionalNote not carried (no field for it): "
                f"'{_text(note.get('noteLiteral'))[:80]}'"
            )
    return notes


def _identity_verified(
    proof: dict[str, Any], notes: dict[str, str], warnings: list[str]
) -> bool | None:
    if NOTE_IDENTITY in notes:
        return notes[NOTE_IDENTITY].lower().endswith(": yes")
    concept = _first(proof.get("idVerification"))
    if not concept:
        return None
    if _id(concept) == UNVERIFIED:
        return False
    label = _label(concept).lower()
    if not label:
        warnings.append(
            f"idVerification '{_id(concept)}' is not a concept this importer "
            "knows and has no label; identity_verified_assessment left unstated"
        )
        return None
    warnings.append(f"idVerification '{_id(concept)}' recognised by its label '{label}'")
    # "Supervised with ID verification" is; "… without ID verification", and "unsupervised"
    # naming no ID check, are not.
    return not ("without" in label or ("unsupervised" in label and " id" not in label))


def _summary(value: Any) -> str:
    """A short reading of an element's value for a warning: a literal, or a concept's label
    (else its URI); nothing for a structure."""
    values = (
        [v for v in (_summary(v) for v in _list(value)[:3]) if v] if isinstance(value, list) else []
    )
    if values:
        return ", ".join(values)
    if isinstance(value, dict):
        return _label(value) or (_id(value) if "Concept" in _types(value) else "")
    return str(value)[:40] if isinstance(value, (str, int, float)) else ""


def _dropped(owner: dict[str, Any], read: set[str], where: str) -> list[str]:
    """The elements of `owner` not read, by name, with their value where it is short."""
    named = []
    for key, value in owner.items():
        if key not in read:
            summary = _summary(value)
            named.append(f"{where}{key}" + (f" ({summary})" if summary else ""))
    return named


def micro_credential_from_elm(
    document: Any,
    institution_id: str,
    key: str,
    *,
    quality_assurance: str = "",
    credit: rec.Credit | None = None,
    level: rec.Level | None = None,
    today: dt.date | None = None,
) -> tuple[rec.MicroCredential, list[str]]:
    """A micro-credential from an ELM v3 document: a European Digital Credential (unsigned,
    JAdES-signed or wrapped) claiming a learning achievement or activity, or a learning
    opportunity, qualification or learning-achievement specification published on its own.
    `credit`, `level` and `quality_assurance` supply what the source does not state."""
    document, warnings = unwrap(document)
    today = today or dt.date.today()
    types = _types(document)
    dropped: list[str] = []
    url = ""
    # Every European Digital Credential says so; another verifiable credential (an Open
    # Badge, say) is another standard's.
    if "EuropeanDigitalCredential" in types:
        name = f"ELM credential {document.get('id', '?')}"
        issuer = document.get("issuer")
        if not (
            isinstance(issuer, dict) and (issuer.get("legalName") or issuer.get("id"))
        ) and not (isinstance(issuer, str) and issuer):
            raise InvalidRecord(
                name,
                "issuer",
                "the credential names no issuer, which every "
                "European Digital Credential must; import the credential as "
                "its issuer published it",
            )
        _in_force(document, name, today)
        claims = (
            _dicts(document.get("credentialSubject", {}).get("hasClaim"))
            if isinstance(document.get("credentialSubject"), dict)
            else []
        )
        usable = [c for c in claims if _types(c) & {"LearningAchievement", "LearningActivity"}]
        if not usable:
            found = ", ".join(sorted(set().union(*map(_types, claims)))) or "nothing"
            raise InvalidRecord(
                name,
                "credentialSubject.hasClaim",
                f"claims {found}, not a "
                "LearningAchievement or LearningActivity; a catalogue record "
                "is made from the learning a credential awards",
            )
        claim = usable[0]
        if len(claims) > 1:
            warnings.append(
                f"the credential has {len(claims)} claims; only the first "
                f"learning achievement or activity ('{_text(claim.get('title'))}') "
                "is imported"
            )
        spec = _first(claim.get("specifiedBy"))
        if not spec:
            raise InvalidRecord(
                name,
                "credentialSubject.hasClaim.specifiedBy",
                "the claim names no specification of the learning; export the full ELM credential",
            )
        what = (
            "certificate of participation" if "LearningActivity" in _types(claim) else "credential"
        )
        body = _first(_first(claim.get("awardedBy")).get("awardingBody"))
        if not body and isinstance(issuer, dict):
            body = issuer
            warnings.append("the claim names no awarding body; the issuer is taken as it")
        proof = _first(claim.get("provenBy"))
        assessment = _first(proof.get("specifiedBy")) or _first(spec.get("provenBy"))
        present = [k for k in _CREDENTIAL_DROPPED if document.get(k)]
        if present:
            dropped += [
                f"{k} {str(document[k])[:10]}"
                if k in ("issuanceDate", "issued", "validFrom", "validUntil", "expirationDate")
                else k
                for k in present
            ]
        dropped += ["credentialSubject (the person)"]
        dropped += _dropped(claim, _CLAIM_READ, "hasClaim.")
        workloads = [spec.get("volumeOfLearning"), claim.get("workload"), spec.get("workload")]
        others = [
            _first(p.get("specifiedBy")).get("volumeOfLearning")
            for p in _dicts(claim.get("influencedBy"))
        ]
    elif "LearningOpportunity" in types:
        name = f"ELM learning opportunity {document.get('id', '?')}"
        spec = _first(document.get("learningAchievementSpecification"))
        if not spec:
            raise InvalidRecord(
                name,
                "learningAchievementSpecification",
                "the learning "
                "opportunity names no learning achievement specification; "
                "export it with the specification embedded",
            )
        body = _first(document.get("providedBy")) or _first(
            _first(spec.get("awardingOpportunity")).get("awardingBody")
        )
        proof, what = {}, "learning opportunity"
        assessment = _first(spec.get("provenBy"))
        # The opportunity's own page is not the learning's address: an export gives it the
        # opportunity's id when the record has no url.
        own = _web_address(document.get("homepage"))
        url = own if own and own != document.get("id") else ""
        dropped += _dropped(document, _OPPORTUNITY_READ, "")
        workloads, others = [spec.get("volumeOfLearning")], []
    elif types & SPEC_TYPES:
        name = f"ELM {sorted(types & SPEC_TYPES)[0]} {document.get('id', '?')}"
        spec, proof, what = document, {}, "specification"
        body = _first(_first(spec.get("awardingOpportunity")).get("awardingBody")) or _first(
            spec.get("publisher")
        )
        assessment = _first(spec.get("provenBy"))
        workloads, others = [spec.get("volumeOfLearning")], []
    else:
        raise InvalidRecord(
            f"ELM document {document.get('id', '?')}",
            "type",
            f"is {sorted(types) or 'not stated'}; give a European Digital "
            "Credential (EuropeanDigitalCredential), a LearningOpportunity or "
            "a Qualification",
        )
    if not body:
        raise InvalidRecord(
            name,
            "awardedBy.awardingBody",
            "the source names no awarding body or provider; export it with the organisation",
        )
    dropped += _dropped(spec, _SPEC_READ, "specifiedBy.")

    country_uri = _id(
        _first(_first(_first(body.get("location")).get("address")).get("countryCode"))
    )
    # Every element a micro-credential needs and the source lacks is said at once, so that
    # a registrar learns all of it from one run (a newcomer met them one refusal at a time).
    problems: list[InvalidRecord] = []
    country = (
        ALPHA3.get(country_uri.rsplit("/", 1)[-1], "") if country_uri.startswith(COUNTRY) else ""
    )
    if not country:
        problems.append(
            InvalidRecord(
                name,
                "awardingBody.location.address.countryCode",
                f"'{country_uri}' is not a country this importer knows; give a "
                f"{COUNTRY}/XXX concept (ISO alpha-3), or add it to "
                "registry_core/standards/elm.py ALPHA3",
            )
        )
    try:
        credit_found = _credit(spec, name, credit, what, warnings)
    except InvalidRecord as problem:
        credit_found = rec.Credit()
        problems.append(problem)
    hours = next((h for h in (iso_duration_hours(str(w)) for w in workloads if w) if h), None)
    if hours is None:
        problems.append(
            InvalidRecord(
                name,
                "specifiedBy.volumeOfLearning",
                f"'{spec.get('volumeOfLearning')}' is not a workload in "
                "hours (PT…H), and no workload is stated elsewhere",
            )
        )
        hours = 0.0
    stated = [str(w) for w in workloads + others if w]
    disagreeing = [w for w in stated if iso_duration_hours(w) != hours]
    for other in disagreeing:
        other_hours = iso_duration_hours(other)
        said = (
            f"{other_hours:g} hours"
            if other_hours is not None
            else f"{calendar_duration(other)}, a length of time rather than hours of learning"
        )
        warnings.append(
            f"the volume of learning is also stated as '{other}' ({said}); "
            f"{hours:g} hours is used, as the workload in hours (PT…H) says"
        )
    outcomes = [_text(o.get("title")) for o in _dicts(spec.get("learningOutcome"))]
    outcomes = [o for o in outcomes if o]
    if not outcomes:
        problems.append(
            InvalidRecord(
                name,
                "specifiedBy.learningOutcome",
                f"the {what} "
                "states no learning outcomes, which a micro-credential "
                "must (EU Council Recommendation 2022, Annex I); ask "
                "the issuer for the specification with them",
            )
        )
    try:
        level_found = _level(spec, name, level, warnings)
    except InvalidRecord as problem:
        level_found = rec.Level()
        problems.append(problem)
    assessment_type = _label(_first(assessment.get("dcType"))) or _text(assessment.get("title"))
    if not assessment_type:
        problems.append(
            InvalidRecord(
                name,
                "provenBy.specifiedBy.dcType",
                f"the {what} names no type of assessment; ask the issuer for it",
            )
        )
    mode = rec.PARTICIPATION_FORM_UNSPECIFIED
    for concept in _dicts(spec.get("mode")):
        mode = MODE_URIS.get(_id(concept), rec.PARTICIPATION_FORM_UNSPECIFIED)
        if not mode and _label(concept).lower() in MODE_LABELS:
            mode = MODE_LABELS[_label(concept).lower()]
            warnings.append(f"mode '{_id(concept)}' recognised by its label '{_label(concept)}'")
        if mode:
            break
    if not mode:
        problems.append(
            InvalidRecord(
                name,
                "specifiedBy.mode",
                f"'{_label(_first(spec.get('mode')))}' "
                f"({_id(_first(spec.get('mode')))}) is not online, "
                "blended or presential",
            )
        )
    notes = _notes(spec, warnings)
    accredited = _accreditations(spec, body, warnings)
    structured = [qa for _, qa in accredited]
    if NOTE_QUALITY_ASSURANCES in notes:
        try:
            structured += [
                _qa_from_json(item)
                for item in json.loads(notes[NOTE_QUALITY_ASSURANCES].partition(": ")[2] or "[]")
            ]
        except (ValueError, TypeError, AttributeError):
            warnings.append(
                "the registry's note of external quality assurance cannot be "
                "read (edited by hand?); quality_assurances from it are not "
                "carried"
            )
    quality_assurance = (
        quality_assurance
        or notes.get(NOTE_QUALITY_ASSURANCE, "").partition(": ")[2]
        or "; ".join(
            f"{title or 'accredited'} by {qa.body} ({qa.date})" for title, qa in accredited
        )
    )
    if not quality_assurance:
        problems.append(
            InvalidRecord(
                name,
                "quality_assurance",
                "ELM v3 carries quality "
                "assurance as an accreditation, which this source lacks; "
                "state it (sync-agent import-elm --quality-assurance)",
            )
        )
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InvalidRecord(
            name,
            problems[0].field,
            f"{len(problems)} things a "
            "micro-credential needs are missing or wrong: "
            + "; ".join(f"{p.field}: {p.problem}" for p in problems),
        )
    # In the source's order, each once: the order a publisher gives is kept.
    skills = list(
        dict.fromkeys(
            _id(s)
            for o in _dicts(spec.get("learningOutcome"))
            for s in _dicts(o.get("relatedESCOSkill"))
            if _id(s).startswith(_WEB)
        )
    )
    subjects = [
        _id(t).removeprefix(ISCED)
        for t in _dicts(spec.get("thematicArea"))
        if _id(t).startswith(ISCED) and _id(t).removeprefix(ISCED).isdigit()
    ]
    # The most detailed field stated: ISCED-F's detailed (4-digit) fields, else narrower ones.
    subject = max(subjects, key=len, default="")
    if len(subjects) > 1:
        warnings.append(
            f"thematicArea states ISCED-F {', '.join(subjects)}; the record "
            f"holds one subject: {subject}"
        )
    grade = _text(_first(proof.get("grade")).get("noteLiteral"))
    scheme = _text(_first(assessment.get("gradingScheme")).get("title")).upper().replace(" ", "_")
    if scheme not in table().raw["grading_schemes"]:
        scheme = "PASS_FAIL" if grade.lower() in ("pass", "fail") else ""
    validity = re.search(r"(\d+) months", notes.get(NOTE_CREDIT_VALIDITY, ""))
    stackable = notes.get(NOTE_STACKABLE, "").lower()
    url = url or _web_address(spec.get("homepage"))
    identity = _identity_verified(proof, notes, warnings)
    if dropped:
        warnings.append("not carried (the record has no field for them): " + ", ".join(dropped))
    record = rec.MicroCredential(
        institution_id=institution_id,
        key=key,
        version=1,
        status=rec.RECORD_STATUS_ACTIVE,
        title=_text(spec.get("title")),
        awarding_body=_text(body.get("legalName")),
        country=country,
        learning_outcomes=outcomes,
        workload_hours=hours,
        credit=credit_found,
        level=level_found,
        assessment_type=assessment_type,
        participation_form=mode,
        quality_assurance=quality_assurance,
        # ELM has one entry-requirement note: an export writes a line for each prerequisite.
        prerequisites=[
            t
            for t in _text(_first(spec.get("entryRequirement")).get("noteLiteral")).split("\n")
            if t
        ],
        # Unset where the source does not say (the record then states nothing).
        identity_verified_assessment=identity,
        stackable=stackable.endswith(": yes") if stackable else None,
        credit_validity_months=int(validity.group(1)) if validity else 0,
        grading_scheme=scheme,
        subject_isced="" if subject == ISCED_UNKNOWN else subject,
        skills=skills,
        url=url if url.startswith(_WEB) else "",
        quality_assurances=structured,
    )
    return record, warnings


def _qa_from_json(item: dict[str, Any]) -> rec.QualityAssurance:
    return rec.QualityAssurance(
        body=str(item.get("body", "")),
        body_id=str(item.get("body_id", "")),
        kind=str(item.get("kind")),  # the enum's name, as the export writes it
        date=str(item.get("date", "")),
        reference=str(item.get("reference", "")),
        valid_until=str(item.get("valid_until", "")),
    )


# ---------------------------------------------------------------------------------- export


def _number(value: float) -> str:
    """A number in full and without an exponent ("15", "7.5", "0.0001"): `:g` keeps six
    digits (7.123456789 would come back as 7.12346) and writes 1e-05, which neither an ISO
    8601 duration nor a reader of `point` takes."""
    return format(Decimal(repr(value)).normalize(), "f")


def _note(subject: str, label: str, text: str) -> dict[str, Any]:
    return {
        "type": "Note",
        "noteLiteral": {"en": f"{label}: {text}"},
        "subject": _concept(subject, label, NOTE_SCHEME),
    }


def _level_concepts(level: rec.Level) -> list[dict[str, Any]]:
    """The record's level as ELM education levels: its EQF level (from the conversion table
    where the framework is national) and, for a national framework, the registry's concept of
    that level, which the EU vocabularies do not list (their NQF concepts are per country)."""
    concepts = []
    eqf = table().eqf_level(level.framework, level.level)
    if eqf is not None:
        concepts.append(_concept(f"{EQF}{eqf}", f"Level {eqf}"))
    if level.framework != "EQF":
        concepts.append(
            _concept(
                f"{LEVEL_SCHEME}{level.framework}:{level.level}",
                f"{level.framework} level {level.level}",
                f"{LEVEL_SCHEME}{level.framework}",
            )
        )
    return concepts


def micro_credential_to_elm(
    mc: rec.MicroCredential, base_url: str = "https://registry.example.org"
) -> dict[str, Any]:
    """The ELM v3 `LearningOpportunity` of a micro-credential, its learning described by a
    `LearningAchievementSpecification`: what a catalogue entry is in ELM, and what the ELM
    shapes for learning opportunities (LOQ-constraints) check. micro_credential_from_elm
    reads it back to the same record."""
    base = base_url.rstrip("/")
    own = f"{base}/micro-credentials/{mc.institution_id}/{uri_part(mc.key)}"
    alpha3 = {v: k for k, v in ALPHA3.items()}.get(mc.country, mc.country)
    ects = table().to_ects(mc.credit.value, mc.credit.system)
    credit_points = [
        {
            "type": "CreditPoint",
            "point": _number(ects),
            "framework": _concept(ECTS_URI, "European Credit Transfer System"),
        }
    ]
    if mc.credit.system != "ECTS":  # the original beside its ECTS conversion
        credit_points.append(
            {
                "type": "CreditPoint",
                "point": _number(mc.credit.value),
                "framework": _concept(
                    f"{CREDIT_SCHEME}{mc.credit.system}",
                    mc.credit.system,
                    CREDIT_SCHEME.rstrip(":"),
                ),
            }
        )
    notes = [_note(NOTE_QUALITY_ASSURANCE, "Quality assurance", mc.quality_assurance)]
    if mc.HasField("stackable"):
        notes.append(_note(NOTE_STACKABLE, "Stackable", "yes" if mc.stackable else "no"))
    if mc.credit_validity_months:
        notes.append(
            _note(
                NOTE_CREDIT_VALIDITY,
                "Credit validity",
                f"{mc.credit_validity_months} months after award",
            )
        )
    if mc.HasField("identity_verified_assessment"):
        notes.append(
            _note(
                NOTE_IDENTITY,
                "Assessment supervised with identity verification",
                "yes" if mc.identity_verified_assessment else "no",
            )
        )
    if mc.quality_assurances:
        # ELM's Accreditation needs the accrediting agent's location, which the record does
        # not hold: the structured entries travel as one JSON note instead.
        notes.append(
            _note(
                NOTE_QUALITY_ASSURANCES,
                "External quality assurance",
                json.dumps(
                    [
                        {
                            "body": qa.body,
                            "body_id": qa.body_id,
                            "kind": rec.QualityAssuranceKind.Name(qa.kind),
                            "date": qa.date,
                            "reference": qa.reference,
                            "valid_until": qa.valid_until,
                        }
                        for qa in mc.quality_assurances
                    ],
                    ensure_ascii=False,
                ),
            )
        )
    assessment: dict[str, Any] = {
        "id": f"{own}#assessment",
        "type": "LearningAssessmentSpecification",
        "title": {"en": mc.assessment_type},
    }
    if mc.grading_scheme:
        assessment["gradingScheme"] = {
            "id": f"{own}#grading",
            "type": "GradingScheme",
            "title": {"en": mc.grading_scheme},
        }
    spec: dict[str, Any] = {
        "id": f"{own}#specification",
        "type": "LearningAchievementSpecification",
        "title": {"en": mc.title},
        "educationLevel": _level_concepts(mc.level),
        "creditPoint": credit_points,
        "volumeOfLearning": f"PT{_number(mc.workload_hours)}H",
        "mode": [
            _concept(
                next(u for u, f in MODE_URIS.items() if f == mc.participation_form),
                MODE_NAMES[mc.participation_form],
            )
        ],
        # The record holds no language: its texts are exported as English (the "en" of every
        # language map here), and the shapes require the language stated.
        "language": [_concept(f"{LANGUAGE}/ENG", "English")],
        "thematicArea": [_concept(f"{ISCED}{mc.subject_isced or ISCED_UNKNOWN}")],
        "learningOutcome": [
            {
                "id": f"{own}#outcome-{i + 1}",
                "type": "LearningOutcome",
                "title": {"en": outcome},
                **(
                    {
                        "relatedESCOSkill": [
                            _concept(s, scheme="http://data.europa.eu/esco/concept-scheme/skills")
                            for s in mc.skills
                        ]
                    }
                    if i == 0 and mc.skills
                    else {}
                ),
            }
            for i, outcome in enumerate(mc.learning_outcomes)
        ],
        "provenBy": [assessment],
        "additionalNote": notes,
    }
    if mc.prerequisites:
        spec["entryRequirement"] = {
            "type": "Note",
            "noteLiteral": {"en": "\n".join(mc.prerequisites)},
        }
    if mc.url:
        spec["homepage"] = [{"type": "WebResource", "contentURL": mc.url}]
    provider = {
        "id": f"{base}/institutions/{mc.institution_id}",
        "type": "Organisation",
        "legalName": {"en": mc.awarding_body},
        "location": {
            "type": "Location",
            "address": {"type": "Address", "countryCode": _concept(f"{COUNTRY}/{alpha3}")},
        },
    }
    return {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "http://data.europa.eu/snb/model/context/edc-ap",
        ],
        "id": own,
        "type": "LearningOpportunity",
        "title": {"en": mc.title},
        # Required by the shapes; the registry's page of the record where it names no url
        # (an import reads that back as no url).
        "homepage": [{"type": "WebResource", "contentURL": mc.url or own}],
        "providedBy": provider,
        "learningAchievementSpecification": spec,
        "elm:defaultLanguage": _concept(f"{LANGUAGE}/ENG", "English"),
    }
