"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreement_edge",
        sa.Column("institution_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("agreement_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column(
            "source_institution_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False
        ),
        sa.Column("source_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("grant_unit_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("transitive_allowed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "institution_id", "agreement_key", "source_institution_id", "source_key"
        ),
    )
    with op.batch_alter_table("agreement_edge", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agreement_edge_grant", ["institution_id", "grant_unit_key"], unique=False
        )
        batch_op.create_index(
            "ix_agreement_edge_source", ["source_institution_id", "source_key"], unique=False
        )

    op.create_table(
        "batch_log",
        sa.Column("log_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("institution_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_head", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("head", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("payload_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=False),
        sa.Column("records_applied", sa.Integer(), nullable=False),
        sa.Column("log_head", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("log_index"),
        sa.UniqueConstraint("institution_id", "last_seq"),
    )
    with op.batch_alter_table("batch_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_batch_log_institution_id"), ["institution_id"], unique=False
        )

    op.create_table(
        "institution",
        sa.Column("institution_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("institution_id"),
    )
    op.create_table(
        "log_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_index", sa.BigInteger(), nullable=False),
        sa.Column("head", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The log starts empty: index 0, empty head. Appends lock and advance this one row.
    op.bulk_insert(
        sa.table(
            "log_state",
            sa.column("id", sa.Integer),
            sa.column("last_index", sa.BigInteger),
            sa.column("head", sa.String),
        ),
        [{"id": 1, "last_index": 0, "head": ""}],
    )
    op.create_table(
        "published_record",
        sa.Column("institution_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("institution_id", "kind", "key"),
    )
    op.create_table(
        "checkpoint",
        sa.Column("institution_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("head", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.institution_id"],
        ),
        sa.PrimaryKeyConstraint("institution_id"),
    )
    op.create_table(
        "signing_key",
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("institution_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.institution_id"],
        ),
        sa.PrimaryKeyConstraint("key_id"),
    )
    with op.batch_alter_table("signing_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signing_key_institution_id"), ["institution_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("signing_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signing_key_institution_id"))

    op.drop_table("signing_key")
    op.drop_table("checkpoint")
    op.drop_table("published_record")
    op.drop_table("log_state")
    op.drop_table("institution")
    with op.batch_alter_table("batch_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_log_institution_id"))

    op.drop_table("batch_log")
    with op.batch_alter_table("agreement_edge", schema=None) as batch_op:
        batch_op.drop_index("ix_agreement_edge_source")
        batch_op.drop_index("ix_agreement_edge_grant")

    op.drop_table("agreement_edge")
