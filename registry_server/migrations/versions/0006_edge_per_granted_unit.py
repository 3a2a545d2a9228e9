"""agreement_edge: one row per source credential and granted unit

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

A grant may name several of the recogniser's units together (a series, issue 18), and the
edge index then holds a row for each source credential and each unit, so the unit's key
joins the primary key. An edge of an agreement granting one unit, or general credit (''),
is one row as before: existing edges keep their meaning and are copied unchanged. SQLite
rebuilds the table (and its indexes) to change the key; PostgreSQL rebuilds the key's index.
Either reads the table once; downgrading fails if some agreement has a series grant (two
rows for one source), which the older key cannot hold: withdraw such agreements first.
"""

import warnings

from alembic import op
from sqlalchemy.exc import SAWarning

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_KEY = ["institution_id", "agreement_key", "source_institution_id", "source_key"]
# PostgreSQL's name for the table's key (SQLite's is unnamed).
_PG_KEY = "agreement_edge_pkey"


def _key(columns: list[str]) -> None:
    if op.get_context().dialect.name == "sqlite":
        # The rebuilt table's columns still carry the old key's flags, which the new key
        # replaces, as SQLAlchemy warns it does: that replacement is the point here.
        with (
            warnings.catch_warnings(action="ignore", category=SAWarning),
            op.batch_alter_table("agreement_edge", schema=None, recreate="always") as batch_op,
        ):
            batch_op.create_primary_key(_PG_KEY, columns)
    else:
        op.drop_constraint(_PG_KEY, "agreement_edge", type_="primary")
        op.create_primary_key(_PG_KEY, "agreement_edge", columns)


def upgrade() -> None:
    _key([*_KEY, "grant_unit_key"])


def downgrade() -> None:
    _key(_KEY)
