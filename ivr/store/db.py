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
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, Row, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Executable

from ivr.config import Settings
from ivr.store import jsontext


class Statements(Protocol):
    """Single SQLAlchemy Core statements on one connection."""

    def fetchone(self, statement: Executable, params: Mapping[str, Any]) -> Row[Any] | None:
        """The first row the statement returns, or None."""

    def execute(self, statement: Executable, params: Mapping[str, Any]) -> int:
        """Run a statement that changes rows; how many it changed."""


class TurnStatements:
    """Statements on a Core connection; writes hold ``write_lock`` (SQLite's writer lock
    when each statement commits on its own, nothing inside a transaction)."""

    def __init__(
        self, connection: Connection, write_lock: AbstractContextManager[Any] | None = None
    ) -> None:
        self.connection = connection
        self._write_lock = write_lock or nullcontext()

    @classmethod
    def of(cls, session: Session) -> TurnStatements:
        """The statements of an ORM session's own connection and transaction."""
        return cls(session.connection())

    def fetchone(self, statement: Executable, params: Mapping[str, Any]) -> Row[Any] | None:
        """The first row the statement returns, or None."""
        return self.connection.execute(statement, params).first()

    def execute(self, statement: Executable, params: Mapping[str, Any]) -> int:
        """Run a statement that changes rows; how many it changed."""
        with self._write_lock:
            changed: int = self.connection.execute(statement, params).rowcount
            return changed


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


def _sqlite_pragmas(dbapi_connection: Any, synchronous: str) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_connect_args() -> dict[str, Any]:
    return {"timeout": 30, "check_same_thread": False}


def make_turn_engine(url: str, navigation_sync: str, **kwargs: Any) -> Engine:
    """SQLite: an engine whose connections commit every statement on its own (autocommit),
    synced at ``navigation_sync``: a call's plain turn is two single statements on it.

    An engine of its own, so that its connections never switch between autocommit and the
    transactions ``make_engine``'s begin themselves."""
    kwargs.setdefault("json_serializer", jsontext.dumps)
    kwargs.setdefault("json_deserializer", jsontext.loads)
    engine = create_engine(
        url,
        connect_args=_sqlite_connect_args(),
        hide_parameters=True,
        isolation_level="AUTOCOMMIT",
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        _sqlite_pragmas(dbapi_connection, navigation_sync)

    return engine


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
        connect_args=_sqlite_connect_args(),
        hide_parameters=True,
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        _sqlite_pragmas(dbapi_connection, DURABLE_SYNC)

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
        # SQLite: the connections turns run on (``turn``), each statement committed alone.
        self._turn_engine = make_turn_engine(url, navigation_sync) if self.sqlite else None

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

        SQLite: each statement is a transaction of its own (an autocommit connection of
        ``make_turn_engine``); a read never waits for a writer under WAL, the write waits
        for the process's writer lock, which is free while the turn is worked out.
        PostgreSQL: one transaction on a pooled connection, committed when the block ends,
        rolled back when it raises. A turn's one write is its last statement, so a turn that
        fails stores nothing on either.
        """
        if self._turn_engine is not None:
            with self._turn_engine.connect() as connection:
                yield TurnStatements(connection, self._writer)
            return
        with self.engine.begin() as connection:
            yield TurnStatements(connection)

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
        if self._turn_engine is not None:
            self._turn_engine.dispose()
        self.engine.dispose()
