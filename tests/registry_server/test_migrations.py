"""The Alembic migrations build exactly the tables the code declares, and undo cleanly."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

from registry_server.db import alembic_config, upgrade


def test_upgraded_schema_has_no_drift(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], f"tables.py and the migrations disagree; add a migration: {diff}"


def test_a_schema_a_newer_release_migrated_is_left_unchanged_and_served_with_a_warning(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """During a rolling upgrade a registry of the release before restarts after the new
    release migrated the shared database: it starts (migrations only expand) and says so."""
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_newer'"))
    with caplog.at_level(logging.WARNING, logger="registry_server.db"):
        upgrade(engine)
    assert "schema is at migration 0099_newer, which this release does not have" in caplog.text
    with engine.connect() as connection:
        assert (
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            == "0099_newer"
        )


def test_downgrade_removes_every_table(engine: Engine) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}


def test_upgrading_to_the_covering_edge_index_keeps_every_edge(engine: Engine) -> None:
    """A registry of 0004's schema, with edges, upgrades to the covering index (0005) and
    back: every edge is still there, and the index has the columns each revision declares."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    edge = ("uk.ac.taff", "AG1", "uk.ac.forth", "MC1", "CS7DE", 2, True)

    def migrate(step: Callable[..., None], revision: str) -> None:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, revision)

    def edges_and_index() -> tuple[list[tuple[object, ...]], list[str | None]]:
        with engine.connect() as connection:
            rows = [
                tuple(row)
                for row in connection.execute(
                    text(
                        "SELECT institution_id, agreement_key, source_institution_id, source_key, "
                        "grant_unit_key, status, transitive_allowed FROM agreement_edge"
                    )
                )
            ]
        index = next(
            i
            for i in inspect(engine).get_indexes("agreement_edge")
            if i["name"] == "ix_agreement_edge_source_publisher"
        )
        return rows, list(index["column_names"])

    migrate(command.downgrade, "0004")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO agreement_edge VALUES (:a, :b, :c, :d, :e, :f, :g)"),
            dict(zip("abcdefg", edge)),
        )
    by_source = ["source_institution_id", "source_key", "institution_id", "agreement_key"]
    assert edges_and_index() == ([edge], by_source)
    migrate(command.upgrade, "head")
    assert edges_and_index() == (
        [edge],
        [*by_source, "grant_unit_key", "status", "transitive_allowed"],
    )
    migrate(command.downgrade, "0004")
    assert edges_and_index() == ([edge], by_source)
    migrate(command.upgrade, "head")


def _migrate(engine: Engine, step: Callable[..., None], revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        step(config, revision)


def _edges(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return sorted(
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT institution_id, agreement_key, source_institution_id, source_key, "
                    "grant_unit_key, status, transitive_allowed FROM agreement_edge"
                )
            )
        )


def test_upgrading_to_an_edge_per_granted_unit_keeps_every_edge(engine: Engine) -> None:
    """A registry of 0005's schema, with edges of a unit grant and of general credit,
    upgrades to 0006: the edges are unchanged, the key gains grant_unit_key so a series
    grant's rows (one source, two units) fit, and the covering index is as 0005 left it.
    Downgrading (with the series withdrawn) restores the old key with the edges."""
    edges = [
        ("uk.ac.taff", "AG1", "uk.ac.forth", "MC1", "CS7DE", 2, True),
        ("uk.ac.taff", "AG2", "uk.ac.forth", "MC1", "", 2, False),
    ]
    old_key = ["institution_id", "agreement_key", "source_institution_id", "source_key"]
    covering = [
        i["column_names"]
        for i in inspect(engine).get_indexes("agreement_edge")
        if i["name"] == "ix_agreement_edge_source_publisher"
    ]

    _migrate(engine, command.downgrade, "0005")
    assert inspect(engine).get_pk_constraint("agreement_edge")["constrained_columns"] == old_key
    with engine.begin() as connection:
        for edge in edges:
            connection.execute(
                text("INSERT INTO agreement_edge VALUES (:a, :b, :c, :d, :e, :f, :g)"),
                dict(zip("abcdefg", edge)),
            )
    _migrate(engine, command.upgrade, "head")
    assert _edges(engine) == sorted(edges)
    assert inspect(engine).get_pk_constraint("agreement_edge")["constrained_columns"] == [
        *old_key,
        "grant_unit_key",
    ]
    assert [
        i["column_names"]
        for i in inspect(engine).get_indexes("agreement_edge")
        if i["name"] == "ix_agreement_edge_source_publisher"
    ] == covering
    series = [
        ("uk.ac.taff", "AG3", "uk.ac.forth", "MC1", unit, 2, False) for unit in ("BIO1A", "BIO1AL")
    ]
    with engine.begin() as connection:
        for edge in series:
            connection.execute(
                text("INSERT INTO agreement_edge VALUES (:a, :b, :c, :d, :e, :f, :g)"),
                dict(zip("abcdefg", edge)),
            )
        connection.execute(text("DELETE FROM agreement_edge WHERE agreement_key = 'AG3'"))
    _migrate(engine, command.downgrade, "0005")
    assert _edges(engine) == sorted(edges)
    assert inspect(engine).get_pk_constraint("agreement_edge")["constrained_columns"] == old_key
    _migrate(engine, command.upgrade, "head")


