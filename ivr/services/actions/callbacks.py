"""``find_callback_slot`` and ``book_callback``: free slots and bookings that keep capacity.

Capacity is counted in ``callback_slots``: the slot's row is locked (``FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already admits one writer) before it is checked and
incremented, so 50 callers racing for a slot of capacity 3 get exactly 3 bookings. One open
booking of each kind (``slot``: for a time; ``immediate``: right away, instead of waiting in a
queue) per phone number is enforced by a unique partial index.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.config import Settings
from ivr.domain.phones import is_mobile
from ivr.domain.schedule import MOSCOW, Schedule, iter_slots
from ivr.engine.steps import ActionRequest
from ivr.services.calls import ActionContext
from ivr.services.dispatcher import calling_hours
from ivr.store.models import OPEN_CALLBACK_STATUSES, Callback, CallbackSlot, Request, stored_utc
from ivr.store.requests import create_request, record_status
from ivr.store.upsert import insert_ignore
from ivr.telephony.twilio_api import Messenger

log = logging.getLogger(__name__)


SLOT = "slot"
IMMEDIATE = "immediate"


def open_booking(session: Session, phone: str, kind: str = SLOT) -> Callback | None:
    """The phone number's open callback booking of this kind, if any."""
    return session.scalar(
        select(Callback).where(
            Callback.phone == phone,
            Callback.kind == kind,
            Callback.status.in_(OPEN_CALLBACK_STATUSES),
        )
    )


def _existing(callback: Callback) -> dict[str, Any]:
    return {
        "existing": True,
        "request_number": callback.request_number,
        "slot_start": _moscow(callback.slot_start).isoformat(),
        "slot_end": _moscow(callback.slot_end).isoformat(),
    }


def _moscow(moment: datetime) -> datetime:
    return stored_utc(moment).astimezone(MOSCOW)


def _booked(session: Session, line: str, starts: list[datetime]) -> dict[datetime, int]:
    rows = session.execute(
        select(CallbackSlot.slot_start, CallbackSlot.booked).where(
            CallbackSlot.line == line,
            CallbackSlot.slot_start.in_([s.astimezone(UTC) for s in starts]),
        )
    ).all()
    return {_moscow(start): booked for start, booked in rows}


