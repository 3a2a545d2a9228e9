"""The committed registry/v1 code is what scripts/generate_proto.py makes from proto/."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "generate_proto", ROOT / "scripts" / "generate_proto.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_code_is_fresh(tmp_path: Path) -> None:
    _generator().generate(tmp_path)
    fresh = {
        p.relative_to(tmp_path): p.read_bytes()
        for p in (tmp_path / "registry").rglob("*")
        if p.is_file()
    }
    committed = {
        p.relative_to(ROOT): p.read_bytes()
        for p in (ROOT / "registry").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    stale = sorted(
        str(p) for p in fresh.keys() | committed.keys() if fresh.get(p) != committed.get(p)
    )
    assert not stale, f"registry/v1 is stale against proto/; run `make proto`: {stale}"


def test_every_message_field_and_rpc_is_commented() -> None:
    """buf's COMMENTS rule, checked here so it holds without buf installed."""
    for proto in sorted((ROOT / "proto" / "registry" / "v1").glob("*.proto")):
        lines = proto.read_text().splitlines()
        for number, line in enumerate(lines):
            stripped = line.strip()
            declares = stripped.startswith(("message ", "enum ", "service ", "rpc ", "oneof ")) or (
                stripped.endswith(";")
                and "=" in stripped
                and not stripped.startswith(("option", "syntax", "reserved"))
            )
            if declares and not stripped.startswith("}"):
                previous = lines[number - 1].strip()
                assert previous.startswith("//"), (
                    f"{proto.name}:{number + 1} has no comment: {stripped}"
                )
