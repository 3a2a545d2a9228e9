"""The European Learning Model (ELM v3), the format of Europass and European Digital
Credentials: a micro-credential from an ELM credential's claimed learning achievement, and a
micro-credential as an ELM learning-achievement specification.

Which fields map where, and which cannot, is in docs/standards.md. Imports return the
record and the warnings a registrar should read (real data is inconsistent); a mandatory
element the source does not carry is an InvalidRecord naming the field and the fix.
"""

from __future__ import annotations

import re
from typing import Any

from registry.v1 import records_pb2 as rec
from registry_core.conversion import table
from registry_core.errors import InvalidRecord
from registry_core.standards.common import uri_part

# ISO 3166-1 alpha-3 -> alpha-2 for the countries ELM credentials come from (the EU, EEA,
# the UK and candidate countries, as used by the Publications Office country table).
ALPHA3 = {
    "AUT": "AT", "BEL": "BE", "BGR": "BG", "HRV": "HR", "CYP": "CY", "CZE": "CZ", "DNK": "DK",
    "EST": "EE", "FIN": "FI", "FRA": "FR", "DEU": "DE", "GRC": "GR", "HUN": "HU", "IRL": "IE",
    "ITA": "IT", "LVA": "LV", "LTU": "LT", "LUX": "LU", "MLT": "MT", "NLD": "NL", "POL": "PL",
    "PRT": "PT", "ROU": "RO", "SVK": "SK", "SVN": "SI", "ESP": "ES", "SWE": "SE", "ISL": "IS",
    "LIE": "LI", "NOR": "NO", "CHE": "CH", "GBR": "GB", "ALB": "AL", "MNE": "ME", "MKD": "MK",
    "SRB": "RS", "TUR": "TR", "UKR": "UA", "MDA": "MD", "BIH": "BA", "GEO": "GE",
}
ELM_CREDIT_FRAMEWORKS = {"European Credit Transfer System": "ECTS",
                         "European Credit Transfer and Accumulation System": "ECTS"}
ELM_MODES = {"online": rec.PARTICIPATION_FORM_ONLINE, "blended": rec.PARTICIPATION_FORM_BLENDED,
             "in person": rec.PARTICIPATION_FORM_ONSITE, "onsite": rec.PARTICIPATION_FORM_ONSITE,
             "on-site": rec.PARTICIPATION_FORM_ONSITE, "face-to-face": rec.PARTICIPATION_FORM_ONSITE}
# ELM's Accreditation types (the EU vocabulary http://data.europa.eu/snb/accreditation/25831c2,
# which the EDC application profile requires of an Accreditation's dcType; concept ids as the
# European Commission's EDCI code lists them, eu.europa.ec.empl.edci.constants
# .ControlledListConcept) to our kinds. A licence is a public authority's permission for an
# institution to operate or to offer a programme: the nearest of our kinds at the same level.
# ELM has no type for a professional body's recognition, so nothing maps to it.
_ACCREDITATION = "http://data.europa.eu/snb/accreditation/"
ELM_ACCREDITATION_KINDS = {
    _ACCREDITATION + "bb4618238e": rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW,  # QA
    _ACCREDITATION + "003293d2ce": rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW,  # licence
    _ACCREDITATION + "820101cba6": rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION,  # QA
    _ACCREDITATION + "e57dddfcf3": rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION,  # licence
}
_WEB = ("http://", "https://")
DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
                      r"(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")



def _text(value: Any, language: str = "en") -> str:
    """An ELM language map ({"en": "…"}) or plain string as text."""
    if isinstance(value, dict):
        return str(value.get(language) or next(iter(value.values()), ""))
    return str(value or "")


def _label(concept: Any) -> str:
    return _text(concept.get("prefLabel")) if isinstance(concept, dict) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


def iso_duration_hours(value: str) -> float | None:
    """Hours in an ISO 8601 duration of hours and minutes ("PT60H"); None for calendar
    durations ("P60M" is sixty months), which are not a workload."""
    match = DURATION.match(value or "")
    if not match or any(match.group(i) for i in (1, 2, 3, 4)):
        return None
    return float(match.group(5) or 0) + float(match.group(6) or 0) / 60


