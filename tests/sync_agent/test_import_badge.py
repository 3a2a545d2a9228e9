"""`sync-agent import-badge`: Open Badges 3.0 and CLR 2.0 files into the agent's store, in
process (the samples are 1EdTech's, tests/fixtures/standards)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry.v1 import records_pb2 as rec
from sync_agent.cli import main
from sync_agent.config import load
from sync_agent.store import AgentStore
from tests.conftest import STANDARDS

STATED = [
    "--credit",
    "5 ECTS",
    "--level",
    "EQF 6",
    "--country",
    "US",
    "--workload-hours",
    "125",
    "--assessment-type",
    "Portfolio review",
    "--participation-form",
    "online",
    "--quality-assurance",
    "Regional accreditation",
    "--awarding-body",
    "Example College",
]


@pytest.fixture
def home(tmp_path: Path) -> list[str]:
    args = ["--home", str(tmp_path / "agent")]
    assert (
        main(
            [
                *args,
                "init",
                "--institution-id",
                "us.ac.example",
                "--name",
                "Example",
                "--country",
                "US",
            ]
        )
        == 0
    )
    return args


def stored(home: list[str]) -> dict[str, rec.MicroCredential]:
    cfg = load(Path(home[1]))
    store = AgentStore(cfg.store_path, cfg.institution_id)
    try:
        return {
            r.key: r
            for r in store.records(rec.RECORD_KIND_MICRO_CREDENTIAL)
            if isinstance(r, rec.MicroCredential)
        }
    finally:
        store.close()


def test_a_valid_badge_imports_and_exports_back_with_its_key(
    home: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                *home,
                "import-badge",
                str(STANDARDS / "ob30" / "simple.json"),
                "--key",
                "TEAM1",
                *STATED,
            ]
        )
        == 0
    )
    assert stored(home)["TEAM1"].title == "Teamwork"
    assert "$.proof is not verified" in capsys.readouterr().err
    assert main([*home, "export", "ob3", "TEAM1"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["id"] == "https://registry.example.org/achievements/us.ac.example/TEAM1"
    assert exported["creditsAvailable"] == 2.5  # 5 ECTS in US semester credit hours


def test_valid_and_broken_badges_get_different_specific_messages(
    home: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    messages = []
    for name in ("simple.json", "simple-err-issuer.json", "simple-err-expired.json"):
        assert main([*home, "import-badge", str(STANDARDS / "ob30" / name)]) == 1
        messages.append(capsys.readouterr().err)
    assert "field '$.credentialSubject.achievement.creditsAvailable'" in messages[0]
    assert "--credit" in messages[0]
    assert "field '$.issuer': is missing" in messages[1]
    assert "field '$.validUntil': the credential expired" in messages[2]
    assert not stored(home)


def test_a_clr_imports_every_achievement(
    home: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*home, "import-badge", str(STANDARDS / "clr20" / "simple.json"), *STATED]) == 0
    assert len(stored(home)) == 3
    assert "3 micro-credentials: 3 new or changed" in capsys.readouterr().out


def test_a_malformed_option_is_refused_naming_it(
    home: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main([*home, "import-badge", str(STANDARDS / "ob30" / "simple.json"), "--credit", "five"])
        == 1
    )
    assert "field '--credit'" in capsys.readouterr().err