def test_upgrading_to_unit_codes_lists_the_codes_of_published_units(engine: Engine) -> None:
    """Units published before 0007 (here: published at head, then the table dropped by a
    downgrade) get their cross-listed codes on upgrading; a withdrawn unit gets none."""
    from registry.v1 import records_pb2 as rec
    from registry_core.envelope import Ed25519Signer
    from registry_server import directory, publication
    from tests.factories import batch, module, signed

    signer = Ed25519Signer.generate()
    directory.enrol(engine, "uk.ac.taff", "Taff", "GB", signer.public_key)
    publication.publish(
        engine,
        signed(
            batch(
                "uk.ac.taff",
                [
                    module(key="BIO1", cross_listed_keys=["ENV1", "ECO1"]),
                    module(key="CHEM1"),
                    module(
                        key="OLD1", cross_listed_keys=["OLD2"], status=rec.RECORD_STATUS_WITHDRAWN
                    ),
                ],
            ),
            signer,
        ),
    )

    def codes() -> list[tuple[object, ...]]:
        with engine.connect() as connection:
            return sorted(
                tuple(row)
                for row in connection.execute(
                    text("SELECT institution_id, code, unit_key FROM unit_code")
                )
            )

    expected = [("uk.ac.taff", "ECO1", "BIO1"), ("uk.ac.taff", "ENV1", "BIO1")]
    assert codes() == expected
    _migrate(engine, command.downgrade, "0006")
    assert "unit_code" not in inspect(engine).get_table_names()
    _migrate(engine, command.upgrade, "head")
    assert codes() == expected


def test_records_stored_before_issue_19_keep_their_meaning(engine: Engine) -> None:
    """A registry at 0006's schema holding records as the code before issue 19 serialised
    them (tests/fixtures/records_before_issue_19.json; no table changed for its fields, which
    live in the payloads) upgrades to head and answers as it did: the unit codes are listed
    from the old payloads; MC1's stated identity verification and MC2's, which proto3 wrote
    as nothing when false, leave the question's claim deciding as before; MC2's false
    "stackable", likewise written as nothing, is not stated, so its credit still stacks."""
    import json

    from registry.v1 import equivalence_pb2 as eq
    from registry.v1 import records_pb2 as rec
    from registry_server import equivalence
    from tests.conftest import FIXTURES
    from tests.factories import holding

    stored = json.loads((FIXTURES / "records_before_issue_19.json").read_text())["records"]
    _migrate(engine, command.downgrade, "0006")
    with engine.begin() as connection:
        for seq, row in enumerate(stored, 1):
            connection.execute(
                text(
                    "INSERT INTO published_record (institution_id, kind, key, version, status, "
                    "seq, "
                    "log_index, payload, updated_at) VALUES (:i, :k, :key, 1, :s, :seq, 0, :p, "
                    "CURRENT_TIMESTAMP)"
                ),
                {
                    "i": row["institution_id"],
                    "k": row["kind"],
                    "key": row["key"],
                    "s": rec.RECORD_STATUS_ACTIVE,
                    "seq": seq,
                    "p": bytes.fromhex(row["payload"]),
                },
            )
        for agreement, source, unit in (("AG1", "MC1", "CS7DE"), ("AG2", "MC2", "CS7PR")):
            connection.execute(
                text("INSERT INTO agreement_edge VALUES (:a, :b, :c, :d, :e, :f, :g)"),
                dict(
                    zip(
                        "abcdefg",
                        (
                            "uk.ac.taff",
                            agreement,
                            "uk.ac.forth",
                            source,
                            unit,
                            rec.RECORD_STATUS_ACTIVE,
                            False,
                        ),
                    )
                ),
            )
    _migrate(engine, command.upgrade, "head")
    with engine.connect() as connection:
        assert [
            tuple(r)
            for r in connection.execute(
                text("SELECT institution_id, code, unit_key FROM unit_code")
            )
        ] == [("uk.ac.taff", "DS7DE", "CS7DE")]

    def resolve(*holdings: eq.Holding) -> eq.ResolveTransferResponse:
        return equivalence.resolve_transfer(
            engine,
            eq.ResolveTransferRequest(
                holdings=holdings, target_institution_id="uk.ac.taff", as_of="2026-01-15"
            ),
        )

    verified = resolve(holding(), holding(key="MC2"))
    assert [(g.grant.unit_key, g.credit.value, g.credit.system) for g in verified.grants] == [
        ("CS7DE", 15, "UK_CREDIT"),
        ("CS7PR", 15, "UK_CREDIT"),
    ]
    unverified = resolve(holding(key="MC2", identity_verified=False))
    assert not unverified.grants
    [refused] = unverified.not_applied
    assert refused.reason == eq.NOT_APPLIED_REASON_IDENTITY_NOT_VERIFIED
    pathway = equivalence.evaluate_pathway(
        engine,
        eq.EvaluatePathwayRequest(
            holdings=[holding(), holding(key="MC2")],
            as_of="2026-01-15",
            qualification=rec.CredentialRef(institution_id="uk.ac.taff", key="MSC"),
        ),
    )
    assert [g.grant.unit_key for g in pathway.counted] == ["CS7DE", "CS7PR"]
    assert (pathway.achieved.value, pathway.remaining.value) == (30, 150)
    assert not pathway.remaining_mandatory_unit_keys and not pathway.limited_by
