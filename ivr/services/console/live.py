"""The live dashboard's figures, from what the database knows now.

Calls in progress are those without an end (their status callback has not come) begun
within the last hours. A call waiting for a person is one whose current node is a queue:
the database does not keep when it entered the queue (Twilio's ``QueueTime`` is not stored),
so the longest wait is counted from the start of the call, which includes the menus before
the queue — an upper bound, and said so on the page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ivr.config import Settings
from ivr.flows.nodes import QueueNode
from ivr.flows.registry import FlowRegistry
from ivr.services.console.call_log import STALE_CALL
from ivr.services.console.callback_desk import DispatcherState, dispatcher_state
from ivr.services.webhook_failures import failures_since
from ivr.store.db import Database
from ivr.store.models import Call, Callback, Voicemail, stored_utc


@dataclass(frozen=True)
class LiveCall:
    """A call going on now."""

    sid: str
    line: str
    flow: str
    node: str
    started_at: datetime
    seconds: int
    queue: str


@dataclass
class QueueFigures:
    """Callers waiting in one queue."""

    name: str
    waiting: int = 0
    longest_seconds: int = 0


@dataclass(frozen=True)
class Failure:
    """A webhook that failed recently."""

    at: datetime
    route: str
    call_sid: str
    error: str


@dataclass(frozen=True)
class Live:
    """Everything the dashboard shows."""

    now: datetime
    calls: list[LiveCall]
    queues: list[QueueFigures]
    calls_today: int
    voicemails_open: int
    oldest_voicemail: datetime | None
    voicemail_downloads_failing: int
    callbacks_next_hour: int
    callbacks_overdue: int
    callbacks_failed_today: int
    errors_last_hour: int
    latest_errors: list[Failure] = field(default_factory=list)
    dispatcher: DispatcherState | None = None


def _count(session: Session, query: Select[Any]) -> int:
    return int(session.scalar(query) or 0)


def live(db: Database, registry: FlowRegistry, settings: Settings, now: datetime) -> Live:
    """The dashboard's figures at ``now``."""
    moment = now.astimezone(UTC)
    calls: list[LiveCall] = []
    queues: dict[str, QueueFigures] = defaultdict(lambda: QueueFigures(""))
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    with db.sessions() as session:
        rows = session.scalars(
            select(Call)
            .where(
                Call.ended_at.is_(None),
                Call.status == "in-progress",
                Call.started_at > moment - STALE_CALL,
            )
            .order_by(Call.started_at)
        ).all()
        for call in rows:
            flow = registry.version(call.flow_version) if call.flow_version else None
            node_id = str((call.state or {}).get("node") or "")
            node = flow.nodes.get(node_id) if flow is not None else None
            queue = ""
            seconds = max(0, int((moment - stored_utc(call.started_at)).total_seconds()))
            if isinstance(node, QueueNode):
                queue = node.queue_for(str((call.state or {}).get("lang") or "ru"))
                figures = queues[queue]
                figures.name = queue
                figures.waiting += 1
                figures.longest_seconds = max(figures.longest_seconds, seconds)
            calls.append(
                LiveCall(
                    call.sid,
                    call.line,
                    call.flow,
                    node_id,
                    stored_utc(call.started_at),
                    seconds,
                    queue,
                )
            )
        calls_today = _count(
            session, select(func.count()).select_from(Call).where(Call.started_at >= midnight)
        )
        open_voicemails = (Voicemail.handled_at.is_(None), Voicemail.status != "absent")
        voicemails_open = _count(session, select(func.count()).where(*open_voicemails))
        oldest = session.scalar(select(func.min(Voicemail.created_at)).where(*open_voicemails))
        failing = _count(
            session,
            select(func.count()).where(
                (Voicemail.status == "failed")
                | ((Voicemail.status == "pending") & (Voicemail.last_error != ""))
            ),
        )
        open_callbacks = Callback.status.in_(("booked", "retry"))
        next_hour = _count(
            session,
            select(func.count()).where(
                open_callbacks,
                Callback.next_attempt_at > moment,
                Callback.next_attempt_at <= moment + timedelta(hours=1),
            ),
        )
        overdue = _count(
            session,
            select(func.count()).where(open_callbacks, Callback.next_attempt_at <= moment),
        )
        failed_today = _count(
            session,
            select(func.count()).where(
                Callback.status.in_(("failed", "expired")), Callback.updated_at >= midnight
            ),
        )
    errors, latest = failures_since(db, now - timedelta(hours=1))
    return Live(
        now=now,
        calls=calls,
        queues=sorted(queues.values(), key=lambda q: (-q.waiting, q.name)),
        calls_today=calls_today,
        voicemails_open=voicemails_open,
        oldest_voicemail=stored_utc(oldest) if oldest else None,
        voicemail_downloads_failing=failing,
        callbacks_next_hour=next_hour,
        callbacks_overdue=overdue,
        callbacks_failed_today=failed_today,
        errors_last_hour=errors,
        latest_errors=[Failure(stored_utc(f.at), f.route, f.call_sid, f.error) for f in latest],
        dispatcher=dispatcher_state(db, settings, now),
    )
