"""The hot path of every webhook: read a call's row, write its next turn.

A turn is one ``SELECT`` and one ``UPDATE … WHERE turn = <the turn read>``, in each driver's
own SQL (``Database.turn``, or the connection under an ORM session when a turn stores side
effects): on this path even SQLAlchemy Core's per-statement work costs more than the database
does. The ``UPDATE`` changes nothing when the call has moved on since it was read, so a turn
needs no lock while it is worked out and is still stored exactly once; a turn with side
effects reads the row locked (``lock``) instead, so that they happen once too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
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
    return jsontext.loads(value) if isinstance(value, str | bytes) else value


def _postgres_json(value: Any) -> Any:
    from psycopg.types.json import Json

    # Encoded with the engine's serialiser (``make_engine``), which the connection carries.
    return Json(value)


@dataclass(frozen=True)
class CallRows:
    """The statements of every turn in one driver's SQL and parameter style."""

    read_sql: str
    lock_sql: str
    save_sql: str
    # How a JSON column value is passed to the driver.
    encode: Callable[[Any], Any]

    def read(self, statements: Statements, sid: str) -> CallRecord | None:
        """The call's row as it stands, without a lock."""
        return _record(statements.fetchone(self.read_sql, (sid,)))

    def lock(self, statements: Statements, sid: str) -> CallRecord | None:
        """The call's row, locked until the transaction ends (``FOR UPDATE``; on SQLite the
        transaction already holds the database's write lock)."""
        return _record(statements.fetchone(self.lock_sql, (sid,)))

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


def _record(row: tuple[Any, ...] | None) -> CallRecord | None:
    if row is None:
        return None
    sid, caller, line, version, turn, state, twiml, inputs = row
    return CallRecord(sid, caller, line, version, turn, _json(state), twiml, _json(inputs))


def _rows(p: str, lock: str) -> CallRows:
    where = f" WHERE sid = {p}"
    return CallRows(
        read_sql=_SELECT + where,
        lock_sql=_SELECT + where + lock,
        save_sql=(
            f"UPDATE calls SET turn = {p}, state = {p}, path = {p}, inputs = {p}, "
            f"last_twiml = {p}{where} AND turn = {p}"
        ),
        encode=jsontext.dumps if p == "?" else _postgres_json,
    )


# SQLite locks the whole database for a writer: a turn that must hold the call runs in a
# ``BEGIN IMMEDIATE`` transaction instead.
SQLITE_ROWS = _rows("?", lock="")
POSTGRES_ROWS = _rows("%s", lock=" FOR UPDATE")


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
