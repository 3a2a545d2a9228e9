"""Generate the Python API code in registry/v1/ from proto/registry/v1/*.proto.

Run with `make proto` (or `python scripts/generate_proto.py`). The output is committed, never
edited by hand; tests/test_generated_code.py fails when it is stale against the .proto files.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PACKAGE_DOC = '"""Generated from proto/registry/v1 by scripts/generate_proto.py. Do not edit."""\n'


def proto_files() -> list[Path]:
    return sorted((PROTO_ROOT / "registry" / "v1").glob("*.proto"))


def generate(out_dir: Path) -> None:
    """Write registry/v1/*_pb2.py, *_pb2.pyi and *_pb2_grpc.py under out_dir."""
    (out_dir / "registry" / "v1").mkdir(parents=True, exist_ok=True)
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *[str(p) for p in proto_files()],
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed; see the messages above")
    for package in (out_dir / "registry", out_dir / "registry" / "v1"):
        (package / "__init__.py").write_text(PACKAGE_DOC)
    # The grpc modules name the generator's patch release as the oldest runtime they accept;
    # the minor's first release is what they need, and naming it keeps the output the same
    # whichever patch of grpcio-tools (pinned to the minor in pyproject.toml) made it.
    for module in (out_dir / "registry" / "v1").glob("*_pb2_grpc.py"):
        text = module.read_text()
        module.write_text(
            re.sub(
                r"GRPC_GENERATED_VERSION = '(\d+)\.(\d+)\.\d+'",
                r"GRPC_GENERATED_VERSION = '\1.\2.0'",
                text,
            )
        )


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)
