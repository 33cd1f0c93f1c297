"""The callback dispatcher against the real twilio client and a local Twilio REST stub."""

from __future__ import annotations

import io
import socket
import threading
import time
import wave
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.config import Settings
from ivr.services.actions.callbacks import open_booking
from ivr.services.dispatcher import (
    BOOKING_CALL_WAIT,
    STALE_DIALING,
    CallingHoursError,
    Dispatcher,
    PassReport,
    apply_call_result,
    parse_calling_hours,
)
from ivr.store.db import Database
from ivr.store.models import Call, Callback, Voicemail
from tests.conftest import PUBLIC_URL, Clock, make_settings
from tests.dispatcher.helpers import HOTLINE, moscow, utc
from tests.support.twilio_stub import TwilioStub

Add = Callable[..., int]
Load = Callable[[int], Callback]
MakeDispatcher = Callable[..., Dispatcher]


def silent_wav(seconds: int) -> bytes:
    """A telephone-quality WAV of silence."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 8000 * seconds)
    return buffer.getvalue()


def counts(report: PassReport) -> tuple[int, int, int, int]:
    """(claimed, placed, failed to place, waiting outside hours)."""
    return report.claimed, report.placed, report.failed_to_place, report.waiting_outside_hours


# -- placing calls ------------------------------------------------------------------------------


def test_a_due_booking_is_dialled_once_with_the_callback_flow(
    dispatcher: Dispatcher, stub: TwilioStub, add_callback: Add, load: Load, clock: Clock
) -> None:
    cb = add_callback(phone="+79161234567", flow="callback")

    report = dispatcher.run_once()

    assert counts(report) == (1, 1, 0, 0)
    [call] = stub.calls
    assert call.field("To") == "+79161234567"
    assert call.field("From") == HOTLINE
    assert call.field("Url") == f"{PUBLIC_URL}/voice/incoming?flow=callback&callback={cb}"
    assert call.field("Method") == "POST"
    assert call.field("StatusCallback") == f"{PUBLIC_URL}/voice/callback-status?callback={cb}"
    assert call.field("StatusCallbackMethod") == "POST"
    assert call.form["StatusCallbackEvent"] == ["completed"]
    row = load(cb)
    assert (row.status, row.attempts, row.outbound_call_sid) == ("dialing", 1, call.sid)
    assert call.sid.startswith("CA")
    assert utc(row.updated_at) == clock()

    # The next pass does not dial it again: it is waiting for the call's status.
    assert counts(dispatcher.run_once()) == (0, 0, 0, 0)
    assert len(stub.calls) == 1


def test_a_booking_not_yet_due_is_not_dialled_until_it_is(
    dispatcher: Dispatcher, stub: TwilioStub, add_callback: Add, load: Load, clock: Clock
) -> None:
    cb = add_callback(next_attempt_at=moscow(2026, 11, 25, 10, 30))

    assert counts(dispatcher.run_once()) == (0, 0, 0, 0)
    assert stub.requests == []
    assert load(cb).status == "booked"

    clock.set(2026, 11, 25, 10, 30)
    assert counts(dispatcher.run_once()) == (1, 1, 0, 0)
    assert stub.calls_by_query("Url", "callback") == {str(cb): 1}


def test_without_a_line_the_configured_caller_id_is_used(
    make_dispatcher: MakeDispatcher, stub: TwilioStub, add_callback: Add
) -> None:
    add_callback(line="")
    make_dispatcher(caller_id="+74951234567").run_once()
    assert stub.calls[0].field("From") == "+74951234567"


def test_without_any_number_to_call_from_the_attempt_fails(
    dispatcher: Dispatcher, stub: TwilioStub, add_callback: Add, load: Load
) -> None:
    cb = add_callback(line="")
    assert counts(dispatcher.run_once()) == (1, 0, 1, 0)
    assert stub.requests == []
    row = load(cb)
    assert (row.status, row.attempts, row.last_result) == ("retry", 1, "no-caller-id")


def test_higher_priority_and_earlier_bookings_are_dialled_first(
    make_dispatcher: MakeDispatcher, stub: TwilioStub, add_callback: Add, clock: Clock
) -> None:
    late = add_callback(next_attempt_at=moscow(2026, 11, 25, 9, 50))
    early = add_callback(next_attempt_at=moscow(2026, 11, 25, 9, 10))
    urgent = add_callback(next_attempt_at=moscow(2026, 11, 25, 9, 55), priority=5)
    dispatcher = make_dispatcher(batch_size=1)
    for _ in range(3):
        assert dispatcher.run_once().placed == 1
    order = [call.query_of("Url", "callback") for call in stub.calls]
    assert order == [str(urgent), str(early), str(late)]


# -- the call that booked it ---------------------------------------------------------------------

BOOKING_SID = "CA" + "b" * 32


def add_inbound_call(db: Database, sid: str, started: datetime, phone: str) -> None:
    """The caller's own call, as the first webhook stores it: in progress, no end yet."""
    with db.transaction() as session:
        session.add(
            Call(
                sid=sid,
                line="+78004000004",
                caller=phone,
                direction="inbound",
                flow="one_click",
                started_at=started.astimezone(UTC),
                state={},
                path=[],
                inputs=[],
                turn=3,
            )
        )


