"""Read snapshots (registry_server.db.reading): what the equivalence queries run their
look-ups in, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import DBAPIError

from registry_server.db import make_engine, reading, upgrade, writing
from registry_server.sql import table
from registry_server.tables import Institution, utcnow


def _enrol(engine: Engine, institution_id: str) -> None:
    with writing(engine) as connection:
        connection.execute(
            insert(table(Institution)).values(
                institution_id=institution_id,
                name=institution_id,
                country="GB",
                status=1,
                created_at=utcnow(),
            )
        )


def _count(reads) -> int:  # type: ignore[no-untyped-def]
    return int(reads.rows("SELECT count(*) FROM institution")[0][0])


def test_a_reading_sees_one_state_while_others_commit(engine: Engine) -> None:
    _enrol(engine, "uk.ac.one")
    with reading(engine) as reads:
        before = _count(reads)
        _enrol(engine, "uk.ac.two")  # commits on another connection meanwhile
        assert _count(reads) == before == 1
    with reading(engine) as reads:
        assert _count(reads) == 2


def test_a_failed_statement_ends_its_reading_and_the_next_one_works(engine: Engine) -> None:
    _enrol(engine, "uk.ac.one")
    with pytest.raises(DBAPIError), reading(engine) as reads:
        reads.rows("SELECT no_such_column FROM institution")
    with reading(engine) as reads:
        assert _count(reads) == 1


def test_threads_read_at_once_each_on_its_own_connection(engine: Engine) -> None:
    _enrol(engine, "uk.ac.one")
    failures: list[BaseException] = []
    counts: list[int] = []

    def reader() -> None:
        try:
            for _ in range(100):
                with reading(engine) as reads:
                    counts.append(_count(reads))
        except BaseException as error:  # noqa: BLE001 (reported below)
            failures.append(error)

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert counts == [1] * 600


def _open_files(path: Path) -> int:
    fds = Path("/proc/self/fd")
    found = 0
    for fd in fds.iterdir():
        try:
            if os.readlink(fd) == str(path):
                found += 1
        except OSError:
            pass
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to count files")
def test_disposing_the_engine_closes_the_kept_connections(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    _enrol(engine, "uk.ac.one")

    def read_elsewhere() -> None:
        with reading(engine) as elsewhere:
            elsewhere.rows("SELECT 1")

    thread = threading.Thread(target=read_elsewhere)
    with reading(engine) as reads:
        assert _count(reads) == 1
    thread.start()
    thread.join()
    assert _open_files(path) >= 2  # the pool's and the two threads' kept ones
    engine.dispose()
    assert _open_files(path) == 0
    with reading(engine) as reads:  # and the engine still reads afterwards
        assert _count(reads) == 1
    engine.dispose()


def test_a_one_statement_reading_sees_what_was_committed_and_holds_no_transaction(
    engine: Engine,
) -> None:
    _enrol(engine, "uk.ac.one")
    with reading(engine, one_statement=True) as reads:
        assert _count(reads) == 1
    _enrol(engine, "uk.ac.two")
    with reading(engine, one_statement=True) as reads:
        assert _count(reads) == 2
        if engine.dialect.name == "sqlite":
            # Nothing is left open that would keep the writer from copying its log back.
            assert not reads.connection.in_transaction


@pytest.mark.parametrize("one_statement", [False, True])
def test_a_thread_reads_again_after_a_dispose_in_another_thread(
    tmp_path: Path, one_statement: bool
) -> None:
    """A dispose closes every thread's kept connection; a thread that read before gets a new
    one (it used to fail on the closed one, with AttributeError)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    upgrade(engine)
    _enrol(engine, "uk.ac.one")
    read_once, disposed = threading.Event(), threading.Event()
    counts: list[int] = []
    failures: list[BaseException] = []

    def reader() -> None:  # keeps its connection between readings, as a query worker does
        try:
            for step in (read_once, None):
                with reading(engine, one_statement=one_statement) as reads:
                    counts.append(_count(reads))
                if step is not None:
                    step.set()
                    disposed.wait(10)
        except BaseException as error:  # noqa: BLE001 (reported below)
            failures.append(error)

    thread = threading.Thread(target=reader)
    thread.start()
    read_once.wait(10)
    engine.dispose()  # closes the reader thread's kept connection under it
    disposed.set()
    thread.join()
    assert failures == []
    assert counts == [1, 1]
    engine.dispose()


def test_on_postgresql_a_readings_statements_stay_prepared_after_it(pg_engine: Engine) -> None:
    """A question's statements are planned once per connection, not once per question:
    psycopg prepares a statement run five times, and forgets them all at a ROLLBACK (a
    direct question then took 3 ms on PostgreSQL, 2.4 of them planning)."""
    question = "SELECT count(*) FROM institution WHERE country = %s"
    for _ in range(6):
        with reading(pg_engine) as reads:
            reads.rows(question, ["GB"])
    with reading(pg_engine) as reads:
        prepared = [
            statement for (statement,) in reads.rows("SELECT statement FROM pg_prepared_statements")
        ]
    assert any("FROM institution WHERE country" in s for s in prepared), prepared


@pytest.mark.parametrize("one_statement", [False, True])
def test_on_postgresql_a_reading_after_the_server_closed_its_connection_reads_anew(
    pg_engine: Engine, one_statement: bool
) -> None:
    """The thread keeps its reading connection (no liveness ping before each question): one
    the server closed meanwhile (a restart, an idle timeout) is replaced at the first
    statement, and the question is answered."""
    with reading(pg_engine, one_statement) as reads:
        backend = reads.rows("SELECT pg_backend_pid()")[0][0]
    with pg_engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    with reading(pg_engine, one_statement) as reads:
        assert reads.rows("SELECT pg_backend_pid()")[0][0] != backend
        assert _count(reads) >= 0
