"""The callback dispatcher behind ``ivr worker``: dials booked callbacks through Twilio's REST API.

Each pass, in this order:

1. A ``dialing`` booking untouched for :data:`STALE_DIALING` is looked at again. Without a call
   SID (the worker died mid-dial) it goes back to ``retry`` (its attempt counts), or to
   ``failed`` when it has used every attempt. With one, Twilio is asked about the call: a call
   still going on (a long talk with an operator) is left alone, an ended one is applied as its
   lost status callback would have been.
2. Outside the calling hours (``IVR_CALLING_HOURS``, Moscow time; not on public holidays and
   transferred days off unless ``IVR_CALLING_ON_HOLIDAYS``) nothing is claimed: the due
   bookings are only counted as waiting. Inside them, due bookings (``booked`` or ``retry`` with
   ``next_attempt_at <= now``) are claimed in one short transaction: ``SELECT … FOR UPDATE SKIP
   LOCKED`` on PostgreSQL (SQLite's ``BEGIN IMMEDIATE`` lets one writer in at a time), set to
   ``dialing`` with the attempt counted, and committed. Only then are the calls placed, outside
   any transaction, so several workers on several machines never dial one booking twice.
   A booking is not claimed while the call that booked it is still going on (its end not
   recorded yet by Twilio's status callback): an immediate callback booked from a queue must
   not ring the caller while they are still hearing its request number, or before they could
   refuse it. A call whose end never came holds its booking up for :data:`BOOKING_CALL_WAIT`
   at most.
3. Voicemail downloads that failed earlier are tried again.

A booking still not reached after ``IVR_CALLBACK_EXPIRY_DAYS`` days of calling since its slot
(days the calling hours apply on: public holidays do not count) is not dialled any more: it is
marked ``expired`` (before step 2), its request kept for a person to follow up
(``ivr callbacks list --status expired``).

The outcome of a call arrives later as Twilio's status callback, which the web app hands to
:func:`apply_call_result`: ``completed`` ends the booking; ``busy``, ``no-answer``, ``failed``
and ``canceled`` schedule a retry after ``IVR_CALLBACK_RETRY_MINUTES`` until
``IVR_CALLBACK_MAX_ATTEMPTS`` attempts were made, then the booking is ``failed`` (and stays in
the table for people to see). A call the REST API refuses counts as a failed attempt too.

Every datetime stored is UTC; SQLite hands them back naive, and they are read as UTC.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import ColumnElement, exists, func, select
from twilio.base.exceptions import TwilioException, TwilioRestException

from ivr.config import Settings
from ivr.domain.privacy import mask_phone
from ivr.domain.schedule import MOSCOW, is_public_day_off
from ivr.services.voicemails import VoicemailStore
from ivr.store.db import Database
from ivr.store.models import Call, Callback, DispatcherHost, stored_utc
from ivr.telephony.recordings import RecordingFetcher
from ivr.telephony.twilio_api import make_client

__all__ = [
    "BOOKING_CALL_WAIT",
    "DUE_STATUSES",
    "FAILED_CALL_STATUSES",
    "REST_TIMEOUT",
    "STALE_DIALING",
    "CallingHours",
    "CallingHoursError",
    "Dispatcher",
    "Heartbeat",
    "PassReport",
    "apply_call_result",
    "callback_status_url",
    "callback_voice_url",
    "calling_hours",
    "count_due",
    "heartbeats",
    "parse_calling_hours",
]

log = logging.getLogger(__name__)

# Bookings the dispatcher dials once their ``next_attempt_at`` has come.
DUE_STATUSES = ("booked", "retry")
# A ``dialing`` booking older than this has lost its call (worker died, no status came).
STALE_DIALING = timedelta(minutes=30)
# How long a booking waits for the call that booked it to end, counted from that call's start:
# past it, a call whose end was never recorded (its status callback lost) is taken as over.
BOOKING_CALL_WAIT = timedelta(minutes=30)
# Final ``CallStatus`` values that mean nobody was reached.
# "not-connected": answered (perhaps by a machine) but never put through to a specialist.
FAILED_CALL_STATUSES = frozenset({"busy", "no-answer", "failed", "canceled", "not-connected"})
# Seconds the REST API may take to accept a call before the attempt counts as failed.
REST_TIMEOUT = 30.0
# How many bookings one pass claims at most.
DEFAULT_BATCH_SIZE = 20

_LAST_RESULT_LENGTH = 32  # Callback.last_result is String(32)
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")
_DAY_SECONDS = 24 * 3600


class CallingHoursError(ValueError):
    """``IVR_CALLING_HOURS`` is not of the form ``HH:MM-HH:MM``."""


@dataclass(frozen=True)
class CallingHours:
    """When calls may be placed: ``[start, end)`` in Moscow wall time, in seconds of the day.

    ``end`` may be ``24:00`` (midnight at the end of the day); ``start > end`` is an overnight
    range such as ``22:00-06:00``. Unless ``on_holidays``, nobody is called on a public holiday
    or a transferred day off of the Russian production calendar.
    """

    start: int
    end: int
    on_holidays: bool = False

    def contains(self, moment: datetime) -> bool:
        """True when ``moment`` (aware, any zone) is inside the hours in Moscow time."""
        local = moment.astimezone(MOSCOW)
        if not self.calls_on(local.date()):
            return False
        second = local.hour * 3600 + local.minute * 60 + local.second
        if self.start < self.end:
            return self.start <= second < self.end
        return second >= self.start or second < self.end

    def calls_on(self, day: date) -> bool:
        """Whether anyone may be called on a (Moscow) calendar day."""
        return self.on_holidays or not is_public_day_off(day)

    def calling_days_between(self, after: datetime, before: datetime, most: int = 31) -> int:
        """How many calendar days strictly between two moments' Moscow dates calls may be
        made on (counting stops at ``most``)."""
        day = after.astimezone(MOSCOW).date() + timedelta(days=1)
        last = before.astimezone(MOSCOW).date()
        count = 0
        while day < last and count < most:
            if self.calls_on(day):
                count += 1
            day += timedelta(days=1)
        return count

    def __str__(self) -> str:
        days = "" if self.on_holidays else " (not on public holidays)"
        return f"{_clock_text(self.start)}-{_clock_text(self.end)}{days}"


def _clock_text(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def calling_hours(settings: Settings) -> CallingHours:
    """The calling hours the settings give (``IVR_CALLING_HOURS``, ``IVR_CALLING_ON_HOLIDAYS``)."""
    return parse_calling_hours(settings.calling_hours, on_holidays=settings.calling_on_holidays)


def parse_calling_hours(text: str, *, on_holidays: bool = False) -> CallingHours:
    """``"09:00-20:00"`` → :class:`CallingHours`; :class:`CallingHoursError` when malformed."""
    match = _HOURS.match(text)
    if match is None:
        raise CallingHoursError(f"calling hours {text!r} are not of the form HH:MM-HH:MM")
    sh, sm, eh, em = (int(group) for group in match.groups())
    if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em != 0):
        raise CallingHoursError(f"calling hours {text!r} name a time that does not exist")
    start, end = sh * 3600 + sm * 60, eh * 3600 + em * 60
    if end == _DAY_SECONDS and start == 0:
        return CallingHours(0, _DAY_SECONDS, on_holidays)
    end %= _DAY_SECONDS
    if start == end:
        raise CallingHoursError(f"calling hours {text!r} are empty")
    return CallingHours(start, end, on_holidays)


@dataclass
class PassReport:
    """What one pass of the dispatcher did."""

    at: datetime
    claimed: int = 0
    placed: int = 0
    failed_to_place: int = 0
    waiting_outside_hours: int = 0
    voicemails_retried: int = 0
    stale_reclaimed: int = 0
    expired: int = 0

    def summary(self) -> str:
        """One line for the worker's output (no personal data)."""
        return (
            f"{self.at.astimezone(MOSCOW):%Y-%m-%d %H:%M:%S} MSK: claimed {self.claimed}, "
            f"placed {self.placed}, failed to place {self.failed_to_place}, "
            f"waiting outside hours {self.waiting_outside_hours}, "
            f"stale reclaimed {self.stale_reclaimed}, expired {self.expired}, "
            f"voicemails retried {self.voicemails_retried}"
        )


