"""What the database says about the hotline's back office now: bookings by status, bookings
due, voicemails by status, and the dispatcher's heartbeats.

These are states, not events: every web worker reads the same rows, so they are read when
asked (a ``/metrics`` scrape, a console page), never counted in a process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ivr.services.dispatcher import Heartbeat, count_due, heartbeats
from ivr.store.db import Database
from ivr.store.models import CALLBACK_STATUSES, VOICEMAIL_STATUSES, Callback, Voicemail


@dataclass(frozen=True)
class OperationsState:
    """The back office at one moment."""

    # Every known status, 0 when none is in it, and any other status the rows hold.
    callbacks: dict[str, int]
    # Bookings whose attempt is due now (``booked`` or ``retry``); the dispatcher dials these.
    callbacks_due: int
    voicemails: dict[str, int]
    # One per ``ivr worker`` process that ever ran a pass, the most recent first.
    dispatchers: list[Heartbeat]


def operations_state(db: Database, now: datetime) -> OperationsState:
    """Read the state from the database (four short queries, no lock)."""
    with db.sessions() as session:
        callbacks = dict.fromkeys(CALLBACK_STATUSES, 0)
        rows = session.execute(
            select(Callback.status, func.count()).group_by(Callback.status)
        ).all()
        callbacks.update({status: int(count) for status, count in rows})
        voicemails = dict.fromkeys(VOICEMAIL_STATUSES, 0)
        rows = session.execute(
            select(Voicemail.status, func.count()).group_by(Voicemail.status)
        ).all()
        voicemails.update({status: int(count) for status, count in rows})
    return OperationsState(
        callbacks=callbacks,
        callbacks_due=count_due(db, now),
        voicemails=voicemails,
        dispatchers=heartbeats(db),
    )
