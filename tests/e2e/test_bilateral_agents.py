"""Two institutions' agents take a bilateral agreement through its life with the real
commands; each step is visible to both sides after a sync."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import json_format

from registry.v1 import records_pb2 as rec
from registry_server import directory
from sync_agent import cli
from sync_agent.config import init_home, set_tls
from sync_agent.store import AgentStore
from tests.conftest import Network, RunningRegistry
from tests.factories import agreement, micro_credential, module

TAFF, FORTH = "uk.ac.taff", "uk.ac.forth"
ID = f"{TAFF}/ART-1"


def agent_home(
    tmp: Path,
    institution: str,
    network: Network,
    registry: RunningRegistry,
    pki: Path,
    records: list,  # type: ignore[type-arg]
) -> Path:
    home = tmp / institution
    _, signer = init_home(home, institution, institution, "GB", registry.address)
    directory.rotate_key(network.engine, institution, signer.public_key)  # the agent's own key
    stem = pki / f"institution-{institution}"
    set_tls(home, pki / "ca.pem", Path(f"{stem}.pem"), Path(f"{stem}-key.pem"))
    store = AgentStore(home / "store.db", institution)
    store.put_records(records)
    store.close()
    return home


def test_propose_countersign_amend_terminate_through_the_agents(
    tmp_path: Path,
    network: Network,
    tls_registry: RunningRegistry,
    pki: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    taff = agent_home(tmp_path, TAFF, network, tls_registry, pki, [module()])
    forth = agent_home(tmp_path, FORTH, network, tls_registry, pki, [micro_credential()])

    def run(home: Path, *args: str) -> str:
        capsys.readouterr()
        assert cli.main(["--home", str(home), *args]) == 0, capsys.readouterr().err
        return capsys.readouterr().out

    terms = tmp_path / "terms.json"
    terms.write_text(json_format.MessageToJson(agreement(TAFF, "ART-1")))
    amended = tmp_path / "amended.json"
    amended.write_text(
        json_format.MessageToJson(
            agreement(TAFF, "ART-1", minimum_grade=rec.Grade(scheme="UK_LETTER", value="B"))
        )
    )
    run(taff, "sync")
    run(forth, "sync")

    assert "version 1 is now proposed" in run(
        taff, "bilateral", "propose", str(terms), "--partner", FORTH
    )
    assert "1 new bilateral step received" in run(forth, "sync")
    assert f"{ID} v1\tproposed\tlast step by {TAFF}  <- awaits your decision" in run(
        forth, "bilateral", "list"
    )
    assert "awaits" not in run(taff, "bilateral", "list")  # the proposer waits, it decides nothing

    assert "is now active" in run(forth, "bilateral", "countersign", ID, "--version", "1")
    run(taff, "sync")
    assert f"{ID} v1\tactive" in run(taff, "bilateral", "list")

    assert "version 2 is now proposed" in run(
        forth, "bilateral", "propose", str(amended), "--partner", TAFF, "--id", ID, "--version", "2"
    )
    run(taff, "sync")
    assert f"{ID} v2\tproposed\tlast step by {FORTH}  <- awaits your decision" in run(
        taff, "bilateral", "list"
    )
    assert "is now active" in run(taff, "bilateral", "countersign", ID, "--version", "2")

    capsys.readouterr()
    assert cli.main(["--home", str(taff), "bilateral", "terminate", ID, "--version", "2"]) == 1
    assert "needs a reason" in capsys.readouterr().err
    assert "is now terminated" in run(
        taff, "bilateral", "terminate", ID, "--version", "2", "--reason", "programme closed"
    )
    run(forth, "sync")
    listing = run(forth, "bilateral", "list")
    assert f"{ID} v1\tsuperseded" in listing and f"{ID} v2\tterminated" in listing