def end_call(db: Database, sid: str, ended: datetime) -> None:
    """What Twilio's status callback records at hang-up."""
    with db.transaction() as session:
        call = session.get(Call, sid)
        assert call is not None
        call.status, call.ended_at = "completed", ended.astimezone(UTC)


@pytest.mark.parametrize("kind", ["immediate", "slot"])
def test_a_callback_is_not_dialled_while_the_call_that_booked_it_goes_on(
    dispatcher: Dispatcher,
    stub: TwilioStub,
    add_callback: Add,
    load: Load,
    db: Database,
    clock: Clock,
    kind: str,
) -> None:
    # Booked from the queue a moment ago, for right away: the caller is still on the line,
    # hearing its request number (and may yet refuse it).
    add_inbound_call(db, BOOKING_SID, clock() - timedelta(minutes=3), "+79161234567")
    cb = add_callback(
        phone="+79161234567",
        kind=kind,
        priority=1,
        booked_call_sid=BOOKING_SID,
        next_attempt_at=clock() - timedelta(seconds=20),
    )

    report = dispatcher.run_once()
    assert counts(report) == (0, 0, 0, 0)
    assert stub.requests == []
    assert (load(cb).status, load(cb).attempts) == ("booked", 0)
    assert dispatcher.count_due(clock()) == 0

    # The caller hangs up: the next pass dials them.
    clock.moment += timedelta(seconds=30)
    end_call(db, BOOKING_SID, clock())
    assert dispatcher.count_due(clock()) == 1
    assert counts(dispatcher.run_once()) == (1, 1, 0, 0)
    assert stub.calls[0].field("To") == "+79161234567"
    assert load(cb).status == "dialing"


def test_a_booking_call_whose_end_never_came_holds_its_callback_up_only_so_long(
    dispatcher: Dispatcher,
    stub: TwilioStub,
    add_callback: Add,
    load: Load,
    db: Database,
    clock: Clock,
) -> None:
    started = clock() - timedelta(minutes=2)
    add_inbound_call(db, BOOKING_SID, started, "+79161234567")
    cb = add_callback(kind="immediate", priority=1, booked_call_sid=BOOKING_SID)
    assert dispatcher.run_once().claimed == 0

    # Its status callback was lost: past the wait the call is taken as over.
    clock.moment = started + BOOKING_CALL_WAIT + timedelta(seconds=1)
    assert counts(dispatcher.run_once()) == (1, 1, 0, 0)
    assert load(cb).status == "dialing"


def test_another_call_that_has_not_ended_does_not_hold_a_booking_up(
    dispatcher: Dispatcher, add_callback: Add, db: Database, clock: Clock
) -> None:
    add_inbound_call(db, "CA" + "c" * 32, clock() - timedelta(minutes=1), "+79165550000")
    add_inbound_call(db, BOOKING_SID, clock() - timedelta(minutes=5), "+79161234567")
    end_call(db, BOOKING_SID, clock() - timedelta(minutes=1))
    add_callback(kind="immediate", priority=1, booked_call_sid=BOOKING_SID)
    assert dispatcher.run_once().placed == 1


# -- calling hours ------------------------------------------------------------------------------