@dataclass(frozen=True)
class _Claim:
    """A booking claimed for one attempt, detached from its session."""

    id: int
    phone: str
    line: str
    flow: str
    attempts: int


def _aware_now(clock: Callable[[], datetime]) -> datetime:
    now = clock()
    if now.tzinfo is None:
        raise ValueError("the dispatcher's clock must return an aware datetime")
    return now


def callback_voice_url(settings: Settings, callback: int, flow: str) -> str:
    """The webhook Twilio fetches when the person answers: the callback flow of the booking."""
    return f"{settings.public_url}/voice/incoming?flow={flow}&callback={callback}"


def callback_status_url(settings: Settings, callback: int) -> str:
    """The status callback of an outbound call, handled by :func:`apply_call_result`."""
    return f"{settings.public_url}/voice/callback-status?callback={callback}"


def _record_failed_attempt(
    callback: Callback, result: str, now: datetime, settings: Settings
) -> None:
    """Schedule the next attempt, or give up after the last one; ``now`` is UTC."""
    if callback.attempts < settings.callback_max_attempts:
        callback.status = "retry"
        callback.next_attempt_at = now + timedelta(minutes=settings.callback_retry_minutes)
    else:
        callback.status = "failed"
    callback.last_result = result[:_LAST_RESULT_LENGTH]
    callback.updated_at = now


