"""Every benchmark the README cites still runs, on tiny inputs: a change that breaks one
shows here, not the next time someone reproduces a figure. Nothing here judges a timing;
each run must end cleanly and print its ratio against its anchor."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_URL, postgres_problem

ROOT = Path(__file__).resolve().parents[1]

BENCHMARKS = [
    ("bench.ingest", "--records", "3000", "--single", "30"),
    ("bench.sync_flat", "--large", "3000", "--small", "300"),
    ("bench.ingest_postgres", "--records", "3000", "--url", PG_URL),
    ("bench.resolve", "--small", "1000", "--large", "5000", "--seconds", "2"),
    ("bench.resolve_cpu", "--agreements", "5000", "--seconds", "1"),
    ("bench.verify_credential", "--rounds", "1", "--count", "5"),
    ("bench.mixed_load", "--agreements", "2000", "--cheap", "30", "--records", "200"),
]


@pytest.mark.parametrize("command", BENCHMARKS, ids=[c[0] for c in BENCHMARKS])
def test_the_benchmark_runs_and_prints_its_ratios(command: tuple[str, ...]) -> None:
    if command[0] == "bench.ingest_postgres" and (problem := postgres_problem()):
        pytest.skip(problem)
    done = subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ratios = [
        line for line in done.stdout.splitlines() if "x the anchor" in line or "anchor /" in line
    ]
    assert ratios, f"{command[0]} printed no ratio against its anchor:\n{done.stdout}"