def test_a_due_booking_outside_calling_hours_waits_for_the_morning(
    dispatcher: Dispatcher, stub: TwilioStub, add_callback: Add, load: Load, clock: Clock
) -> None:
    clock.set(2026, 11, 25, 21, 30)
    cb = add_callback(next_attempt_at=moscow(2026, 11, 25, 21, 0))

    assert counts(dispatcher.run_once()) == (0, 0, 0, 1)
    clock.set(2026, 11, 26, 8, 59)
    assert counts(dispatcher.run_once()) == (0, 0, 0, 1)
    assert stub.requests == []
    assert load(cb).status == "booked"

    clock.set(2026, 11, 26, 9, 0)
    assert counts(dispatcher.run_once()) == (1, 1, 0, 0)
    assert stub.calls_by_query("Url", "callback") == {str(cb): 1}


@pytest.mark.parametrize(
    ("unanswered_at", "still_waiting", "dialled_again_at"),
    [
        # Not answered at 19:50: the retry at 20:05 falls after hours, so it waits till 9:00.
        ((2026, 11, 25, 19, 50), [(2026, 11, 25, 20, 5)], (2026, 11, 26, 9, 0, 30)),
        # Tuesday 3 November: the retry falls on Unity Day (Wednesday 4 November), when
        # nobody is called at any hour.
        (
            (2026, 11, 3, 19, 50),
            [(2026, 11, 4, 9, 0), (2026, 11, 4, 13, 0), (2026, 11, 4, 19, 59)],
            (2026, 11, 5, 9, 0),
        ),
    ],
    ids=["after-hours", "public-holiday"],
)
def test_a_retry_outside_the_calling_times_waits_for_them(
    dispatcher: Dispatcher,
    dispatch_settings: Settings,
    db: Database,
    stub: TwilioStub,
    add_callback: Add,
    load: Load,
    clock: Clock,
    unanswered_at: tuple[int, ...],
    still_waiting: list[tuple[int, ...]],
    dialled_again_at: tuple[int, ...],
) -> None:
    clock.set(*unanswered_at)
    cb = add_callback()
    dispatcher.run_once()
    assert apply_call_result(db, cb, "no-answer", clock(), dispatch_settings)
    assert utc(load(cb).next_attempt_at) == moscow(*unanswered_at) + timedelta(minutes=15)

    for moment in still_waiting:
        clock.set(*moment)
        assert counts(dispatcher.run_once()) == (0, 0, 0, 1)
    assert load(cb).status == "retry"
    clock.set(*dialled_again_at)
    assert counts(dispatcher.run_once()) == (1, 1, 0, 0)
    assert len(stub.calls) == 2
    assert load(cb).attempts == 2


def test_calling_on_holidays_can_be_allowed(
    make_dispatcher: MakeDispatcher,
    settings_with: Callable[..., Settings],
    add_callback: Add,
    clock: Clock,
) -> None:
    clock.set(2026, 11, 4, 10, 0)
    add_callback(next_attempt_at=moscow(2026, 11, 4, 9, 0))
    dispatcher = make_dispatcher(settings_with(calling_on_holidays=True))
    assert str(dispatcher.hours) == "09:00-20:00"
    assert counts(dispatcher.run_once()) == (1, 1, 0, 0)


def test_calling_hours_say_whether_holidays_count() -> None:
    assert str(parse_calling_hours("09:00-20:00")) == "09:00-20:00 (not on public holidays)"
    assert not parse_calling_hours("00:00-24:00").contains(moscow(2027, 1, 1, 12, 0))
    assert not parse_calling_hours("00:00-24:00").contains(moscow(2026, 1, 9, 12, 0))  # moved
    assert parse_calling_hours("00:00-24:00").contains(moscow(2026, 11, 5, 12, 0))
    assert parse_calling_hours("00:00-24:00", on_holidays=True).contains(moscow(2027, 1, 1, 12))


def test_calling_hours_are_configurable(
    make_dispatcher: MakeDispatcher,
    settings_with: Callable[..., Settings],
    add_callback: Add,
    clock: Clock,
) -> None:
    add_callback(next_attempt_at=moscow(2026, 11, 25, 9, 0))
    dispatcher = make_dispatcher(settings_with(calling_hours="10:30-18:00"))
    assert counts(dispatcher.run_once()) == (0, 0, 0, 1)
    clock.set(2026, 11, 25, 10, 30)
    assert counts(dispatcher.run_once()) == (1, 1, 0, 0)


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        (
            "09:00-20:00",
            [(9, 0, 0), (19, 59, 59), (12, 0, 0)],
            [(8, 59, 59), (20, 0, 0), (0, 0, 0)],
        ),
        ("9:30 - 18:00", [(9, 30, 0)], [(9, 29, 59), (18, 0, 0)]),
        ("22:00-06:00", [(22, 0, 0), (23, 59, 0), (5, 59, 59)], [(6, 0, 0), (21, 59, 59)]),
        ("00:00-24:00", [(0, 0, 0), (23, 59, 59), (12, 0, 0)], []),
        ("08:00-24:00", [(8, 0, 0), (23, 59, 59)], [(0, 0, 0), (7, 59, 59)]),
    ],
)
def test_calling_hours_parse_and_contain(
    text: str, inside: list[tuple[int, int, int]], outside: list[tuple[int, int, int]]
) -> None:
    hours = parse_calling_hours(text)
    for h, m, s in inside:
        assert hours.contains(moscow(2026, 11, 25, h, m, s)), (text, h, m, s)
    for h, m, s in outside:
        assert not hours.contains(moscow(2026, 11, 25, h, m, s)), (text, h, m, s)