def apply_call_result(
    db: Database,
    callback_id: int,
    call_status: str,
    now: datetime,
    settings: Settings,
    *,
    call_sid: str | None = None,
) -> bool:
    """Apply the final status of a callback's outbound call; True when the booking changed.

    ``completed`` completes the booking; ``busy``, ``no-answer``, ``failed`` and ``canceled``
    schedule a retry (``callback_retry_minutes`` after ``now``) while attempts remain, else
    fail it. Only a booking that is ``dialing`` changes, so a repeated callback is a no-op.
    When ``call_sid`` (the callback's ``CallSid``) is given and the booking already knows its
    call, a status about another call (an earlier attempt) is ignored as well.
    """
    status = call_status.strip().lower()
    if status != "completed" and status not in FAILED_CALL_STATUSES:
        return False
    moment = stored_utc(now)
    with db.transaction() as session:
        callback = session.get(Callback, callback_id, with_for_update=True)
        if callback is None or callback.status != "dialing":
            return False
        if call_sid and callback.outbound_call_sid and call_sid != callback.outbound_call_sid:
            return False
        if status == "completed":
            callback.status = "completed"
            callback.last_result = status
            callback.updated_at = moment
        else:
            _record_failed_attempt(callback, status, moment, settings)
        outcome, attempts, phone = callback.status, callback.attempts, callback.phone
    log.info(
        "callback %s to %s: call %s after attempt %d; now %s",
        callback_id,
        mask_phone(phone),
        status,
        attempts,
        outcome,
    )
    return True


def _default_client(settings: Settings) -> Any:
    """The real twilio client, with a timeout so a hung API cannot stall the worker."""
    client = make_client(settings)
    if client.http_client.timeout is None:
        client.http_client.timeout = REST_TIMEOUT
    return client


def _failure_result(exc: BaseException) -> str:
    if isinstance(exc, TwilioRestException):
        return f"api-error-{exc.status}"
    if isinstance(exc, requests.Timeout):
        return "api-timeout"
    if isinstance(exc, (requests.RequestException, OSError)):
        return "api-unreachable"
    return "api-error"


def _booking_call_going_on(moment: datetime) -> ColumnElement[bool]:
    """The call that booked the callback has not ended yet (``moment`` is UTC): no end
    recorded, and started less than :data:`BOOKING_CALL_WAIT` ago."""
    return exists().where(
        Call.sid == Callback.booked_call_sid,
        Call.ended_at.is_(None),
        Call.started_at > moment - BOOKING_CALL_WAIT,
    )


def _due(moment: datetime) -> tuple[ColumnElement[bool], ...]:
    """What makes a booking due at ``moment`` (UTC): ``booked`` or ``retry``, its attempt's
    time come, and the call that booked it over."""
    return (
        Callback.status.in_(DUE_STATUSES),
        Callback.next_attempt_at <= moment,
        ~_booking_call_going_on(moment),
    )


def count_due(db: Database, now: datetime) -> int:
    """How many bookings are due at ``now``: ``booked`` or ``retry``, their attempt's time
    come, the call that booked them over."""
    with db.sessions() as session:
        return int(
            session.scalar(select(func.count()).select_from(Callback).where(*_due(stored_utc(now))))
            or 0
        )


