"""Dialect-aware SQL pieces shared by the registry's storage modules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlmodel import SQLModel


def table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined, no-any-return]


def for_update(connection: Connection, select: Any) -> Any:
    """Row lock on PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write lock."""
    return select.with_for_update() if connection.dialect.name == "postgresql" else select
