"""unit_code: the other codes a learning unit is offered under

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

A learning unit may list cross_listed_keys (issue 18): codes under which the same unit is
offered. The registry keeps them in a table of their own, (institution, code, unit key), so
that ListSources finds the agreements granting a unit under any of its codes (ADR 0010).
Filled here from the units already published and not withdrawn: only units published since
the field was added can list codes, so most registries get no rows; the units' payloads are
read once (the 1,000,000-agreement synthetic network has 10,000 units).
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from registry.v1 import records_pb2 as rec

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    unit_code = op.create_table(
        "unit_code",
        sa.Column("institution_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("unit_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.PrimaryKeyConstraint("institution_id", "code", "unit_key"),
    )
    with op.batch_alter_table("unit_code", schema=None) as batch_op:
        batch_op.create_index("ix_unit_code_unit", ["institution_id", "unit_key"], unique=False)
    units = op.get_bind().execute(
        sa.text("SELECT payload FROM published_record WHERE kind = :kind AND status <> :withdrawn"),
        {"kind": rec.RECORD_KIND_LEARNING_UNIT, "withdrawn": rec.RECORD_STATUS_WITHDRAWN},
    )
    rows = [
        {"institution_id": unit.institution_id, "code": code, "unit_key": unit.key}
        for unit in (rec.LearningUnit.FromString(bytes(row[0])) for row in units)
        for code in dict.fromkeys(unit.cross_listed_keys)
        if code != unit.key
    ]
    if rows:
        op.bulk_insert(unit_code, rows)


def downgrade() -> None:
    with op.batch_alter_table("unit_code", schema=None) as batch_op:
        batch_op.drop_index("ix_unit_code_unit")
    op.drop_table("unit_code")
