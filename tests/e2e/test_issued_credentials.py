"""An institution's agent issues learners' credentials with the real commands, over mutual
TLS; a partner presents them; a revocation reaches the registry with the next sync."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import equivalence_pb2_grpc
from registry_core import credentials as vc
from sync_agent import cli
from sync_agent.client import open_channel
from tests.conftest import Network, RunningRegistry, client_tls
from tests.e2e.test_bilateral_agents import agent_home
from tests.factories import agreement, micro_credential, module

TAFF, FORTH = "uk.ac.taff", "uk.ac.forth"


def test_issue_present_revoke_through_the_agent(
    tmp_path: Path,
    network: Network,
    tls_registry: RunningRegistry,
    pki: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    forth = agent_home(
        tmp_path, FORTH, network, tls_registry, pki, [micro_credential(FORTH, "MC1")]
    )
    taff = agent_home(
        tmp_path,
        TAFF,
        network,
        tls_registry,
        pki,
        [
            module(TAFF, "CS7DE"),
            agreement(TAFF, "AG1", unit_key="CS7DE", verified_holdings_required=True),
        ],
    )

    def run(home: Path, *args: str) -> str:
        capsys.readouterr()
        assert cli.main(["--home", str(home), *args]) == 0, capsys.readouterr().err
        return capsys.readouterr().out

    run(taff, "sync")
    students = tmp_path / "awards.csv"
    students.write_text(
        "record_key,student_id,award_date,grade_scheme,grade,identity_verified\n"
        "MC1,S001,2025-06-01,UK_LETTER,A,yes\n"
        "MC1,S002,2025-06-01,UK_LETTER,B,no\n"
    )
    printed = run(forth, "issue-batch", str(students), "--out-dir", str(tmp_path / "issued"))
    assert "issued 2 credentials" in printed
    assert "status list published (0 revoked" in run(forth, "sync")
    issued = sorted((tmp_path / "issued").glob("*.json"))
    first, second = (json.loads(path.read_text()) for path in issued)

    def ask() -> list[int]:
        with open_channel(tls_registry.address, client_tls(pki, "partner-ucas")) as channel:
            answer = equivalence_pb2_grpc.EquivalenceServiceStub(channel).ResolveTransfer(
                eq.ResolveTransferRequest(
                    target_institution_id=TAFF,
                    holdings=[eq.Holding(verifiable_credential=json.dumps(first))],
                ),
                timeout=20,
            )
        assert len(answer.grants) == (
            1 if answer.holdings_checked[0].evidence == eq.HOLDING_EVIDENCE_VERIFIED else 0
        )
        return [c.evidence for c in answer.holdings_checked]

    assert ask() == [eq.HOLDING_EVIDENCE_VERIFIED]
    assert second["id"] in run(forth, "issued")
    run(forth, "revoke", first["id"], "--reason", "awarded in error")
    assert "status list published (1 revoked" in run(forth, "sync")
    assert ask() == [eq.HOLDING_EVIDENCE_REFUSED]


def test_batch_with_a_bad_row_issues_nothing_and_names_the_line(
    tmp_path: Path,
    network: Network,
    tls_registry: RunningRegistry,
    pki: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    forth = agent_home(
        tmp_path, FORTH, network, tls_registry, pki, [micro_credential(FORTH, "MC1")]
    )
    students = tmp_path / "awards.csv"
    students.write_text(
        "record_key,student_id,award_date\nMC1,S001,2025-06-01\nMC9,S002,2025-06-01\n"
    )
    assert (
        cli.main(
            [
                "--home",
                str(forth),
                "issue-batch",
                str(students),
                "--out-dir",
                str(tmp_path / "issued"),
            ]
        )
        == 1
    )
    error = capsys.readouterr().err
    assert "awards.csv line 3" in error and "record MC9" in error, error
    assert not (tmp_path / "issued").exists() or not list((tmp_path / "issued").iterdir())
    assert cli.main(["--home", str(forth), "issued"]) == 0
    assert capsys.readouterr().out == ""


def test_credentials_past_the_first_list_go_to_the_next_one(
    tmp_path: Path,
    network: Network,
    tls_registry: RunningRegistry,
    pki: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A status list holds 131,072 entries; the next credential names a second list (here
    with lists of 2 entries, so that the test issues 3)."""
    monkeypatch.setattr(vc, "STATUS_LIST_ENTRIES", 2)
    forth = agent_home(
        tmp_path, FORTH, network, tls_registry, pki, [micro_credential(FORTH, "MC1")]
    )
    made = []
    for student in ("S1", "S2", "S3"):
        out = tmp_path / f"{student}.json"
        assert (
            cli.main(
                [
                    "--home",
                    str(forth),
                    "issue",
                    "MC1",
                    "--student-id",
                    student,
                    "--award-date",
                    "2025-06-01",
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
        made.append(json.loads(out.read_text())["credentialStatus"])
    assert [(s["statusListCredential"].rsplit("/", 1)[1], s["statusListIndex"]) for s in made] == [
        ("revocation", "0"),
        ("revocation", "1"),
        ("revocation-2", "0"),
    ]
    assert (
        cli.main(
            [
                "--home",
                str(forth),
                "revoke",
                json.loads((tmp_path / "S3.json").read_text())["id"],
                "--reason",
                "test",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert cli.main(["--home", str(forth), "sync"]) == 0
    assert "status list published (1 revoked" in capsys.readouterr().out