def _web_address(resource: Any) -> str:
    """The contentURL of an ELM WebResource (or of the first of a list)."""
    first: Any = next(iter(_list(resource)), {})
    return str(first.get("contentURL", "")) if isinstance(first, dict) else ""


def _quality_assurance(accreditation: dict[str, Any], of_qualification: bool,
                       warnings: list[str]) -> rec.QualityAssurance | None:
    """One ELM Accreditation as a quality assurance; None, with a warning saying why, when it
    cannot be one (no accrediting agent or date, or a negative decision). Its kind is its
    dcType's (ELM_ACCREDITATION_KINDS); without a known dcType, where it stands decides, as
    ELM defines Accreditation (rdf/ontology/ELM.ttl): of an organisation, an institutional
    review; of a qualification (or limited to one), a programme accreditation."""
    title = _text(accreditation.get("title")) or "an accreditation"
    agent = accreditation.get("accreditingAgent")
    agent = agent if isinstance(agent, dict) else {}
    body = _text(agent.get("legalName")) or _label(agent)
    date = str(accreditation.get("dateIssued") or accreditation.get("issued") or "")[:10]
    decision = accreditation.get("decision")
    decision_text = f"{_label(decision)} {decision.get('id', '')}".lower() \
        if isinstance(decision, dict) else ""
    missing = "accreditingAgent.legalName" if not body else "dateIssued" if not date else ""
    if missing or "negative" in decision_text:
        why = f"it has no {missing}" if missing else "its decision is negative"
        warnings.append(f"accreditation '{title}' is not carried into quality_assurances: "
                        f"{why}")
        return None
    type_id = accreditation.get("dcType", {}).get("id", "") if isinstance(
        accreditation.get("dcType"), dict) else ""
    kind = ELM_ACCREDITATION_KINDS.get(type_id)
    if kind is None:
        of_qualification = of_qualification or bool(accreditation.get("limitQualification"))
        kind = rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION if of_qualification \
            else rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW
        warnings.append(f"accreditation '{title}' has dcType '{type_id}', not one of ELM's "
                        f"accreditation types; taken as {rec.QualityAssuranceKind.Name(kind)} "
                        "from where it stands")
    agent_id = str(agent.get("id", ""))
    identifier: Any = next(iter(_list(accreditation.get("identifier"))), {})
    reference = (str(identifier.get("notation", "")) if isinstance(identifier, dict) else "") \
        or _web_address(accreditation.get("report")) \
        or _web_address(accreditation.get("landingPage"))
    return rec.QualityAssurance(
        body=body, body_id=agent_id if agent_id.startswith(_WEB) else _web_address(
            agent.get("homepage")), kind=kind, date=date, reference=reference,
        valid_until=str(accreditation.get("expiryDate") or "")[:10])


def _accreditations(spec: dict[str, Any], awarding_body: dict[str, Any],
                    warnings: list[str]) -> list[tuple[str, rec.QualityAssurance]]:
    """The accreditations of the qualification and of its awarding body, with their titles."""
    found = []
    for owner, of_qualification in ((spec, True), (awarding_body, False)):
        for accreditation in _list(owner.get("accreditation")):
            if isinstance(accreditation, dict):
                qa = _quality_assurance(accreditation, of_qualification, warnings)
                if qa is not None:
                    found.append((_text(accreditation.get("title")), qa))
    return found


