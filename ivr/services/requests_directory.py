"""Where request statuses come from: the local ``requests`` table today, a back-office HTTP
API tomorrow. The status line only sees ``RequestDirectory``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from ivr.store.models import Request, stored_utc

FINISHED_STATUSES = ("answered", "closed")


@dataclass(frozen=True)
class RequestInfo:
    """What a caller may hear about a request."""

    number: str
    status: str
    category: str
    due_at: datetime | None
    next_step: str

    def is_overdue(self, now: datetime) -> bool:
        """Past its deadline and not yet answered or closed."""
        return (
            self.due_at is not None and self.due_at < now and self.status not in FINISHED_STATUSES
        )


class RequestDirectory(Protocol):
    """Looks requests up by number."""

    def find(self, number: str) -> RequestInfo | None:
        """The request, or None when no such number exists."""


class DatabaseDirectory:
    """Requests kept in this server's database (imported with ``ivr requests import``)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, number: str) -> RequestInfo | None:
        row = self.session.get(Request, number)
        if row is None:
            return None
        due = stored_utc(row.due_at) if row.due_at is not None else None
        return RequestInfo(row.number, row.status, row.category, due, row.next_step)
