"""The repository stands alone (issue 22): nothing it tracks reads the folder named shared
that only the project's own machines have beside a clone. Fixtures and documents it needs are
copied in (tests/fixtures/standards, docs/architecture.md); `.ci/run` runs the suite in a copy
of the clone with nothing beside it, and this test names the line that would break that."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Files allowed to mention the folder (paths relative to ROOT): this one, which spells out
# the patterns; documents that mention it as history would go here too (none yet).
HISTORY: set[str] = {Path(__file__).resolve().relative_to(ROOT).as_posix()}

# The parent folder's "shared" written as a relative path, with either slash.
RELATIVE = re.compile(r"\.\.[/\\]shared\b")
# A path built to a folder named shared in code: parent / "shared", join(…, "shared"),
# "…/shared/…" in a string.
BUILT = re.compile(r"""(/|\bjoin\(.*,)\s*["']shared["']|["'][^"'\n]*/shared(/|["'])""")
CODE = {".py", ".sh", ".mjs", ".js", ".toml", ".yaml", ".yml", ".cfg", ".ini", ".service", ".timer"}
SKIPPED_DIRS = {
    ".git",
    ".venv",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".demo",
    ".walkthrough",
    "build",
}


def tracked_files() -> list[Path]:
    """The files git tracks; every file but caches and environments where there is no git
    (a source archive), so the rule holds there too."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout
        return [ROOT / name for name in listed.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        return [
            p
            for p in ROOT.rglob("*")
            if p.is_file() and not SKIPPED_DIRS & set(p.relative_to(ROOT).parts)
        ]


def is_code(path: Path) -> bool:
    return (
        path.suffix in CODE
        or path.name in {"Makefile", "run"}
        or (path.is_file() and path.read_bytes()[:2] == b"#!")
    )


def test_no_tracked_file_reads_the_shared_folder_beside_the_clone() -> None:
    found = []
    for path in tracked_files():
        name = path.relative_to(ROOT).as_posix()
        if name in HISTORY or not path.is_file():
            continue
        try:
            text = path.read_text("utf-8")
        except UnicodeDecodeError:
            continue  # binary
        code = is_code(path)
        for n, line in enumerate(text.splitlines(), 1):
            if RELATIVE.search(line) or (code and BUILT.search(line)):
                found.append(f"{name}:{n}: {line.strip()}")
    assert found == [], (
        "a clone has nothing beside it: copy what these need into the "
        "repository (tests/fixtures/, docs/) and point them there:\n" + "\n".join(found)
    )


def test_the_rule_recognises_the_ways_the_folder_was_read() -> None:
    # The lines issue 22 removed, and the usual other spellings.
    shared = "shared"
    for line in [
        f'SHARED = Path(__file__).resolve().parents[1].parent / "{shared}"',
        f"STANDARDS = Path(__file__).resolve().parents[3] / '{shared}' / 'fixtures'",
        f'os.path.join(here, "..", "{shared}", "fixtures")',
        f'open("/work/{shared}/fixtures/README.md")',
        f"the design is `../{shared}/ARCHITECTURE.md`",
    ]:
        assert RELATIVE.search(line) or BUILT.search(line), line
    for line in [
        "a shared, noisy machine",
        "registry_core is shared by the registry",
        '"shared_buffers"',
        "db_shared = 1",
    ]:
        assert not (RELATIVE.search(line) or BUILT.search(line)), line