def test_calling_hours_are_moscow_time_whatever_the_clock_zone() -> None:
    hours = parse_calling_hours("09:00-20:00")
    # 06:30 UTC is 09:30 in Moscow.
    assert hours.contains(moscow(2026, 11, 25, 9, 30).astimezone(UTC))
    assert not hours.contains(moscow(2026, 11, 25, 8, 30).astimezone(timezone(timedelta(hours=-5))))


@pytest.mark.parametrize("text", ["", "9-20", "09:00", "25:00-26:00", "09:60-10:00", "10:00-10:00"])
def test_malformed_calling_hours_are_refused(text: str) -> None:
    with pytest.raises(CallingHoursError):
        parse_calling_hours(text)


def test_a_dispatcher_refuses_malformed_calling_hours(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, calling_hours="always")
    with pytest.raises(CallingHoursError):
        Dispatcher(settings, db)


# -- outcomes and retries -----------------------------------------------------------------------


def test_no_answer_is_retried_after_the_delay(
    dispatcher: Dispatcher,
    dispatch_settings: Settings,
    db: Database,
    stub: TwilioStub,
    add_callback: Add,
    load: Load,
    clock: Clock,
) -> None:
    cb = add_callback()
    dispatcher.run_once()
    first = stub.calls[0].sid

    assert apply_call_result(db, cb, "no-answer", clock(), dispatch_settings, call_sid=first)
    row = load(cb)
    assert (row.status, row.attempts, row.last_result) == ("retry", 1, "no-answer")
    assert utc(row.next_attempt_at) == clock() + timedelta(minutes=15)

    clock.set(2026, 11, 25, 10, 14)
    assert counts(dispatcher.run_once()) == (0, 0, 0, 0)
    clock.set(2026, 11, 25, 10, 15)
    assert counts(dispatcher.run_once()) == (1, 1, 0, 0)
    assert len(stub.calls) == 2
    row = load(cb)
    assert (row.status, row.attempts, row.outbound_call_sid) == ("dialing", 2, stub.calls[1].sid)


def test_an_answered_call_completes_the_booking(
    dispatcher: Dispatcher,
    dispatch_settings: Settings,
    db: Database,
    stub: TwilioStub,
    add_callback: Add,
    load: Load,
    clock: Clock,
) -> None:
    cb = add_callback()
    dispatcher.run_once()
    sid = stub.calls[0].sid
    assert apply_call_result(db, cb, "completed", clock(), dispatch_settings, call_sid=sid)
    row = load(cb)
    assert (row.status, row.last_result) == ("completed", "completed")

    # Twilio repeats a status callback now and then: nothing changes.
    assert not apply_call_result(db, cb, "completed", clock(), dispatch_settings, call_sid=sid)
    assert not apply_call_result(db, cb, "no-answer", clock(), dispatch_settings, call_sid=sid)
    assert load(cb).status == "completed"
    clock.set(2026, 11, 25, 12, 0)
    assert counts(dispatcher.run_once()) == (0, 0, 0, 0)


