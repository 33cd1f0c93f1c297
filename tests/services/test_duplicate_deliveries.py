"""Two deliveries of one webhook at the same moment leave the database as one delivery does.

Twilio may deliver a webhook twice (a retry after a slow answer, a proxy's repeat), and the
two copies can reach the server at once: two gunicorn workers, or two threads of one, then
race for the same call. Every request of a set of whole calls is sent twice here, on two
connections opened beforehand and released together by a barrier: voicemail after hours
(the <Record> action, the recording status callback and the download), callback bookings
(four, for slots of three), an escalation, a status lookup, menu walks through a queue and
its callback offer, an unknown line, the status callback at hang-up, the dispatcher's call
back with its ``/voice/callback-status``, and two messages left at the fallback apology
(``/voice/fallback/recorded`` and the status callback, each first once). Both copies must be
answered alike (the same status, the same TwiML), and the database afterwards must hold
exactly what the same calls leave with one delivery each, on a fresh database of the same
kind: calls, requests, voicemails (stored, downloaded once, the file on disk), callbacks and
their slots; and the recording host must have served each recording once.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from sqlalchemy import create_engine, select, text
from twilio.request_validator import RequestValidator

from ivr.domain.schedule import MOSCOW
from ivr.domain.spoken import digits_in_groups
from ivr.harness import audio
from ivr.harness.inputs import CallerInput, HangUp, Press, Silence, Talk
from ivr.harness.processes import ServerProcess, free_port, ivr_environ
from ivr.harness.recordings import RecordingHost
from ivr.harness.simulator import CallHarness, CallResult, CallSpec
from ivr.harness.transport import (
    USER_AGENT,
    HttpReply,
    HttpTransport,
    Transport,
    TransportError,
    with_query,
)
from ivr.store.db import Database
from ivr.store.migrate import upgrade
from ivr.store.models import Call, Callback, CallbackSlot, FlowVersion, Request, Voicemail
from ivr.store.models import stored_utc as utc
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, POSTGRES_URL

HOTLINE = "+78005553535"
UNKNOWN_LINE = "+78005550000"
AFTER_HOURS = datetime(2026, 11, 25, 22, 30, tzinfo=MOSCOW)
OPEN = datetime(2026, 11, 25, 10, 0, tzinfo=MOSCOW)
OVERDUE = ["7700001", "7700002"]
# The dispatcher's call back of the first booking, in its slot, and its CallSid.
CALLBACK_AT = datetime(2026, 11, 26, 8, 5, tzinfo=MOSCOW)
CALLBACK_SID = "CA" + "c" * 32
# Messages recorded at the fallback apology of two calls whose first turn had failed (so no
# call row): Twilio posts the <Record> action (/voice/fallback/recorded) and the recording
# status callback in no set order, so the first creates the voicemail in one, the second in
# the other; (CallSid, RecordingSid, seconds, which comes first).
FALLBACK_MESSAGES = [
    ("CA" + "f" * 31 + "1", "RE" + "e" * 31 + "1", 4, "recording"),
    ("CA" + "f" * 31 + "2", "RE" + "e" * 31 + "2", 5, "recorded"),
]
# Server log lines (INFO) of a second delivery that met the first: it found the turn
# answered (after waiting for the call's lock, or too late to race), lost the compare-and-set
# of the turn, or found the call it was to create. (A copy of the first webhook that loses the
# insert of the call on PostgreSQL, and one of a voicemail, log nothing.)
REPEAT_LOGS = {
    "repeat": re.compile(r"webhook for turn \d+ repeated"),
    "raced": re.compile(r"answered twice at once"),
    "incoming": re.compile(r"incoming webhook repeated"),
}


# -- the transport ---------------------------------------------------------------------------


@dataclass
class Copy:
    """One of the two deliveries of a request: what it got and when."""

    reply: HttpReply | None = None
    error: str = ""
    sent: float = 0.0
    answered: float = 0.0


@dataclass
class Delivery:
    """A request sent twice at once, and both answers."""

    method: str
    path: str
    params: dict[str, str]
    copies: list[Copy] = field(default_factory=list)

    @property
    def overlapped(self) -> bool:
        """Both copies were in the server at the same time (as the client saw it)."""
        a, b = self.copies
        return a.sent < b.answered and b.sent < a.answered

    def problem(self) -> str | None:
        """Why the two answers are not the one answer Twilio would act on, or None."""
        errors = [c.error for c in self.copies if c.error]
        if errors:
            return f"{self.path}: not answered: {errors}"
        a, b = (c.reply for c in self.copies)
        assert a is not None and b is not None
        if a.status >= 500 or b.status >= 500:
            return f"{self.path}: HTTP {a.status} and {b.status}"
        if (a.status, a.content_type) != (b.status, b.content_type):
            return (
                f"{self.path}: answered {a.status} {a.content_type!r}, "
                f"{b.status} {b.content_type!r}"
            )
        if a.body != b.body:
            return f"{self.path}: two different answers:\n{a.body}\n---\n{b.body}"
        return None


class DuplicatingTransport:
    """Sends every webhook twice at the same moment, on two connections of its own, and
    hands the harness the first copy's answer; ``deliveries`` keeps both."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()

    def send(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> HttpReply:
        """Both copies at once; the first copy's answer (the second's when only it got one)."""
        parts = urlsplit(url)
        target = with_query(url, params) if method == "GET" else url
        target_parts = urlsplit(target)
        path = target_parts.path + (f"?{target_parts.query}" if target_parts.query else "")
        body = None if method == "GET" else urlencode(list(params.items())).encode()
        sent_headers = {"User-Agent": USER_AGENT, **headers}
        if body is not None:
            sent_headers["Content-Type"] = "application/x-www-form-urlencoded"
        delivery = Delivery(method, parts.path, dict(params), [Copy(), Copy()])
        barrier = threading.Barrier(2, timeout=self.timeout)

        def deliver(copy: Copy) -> None:
            connection = http.client.HTTPConnection(
                parts.hostname or "127.0.0.1", parts.port, timeout=self.timeout
            )
            try:
                # Connected first, so that after the barrier only the request itself is sent.
                connection.connect()
                barrier.wait()
                copy.sent = time.monotonic()
                connection.request(method, path, body=body, headers=sent_headers)
                response = connection.getresponse()
                data = response.read().decode("utf-8", "replace")
                copy.answered = time.monotonic()
                copy.reply = HttpReply(
                    response.status, data, response.getheader("Content-Type", "")
                )
            except (OSError, http.client.HTTPException, threading.BrokenBarrierError) as exc:
                copy.error = f"{type(exc).__name__}: {exc}"
                barrier.abort()
            finally:
                connection.close()

        threads = [threading.Thread(target=deliver, args=(c,)) for c in delivery.copies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with self._lock:
            self.deliveries.append(delivery)
        for copy in delivery.copies:
            if copy.reply is not None:
                return copy.reply
        raise TransportError(f"cannot reach {url}: {delivery.copies[0].error}")


# -- the calls -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """One call of the set and what it should leave behind."""

    kind: str
    spec: CallSpec


def plan() -> list[Planned]:
    """The calls, each from a number of its own (as the durability test scripts them)."""

    def call(
        kind: str,
        index: int,
        at: datetime,
        inputs: tuple[CallerInput, ...],
        to: str = HOTLINE,
        **extra: Any,
    ) -> Planned:
        caller = f"+7916{8000000 + index:07d}"
        spec = CallSpec(to=to, caller=caller, at=at, inputs=inputs, seed=f"dup-{index}", **extra)
        return Planned(kind, spec)

    booking = (Press("2"), Press("1"), Press("1"))
    return [
        call("voicemail", 0, AFTER_HOURS, (Press("1"), Talk(3))),
        call("voicemail", 1, AFTER_HOURS, (Press("1"), Talk(2))),
        # Four bookings for slots of capacity three: the fourth goes to the next slot, so a
        # place taken twice would move it.
        *(call("booking", 2 + n, AFTER_HOURS, booking) for n in range(4)),
        call("escalation", 6, OPEN, (Press("4"), Press(OVERDUE[0] + "#"), Press("1"), Press("1"))),
        # After hours, the status of a request (a lookup), declined escalation, then hangs up.
        call(
            "status",
            7,
            AFTER_HOURS,
            (Press("3"), Press(OVERDUE[1] + "#"), Press("1"), Press("2"), HangUp()),
        ),
        # A menu walk: silence, the technical menu, a tip, the queue; the caller hangs up there.
        call(
            "menu",
            8,
            OPEN,
            (Silence(), Press("1"), Press("2")),
            queue_result="hangup",
        ),
        # The callback offer in a queue's wait music (/voice/queue/key), then the booking.
        call(
            "queue-callback",
            9,
            OPEN,
            (Press("5"), Press("1", in_queue=True), Press("1"), Press("1")),
            queue_waits=6,
        ),
        call("unknown-line", 10, OPEN, (), to=UNKNOWN_LINE),
    ]


def write_overdue(database_url: str) -> None:
    """Requests overdue since November, as ``ivr requests import`` stores them."""
    db = Database(database_url)
    try:
        with db.transaction() as session:
            for number in OVERDUE:
                session.add(
                    Request(
                        number=number,
                        category="tech",
                        status="in_work",
                        source="import",
                        created_at=datetime(2026, 11, 1, 7, 0, tzinfo=UTC),
                        due_at=datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
                        next_step="",
                        caller="",
                        line="",
                        call_sid="",
                    )
                )
    finally:
        db.dispose()


# -- deployments -----------------------------------------------------------------------------


class SlowRecordingHost(RecordingHost):
    """The recording host, answering after a while as Twilio's API does: the second copy of
    a recording status callback then finds the first one's download still under way."""

    delay = 0.4

    def _answer(self, path: str, auth: str | None) -> tuple[int, str, bytes]:
        time.sleep(self.delay)
        return super()._answer(path, auth)


class Deployment:
    """A server (gunicorn, two workers of four threads) on one database, its recording host
    and a harness calling it through ``transport``."""

    def __init__(self, workdir: Path, database_url: str, transport: Transport) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.database_url = database_url
        self.recordings = SlowRecordingHost(ACCOUNT_SID, AUTH_TOKEN)
        port = free_port()
        env = ivr_environ(
            workdir,
            database_url,
            port,
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            IVR_TWILIO_API_BASE=self.recordings.base_url,
            # INFO: the log says when a delivery found its turn answered by the other.
            IVR_LOG_LEVEL="INFO",
        )
        self.server = ServerProcess(env, workdir, port)
        self.transport = transport
        self.harness = CallHarness(
            transport,
            self.server.url,
            AUTH_TOKEN,
            account_sid=ACCOUNT_SID,
            recordings=lambda: self.recordings,
        )

    def place(self, planned: list[Planned]) -> list[CallResult]:
        """The calls one after another (each call's slot then does not depend on timing),
        then the dispatcher's call back of the first booking."""
        results = [self.harness.place(item.spec) for item in planned]
        booking = next(item for item in planned if item.kind == "booking")
        return [*results, self.call_back(booking.spec.sid or booking.spec.call_sid())]

    def post(self, path: str, params: dict[str, str], at: datetime) -> HttpReply:
        """One webhook as Twilio signs it, sent through the deployment's transport."""
        url = self.server.url + path
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "X-IVR-Clock": at.isoformat()}
        return self.transport.send("POST", url, params, headers)

    def fallback_messages(self) -> list[tuple[str, int, str]]:
        """The messages of ``FALLBACK_MESSAGES``: both webhooks of each, in its order, then
        the call's status callback; (path, status, body) of every answer."""
        answers = []
        for call_sid, recording_sid, seconds, first in FALLBACK_MESSAGES:
            self.recordings.add(recording_sid, call_sid, audio.talking(seconds))
            call = {
                "AccountSid": ACCOUNT_SID,
                "CallSid": call_sid,
                "From": f"+7916{9000000 + seconds:07d}",
                "To": HOTLINE,
                "Direction": "inbound",
                "ApiVersion": "2010-04-01",
                "CallStatus": "in-progress",
            }
            recording = {
                "RecordingSid": recording_sid,
                "RecordingUrl": self.recordings.url(recording_sid),
                "RecordingDuration": str(seconds),
            }
            action = ("/voice/fallback/recorded", {**call, **recording, "Digits": "#"})
            status = (
                "/voice/recording?purpose=voicemail&min=1",
                {
                    "AccountSid": ACCOUNT_SID,
                    "CallSid": call_sid,
                    **recording,
                    "RecordingStatus": "completed",
                    "RecordingChannels": "1",
                    "RecordingSource": "RecordVerb",
                },
            )
            ended = ("/voice/status", {**call, "CallStatus": "completed", "CallDuration": "40"})
            order = [status, action] if first == "recording" else [action, status]
            for path, params in [*order, ended]:
                reply = self.post(path, params, AFTER_HOURS)
                answers.append((path, reply.status, Numbers.digits_said(reply.body)))
        return answers

    def call_back(self, booked_call_sid: str) -> CallResult:
        """The outbound call ``ivr worker`` places for a booking, as Twilio makes it: the
        voice URL names the flow and the booking, and the status callback goes to
        ``/voice/callback-status`` (the booking is marked dialing first, as the dispatcher
        marks it before it places the call). The person answers and is put through."""
        db = Database(self.database_url)
        try:
            with db.transaction() as session:
                callback = session.scalars(
                    select(Callback).where(Callback.booked_call_sid == booked_call_sid)
                ).one()
                callback.status, callback.attempts = "dialing", 1
                callback.outbound_call_sid = CALLBACK_SID
                callback.updated_at = CALLBACK_AT.astimezone(UTC)
                callback_id = callback.id
        finally:
            db.dispose()
        harness = CallHarness(
            self.transport,
            self.server.url,
            AUTH_TOKEN,
            account_sid=ACCOUNT_SID,
            status_path=f"/voice/callback-status?callback={callback_id}",
        )
        spec = CallSpec(
            to=callback.phone,
            caller=HOTLINE,
            at=CALLBACK_AT,
            sid=CALLBACK_SID,
            direction="outbound-api",
            voice_path=f"/voice/incoming?flow=callback&callback={callback_id}",
            queue_result="bridged",
        )
        return harness.place(spec)

    def close(self) -> None:
        try:
            self.server.stop()
        finally:
            self.recordings.close()


def _schema_url(schema: str) -> str:
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def single_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second fresh, migrated database of the same kind as ``database_url``."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path}/single.db"
        upgrade(url)
        yield url
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = _schema_url(schema)
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def deployments(
    database_url: str, single_database_url: str, tmp_path: Path
) -> Iterator[tuple[Deployment, Deployment]]:
    """The server that gets every webhook twice, and the one that gets each once."""
    twice = Deployment(tmp_path / "twice", database_url, DuplicatingTransport())
    once = Deployment(tmp_path / "once", single_database_url, HttpTransport(timeout=30.0))
    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda d: d.server.start(), (twice, once)))
        yield twice, once
    finally:
        twice.close()
        once.close()


