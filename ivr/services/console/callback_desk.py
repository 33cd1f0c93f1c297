"""The callback desk: bookings of today and later by status, with attempts and results;
rescheduling, cancelling and marking done by hand; and the dispatcher's state.

A booking moved by hand keeps the slot counts honest (``callback_slots``): it leaves its old
slot and takes a place in the new one, even past the slot's capacity (a person agreed the
time with the caller). The dispatcher dials only inside the calling hours, so a new time
outside them is refused.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.config import Settings
from ivr.domain.schedule import MOSCOW
from ivr.services.actions.callbacks import SLOT, locked_slot, open_booking
from ivr.services.console import audit
from ivr.services.dispatcher import (
    DUE_STATUSES,
    CallingHours,
    Heartbeat,
    calling_hours,
    heartbeats,
)
from ivr.store.db import Database
from ivr.store.models import OPEN_CALLBACK_STATUSES, Callback, stored_utc

STATUSES = ("booked", "dialing", "retry", "failed", "expired", "completed", "canceled")
# Finished bookings stay on the desk this long after their slot, for follow-up.
LOOK_BACK = timedelta(days=7)
RESCHEDULABLE = ("booked", "retry", "failed", "expired", "canceled")
DONE_ALLOWED = ("booked", "dialing", "retry", "failed", "expired")


_ANOTHER_OPEN = "У этого номера уже есть другой открытый обратный звонок: перенесите его."


class DeskError(Exception):
    """A change the desk refuses; the message is for the person, in Russian."""


@dataclass(frozen=True)
class CallbackView:
    """One booking as the desk lists it."""

    id: int
    phone: str
    line: str
    request_number: str
    slot_start: datetime
    slot_end: datetime
    status: str
    priority: int
    attempts: int
    next_attempt_at: datetime
    last_result: str
    updated_at: datetime

    @property
    def open(self) -> bool:
        """Still to be dialled (or being dialled)."""
        return self.status in OPEN_CALLBACK_STATUSES


def _view(c: Callback) -> CallbackView:
    return CallbackView(
        c.id,
        c.phone,
        c.line,
        c.request_number,
        stored_utc(c.slot_start),
        stored_utc(c.slot_end),
        c.status,
        c.priority,
        c.attempts,
        stored_utc(c.next_attempt_at),
        c.last_result,
        stored_utc(c.updated_at),
    )


@dataclass(frozen=True)
class Desk:
    """Today's bookings and the later ones, and how many there are of each status."""

    today: list[CallbackView]
    later: list[CallbackView]
    earlier: list[CallbackView]
    counts: dict[str, int]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), MOSCOW).astimezone(UTC)


def desk(session: Session, now: datetime, status: str = "") -> Desk:
    """Bookings from a week back on, by slot: today's, the later ones, and the earlier ones
    still open or left failed or expired (they need a person); ``status`` filters them."""
    today = now.astimezone(MOSCOW).date()
    start_today = _day_start(today)
    start_tomorrow = _day_start(today + timedelta(days=1))
    query = (
        select(Callback)
        .where(Callback.slot_start >= start_today - LOOK_BACK)
        .order_by(Callback.slot_start, Callback.id)
    )
    rows = [_view(c) for c in session.scalars(query)]
    counts = Counter(r.status for r in rows)
    if status:
        rows = [r for r in rows if r.status == status]
    return Desk(
        today=[r for r in rows if start_today <= r.slot_start < start_tomorrow],
        later=[r for r in rows if r.slot_start >= start_tomorrow],
        earlier=[
            r
            for r in rows
            if r.slot_start < start_today
            and r.status in (*OPEN_CALLBACK_STATUSES, "failed", "expired")
        ],
        counts={s: counts.get(s, 0) for s in STATUSES},
    )


def _locked(session: Session, callback_id: int) -> Callback:
    row = session.get(Callback, callback_id, with_for_update=True)
    if row is None:
        raise DeskError("Такого обратного звонка нет.")
    return row


def _shift_slot(session: Session, line: str, start: datetime, by: int) -> None:
    slot = locked_slot(session, line, start)
    if slot is not None:
        slot.booked = max(0, slot.booked + by)


def _holds_a_place(row: Callback) -> bool:
    # Bookings with priority (immediate, escalations) never took a place in their slot.
    return row.status in DUE_STATUSES and row.priority == 0