class Dispatcher:
    """Finds due callbacks and dials them; one instance per worker process (or thread)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Callable[[], datetime] | None = None,
        client_factory: Callable[[], Any] | None = None,
        *,
        caller_id: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        voicemails: VoicemailStore | None = None,
        worker_name: str | None = None,
    ) -> None:
        """``clock`` returns an aware datetime (default: now in Moscow); ``client_factory``
        returns a twilio ``Client`` (default: :func:`ivr.telephony.twilio_api.make_client`).

        ``caller_id`` is the number dialled from when a booking has no line; it defaults to
        the ``callback_caller_id`` setting where the settings have one.
        ``worker_name`` names this process's heartbeat row (default: host and process id).
        Raises :class:`CallingHoursError` for malformed ``settings.calling_hours``.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.settings = settings
        self.db = db
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(MOSCOW))
        self.client_factory: Callable[[], Any] = client_factory or (
            lambda: _default_client(settings)
        )
        self.caller_id = caller_id if caller_id is not None else settings.callback_caller_id
        self.batch_size = batch_size
        self.hours = calling_hours(settings)
        self.voicemails = voicemails or VoicemailStore(
            db, RecordingFetcher.from_settings(settings), settings.recordings_dir
        )
        self._client: Any = None
        self.worker_name = worker_name or f"{socket.gethostname()}:{os.getpid()}"[:128]
        self.started_at: datetime | None = None

    # -- passes -------------------------------------------------------------------------------

    def run_once(self) -> PassReport:
        """One pass: reclaim stale dials, claim and dial due bookings, retry voicemails;
        then this worker's heartbeat records the pass."""
        began = time.monotonic()
        report = self._pass()
        self._beat(report, time.monotonic() - began)
        return report

    def _pass(self) -> PassReport:
        now = _aware_now(self.clock)
        report = PassReport(at=now)
        report.stale_reclaimed = self.reclaim_stale(now)
        report.expired = self.expire_overdue(now)
        if self.hours.contains(now):
            claims = self.claim(now)
            report.claimed = len(claims)
            if claims:
                placed = self.place_all(claims, now)
                report.placed = placed
                report.failed_to_place = len(claims) - placed
        else:
            report.waiting_outside_hours = self.count_due(now)
        try:
            report.voicemails_retried = self.voicemails.retry_pending(now)
        except Exception:
            log.exception("retrying voicemail downloads failed; next pass tries again")
        return report

    def _beat(self, report: PassReport, seconds: float) -> None:
        """Write this worker's heartbeat; a failure is logged and never stops the worker."""
        # Stored in UTC, as every datetime is (SQLite would keep a Moscow wall time as it is).
        at = report.at.astimezone(UTC)
        if self.started_at is None:
            self.started_at = at
        try:
            with self.db.transaction(durable=False) as session:
                row = session.get(DispatcherHost, self.worker_name)
                if row is None:
                    row = DispatcherHost(worker=self.worker_name, started_at=self.started_at)
                    session.add(row)
                row.last_pass_at = at
                row.last_pass_seconds = seconds
                row.passes = (row.passes or 0) + 1
                row.last_claimed = report.claimed
                row.last_placed = report.placed
                row.last_failed = report.failed_to_place
                row.last_waiting = report.waiting_outside_hours
        except Exception:
            log.exception("the dispatcher's heartbeat was not written; the next pass tries again")

    def run_forever(
        self,
        stop_event: threading.Event,
        on_report: Callable[[PassReport], None] | None = None,
    ) -> None:
        """Run passes every ``settings.worker_interval`` seconds until ``stop_event`` is set.

        A pass in progress is finished (its claimed calls are placed) before returning. A pass
        that fails (the database is away) is logged and the next one runs as usual.
        """
        while not stop_event.is_set():
            try:
                report = self.run_once()
            except Exception:
                log.exception("dispatcher pass failed; retrying in %g s", self.interval)
            else:
                if on_report is not None:
                    on_report(report)
            if stop_event.wait(self.interval):
                break

    @property
    def interval(self) -> float:
        """Seconds between passes."""
        return self.settings.worker_interval

    # -- steps --------------------------------------------------------------------------------

    def reclaim_stale(self, now: datetime) -> int:
        """Resolve ``dialing`` bookings untouched for :data:`STALE_DIALING`; returns how many
        left ``dialing``.

        Without a call SID the worker died mid-dial: the booking goes back to ``retry`` at once
        (the attempt counts) or, out of attempts, to ``failed``. With one, Twilio is asked how
        the call is: a finished call is applied as its status callback would have been, a call
        still in progress (a long talk with an operator) is left alone, and a call Twilio does
        not know is treated as never placed. When Twilio cannot be asked, the booking waits.
        """
        moment = stored_utc(now)
        to_check: list[tuple[int, str]] = []
        resolved = 0
        with self.db.transaction() as session:
            stale = session.scalars(
                select(Callback)
                .where(Callback.status == "dialing", Callback.updated_at < moment - STALE_DIALING)
                .order_by(Callback.id)
                .with_for_update(skip_locked=True)
            ).all()
            for callback in stale:
                if callback.outbound_call_sid:
                    # Checked below, outside the transaction; not again for a while.
                    callback.updated_at = moment
                    to_check.append((callback.id, callback.outbound_call_sid))
                else:
                    self._give_up_on_dial(callback, moment)
                    resolved += 1
        for callback_id, sid in to_check:
            resolved += self._check_call(callback_id, sid, now)
        return resolved

    def expire_overdue(self, now: datetime) -> int:
        """Stop dialling bookings not reached within ``callback_expiry_days`` days of calling
        after their slot (the worker was down, or nobody answered): a call days late about a
        slot the caller has forgotten helps nobody. Days nobody may be called on (public
        holidays) do not count, so a booking made before the New Year break is still tried
        after it. Expired bookings stay in the table with their request, for a person to
        follow up."""
        days = self.settings.callback_expiry_days
        moment = stored_utc(now)
        with self.db.transaction() as session:
            # Only a slot that ended at least that many days ago can have missed them. Those
            # it locks and keeps are bookings whose days went by on holidays: nobody dials
            # them now anyway.
            candidates = session.scalars(
                select(Callback)
                .where(
                    Callback.status.in_(DUE_STATUSES),
                    Callback.slot_end <= moment - timedelta(days=days),
                )
                .order_by(Callback.id)
                .with_for_update(skip_locked=True)
            ).all()
            expired = 0
            for callback in candidates:
                # From the slot's own day: one ending at midnight belongs to the day before.
                missed = self.hours.calling_days_between(stored_utc(callback.slot_start), now, days)
                if missed < days:
                    continue
                callback.status = "expired"
                callback.last_result = "expired"
                callback.updated_at = moment
                expired += 1
                log.warning(
                    "callback %s to %s: not reached within %d days of calling; expired",
                    callback.id,
                    mask_phone(callback.phone),
                    days,
                )
        return expired

    def _give_up_on_dial(self, callback: Callback, moment: datetime) -> None:
        """A dial that produced no call: retry at once, or fail when out of attempts."""
        if callback.attempts < self.settings.callback_max_attempts:
            callback.status = "retry"
            callback.next_attempt_at = moment
        else:
            callback.status = "failed"
        callback.last_result = "no-status"
        callback.updated_at = moment
        log.warning(
            "callback %s to %s: no call status after %d min; now %s",
            callback.id,
            mask_phone(callback.phone),
            STALE_DIALING // timedelta(minutes=1),
            callback.status,
        )

    def _check_call(self, callback_id: int, sid: str, now: datetime) -> bool:
        """Ask Twilio about a stale booking's call; True when the booking left ``dialing``."""
        try:
            status = str(self._twilio().calls(sid).fetch().status or "")
        except TwilioRestException as exc:
            if exc.status != 404:
                log.warning("callback %s: call %s not checked (%s)", callback_id, sid, exc.status)
                return False
            with self.db.transaction() as session:
                callback = session.get(Callback, callback_id, with_for_update=True)
                if callback is None or callback.status != "dialing":
                    return False
                if callback.outbound_call_sid != sid:
                    return False
                self._give_up_on_dial(callback, stored_utc(now))
            return True
        except Exception as exc:
            log.warning(
                "callback %s: call %s not checked (%s)", callback_id, sid, type(exc).__name__
            )
            return False
        if status == "completed" or status in FAILED_CALL_STATUSES:
            log.warning("callback %s: call %s ended %s, no status came", callback_id, sid, status)
            return apply_call_result(self.db, callback_id, status, now, self.settings, call_sid=sid)
        log.info("callback %s: call %s is still %s", callback_id, sid, status or "unknown")
        return False

    def count_due(self, now: datetime) -> int:
        """How many bookings are due (what waits while calling is not allowed)."""
        return count_due(self.db, now)

    def claim(self, now: datetime) -> list[_Claim]:
        """Claim up to ``batch_size`` due bookings for this worker, committed before dialling;
        none whose booking call is still going on."""
        moment = stored_utc(now)
        with self.db.transaction() as session:
            rows = session.scalars(
                select(Callback)
                .where(*_due(moment))
                .order_by(Callback.priority.desc(), Callback.next_attempt_at, Callback.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            claims = []
            for callback in rows:
                callback.status = "dialing"
                callback.attempts += 1
                callback.outbound_call_sid = ""
                callback.updated_at = moment
                claims.append(
                    _Claim(
                        callback.id,
                        callback.phone,
                        callback.line,
                        callback.flow,
                        callback.attempts,
                    )
                )
        return claims

    def _twilio(self) -> Any:
        """The twilio client, made on first use and kept for later passes."""
        if self._client is None:
            self._client = self.client_factory()
        return self._client

    def place_all(self, claims: list[_Claim], now: datetime) -> int:
        """Place the claimed calls one by one; returns how many Twilio accepted."""
        try:
            client = self._twilio()
        except Exception as exc:
            log.exception("no Twilio client; %d claimed callback(s) will be retried", len(claims))
            for claim in claims:
                self._placement_failed(claim, _failure_result(exc), now)
            return 0
        return sum(self.place(client, claim, now) for claim in claims)

    def place(self, client: Any, claim: _Claim, now: datetime) -> bool:
        """Ask Twilio to dial one claimed booking; on refusal count a failed attempt."""
        sender = claim.line or self.caller_id
        if not sender:
            log.error("callback %s: no number to call from (the booking has no line)", claim.id)
            self._placement_failed(claim, "no-caller-id", now)
            return False
        try:
            call = client.calls.create(
                to=claim.phone,
                from_=sender,
                url=callback_voice_url(self.settings, claim.id, claim.flow),
                method="POST",
                status_callback=callback_status_url(self.settings, claim.id),
                status_callback_method="POST",
                status_callback_event=["completed"],
            )
        except (TwilioException, requests.RequestException, OSError) as exc:
            log.warning(
                "callback %s to %s: Twilio did not take the call (%s: %s)",
                claim.id,
                mask_phone(claim.phone),
                type(exc).__name__,
                getattr(exc, "status", "") or "no answer from the API",
            )
            self._placement_failed(claim, _failure_result(exc), now)
            return False
        except Exception as exc:
            log.exception("callback %s: placing the call failed unexpectedly", claim.id)
            self._placement_failed(claim, _failure_result(exc), now)
            return False
        sid = str(getattr(call, "sid", "") or "")
        self._store_call_sid(claim, sid, now)
        log.info(
            "callback %s to %s: attempt %d placed as %s",
            claim.id,
            mask_phone(claim.phone),
            claim.attempts,
            sid or "a call without a sid",
        )
        return True

    def _store_call_sid(self, claim: _Claim, sid: str, now: datetime) -> None:
        with self.db.transaction() as session:
            callback = session.get(Callback, claim.id, with_for_update=True)
            if callback is None or callback.attempts != claim.attempts:
                return
            callback.outbound_call_sid = sid
            if callback.status == "dialing":
                callback.updated_at = stored_utc(now)

    def _placement_failed(self, claim: _Claim, result: str, now: datetime) -> None:
        with self.db.transaction() as session:
            callback = session.get(Callback, claim.id, with_for_update=True)
            if (
                callback is None
                or callback.status != "dialing"
                or callback.attempts != claim.attempts
            ):
                return
            _record_failed_attempt(callback, result, stored_utc(now), self.settings)


@dataclass(frozen=True)
class Heartbeat:
    """What one worker process last reported (read by the console and ``/metrics``)."""

    worker: str
    started_at: datetime
    last_pass_at: datetime
    last_pass_seconds: float
    passes: int
    last_claimed: int
    last_placed: int
    last_failed: int
    last_waiting: int

    def is_stale(self, now: datetime, interval: float) -> bool:
        """True when the worker has missed three passes: it has stopped or hangs."""
        return now - self.last_pass_at > timedelta(seconds=max(3 * interval, 30))


def heartbeats(db: Database) -> list[Heartbeat]:
    """Every worker's last heartbeat, the most recent first."""
    with db.sessions() as session:
        rows = session.scalars(
            select(DispatcherHost).order_by(DispatcherHost.last_pass_at.desc())
        ).all()
        return [
            Heartbeat(
                worker=row.worker,
                started_at=stored_utc(row.started_at),
                last_pass_at=stored_utc(row.last_pass_at),
                last_pass_seconds=row.last_pass_seconds,
                passes=row.passes,
                last_claimed=row.last_claimed,
                last_placed=row.last_placed,
                last_failed=row.last_failed,
                last_waiting=row.last_waiting,
            )
            for row in rows
        ]
