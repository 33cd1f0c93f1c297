"""The hot path of every webhook: read a call's row, write its next turn.

A turn is one ``SELECT`` and one ``UPDATE … WHERE turn = <the turn read>``, SQLAlchemy Core
statements built once (their compiled SQL is cached) and run on the turn's connection
(``Database.turn``, or the connection under an ORM session when a turn stores side effects).
The ``UPDATE`` changes nothing when the call has moved on since it was read, so a turn needs
no lock while it is worked out and is still stored exactly once; a turn with side effects
reads the row locked (``lock``) instead, so that they happen once too. A call's first turn
inserts its row with ``INSERT … ON CONFLICT (sid) DO NOTHING`` (``insert``): a second
delivery of the same webhook racing it stores nothing and is answered as the first was.

The column types do the encoding (JSON with the engine's serialiser, moments as the ORM
stores them), so a row written here reads back through the ORM exactly as one it wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

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


# The columns of the INSERT: every field of ``NewCall``.
_NEW_CALL_COLUMNS = tuple(NewCall.__dataclass_fields__)

_READ = select(
    _CALLS.c.sid,
    _CALLS.c.caller,
    _CALLS.c.line,
    _CALLS.c.flow_version,
    _CALLS.c.turn,
    _CALLS.c.state,
    _CALLS.c.inputs,
).where(_CALLS.c.sid == bindparam("call_sid"))
# SQLite renders no FOR UPDATE: its write transaction already holds the whole database.
_LOCK = _READ.with_for_update()
_ANSWER = select(_CALLS.c.last_twiml).where(_CALLS.c.sid == bindparam("call_sid"))
_SAVE = (
    update(_CALLS)
    .where(_CALLS.c.sid == bindparam("call_sid"), _CALLS.c.turn == bindparam("read_turn"))
    .values(
        turn=bindparam("next_turn"),
        state=bindparam("next_state"),
        path=bindparam("next_path"),
        inputs=bindparam("next_inputs"),
        last_twiml=bindparam("twiml"),
    )
)
# ``ON CONFLICT`` is each dialect's own construct; the statement is otherwise the same.
# SQLAlchemy keeps the count of rows an INSERT changed only when asked (``preserve_rowcount``).
_INSERTS: Mapping[str, Executable] = {
    name: dialect.insert(_CALLS)
    .on_conflict_do_nothing(index_elements=[_CALLS.c.sid])
    .execution_options(preserve_rowcount=True)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}


@dataclass(frozen=True)
class CallRows:
    """The statements of every turn, for one database."""

    insert_statement: Executable

    def read(self, statements: Statements, sid: str) -> CallRecord | None:
        """The call's row as it stands, without a lock."""
        return _record(statements.fetchone(_READ, {"call_sid": sid}))

    def lock(self, statements: Statements, sid: str) -> CallRecord | None:
        """The call's row, locked until the transaction ends (``FOR UPDATE``; on SQLite the
        transaction already holds the database's write lock)."""
        return _record(statements.fetchone(_LOCK, {"call_sid": sid}))

    def answer(self, statements: Statements, sid: str) -> str | None:
        """The TwiML the call's last turn was answered with (for a webhook Twilio repeats).

        Not part of ``read``: a turn needs it only when it turns out to be a repeat."""
        row = statements.fetchone(_ANSWER, {"call_sid": sid})
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
        changed = statements.execute(
            _SAVE,
            {
                "call_sid": call.sid,
                "read_turn": call.turn,
                "next_turn": call.turn + 1,
                "next_state": state,
                "next_path": path,
                "next_inputs": inputs,
                "twiml": twiml,
            },
        )
        return changed == 1

    def insert(self, statements: Statements, call: NewCall) -> bool:
        """Store a new call's row; False, storing nothing, when a row of that CallSid is
        there already (another delivery of the same first webhook was answered first)."""
        values = {name: getattr(call, name) for name in _NEW_CALL_COLUMNS}
        return statements.execute(self.insert_statement, values) == 1


def _record(row: Any) -> CallRecord | None:
    return None if row is None else CallRecord(*row)


def call_rows(dialect: str, driver: str = "") -> CallRows:
    """The turn statements for a database: SQLite or PostgreSQL (any driver SQLAlchemy
    has for it)."""
    insert = _INSERTS.get(dialect)
    if insert is None:
        raise ValueError(f"turns are written for SQLite or PostgreSQL, not {dialect}+{driver}")
    return CallRows(insert)


def read_call(session: Session | Connection, sid: str) -> CallRecord | None:
    """The call's row without a lock (for read-only webhooks such as queue music)."""
    row = session.execute(_READ, {"call_sid": sid}).one_or_none()
    return CallRecord(*row) if row is not None else None