# -- the snapshot ----------------------------------------------------------------------------


def _moment(value: datetime | None) -> str | None:
    return None if value is None else utc(value).isoformat()


class Numbers:
    """Request numbers are random: each new one is named by its source and its call, and
    replaced by that name wherever it appears (digits, or read out in groups)."""

    def __init__(self, requests: list[Request], base_url: str, recordings_url: str) -> None:
        # The servers' own addresses differ too (absolute TwiML URLs, recording URLs).
        self.addresses = {base_url: "{server}", recordings_url: "{recordings}"}
        self.names: dict[str, str] = {}
        seen: Counter[tuple[str, str]] = Counter()
        for request in sorted(requests, key=lambda r: (utc(r.created_at), r.call_sid)):
            if request.source == "import":
                continue
            key = (request.source, request.call_sid)
            seen[key] += 1
            self.names[request.number] = f"<{request.source} of {request.call_sid} #{seen[key]}>"
        self._spoken = {
            digits_in_groups(number, lang): name
            for number, name in self.names.items()
            for lang in ("ru", "en")
        }

    @staticmethod
    def digits_said(twiml: str) -> str:
        """A fallback answer with the request number it tells left out (random)."""
        return re.sub(r"Номер обращения: [^.]*\.", "Номер обращения: N.", twiml)

    def name(self, number: str | None) -> str | None:
        return None if number is None else self.names.get(number, number)

    def scrub(self, value: Any) -> Any:
        """``value`` (JSON-like) with every new request number replaced by its name."""
        if isinstance(value, str):
            for address, name in self.addresses.items():
                value = value.replace(address, name)
            for spoken, name in self._spoken.items():
                value = value.replace(spoken, name)
            for number, name in self.names.items():
                value = value.replace(number, name)
            return value
        if isinstance(value, list):
            return [self.scrub(item) for item in value]
        if isinstance(value, dict):
            return {key: self.scrub(item) for key, item in value.items()}
        return value


