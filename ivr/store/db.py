"""Database engines and transactions that behave the same on SQLite and PostgreSQL.

SQLite's Python driver starts transactions lazily, so two requests could both read a row
before either writes it. Every write transaction here (``transaction()``) starts with
``BEGIN IMMEDIATE`` on SQLite (one writer at a time: the threads of a process queue on a lock,
other processes wait ``busy_timeout``), and rows are locked with ``SELECT … FOR UPDATE`` on
PostgreSQL. A call's plain turn (``turn()``) is single statements instead, made safe by the
compare-and-set of ``ivr.store.call_records``.

Durability on SQLite is SQLite's own business: a transaction is ``durable`` (the default)
when it stores something a caller left or an admin changed, and then commits with
``PRAGMA synchronous=FULL`` (the WAL is synced before the commit returns); a call's
navigation commits with ``synchronous=NORMAL`` (safe from a crash of the process, not from a
power cut). Nothing here opens the database's files itself: closing any descriptor of a file
drops every POSIX lock the process holds on it, and another process would then think itself
alone, checkpoint and delete the WAL under us.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ivr.config import Settings
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


class _ThreadConnection:
    """A thread's own connection, closed when the thread ends (its ``threading.local`` lets
    go of this holder) or when the database is disposed of, whichever comes first."""

    __slots__ = ("__weakref__", "_finalizer", "closed", "connection", "lock")

    def __init__(self, connection: DriverConnection) -> None:
        self.connection = connection
        # Held by its thread for a statement and by ``close``: SQLite must not have a
        # connection closed under a statement running on it (the process would crash).
        self.lock = threading.Lock()
        self.closed = False
        # Not left to the connection's own end: its statement cache refers back to it, so
        # only a garbage collection would close it.
        self._finalizer = weakref.finalize(self, connection.close)

    def close(self) -> None:
        """Close the connection once no statement runs on it."""
        with self.lock:
            self.closed = True
            self._finalizer()


class _SqliteTurnStatements:
    """SQLite statements that are each a transaction of their own (the connections are in
    autocommit mode).

    Reads run on a connection of the calling thread's own, outside the writer lock: under
    WAL a reader never waits for a writer. Writes run on one shared connection under the
    process's writer lock. Reads stay out of that lock because a thread holding it gives up
    the GIL inside SQLite and must win it back before it can let go: under load that can
    take the interpreter's whole switch interval, and every other turn would wait behind it.
    """

    def __init__(
        self, lock: AbstractContextManager[Any], connect: Callable[[], DriverConnection]
    ) -> None:
        self._lock = lock
        self._connect = connect
        self._local = threading.local()
        self._readers: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._readers_lock = threading.Lock()
        self._writer: DriverConnection | None = None

    def _reader(self) -> _ThreadConnection:
        mine: _ThreadConnection | None = getattr(self._local, "mine", None)
        if mine is None:
            mine = _ThreadConnection(self._connect())
            with self._readers_lock:
                self._readers.add(mine)
            self._local.mine = mine
        return mine

    def fetchone(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        while True:
            mine = self._reader()
            with mine.lock:
                if not mine.closed:
                    row: tuple[Any, ...] | None = mine.connection.execute(sql, params).fetchone()
                    return row
            # Closed by ``close`` (the database was disposed of): open another.
            self._local.mine = None

    def execute(self, sql: str, params: Sequence[Any]) -> int:
        with self._lock:
            if self._writer is None:
                self._writer = self._connect()
            # ``executemany`` of one row: the same statement without ``execute``'s lookup of
            # ``lastrowid``, one hand-over of the GIL fewer (``ivr.store.call_records``).
            changed: int = self._writer.executemany(sql, (params,)).rowcount
            return changed

    def close(self) -> None:
        """Close every connection opened for turns; later statements open new ones."""
        with self._lock, self._readers_lock:
            writer, self._writer = self._writer, None
            readers, self._readers = list(self._readers), weakref.WeakSet()
            self._local = threading.local()
        if writer is not None:
            writer.close()
        for reader in readers:
            reader.close()


# Execution option marking a connection as a writer; transactions of an engine without it
# are writers too, so only reads that say so begin deferred.
WRITE_OPTION = "ivr_write"
# Execution option: False for a transaction whose commit need not survive a power cut.
DURABLE_OPTION = "ivr_durable"
# SQLite's ``synchronous`` levels: what a durable commit uses, and the choices for the rest.
DURABLE_SYNC = "FULL"
NAVIGATION_SYNC_LEVELS = ("NORMAL", "FULL")
# Where a pooled connection remembers the level it was last set to.
_SYNC_INFO = "ivr_synchronous"


def make_engine(url: str, navigation_sync: str = "NORMAL", **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite files get their directory, WAL and immediate locks.

    SQLite commits are synced with ``synchronous=FULL``, but for transactions begun with
    ``DURABLE_OPTION`` false, which use ``navigation_sync`` (``NORMAL`` or ``FULL``).
    """
    if navigation_sync not in NAVIGATION_SYNC_LEVELS:
        raise ValueError(f"navigation_sync must be one of {NAVIGATION_SYNC_LEVELS}")
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
        cursor.execute(f"PRAGMA synchronous={DURABLE_SYNC}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front (no read-then-upgrade deadlocks); readers
        # begin deferred, so they never wait for a writer under WAL.
        raw = connection.connection.driver_connection  # every turn: skip the statement layer
        options = connection.get_execution_options()
        # The level must be set outside a transaction (SQLite refuses it inside one).
        wanted = DURABLE_SYNC if options.get(DURABLE_OPTION, True) else navigation_sync
        info = connection.connection.info
        if info.get(_SYNC_INFO, DURABLE_SYNC) != wanted:
            raw.execute(f"PRAGMA synchronous={wanted}")
            info[_SYNC_INFO] = wanted
        if options.get(WRITE_OPTION, True):
            raw.execute("BEGIN IMMEDIATE")
        else:
            raw.execute("BEGIN")

    return engine


class Database:
    """An engine and its session factory; one per process, created by the app factory.

    ``navigation_sync`` is SQLite's ``synchronous`` level for what need not survive a power
    cut (a call's navigation turns): ``NORMAL`` (the default) or ``FULL``.
    """

    def __init__(self, url: str, navigation_sync: str = "NORMAL") -> None:
        self.url = url
        self.engine = make_engine(url, navigation_sync)
        self.navigation_sync = navigation_sync
        reader = self.engine.execution_options(**{WRITE_OPTION: False})
        # Read-only sessions (listings, snapshots, queue music); writes go through
        # ``transaction()`` or, for a call's turn, ``turn()``.
        self.sessions = sessionmaker(reader, expire_on_commit=False)
        self._write_sessions = {
            True: sessionmaker(self.engine, expire_on_commit=False),
            False: sessionmaker(
                self.engine.execution_options(**{DURABLE_OPTION: False}),
                expire_on_commit=False,
            ),
        }
        self.dialect = self.engine.dialect.name
        self.driver = self.engine.dialect.driver
        self.sqlite = self.dialect == "sqlite"
        # SQLite admits one writer; threads of one process queue here, woken as soon as the
        # lock frees, instead of polling in SQLite's busy handler with growing sleeps.
        self._writer: AbstractContextManager[Any] = (
            threading.Lock() if self.sqlite else nullcontext()
        )
        # SQLite: the connections turns run on (``turn``): each thread's own, and one writer.
        self._sqlite_turns = _SqliteTurnStatements(self._writer, self._own_connection)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The configured database."""
        return cls(settings.database_url, settings.sqlite_navigation_sync)

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error.

        The commit of a ``durable`` transaction survives a power cut, not only a crash
        (PostgreSQL's always does). A call's turn that stores nothing a caller left passes
        ``durable=False``; so must nothing else.
        """
        with self._writer, self._write_sessions[durable]() as session, session.begin():
            yield session

    @contextmanager
    def turn(self) -> Iterator[Statements]:
        """The statements of one call's turn, without an ORM session: the per-turn hot path.

        SQLite: each statement is a transaction of its own, on connections kept for turns
        (their page caches stay warm): a read on the thread's own, the write on a shared
        one under the writer lock; the lock is free while the turn is worked out.
        PostgreSQL: one transaction on a pooled connection, committed when the block ends,
        rolled back when it raises. A turn's one write is
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

    def _own_connection(self) -> DriverConnection:
        # Set up as the pool's are (WAL, pragmas), but not counted against the pool: the
        # pool stays whole for the sessions. Its owner closes it. Turns only navigate (what
        # a caller leaves is stored in a durable ``transaction``).
        pooled = self.engine.raw_connection()
        connection: DriverConnection = pooled.driver_connection
        pooled.detach()
        connection.execute(f"PRAGMA synchronous={self.navigation_sync}")
        return connection

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        """Close every connection: the pool's and the turns'."""
        self._sqlite_turns.close()
        self.engine.dispose()