def callable_slots(
    settings: Settings, slots: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """Only slots the dispatcher may dial in (``IVR_CALLING_HOURS``, and not on a public
    holiday unless ``IVR_CALLING_ON_HOLIDAYS``): never promise a time we will not call."""
    return [slot for slot in slots if fits_calling_hours(settings, slot)]


def fits_calling_hours(settings: Settings, slot: tuple[datetime, datetime]) -> bool:
    """Does the whole slot lie within the calling hours (its first and its last second)?"""
    hours = calling_hours(settings)
    start, end = slot
    return hours.contains(start) and hours.contains(end - timedelta(seconds=1))


def find_callback_slot(action: ActionRequest, ctx: ActionContext) -> Mapping[str, Any]:
    """The first slot after ``after`` (or now + lead time) with room left."""
    args = action.args
    existing = open_booking(ctx.session, str(args["phone"]), SLOT)
    if existing is not None:
        return _existing(existing)
    earliest = ctx.now + timedelta(minutes=int(args["lead_minutes"]))
    if args.get("after"):
        earliest = max(earliest, datetime.fromisoformat(str(args["after"])))
    found = free_slot(
        ctx.session,
        ctx.settings,
        ctx.flow.runtime_schedule,
        ctx.call.line,
        earliest,
        slot_minutes=int(args["slot_minutes"]),
        horizon_days=int(args["horizon_days"]),
        capacity=int(args["capacity"]),
    )
    if found is None:
        return {"slot_start": ""}
    start, end = found
    return {"slot_start": start.isoformat(), "slot_end": end.isoformat()}


def free_slot(
    session: Session,
    settings: Settings,
    schedule: Schedule | None,
    line: str,
    earliest: datetime,
    *,
    slot_minutes: int,
    horizon_days: int,
    capacity: int,
) -> tuple[datetime, datetime] | None:
    """The first slot of ``line`` at or after ``earliest``, inside its hours and the calling
    hours, with room left; None when there is none within ``horizon_days``."""
    slots = callable_slots(
        settings,
        iter_slots(
            schedule or Schedule(weekly={}, always_open=True), earliest, slot_minutes, horizon_days
        ),
    )
    # Look at slots a day's worth at a time: one query per batch, not per slot.
    for index in range(0, len(slots), 96):
        batch = slots[index : index + 96]
        booked = _booked(session, line, [start for start, _ in batch])
        for start, end in batch:
            if booked.get(start, 0) < capacity:
                return start, end
    return None


def locked_slot(session: Session, line: str, start: datetime) -> CallbackSlot | None:
    """The slot's row (made if new), locked until the transaction ends."""
    insert_ignore(
        session, CallbackSlot, {"line": line, "slot_start": start.astimezone(UTC), "booked": 0}
    )
    return session.scalar(
        select(CallbackSlot)
        .where(CallbackSlot.line == line, CallbackSlot.slot_start == start.astimezone(UTC))
        .with_for_update()
    )


def reserve_slot(session: Session, line: str, start: datetime, capacity: int) -> bool:
    """Take one place in a slot if it has room; the slot row is locked while deciding."""
    slot = locked_slot(session, line, start)
    if slot is None or slot.booked >= capacity:
        return False
    slot.booked += 1
    return True


def add_booking(
    ctx: ActionContext,
    *,
    phone: str,
    request_number: str,
    slot: tuple[datetime, datetime],
    flow: str = "callback",
    priority: int = 0,
    kind: str = SLOT,
) -> Callback:
    """A new open booking for ``phone`` in ``slot`` (not flushed: the caller decides)."""
    return new_booking(
        ctx.session,
        phone=phone,
        line=ctx.call.line,
        lang=ctx.state.lang,
        request_number=request_number,
        slot=slot,
        flow=flow,
        priority=priority,
        booked_call_sid=ctx.call.sid,
        now=ctx.now,
        kind=kind,
    )


def new_booking(
    session: Session,
    *,
    phone: str,
    line: str,
    lang: str,
    request_number: str,
    slot: tuple[datetime, datetime],
    now: datetime,
    flow: str = "callback",
    priority: int = 0,
    booked_call_sid: str = "",
    kind: str = SLOT,
) -> Callback:
    """A new open booking row (not flushed), whoever books it: a call or a person."""
    moment = now.astimezone(UTC)
    start, end = slot
    callback = Callback(
        phone=phone,
        line=line,
        flow=flow,
        lang=lang,
        request_number=request_number,
        slot_start=start.astimezone(UTC),
        slot_end=end.astimezone(UTC),
        status="booked",
        priority=priority,
        kind=kind,
        attempts=0,
        next_attempt_at=start.astimezone(UTC),
        last_result="",
        outbound_call_sid="",
        booked_call_sid=booked_call_sid,
        created_at=moment,
        updated_at=moment,
    )
    session.add(callback)
    return callback


class BookCallback:
    """``book_callback``: book the offered slot (or right now) for the phone number, creating
    the request; the request number goes by SMS once the booking is committed, when SMS is
    configured and the number is a mobile one."""

    def __init__(self, messenger: Messenger) -> None:
        self.messenger = messenger

    def __call__(self, action: ActionRequest, ctx: ActionContext) -> Mapping[str, Any]:
        args = action.args
        immediate = bool(args.get("immediate"))
        phone = str(args["phone"])
        start = datetime.fromisoformat(str(args["slot_start"]))
        end = datetime.fromisoformat(str(args["slot_end"]))
        result = book(
            ctx.session,
            ctx.settings,
            phone=phone,
            line=ctx.call.line,
            lang=ctx.state.lang,
            slot=(start, end),
            capacity=int(args["capacity"]),
            now=ctx.now,
            caller=ctx.call.caller,
            call_sid=ctx.call.sid,
            immediate=immediate,
            priority=1 if immediate else int(args.get("priority", 0)),
            flow=str(args.get("callback_flow", "callback")),
        )
        if result.existing is not None:
            return _existing(result.existing)
        if result.callback is None:
            return {"ok": False}
        number = result.callback.request_number
        log.info("callback booked: request %s, slot %s", number, start.isoformat())
        template = str(args.get("sms", ""))
        sms = bool(template) and self.messenger.enabled and is_mobile(phone)
        if sms:
            text = template.replace("{request_digits}", number)
            # After the commit: never text a number whose booking might roll back.
            ctx.after_commit.append(lambda: self.messenger.send(phone, text))
        return {"ok": True, "request_number": number, "sms": sms}


@dataclass(frozen=True)
class Booking:
    """What ``book`` did: the new booking, or the number's open one, or neither (no room)."""

    callback: Callback | None = None
    existing: Callback | None = None


def book(
    session: Session,
    settings: Settings,
    *,
    phone: str,
    line: str,
    lang: str,
    slot: tuple[datetime, datetime],
    capacity: int,
    now: datetime,
    request_number: str | None = None,
    caller: str = "",
    call_sid: str = "",
    immediate: bool = False,
    priority: int = 0,
    flow: str = "callback",
) -> Booking:
    """Book ``slot`` for ``phone``, whoever asks (a call's callback node, or a person in the
    console): the slot's capacity is kept, one open booking per number.

    Without ``request_number`` a request is registered for the booking; with one (a person
    calling back about a voicemail) the booking belongs to that request. An ``immediate``
    callback takes no place in a slot and is refused outside the calling hours.
    """
    kind = IMMEDIATE if immediate else SLOT
    existing = open_booking(session, phone, kind)
    if existing is not None:
        return Booking(existing=existing)
    start, end = slot
    try:
        with session.begin_nested():
            if immediate and not fits_calling_hours(settings, slot):
                # Nobody calls now, or the calling hours end before the slot does: the caller
                # is given the next slot we will dial in instead.
                return Booking()
            # An immediate callback is a priority: it does not wait for room in a slot.
            if not immediate and not reserve_slot(session, line, start, capacity):
                return Booking()
            if request_number is None:
                request_number = create_request(
                    session,
                    source="callback",
                    category="callback",
                    now=now.astimezone(UTC),
                    caller=caller,
                    line=line,
                    call_sid=call_sid,
                    due_at=end.astimezone(UTC),
                ).number
            callback = new_booking(
                session,
                phone=phone,
                line=line,
                lang=lang,
                request_number=request_number,
                slot=slot,
                now=now,
                flow=flow,
                priority=priority,
                booked_call_sid=call_sid,
                kind=kind,
            )
            session.flush()
    except IntegrityError:
        # Another call booked this number a moment ago (the unique open-booking index).
        existing = open_booking(session, phone, kind)
        if existing is None:
            raise
        return Booking(existing=existing)
    return Booking(callback=callback)


def cancel_callback(action: ActionRequest, ctx: ActionContext) -> Mapping[str, Any]:
    """The caller refused the booking this call just made for them: cancel it and give its
    place in the slot back. Only a booking of this call that nobody dials yet; asked twice
    (Twilio's retry of the same webhook), the second time finds it canceled and says so.

    The request registered for the booking is closed with it («Закрыто»): nothing is left to
    do about it, and a caller asking its status later must not hear it is still waiting."""
    number = str(action.args["request_number"])
    row = ctx.session.scalar(
        select(Callback)
        .where(Callback.request_number == number, Callback.booked_call_sid == ctx.call.sid)
        .with_for_update()
    )
    if row is None:
        return {"canceled": False}
    if row.status == "booked":
        if row.priority == 0:
            # A plain booking took a place in its slot (priority ones never did).
            slot = locked_slot(ctx.session, row.line, _moscow(row.slot_start))
            if slot is not None:
                slot.booked = max(0, slot.booked - 1)
        row.status, row.last_result = "canceled", "canceled-by-caller"
        row.updated_at = ctx.now.astimezone(UTC)
        _close_refused_request(ctx, number)
        log.info("callback for request %s canceled by the caller", number)
    return {"canceled": row.status == "canceled"}


REFUSED_NOTE = "звонивший отказался от обратного звонка"


def _close_refused_request(ctx: ActionContext, number: str) -> None:
    """Close the request a refused booking registered: only one this call registered for a
    callback and nobody has taken up since (still «зарегистрировано»)."""
    request = ctx.session.get(Request, number, with_for_update=True)
    if (
        request is None
        or request.source != "callback"
        or request.call_sid != ctx.call.sid
        or request.status != "registered"
    ):
        return
    moment = ctx.now.astimezone(UTC)
    request.status = "closed"
    record_status(ctx.session, number, "closed", source="callback", at=moment, note=REFUSED_NOTE)
