"""Small helpers shared by the dispatcher tests (imported as ``tests.dispatcher.helpers``)."""

from __future__ import annotations

from datetime import UTC, datetime

from ivr.domain.schedule import MOSCOW

HOTLINE = "+78005553535"


def moscow(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """``moscow(2026, 11, 25, 10, 0)``: an aware Moscow datetime."""
    return datetime(year, month, day, hour, minute, second, tzinfo=MOSCOW)


def utc(moment: datetime) -> datetime:
    """A datetime read back from the database, as aware UTC (SQLite gives naive UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
