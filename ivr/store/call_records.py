"""The hot path of every webhook: read a call's row locked, write its new turn.

A turn is one ``SELECT … FOR UPDATE`` and one ``UPDATE``, written in each driver's own SQL on
the driver's connection (``Database.turn``, or the connection under an ORM session when a turn
runs side effects): on this path even SQLAlchemy Core's per-statement work costs more than the
database does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ivr.store.db import DriverConnection
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
    last_twiml: str
    inputs: list[Any]


_COLUMNS = (
    _CALLS.c.sid,
    _CALLS.c.caller,
    _CALLS.c.line,
    _CALLS.c.flow_version,
    _CALLS.c.turn,
    _CALLS.c.state,
    _CALLS.c.last_twiml,
    _CALLS.c.inputs,
)

# Built once with bound parameters: SQLAlchemy then reuses the compiled SQL on every read.
_READ = select(*_COLUMNS).where(_CALLS.c.sid == bindparam("call_sid"))

_SELECT = "SELECT sid, caller, line, flow_version, turn, state, last_twiml, inputs FROM calls"


def _json(value: Any) -> Any:
    # SQLite hands JSON columns back as text; psycopg decodes them itself.
    return json.loads(value) if isinstance(value, str | bytes) else value


def _postgres_json(value: Any) -> Any:
    from psycopg.types.json import Json

    return Json(value)


@dataclass(frozen=True)
class CallRows:
    """The two statements of every turn in one driver's SQL and parameter style."""

    lock_sql: str
    save_sql: str
    # How a JSON column value is passed to the driver.
    encode: Callable[[Any], Any]

    def lock(self, connection: DriverConnection, sid: str) -> CallRecord | None:
        """The call's row, locked until the transaction ends (``FOR UPDATE``; on SQLite the
        transaction already holds the database's write lock)."""
        cursor = connection.cursor()
        try:
            cursor.execute(self.lock_sql, (sid,))
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        sid_, caller, line, version, turn, state, twiml, inputs = row
        return CallRecord(sid_, caller, line, version, turn, _json(state), twiml, _json(inputs))

    def save(
        self,
        connection: DriverConnection,
        sid: str,
        *,
        turn: int,
        state: dict[str, Any],
        path: list[str],
        inputs: list[Any],
        twiml: str,
    ) -> None:
        """Store a turn's outcome: the new state, the call log and the TwiML sent."""
        encode = self.encode
        cursor = connection.cursor()
        try:
            cursor.execute(
                self.save_sql, (turn, encode(state), encode(path), encode(inputs), twiml, sid)
            )
        finally:
            cursor.close()


_SAVE = "UPDATE calls SET turn = {p}, state = {p}, path = {p}, inputs = {p}, last_twiml = {p}"

SQLITE_ROWS = CallRows(
    lock_sql=f"{_SELECT} WHERE sid = ?",
    save_sql=_SAVE.format(p="?") + " WHERE sid = ?",
    encode=json.dumps,
)
POSTGRES_ROWS = CallRows(
    lock_sql=f"{_SELECT} WHERE sid = %s FOR UPDATE",
    save_sql=_SAVE.format(p="%s") + " WHERE sid = %s",
    encode=_postgres_json,
)


def call_rows(dialect: str) -> CallRows:
    """The turn statements for a database dialect (``sqlite`` or ``postgresql``)."""
    if dialect == "sqlite":
        return SQLITE_ROWS
    if dialect == "postgresql":
        return POSTGRES_ROWS
    raise ValueError(f"no turn statements for the {dialect!r} database")


def driver_connection(session: Session) -> DriverConnection:
    """The driver's connection under an ORM session, inside the session's transaction."""
    return session.connection().connection.driver_connection


def read_call(session: Session | Connection, sid: str) -> CallRecord | None:
    """The call's row without a lock (for read-only webhooks such as queue music)."""
    row = session.execute(_READ, {"call_sid": sid}).one_or_none()
    return CallRecord(*row) if row is not None else None