def micro_credential_from_elm(document: dict[str, Any], institution_id: str, key: str, *,
                              quality_assurance: str = "") -> tuple[rec.MicroCredential, list[str]]:
    """A micro-credential from an ELM v3 credential's claimed learning achievement."""
    name = f"ELM credential {document.get('id', '?')}"

    def missing(field: str, fix: str) -> InvalidRecord:
        return InvalidRecord(name, field, fix)

    claim = document.get("credentialSubject", {}).get("hasClaim")
    if isinstance(claim, list):
        claim = claim[0] if claim else None
    if not isinstance(claim, dict) or not isinstance(claim.get("specifiedBy"), dict):
        raise missing("credentialSubject.hasClaim.specifiedBy", "the credential claims no "
                      "learning achievement specification; export the full ELM credential")
    spec = claim["specifiedBy"]
    warnings: list[str] = []
    body = claim.get("awardedBy", {}).get("awardingBody", {})
    body = body[0] if isinstance(body, list) else body
    country_uri = body.get("location", {}).get("address", {}).get("countryCode", {}).get("id", "")
    country = ALPHA3.get(country_uri.rsplit("/", 1)[-1], "")
    if not country:
        raise missing("awardedBy.awardingBody.location.address.countryCode",
                      f"'{country_uri}' is not a country this importer knows; add it to "
                      "registry_core/standards/elm.py ALPHA3")
    credit = spec.get("creditPoint", {})
    credit = credit[0] if isinstance(credit, list) else credit
    system = ELM_CREDIT_FRAMEWORKS.get(_label(credit.get("framework", {})), "")
    if not system:
        raise missing("specifiedBy.creditPoint.framework", "only ECTS credit points are "
                      "mapped; give the credit in ECTS")
    hours = iso_duration_hours(spec.get("volumeOfLearning", ""))
    if hours is None:
        raise missing("specifiedBy.volumeOfLearning", f"'{spec.get('volumeOfLearning')}' is not "
                      "a workload in hours (PT…H)")
    for part in _list(claim.get("influencedBy")):
        other = part.get("specifiedBy", {}).get("volumeOfLearning", "") if isinstance(
            part, dict) else ""
        if other and iso_duration_hours(other) != hours:
            warnings.append(f"volume of learning is {spec['volumeOfLearning']} on the claim but "
                            f"{other} on the activity that influenced it ('{other}' is "
                            + ("months, not hours" if iso_duration_hours(other) is None
                               else "another number of hours") + "); the claim's value is used")
    eqf = spec.get("eqfLevel", {}).get("id", "").rsplit("/", 1)[-1]
    if eqf not in table().to_eqf["EQF"]:
        raise missing("specifiedBy.eqfLevel", "give the EQF level (http://data.europa.eu/snb/eqf/N)")
    proof = claim.get("provenBy", {})
    proof = proof[0] if isinstance(proof, list) else proof
    assessment = proof.get("specifiedBy", {}) if isinstance(proof, dict) else {}
    assessment_type = _label(assessment.get("dcType")) or _text(assessment.get("title"))
    if not assessment_type:
        raise missing("provenBy.specifiedBy.dcType", "the credential names no type of assessment")
    mode = ELM_MODES.get(_label(spec.get("mode")).lower(), rec.PARTICIPATION_FORM_UNSPECIFIED)
    if not mode:
        raise missing("specifiedBy.mode", f"'{_label(spec.get('mode'))}' is not online, "
                      "blended or on site")
    accredited = _accreditations(spec, body, warnings)
    if not quality_assurance and not accredited:
        raise missing("quality_assurance", "ELM v3 carries quality assurance as an "
                      "accreditation, which this credential lacks; state it (sync-agent "
                      "import-elm --quality-assurance)")
    # The mandatory description in words, where the registrar gave none: the accreditations.
    quality_assurance = quality_assurance or "; ".join(
        f"{title or 'accredited'} by {qa.body} ({qa.date})" for title, qa in accredited)
    verification = _label(proof.get("idVerification")).lower() if isinstance(proof, dict) else ""
    outcomes = [_text(o.get("title")) for o in _list(spec.get("learningOutcome"))
                if isinstance(o, dict)]
    skills = sorted({s["id"] for o in _list(spec.get("learningOutcome")) if isinstance(o, dict)
                     for s in _list(o.get("relatedESCOSkill")) if isinstance(s, dict)
                     and s.get("id", "").startswith("http")})
    subjects = [t.get("id", "").rsplit("/", 1)[-1] for t in _list(spec.get("thematicArea"))
                if isinstance(t, dict)]
    grade = _text(proof.get("grade", {}).get("noteLiteral")) if isinstance(proof, dict) else ""
    scheme = _text(assessment.get("gradingScheme", {}).get("title")).upper().replace(" ", "_")
    if scheme not in table().raw["grading_schemes"]:
        scheme = "PASS_FAIL" if grade.lower() in ("pass", "fail") else ""
    record = rec.MicroCredential(
        institution_id=institution_id, key=key, version=1, status=rec.RECORD_STATUS_ACTIVE,
        title=_text(spec.get("title")), awarding_body=_text(body.get("legalName")),
        country=country, learning_outcomes=outcomes, workload_hours=hours,
        credit=rec.Credit(value=float(credit.get("point", 0)), system=system),
        level=rec.Level(framework="EQF", level=eqf), assessment_type=assessment_type,
        participation_form=mode, quality_assurance=quality_assurance,
        prerequisites=[t for t in [_text(spec.get("entryRequirement", {}).get("noteLiteral"))]
                       if t],
        # Unset where the credential does not say (the record then states nothing).
        identity_verified_assessment="without id" not in verification if verification else None,
        grading_scheme=scheme,
        subject_isced=next((s for s in subjects if len(s) == 4 and s.isdigit()), ""),
        skills=skills,
        quality_assurances=[qa for _, qa in accredited],
    )
    return record, warnings