def snapshot(deployment: Deployment, results: list[CallResult]) -> dict[str, list[dict[str, Any]]]:
    """The database's contents, normalised: request numbers and the servers' addresses
    named, times in UTC, files by name with their size and whether they exist; row ids left
    out."""
    db = Database(deployment.database_url)
    try:
        with db.sessions() as session:
            calls = session.scalars(select(Call)).all()
            requests = list(session.scalars(select(Request)).all())
            voicemails = session.scalars(select(Voicemail)).all()
            callbacks = session.scalars(select(Callback)).all()
            slots = session.scalars(select(CallbackSlot)).all()
            versions = session.scalars(select(FlowVersion)).all()
    finally:
        db.dispose()
    numbers = Numbers(requests, deployment.server.url, deployment.recordings.base_url)
    durations = {result.sid: result.duration for result in results}

    def by(rows: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
        return sorted(rows, key=lambda row: tuple(str(row[k]) for k in keys))

    return {
        "calls": by(
            [
                {
                    "sid": c.sid,
                    "account_sid": c.account_sid,
                    "line": c.line,
                    "caller": c.caller,
                    "direction": c.direction,
                    "flow": c.flow,
                    "flow_version": c.flow_version,
                    "state": numbers.scrub(c.state),
                    "turn": c.turn,
                    "last_twiml": numbers.scrub(c.last_twiml),
                    "status": c.status,
                    "started_at": _moment(c.started_at),
                    # The call's length includes the time the random number took to say: the
                    # status callback must have stored the harness's, once; what is compared
                    # is when the call started by it.
                    "duration_is_the_harness's": c.duration == durations.get(c.sid),
                    "ended_at_less_duration": _moment(c.ended_at - timedelta(seconds=c.duration))
                    if c.ended_at is not None and c.duration is not None
                    else _moment(c.ended_at),
                    "path": c.path,
                    "inputs": numbers.scrub(c.inputs),
                }
                for c in calls
            ],
            "sid",
        ),
        "requests": by(
            [
                {
                    "number": numbers.name(r.number),
                    "category": r.category,
                    "status": r.status,
                    "source": r.source,
                    "created_at": _moment(r.created_at),
                    "due_at": _moment(r.due_at),
                    "next_step": r.next_step,
                    "caller": r.caller,
                    "line": r.line,
                    "call_sid": r.call_sid,
                    "parent_number": numbers.name(r.parent_number),
                }
                for r in requests
            ],
            "number",
        ),
        "voicemails": by(
            [
                {
                    "recording_sid": v.recording_sid,
                    "call_sid": v.call_sid,
                    "caller": v.caller,
                    "line": v.line,
                    "duration": v.duration,
                    "request_number": numbers.name(v.request_number),
                    "status": v.status,
                    "file": Path(v.file_path).name,
                    "file_exists": bool(v.file_path) and Path(v.file_path).is_file(),
                    "file_size": Path(v.file_path).stat().st_size
                    if v.file_path and Path(v.file_path).is_file()
                    else None,
                    "download_attempts": v.download_attempts,
                    "last_error": v.last_error,
                    "created_at": _moment(v.created_at),
                    "downloaded_at": _moment(v.downloaded_at),
                    "download_claimed_until": _moment(v.download_claimed_until),
                }
                for v in voicemails
            ],
            "recording_sid",
        ),
        "callbacks": by(
            [
                {
                    "phone": cb.phone,
                    "line": cb.line,
                    "flow": cb.flow,
                    "lang": cb.lang,
                    "request_number": numbers.name(cb.request_number),
                    "slot_start": _moment(cb.slot_start),
                    "slot_end": _moment(cb.slot_end),
                    "status": cb.status,
                    "priority": cb.priority,
                    "attempts": cb.attempts,
                    "next_attempt_at": _moment(cb.next_attempt_at),
                    "last_result": cb.last_result,
                    "outbound_call_sid": cb.outbound_call_sid,
                    "booked_call_sid": cb.booked_call_sid,
                    "created_at": _moment(cb.created_at),
                    # Set when the call back's status came, at its end: less its length,
                    # which includes the time the random number took to say.
                    "updated_at": _moment(
                        cb.updated_at - timedelta(seconds=durations[cb.outbound_call_sid])
                    )
                    if cb.outbound_call_sid in durations
                    else _moment(cb.updated_at),
                }
                for cb in callbacks
            ],
            "booked_call_sid",
            "request_number",
        ),
        "callback_slots": by(
            [
                {"line": s.line, "slot_start": _moment(s.slot_start), "booked": s.booked}
                for s in slots
            ],
            "line",
            "slot_start",
        ),
        "flow_versions": by([{"version": f.version, "name": f.name} for f in versions], "version"),
    }


def harness_view(result: CallResult) -> dict[str, Any]:
    """What the harness did in a call: every request it sent (a booking's row id left out),
    its answer, how it ended."""

    def shown(url: str) -> str:
        return re.sub(r"callback=\d+", "callback=N", url.removeprefix(result.base_url))

    return {
        "outcome": result.outcome.label(),
        "turns": [
            (ex.kind, ex.method, shown(ex.url), ex.status, ex.error) for ex in result.exchanges
        ],
    }


def first_difference(a: dict[str, list[dict[str, Any]]], b: dict[str, list[dict[str, Any]]]) -> str:
    """The first table and row where two snapshots differ, for the failure message."""
    for table in a:
        rows_a, rows_b = a[table], b[table]
        if len(rows_a) != len(rows_b):
            return f"{table}: {len(rows_a)} rows delivered twice, {len(rows_b)} delivered once"
        for row_a, row_b in zip(rows_a, rows_b, strict=True):
            if row_a != row_b:
                columns = {k: (row_a[k], row_b.get(k)) for k in row_a if row_a[k] != row_b.get(k)}
                return f"{table}: (twice, once) differ in {columns}"
    return "no difference"


# -- the test --------------------------------------------------------------------------------


def test_every_webhook_delivered_twice_at_once_leaves_what_one_delivery_does(
    deployments: tuple[Deployment, Deployment],
) -> None:
    twice, once = deployments
    planned = plan()
    for deployment in (twice, once):
        write_overdue(deployment.database_url)

    with ThreadPoolExecutor(2) as pool:
        racing = pool.submit(twice.place, planned)
        single = pool.submit(once.place, planned)
        results_twice, results_once = racing.result(), single.result()
        racing_messages = pool.submit(twice.fallback_messages)
        single_messages = pool.submit(once.fallback_messages)
        messages_twice, messages_once = racing_messages.result(), single_messages.result()

    transport = twice.transport
    assert isinstance(transport, DuplicatingTransport)
    # Both copies of every request answered alike: 2xx, the same TwiML.
    problems = [p for d in transport.deliveries if (p := d.problem()) is not None]
    assert problems == [], f"{len(problems)} requests answered unlike: " + "\n\n".join(problems[:3])
    # The fallback messages were answered as with one delivery (their numbers left out).
    assert messages_twice == messages_once
    assert [status for _, status, _ in messages_once] == [204, 200, 204, 200, 204, 204]
    # The harness heard the same calls, request by request.
    kinds_called = [item.kind for item in planned] + ["call-back"]
    for kind, a, b in zip(kinds_called, results_twice, results_once, strict=True):
        assert a.outcome.ok, (kind, a.transcript())
        assert harness_view(a) == harness_view(b), (kind, a.transcript(), b.transcript())

    # What one delivery leaves is what the calls should leave.
    once_rows = snapshot(once, results_once)
    kinds = Counter(item.kind for item in planned)
    sources = Counter(r["source"] for r in once_rows["requests"])
    assert sources == {
        "import": len(OVERDUE),
        "voicemail": kinds["voicemail"] + len(FALLBACK_MESSAGES),
        "callback": kinds["booking"] + kinds["queue-callback"],
        "escalation": kinds["escalation"],
    }
    assert len(once_rows["callbacks"]) == sources["callback"] + sources["escalation"]
    assert len({row["slot_start"] for row in once_rows["callbacks"]}) > 1
    assert [
        (v["status"], v["file_exists"], v["download_attempts"]) for v in once_rows["voicemails"]
    ] == [("stored", True, 1)] * (kinds["voicemail"] + len(FALLBACK_MESSAGES))
    assert len(once_rows["calls"]) == len(planned) + 1
    inbound = [c for c in once_rows["calls"] if c["line"] == HOTLINE]
    assert [(c["status"], c["duration_is_the_harness's"]) for c in inbound] == [
        ("completed", True)
    ] * (len(planned) - 1)
    # The call back reached a person: its booking is done.
    called_back = [c for c in once_rows["callbacks"] if c["outbound_call_sid"] == CALLBACK_SID]
    assert [(c["status"], c["attempts"]) for c in called_back] == [("completed", 1)]

    # Delivered twice, exactly the same.
    twice_rows = snapshot(twice, results_twice)
    assert twice_rows == once_rows, first_difference(twice_rows, once_rows)

    # Each recording fetched from the recording host once, by either deployment.
    for deployment in (twice, once):
        fetched = Counter(path for path, _ in deployment.recordings.requests)
        recorded = {r.sid for result in results_twice for r in result.recordings}
        recorded |= {recording_sid for _, recording_sid, _, _ in FALLBACK_MESSAGES}
        assert len(recorded) == kinds["voicemail"] + len(FALLBACK_MESSAGES)
        assert {sid: deployment.recordings.fetched(sid) for sid in recorded} == dict.fromkeys(
            recorded, 1
        )
        assert all(count == 1 for count in fetched.values()), fetched

    for deployment in (twice, once):
        assert "Traceback" not in deployment.server.log(), deployment.server.log()[-4000:]
    log = twice.server.log()
    # The copies really raced: they overlapped in the server, and some second copy found its
    # turn being answered by the first (lost the compare-and-set, or waited for its lock).
    overlapped = sum(d.overlapped for d in transport.deliveries)
    repeats = {name: len(pattern.findall(log)) for name, pattern in REPEAT_LOGS.items()}
    print(
        f"\n{len(transport.deliveries)} requests delivered twice, {overlapped} overlapping; "
        f"server: {repeats}"
    )
    # Most pairs overlap on a quiet machine (77-79 of 79); a loaded one (CI beside other
    # work) still has to race a quarter of them for the test to mean anything.
    assert overlapped >= len(transport.deliveries) * 0.25
    assert sum(repeats.values()) > 0, "no second copy met the first in the server"
