"""revoked_certificate: client certificates of the network's CA that the operator revoked

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Issue 21: a leaked partner's, institution's or operator's certificate must stop working
before its 825 days are up. Every registry process refuses the serials listed here
(registry_server/revocation.py). Nothing to fill: nothing was revoked before.
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_certificate",
        sa.Column("serial", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("serial"),
    )


def downgrade() -> None:
    op.drop_table("revoked_certificate")
