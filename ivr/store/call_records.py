"""The hot path of every webhook: read a call's row, write its next turn.

A turn is one ``SELECT`` and one ``UPDATE … WHERE turn = <the turn read>``, in each driver's
own SQL (``Database.turn``, or the connection under an ORM session when a turn stores side
effects): on this path even SQLAlchemy Core's per-statement work costs more than the database
does. The ``UPDATE`` changes nothing when the call has moved on since it was read, so a turn
needs no lock while it is worked out and is still stored exactly once; a turn with side
effects reads the row locked (``lock``) instead, so that they happen once too. A call's first
turn inserts its row with ``INSERT … ON CONFLICT (sid) DO NOTHING`` (``insert``): a second
delivery of the same webhook racing it stores nothing and is answered as the first was.

On SQLite the statements are shaped for the GIL as much as for the database. Python's driver
gives up the interpreter lock around nearly every call into SQLite: a ``SELECT`` of the
seven columns a turn reads and its ``fetchone`` give it up 14 times, about once per column,
and every time another request thread is waiting, the two threads change places (counted
with a uprobe on ``PyEval_SaveThread``). So the read asks SQLite for one value, the row
packed as a JSON array (8 times instead of 14); the TwiML last sent is read only when a
webhook turns out to be a repeat (``answer``); and the write goes through ``executemany``
(4 times instead of 5: it skips the ``lastrowid`` lookup of ``execute``). psycopg reads a
whole row at once, so PostgreSQL keeps plain columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ivr.store import jsontext
from ivr.store.db import Statements
from ivr.store.models import Call

_CALLS = cast(Table, Call.__table__)


@dataclass(frozen=True)
class CallRecord:
    """What a turn needs of a call's row (and what side effects may read of the call)."""

    sid: str
    caller: str
    line: str
    flow_version: str
    turn: int
    state: dict[str, Any]
    inputs: list[Any]


_COLUMNS = (
    _CALLS.c.sid,
    _CALLS.c.caller,
    _CALLS.c.line,
    _CALLS.c.flow_version,
    _CALLS.c.turn,
    _CALLS.c.state,
    _CALLS.c.inputs,
)

# Built once with bound parameters: SQLAlchemy then reuses the compiled SQL on every read.
_READ = select(*_COLUMNS).where(_CALLS.c.sid == bindparam("call_sid"))

_SELECT = "SELECT sid, caller, line, flow_version, turn, state, inputs FROM calls"
# The same row as one JSON array (``json()`` nests the stored JSON text instead of quoting it).
_SELECT_PACKED = (
    "SELECT json_array(sid, caller, line, flow_version, turn, json(state), json(inputs)) FROM calls"
)


def _json(value: Any) -> Any:
    # SQLite hands JSON columns back as text; psycopg decodes them itself.
    return jsontext.loads(value) if isinstance(value, str | bytes) else value


def _postgres_json(value: Any) -> Any:
    from psycopg.types.json import Json

    # Encoded with the engine's serialiser (``make_engine``), which the connection carries.
    return Json(value)


@dataclass(frozen=True)
class NewCall:
    """A call's row as its first turn stores it (the columns a later turn or the status
    callback fills in are left out)."""

    sid: str
    account_sid: str
    line: str
    caller: str
    direction: str
    flow: str
    flow_version: str
    status: str
    started_at: datetime
    state: dict[str, Any]
    path: list[Any]
    inputs: list[Any]
    turn: int
    last_twiml: str


# The columns of the INSERT, in the order ``CallRows.insert`` passes the values.
_NEW_CALL_COLUMNS = tuple(NewCall.__dataclass_fields__)


