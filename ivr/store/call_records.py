"""The hot path of every webhook: read a call's row locked, write its new turn.

Plain SQLAlchemy Core statements rather than ORM objects: a turn is one SELECT … FOR UPDATE
and one UPDATE, and the ORM's identity map and flush would cost more than the SQL itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
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
_LOCK = _READ.with_for_update()
_SAVE = (
    update(_CALLS)
    .where(_CALLS.c.sid == bindparam("call_sid"))
    .values(
        turn=bindparam("new_turn"),
        state=bindparam("new_state"),
        path=bindparam("new_path"),
        inputs=bindparam("new_inputs"),
        last_twiml=bindparam("new_twiml"),
    )
)


def lock_call(session: Session | Connection, sid: str) -> CallRecord | None:
    """The call's row, locked until the transaction ends (``FOR UPDATE``; on SQLite the
    transaction already holds the database's write lock)."""
    row = session.execute(_LOCK, {"call_sid": sid}).one_or_none()
    return CallRecord(*row) if row is not None else None


def read_call(session: Session | Connection, sid: str) -> CallRecord | None:
    """The call's row without a lock (for read-only webhooks such as queue music)."""
    row = session.execute(_READ, {"call_sid": sid}).one_or_none()
    return CallRecord(*row) if row is not None else None


def save_turn(
    session: Session | Connection,
    sid: str,
    *,
    turn: int,
    state: dict[str, Any],
    path: list[str],
    inputs: list[Any],
    twiml: str,
) -> None:
    """Store a turn's outcome: the new state, the call log and the TwiML sent."""
    session.execute(
        _SAVE,
        {
            "call_sid": sid,
            "new_turn": turn,
            "new_state": state,
            "new_path": path,
            "new_inputs": inputs,
            "new_twiml": twiml,
        },
    )
