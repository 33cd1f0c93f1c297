"""Database engines and transactions that behave the same on SQLite and PostgreSQL.

SQLite's Python driver starts transactions lazily, so two requests could both read a row
before either writes it. Every write transaction here (``transaction()``) starts with
``BEGIN IMMEDIATE`` on SQLite (one writer at a time: the threads of a process queue on a lock,
other processes wait ``busy_timeout``), and rows are locked with ``SELECT … FOR UPDATE`` on
PostgreSQL. A call's plain turn (``turn()``) is single statements instead, made safe by the
compare-and-set of ``ivr.store.call_records``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection

from ivr.store import jsontext

# A DB-API connection as the driver made it (sqlite3 or psycopg).
DriverConnection = Any


class Statements(Protocol):
    """Single SQL statements in the driver's own dialect and parameter style."""

    def fetchone(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        """The first row the statement returns, or None."""

    def execute(self, sql: str, params: Sequence[Any]) -> int:
        """Run a statement that changes rows; how many it changed."""


class DriverStatements:
    """Statements on a driver connection, inside the transaction it has open."""

    def __init__(self, connection: DriverConnection) -> None:
        self.connection = connection

    @classmethod
    def of(cls, session: Session) -> DriverStatements:
        """The statements of an ORM session's own connection and transaction."""
        return cls(session.connection().connection.driver_connection)

    def fetchone(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        """The first row the statement returns, or None."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, params)
            row: tuple[Any, ...] | None = cursor.fetchone()
            return row
        finally:
            cursor.close()

    def execute(self, sql: str, params: Sequence[Any]) -> int:
        """Run a statement that changes rows; how many it changed."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, params)
            changed: int = cursor.rowcount
            return changed
        finally:
            cursor.close()


class _SqliteTurnStatements:
    """SQLite statements that are each a transaction of their own (the connection is in
    autocommit mode), on one connection, each under the writer lock."""

    def __init__(
        self, lock: AbstractContextManager[Any], connection: Callable[[], DriverConnection]
    ) -> None:
        self._lock = lock
        self._connection = connection

    def fetchone(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        with self._lock:
            row: tuple[Any, ...] | None = self._connection().execute(sql, params).fetchone()
            return row

    def execute(self, sql: str, params: Sequence[Any]) -> int:
        with self._lock:
            changed: int = self._connection().execute(sql, params).rowcount
            return changed


# Execution option marking a connection as a writer; transactions of an engine without it
# are writers too, so only reads that say so begin deferred.
WRITE_OPTION = "ivr_write"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite files get their directory, WAL and immediate locks."""
    parsed = make_url(url)
    kwargs.setdefault("json_serializer", jsontext.dumps)
    kwargs.setdefault("json_deserializer", jsontext.loads)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)
    database = parsed.database or ""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: error messages would otherwise carry callers' numbers into the logs.
    engine = create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False},
        hide_parameters=True,
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Navigation turns need not wait for the disk; see ``Database.make_durable``.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front (no read-then-upgrade deadlocks); readers
        # begin deferred, so they never wait for a writer under WAL.
        raw = connection.connection.driver_connection  # every turn: skip the statement layer
        if connection.get_execution_options().get(WRITE_OPTION, True):
            raw.execute("BEGIN IMMEDIATE")
        else:
            raw.execute("BEGIN")

    return engine


class Database:
    """An engine and its session factory; one per process, created by the app factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        reader = self.engine.execution_options(**{WRITE_OPTION: False})
        # Read-only sessions (listings, snapshots, queue music); writes go through
        # ``transaction()`` or, for a call's turn, ``turn()``.
        self.sessions = sessionmaker(reader, expire_on_commit=False)
        self._write_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.dialect = self.engine.dialect.name
        self.driver = self.engine.dialect.driver
        self.sqlite = self.dialect == "sqlite"
        # SQLite admits one writer; threads of one process queue here, woken as soon as the
        # lock frees, instead of polling in SQLite's busy handler with growing sleeps.
        self._writer: AbstractContextManager[Any] = (
            threading.Lock() if self.sqlite else nullcontext()
        )
        # SQLite: the pooled connection turns are written on, checked out once (``turn``).
        self._turn_pooled: PoolProxiedConnection | None = None
        self._sqlite_turns = _SqliteTurnStatements(self._writer, self._turn_connection)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self._writer, self._write_sessions() as session:
            with session.begin():
                yield session
            if session.info.pop("durable", False):
                self._sync_wal()

    @contextmanager
    def turn(self) -> Iterator[Statements]:
        """The statements of one call's turn, without an ORM session: the per-turn hot path.

        SQLite: each statement is a transaction of its own, run under the writer lock on
        the one connection this process keeps for turns; the lock is free while the turn
        is worked out, and the connection's page cache stays warm (only other writers
        change what it reads). PostgreSQL: one transaction on a pooled connection,
        committed when the block ends, rolled back when it raises. A turn's one write is
        its last statement, so a turn that fails stores nothing on either.
        """
        if self.sqlite:
            yield self._sqlite_turns
            return
        pooled = self.engine.raw_connection()
        try:
            connection: DriverConnection = pooled.driver_connection
            try:
                yield DriverStatements(connection)
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
        finally:
            pooled.close()

    def _turn_connection(self) -> DriverConnection:
        # Called with the writer lock held.
        if self._turn_pooled is None:
            self._turn_pooled = self.engine.raw_connection()
        return self._turn_pooled.driver_connection

    def make_durable(self, session: Session) -> None:
        """Make the open transaction's commit survive a power cut, not only a crash.

        SQLite runs with ``synchronous=NORMAL`` (WAL): a commit is safe from the process
        dying but may be lost with the machine. Turns that stored something a caller left
        (a voicemail, a booking, a request) call this so their commit is synced to disk.
        PostgreSQL commits are always synced.
        """
        if self.sqlite:
            session.info["durable"] = True

    def _sync_wal(self) -> None:
        # What synchronous=FULL does at commit: the committed frames are in the WAL file,
        # written but perhaps not yet on disk; fsync it before the webhook answers.
        database = make_url(self.url).database or ""
        if not database or database == ":memory:":
            return
        for path in (f"{database}-wal", database):
            if os.path.exists(path):
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        """Close every pooled connection."""
        with self._writer:
            pooled, self._turn_pooled = self._turn_pooled, None
            if pooled is not None:
                pooled.close()
        self.engine.dispose()
