"""The request desk: one request by its number, with its status history, the voicemails and
callbacks that belong to it, and the escalations made of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.store.models import Callback, Request, RequestHistory, Voicemail, stored_utc


@dataclass(frozen=True)
class Step:
    """One status the request took."""

    at: datetime
    status: str
    source: str
    actor: str
    note: str


@dataclass(frozen=True)
class RequestView:
    """A request and what belongs to it."""

    number: str
    category: str
    status: str
    source: str
    created_at: datetime
    due_at: datetime | None
    next_step: str
    caller: str
    line: str
    parent_number: str
    history: list[Step]
    voicemails: list[tuple[int, datetime, str, int]]
    callbacks: list[tuple[int, datetime, str, int, str]]
    escalations: list[str]


def clean_number(text: str) -> str:
    """The digits of a request number as a person types it (spaces, dashes)."""
    return "".join(ch for ch in text if ch.isdigit())[:10]


def find(session: Session, number: str) -> RequestView | None:
    """The request with this number, or None."""
    row = session.get(Request, number)
    if row is None:
        return None
    history = [
        Step(stored_utc(h.at), h.status, h.source, h.actor, h.note)
        for h in session.scalars(
            select(RequestHistory)
            .where(RequestHistory.number == number)
            .order_by(RequestHistory.at, RequestHistory.id)
        )
    ]
    voicemails = [
        (v.id, stored_utc(v.created_at), v.status, v.duration)
        for v in session.scalars(
            select(Voicemail).where(Voicemail.request_number == number).order_by(Voicemail.id)
        )
    ]
    callbacks = [
        (c.id, stored_utc(c.slot_start), c.status, c.attempts, c.last_result)
        for c in session.scalars(
            select(Callback).where(Callback.request_number == number).order_by(Callback.id)
        )
    ]
    escalations = list(
        session.scalars(
            select(Request.number)
            .where(Request.parent_number == number)
            .order_by(Request.created_at)
        )
    )
    return RequestView(
        row.number,
        row.category,
        row.status,
        row.source,
        stored_utc(row.created_at),
        stored_utc(row.due_at) if row.due_at else None,
        row.next_step,
        row.caller,
        row.line,
        row.parent_number or "",
        history,
        voicemails,
        callbacks,
        escalations,
    )
