"""Set-based writes for the ingest hot path, one statement per table per batch.

SQLite: the driver's executemany with one prepared upsert. PostgreSQL: COPY into a
session-local staging table, then one INSERT … SELECT … ON CONFLICT DO UPDATE, which is how
PostgreSQL loads many rows fastest while still upserting. Rows are tuples in the table's
column order (see `columns`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection
from sqlmodel import SQLModel

from registry_server.sql import table


def timestamp(connection: Connection, when: dt.datetime) -> object:
    """A timestamp as the driver path below stores it: SQLite keeps SQLAlchemy's own text
    form (UTC, so SQLAlchemy reads it back), PostgreSQL takes the aware datetime."""
    if connection.dialect.name == "postgresql":
        return when
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@cache
def columns(model: type[SQLModel]) -> tuple[str, ...]:
    return tuple(c.name for c in table(model).columns)


def upsert(
    connection: Connection,
    model: type[SQLModel],
    keys: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """Insert rows, replacing every non-key column of rows whose keys exist."""
    if not rows:
        return
    name = table(model).name
    cols = columns(model)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
    conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    if connection.dialect.name == "postgresql":
        stage = _stage(connection, name)
        _copy(connection, stage, cols, rows)
        connection.exec_driver_sql(
            f"INSERT INTO {name} ({', '.join(cols)}) SELECT "
            f"{', '.join(cols)} FROM {stage} {conflict}"
        )
        return
    marks = ", ".join("?" for _ in cols)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({marks}) {conflict}", rows)


def insert(connection: Connection, model: type[SQLModel], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert rows that do not exist yet."""
    if not rows:
        return
    name = table(model).name
    cols = columns(model)
    if connection.dialect.name == "postgresql":
        _copy(connection, name, cols, rows)
        return
    marks = ", ".join("?" for _ in cols)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({marks})", rows)


def _stage(connection: Connection, name: str) -> str:
    stage = f"stage_{name}"
    # Session-local and emptied at every commit, so concurrent registries never see each
    # other's rows and a failed batch leaves nothing behind.
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {name}) ON COMMIT DELETE ROWS"
    )
    return stage


def _copy(
    connection: Connection, name: str, cols: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        with cursor.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def keyed_versions(
    connection: Connection,
    model: type[SQLModel],
    institution_id: str,
    kind: int,
    keys: Sequence[str],
) -> list[tuple[str, int]]:
    """(key, version) of the institution's records of one kind with these keys: an index
    range per key on the primary key (institution_id, kind, key)."""
    return keyed(connection, model, institution_id, kind, keys, "version")


def keyed(
    connection: Connection,
    model: type[SQLModel],
    institution_id: str,
    kind: int,
    keys: Sequence[str],
    column: str,
) -> list[tuple[str, int]]:
    """(key, column's value) of the institution's records of one kind with these keys, as
    keyed_versions reads them."""
    name = table(model).name
    if not keys:
        return []
    if connection.dialect.name == "postgresql":
        # One primary-key probe per key, as a scalar subquery, whatever the table's statistics
        # say: with `key = ANY(...)` or a join, a freshly loaded table (statistics not yet
        # gathered) was scanned for the whole institution on every batch.
        result = connection.exec_driver_sql(
            f"SELECT wanted.key, (SELECT r.{column} FROM {name} r WHERE r.institution_id = "
            "%(i)s AND r.kind = %(t)s AND r.key = wanted.key) FROM unnest(%(k)s::text[]) AS "
            "wanted(key)",
            {"i": institution_id, "t": kind, "k": list(keys)},
        )
        return [(row[0], row[1]) for row in result if row[1] is not None]
    found: list[tuple[str, int]] = []
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    for start in range(0, len(keys), 900):  # SQLite's default limit is 999 variables
        chunk = keys[start : start + 900]
        cursor.execute(
            f"SELECT key, {column} FROM {name} WHERE institution_id = ? AND kind = ? "
            f"AND key IN ({', '.join('?' for _ in chunk)})",
            [institution_id, kind, *chunk],
        )
        found += cursor.fetchall()
    return found
