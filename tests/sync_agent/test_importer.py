"""Catalogue import: whole files or nothing, bad rows named by file, line and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import pytest

from registry.v1 import records_pb2 as rec
from registry_core.errors import InvalidRecord
from registry_core.expressions import parse_sources
from registry_core.records import Record
from registry_core.regulation_expressions import format_requirement
from sync_agent.catalogue_csv import CSV_KINDS, kind_of_header
from sync_agent.cli import main
from sync_agent.importer import CatalogueError, Entry, check_granted_units, read_catalogue
from sync_agent.store import AgentStore

DEMO = Path(__file__).resolve().parents[2] / "demo_network" / "data"
HEADER = (
    "key,title,awarding_body,country,learning_outcomes,workload_hours,credit_value,"
    "credit_system,level_framework,level,assessment_type,participation_form,"
    "quality_assurance\n"
)
ROW = (
    "{key},Cyber Essentials,Lagan,GB,Spot threats | Defend,100,{credit},UK_CREDIT,RQF,4,Lab,"
    "ONSITE,QA\n"
)


def test_demo_catalogues_import() -> None:
    forth = read_catalogue(DEMO / "uk.ac.forth.json", "uk.ac.forth")
    assert sorted(type(r).__name__ for r in forth).count("RecognitionAgreement") == 4
    lagan = read_catalogue(DEMO / "uk.ac.lagan-micro-credentials.csv", "uk.ac.lagan")
    assert [r.key for r in lagan] == ["LAG-CY01", "LAG-DA01"]
    assert list(cast(rec.MicroCredential, lagan[0]).learning_outcomes) == [
        "Identify common threats to a small organisation's systems",
        "Configure basic network defences",
    ]


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
    path.write_text(
        json.dumps(
            {
                "learning_units": [
                    {
                        "key": "M1",
                        "institutionId": "uk.ac.forth",
                        "title": "M",
                        "kind": "LEARNING_UNIT_KIND_MODULE",
                        "credit": {"value": 10, "system": "SCQF"},
                        "level": {"framework": "SCQF", "level": "7"},
                    }
                ]
            }
        )
    )
    with pytest.raises(CatalogueError, match="this agent publishes for uk.ac.taff"):
        read_catalogue(path, "uk.ac.taff")


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("x.json", "{not json", "not valid JSON"),
        ("x.json", '{"modules": []}', "expected an object with the sections"),
        ("x.json", '{"micro_credentials": [{"key": "A", "colour": "red"}]}', "colour"),
        ("x.txt", "hello", "use a .csv or .json export"),
    ],
)
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


# --- issue 18: what registrars write, and references that exist -----------------------------

UNITS = (
    "key,title,kind,credit_value,credit_system,level_framework,level,cross_listed_keys\n"
    "BIOLOGY 1A,Biology,MODULE,5,US_SEMESTER_HOUR,EQF,5,BIO 1A | BIOL 1A\n"
    "BIOLOGY 1AL,Biology lab,MODULE,1,US_SEMESTER_HOUR,EQF,5,\n"
)
AGREEMENTS = "key,sources,grant\n"


def _file(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def _units(tmp_path: Path) -> list[rec.LearningUnit]:
    units = read_catalogue(_file(tmp_path, "units.csv", UNITS), "uk.ac.taff")
    return [u for u in units if isinstance(u, rec.LearningUnit)]


def _agreement(tmp_path: Path, header: str, row: str) -> rec.RecognitionAgreement:
    [agreement] = read_catalogue(
        _file(tmp_path, "ag.csv", header + row), "uk.ac.taff", held_units=_units(tmp_path)
    )
    assert isinstance(agreement, rec.RecognitionAgreement)
    return agreement


def _refusal(tmp_path: Path, header: str, row: str) -> CatalogueError:
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(
            _file(tmp_path, "ag.csv", header + row), "uk.ac.taff", held_units=_units(tmp_path)
        )
    return caught.value


def test_agreement_granting_a_unit_the_catalogue_lacks_is_refused(tmp_path: Path) -> None:
    error = _refusal(
        tmp_path, AGREEMENTS, "AG1,uk.ac.forth/MC1,BIOLOGY 1A\nAG2,uk.ac.forth/MC2,BIOLOGY 9Z\n"
    )
    assert (error.line, error.field) == (3, "grant")
    assert (
        "agreement AG2 grants unit 'BIOLOGY 9Z', which is neither in this file nor in the "
        "agent's store" in str(error)
    )


def test_agreement_grants_a_unit_of_the_same_file_by_its_own_key_not_a_cross_listed_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "catalogue.json"
    path.write_text(
        json.dumps(
            {
                "learning_units": [
                    {
                        "key": "MATH 16A",
                        "title": "Calculus",
                        "kind": "LEARNING_UNIT_KIND_MODULE",
                        "credit": {"value": 4, "system": "US_SEMESTER_HOUR"},
                        "level": {"framework": "EQF", "level": "5"},
                        "crossListedKeys": ["MATH 16 A"],
                    }
                ],
                "agreements": [
                    {
                        "key": "AG1",
                        "source": {
                            "operator": "GROUP_OPERATOR_ALL_OF",
                            "items": [
                                {"credential": {"institutionId": "uk.ac.forth", "key": "MC1"}}
                            ],
                        },
                        "grant": {"unitKey": "MATH 16A"},
                    }
                ],
            }
        )
    )
    assert len(read_catalogue(path, "uk.ac.taff")) == 2
    path.write_text(path.read_text().replace('"unitKey": "MATH 16A"', '"unitKey": "MATH 16 A"'))
    with pytest.raises(CatalogueError) as caught:  # the registry would refuse it at publish
        read_catalogue(path, "uk.ac.taff")
    assert "a cross-listed code of unit 'MATH 16A'" in caught.value.problem
    path.write_text(path.read_text().replace('"unitKey": "MATH 16 A"', '"unitKey": "MATH 17"'))
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(path, "uk.ac.taff")
    assert caught.value.field == "agreements[0].grant" and "'MATH 17'" in caught.value.problem


def test_a_withdrawn_unit_is_not_in_the_catalogue(tmp_path: Path) -> None:
    units = _units(tmp_path)
    units[0].status = rec.RECORD_STATUS_WITHDRAWN
    with pytest.raises(CatalogueError, match="grants unit 'BIOLOGY 1A'"):
        read_catalogue(
            _file(tmp_path, "ag.csv", AGREEMENTS + "AG1,uk.ac.forth/MC1,BIOLOGY 1A\n"),
            "uk.ac.taff",
            held_units=units,
        )


def test_every_key_of_a_series_grant_must_be_in_the_catalogue(tmp_path: Path) -> None:
    agreement = rec.RecognitionAgreement(
        key="AG1", grant=rec.Grant(units=rec.UnitSeries(unit_keys=["BIOLOGY 1A", "BIOLOGY 1B"]))
    )
    with pytest.raises(CatalogueError) as caught:
        check_granted_units(
            tmp_path / "ag.csv", [Entry(agreement, 4, "", "grant")], _units(tmp_path)
        )
    assert (caught.value.line, caught.value.field) == (4, "grant")
    assert "grants unit 'BIOLOGY 1B'" in caught.value.problem


def test_import_command_refuses_a_missing_unit_and_imports_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = ["--home", str(tmp_path / "agent")]
    assert (
        main([*home, "init", "--institution-id", "uk.ac.taff", "--name", "Taff", "--country", "GB"])
        == 0
    )
    assert main([*home, "import", str(_file(tmp_path, "units.csv", UNITS))]) == 0
    held = _file(tmp_path, "ag.csv", AGREEMENTS + "AG1,uk.ac.forth/MC1,BIOLOGY 1AL\n")
    assert main([*home, "import", str(held)]) == 0
    missing = _file(
        tmp_path,
        "ag2.csv",
        AGREEMENTS + "AG2,uk.ac.forth/MC1,BIOLOGY 1A\nAG3,uk.ac.forth/MC1,CHEM 1\n",
    )
    capsys.readouterr()
    assert main([*home, "import", str(missing)]) == 1
    assert (
        "ag2.csv line 3, field 'grant': agreement AG3 grants unit 'CHEM 1'"
        in capsys.readouterr().err
    )
    store = AgentStore(tmp_path / "agent" / "store.db", "uk.ac.taff")
    assert store.get(rec.RECORD_KIND_AGREEMENT, "AG2") is None
    store.close()


def test_csv_sources_take_the_written_form_with_nested_groups(tmp_path: Path) -> None:
    agreement = _agreement(
        tmp_path,
        AGREEMENTS,
        'AG1,"ALL OF uk.ac.forth/MAT SCI 45, (2 Of '
        'uk.ac.x/BIO 1, uk.ac.x/BIO 2, uk.ac.y/CHEM 1)",BIOLOGY 1A\n',
    )
    assert agreement.source == parse_sources(
        "all of uk.ac.forth/MAT SCI 45, (2 of uk.ac.x/BIO 1, uk.ac.x/BIO 2, uk.ac.y/CHEM 1)"
    )


def test_csv_source_operator_is_read_in_any_case(tmp_path: Path) -> None:
    header = "key,sources,source_operator,grant\n"
    two = _agreement(
        tmp_path, header, "AG1,uk.ac.x/MAT SCI 45 | uk.ac.x/B | uk.ac.x/C,2 OF,BIOLOGY 1A\n"
    )
    assert (two.source.operator, two.source.n) == (rec.GROUP_OPERATOR_N_OF, 2)
    assert two.source.items[0].credential.key == "MAT SCI 45"
    assert (
        _agreement(tmp_path, header, "AG1,uk.ac.x/A,Any Of,BIOLOGY 1A\n").source.operator
        == rec.GROUP_OPERATOR_ANY_OF
    )


@pytest.mark.parametrize(
    ("header", "row", "column", "says"),
    [
        (
            "key,sources,source_operator,grant\n",
            "AG1,uk.ac.x/A,both of,BIOLOGY 1A\n",
            "source_operator",
            "'both of' is not a group operator; use 'all of', 'any of' or 'N of'",
        ),
        (
            AGREEMENTS,
            'AG1,"any of uk.ac.x/A, (some of uk.ac.x/B)",BIOLOGY 1A\n',
            "sources",
            "'some of' is not a group operator; use 'all of', 'any of' or 'N of'",
        ),
        (
            "key,sources,source_operator,grant\n",
            'AG1,"all of uk.ac.x/A, uk.ac.x/B",all of,BIOLOGY 1A\n',
            "source_operator",
            "leave source_operator and source_n empty",
        ),
        (
            AGREEMENTS,
            'AG1,"uk.ac.x/A, uk.ac.x/B",BIOLOGY 1A\n',
            "sources",
            "separate the sources with",
        ),
        (
            AGREEMENTS,
            "AG1,uk.ac.x/A,units BIOLOGY 1A +\n",
            "grant",
            "units BIOLOGY 1A + BIOLOGY 1AL",
        ),
        (
            "key,sources,grant,grant_unit_key\n",
            "AG1,uk.ac.x/A,BIOLOGY 1A,BIOLOGY 1A\n",
            "grant",
            "keep one of them",
        ),
        ("key,sources\n", "AG1,uk.ac.x/A\n", "grant", "is required; write a unit key"),
        (
            "key,sources,grant,minimum_level\n",
            "AG1,uk.ac.x/A,BIOLOGY 1A,FHEQ\n",
            "minimum_level",
            "'FHEQ 7'",
        ),
    ],
)
def test_csv_agreement_mistakes_name_line_column_and_fix(
    tmp_path: Path, header: str, row: str, column: str, says: str
) -> None:
    error = _refusal(tmp_path, header, row)
    assert (error.field, error.line) == (column, 2), error
    assert says in error.problem


def test_csv_agreement_columns_for_what_agreements_say(tmp_path: Path) -> None:
    header = (
        "key,sources,grant,minimum_level,completed_from,completed_to,for_programmes,"
        "restriction_text,additional_requirements,notes,also_satisfies\n"
    )
    agreement = _agreement(
        tmp_path,
        header,
        "AG MAT 1,uk.ac.x/MAT SCI 45,BIOLOGY 1A,EQF 5,"
        "2025-08-01,2027-06-30,GLOBAL STUDIES | IR,For Global Studies majors "
        "only,Also complete MATH 2 | Also complete MATH 3,Taken in person,"
        "AG MAT 2 | AG MAT 3\n",
    )
    cond = agreement.conditions
    assert (cond.completed_from, cond.completed_to) == ("2025-08-01", "2027-06-30")
    assert list(cond.for_programmes) == ["GLOBAL STUDIES", "IR"]
    assert cond.restriction_text == "For Global Studies majors only"
    assert list(cond.additional_requirements) == ["Also complete MATH 2", "Also complete MATH 3"]
    assert list(agreement.notes) == ["Taken in person"]
    assert list(agreement.also_satisfies) == ["AG MAT 2", "AG MAT 3"]
    assert cond.minimum_level == rec.Level(framework="EQF", level="5")


def test_csv_grant_column_takes_a_series_of_units() -> None:
    # The row as the CSV file's columns give it; the core's rules for a series are checked
    # on import (validate_record), not here.
    agreement = kind_of_header(["key", "sources", "grant"]).build(
        {
            "key": "AG1",
            "sources": "uk.ac.x/BIO 1",
            "grant": 'units BIOLOGY 1A + BIOLOGY 1AL "Introductory Biology"',
        },
        "uk.ac.taff",
    )
    assert isinstance(agreement, rec.RecognitionAgreement)
    assert agreement.grant == rec.Grant(
        units=rec.UnitSeries(unit_keys=["BIOLOGY 1A", "BIOLOGY 1AL"], name="Introductory Biology")
    )


def test_csv_learning_unit_may_have_no_level() -> None:
    kind = kind_of_header(["key", "title", "kind", "credit_value", "credit_system"])
    unit = kind.build(
        {
            "key": "MATH 99",
            "title": "Topics",
            "kind": "MODULE",
            "credit_value": "4",
            "credit_system": "US_QUARTER_HOUR",
        },
        "uk.ac.taff",
    )
    assert isinstance(unit, rec.LearningUnit) and not unit.HasField("level")
    with pytest.raises(InvalidRecord) as caught:
        kind.build(
            {
                "key": "M",
                "title": "T",
                "kind": "MODULE",
                "credit_value": "4",
                "credit_system": "US_QUARTER_HOUR",
                "level_framework": "US_DIVISION",
            },
            "uk.ac.taff",
        )
    assert caught.value.field == "level" and "leave both empty" in caught.value.problem


def test_csv_learning_units_keep_cross_listed_keys(tmp_path: Path) -> None:
    [bio, lab] = _units(tmp_path)
    assert (bio.key, list(bio.cross_listed_keys)) == ("BIOLOGY 1A", ["BIO 1A", "BIOL 1A"])
    assert not lab.cross_listed_keys


def test_csv_missing_column_is_named(tmp_path: Path) -> None:
    path = _file(tmp_path, "units.csv", "key,title,kind,credit_value\nM1,T,MODULE,5\n")
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(path, "uk.ac.taff")
    assert (caught.value.line, caught.value.field) == (1, "credit_system")
    assert "is missing: learning units files need the columns" in caught.value.problem


def test_csv_missing_columns_are_named_for_the_kind_the_file_is_most_like(tmp_path: Path) -> None:
    """A micro-credentials file with only three of its columns: it shares 'key' alone with
    an agreements file, which once made it "no record kind" rather than name what to add."""
    path = _file(tmp_path, "mc.csv", "key,awarding_body,country\nMC1,X,GB\n")
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(path, "uk.ac.taff")
    assert caught.value.field == "title"
    assert "micro-credentials files need the columns" in caught.value.problem
    assert "add title, learning_outcomes" in caught.value.problem


def test_csv_unknown_column_is_named(tmp_path: Path) -> None:
    path = _file(tmp_path, "ag.csv", "key,sources,grant,completed_form\n")
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(path, "uk.ac.taff")
    assert caught.value.field == "completed_form"
    assert "is not a column of agreements files" in caught.value.problem
    assert "completed_from" in caught.value.problem


@pytest.mark.parametrize("name", ["units.csv", "units.json"])
def test_a_bad_byte_is_reported_on_its_line(tmp_path: Path, name: str) -> None:
    text = UNITS if name.endswith(".csv") else '{\n"learning_units": [\n{"key": "A"}]}\n'
    lines = text.encode().split(b"\n")
    lines[2] = lines[2].replace(b"A", b"\xe9", 1)  # Latin-1 é, as a spreadsheet may save it
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(_file(tmp_path, name, b"\n".join(lines)), "uk.ac.taff")
    assert caught.value.line == 3
    assert "byte 0xe9 is not UTF-8 text" in caught.value.problem


@pytest.mark.parametrize("ending", ["\r", "\r\n"])
def test_a_bad_byte_is_reported_on_its_line_whatever_the_line_endings(
    tmp_path: Path, ending: str
) -> None:
    lines = UNITS.encode().split(b"\n")
    lines[2] = lines[2].replace(b"Biology", b"Bi\xe9logy", 1)
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(_file(tmp_path, "units.csv", ending.encode().join(lines)), "uk.ac.taff")
    assert caught.value.line == 3


@pytest.mark.parametrize("name", ["units.csv", "units.json"])
def test_a_file_with_a_utf8_byte_order_mark_is_read(tmp_path: Path, name: str) -> None:
    text = (
        UNITS
        if name.endswith(".csv")
        else (
            '{"learning_units": [{"key": "A", "title": "Biology", '
            '"kind": "LEARNING_UNIT_KIND_MODULE",'
            ' "credit": {"value": 5, "system": "ECTS"}}]}'
        )
    )
    records = read_catalogue(_file(tmp_path, name, b"\xef\xbb\xbf" + text.encode()), "uk.ac.taff")
    assert records


def test_json_nested_100000_deep_is_refused_by_name_not_a_recursion_error(tmp_path: Path) -> None:
    path = _file(tmp_path, "deep.json", '{"agreements": [' + "[" * 100_000 + "]" * 100_000 + "]}")
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(path, "uk.ac.taff")
    assert "more than 100 deep" in caught.value.problem
    assert caught.value.line == 1


@pytest.mark.parametrize("command", [["import"], ["import-badge"], ["import-elm"]])
def test_import_commands_refuse_a_too_deep_json_file_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    home = ["--home", str(tmp_path / "agent")]
    assert (
        main([*home, "init", "--institution-id", "uk.ac.taff", "--name", "Taff", "--country", "GB"])
        == 0
    )
    path = _file(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000)
    extra = {"import-elm": ["--key", "K"], "import-badge": ["--key", "K"]}.get(command[0], [])
    assert main([*home, *command, str(path), *extra]) != 0
    err = capsys.readouterr().err
    assert "more than 100 deep" in err and "Traceback" not in err


def test_json_import_takes_the_new_fields(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "catalogue.json",
        json.dumps(
            {
                "learning_units": [
                    {
                        "key": "BIOLOGY 1A",
                        "title": "Biology",
                        "kind": "LEARNING_UNIT_KIND_MODULE",
                        "credit": {"value": 5, "system": "US_SEMESTER_HOUR"},
                        "level": {"framework": "EQF", "level": "5"},
                        "crossListedKeys": ["BIO 1A"],
                    }
                ],
                "agreements": [
                    {
                        "key": "AG BIO 1",
                        "source": {
                            "operator": "GROUP_OPERATOR_ALL_OF",
                            "items": [
                                {"credential": {"institutionId": "uk.ac.x", "key": "BIOL 1"}}
                            ],
                        },
                        "grant": {"unitKey": "BIOLOGY 1A"},
                        "conditions": {
                            "completedFrom": "2025-08-01",
                            "completedTo": "2027-06-30",
                            "forProgrammes": ["GLOBAL STUDIES"],
                            "restrictionText": "Global Studies majors only",
                            "additionalRequirements": ["Also complete MATH 2"],
                        },
                        "notes": ["Lab included"],
                        "alsoSatisfies": ["AG BIO 2"],
                    }
                ],
            }
        ),
    )
    unit, agreement = read_catalogue(path, "uk.ac.taff")
    assert isinstance(unit, rec.LearningUnit) and list(unit.cross_listed_keys) == ["BIO 1A"]
    assert isinstance(agreement, rec.RecognitionAgreement)
    cond = agreement.conditions
    assert (cond.completed_from, cond.completed_to) == ("2025-08-01", "2027-06-30")
    assert list(cond.for_programmes) == ["GLOBAL STUDIES"]
    assert cond.restriction_text == "Global Studies majors only"
    assert list(cond.additional_requirements) == ["Also complete MATH 2"]
    assert (list(agreement.notes), list(agreement.also_satisfies)) == (
        ["Lab included"],
        ["AG BIO 2"],
    )


def test_the_catalogue_page_documents_every_csv_column() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "catalogue.md").read_text()
    section = page[page.index("## Catalogue files") : page.index("## A real agreement")]
    undocumented = [
        f"{kind.name}: {column}"
        for kind in CSV_KINDS
        for column in kind.columns()
        if f"`{column}`" not in section
    ]
    assert not undocumented


def _one(tmp_path: Path, name: str, text: str) -> Record:
    [record] = read_catalogue(_file(tmp_path, name, text), "uk.ac.taff")
    return record


def _refused(tmp_path: Path, name: str, text: str) -> CatalogueError:
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(_file(tmp_path, name, text), "uk.ac.taff")
    return caught.value


@pytest.mark.parametrize(
    ("cell", "stated", "value"),
    [("", False, False), ("yes", True, True), ("no", True, False), ("N", True, False)],
)
def test_csv_yes_no_of_a_micro_credential_is_unset_when_the_cell_is_empty(
    tmp_path: Path, cell: str, stated: bool, value: bool
) -> None:
    header = HEADER.replace("\n", ",stackable,identity_verified_assessment\n")
    mc = _one(
        tmp_path,
        "mc.csv",
        header + ROW.format(key="A1", credit=10).replace("\n", f",{cell},{cell}\n"),
    )
    assert isinstance(mc, rec.MicroCredential)
    assert mc.HasField("stackable") == stated and mc.stackable == value
    assert mc.HasField("identity_verified_assessment") == stated
    assert mc.identity_verified_assessment == value


def test_csv_micro_credential_states_quality_assurance_successor_and_overlaps(
    tmp_path: Path,
) -> None:
    header = HEADER.replace("\n", ",status,quality_assurances,superseded_by,overlaps_with\n")
    row = ROW.format(key="A1", credit=10).replace(
        "\n",
        ',SUPERSEDED,"QAA Scotland '
        "<https://www.qaa.ac.uk>; INSTITUTIONAL_REVIEW;"
        " 2023-05-01; https://www.qaa.ac.uk/r/1 | BCS;"
        " professional body recognition; 2024-01-10;"
        ' until 2029-01-09",A2,uk.ac.taff/CS 101 | '
        "uk.ac.x/M1\n",
    )
    mc = _one(tmp_path, "mc.csv", header + row)
    assert isinstance(mc, rec.MicroCredential)
    assert list(mc.quality_assurances) == [
        rec.QualityAssurance(
            body="QAA Scotland",
            body_id="https://www.qaa.ac.uk",
            kind=rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW,
            date="2023-05-01",
            reference="https://www.qaa.ac.uk/r/1",
        ),
        rec.QualityAssurance(
            body="BCS",
            kind=rec.QUALITY_ASSURANCE_KIND_PROFESSIONAL_BODY_RECOGNITION,
            date="2024-01-10",
            valid_until="2029-01-09",
        ),
    ]
    assert (mc.status, mc.superseded_by) == (rec.RECORD_STATUS_SUPERSEDED, "A2")
    assert list(mc.overlaps_with) == [
        rec.CredentialRef(institution_id="uk.ac.taff", key="CS 101"),
        rec.CredentialRef(institution_id="uk.ac.x", key="M1"),
    ]


QUALIFICATION = (
    "key,title,kind,credit_value,credit_system,level_framework,level,"
    "learning_outcomes,grading_scheme,total_credit,credit_at_levels,"
    "mandatory_unit_keys,max_from_elsewhere,max_experiential,residency,"
    "relevant_subjects_isced,programme_unit_keys,max_credit_age_months,"
    "regulations_source\n"
)
QUALIFICATION_ROW = (
    "F1DS-MSC,MSc Data Science,QUALIFICATION,180,SCQF,SCQF,11,,,180 SCQF,"
    "150 SCQF at SCQF 11,F1DS-DIS,120 SCQF or 2/3,30 SCQF,"
    "60 SCQF at SCQF 11 | 20 SCQF,06 | 0541,F1DS-OPT,60,RPL policy s. 3\n"
)


def test_csv_qualification_states_its_stacking_rule_and_regulations(tmp_path: Path) -> None:
    unit = _one(tmp_path, "units.csv", QUALIFICATION + QUALIFICATION_ROW)
    assert isinstance(unit, rec.LearningUnit)
    rule, regs = unit.stacking_rule, unit.stacking_rule.regulations
    assert rule.total == rec.Credit(value=180, system="SCQF")
    assert [format_requirement(r) for r in rule.at_levels] == ["150 SCQF at SCQF 11"]
    assert list(rule.mandatory_unit_keys) == ["F1DS-DIS"]
    assert regs.max_from_elsewhere == rec.CreditLimit(
        credit=rec.Credit(value=120, system="SCQF"), share=2 / 3
    )
    assert not regs.max_experiential.HasField("share")
    assert [format_requirement(r) for r in regs.residency] == ["60 SCQF at SCQF 11", "20 SCQF"]
    assert (list(regs.relevant_subjects_isced), list(regs.programme_unit_keys)) == (
        ["06", "0541"],
        ["F1DS-OPT"],
    )
    assert (regs.max_credit_age_months, regs.source) == (60, "RPL policy s. 3")


def test_csv_module_states_learning_outcomes_and_grading_and_no_stacking_rule(
    tmp_path: Path,
) -> None:
    unit = _one(
        tmp_path,
        "units.csv",
        QUALIFICATION + "F1DS-DIS,Dissertation,MODULE,60,SCQF,"
        "SCQF,11,Plan a study | Write it up,UK_LETTER,,,,,,,,,,\n",
    )
    assert isinstance(unit, rec.LearningUnit) and not unit.HasField("stacking_rule")
    assert list(unit.learning_outcomes) == ["Plan a study", "Write it up"]
    assert unit.grading_scheme == "UK_LETTER"


def test_csv_agreement_requires_quality_assurance_and_states_a_volume_exception(
    tmp_path: Path,
) -> None:
    header = (
        "key,sources,grant,required_quality_assurance_bodies,"
        "required_quality_assurance_kinds,volume_exception\n"
    )
    agreement = _agreement(
        tmp_path,
        header,
        "AG1,uk.ac.x/HND 1,BIOLOGY 1A,QAA Scotland | "
        "https://www.eqar.eu/a/52,institutional review | "
        "PROGRAMME_ACCREDITATION,An HND articulates to year 3\n",
    )
    required = agreement.conditions.required_quality_assurance
    assert list(required.bodies) == ["QAA Scotland", "https://www.eqar.eu/a/52"]
    assert list(required.kinds) == [
        rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW,
        rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION,
    ]
    assert agreement.volume_exception == "An HND articulates to year 3"
    plain = _agreement(tmp_path, header, "AG1,uk.ac.x/HND 1,BIOLOGY 1A,,,\n")
    assert not plain.conditions.HasField("required_quality_assurance")


MC_NEW = HEADER.replace("\n", ",stackable,quality_assurances,superseded_by,overlaps_with\n")


def _mc_row(**cells: str) -> str:
    """A micro-credentials file of one row with the new columns, as cells gives them."""
    values = {
        "stackable": "",
        "quality_assurances": "",
        "superseded_by": "",
        "overlaps_with": "",
        **cells,
    }
    return MC_NEW + ROW.format(key="A1", credit=10).replace(
        "\n", "," + ",".join(f'"{v}"' for v in values.values()) + "\n"
    )


def _qualification(**cells: str) -> str:
    """A learning units file of QUALIFICATION_ROW with cells changed."""
    columns = QUALIFICATION.strip().split(",")
    values = dict(zip(columns, QUALIFICATION_ROW.strip().split(","), strict=True))
    return QUALIFICATION + ",".join(f'"{v}"' for v in {**values, **cells}.values()) + "\n"


@pytest.mark.parametrize(
    ("name", "text", "column", "says"),
    [
        (
            "mc.csv",
            _mc_row(stackable="sometimes"),
            "stackable",
            "'sometimes' is not yes or no; leave the cell empty where it is not stated",
        ),
        (
            "mc.csv",
            _mc_row(quality_assurances="QAA Scotland; 2023-05-01"),
            "quality_assurances",
            "write body; KIND; YYYY-MM-DD",
        ),
        (
            "mc.csv",
            _mc_row(quality_assurances="QAA; INSTITUTIONAL_REVIEW; 1 May 2023"),
            "quality_assurances[0].date",
            "is not a date in the form YYYY-MM-DD",
        ),
        (
            "mc.csv",
            _mc_row(superseded_by="A1"),
            "superseded_by",
            "is the record's own key; name the record that replaces it",
        ),
        (
            "mc.csv",
            _mc_row(overlaps_with="CS 101"),
            "overlaps_with",
            "'CS 101' is not provider/key, e.g. uk.ac.forth/FOR-PY01",
        ),
        (
            "units.csv",
            _qualification(learning_outcomes=" | ", grading_scheme="A-F"),
            "grading_scheme",
            "'A-F' is not a grading scheme; use one of",
        ),
        (
            "units.csv",
            _qualification(total_credit=""),
            "total_credit",
            "is empty but credit_at_levels is set; a qualification's stacking rule and regulations "
            "need its total credit, e.g. '360 SCQF'",
        ),
        (
            "units.csv",
            _qualification(credit_at_levels="150 SCQF at 11"),
            "credit_at_levels",
            "write the framework and the level, e.g. 'FHEQ 7'",
        ),
        (
            "units.csv",
            _qualification(mandatory_unit_keys="F1DS  DIS"),
            "mandatory_unit_keys",
            "[0] 'F1DS  DIS' is not a valid key",
        ),
        (
            "units.csv",
            _qualification(max_from_elsewhere="3/2"),
            "max_from_elsewhere",
            "share is 1.5; give 0, or a share from 0.0001 to 1 (2/3 is 0.6667)",
        ),
        (
            "units.csv",
            _qualification(max_experiential="a third"),
            "max_experiential",
            "'a third' is not credit; write the value and the credit system",
        ),
        (
            "units.csv",
            _qualification(residency="200 SCQF"),
            "residency",
            "requires 200 SCQF studied here, more than the award's total 180; correct the credit",
        ),
        (
            "units.csv",
            _qualification(relevant_subjects_isced="computing"),
            "relevant_subjects_isced",
            "[0] 'computing' is not an ISCED-F code such as '0613'",
        ),
        (
            "units.csv",
            _qualification(programme_unit_keys="F1DS-OPT | F1DS-OPT"),
            "programme_unit_keys",
            "[1] repeats 'F1DS-OPT'; name each once",
        ),
        (
            "units.csv",
            _qualification(max_credit_age_months="5 years"),
            "max_credit_age_months",
            "'5 years' is not a whole number",
        ),
        (
            "units.csv",
            _qualification(regulations_source="x" * 2001),
            "regulations_source",
            "is 2001 characters long; the limit is 2000",
        ),
        (
            "units.csv",
            _qualification(kind="MODULE"),
            "total_credit",
            "stacking_rule is only for a QUALIFICATION; remove it from a module",
        ),
        (
            "ag.csv",
            "key,sources,grant,required_quality_assurance_kinds\nAG1,uk.ac.x/A,BIOLOGY 1A,ELIR\n",
            "required_quality_assurance_kinds",
            "'ELIR' is not a kind of quality assurance; use INSTITUTIONAL_REVIEW",
        ),
        (
            "ag.csv",
            'key,sources,grant,required_quality_assurance_bodies\nAG1,uk.ac.x/A,BIOLOGY 1A," | "\n',
            "",
            "",
        ),
        (
            "ag.csv",
            f"key,sources,grant,volume_exception\nAG1,uk.ac.x/A,BIOLOGY 1A,{'x' * 2001}\n",
            "volume_exception",
            "is 2001 characters long; the limit is 2000",
        ),
    ],
)
def test_csv_bad_new_column_names_the_row_the_column_and_the_fix(
    tmp_path: Path, name: str, text: str, column: str, says: str
) -> None:
    if not column:  # nothing stated: an empty list is no requirement, not an error
        [agreement] = read_catalogue(
            _file(tmp_path, name, text), "uk.ac.taff", held_units=_units(tmp_path)
        )
        assert isinstance(agreement, rec.RecognitionAgreement)
        assert not agreement.conditions.HasField("required_quality_assurance")
        return
    error = (
        _refused(tmp_path, name, text)
        if name != "ag.csv"
        else _refusal(tmp_path, text.split("\n")[0] + "\n", text.split("\n", 1)[1])
    )
    assert (error.line, error.field) == (2, column), error
    assert says in error.problem
    assert f"line 2, field '{column}'" in str(error)
