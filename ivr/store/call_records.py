"""The hot path of every webhook: read a call's row locked, write its new turn.

Plain SQLAlchemy Core statements rather than ORM objects: a turn is one SELECT … FOR UPDATE
and one UPDATE, and the ORM's identity map and flush would cost more than the SQL itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

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


# Built once with bound parameters: SQLAlchemy then reuses the compiled SQL on every turn.
_READ = select(*_COLUMNS).where(_CALLS.c.sid == bindparam("call_sid"))


# The two statements of every turn, in each driver's own SQL: on the hot path even
# SQLAlchemy Core's per-statement work costs more than the database does.
_SQLITE_LOCK = (
    "SELECT sid, caller, line, flow_version, turn, state, last_twiml, inputs "
    "FROM calls WHERE sid = ?"
)
_SQLITE_SAVE = (
    "UPDATE calls SET turn = ?, state = ?, path = ?, inputs = ?, last_twiml = ? WHERE sid = ?"
)
_PG_LOCK = (
    "SELECT sid, caller, line, flow_version, turn, state, last_twiml, inputs "
    "FROM calls WHERE sid = %s FOR UPDATE"
)
_PG_SAVE = (
    "UPDATE calls SET turn = %s, state = %s, path = %s, inputs = %s, last_twiml = %s WHERE sid = %s"
)


def _json(value: Any) -> Any:
    # SQLite hands JSON columns back as text; psycopg decodes them itself.
    return json.loads(value) if isinstance(value, str | bytes) else value


def lock_call(connection: Connection, sid: str) -> CallRecord | None:
    """The call's row, locked until the transaction ends (``FOR UPDATE``; on SQLite the
    transaction already holds the database's write lock)."""
    raw = connection.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        if connection.dialect.name == "sqlite":
            cursor.execute(_SQLITE_LOCK, (sid,))
        else:
            cursor.execute(_PG_LOCK, (sid,))
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None:
        return None
    sid_, caller, line, version, turn, state, twiml, inputs = row
    return CallRecord(sid_, caller, line, version, turn, _json(state), twiml, _json(inputs))


def read_call(session: Session | Connection, sid: str) -> CallRecord | None:
    """The call's row without a lock (for read-only webhooks such as queue music)."""
    row = session.execute(_READ, {"call_sid": sid}).one_or_none()
    return CallRecord(*row) if row is not None else None


def save_turn(
    session: Connection,
    sid: str,
    *,
    turn: int,
    state: dict[str, Any],
    path: list[str],
    inputs: list[Any],
    twiml: str,
) -> None:
    """Store a turn's outcome: the new state, the call log and the TwiML sent."""
    raw = session.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        if session.dialect.name == "sqlite":
            values: tuple[Any, ...] = (
                turn,
                json.dumps(state),
                json.dumps(path),
                json.dumps(inputs),
                twiml,
                sid,
            )
            cursor.execute(_SQLITE_SAVE, values)
        else:
            from psycopg.types.json import Json

            cursor.execute(_PG_SAVE, (turn, Json(state), Json(path), Json(inputs), twiml, sid))
    finally:
        cursor.close()
