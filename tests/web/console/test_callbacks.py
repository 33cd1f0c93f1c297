"""The callbacks page: bookings by day and status, reschedule, cancel, mark done, and the
dispatcher's state from its heartbeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.domain.schedule import MOSCOW
from ivr.services.actions.callbacks import book
from ivr.store.models import Callback, CallbackSlot, DispatcherHost, stored_utc
from tests.conftest import Clock
from tests.web.console.conftest import Console


def seed_callback(
    app: Flask, start: datetime, phone: str = "+79161234567", status: str = "booked"
) -> int:
    """A booking made as a call's callback node makes it (one place in its slot)."""
    ivr = app.extensions["ivr"]
    with ivr.db.transaction() as session:
        made = book(
            session,
            ivr.settings,
            phone=phone,
            line="+78005553535",
            lang="ru",
            slot=(start, start + timedelta(minutes=15)),
            capacity=3,
            now=ivr.clock(),
        )
        assert made.callback is not None
        made.callback.status = status
        return made.callback.id


def _slot_count(app: Flask, start: datetime) -> int:
    with app.extensions["ivr"].db.sessions() as session:
        found = session.scalar(
            select(CallbackSlot.booked).where(CallbackSlot.slot_start == start.astimezone(UTC))
        )
    return int(found or 0)


def _booking(app: Flask, callback_id: int) -> Callback:
    with app.extensions["ivr"].db.sessions() as session:
        row = session.get(Callback, callback_id)
    assert row is not None
    return row


def test_today_and_later_by_status(app: Flask, operator: Console) -> None:
    today = seed_callback(app, datetime(2026, 11, 25, 15, 0, tzinfo=MOSCOW))
    later = seed_callback(app, datetime(2026, 11, 26, 9, 0, tzinfo=MOSCOW), "+79035550101")
    failed = seed_callback(
        app, datetime(2026, 11, 24, 9, 0, tzinfo=MOSCOW), "+79035550102", status="failed"
    )
    page = operator.get("/console/callbacks/").get_data(as_text=True)
    today_part, later_part = page.split("Дальше", 1)
    assert f'id="callback-{today}"' in today_part.split("Сегодня", 1)[1]
    assert f'id="callback-{later}"' in later_part.split("Раньше", 1)[0]
    assert f'id="callback-{failed}"' in later_part.split("Раньше, требуют внимания", 1)[1]
    assert "записан: 2" in page and "не дозвонились: 1" in page
    only_failed = operator.get("/console/callbacks/?status=failed").get_data(as_text=True)
    assert f'id="callback-{failed}"' in only_failed and f'id="callback-{today}"' not in only_failed
    # Operators see the end of a number only.
    assert "+* *** ***-**-67" in page and "1234567" not in page


def test_reschedule_moves_the_booking_and_its_place(app: Flask, operator: Console) -> None:
    old = datetime(2026, 11, 26, 9, 0, tzinfo=MOSCOW)
    callback = seed_callback(app, old)
    assert _slot_count(app, old) == 1
    operator.get("/console/callbacks/")
    operator.post(f"/console/callbacks/{callback}/reschedule", {"start": "2026-11-27T11:30"})
    page = operator.get("/console/callbacks/").get_data(as_text=True)
    assert "перенесён на 27.11.2026 11:30." in page
    row = _booking(app, callback)
    new = datetime(2026, 11, 27, 11, 30, tzinfo=MOSCOW)
    assert stored_utc(row.slot_start) == new
    assert stored_utc(row.slot_end) == new + timedelta(minutes=15)
    assert stored_utc(row.next_attempt_at) == new
    assert (row.status, row.attempts, row.last_result) == ("booked", 0, "rescheduled")
    assert (_slot_count(app, old), _slot_count(app, new)) == (0, 1)


def test_a_failed_booking_is_opened_again_by_rescheduling(app: Flask, operator: Console) -> None:
    callback = seed_callback(app, datetime(2026, 11, 24, 9, 0, tzinfo=MOSCOW), status="failed")
    operator.get("/console/callbacks/")
    operator.post(f"/console/callbacks/{callback}/reschedule", {"start": "2026-11-26T10:00"})
    assert _booking(app, callback).status == "booked"


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("2026-11-25T09:00", "Новое время должно быть в будущем."),
        ("2026-11-26T21:00", "Обзвон идёт только в часы 09:00–20:00, кроме праздников"),
        ("2026-12-31T12:00", "Обзвон идёт только в часы"),
        ("", "Укажите новую дату и время."),
    ],
)
def test_reschedule_refuses_a_time_nobody_would_call(
    app: Flask, operator: Console, start: str, message: str
) -> None:
    old = datetime(2026, 11, 26, 9, 0, tzinfo=MOSCOW)
    callback = seed_callback(app, old)
    operator.get("/console/callbacks/")
    operator.post(f"/console/callbacks/{callback}/reschedule", {"start": start})
    assert message in operator.get("/console/callbacks/").get_data(as_text=True)
    assert stored_utc(_booking(app, callback).slot_start) == old


