"""The voicemail desk: messages newest first, their audio, marking them handled, and calling
the caller back (a booking made by the same service the call flows book with)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.config import Settings
from ivr.domain.phones import to_e164
from ivr.domain.schedule import MOSCOW
from ivr.flows.model import Flow
from ivr.flows.registry import FlowSet
from ivr.flows.service_nodes import CallbackNode
from ivr.services.actions.callbacks import book, free_slot, open_booking
from ivr.services.console import audit
from ivr.store.models import OPEN_CALLBACK_STATUSES, Callback, Voicemail, stored_utc

# What a booking made from the console uses when the line's flow books no callbacks itself.
DEFAULT_SLOT_MINUTES = 15
DEFAULT_CAPACITY = 3
HORIZON_DAYS = 14

SHOWN = ("open", "handled", "all")


@dataclass(frozen=True)
class VoicemailView:
    """One message as the desk lists it."""

    id: int
    created_at: datetime
    caller: str
    line: str
    duration: int
    request_number: str
    status: str
    handled_at: datetime | None
    handled_by: str
    handled_note: str
    # The caller's open callback booking, if any: (status, slot start).
    callback: tuple[str, datetime] | None

    @property
    def playable(self) -> bool:
        """The audio is on disk."""
        return self.status == "stored"


def list_voicemails(session: Session, shown: str = "open", limit: int = 200) -> list[VoicemailView]:
    """Messages newest first: not yet handled (``open``), ``handled``, or ``all``."""
    query = select(Voicemail).order_by(Voicemail.created_at.desc(), Voicemail.id.desc())
    if shown == "open":
        query = query.where(Voicemail.handled_at.is_(None), Voicemail.status != "absent")
    elif shown == "handled":
        query = query.where(Voicemail.handled_at.is_not(None))
    rows = list(session.scalars(query.limit(limit)))
    phones = {r.caller for r in rows if r.caller}
    bookings = {
        c.phone: (c.status, stored_utc(c.slot_start))
        for c in session.scalars(
            select(Callback).where(
                Callback.phone.in_(phones), Callback.status.in_(OPEN_CALLBACK_STATUSES)
            )
        )
    }
    return [
        VoicemailView(
            r.id,
            stored_utc(r.created_at),
            r.caller,
            r.line,
            r.duration,
            r.request_number,
            r.status,
            stored_utc(r.handled_at) if r.handled_at else None,
            r.handled_by,
            r.handled_note,
            bookings.get(r.caller),
        )
        for r in rows
    ]


def count_unhandled(session: Session) -> int:
    """Messages nobody has handled yet (silent ones aside)."""
    query = select(func.count()).where(Voicemail.handled_at.is_(None), Voicemail.status != "absent")
    return int(session.scalar(query) or 0)


def audio_file(session: Session, settings: Settings, voicemail_id: int) -> Path | None:
    """The stored audio of a message, only if it lies inside the recordings directory
    (a path in the database is never trusted to point anywhere else)."""
    row = session.get(Voicemail, voicemail_id)
    if row is None or row.status != "stored" or not row.file_path:
        return None
    root = settings.recordings_dir.resolve()
    path = Path(row.file_path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def mark_handled(
    session: Session, voicemail_id: int, actor: str, note: str, now: datetime, address: str = ""
) -> bool:
    """Mark a message handled with a note; False when there is no such message. Handling it
    again replaces the note (and says so in the audit log)."""
    row = session.get(Voicemail, voicemail_id, with_for_update=True)
    if row is None:
        return False
    row.handled_at = now.astimezone(UTC)
    row.handled_by = actor
    row.handled_note = note.strip()[:2000]
    audit.record(
        session,
        actor,
        "voicemail_handled",
        now,
        target=f"сообщение {voicemail_id}",
        detail=f"обращение {row.request_number}: {row.handled_note}",
        address=address,
    )
    return True


@dataclass(frozen=True)
class CallBack:
    """What asking for a call back did: booked a slot, found one already open, or neither."""

    booked: bool
    slot_start: datetime | None = None
    problem: str = ""


def _callback_node(flow: Flow | None) -> CallbackNode | None:
    if flow is None:
        return None
    return next((n for n in flow.nodes.values() if isinstance(n, CallbackNode)), None)


def call_back(
    session: Session,
    settings: Settings,
    flows: FlowSet,
    voicemail_id: int,
    actor: str,
    now: datetime,
    *,
    after: datetime | None = None,
    address: str = "",
) -> CallBack:
    """Book a callback to the caller of a message, for its request, in the first free slot
    of the line at or after ``after`` (default: now): the dispatcher then dials them and puts
    them through to the callbacks queue. The slot length and capacity are those of the
    line's callback node, when its flow has one."""
    row = session.get(Voicemail, voicemail_id)
    if row is None:
        return CallBack(False, problem="Сообщение не найдено.")
    phone = to_e164(row.caller) if row.caller else None
    if not phone:
        return CallBack(False, problem="Номер звонившего не определён: перезвонить некуда.")
    existing = open_booking(session, phone)
    if existing is not None:
        return CallBack(
            False,
            stored_utc(existing.slot_start),
            "У этого номера уже есть обратный звонок.",
        )
    flow = flows.for_line(row.line)
    node = _callback_node(flow)
    slot_minutes = node.slot_minutes if node else DEFAULT_SLOT_MINUTES
    capacity = node.capacity if node else DEFAULT_CAPACITY
    earliest = max(now, after) if after else now
    slot = free_slot(
        session,
        settings,
        flow.runtime_schedule if flow else None,
        row.line,
        earliest,
        slot_minutes=slot_minutes,
        horizon_days=HORIZON_DAYS,
        capacity=capacity,
    )
    if slot is None:
        return CallBack(False, problem="Свободного времени в ближайшие две недели нет.")
    result = book(
        session,
        settings,
        phone=phone,
        line=row.line,
        lang=flow.languages[0] if flow else "ru",
        slot=slot,
        capacity=capacity,
        now=now,
        request_number=row.request_number,
        call_sid=row.call_sid,
    )
    if result.existing is not None:
        return CallBack(
            False,
            stored_utc(result.existing.slot_start),
            "У этого номера уже есть обратный звонок.",
        )
    if result.callback is None:
        return CallBack(False, problem="Выбранное время уже занято; попробуйте ещё раз.")
    audit.record(
        session,
        actor,
        "voicemail_callback",
        now,
        target=f"сообщение {voicemail_id}",
        detail=f"обращение {row.request_number}, время {slot[0].astimezone(MOSCOW):%d.%m.%Y %H:%M}",
        address=address,
    )
    return CallBack(True, slot[0])