def test_the_last_failed_attempt_fails_the_booking_and_keeps_it(
    make_dispatcher: MakeDispatcher,
    database_url: str,
    tmp_path: Path,
    db: Database,
    stub: TwilioStub,
    add_callback: Add,
    load: Load,
    clock: Clock,
) -> None:
    settings = make_settings(
        database_url,
        tmp_path,
        twilio_api_base=stub.base_url,
        callback_max_attempts=2,
        callback_retry_minutes=10,
    )
    dispatcher = make_dispatcher(settings)
    cb = add_callback()

    dispatcher.run_once()
    assert apply_call_result(db, cb, "busy", clock(), settings)
    assert load(cb).status == "retry"
    clock.set(2026, 11, 25, 10, 10)
    assert dispatcher.run_once().placed == 1
    assert apply_call_result(db, cb, "failed", clock(), settings)

    row = load(cb)
    assert (row.status, row.attempts, row.last_result) == ("failed", 2, "failed")
    with db.sessions() as session:
        failed = session.scalars(select(Callback.id).where(Callback.status == "failed")).all()
    assert failed == [cb]
    # A repeated status and later passes leave it alone.
    assert not apply_call_result(db, cb, "failed", clock(), settings)
    clock.set(2026, 11, 25, 11, 0)
    assert counts(dispatcher.run_once()) == (0, 0, 0, 0)
    assert len(stub.calls) == 2


def test_a_status_about_another_call_is_ignored(
    dispatcher: Dispatcher,
    dispatch_settings: Settings,
    db: Database,
    add_callback: Add,
    load: Load,
    clock: Clock,
) -> None:
    cb = add_callback()
    dispatcher.run_once()
    assert not apply_call_result(
        db, cb, "no-answer", clock(), dispatch_settings, call_sid="CA" + "9" * 32
    )
    assert load(cb).status == "dialing"


@pytest.mark.parametrize("status", ["queued", "ringing", "in-progress", "whatever"])
def test_statuses_that_are_not_final_change_nothing(
    status: str,
    dispatcher: Dispatcher,
    dispatch_settings: Settings,
    db: Database,
    add_callback: Add,
    load: Load,
    clock: Clock,
) -> None:
    cb = add_callback()
    dispatcher.run_once()
    assert not apply_call_result(db, cb, status, clock(), dispatch_settings)
    assert load(cb).status == "dialing"


def test_a_status_for_an_unknown_or_undialled_booking_changes_nothing(
    dispatch_settings: Settings, db: Database, add_callback: Add, load: Load, clock: Clock
) -> None:
    assert not apply_call_result(db, 999_999, "completed", clock(), dispatch_settings)
    cb = add_callback()
    assert not apply_call_result(db, cb, "completed", clock(), dispatch_settings)
    assert load(cb).status == "booked"


# -- the REST API refusing ----------------------------------------------------------------------


@pytest.mark.parametrize("http_status", [400, 500, 503])
def test_a_rest_error_is_a_failed_attempt_retried_later(
    http_status: int,
    dispatcher: Dispatcher,
    stub: TwilioStub,
    add_callback: Add,
    load: Load,
    clock: Clock,
) -> None:
    cb = add_callback()
    stub.fail_next(http_status)

    assert counts(dispatcher.run_once()) == (1, 0, 1, 0)
    row = load(cb)
    assert (row.status, row.attempts) == ("retry", 1)
    assert row.last_result == f"api-error-{http_status}"
    assert utc(row.next_attempt_at) == clock() + timedelta(minutes=15)
    assert stub.calls == []

    clock.set(2026, 11, 25, 10, 15)
    assert counts(dispatcher.run_once()) == (1, 1, 0, 0)
    row = load(cb)
    assert (row.status, row.attempts, row.outbound_call_sid) == ("dialing", 2, stub.calls[0].sid)


def test_wrong_credentials_are_a_failed_attempt(
    make_dispatcher: MakeDispatcher,
    database_url: str,
    tmp_path: Path,
    stub: TwilioStub,
    add_callback: Add,
    load: Load,
) -> None:
    settings = make_settings(
        database_url, tmp_path, twilio_api_base=stub.base_url, twilio_auth_token="wrong"
    )
    cb = add_callback()
    assert counts(make_dispatcher(settings).run_once()) == (1, 0, 1, 0)
    assert [r.status for r in stub.requests] == [401]
    assert load(cb).last_result == "api-error-401"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_an_unreachable_api_is_a_failed_attempt(
    make_dispatcher: MakeDispatcher,
    database_url: str,
    tmp_path: Path,
    add_callback: Add,
    load: Load,
) -> None:
    settings = make_settings(
        database_url, tmp_path, twilio_api_base=f"http://127.0.0.1:{_closed_port()}"
    )
    cb = add_callback()
    assert counts(make_dispatcher(settings).run_once()) == (1, 0, 1, 0)
    row = load(cb)
    assert (row.status, row.attempts, row.last_result) == ("retry", 1, "api-unreachable")