@dataclass(frozen=True)
class CallRows:
    """The statements of every turn in one driver's SQL and parameter style."""

    read_sql: str
    lock_sql: str
    answer_sql: str
    save_sql: str
    insert_sql: str
    # How a JSON column value is passed to the driver.
    encode: Callable[[Any], Any]
    # How a moment is passed to the driver (as SQLAlchemy would store it).
    encode_time: Callable[[datetime], Any]
    # How the row the read statements return becomes a record.
    decode: Callable[[tuple[Any, ...] | None], CallRecord | None]

    def read(self, statements: Statements, sid: str) -> CallRecord | None:
        """The call's row as it stands, without a lock."""
        return self.decode(statements.fetchone(self.read_sql, (sid,)))

    def lock(self, statements: Statements, sid: str) -> CallRecord | None:
        """The call's row, locked until the transaction ends (``FOR UPDATE``; on SQLite the
        transaction already holds the database's write lock)."""
        return self.decode(statements.fetchone(self.lock_sql, (sid,)))

    def answer(self, statements: Statements, sid: str) -> str | None:
        """The TwiML the call's last turn was answered with (for a webhook Twilio repeats).

        Not part of ``read``: a turn needs it only when it turns out to be a repeat, and
        SQLite would quote the whole document into the packed row on every read."""
        row = statements.fetchone(self.answer_sql, (sid,))
        return None if row is None else str(row[0])

    def save(
        self,
        statements: Statements,
        call: CallRecord,
        *,
        state: dict[str, Any],
        path: list[str],
        inputs: list[Any],
        twiml: str,
    ) -> bool:
        """Store the outcome of the turn after ``call.turn``: the new state, the call log and
        the TwiML sent. False, storing nothing, when the call has moved on since it was read
        (another delivery of the same webhook was answered first)."""
        encode = self.encode
        values = (encode(state), encode(path), encode(inputs), twiml)
        changed = statements.execute(self.save_sql, (call.turn + 1, *values, call.sid, call.turn))
        return changed == 1

    def insert(self, statements: Statements, call: NewCall) -> bool:
        """Store a new call's row; False, storing nothing, when a row of that CallSid is
        there already (another delivery of the same first webhook was answered first)."""
        encode = self.encode
        values = (
            call.sid,
            call.account_sid,
            call.line,
            call.caller,
            call.direction,
            call.flow,
            call.flow_version,
            call.status,
            self.encode_time(call.started_at),
            encode(call.state),
            encode(call.path),
            encode(call.inputs),
            call.turn,
            call.last_twiml,
        )
        return statements.execute(self.insert_sql, values) == 1


def _record(row: tuple[Any, ...] | None) -> CallRecord | None:
    if row is None:
        return None
    sid, caller, line, version, turn, state, inputs = row
    return CallRecord(sid, caller, line, version, turn, _json(state), _json(inputs))


def _packed_record(row: tuple[Any, ...] | None) -> CallRecord | None:
    if row is None:
        return None
    return CallRecord(*jsontext.loads(row[0]))


def _save_sql(p: str) -> str:
    return (
        f"UPDATE calls SET turn = {p}, state = {p}, path = {p}, inputs = {p}, "
        f"last_twiml = {p} WHERE sid = {p} AND turn = {p}"
    )


def _insert_sql(p: str) -> str:
    columns = ", ".join(_NEW_CALL_COLUMNS)
    marks = ", ".join([p] * len(_NEW_CALL_COLUMNS))
    return f"INSERT INTO calls ({columns}) VALUES ({marks}) ON CONFLICT (sid) DO NOTHING"


# SQLAlchemy's own text form of a moment on SQLite, so that rows read back the same
# whichever way they were written.
_sqlite_time = cast(
    Callable[[datetime], str],
    _CALLS.c.started_at.type.dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect()),
)


def _as_is(moment: datetime) -> datetime:
    return moment


# SQLite locks the whole database for a writer: a turn that must hold the call runs in a
# ``BEGIN IMMEDIATE`` transaction instead of locking the row.
SQLITE_ROWS = CallRows(
    read_sql=_SELECT_PACKED + " WHERE sid = ?",
    lock_sql=_SELECT_PACKED + " WHERE sid = ?",
    answer_sql="SELECT last_twiml FROM calls WHERE sid = ?",
    save_sql=_save_sql("?"),
    insert_sql=_insert_sql("?"),
    encode=jsontext.dumps,
    encode_time=_sqlite_time,
    decode=_packed_record,
)
POSTGRES_ROWS = CallRows(
    read_sql=_SELECT + " WHERE sid = %s",
    lock_sql=_SELECT + " WHERE sid = %s FOR UPDATE",
    answer_sql="SELECT last_twiml FROM calls WHERE sid = %s",
    save_sql=_save_sql("%s"),
    insert_sql=_insert_sql("%s"),
    encode=_postgres_json,
    encode_time=_as_is,
    decode=_record,
)


def call_rows(dialect: str, driver: str) -> CallRows:
    """The turn statements for a database and its driver: SQLite's own, or PostgreSQL's with
    psycopg 3 (``postgresql+psycopg://``)."""
    if dialect == "sqlite":
        return SQLITE_ROWS
    if dialect == "postgresql" and driver == "psycopg":
        return POSTGRES_ROWS
    raise ValueError(
        f"turns are written for SQLite, or PostgreSQL through psycopg 3 "
        f"(postgresql+psycopg://…), not {dialect}+{driver}"
    )


def read_call(session: Session | Connection, sid: str) -> CallRecord | None:
    """The call's row without a lock (for read-only webhooks such as queue music)."""
    row = session.execute(_READ, {"call_sid": sid}).one_or_none()
    return CallRecord(*row) if row is not None else None