def micro_credential_to_elm(mc: rec.MicroCredential) -> dict[str, Any]:
    """The ELM v3 learning-achievement specification (a `Qualification`) of a micro-credential,
    wrapped as a claim, so micro_credential_from_elm reads it back."""
    country = {v: k for k, v in ALPHA3.items()}.get(mc.country, mc.country)
    eqf = table().eqf_level(mc.level.framework, mc.level.level)
    ects = table().to_ects(mc.credit.value, mc.credit.system)
    mode = {rec.PARTICIPATION_FORM_ONLINE: "Online", rec.PARTICIPATION_FORM_BLENDED: "Blended",
            rec.PARTICIPATION_FORM_ONSITE: "In person"}[mc.participation_form]
    hours = f"PT{mc.workload_hours:g}H"
    return {
        "@context": ["https://www.w3.org/2018/credentials/v1",
                     "http://data.europa.eu/snb/model/context/edc-ap"],
        "id": f"urn:credit-registry:{mc.institution_id}:{uri_part(mc.key)}",
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "credentialSubject": {"type": "Person", "hasClaim": {
            "type": "LearningAchievement",
            "title": {"en": mc.title},
            "awardedBy": {"type": "AwardingProcess", "awardingBody": {
                "type": "Organisation", "legalName": {"en": mc.awarding_body},
                "location": {"type": "Location", "address": {"type": "Address", "countryCode": {
                    "id": f"http://publications.europa.eu/resource/authority/country/{country}",
                    "type": "Concept"}}}}},
            "provenBy": {"type": "LearningAssessment", **({"idVerification": {
                "type": "Concept", "prefLabel": {"en": "Supervised with ID verification"
                                                 if mc.identity_verified_assessment
                                                 else "Unsupervised without ID Verification"}}}
                if mc.HasField("identity_verified_assessment") else {}),
                "specifiedBy": {"type": "LearningAssessmentSpecification",
                                "dcType": {"type": "Concept",
                                           "prefLabel": {"en": mc.assessment_type}},
                                **({"gradingScheme": {"type": "GradingScheme", "title": {
                                    "en": mc.grading_scheme}}} if mc.grading_scheme else {})}},
            "specifiedBy": {
                "type": "Qualification",
                "title": {"en": mc.title},
                # A level referenced to no EQF level (US_DIVISION) is left out, not guessed.
                **({"eqfLevel": {"id": f"http://data.europa.eu/snb/eqf/{eqf}", "type": "Concept"}}
                   if eqf is not None else {}),
                "creditPoint": {"type": "CreditPoint", "point": f"{ects:g}", "framework": {
                    "type": "Concept", "prefLabel": {"en": "European Credit Transfer System"}}},
                "volumeOfLearning": hours,
                "mode": {"type": "Concept", "prefLabel": {"en": mode}},
                "learningOutcome": [
                    {"type": "LearningOutcome", "title": {"en": outcome},
                     **({"relatedESCOSkill": [{"id": s, "type": "Concept"} for s in mc.skills]}
                        if i == 0 and mc.skills else {})}
                    for i, outcome in enumerate(mc.learning_outcomes)],
                **({"thematicArea": [{"id": f"http://data.europa.eu/snb/isced-f/{mc.subject_isced}",
                                      "type": "Concept"}]} if mc.subject_isced else {}),
                **({"entryRequirement": {"type": "Note", "noteLiteral": {
                    "en": "; ".join(mc.prerequisites)}}} if mc.prerequisites else {}),
            },
        }},
    }
