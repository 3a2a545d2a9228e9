"""A deterministic synthetic network for tests and benchmarks: institutions, their
micro-credentials and modules, and recognition agreements with realistic fan-out (most
agreements recognise one credential, some two or three; a fifth allow chaining; a few
institutions are hubs that many others recognise). The same seed gives the same network."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from registry.v1 import records_pb2 as rec

ACTIVE = rec.RECORD_STATUS_ACTIVE


@dataclass(frozen=True)
class Shape:
    institutions: int = 200
    credentials_per_institution: int = 500
    modules_per_institution: int = 50
    agreements: int = 1_000_000


def institution_id(n: int) -> str:
    return f"uk.ac.inst{n:03}"


def credential(institution: str, n: int) -> rec.MicroCredential:
    return rec.MicroCredential(
        institution_id=institution,
        key=f"MC{n:05}",
        version=1,
        status=ACTIVE,
        title=f"Micro-credential {n}",
        awarding_body=institution,
        country="GB",
        learning_outcomes=["Apply the subject's core methods"],
        workload_hours=100,
        credit=rec.Credit(value=10, system="SCQF"),
        level=rec.Level(framework="SCQF", level="9"),
        assessment_type="Portfolio",
        participation_form=rec.PARTICIPATION_FORM_ONLINE,
        quality_assurance="Internal approval",
    )


def module(institution: str, n: int) -> rec.LearningUnit:
    return rec.LearningUnit(
        institution_id=institution,
        key=f"MOD{n:03}",
        version=1,
        status=ACTIVE,
        title=f"Module {n}",
        kind=rec.LEARNING_UNIT_KIND_MODULE,
        credit=rec.Credit(value=15, system="UK_CREDIT"),
        level=rec.Level(framework="FHEQ", level="6"),
    )


def agreements(shape: Shape, seed: int = 1) -> Iterator[rec.RecognitionAgreement]:
    """shape.agreements agreements, spread over the institutions as publishers."""
    rng = random.Random(seed)
    hubs = max(1, shape.institutions // 10)
    per_publisher = max(1, shape.agreements // shape.institutions)
    made = 0
    for publisher in range(shape.institutions):
        owner = institution_id(publisher)
        for n in range(
            per_publisher if publisher < shape.institutions - 1 else shape.agreements - made
        ):
            items = []
            for _ in range(rng.choices((1, 2, 3), weights=(80, 15, 5))[0]):
                provider = (
                    rng.randrange(hubs) if rng.random() < 0.5 else rng.randrange(shape.institutions)
                )
                if provider == publisher:
                    provider = (provider + 1) % shape.institutions
                # Three in ten sources are another institution's module: that is where
                # chains run (a transitive grant of that module is then a source here).
                key = (
                    f"MOD{rng.randrange(shape.modules_per_institution):03}"
                    if rng.random() < 0.3
                    else f"MC{rng.randrange(shape.credentials_per_institution):05}"
                )
                items.append(
                    rec.SourceItem(
                        credential=rec.CredentialRef(
                            institution_id=institution_id(provider), key=key
                        )
                    )
                )
            transitive = rng.random() < 0.2
            grant = rec.Grant(unit_key=f"MOD{rng.randrange(shape.modules_per_institution):03}")
            yield rec.RecognitionAgreement(
                institution_id=owner,
                key=f"AG{n:06}",
                version=1,
                status=ACTIVE,
                title=f"Agreement {n}",
                grant=grant,
                source=rec.SourceGroup(
                    operator=rec.GROUP_OPERATOR_ALL_OF
                    if len(items) > 1 and rng.random() < 0.5
                    else rec.GROUP_OPERATOR_ANY_OF,
                    items=items,
                ),
                conditions=rec.Conditions(transitive_allowed=transitive),
            )
            made += 1