def test_a_rest_error_on_the_last_attempt_fails_the_booking(
    make_dispatcher: MakeDispatcher,
    database_url: str,
    tmp_path: Path,
    stub: TwilioStub,
    add_callback: Add,
    load: Load,
) -> None:
    settings = make_settings(
        database_url, tmp_path, twilio_api_base=stub.base_url, callback_max_attempts=1
    )
    stub.fail_all = 500
    cb = add_callback()
    assert counts(make_dispatcher(settings).run_once()) == (1, 0, 1, 0)
    row = load(cb)
    assert (row.status, row.attempts, row.last_result) == ("failed", 1, "api-error-500")


def test_one_refused_call_does_not_stop_the_others(
    dispatcher: Dispatcher, stub: TwilioStub, add_callback: Add, load: Load
) -> None:
    first = add_callback(priority=1)
    second = add_callback()
    stub.fail_next(500)
    assert counts(dispatcher.run_once()) == (2, 1, 1, 0)
    assert (load(first).status, load(second).status) == ("retry", "dialing")


def test_a_client_that_cannot_be_made_fails_the_claimed_attempts(
    make_dispatcher: MakeDispatcher, add_callback: Add, load: Load
) -> None:
    def broken() -> object:
        raise RuntimeError("no client")

    cb = add_callback()
    assert counts(make_dispatcher(client_factory=broken).run_once()) == (1, 0, 1, 0)
    assert (load(cb).status, load(cb).last_result) == ("retry", "api-error")


# -- stale dials ------------------------------------------------------------------------------


def test_a_stale_dialing_booking_is_reclaimed_and_dialled_again(
    dispatcher: Dispatcher, stub: TwilioStub, add_callback: Add, load: Load, clock: Clock
) -> None:
    long_ago = clock() - STALE_DIALING - timedelta(minutes=1)
    recently = clock() - STALE_DIALING + timedelta(minutes=1)
    stale = add_callback(status="dialing", attempts=1, updated_at=long_ago)
    fresh = add_callback(status="dialing", attempts=1, updated_at=recently)
    spent = add_callback(status="dialing", attempts=3, updated_at=long_ago)

    report = dispatcher.run_once()

    assert report.stale_reclaimed == 2
    assert counts(report) == (1, 1, 0, 0)
    assert stub.calls_by_query("Url", "callback") == {str(stale): 1}
    assert (load(stale).status, load(stale).attempts) == ("dialing", 2)
    assert (load(fresh).status, load(fresh).attempts) == ("dialing", 1)
    assert (load(spent).status, load(spent).last_result) == ("failed", "no-status")


def test_a_stale_booking_found_after_hours_waits_as_a_retry(
    dispatcher: Dispatcher, stub: TwilioStub, add_callback: Add, load: Load, clock: Clock
) -> None:
    clock.set(2026, 11, 25, 22, 0)
    cb = add_callback(status="dialing", attempts=1, updated_at=moscow(2026, 11, 25, 19, 55))
    report = dispatcher.run_once()
    assert (report.stale_reclaimed, report.waiting_outside_hours) == (1, 1)
    assert load(cb).status == "retry"
    assert stub.requests == []


def test_a_stale_call_still_going_on_is_left_alone(
    dispatcher: Dispatcher, stub: TwilioStub, add_callback: Add, load: Load, clock: Clock
) -> None:
    """A callback answered and waiting or talking with an operator for over half an hour."""
    cb = add_callback()
    dispatcher.run_once()
    sid = stub.calls[0].sid
    stub.set_call_status(sid, "in-progress")
    clock.set(2026, 11, 25, 10, 31)

    report = dispatcher.run_once()

    assert report.stale_reclaimed == 0
    assert counts(report) == (0, 0, 0, 0)
    assert len(stub.calls) == 1
    assert [r.path.rsplit("/", 1)[-1] for r in stub.requests if r.method == "GET"] == [
        f"{sid}.json"
    ]
    row = load(cb)
    assert (row.status, row.attempts, row.outbound_call_sid) == ("dialing", 1, sid)
    # Checked again only after another half hour.
    clock.set(2026, 11, 25, 10, 45)
    dispatcher.run_once()
    assert sum(r.method == "GET" for r in stub.requests) == 1


