"""Import contracts: the core stays pure; the agent, the TUI and the partner's command never
reach into the registry."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "registry_core": {
        "grpc",
        "sqlmodel",
        "sqlalchemy",
        "textual",
        "registry_server",
        "sync_agent",
        "tui",
    },
    "sync_agent": {"registry_server", "tui"},
    "tui": {"registry_server"},
    "partner": {"registry_server", "tui", "sqlmodel", "sqlalchemy", "textual"},
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package} has no modules"
    offending = {
        str(f.relative_to(ROOT)): sorted(_imports(f) & FORBIDDEN[package])
        for f in files
        if _imports(f) & FORBIDDEN[package]
    }
    assert not offending, f"{package} imports what its layer must not: {offending}"
