"""`registry-query`, a partner's questions without writing code, against a real registry on
a loopback port: words an admissions officer reads, the API's JSON with --json, the fields a
refusal names, and a record checked against its publisher's signature."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from partner.cli import main
from registry.v1 import records_pb2 as rec
from registry_server import learner_credentials, publication
from tests.conftest import Network, RunningRegistry
from tests.factories import agreement, batch, micro_credential, module, signed
from tests.registry_server.test_learner_credentials import credential, status_list

TAFF, FORTH = "uk.ac.taff", "uk.ac.forth"


@pytest.fixture
def published(network: Network) -> Network:
    """Forth's MC1 and MC2; Taff's module CS7DE, an MSc that admits half from elsewhere, and
    agreements: MC1 into CS7DE, and an expired one."""
    msc = module(TAFF, "MSC", credit=30)
    msc.kind = rec.LEARNING_UNIT_KIND_QUALIFICATION
    msc.stacking_rule.total.CopyFrom(rec.Credit(value=30, system="UK_CREDIT"))
    msc.stacking_rule.regulations.max_from_elsewhere.share = 0.5
    for institution, records in (
        (FORTH, [micro_credential(), micro_credential(key="MC2")]),
        (TAFF, [module(), msc, agreement(), agreement(key="OLD", valid_to="2020-01-01")]),
    ):
        publication.publish(
            network.engine, signed(batch(institution, records), network.signers[institution])
        )
    return network


def ask(
    capsys: pytest.CaptureFixture[str], registry: RunningRegistry, *args: str
) -> tuple[int, str, str]:
    code = main(["--registry", registry.address, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_resolve_says_what_is_granted_and_why_the_rest_is_not(
    published: Network, registry: RunningRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = ask(capsys, registry, "resolve", TAFF, "uk.ac.forth/MC1:A@2025-06-01")
    assert code == 0
    assert "GRANTED  module CS7DE Module CS7DE: 15 UK_CREDIT at FHEQ 7" in out
    assert "by agreement AG1 v1" in out and "for uk.ac.forth/MC1" in out
    assert "not applied  OLD: expired - the agreement ended on 2020-01-01" in out


@pytest.mark.parametrize("where", ["before the question", "after it"])
def test_json_is_the_apis_answer(
    published: Network, registry: RunningRegistry, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    question = ("resolve", TAFF, "uk.ac.forth/MC1:A@2025-06-01")
    code, out, _ = ask(
        capsys,
        registry,
        *(("--json", *question) if where.startswith("before") else (*question, "--json")),
    )
    answer = json.loads(out)
    assert code == 0 and answer["grants"][0]["grant"]["unitKey"] == "CS7DE"
    assert answer["notApplied"][0]["reason"] == "NOT_APPLIED_REASON_EXPIRED"


def test_pathway_names_the_regulation_that_held_credit_back(
    published: Network, registry: RunningRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = ask(capsys, registry, "pathway", f"{TAFF}/MSC", "uk.ac.forth/MC1:A@2025-06-01")
    assert code == 0
    assert "counted 15 of 30 UK_CREDIT; 15 remain" in out
    assert "limit" not in out  # 15 is within half of 30
    code, out, _ = ask(
        capsys,
        registry,
        "--json",
        "pathway",
        f"{TAFF}/MSC",
        "uk.ac.forth/MC1:A@2025-06-01",
        "uk.ac.forth/MC2:A@2025-06-01",
    )
    assert json.loads(out)["achieved"]["value"] == 15


def test_equivalents_sources_and_conflicts_list_agreements(
    published: Network, registry: RunningRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = ask(capsys, registry, "equivalents", "uk.ac.forth/MC1")
    assert "uk.ac.taff/AG1 v1  grants CS7DE  for  all of uk.ac.forth/MC1" in out
    _, out, _ = ask(capsys, registry, "sources", f"{TAFF}/CS7DE", "--from", FORTH)
    assert "uk.ac.taff/AG1 v1" in out
    _, out, _ = ask(capsys, registry, "conflicts", TAFF)
    assert "Agreements of uk.ac.taff that disagree:\n  none" in out


def test_proof_checks_the_record_against_its_publishers_signature(
    published: Network, registry: RunningRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = ask(capsys, registry, "proof", TAFF, "agreement", "AG1")
    assert code == 0, err
    assert (
        f"agreement {TAFF}/AG1: signed by {TAFF} (key "
        f"{published.signers[TAFF].key_id[:16]}…)" in out
    )
    assert '"unitKey": "CS7DE"' in out


def test_a_refusal_names_the_field_and_a_bad_holding_is_caught_before_asking(
    published: Network, registry: RunningRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = ask(capsys, registry, "resolve", TAFF, "uk.ac.forth/MC1:A@2999-01-01")
    assert code == 1 and "refused the question (INVALID_ARGUMENT)" in err
    assert "field holdings[0].award_date" in err
    code, _, err = ask(capsys, registry, "resolve", TAFF, "MC1")
    assert code == 2 and "holdings: 'MC1' is not provider/key" in err


def test_an_unreachable_registry_is_said_with_the_address(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["--registry", "127.0.0.1:9", "conflicts", TAFF])
    _, err = capsys.readouterr()
    assert code == 1
    assert (
        "the registry at 127.0.0.1:9 (from --registry) is unreachable: nothing listens there"
    ) in err
    code = main(["--registry", "127.0.0.1:9", "--ca", str(tmp_path / "ca.pem"), "conflicts", TAFF])
    _, err = capsys.readouterr()
    assert code == 2 and "give --ca, --cert and --key together" in err


def test_a_tls_registry_asked_without_a_certificate_is_said_to_require_one(
    tls_registry: RunningRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--registry", tls_registry.address, "conflicts", TAFF])
    _, err = capsys.readouterr()
    assert code == 1
    assert "it most likely requires mutual TLS, and registry-query has none" in err
    assert "give --ca, --cert and --key" in err


def test_a_partner_asks_over_mutual_tls_with_its_certificate(
    published: Network,
    tls_registry: RunningRegistry,
    pki: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REGISTRY_QUERY_ADDRESS", tls_registry.address)
    monkeypatch.setenv("REGISTRY_QUERY_CA", str(pki / "ca.pem"))
    code = main(
        [
            "--cert",
            str(pki / "partner-ucas.pem"),
            "--key",
            str(pki / "partner-ucas-key.pem"),
            "conflicts",
            TAFF,
        ]
    )
    out, _ = capsys.readouterr()
    assert code == 0 and "none" in out
    code = main(["conflicts", TAFF])  # the CA alone: no client certificate
    _, err = capsys.readouterr()
    assert code == 2 and "give --ca, --cert and --key together" in err


def test_a_presented_credential_is_verified_and_the_answer_says_so(
    published: Network,
    registry: RunningRegistry,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    learner_credentials.publish_status_list(published.engine, status_list(published, set()))
    document = credential(published, grade="A")
    good, forged = tmp_path / "good.json", tmp_path / "forged.json"
    good.write_text(json.dumps(document))
    document["awardedDate"] = "2025-06-02T00:00:00Z"
    forged.write_text(json.dumps(document))
    code, out, _ = ask(
        capsys, registry, "resolve", TAFF, "--credential", str(good), "--credential", str(forged)
    )
    assert code == 0
    assert "verified       uk.ac.forth/MC1: verified: uk.ac.forth/MC1 awarded 2025-06-01" in out
    assert "refused        uk.ac.forth/MC1: not verified: its proof does not match" in out
    assert "GRANTED  module CS7DE" in out
