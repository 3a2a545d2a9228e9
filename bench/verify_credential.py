"""What verifying a learner's credential costs, against a bare Ed25519 verify of the same
bytes (anchor), measured in the same run.

A presented Open Badges 3.0 credential is verified in steps (registry_server/
learner_credentials.py): read the JSON, canonicalise its RDF and the proof's (RDFC-1.0, the
eddsa-rdfc-2022 cryptosuite), verify the Ed25519 signature over the two hashes, then look up
the key, the achievement and the status list in the registry's database. The signature part
(decoding the key and proof value, then the verify) is compared with the anchor; the rest is
named with its own time per credential.

    python -m bench.verify_credential [--rounds 5] [--count 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import base58
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bench.common import line
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core import credentials as vc
from registry_core import jsonld
from registry_core.envelope import Ed25519Signer
from registry_core.standards import ob3
from registry_server import directory, learner_credentials, publication
from registry_server.db import make_engine, reading, upgrade
from tests.factories import batch, micro_credential, signed

BASE = "https://registry.example.org"
FORTH = "uk.ac.forth"


def per_call(work: Callable[[], object], count: int) -> float:
    """Seconds a call of work takes, over count calls."""
    start = time.perf_counter()
    for _ in range(count):
        work()
    return (time.perf_counter() - start) / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=200, help="credentials a round")
    args = parser.parse_args(argv)

    signer = Ed25519Signer.generate()
    now = dt.datetime.now(dt.UTC)
    unsigned = vc.open_badge_credential(
        ob3.micro_credential_to_ob3(micro_credential(FORTH, "MC1"), BASE),
        credential_id="urn:uuid:00000000-0000-4000-8000-000000000001",
        issuer=vc.issuer_id(BASE, FORTH),
        issuer_name="University of the Forth",
        learner=vc.Learner("S0001"),
        award=vc.Award(dt.date(2025, 6, 1), rec.Grade(scheme="UK_LETTER", value="B"), True),
        issued=now - dt.timedelta(days=1),
        status_list=vc.status_list_id(BASE, FORTH),
        status_index=3,
    )
    document = vc.sign(unsigned, signer, created=now - dt.timedelta(days=1))
    text = json.dumps(document)
    proof = dict(document["proof"][0])
    value = proof.pop("proofValue")
    body = {k: v for k, v in document.items() if k != "proof"}
    signed_bytes = vc._hash_data(body, proof)
    signature = base58.b58decode(value[1:])
    key = Ed25519PublicKey.from_public_bytes(signer.public_key)

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'registry.db'}")
        upgrade(engine)
        directory.enrol(engine, FORTH, "University of the Forth", "GB", signer.public_key)
        publication.publish(engine, signed(batch(FORTH, [micro_credential(FORTH, "MC1")]), signer))
        learner_credentials.publish_status_list(
            engine,
            json.dumps(
                vc.sign(
                    vc.status_list_credential(
                        list_id=vc.status_list_id(BASE, FORTH),
                        issuer=vc.issuer_id(BASE, FORTH),
                        revoked={7},
                        issued=now,
                    ),
                    signer,
                    created=now,
                )
            ),
        )
        holding = eq.Holding(verifiable_credential=text)

        def whole() -> object:
            with reading(engine) as reads:
                [taken], _ = learner_credentials.check_holdings(reads, [holding], now.date())
            return taken

        def signature_part() -> None:
            public = vc.public_key_of(proof["verificationMethod"])
            Ed25519PublicKey.from_public_bytes(public).verify(
                base58.b58decode(value[1:]), signed_bytes
            )

        rounds: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            measured = {
                "anchor: bare Ed25519 verify of the same 64 bytes": per_call(
                    lambda: key.verify(signature, signed_bytes), args.count
                ),
                "signature part (decode key and proof value, verify)": per_call(
                    signature_part, args.count
                ),
                "JSON parse of the credential": per_call(lambda: json.loads(text), args.count),
                "RDF canonicalisation of credential and proof (RDFC-1.0)": per_call(
                    lambda: (
                        jsonld.canonical_hash(body),
                        jsonld.canonical_hash({"@context": body["@context"], **proof}),
                    ),
                    args.count,
                ),
                "whole check in the registry (with its 4 database look-ups)": per_call(
                    whole, args.count
                ),
            }
            for name, took in measured.items():
                rounds.setdefault(name, []).append(took)
        engine.dispose()

    anchor = rounds["anchor: bare Ed25519 verify of the same 64 bytes"]
    print(
        f"Verifying one presented credential ({len(text)} bytes of JSON), "
        f"{args.rounds} rounds of {args.count}; median, and the range over rounds"
    )
    for name, seconds in rounds.items():
        ratios = [a / s for a, s in zip(anchor, seconds, strict=True)]
        line(
            name,
            f"{statistics.median(seconds) * 1e6:9.1f} µs   "
            f"{statistics.median(ratios):.2f}x the anchor "
            f"({min(ratios):.2f}-{max(ratios):.2f})",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