@pytest.mark.parametrize(
    ("twilio_status", "expected"), [("completed", "completed"), ("no-answer", "retry")]
)
def test_a_stale_call_that_ended_is_applied_as_its_lost_status_callback(
    twilio_status: str,
    expected: str,
    dispatcher: Dispatcher,
    stub: TwilioStub,
    add_callback: Add,
    load: Load,
    clock: Clock,
) -> None:
    cb = add_callback()
    dispatcher.run_once()
    stub.set_call_status(stub.calls[0].sid, twilio_status)
    clock.set(2026, 11, 25, 10, 40)

    report = dispatcher.run_once()

    assert report.stale_reclaimed == 1
    assert report.placed == 0  # a retry waits its delay
    row = load(cb)
    assert (row.status, row.attempts, row.last_result) == (expected, 1, twilio_status)


def test_a_stale_call_twilio_does_not_know_is_dialled_again(
    dispatcher: Dispatcher, stub: TwilioStub, add_callback: Add, load: Load, clock: Clock
) -> None:
    cb = add_callback(
        status="dialing",
        attempts=1,
        outbound_call_sid="CA" + "f" * 32,
        updated_at=clock() - STALE_DIALING - timedelta(minutes=1),
    )
    report = dispatcher.run_once()
    assert (report.stale_reclaimed, report.placed) == (1, 1)
    row = load(cb)
    assert (row.status, row.attempts, row.outbound_call_sid) == ("dialing", 2, stub.calls[0].sid)


def test_a_stale_call_is_left_while_twilio_cannot_be_asked(
    dispatcher: Dispatcher, stub: TwilioStub, add_callback: Add, load: Load, clock: Clock
) -> None:
    sid = "CA" + "e" * 32
    stub.set_call_status(sid, "completed")
    cb = add_callback(
        status="dialing",
        attempts=1,
        outbound_call_sid=sid,
        updated_at=clock() - STALE_DIALING - timedelta(minutes=1),
    )
    stub.close()
    report = dispatcher.run_once()
    assert (report.stale_reclaimed, report.claimed) == (0, 0)
    assert load(cb).status == "dialing"


# -- voicemails ---------------------------------------------------------------------------------


def test_each_pass_retries_pending_voicemail_downloads(
    dispatcher: Dispatcher,
    dispatch_settings: Settings,
    db: Database,
    stub: TwilioStub,
    clock: Clock,
) -> None:
    sid = "RE" + "ab" * 16
    with db.transaction() as session:
        session.add(
            Voicemail(
                recording_sid=sid,
                call_sid="CA" + "3" * 32,
                caller="+79161234567",
                line=HOTLINE,
                duration=3,
                request_number="1000002",
                status="pending",
                file_path="",
                download_attempts=1,
                last_error="Twilio answered 404",
                created_at=clock(),
            )
        )
    wav = silent_wav(seconds=1)
    stub.recordings[sid] = wav
    clock.set(2026, 11, 25, 23, 0)  # outside calling hours: voicemails do not wait

    report = dispatcher.run_once()

    assert report.voicemails_retried == 1
    with db.sessions() as session:
        stored = session.scalar(select(Voicemail).where(Voicemail.recording_sid == sid))
        assert stored is not None
        assert (stored.status, stored.download_attempts) == ("stored", 2)
    assert (dispatch_settings.recordings_dir / f"{sid}.wav").read_bytes() == wav


# -- running ------------------------------------------------------------------------------------


def test_run_forever_passes_until_stopped(
    make_dispatcher: MakeDispatcher,
    database_url: str,
    tmp_path: Path,
    stub: TwilioStub,
    add_callback: Add,
) -> None:
    settings = make_settings(
        database_url, tmp_path, twilio_api_base=stub.base_url, worker_interval=0.05
    )
    dispatcher = make_dispatcher(settings)
    add_callback()
    reports: list[PassReport] = []
    stop = threading.Event()
    worker = threading.Thread(target=dispatcher.run_forever, args=(stop, reports.append))
    worker.start()
    deadline = time.monotonic() + 10
    while len(reports) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    worker.join(5)
    assert not worker.is_alive()
    assert len(reports) >= 3
    assert sum(r.placed for r in reports) == 1


