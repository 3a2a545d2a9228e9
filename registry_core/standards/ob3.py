"""Open Badges 3.0 (1EdTech): a micro-credential as an OB3 `Achievement`."""

from __future__ import annotations

from typing import Any

from registry.v1 import records_pb2 as rec
from registry_core.conversion import table
from registry_core.standards.common import uri_part


def micro_credential_to_ob3(mc: rec.MicroCredential, base_url: str) -> dict[str, Any]:
    """An Open Badges 3.0 `Achievement` describing the micro-credential."""
    ects = table().to_ects(mc.credit.value, mc.credit.system)
    achievement: dict[str, Any] = {
        "id": f"{base_url.rstrip('/')}/achievements/{mc.institution_id}/{uri_part(mc.key)}",
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": mc.title,
        "description": f"{mc.title}: {mc.credit.value:g} {mc.credit.system} at "
                       f"{mc.level.framework} level {mc.level.level}, {mc.workload_hours:g} "
                       f"hours; assessed by {mc.assessment_type}.",
        "criteria": {"narrative": "\n".join(f"- {o}" for o in mc.learning_outcomes)},
        "creator": {"id": f"{base_url.rstrip('/')}/institutions/{mc.institution_id}",
                    "type": ["Profile"], "name": mc.awarding_body},
        "creditsAvailable": ects,  # OB3 has no unit: ECTS, converted through the table
        "humanCode": mc.key,
    }
    if mc.subject_isced:
        achievement["fieldOfStudy"] = f"ISCED-F {mc.subject_isced}"
    if mc.skills:
        achievement["alignment"] = [{"type": ["Alignment"], "targetName": skill.rsplit("/", 1)[-1],
                                     "targetUrl": skill, "targetType": "ceasn:Competency",
                                     "targetFramework": "ESCO"} for skill in mc.skills]
    if mc.url:
        achievement["image"] = {"id": mc.url, "type": "Image"}
    return achievement
