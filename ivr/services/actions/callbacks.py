"""``find_callback_slot`` and ``book_callback``: free slots and bookings that keep capacity.

Capacity is counted in ``callback_slots``: the slot's row is locked (``FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already admits one writer) before it is checked and
incremented, so 50 callers racing for a slot of capacity 3 get exactly 3 bookings. One open
booking per phone number is enforced by a unique partial index.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.config import Settings
from ivr.domain.schedule import MOSCOW, Schedule, iter_slots
from ivr.engine.steps import ActionRequest
from ivr.services.calls import ActionContext
from ivr.services.dispatcher import calling_hours
from ivr.store.models import OPEN_CALLBACK_STATUSES, Callback, CallbackSlot, stored_utc
from ivr.store.requests import create_request
from ivr.store.upsert import insert_ignore

log = logging.getLogger(__name__)


def open_booking(session: Session, phone: str) -> Callback | None:
    """The phone number's open callback booking, if any."""
    return session.scalar(
        select(Callback).where(Callback.phone == phone, Callback.status.in_(OPEN_CALLBACK_STATUSES))
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
    hours = calling_hours(settings)
    return [
        (start, end)
        for start, end in slots
        if hours.contains(start) and hours.contains(end - timedelta(seconds=1))
    ]


def find_callback_slot(action: ActionRequest, ctx: ActionContext) -> Mapping[str, Any]:
    """The first slot after ``after`` (or now + lead time) with room left."""
    args = action.args
    existing = open_booking(ctx.session, str(args["phone"]))
    if existing is not None:
        return _existing(existing)
    earliest = ctx.now + timedelta(minutes=int(args["lead_minutes"]))
    if args.get("after"):
        earliest = max(earliest, datetime.fromisoformat(str(args["after"])))
    schedule = ctx.flow.runtime_schedule or Schedule(weekly={}, always_open=True)
    slots = callable_slots(
        ctx.settings,
        iter_slots(schedule, earliest, int(args["slot_minutes"]), int(args["horizon_days"])),
    )
    capacity = int(args["capacity"])
    # Look at slots a day's worth at a time: one query per batch, not per slot.
    for index in range(0, len(slots), 96):
        batch = slots[index : index + 96]
        booked = _booked(ctx.session, ctx.call.line, [start for start, _ in batch])
        for start, end in batch:
            if booked.get(start, 0) < capacity:
                return {"slot_start": start.isoformat(), "slot_end": end.isoformat()}
    return {"slot_start": ""}


def reserve_slot(session: Session, line: str, start: datetime, capacity: int) -> bool:
    """Take one place in a slot if it has room; the slot row is locked while deciding."""
    insert_ignore(
        session, CallbackSlot, {"line": line, "slot_start": start.astimezone(UTC), "booked": 0}
    )
    slot = session.scalar(
        select(CallbackSlot)
        .where(CallbackSlot.line == line, CallbackSlot.slot_start == start.astimezone(UTC))
        .with_for_update()
    )
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
) -> Callback:
    """A new open booking for ``phone`` in ``slot`` (not flushed: the caller decides)."""
    now = ctx.now.astimezone(UTC)
    start, end = slot
    callback = Callback(
        phone=phone,
        line=ctx.call.line,
        flow=flow,
        lang=ctx.state.lang,
        request_number=request_number,
        slot_start=start.astimezone(UTC),
        slot_end=end.astimezone(UTC),
        status="booked",
        priority=priority,
        attempts=0,
        next_attempt_at=start.astimezone(UTC),
        last_result="",
        outbound_call_sid="",
        booked_call_sid=ctx.call.sid,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(callback)
    return callback


def book_callback(action: ActionRequest, ctx: ActionContext) -> Mapping[str, Any]:
    """Book the offered slot for the phone number, creating the request."""
    args = action.args
    phone = str(args["phone"])
    existing = open_booking(ctx.session, phone)
    if existing is not None:
        return _existing(existing)
    start = datetime.fromisoformat(str(args["slot_start"]))
    end = datetime.fromisoformat(str(args["slot_end"]))
    line = ctx.call.line
    try:
        with ctx.session.begin_nested():
            immediate = bool(args.get("immediate"))
            if immediate and not calling_hours(ctx.settings).contains(ctx.now):
                # Nobody calls now: the caller is offered the next slot we will dial in.
                return {"ok": False}
            # An immediate callback is a priority: it does not wait for room in a slot.
            if not immediate and not reserve_slot(ctx.session, line, start, int(args["capacity"])):
                return {"ok": False}
            request = create_request(
                ctx.session,
                source="callback",
                category="callback",
                now=ctx.now.astimezone(UTC),
                caller=ctx.call.caller,
                line=line,
                call_sid=ctx.call.sid,
                due_at=end.astimezone(UTC),
            )
            add_booking(
                ctx,
                phone=phone,
                request_number=request.number,
                slot=(start, end),
                flow=str(args.get("callback_flow", "callback")),
                priority=1 if immediate else int(args.get("priority", 0)),
            )
            ctx.session.flush()
    except IntegrityError:
        # Another call booked this number a moment ago (the unique open-booking index).
        existing = open_booking(ctx.session, phone)
        if existing is None:
            raise
        return _existing(existing)
    log.info("callback booked: request %s, slot %s", request.number, start.isoformat())
    return {"ok": True, "request_number": request.number}