def test_reschedule_refuses_a_second_open_booking_of_the_number(
    app: Flask, operator: Console
) -> None:
    canceled = seed_callback(
        app, datetime(2026, 11, 24, 9, 0, tzinfo=MOSCOW), "+79161234567", status="canceled"
    )
    seed_callback(app, datetime(2026, 11, 26, 9, 0, tzinfo=MOSCOW))
    operator.get("/console/callbacks/")
    operator.post(f"/console/callbacks/{canceled}/reschedule", {"start": "2026-11-27T10:00"})
    page = operator.get("/console/callbacks/").get_data(as_text=True)
    assert "уже есть другой открытый обратный звонок" in page
    assert _booking(app, canceled).status == "canceled"


def test_a_booking_being_dialled_cannot_be_moved_or_canceled(app: Flask, operator: Console) -> None:
    callback = seed_callback(app, datetime(2026, 11, 25, 9, 0, tzinfo=MOSCOW), status="dialing")
    operator.get("/console/callbacks/")
    operator.post(f"/console/callbacks/{callback}/reschedule", {"start": "2026-11-27T10:00"})
    assert "перенести его нельзя" in operator.get("/console/callbacks/").get_data(as_text=True)
    operator.post(f"/console/callbacks/{callback}/cancel")
    assert "Отменить можно только" in operator.get("/console/callbacks/").get_data(as_text=True)
    assert _booking(app, callback).status == "dialing"


def test_cancel_frees_the_place(app: Flask, operator: Console) -> None:
    start = datetime(2026, 11, 26, 9, 0, tzinfo=MOSCOW)
    callback = seed_callback(app, start)
    operator.get("/console/callbacks/")
    operator.post(f"/console/callbacks/{callback}/cancel")
    assert "отменён." in operator.get("/console/callbacks/").get_data(as_text=True)
    row = _booking(app, callback)
    assert (row.status, row.last_result) == ("canceled", "canceled-by-hand")
    assert _slot_count(app, start) == 0


def test_mark_done(app: Flask, operator: Console) -> None:
    callback = seed_callback(app, datetime(2026, 11, 25, 9, 0, tzinfo=MOSCOW), status="failed")
    operator.get("/console/callbacks/")
    operator.post(f"/console/callbacks/{callback}/done")
    assert "отмечен выполненным." in operator.get("/console/callbacks/").get_data(as_text=True)
    row = _booking(app, callback)
    assert (row.status, row.last_result) == ("completed", "done-by-hand")
    operator.post(f"/console/callbacks/{callback}/done")
    assert "Этот звонок уже закрыт." in operator.get("/console/callbacks/").get_data(as_text=True)


def test_an_unknown_booking(operator: Console) -> None:
    operator.get("/console/callbacks/")
    operator.post("/console/callbacks/999/done")
    assert "Такого обратного звонка нет." in operator.get("/console/callbacks/").get_data(
        as_text=True
    )


def _beat(app: Flask, worker: str, at: datetime) -> None:
    with app.extensions["ivr"].db.transaction() as session:
        session.add(
            DispatcherHost(
                worker=worker,
                started_at=at.astimezone(UTC),
                last_pass_at=at.astimezone(UTC),
                last_pass_seconds=0.25,
                passes=7,
                last_claimed=1,
                last_placed=1,
                last_failed=0,
                last_waiting=0,
            )
        )


def test_the_dispatcher_never_reported(operator: Console) -> None:
    page = operator.get("/console/callbacks/").get_data(as_text=True)
    assert "ещё ни разу не отчитался" in page


def test_the_dispatchers_last_pass_and_what_is_due(
    app: Flask, operator: Console, clock: Clock
) -> None:
    _beat(app, "host-a:101", clock.moment - timedelta(seconds=10))
    seed_callback(app, datetime(2026, 11, 25, 9, 45, tzinfo=MOSCOW))
    seed_callback(app, datetime(2026, 11, 25, 10, 30, tzinfo=MOSCOW), "+79035550101")
    page = operator.get("/console/callbacks/").get_data(as_text=True)
    assert "Последний проход: <strong>25.11.2026 09:59:50</strong>" in page
    assert "к набору сейчас: <strong>1</strong>" in page
    assert "в ближайший час: <strong>2</strong>" in page
    assert "warning" not in page.split('id="dispatcher"', 1)[1].split("</section>", 1)[0]


def test_a_stale_dispatcher_is_warned_about(app: Flask, operator: Console, clock: Clock) -> None:
    _beat(app, "host-a:101", clock.moment - timedelta(minutes=5))
    page = operator.get("/console/callbacks/").get_data(as_text=True)
    assert "давно не отчитывался" in page
    _beat(app, "host-b:202", clock.moment - timedelta(seconds=5))
    page = operator.get("/console/callbacks/").get_data(as_text=True)
    assert "Не отвечает обработчиков: 1 из 2." in page
