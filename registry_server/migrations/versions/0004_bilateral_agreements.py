"""bilateral agreements

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bilateral_event",
        sa.Column("event_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("agreement_id", sqlmodel.sql.sqltypes.AutoString(length=260), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("party_a", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("party_b", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("action", sa.Integer(), nullable=False),
        sa.Column("state_after", sa.Integer(), nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("bilateral_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bilateral_event_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index("ix_bilateral_event_parties", ["party_a", "party_b"], unique=False)

    op.create_table(
        "bilateral_version",
        sa.Column("agreement_id", sqlmodel.sql.sqltypes.AutoString(length=260), nullable=False),
        sa.Column("version", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("proposer", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("partner", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("terms", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", "version"),
    )


def downgrade() -> None:
    op.drop_table("bilateral_version")
    with op.batch_alter_table("bilateral_event", schema=None) as batch_op:
        batch_op.drop_index("ix_bilateral_event_parties")
        batch_op.drop_index(batch_op.f("ix_bilateral_event_agreement_id"))

    op.drop_table("bilateral_event")
