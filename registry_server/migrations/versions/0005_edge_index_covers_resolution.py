"""agreement_edge: the by-source index covers every column resolution reads

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Resolution reads an edge's grant_unit_key, status and transitive_allowed after seeking it
by source; with them in the index it no longer visits the table for each edge. On the
1,000,000-agreement synthetic network a depth-3 look-up's database part took 2.7-3.0 ms
against 5.0-5.6 ms. Rebuilding the index reads the table once (seconds for 1M agreements).
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BY_SOURCE = ["source_institution_id", "source_key", "institution_id", "agreement_key"]


def upgrade() -> None:
    with op.batch_alter_table("agreement_edge", schema=None) as batch_op:
        batch_op.drop_index("ix_agreement_edge_source_publisher")
        batch_op.create_index(
            "ix_agreement_edge_source_publisher",
            [*_BY_SOURCE, "grant_unit_key", "status", "transitive_allowed"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("agreement_edge", schema=None) as batch_op:
        batch_op.drop_index("ix_agreement_edge_source_publisher")
        batch_op.create_index("ix_agreement_edge_source_publisher", _BY_SOURCE, unique=False)
