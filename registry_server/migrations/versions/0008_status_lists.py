"""status_list: institutions' revocation lists of the credentials they issue to learners

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Issue 20: an institution issues learners' achievements as Open Badges 3.0 credentials and
publishes their revocation as a W3C Bitstring Status List through the registry, which keeps
the current signed list of each id (ADR 12). Nothing to fill: no list existed before.
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_list",
        sa.Column("list_id", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("institution_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("list_id"),
    )
    with op.batch_alter_table("status_list", schema=None) as batch_op:
        batch_op.create_index("ix_status_list_institution_id", ["institution_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("status_list", schema=None) as batch_op:
        batch_op.drop_index("ix_status_list_institution_id")
    op.drop_table("status_list")
