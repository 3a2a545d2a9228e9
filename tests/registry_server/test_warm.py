"""A query worker reads every page a question may read before it says it is ready
(equivalence.warm), so partners' first questions do not each wait on page faults."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bench.resolve import load, network, questions
from registry.v1 import equivalence_pb2 as eq
from registry_server import equivalence
from registry_server.db import make_engine, reading


def _faults_answering(engine: Engine, asked: list[eq.ResolveTransferRequest]) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for request in asked:
        equivalence.resolve_transfer(engine, request)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_after_warming_questions_no_longer_fault_pages_in(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'network.db'}"
    shape = network(20_000)
    load(url, shape)
    cold_engine = make_engine(url)
    cold = _faults_answering(cold_engine, questions(shape, 300, 1, seed=3))
    cold_engine.dispose()
    warm_engine = make_engine(url)
    assert equivalence.warm(warm_engine)
    warmed = _faults_answering(warm_engine, questions(shape, 300, 1, seed=4))
    warm_engine.dispose()
    assert cold > 50  # each question mapped pages of its own (~110-130 seen)
    assert warmed < cold / 4  # ~1-4 seen: the pages were already mapped


def test_warming_is_skipped_where_it_cannot_help(sqlite_engine: Engine) -> None:
    assert equivalence.warm(sqlite_engine)  # a file within the map: warmed
    with reading(sqlite_engine) as reads:  # this thread's reading connection, as warm uses
        reads.rows("PRAGMA mmap_size=4096")
    assert not equivalence.warm(sqlite_engine)  # larger than its map: nothing to keep
    memory = make_engine("sqlite:///:memory:")
    assert not equivalence.warm(memory)  # no file to map
    memory.dispose()


@pytest.mark.postgres
def test_warming_is_skipped_on_postgresql(pg_engine: Engine) -> None:
    assert not equivalence.warm(pg_engine)  # its own shared buffers; no file map
