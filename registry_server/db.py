"""Engines and schema migrations for SQLite (default) and PostgreSQL (production)."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psycopg import IsolationLevel
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
_BEGIN = "sqlite_begin_mode"


def make_engine(url: str, *, checkpoints_elsewhere: bool = False, **kwargs: Any) -> Engine:
    """An engine for url. SQLite gets WAL and a busy timeout; transactions opened with
    `writing` take the write lock at BEGIN (IMMEDIATE), so concurrent writers queue instead of
    failing half-way through a batch, while readers never wait for a writer.

    checkpoints_elsewhere (SQLite): a commit never copies the write-ahead log back into the
    database file itself; a WalCheckpoints thread must then do it (the registry's serve)."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Look-ups touch index pages all over a large registry: a 64 MiB page cache and a
        # memory-mapped file keep them off the read() path (SQLite's default cache is 2 MiB).
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA mmap_size=1073741824")
        if checkpoints_elsewhere:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(f"BEGIN {connection.get_execution_options().get(_BEGIN, '')}")

    return engine


def is_in_memory(database_url: str) -> bool:
    """An in-memory SQLite database lives in one process only: no worker could see it."""
    return database_url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in database_url


def checkpoints_in_background(database_url: str) -> bool:
    """Whether a server on database_url copies SQLite's log back in a thread of its own
    (WalCheckpoints): a SQLite file, not PostgreSQL nor an in-memory database (no log)."""
    return database_url.startswith("sqlite") and not is_in_memory(database_url)


class WalCheckpoints:
    """Copies SQLite's write-ahead log back into the database file in a thread of its own,
    instead of in the commit that fills it.

    By default the commit that takes the log past 1,000 pages (~4 MB) checkpoints it then and
    there: copying the pages and syncing the log and the database file to disk, which took
    ~40 ms against ~4 ms for the commit itself, every few batches, on the publication's own
    path (measured on a raw executemany upsert of 100,000 records: 0.82-0.84 s with those
    checkpoints, 0.41-0.45 s without). Here a thread with a connection of its own runs a
    PASSIVE checkpoint (it never blocks the writer or readers) once writes have been
    committed, at most every `interval` seconds, so one checkpoint and its two syncs serve
    many commits. SQLite's own rules are unchanged: a checkpoint copies only what no reader
    still needs, and the writer restarts the log once all of it has been copied.
    Durability is unchanged too: a commit is in the log either way.

    Use it with an engine made with checkpoints_elsewhere=True; without it the log would only
    be copied back when the last connection closes."""

    def __init__(self, engine: Engine, interval: float = 0.5) -> None:
        self.interval = interval
        self.checkpoints = 0  # completed, for tests and curiosity
        self._engine = engine
        self._wrote = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
        event.listen(engine, "commit", self._committed)

    def _committed(self, _connection: Connection) -> None:
        self._wrote.set()

    def start(self) -> WalCheckpoints:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread after one last checkpoint of what was committed."""
        event.remove(self._engine, "commit", self._committed)
        self._stopping.set()
        self._wrote.set()
        self._thread.join()

    def _run(self) -> None:
        connection: Any = None  # its own, opened at the first checkpoint, never lent out
        try:
            while True:
                self._wrote.wait()
                # Let commits gather, so one checkpoint (two syncs to disk) serves many.
                self._stopping.wait(self.interval)
                self._wrote.clear()
                try:
                    if connection is None:
                        connection = self._engine.raw_connection()
                        connection.detach()
                    connection.dbapi_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except (DBAPIError, self._engine.dialect.loaded_dbapi.Error):
                    # The log keeps growing meanwhile and the next checkpoint copies it.
                    log.exception("a WAL checkpoint failed; trying again after the next write")
                if self._stopping.is_set():
                    return
        finally:
            if connection is not None:
                connection.close()


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction: committed on success, rolled back on any error."""
    with engine.connect() as connection:
        connection.execution_options(**{_BEGIN: "IMMEDIATE"})
        with connection.begin():
            yield connection


class Reads:
    """Statements of one read-only snapshot, run on the driver's own cursor with the
    dialect's parameter mark (`?` on SQLite, `%s` on PostgreSQL). Look-ups that answer a
    question run a few small statements, and SQLAlchemy's per-statement work cost five times
    the statements themselves (37 µs against 7 µs on SQLite). Driver errors are raised as
    SQLAlchemy's, like every other statement's, so the service maps them to the same gRPC
    statuses."""

    def __init__(
        self,
        dbapi_connection: Any,
        engine: Engine,
        reconnect: Callable[[], Any] | None = None,
    ) -> None:
        self.connection = dbapi_connection
        self._dialect = engine.dialect
        self.mark = "%s" if engine.dialect.name == "postgresql" else "?"
        self.postgresql = engine.dialect.name == "postgresql"
        # A kept connection the server has closed since the last reading (a restart, an idle
        # timeout) is found at the first statement, before the snapshot has seen anything:
        # that statement then runs again on a new connection.
        self._reconnect = reconnect

    @classmethod
    def on(cls, connection: Connection) -> Reads:
        """Statements on connection's own transaction."""
        return cls(connection.connection.driver_connection, connection.engine)

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        reconnect, self._reconnect = self._reconnect, None
        try:
            return self._rows(sql, params)
        except self._dialect.loaded_dbapi.OperationalError as error:
            if reconnect is None or not self.connection.closed:
                raise self._error(sql, params, error) from error
            log.info("a kept reading connection was closed by the server; reading on a new one")
            self.connection = reconnect()
            return self.rows(sql, params)
        except self._dialect.loaded_dbapi.Error as error:
            raise self._error(sql, params, error) from error

    def _rows(self, sql: str, params: Sequence[object]) -> list[Any]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def _error(self, sql: str, params: Sequence[object], error: Exception) -> Exception:
        return DBAPIError.instance(
            sql, params, error, self._dialect.loaded_dbapi.Error, dialect=self._dialect
        )


class _KeptReaders(threading.local):
    """The calling thread's connection for reads, per engine."""

    def __init__(self) -> None:
        self.by_engine: weakref.WeakKeyDictionary[Engine, Any] = weakref.WeakKeyDictionary()


_kept = _KeptReaders()
_kept_lock = threading.Lock()
_kept_all: weakref.WeakKeyDictionary[Engine, list[Any]] = weakref.WeakKeyDictionary()


def _kept_reader(engine: Engine, fresh: bool = False) -> Any:
    """A connection kept open for this thread's reads: checking one out of SQLAlchemy's pool
    and returning it cost about 30 µs, as much as a question's look-ups. It is detached from
    the pool (so it never counts against the pool's size) and closed when the engine is
    disposed."""
    fairy = _kept.by_engine.get(engine)
    if fresh and fairy is not None:
        fairy.invalidate()  # closed by the server: let it go
    if fresh or fairy is None or fairy.dbapi_connection is None:  # none yet, or disposed
        fairy = engine.raw_connection()
        fairy.detach()
        if engine.dialect.name == "postgresql":
            fairy.dbapi_connection.isolation_level = IsolationLevel.REPEATABLE_READ  # type: ignore[union-attr]
        with _kept_lock:
            if engine not in _kept_all:
                _kept_all[engine] = []
                event.listen(engine, "engine_disposed", _close_kept)
            _kept_all[engine].append(fairy)
        _kept.by_engine[engine] = fairy
    return fairy.dbapi_connection


def _close_kept(engine: Engine) -> None:
    with _kept_lock:
        fairies, _kept_all[engine] = _kept_all.get(engine, []), []
    for fairy in fairies:
        fairy.close()
    _kept.by_engine.pop(engine, None)  # other threads' _kept_reader see theirs closed


@contextmanager
def reading(engine: Engine, one_statement: bool = False) -> Iterator[Reads]:
    """A read-only snapshot: every statement inside sees the same committed state, however
    many publications commit meanwhile. On SQLite, a deferred transaction on the thread's kept
    connection (readers never wait for the writer in WAL mode); on PostgreSQL, a REPEATABLE
    READ transaction on the thread's kept connection (its default, READ COMMITTED, would let
    each statement see newer commits), ended by COMMIT (_postgresql_reading).

    one_statement: the caller runs a single statement, which is a snapshot of its own, so no
    transaction is opened around it (on SQLite, BEGIN and ROLLBACK were a tenth of a direct
    question's time; on PostgreSQL two of its four round trips)."""
    if engine.dialect.name != "sqlite":
        yield from _postgresql_reading(engine, one_statement)
        return
    dbapi_connection = _kept_reader(engine)
    if one_statement:
        yield Reads(dbapi_connection, engine)
        return
    dbapi_connection.execute("BEGIN")
    try:
        yield Reads(dbapi_connection, engine)
    finally:
        dbapi_connection.execute("ROLLBACK")  # nothing was written; ends the snapshot


def _postgresql_reading(engine: Engine, one_statement: bool) -> Iterator[Reads]:
    """reading() on PostgreSQL: the thread's kept connection, in autocommit for one statement
    (its own snapshot, sent without a BEGIN and a COMMIT around it), else in a REPEATABLE
    READ transaction ended by COMMIT. Kept, not checked out of the pool for each question:
    the pool's liveness ping before every checkout was a round trip of ~0.6 ms a question.
    Ended by COMMIT, not ROLLBACK (nothing was written, so the two are alike): psycopg
    forgets its prepared statements at every ROLLBACK, and PostgreSQL then planned each
    question's statements again, 2.4 ms of a direct question's 3 ms."""

    def kept(fresh: bool = False) -> Any:
        connection = _kept_reader(engine, fresh)
        connection.autocommit = one_statement
        return connection

    reads = Reads(kept(), engine, reconnect=lambda: kept(fresh=True))
    try:
        yield reads
    except BaseException:
        if not reads.connection.closed:
            reads.connection.rollback()  # a failed snapshot: its prepared statements go
        raise
    if not one_statement:
        reads.connection.commit()


def alembic_config(url: str) -> Config:
    # Imported here: a query worker opens the database without migrating it, and Alembic
    # took a fifth of such a process's start-up.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration. A schema a newer release has
    migrated is left as it is, with a warning: migrations only expand (docs/operations.md,
    Rolling upgrade), so during a rolling upgrade a registry of the release before still
    starts on it."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Registry processes starting together: one migrates, the others wait for it.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7461626)")
        current = MigrationContext.configure(connection).get_current_revision()
        known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
        if current is not None and current not in known:
            log.warning(
                "the database's schema is at migration %s, which this release does "
                "not have: a newer release migrated it. Starting on it unchanged "
                "(migrations only expand); upgrade this host to that release",
                current,
            )
            return
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
