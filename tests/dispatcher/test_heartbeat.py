"""Every dispatcher pass leaves its worker's heartbeat: one row per worker, read back whole."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select, text

from ivr.services.dispatcher import Dispatcher, heartbeats
from ivr.store.db import Database
from ivr.store.models import DispatcherHost
from tests.conftest import Clock

Add = Callable[..., int]
MakeDispatcher = Callable[..., Dispatcher]


def test_no_worker_has_run_no_heartbeat(db: Database) -> None:
    assert heartbeats(db) == []


def test_a_pass_records_what_it_did_and_the_next_pass_updates_the_same_row(
    make_dispatcher: MakeDispatcher, add_callback: Add, db: Database, clock: Clock
) -> None:
    dispatcher = make_dispatcher(worker_name="node-1:100")
    add_callback()
    add_callback()
    first = clock()
    dispatcher.run_once()
    clock.moment = first + timedelta(seconds=15)
    dispatcher.run_once()

    [beat] = heartbeats(db)
    assert beat.worker == "node-1:100"
    assert beat.passes == 2
    assert beat.started_at == first
    assert beat.last_pass_at == clock()
    # The first pass placed both calls; the second found nothing more due.
    assert (beat.last_claimed, beat.last_placed, beat.last_failed) == (0, 0, 0)
    assert beat.last_pass_seconds >= 0
    assert not beat.is_stale(clock(), dispatcher.interval)
    assert beat.is_stale(clock() + timedelta(minutes=5), dispatcher.interval)


def test_outside_calling_hours_the_heartbeat_counts_the_bookings_waiting(
    make_dispatcher: MakeDispatcher, add_callback: Add, db: Database, clock: Clock
) -> None:
    clock.set(2026, 11, 25, 22, 0)
    add_callback()
    make_dispatcher(worker_name="night").run_once()
    [beat] = heartbeats(db)
    assert (beat.last_claimed, beat.last_waiting) == (0, 1)


def test_each_worker_keeps_its_own_row_most_recent_first(
    make_dispatcher: MakeDispatcher, db: Database, clock: Clock
) -> None:
    make_dispatcher(worker_name="a").run_once()
    clock.moment += timedelta(seconds=3)
    make_dispatcher(worker_name="b").run_once()
    assert [beat.worker for beat in heartbeats(db)] == ["b", "a"]
    with db.transaction(durable=False) as session:
        assert session.scalar(select(func.count()).select_from(DispatcherHost)) == 2


def test_a_heartbeat_that_cannot_be_written_does_not_fail_the_pass(
    make_dispatcher: MakeDispatcher, add_callback: Add, db: Database
) -> None:
    add_callback()
    # A database that has lost the table (say, migrated down): the calls are still placed.
    with db.transaction(durable=False) as session:
        session.execute(text("DROP TABLE dispatcher_hosts"))
    report = make_dispatcher(worker_name="x").run_once()
    assert report.placed == 1


def test_reading_heartbeats_waits_for_no_writer(
    make_dispatcher: MakeDispatcher, db: Database
) -> None:
    """The dashboard reads heartbeats on every refresh: a read, never a writer's turn, so a
    long write elsewhere (a CSV import, a booking) does not hold the page up."""
    make_dispatcher(worker_name="a").run_once()
    writing, done = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with db.transaction() as session:
            session.execute(text("UPDATE dispatcher_hosts SET passes = passes"))
            writing.set()
            done.wait(30)

    writer = threading.Thread(target=hold_the_write_lock)
    writer.start()
    try:
        assert writing.wait(10)
        read: list[list[str]] = []
        reader = threading.Thread(target=lambda: read.append([b.worker for b in heartbeats(db)]))
        reader.start()
        reader.join(10)
        assert read == [["a"]]
    finally:
        done.set()
        writer.join()
