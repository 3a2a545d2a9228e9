"""The agent's issuing commands on bad input, as a newcomer met it: each refusal names the
line, the column and the fix, and nothing is issued; nothing ends in a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync_agent import cli
from sync_agent.config import init_home
from sync_agent.store import AgentStore
from tests.factories import agreement, micro_credential

FORTH = "uk.ac.forth"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "agent"
    init_home(folder, FORTH, "University of the Forth", "GB", "127.0.0.1:1")
    store = AgentStore(folder / "store.db", FORTH)
    store.put_records([micro_credential(FORTH, "MC1"), agreement(FORTH, "AG1")])
    store.close()
    return folder


def run(home: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


BATCHES = {
    "a short row": (
        "record_key,student_id,award_date,grade_scheme,grade\nMC1,S1\n",
        "line 2: field 'award_date': is missing (the row is short)",
    ),
    "a row longer than the header": (
        "record_key,student_id,award_date\nMC1,S1,2025-06-01,x\n",
        "line 2: field '(row)': has 4 fields, the header 3",
    ),
    "an empty file": ("", "field '(file)': is empty"),
    "a column it does not know": (
        "record_key,student_id,award_date,grade_letter\n",
        "field 'grade_letter': is not a column this file may have",
    ),
    "a bad expiry date": (
        "record_key,student_id,award_date,valid_until\nMC1,S1,2025-06-01,31/12/2030\n",
        "field 'valid_until': '31/12/2030'",
    ),
    "a grade without its scheme": (
        "record_key,student_id,award_date,grade\nMC1,S1,2025-06-01,B\n",
        "grade_scheme and grade are two columns",
    ),
    "a grade its scheme does not have": (
        "record_key,student_id,award_date,grade_scheme,grade\nMC1,S1,2025-06-01,UK_LETTER,Z\n",
        "'Z' is not a grade of UK_LETTER",
    ),
    "an agreement's key": (
        "record_key,student_id,award_date\nAG1,S1,2025-06-01\n",
        "is an agreement; credentials are of micro-credentials",
    ),
}


@pytest.mark.parametrize("case", sorted(BATCHES))
def test_a_bad_batch_is_refused_naming_where_and_nothing_is_issued(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    text, says = BATCHES[case]
    batch = tmp_path / "awards.csv"
    batch.write_text(text)
    code, _, err = run(home, capsys, "issue-batch", str(batch), "--out-dir", str(tmp_path / "out"))
    assert code == 1 and says in err, err
    assert "Traceback" not in err
    assert run(home, capsys, "issued")[1] == ""


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (("--grade", "UK_LETTER:Z"), "'Z' is not a grade of UK_LETTER"),
        (("--valid-until", "2025-05-01"), "field 'valid_until': 2025-05-01 is before the award"),
        (("--valid-until", "2026-01-01"), "is before today"),
        (("--award-date", "2999-01-01"), "is in the future"),
    ],
)
def test_issue_refuses_what_would_never_verify(
    home: Path, capsys: pytest.CaptureFixture[str], options: tuple[str, ...], says: str
) -> None:
    award = () if "--award-date" in options else ("--award-date", "2025-06-01")
    code, _, err = run(home, capsys, "issue", "MC1", "--student-id", "S1", *award, *options)
    assert code == 1 and says in err, err


def test_revoking_twice_says_when_it_was_revoked(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "c.json"
    assert (
        run(
            home,
            capsys,
            "issue",
            "MC1",
            "--student-id",
            "S1",
            "--award-date",
            "2025-06-01",
            "--out",
            str(out),
        )[0]
        == 0
    )
    credential_id = json.loads(out.read_text())["id"]
    assert run(home, capsys, "revoke", credential_id, "--reason", "error")[0] == 0
    code, _, err = run(home, capsys, "revoke", credential_id, "--reason", "again")
    assert code == 1 and "was revoked already, on 20" in err


def test_list_shows_the_records_a_credential_can_be_of(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(home, capsys, "list")
    assert code == 0
    assert "micro-credential\tMC1\tactive\tData Ethics in Practice" in out
    assert "agreement\tAG1\tactive" in out
