"""Migrations only expand (docs/operations.md, "Rolling upgrade"): what a migration's upgrade
does must leave the release before it working on the migrated database, because registries
of both releases share one database during a rolling upgrade. The contracting operations
(dropping or renaming a table or column, narrowing a column, changing a key or constraint)
are refused here unless the migration is listed in REVIEWED, with why, after a review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

VERSIONS = Path(__file__).resolve().parents[2] / "registry_server" / "migrations" / "versions"

# Operations an older release's queries or writes may depend on.
CONTRACTING = {
    "drop_table",
    "drop_column",
    "alter_column",
    "rename_table",
    "drop_constraint",
    "create_primary_key",
    "create_unique_constraint",
    "create_foreign_key",
    "create_check_constraint",
    "create_exclude_constraint",
}

# Migrations with a contracting operation, reviewed: whether each is a contract step (it
# lands only in a release that every registry runs before it migrates: stop the older ones
# first) and why.
REVIEWED = {
    "0006": (
        "compatible",
        "widens agreement_edge's primary key by grant_unit_key (dropped "
        "and re-created): an older registry's one row per source is still unique, and "
        "it wrote grant_unit_key already",
    ),
}


def operations(path: Path) -> list[ast.Call]:
    """The op. and batch_op. calls the migration makes when it upgrades: everything in the
    module but its downgrade()."""
    module = ast.parse(path.read_text("utf-8"))
    upgrading = [
        node
        for node in module.body
        if not (isinstance(node, ast.FunctionDef) and node.name == "downgrade")
    ]
    return [
        call
        for node in upgrading
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id in ("op", "batch_op")
    ]


def contracting(call: ast.Call, calls: list[ast.Call]) -> str:
    """Why call contracts the schema, or "" if it only expands it."""
    assert isinstance(call.func, ast.Attribute)
    name = call.func.attr
    if name in CONTRACTING:
        return name
    keywords = {k.arg: k.value for k in call.keywords}
    if name == "add_column":
        column = call.args[-1] if call.args else None
        column_keywords = (
            {k.arg: k.value for k in column.keywords} if isinstance(column, ast.Call) else {}
        )
        nullable = column_keywords.get("nullable")
        if (
            isinstance(nullable, ast.Constant)
            and nullable.value is False
            and "server_default" not in column_keywords
        ):
            return "add_column NOT NULL without a server_default (older inserts fail)"
    if name == "drop_index":
        # An index rebuilt (dropped and created again in the same migration) is not a
        # change an older release sees; one dropped for good may be a unique one it relies on.
        rebuilt = any(
            isinstance(c.func, ast.Attribute) and c.func.attr == "create_index" for c in calls
        )
        return "" if rebuilt else "drop_index without a new index"
    unique = keywords.get("unique")
    if name == "create_index" and isinstance(unique, ast.Constant) and unique.value is True:
        return "create_index unique=True (older writes of duplicates fail)"
    return ""


MIGRATIONS = sorted(VERSIONS.glob("0*.py"))


@pytest.mark.parametrize("path", MIGRATIONS, ids=[p.stem for p in MIGRATIONS])
def test_each_migration_only_expands_unless_reviewed(path: Path) -> None:
    calls = operations(path)
    found = sorted({why for call in calls if (why := contracting(call, calls))})
    revision = path.stem.split("_")[0]
    if revision in REVIEWED:
        assert found, f"{path.name} is listed in REVIEWED but contracts nothing: unlist it"
    else:
        assert not found, (
            f"{path.name} contracts the schema ({', '.join(found)}): older registries sharing "
            "the database would break mid-upgrade. Split it: expand now (new nullable "
            "columns, new tables), contract in the next release, and list that migration "
            "in REVIEWED as a contract step (docs/operations.md, Rolling upgrade)"
        )


def test_the_check_sees_a_contracting_migration(tmp_path: Path) -> None:
    """The check itself: a migration that drops a column, or adds one NOT NULL, is caught."""
    migration = tmp_path / "0099_contract.py"
    migration.write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\n\ndef upgrade() -> None:\n"
        "    with op.batch_alter_table('t') as batch_op:\n"
        "        batch_op.drop_column('old')\n"
        "    op.add_column('t', sa.Column('new', sa.Integer(), nullable=False))\n\n\n"
        "def downgrade() -> None:\n    op.drop_table('t')\n"
    )
    calls = operations(migration)
    assert sorted(why for call in calls if (why := contracting(call, calls))) == [
        "add_column NOT NULL without a server_default (older inserts fail)",
        "drop_column",
    ]
