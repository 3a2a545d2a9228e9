"""The Alembic migrations build exactly the tables the code declares, and undo cleanly."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

from registry_server.db import alembic_config


def test_upgraded_schema_has_no_drift(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], f"tables.py and the migrations disagree; add a migration: {diff}"


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
            rows = [tuple(row) for row in connection.execute(text(
                "SELECT institution_id, agreement_key, source_institution_id, source_key, "
                "grant_unit_key, status, transitive_allowed FROM agreement_edge"))]
        index = next(i for i in inspect(engine).get_indexes("agreement_edge")
                     if i["name"] == "ix_agreement_edge_source_publisher")
        return rows, list(index["column_names"])

    migrate(command.downgrade, "0004")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO agreement_edge VALUES (:a, :b, :c, :d, :e, :f, :g)"),
            dict(zip("abcdefg", edge)))
    by_source = ["source_institution_id", "source_key", "institution_id", "agreement_key"]
    assert edges_and_index() == ([edge], by_source)
    migrate(command.upgrade, "head")
    assert edges_and_index() == (
        [edge], [*by_source, "grant_unit_key", "status", "transitive_allowed"])
    migrate(command.downgrade, "0004")
    assert edges_and_index() == ([edge], by_source)
    migrate(command.upgrade, "head")
