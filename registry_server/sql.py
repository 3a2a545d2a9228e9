"""Dialect-aware SQL pieces shared by the registry's storage modules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel


def table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined, no-any-return]


def upsert(connection: Connection, model: type[SQLModel], keys: list[str]) -> Any:
    """INSERT … ON CONFLICT (keys) DO UPDATE every other column, for executemany."""
    t = table(model)
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(t)
    updates = {c.name: stmt.excluded[c.name] for c in t.columns if c.name not in keys}
    return stmt.on_conflict_do_update(index_elements=keys, set_=updates)


def for_update(connection: Connection, select: Any) -> Any:
    """Row lock on PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write lock."""
    return select.with_for_update() if connection.dialect.name == "postgresql" else select

