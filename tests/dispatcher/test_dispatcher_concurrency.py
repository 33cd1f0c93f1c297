"""Several workers at once: every booking is dialled exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from ivr.config import Settings
from ivr.services.dispatcher import Dispatcher, PassReport
from ivr.store.db import Database
from ivr.store.models import Callback
from tests.conftest import Clock
from tests.support.twilio_stub import TwilioStub

Add = Callable[..., int]


def _drain(dispatcher: Dispatcher, start: threading.Barrier, reports: list[PassReport]) -> None:
    """Run passes until two in a row claim nothing (the other worker may hold some rows)."""
    start.wait()
    idle = 0
    while idle < 2:
        report = dispatcher.run_once()
        reports.append(report)
        idle = idle + 1 if report.claimed == 0 else 0


@pytest.mark.parametrize("batch_size", [3, 20])
def test_two_workers_dial_each_of_twenty_bookings_exactly_once(
    batch_size: int,
    dispatch_settings: Settings,
    stub: TwilioStub,
    add_callback: Add,
    db: Database,
    clock: Clock,
) -> None:
    ids = [add_callback(priority=i % 3) for i in range(20)]
    stub.delay = 0.01  # a slow API keeps one worker dialling while the other claims
    databases = [Database(dispatch_settings.database_url) for _ in range(2)]
    dispatchers = [
        Dispatcher(dispatch_settings, d, clock, batch_size=batch_size) for d in databases
    ]
    reports: list[list[PassReport]] = [[], []]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            _drain(dispatchers[index], start, reports[index])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for database in databases:
            database.dispose()
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)

    assert stub.calls_by_query("Url", "callback") == {str(i): 1 for i in ids}
    assert sum(r.placed for rs in reports for r in rs) == 20
    assert sum(r.claimed for rs in reports for r in rs) == 20
    with db.sessions() as session:
        rows = session.execute(select(Callback.status, Callback.attempts)).all()
    assert sorted(rows) == [("dialing", 1)] * 20


def test_a_worker_skips_bookings_another_worker_has_locked(
    database_url: str,
    dispatch_settings: Settings,
    stub: TwilioStub,
    add_callback: Add,
    db: Database,
    clock: Clock,
) -> None:
    """PostgreSQL only: a claim in progress elsewhere is skipped, not waited for."""
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite admits one writer at a time")
    locked = add_callback(priority=1)
    free = add_callback()
    other = Database(dispatch_settings.database_url)
    dispatcher = Dispatcher(dispatch_settings, other, clock)
    reports: list[PassReport] = []
    worker = threading.Thread(target=lambda: reports.append(dispatcher.run_once()))
    try:
        with db.transaction() as session:
            # Another worker is in the middle of claiming the first booking.
            session.scalar(select(Callback).where(Callback.id == locked).with_for_update())
            worker.start()
            worker.join(5)
            blocked = worker.is_alive()
        # Leaving the transaction released the lock; a blocked pass can finish now.
        worker.join(30)
    finally:
        other.dispose()
    assert not blocked, "the pass waited for a row another worker had locked"
    [report] = reports
    assert (report.claimed, report.placed) == (1, 1)
    assert stub.calls_by_query("Url", "callback") == {str(free): 1}
