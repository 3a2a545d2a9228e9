"""Catalogue import: whole files or nothing, bad rows named by file, line and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import pytest

from registry.v1 import records_pb2 as rec
from sync_agent.importer import CatalogueError, read_catalogue
from sync_agent.store import AgentStore

DEMO = Path(__file__).resolve().parents[2] / "demo_network" / "data"
HEADER = ("key,title,awarding_body,country,learning_outcomes,workload_hours,credit_value,"
          "credit_system,level_framework,level,assessment_type,participation_form,"
          "quality_assurance\n")
ROW = "{key},Cyber Essentials,Lagan,GB,Spot threats | Defend,100,{credit},UK_CREDIT,RQF,4,Lab,ONSITE,QA\n"


def test_demo_catalogues_import() -> None:
    forth = read_catalogue(DEMO / "uk.ac.forth.json", "uk.ac.forth")
    assert sorted(type(r).__name__ for r in forth).count("RecognitionAgreement") == 2
    lagan = read_catalogue(DEMO / "uk.ac.lagan-micro-credentials.csv", "uk.ac.lagan")
    assert [r.key for r in lagan] == ["LAG-CY01", "LAG-DA01"]
    assert list(cast(rec.MicroCredential, lagan[0]).learning_outcomes) == ["Identify common threats to a small "
                                                "organisation's systems",
                                                "Configure basic network defences"]


def test_bad_csv_row_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "mc.csv"
    path.write_text(HEADER + ROW.format(key="A1", credit=10) + ROW.format(key="A2", credit="ten"))
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(path, "uk.ac.lagan")
    assert (caught.value.line, caught.value.field) == (3, "credit_value")
    assert "mc.csv line 3, field 'credit_value': 'ten' is not a number" in str(caught.value)
    assert "nothing from this file was imported" in str(caught.value)


def test_invalid_value_in_csv_is_reported_by_validation(tmp_path: Path) -> None:
    path = tmp_path / "mc.csv"
    path.write_text(HEADER + ROW.format(key="A1", credit=10).replace("RQF,4", "RQF,9"))
    with pytest.raises(CatalogueError, match="line 2, field 'level.level'.*not a level of RQF"):
        read_catalogue(path, "uk.ac.lagan")


def test_unknown_csv_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("code,name\nA,B\n")
    with pytest.raises(CatalogueError, match="line 1, field '\\(header\\)'"):
        read_catalogue(path, "uk.ac.lagan")


def test_bad_json_entry_names_its_line_and_field(tmp_path: Path) -> None:
    data = json.loads((DEMO / "uk.ac.taff.json").read_text())
    data["learning_units"][1]["credit"]["system"] = "CATS"
    path = tmp_path / "taff.json"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(path, "uk.ac.taff")
    assert caught.value.field == "learning_units[1].credit.system"
    assert path.read_text().splitlines()[caught.value.line - 1].strip() == '"key": "CS5PR",'


def test_json_record_of_another_institution_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"learning_units": [{
        "key": "M1", "institutionId": "uk.ac.forth", "title": "M", "kind": "LEARNING_UNIT_KIND_MODULE",
        "credit": {"value": 10, "system": "SCQF"}, "level": {"framework": "SCQF", "level": "7"}}]}))
    with pytest.raises(CatalogueError, match="this agent publishes for uk.ac.taff"):
        read_catalogue(path, "uk.ac.taff")


@pytest.mark.parametrize(("name", "content", "words"), [
    ("x.json", "{not json", "not valid JSON"),
    ("x.json", '{"modules": []}', "expected an object with the sections"),
    ("x.json", '{"micro_credentials": [{"key": "A", "colour": "red"}]}', "colour"),
    ("x.txt", "hello", "use a .csv or .json export"),
])
def test_malformed_files_are_refused(tmp_path: Path, name: str, content: str, words: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(CatalogueError, match=words):
        read_catalogue(path, "uk.ac.taff")


def test_reimport_of_unchanged_records_creates_no_changes(tmp_path: Path) -> None:
    store = AgentStore(tmp_path / "store.db", "uk.ac.taff")
    records = read_catalogue(DEMO / "uk.ac.taff.json", "uk.ac.taff")
    assert store.put_records(records) == len(records)
    assert store.put_records(read_catalogue(DEMO / "uk.ac.taff.json", "uk.ac.taff")) == 0
    assert store.last_seq() == len(records)
    changed = read_catalogue(DEMO / "uk.ac.taff.json", "uk.ac.taff")
    changed[0].title = "Applied Machine Learning (2026)"
    assert store.put_records(changed) == 1
    edited = store.get(rec.RECORD_KIND_MICRO_CREDENTIAL, "TAF-ML01")
    assert edited is not None and edited.version == 2
    assert [c.seq for c in store.changes(len(records), 10)] == [len(records) + 1]


def test_withdrawal_is_a_tombstone_in_the_change_log(tmp_path: Path) -> None:
    store = AgentStore(tmp_path / "store.db", "uk.ac.taff")
    store.put_records(read_catalogue(DEMO / "uk.ac.taff.json", "uk.ac.taff"))
    assert store.withdraw(rec.RECORD_KIND_AGREEMENT, "AG-FOR-DE")
    assert not store.withdraw(rec.RECORD_KIND_AGREEMENT, "AG-FOR-DE")
    [last] = store.changes(store.last_seq() - 1, 5)
    assert last.WhichOneof("change") == "tombstone" and last.tombstone.version == 2
