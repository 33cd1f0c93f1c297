"""Nothing a caller was told is lost, with several real processes on one database.

A gunicorn server (as ``ivr serve`` runs it, two workers) answers calls that book callbacks,
leave voicemails and escalate overdue requests, while admin commands (listings, a CSV import)
and ``ivr worker --once`` run beside it in processes of their own. Every request number a
caller was told must exist afterwards, once, with its booking or voicemail. The second test
kills the server with SIGKILL in the middle of the calls and redelivers every webhook that
got no answer, as Twilio retries: still nothing lost, nothing twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.domain.schedule import MOSCOW
from ivr.harness.inputs import CallerInput, Press, Talk
from ivr.harness.ledger import Told, problems, told_number
from ivr.harness.processes import ServerProcess, free_port, ivr_environ, run_ivr
from ivr.harness.recordings import RecordingHost
from ivr.harness.simulator import CallHarness, CallResult, CallSpec
from ivr.harness.transport import HttpReply, HttpTransport, TransportError
from ivr.store.db import Database
from ivr.store.models import Voicemail, stored_utc
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN

HOTLINE = "+78005553535"
AFTER_HOURS = datetime(2026, 11, 25, 22, 30, tzinfo=MOSCOW)
OPEN = datetime(2026, 11, 25, 10, 0, tzinfo=MOSCOW)


class RedeliveringTransport:
    """HTTP as Twilio retries it: a request that gets no answer, or a 5xx, is sent again
    (the same request, the same signature) until the server answers or time runs out."""

    def __init__(self, deadline: float = 90.0) -> None:
        self.inner = HttpTransport(timeout=15.0)
        self.deadline = deadline
        self.redelivered = 0
        self._lock = threading.Lock()

    def send(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> HttpReply:
        """Send until answered below 500."""
        give_up = time.monotonic() + self.deadline
        while True:
            try:
                reply = self.inner.send(method, url, params, headers)
                if reply.status < 500:
                    return reply
            except TransportError:
                if time.monotonic() > give_up:
                    raise
            else:
                if time.monotonic() > give_up:
                    return reply
            with self._lock:
                self.redelivered += 1
            time.sleep(0.2)


@dataclass(frozen=True)
class Planned:
    """One call of the mix, and what it should leave behind."""

    kind: str  # booking, voicemail or escalation
    spec: CallSpec


def plan(count: int, overdue: list[str]) -> list[Planned]:
    """A mix of callers, each from a number of their own."""
    planned = []
    for index in range(count):
        caller = f"+7916{7000000 + index:07d}"
        kind = ("booking", "voicemail", "escalation")[index % 3]
        inputs: tuple[CallerInput, ...]
        if kind == "booking":
            inputs, at = (Press("2"), Press("1"), Press("1")), AFTER_HOURS
        elif kind == "voicemail":
            inputs, at = (Press("1"), Talk(3)), AFTER_HOURS
        else:
            number = overdue[index % len(overdue)]
            inputs, at = (Press("4"), Press(number + "#"), Press("1"), Press("1")), OPEN
        spec = CallSpec(to=HOTLINE, caller=caller, at=at, inputs=inputs, seed=f"durable-{index}")
        planned.append(Planned(kind, spec))
    return planned


def write_overdue(path: Path, numbers: list[str]) -> None:
    """A status export with requests overdue since November."""
    rows = [f"{n},tech,in_work,2026-11-01T10:00,2026-11-20T18:00" for n in numbers]
    path.write_text("number,category,status,created_at,due_at\n" + "\n".join(rows) + "\n")


@pytest.fixture
def recording_host() -> Iterator[RecordingHost]:
    """Twilio's recording host stand-in, which the server downloads voicemails from."""
    host = RecordingHost(ACCOUNT_SID, AUTH_TOKEN)
    try:
        yield host
    finally:
        host.close()


