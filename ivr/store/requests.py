"""Registering requests («обращения») with numbers shared by every kind of contact."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.store.models import Request, RequestHistory

# New numbers have 8 digits and never start with 0, so callers can read them without doubt;
# numbers imported from the back office may have 6 to 10.
NEW_NUMBER_DIGITS = 8


def random_number() -> str:
    """A random request number; unguessable, so nobody learns another caller's status."""
    first = secrets.choice("123456789")
    rest = "".join(secrets.choice("0123456789") for _ in range(NEW_NUMBER_DIGITS - 1))
    return first + rest


def create_request(
    session: Session,
    *,
    source: str,
    now: datetime,
    category: str = "general",
    caller: str = "",
    line: str = "",
    call_sid: str = "",
    due_at: datetime | None = None,
    next_step: str = "",
    parent_number: str | None = None,
) -> Request:
    """Insert a request with a fresh number (retrying the rare clash) and flush it."""
    for _ in range(20):
        request = Request(
            number=random_number(),
            category=category,
            status="registered",
            source=source,
            created_at=now,
            due_at=due_at,
            next_step=next_step,
            caller=caller,
            line=line,
            call_sid=call_sid,
            parent_number=parent_number,
        )
        try:
            with session.begin_nested():
                session.add(request)
        except IntegrityError:
            continue
        record_status(session, request.number, request.status, source=source, at=now)
        return request
    raise RuntimeError("could not find a free request number")  # pragma: no cover


def record_status(
    session: Session,
    number: str,
    status: str,
    *,
    source: str,
    at: datetime,
    actor: str = "",
    note: str = "",
) -> RequestHistory:
    """Add a step to a request's status history (in the caller's transaction)."""
    entry = RequestHistory(
        number=number, at=at, status=status, source=source, actor=actor, note=note
    )
    session.add(entry)
    return entry
