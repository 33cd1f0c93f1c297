"""The call log for the console: calls filtered by line, day and outcome, and one call's
path through its flow version with the caller's inputs (masked when they were stored).

The outcome is read from the call's path against the flow version it ran on: the furthest
thing the call reached (a voice message, a callback booking, an operator queue, a transfer,
the request status line) or, failing those, the menus.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.domain.schedule import MOSCOW
from ivr.flows.model import Flow
from ivr.flows.registry import FlowRegistry
from ivr.store.models import Call, stored_utc

OUTCOMES = {
    "in_progress": "идёт сейчас",
    "voicemail": "оставил сообщение",
    "callback": "заказал звонок",
    "operator": "к оператору",
    "transfer": "переведён",
    "self_service": "узнал статус обращения",
    "menu": "закончил в меню",
    "unknown_line": "неизвестная линия",
}
# Node kinds by what they say about the call's end, strongest first.
_REACHED = (
    ("voicemail", "voicemail"),
    ("callback", "callback"),
    ("queue", "operator"),
    ("dial", "transfer"),
    ("request_status", "self_service"),
)
NODE_KINDS = {
    "prompt": "сообщение",
    "menu": "меню",
    "schedule": "расписание",
    "queue": "очередь",
    "dial": "перевод на номер",
    "goto": "переход",
    "hangup": "завершение",
    "voicemail": "голосовое сообщение",
    "callback": "обратный звонок",
    "request_status": "статус обращения",
    "text_alternative": "SMS с каналами",
}
INPUT_KINDS = {
    "digits": "нажал",
    "speech": "сказал",
    "timeout": "молчал",
    "recording": "записал",
    "queue": "очередь",
    "dial": "перевод",
}
# A call still "in progress" this long after it began lost its status callback.
STALE_CALL = timedelta(hours=4)


@dataclass(frozen=True)
class CallRow:
    """A call as the log lists it."""

    sid: str
    started_at: datetime
    ended_at: datetime | None
    line: str
    caller: str
    direction: str
    flow: str
    flow_version: str
    status: str
    duration: int | None
    outcome: str
    path: list[str]
    inputs: list[dict[str, Any]]

    @property
    def outcome_name(self) -> str:
        """The outcome in Russian."""
        return OUTCOMES.get(self.outcome, self.outcome)


@dataclass(frozen=True)
class PathStep:
    """A node the call passed, with its kind (from the call's own flow version)."""

    node: str
    kind: str

    @property
    def kind_name(self) -> str:
        """The node's kind in Russian."""
        return NODE_KINDS.get(self.kind, self.kind)


def in_progress(call: Call, now: datetime) -> bool:
    """Not ended, and begun recently enough that its end would have been reported."""
    return (
        call.ended_at is None
        and call.status == "in-progress"
        and stored_utc(call.started_at) > now.astimezone(UTC) - STALE_CALL
    )


def outcome_of(call: Call, flow: Flow | None, now: datetime) -> str:
    """How far the call got (see the module's docstring)."""
    if call.status == "unknown-line":
        return "unknown_line"
    if in_progress(call, now):
        return "in_progress"
    kinds = {flow.nodes[n].kind for n in call.path if flow is not None and n in flow.nodes}
    for kind, outcome in _REACHED:
        if kind in kinds:
            return outcome
    return "menu"


def _row(call: Call, flow: Flow | None, now: datetime) -> CallRow:
    return CallRow(
        call.sid,
        stored_utc(call.started_at),
        stored_utc(call.ended_at) if call.ended_at else None,
        call.line,
        call.caller,
        call.direction,
        call.flow,
        call.flow_version,
        call.status,
        call.duration,
        outcome_of(call, flow, now),
        list(call.path),
        [dict(i) for i in call.inputs],
    )


def list_calls(
    session: Session,
    registry: FlowRegistry,
    now: datetime,
    *,
    line: str = "",
    day: date | None = None,
    outcome: str = "",
    limit: int = 200,
) -> list[CallRow]:
    """The newest calls first, of one line, one (Moscow) day and one outcome when asked."""
    query = select(Call).order_by(Call.started_at.desc())
    if line:
        query = query.where(Call.line == line)
    if day is not None:
        start = datetime.combine(day, time(0, 0), MOSCOW).astimezone(UTC)
        query = query.where(Call.started_at >= start, Call.started_at < start + timedelta(days=1))
    # The outcome needs each call's flow version: read a bounded number of calls for it.
    query = query.limit(limit if not outcome else limit * 10)
    rows = []
    for call in session.scalars(query):
        row = _row(call, registry.version(call.flow_version) if call.flow_version else None, now)
        if outcome and row.outcome != outcome:
            continue
        rows.append(row)
        if len(rows) >= limit:
            break
    return rows


def find_call(
    session: Session, registry: FlowRegistry, sid: str, now: datetime
) -> tuple[CallRow, list[PathStep]] | None:
    """One call and its path, each node with its kind."""
    call = session.get(Call, sid)
    if call is None:
        return None
    flow = registry.version(call.flow_version) if call.flow_version else None
    steps = [
        PathStep(n, flow.nodes[n].kind if flow is not None and n in flow.nodes else "")
        for n in call.path
    ]
    return _row(call, flow, now), steps
