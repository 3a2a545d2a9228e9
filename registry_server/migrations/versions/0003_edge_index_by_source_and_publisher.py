"""agreement_edge: index by source then publisher

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agreement_edge", schema=None) as batch_op:
        batch_op.drop_index("ix_agreement_edge_source")
        batch_op.create_index(
            "ix_agreement_edge_source_publisher",
            ["source_institution_id", "source_key", "institution_id", "agreement_key"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("agreement_edge", schema=None) as batch_op:
        batch_op.drop_index("ix_agreement_edge_source_publisher")
        batch_op.create_index(
            "ix_agreement_edge_source", ["source_institution_id", "source_key"], unique=False
        )