def test_run_forever_stops_without_waiting_out_the_interval(
    make_dispatcher: MakeDispatcher, database_url: str, tmp_path: Path, stub: TwilioStub
) -> None:
    settings = make_settings(
        database_url, tmp_path, twilio_api_base=stub.base_url, worker_interval=3600
    )
    dispatcher = make_dispatcher(settings)
    first = threading.Event()
    stop = threading.Event()
    worker = threading.Thread(
        target=dispatcher.run_forever, args=(stop, lambda _report: first.set())
    )
    worker.start()
    assert first.wait(10)
    started = time.monotonic()
    stop.set()
    worker.join(5)
    assert not worker.is_alive()
    assert time.monotonic() - started < 2


def test_a_failing_pass_does_not_stop_the_worker(
    db: Database, database_url: str, tmp_path: Path, stub: TwilioStub
) -> None:
    settings = make_settings(
        database_url, tmp_path, twilio_api_base=stub.base_url, worker_interval=0.01
    )
    calls = 0

    def flaky_clock() -> datetime:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("clock trouble")
        return moscow(2026, 11, 25, 10, 0)

    dispatcher = Dispatcher(settings, db, flaky_clock)
    reports: list[PassReport] = []
    stop = threading.Event()

    def collect(report: PassReport) -> None:
        reports.append(report)
        stop.set()

    dispatcher.run_forever(stop, collect)
    assert calls == 2
    assert len(reports) == 1


def test_the_report_line_has_the_counts_and_no_phone_numbers(
    dispatcher: Dispatcher, add_callback: Add
) -> None:
    add_callback(phone="+79161234567")
    line = dispatcher.run_once().summary()
    assert line.startswith("2026-11-25 10:00:00 MSK: claimed 1, placed 1, failed to place 0")
    assert "waiting outside hours 0" in line and "voicemails retried 0" in line
    assert "9161234567" not in line


def test_a_booking_not_reached_within_three_days_of_calling_expires_and_frees_the_number(
    dispatcher: Dispatcher,
    stub: TwilioStub,
    add_callback: Add,
    load: Load,
    clock: Clock,
    db: Database,
) -> None:
    # Wednesday 25 November, 10:00; the worker was down since the weekend. Since Saturday's
    # slots three days went by (Sunday to Tuesday), since Sunday's two, though its slot
    # ended more than three times 24 hours ago.
    stale = add_callback(
        phone="+79161110001",
        slot_start=moscow(2026, 11, 21, 10, 0),
        slot_end=moscow(2026, 11, 21, 10, 15),
        next_attempt_at=moscow(2026, 11, 21, 10, 0),
    )
    before_midnight = add_callback(
        phone="+79161110003",
        slot_start=moscow(2026, 11, 21, 23, 45),
        slot_end=moscow(2026, 11, 22, 0, 0),
        next_attempt_at=moscow(2026, 11, 21, 23, 45),
    )
    late = add_callback(
        phone="+79161110002",
        slot_start=moscow(2026, 11, 22, 9, 0),
        slot_end=moscow(2026, 11, 22, 9, 15),
        next_attempt_at=moscow(2026, 11, 22, 9, 0),
    )

    report = dispatcher.run_once()

    assert (report.expired, report.claimed, report.placed) == (2, 1, 1)
    assert "expired 2" in report.summary()
    assert (load(stale).status, load(stale).last_result) == ("expired", "expired")
    assert load(before_midnight).status == "expired"
    assert load(late).status == "dialing"
    assert stub.calls_by_query("Url", "callback") == {str(late): 1}
    # An expired booking is not an open one: the number may book again.
    with db.sessions() as session:
        assert open_booking(session, "+79161110001") is None
        assert open_booking(session, "+79161110002") is not None


def test_the_new_year_break_does_not_count_towards_expiry(
    dispatcher: Dispatcher, add_callback: Add, load: Load, clock: Clock
) -> None:
    # Slot on 30 December; 31 December to 8 January nobody is called.
    cb = add_callback(
        slot_start=moscow(2026, 12, 30, 19, 0),
        slot_end=moscow(2026, 12, 30, 19, 15),
        next_attempt_at=moscow(2026, 12, 30, 19, 0),
        status="retry",
        attempts=1,
    )
    clock.set(2027, 1, 8, 21, 0)  # the last day of the break
    assert dispatcher.run_once().expired == 0
    clock.set(2027, 1, 11, 21, 0)  # 9 and 10 January went by
    assert dispatcher.run_once().expired == 0
    assert load(cb).status == "retry"
    clock.set(2027, 1, 12, 21, 0)  # and 11 January: three days of calling
    assert dispatcher.run_once().expired == 1
    assert load(cb).status == "expired"
