from __future__ import annotations

import itertools

from registry_core import synthetic
from registry_core.records import validate_record


def test_same_seed_same_network_and_every_record_is_valid() -> None:
    shape = synthetic.Shape(
        institutions=20,
        credentials_per_institution=50,
        modules_per_institution=10,
        agreements=2_000,
    )
    first = [a.SerializeToString(deterministic=True) for a in synthetic.agreements(shape, seed=3)]
    again = [a.SerializeToString(deterministic=True) for a in synthetic.agreements(shape, seed=3)]
    other = [a.SerializeToString(deterministic=True) for a in synthetic.agreements(shape, seed=4)]
    assert first == again and first != other
    assert len(first) == 2_000
    for agreement in itertools.islice(synthetic.agreements(shape, seed=3), 500):
        validate_record(agreement)
    validate_record(synthetic.credential(synthetic.institution_id(1), 7))
    validate_record(synthetic.module(synthetic.institution_id(1), 7))


def test_every_agreement_grants_a_module_its_publisher_publishes() -> None:
    """The registry refuses an agreement granting a unit its publisher has not published;
    the network's publishers publish modules 0 to modules_per_institution - 1."""
    shape = synthetic.Shape(
        institutions=20,
        credentials_per_institution=50,
        modules_per_institution=10,
        agreements=2_000,
    )
    published = {
        synthetic.module(synthetic.institution_id(0), n).key
        for n in range(shape.modules_per_institution)
    }
    assert {a.grant.unit_key for a in synthetic.agreements(shape, seed=3)} <= published