class Deployment:
    """A server, its environment and the admin processes around it."""

    def __init__(self, tmp_path: Path, database_url: str, recording_host: RecordingHost) -> None:
        self.workdir = tmp_path
        self.database_url = database_url
        port = free_port()
        self.env = ivr_environ(
            tmp_path,
            database_url,
            port,
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            IVR_TWILIO_API_BASE=recording_host.base_url,
            IVR_LOG_LEVEL="WARNING",
            # A short fetch limit, so a download claim held by a killed server lapses soon.
            IVR_RECORDING_TIMEOUT="3",
        )
        self.server = ServerProcess(self.env, tmp_path, port)
        self.transport = RedeliveringTransport()
        self.harness = CallHarness(
            self.transport,
            self.server.url,
            AUTH_TOKEN,
            account_sid=ACCOUNT_SID,
            recordings=lambda: recording_host,
        )
        self.admin_runs = 0
        self.admin_failures: list[str] = []

    def import_overdue(self, numbers: list[str], name: str) -> None:
        """``ivr requests import`` of overdue requests, as an admin would run it."""
        path = self.workdir / name
        write_overdue(path, numbers)
        self.admin(["requests", "import", str(path)])

    def admin(self, args: list[str]) -> None:
        """One admin command; a failure is kept for the test to report."""
        done = run_ivr(args, self.env, self.workdir)
        self.admin_runs += 1
        if done.returncode != 0:
            self.admin_failures.append(f"ivr {' '.join(args)}: {done.stderr[-2000:]}")

    def admin_command(self, index: int) -> None:
        """The ``index``-th of the admin commands and worker passes run beside the calls."""
        commands = [
            ["callbacks", "list"],
            ["worker", "--once"],
            ["voicemails", "list"],
            ["calls", "list"],
        ]
        if index % 5 == 4:
            self.import_overdue([f"{9100000 + index:07d}"], f"more-{index}.csv")
        else:
            self.admin(commands[index % len(commands)])


@pytest.fixture
def deployment(
    tmp_path: Path, database_url: str, recording_host: RecordingHost
) -> Iterator[Deployment]:
    """A running server on the test's database (SQLite file or PostgreSQL schema)."""
    deployment = Deployment(tmp_path, database_url, recording_host)
    deployment.server.start()
    try:
        yield deployment
    finally:
        deployment.server.stop()


def run_calls(
    deployment: Deployment, planned: list[Planned], crash_in_round: int | None = None
) -> list[CallResult]:
    """Place the calls in rounds of four at once, each round beside one admin command in a
    process of its own (so every write of the calls has admin processes before and after
    it). In round ``crash_in_round`` the server is killed while the calls are under way and
    started again."""
    results: list[CallResult] = []
    per_round = 4
    with ThreadPoolExecutor(per_round + 1) as pool:
        for index, start in enumerate(range(0, len(planned), per_round)):
            admin = pool.submit(deployment.admin_command, index)
            crash = pool.submit(_crash, deployment) if index == crash_in_round else None
            batch = planned[start : start + per_round]
            results += pool.map(lambda item: deployment.harness.place(item.spec), batch)
            admin.result()
            if crash is not None:
                crash.result()
    return results


def retry_downloads_of_the_killed(deployment: Deployment) -> None:
    """A server killed mid-download leaves its voicemail pending, claimed until the claim
    lapses; the redelivered status callback finds it claimed. Once the claim lapses, the
    next ``ivr worker`` pass downloads it, as in production."""
    db = Database(deployment.database_url)
    try:
        with db.sessions() as session:
            claims = session.scalars(
                select(Voicemail.download_claimed_until).where(Voicemail.status == "pending")
            ).all()
    finally:
        db.dispose()
    if not claims:
        return
    held = [stored_utc(c) for c in claims if c is not None]
    if held:
        time.sleep(max(0.0, (max(held) - datetime.now(UTC)).total_seconds()) + 0.5)
    deployment.admin(["worker", "--once"])


def _crash(deployment: Deployment) -> None:
    """SIGKILL the server once its calls are under way, then start it again."""
    time.sleep(0.05)
    deployment.server.kill()
    time.sleep(0.5)
    deployment.server.start()


def assert_nothing_lost(
    deployment: Deployment, planned: list[Planned], results: list[CallResult]
) -> None:
    """Every caller was told a number, and the database holds each once, with its row."""
    assert deployment.admin_failures == []
    told = [
        Told(item.kind, item.spec.caller, told_number(result))
        for item, result in zip(planned, results, strict=True)
    ]
    unheard = [r.transcript() for t, r in zip(told, results, strict=True) if t.number is None]
    assert unheard == []
    assert problems(deployment.database_url, told) == []


OVERDUE = ["7700001", "7700002", "7700003"]


def test_calls_beside_admin_commands_and_a_worker_lose_nothing(deployment: Deployment) -> None:
    deployment.import_overdue(OVERDUE, "overdue.csv")
    planned = plan(18, OVERDUE)

    results = run_calls(deployment, planned)

    assert deployment.admin_runs >= 5
    assert_nothing_lost(deployment, planned, results)
    assert "Traceback" not in deployment.server.log()


def test_a_server_killed_mid_burst_loses_and_repeats_nothing(deployment: Deployment) -> None:
    deployment.import_overdue(OVERDUE, "overdue.csv")
    planned = plan(24, OVERDUE)

    results = run_calls(deployment, planned, crash_in_round=3)
    retry_downloads_of_the_killed(deployment)

    assert deployment.transport.redelivered > 0, "the kill came after every call"
    assert_nothing_lost(deployment, planned, results)
