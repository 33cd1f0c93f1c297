"""Fixtures for the dispatcher: a Twilio REST stub, settings pointing at it, bookings in the DB."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ivr.config import Settings
from ivr.services.dispatcher import Dispatcher
from ivr.store.db import Database
from ivr.store.models import Callback
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, Clock, make_settings
from tests.dispatcher.helpers import HOTLINE
from tests.support.twilio_stub import TwilioStub


@pytest.fixture
def stub() -> Iterator[TwilioStub]:
    """Twilio's REST API on 127.0.0.1, for the real twilio client."""
    with TwilioStub(ACCOUNT_SID, AUTH_TOKEN) as server:
        yield server


@pytest.fixture
def dispatch_settings(settings_with: Callable[..., Settings]) -> Settings:
    """Test settings whose Twilio API is the stub."""
    return settings_with()


@pytest.fixture
def settings_with(database_url: str, tmp_path: Path, stub: TwilioStub) -> Callable[..., Settings]:
    """``settings_with(calling_hours=…)``: the dispatch settings with some values changed."""

    def make(**overrides: Any) -> Settings:
        return make_settings(
            database_url,
            tmp_path,
            twilio_api_base=stub.base_url,
            recordings_dir=tmp_path / "recordings",
            **overrides,
        )

    return make


@pytest.fixture
def db(dispatch_settings: Settings) -> Iterator[Database]:
    """The fresh database (SQLite, and PostgreSQL when configured)."""
    database = Database(dispatch_settings.database_url)
    yield database
    database.dispose()


@pytest.fixture
def make_dispatcher(
    dispatch_settings: Settings, db: Database, clock: Clock
) -> Callable[..., Dispatcher]:
    """``make_dispatcher(settings=None, db=None, **kwargs)``: a dispatcher on the test clock."""

    def make(
        settings: Settings | None = None, database: Database | None = None, **kwargs: Any
    ) -> Dispatcher:
        return Dispatcher(settings or dispatch_settings, database or db, clock, **kwargs)

    return make


@pytest.fixture
def dispatcher(make_dispatcher: Callable[..., Dispatcher]) -> Dispatcher:
    """A dispatcher with the default test settings."""
    return make_dispatcher()


_PHONES = iter(range(10**6))


@pytest.fixture
def add_callback(db: Database, clock: Clock) -> Callable[..., int]:
    """``add_callback(next_attempt_at=…, **columns)`` inserts a booking and returns its id."""

    def add(next_attempt_at: datetime | None = None, **columns: Any) -> int:
        now = clock().astimezone(UTC)
        due = (next_attempt_at or clock() - timedelta(minutes=1)).astimezone(UTC)
        values: dict[str, Any] = {
            "phone": f"+7916{next(_PHONES):07d}",
            "line": HOTLINE,
            "flow": "callback",
            "request_number": "1000001",
            "slot_start": due,
            "slot_end": due + timedelta(minutes=30),
            "status": "booked",
            "priority": 0,
            "attempts": 0,
            "next_attempt_at": due,
            "last_result": "",
            "outbound_call_sid": "",
            "booked_call_sid": "CA" + "2" * 32,
            "created_at": now,
            "updated_at": now,
        }
        # Stored datetimes are UTC (SQLite would keep a Moscow wall time as it is).
        values.update(
            {k: v.astimezone(UTC) if isinstance(v, datetime) else v for k, v in columns.items()}
        )
        with db.transaction() as session:
            callback = Callback(**values)
            session.add(callback)
            session.flush()
            return callback.id

    return add


@pytest.fixture
def load(db: Database) -> Callable[[int], Callback]:
    """``load(id)``: the booking as it is in the database now."""

    def get(callback_id: int) -> Callback:
        with db.sessions() as session:
            callback = session.get(Callback, callback_id)
            assert callback is not None
            return callback

    return get