def reschedule(
    session: Session,
    settings: Settings,
    callback_id: int,
    start: datetime,
    actor: str,
    now: datetime,
    address: str = "",
) -> CallbackView:
    """Move a booking to a new time (same slot length), open again with fresh attempts."""
    row = _locked(session, callback_id)
    if row.status not in RESCHEDULABLE:
        raise DeskError("Этот звонок сейчас набирается или уже выполнен: перенести его нельзя.")
    if start <= now:
        raise DeskError("Новое время должно быть в будущем.")
    hours = calling_hours(settings)
    length = stored_utc(row.slot_end) - stored_utc(row.slot_start)
    if not hours.contains(start) or not hours.contains(start + length - timedelta(seconds=1)):
        raise DeskError(
            f"Обзвон идёт только в часы {hours_text(hours)} (по Москве): выберите другое время."
        )
    old_start = stored_utc(row.slot_start)
    # Moved to a time, the booking is a slot booking, whatever it was.
    other = open_booking(session, row.phone, SLOT)
    if other is not None and other.id != row.id:
        raise DeskError(_ANOTHER_OPEN)
    moment = now.astimezone(UTC)
    try:
        # A booking of the same number opened a moment ago (the unique open-booking index).
        with session.begin_nested():
            if _holds_a_place(row):
                _shift_slot(session, row.line, old_start, -1)
            row.slot_start = start.astimezone(UTC)
            row.slot_end = (start + length).astimezone(UTC)
            row.next_attempt_at = row.slot_start
            row.status = "booked"
            row.attempts = 0
            row.priority = 0
            row.kind = SLOT
            row.last_result = "rescheduled"
            row.updated_at = moment
            _shift_slot(session, row.line, start, +1)
            session.flush()
    except IntegrityError as exc:
        raise DeskError(_ANOTHER_OPEN) from exc
    audit.record(
        session,
        actor,
        "callback_rescheduled",
        now,
        target=f"обратный звонок {callback_id}",
        detail=(
            f"обращение {row.request_number}: {old_start.astimezone(MOSCOW):%d.%m %H:%M}"
            f" → {start.astimezone(MOSCOW):%d.%m %H:%M}"
        ),
        address=address,
    )
    return _view(row)


def cancel(
    session: Session, callback_id: int, actor: str, now: datetime, address: str = ""
) -> CallbackView:
    """Cancel an open booking: the dispatcher will not dial it."""
    return _close(
        session,
        callback_id,
        DUE_STATUSES,
        ("canceled", "canceled-by-hand", "callback_canceled"),
        "Отменить можно только звонок, который ещё не набирается.",
        actor,
        now,
        address,
    )


def mark_done(
    session: Session, callback_id: int, actor: str, now: datetime, address: str = ""
) -> CallbackView:
    """Mark a booking done by hand (the caller was reached another way)."""
    return _close(
        session,
        callback_id,
        DONE_ALLOWED,
        ("completed", "done-by-hand", "callback_done"),
        "Этот звонок уже закрыт.",
        actor,
        now,
        address,
    )


def _close(
    session: Session,
    callback_id: int,
    allowed: tuple[str, ...],
    outcome: tuple[str, str, str],
    refusal: str,
    actor: str,
    now: datetime,
    address: str,
) -> CallbackView:
    """End a booking by hand: ``outcome`` is its new status, its result and the audit action."""
    row = _locked(session, callback_id)
    if row.status not in allowed:
        raise DeskError(refusal)
    if _holds_a_place(row):
        _shift_slot(session, row.line, stored_utc(row.slot_start), -1)
    row.status, row.last_result, action = outcome
    row.updated_at = now.astimezone(UTC)
    audit.record(
        session,
        actor,
        action,
        now,
        target=f"обратный звонок {callback_id}",
        detail=f"обращение {row.request_number}",
        address=address,
    )
    return _view(row)


@dataclass(frozen=True)
class DispatcherState:
    """What the dispatcher did last and what waits for it."""

    workers: list[Heartbeat]
    stale: list[Heartbeat]
    due_now: int
    due_next_hour: int
    interval: float
    calling_hours: str
    calling_now: bool

    @property
    def last_pass(self) -> datetime | None:
        """The latest pass of any worker."""
        return self.workers[0].last_pass_at if self.workers else None

    @property
    def running(self) -> bool:
        """Some worker has made a pass recently."""
        return len(self.workers) > len(self.stale)


def hours_text(hours: CallingHours) -> str:
    """The calling hours as the console says them: «09:00–20:00, кроме праздников»."""
    span = str(hours).split(" ", 1)[0].replace("-", "–")
    return span if hours.on_holidays else f"{span}, кроме праздников"


def _due(session: Session, before: datetime) -> int:
    query = select(func.count()).where(
        Callback.status.in_(DUE_STATUSES), Callback.next_attempt_at <= before.astimezone(UTC)
    )
    return int(session.scalar(query) or 0)


def dispatcher_state(db: Database, settings: Settings, now: datetime) -> DispatcherState:
    """The workers' heartbeats (``ivr.services.dispatcher.heartbeats``), which of them have
    gone quiet, and how many bookings are due now and within the hour."""
    beats = heartbeats(db)
    interval = settings.worker_interval
    with db.sessions() as session:
        due_now = _due(session, now)
        due_hour = _due(session, now + timedelta(hours=1))
    hours = calling_hours(settings)
    return DispatcherState(
        workers=beats,
        stale=[b for b in beats if b.is_stale(now, interval)],
        due_now=due_now,
        due_next_hour=due_hour,
        interval=interval,
        calling_hours=hours_text(hours),
        calling_now=hours.contains(now),
    )
