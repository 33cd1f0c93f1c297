"""The back office's state as the database holds it (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ivr.services.operations import operations_state
from ivr.store.db import Database
from ivr.store.models import Callback, DispatcherHost, Voicemail

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def _booking(index: int, status: str, due_in: timedelta) -> Callback:
    return Callback(
        phone=f"+7916000{index:04d}",
        line="+78005553535",
        flow="callback",
        request_number=f"3{index:07d}",
        slot_start=NOW,
        slot_end=NOW,
        status=status,
        next_attempt_at=NOW + due_in,
        created_at=NOW,
        updated_at=NOW,
    )


def test_an_empty_database_has_every_status_at_zero(db: Database) -> None:
    state = operations_state(db, NOW)
    assert state.callbacks == {
        "booked": 0,
        "dialing": 0,
        "retry": 0,
        "completed": 0,
        "failed": 0,
        "expired": 0,
        "canceled": 0,
    }
    assert state.voicemails == {"pending": 0, "stored": 0, "absent": 0, "failed": 0}
    assert (state.callbacks_due, state.dispatchers) == (0, [])


def test_bookings_voicemails_and_heartbeats_are_counted(db: Database) -> None:
    with db.transaction() as session:
        session.add_all(
            [
                _booking(1, "booked", timedelta(0)),  # due this very second
                _booking(2, "booked", timedelta(seconds=1)),  # not yet
                _booking(3, "retry", -timedelta(hours=2)),
                _booking(4, "dialing", -timedelta(minutes=1)),  # being dialled: not due
                _booking(5, "completed", -timedelta(days=1)),
                _booking(6, "on-hold", -timedelta(days=1)),  # a status of a newer version
            ]
        )
        for index, status in enumerate(["pending", "failed", "failed", "absent"]):
            session.add(
                Voicemail(
                    recording_sid=f"RE{index:032d}",
                    call_sid="CA" + "1" * 32,
                    request_number=f"4{index:07d}",
                    status=status,
                    created_at=NOW,
                )
            )
        for name, ago in (("old:1", timedelta(hours=3)), ("new:2", timedelta(seconds=5))):
            session.add(
                DispatcherHost(
                    worker=name,
                    started_at=NOW - timedelta(days=1),
                    last_pass_at=NOW - ago,
                    last_pass_seconds=0.5,
                    passes=7,
                )
            )
    state = operations_state(db, NOW)
    assert state.callbacks == {
        "booked": 2,
        "dialing": 1,
        "retry": 1,
        "completed": 1,
        "failed": 0,
        "expired": 0,
        "canceled": 0,
        "on-hold": 1,
    }
    assert state.callbacks_due == 2
    assert state.voicemails == {"pending": 1, "stored": 0, "absent": 1, "failed": 2}
    assert [beat.worker for beat in state.dispatchers] == ["new:2", "old:1"]
    assert state.dispatchers[0].last_pass_at == NOW - timedelta(seconds=5)
