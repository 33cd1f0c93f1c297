"""``lookup_request`` and ``escalate_request``: the status line's side effects."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.domain.phones import is_callable, to_e164
from ivr.domain.schedule import MOSCOW, Schedule, iter_slots
from ivr.domain.spoken_time import date_words
from ivr.engine.steps import ActionRequest
from ivr.services.actions.callbacks import add_booking, callable_slots, open_booking
from ivr.services.calls import ActionContext
from ivr.services.requests_directory import DatabaseDirectory, RequestDirectory
from ivr.store.models import stored_utc
from ivr.store.requests import create_request

log = logging.getLogger(__name__)

DirectoryFactory = Callable[[Session], RequestDirectory]
# An escalation is answered within one working day; the caller is called back first.
ESCALATION_DUE = timedelta(days=1)


class LookupRequest:
    """Finds a request for the caller: status, deadline in words, next step, overdue."""

    def __init__(self, directory: DirectoryFactory = DatabaseDirectory) -> None:
        self.directory = directory

    def __call__(self, action: ActionRequest, ctx: ActionContext) -> Mapping[str, Any]:
        info = self.directory(ctx.session).find(str(action.args["number"]))
        if info is None:
            return {"found": False}
        due = info.due_at.astimezone(MOSCOW).date() if info.due_at else None
        return {
            "found": True,
            "status": info.status,
            "category": info.category,
            "due": date_words(due, ctx.state.lang) if due else "",
            "next_step": info.next_step,
            "overdue": info.is_overdue(ctx.now),
            "due_passed": info.due_at is not None and info.due_at < ctx.now,
        }


def escalate_request(action: ActionRequest, ctx: ActionContext) -> Mapping[str, Any]:
    """Register an escalation of an overdue request and book a priority callback."""
    number = str(action.args["number"])
    now = ctx.now.astimezone(UTC)
    escalation = create_request(
        ctx.session,
        source="escalation",
        category="escalation",
        now=now,
        caller=ctx.call.caller,
        line=ctx.call.line,
        call_sid=ctx.call.sid,
        due_at=now + ESCALATION_DUE,
        parent_number=number,
    )
    phone = to_e164(ctx.call.caller) or ""
    result: dict[str, Any] = {"request_number": escalation.number}
    international = ctx.flow.defaults.callback_numbers == "international"
    if not phone or not is_callable(phone, international):
        log.info("request %s escalated as %s, no number to call back", number, escalation.number)
        return result
    booking = open_booking(ctx.session, phone)
    if booking is None:
        schedule = ctx.flow.runtime_schedule or Schedule(weekly={}, always_open=True)
        slots = callable_slots(
            ctx.settings, iter_slots(schedule, ctx.now + timedelta(minutes=15), 15, 14)
        )
        if slots:
            try:
                # A priority callback: it does not wait for room in the slot.
                with ctx.session.begin_nested():
                    booking = add_booking(
                        ctx,
                        phone=phone,
                        request_number=escalation.number,
                        slot=slots[0],
                        priority=1,
                    )
                    ctx.session.flush()
            except IntegrityError:
                # The same number booked a callback a moment ago: that call will do.
                log.info("escalation %s: the caller already has a callback", escalation.number)
                booking = open_booking(ctx.session, phone)
    if booking is not None:
        # The caller is told when we call: this booking's time, or the one already booked.
        result["slot_start"] = stored_utc(booking.slot_start).astimezone(MOSCOW).isoformat()
        result["slot_end"] = stored_utc(booking.slot_end).astimezone(MOSCOW).isoformat()
    log.info("request %s escalated as %s", number, escalation.number)
    return result
