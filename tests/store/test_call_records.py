"""The statements of every turn, on each database: read a call, store its next turn once."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from ivr.store.call_records import CallRecord, CallRows, NewCall, call_rows
from ivr.store.db import Database, Statements, TurnStatements
from ivr.store.models import Call
from tests.support.locks import call_row_is_free

SID = "CA" + "7" * 32


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    with database.transaction() as session:
        session.add(
            Call(
                sid=SID,
                line="+78005553535",
                caller="+79161234567",
                flow="hotline",
                flow_version="v1",
                state={"node": "main_menu"},
                turn=1,
                last_twiml="<Response />",
                started_at=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
                path=["greeting"],
                inputs=[],
            )
        )
    yield database
    database.dispose()


def save(db: Database, statements: Statements, call: CallRecord, twiml: str) -> bool:
    return call_rows(db.dialect, db.driver).save(
        statements,
        call,
        state={"node": "tech_menu", "vars": {"caller": "+79161234567"}},
        path=["greeting", "main_menu", "tech_menu"],
        inputs=[{"node": "main_menu", "kind": "speech", "value": "оплата"}],
        twiml=twiml,
    )


def test_a_turn_reads_the_call_and_stores_the_next(db: Database) -> None:
    with db.turn() as statements:
        call = call_rows(db.dialect, db.driver).read(statements, SID)
        assert call == CallRecord(
            SID, "+79161234567", "+78005553535", "v1", 1, {"node": "main_menu"}, []
        )
        assert call_rows(db.dialect, db.driver).answer(statements, SID) == "<Response />"
        assert save(db, statements, call, "<Response><Hangup /></Response>")
    with db.sessions() as session:
        stored = session.get(Call, SID)
        assert stored is not None
        assert (stored.turn, stored.state, stored.path, stored.inputs, stored.last_twiml) == (
            2,
            {"node": "tech_menu", "vars": {"caller": "+79161234567"}},
            ["greeting", "main_menu", "tech_menu"],
            [{"node": "main_menu", "kind": "speech", "value": "оплата"}],
            "<Response><Hangup /></Response>",
        )


def test_a_turn_worked_out_after_the_call_moved_on_stores_nothing(db: Database) -> None:
    rows = call_rows(db.dialect, db.driver)
    with db.turn() as statements:
        first = rows.read(statements, SID)
    with db.turn() as statements:
        second = rows.read(statements, SID)
    assert first is not None and second is not None
    with db.turn() as statements:
        assert save(db, statements, first, "<Response><Say>first</Say></Response>")
    with db.turn() as statements:
        assert not save(db, statements, second, "<Response><Say>second</Say></Response>")
        assert rows.answer(statements, SID) == "<Response><Say>first</Say></Response>"
    with db.turn() as statements:
        now = rows.read(statements, SID)
        assert now is not None and now.turn == 2


def test_a_stored_turn_reads_back_exactly(db: Database) -> None:
    # SQLite hands the row back packed as one JSON array: quotes, backslashes, line breaks,
    # Cyrillic and nested values must come back as they were stored.
    rows = call_rows(db.dialect, db.driver)
    state = {"node": 'меню "оплата"', "vars": {"raw": "a\\b\nc\t", "n": "0"}, "x": [1, None]}
    inputs = [{"node": "main_menu", "kind": "speech", "value": '«оплата» \\ "да"'}]
    twiml = '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Say>Здравствуйте!</Say></Response>'
    with db.turn() as statements:
        call = rows.read(statements, SID)
        assert call is not None
        assert rows.save(
            statements, call, state=state, path=["greeting"], inputs=inputs, twiml=twiml
        )
    with db.turn() as statements:
        stored = rows.read(statements, SID)
        answered = rows.answer(statements, SID)
    assert stored == CallRecord(SID, "+79161234567", "+78005553535", "v1", 2, state, inputs)
    assert answered == twiml


NEW_SID = "CA" + "8" * 32


def new_call(twiml: str) -> NewCall:
    return NewCall(
        sid=NEW_SID,
        account_sid="AC" + "1" * 32,
        line="+78005553535",
        caller="+79161234568",
        direction="inbound",
        flow="hotline",
        flow_version="v1",
        status="in-progress",
        started_at=datetime(2026, 11, 25, 7, 30, 15, 250000, tzinfo=UTC),
        state={"node": "main_menu", "vars": {"caller": "+79161234568"}},
        path=["greeting", "hours", "main_menu"],
        inputs=[],
        turn=1,
        last_twiml=twiml,
    )


def test_a_new_call_inserted_by_the_driver_reads_back_as_the_orm_wrote_it(db: Database) -> None:
    # The first turn writes the row with a Core INSERT (not the ORM): the ORM, the console and
    # the status callback must read it exactly as a row the ORM created.
    rows = call_rows(db.dialect, db.driver)
    with db.turn() as statements:
        assert rows.insert(statements, new_call("<Response><Gather /></Response>"))
    with db.sessions() as session:
        stored = session.get(Call, NEW_SID)
        assert stored is not None
        started = stored.started_at
        if started.tzinfo is None:  # SQLite keeps UTC without the offset
            started = started.replace(tzinfo=UTC)
        assert started == datetime(2026, 11, 25, 7, 30, 15, 250000, tzinfo=UTC)
        assert (
            stored.account_sid,
            stored.caller,
            stored.flow,
            stored.flow_version,
            stored.status,
            stored.state,
            stored.path,
            stored.inputs,
            stored.turn,
            stored.last_twiml,
            stored.ended_at,
            stored.duration,
        ) == (
            "AC" + "1" * 32,
            "+79161234568",
            "hotline",
            "v1",
            "in-progress",
            {"node": "main_menu", "vars": {"caller": "+79161234568"}},
            ["greeting", "hours", "main_menu"],
            [],
            1,
            "<Response><Gather /></Response>",
            None,
            None,
        )
        existing = session.get(Call, SID)
        assert existing is not None
        assert stored.started_at > existing.started_at  # compared as the same kind of value


def test_a_second_insert_of_a_call_stores_nothing(db: Database) -> None:
    rows = call_rows(db.dialect, db.driver)
    with db.turn() as statements:
        assert rows.insert(statements, new_call("<Response><Say>first</Say></Response>"))
    with db.turn() as statements:
        assert not rows.insert(statements, new_call("<Response><Say>second</Say></Response>"))
        assert rows.answer(statements, NEW_SID) == "<Response><Say>first</Say></Response>"


def test_an_unknown_call_reads_as_none(db: Database) -> None:
    rows = call_rows(db.dialect, db.driver)
    with db.turn() as statements:
        assert rows.read(statements, "CA" + "0" * 32) is None
        assert rows.answer(statements, "CA" + "0" * 32) is None


def test_a_plain_turn_holds_no_lock_while_it_is_worked_out(db: Database, database_url: str) -> None:
    with db.turn() as statements:
        call_rows(db.dialect, db.driver).read(statements, SID)
        assert call_row_is_free(database_url, SID)


def test_a_turn_reads_while_another_thread_writes(db: Database) -> None:
    # A writer holds the database (SQLite) or the call's row (PostgreSQL); a plain turn's
    # read waits for neither and sees the last commit.
    rows = call_rows(db.dialect, db.driver)
    seen: list[CallRecord | None] = []

    def read() -> None:
        with db.turn() as statements:
            seen.append(rows.read(statements, SID))

    with db.transaction() as session:
        rows.lock(TurnStatements.of(session), SID)
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=10)
        waited = reader.is_alive()
    reader.join()
    assert not waited, "the read waited for the writer"
    assert [call.turn if call else None for call in seen] == [1]


@pytest.fixture
def sqlite_path(database_url: str) -> Path:
    if not database_url.startswith("sqlite"):
        pytest.skip("counts the open handles of the SQLite file")
    return Path(make_url(database_url).database or "")


def test_dispose_closes_every_connection_turns_opened(database_url: str, sqlite_path: Path) -> None:
    db = Database(database_url)
    rows = call_rows(db.dialect, db.driver)
    done, reading = threading.Event(), threading.Barrier(4)

    def serve_a_turn() -> None:
        with db.turn() as statements:
            assert rows.read(statements, SID) is None  # a fresh database
            reading.wait()
            done.wait()  # three turns under way at once

    threads = [threading.Thread(target=serve_a_turn) for _ in range(3)]
    for thread in threads:
        thread.start()
    reading.wait()
    try:
        assert _open_handles(sqlite_path) == 3
    finally:
        done.set()
        for thread in threads:
            thread.join()
    db.dispose()
    assert _open_handles(sqlite_path) == 0


def test_dispose_waits_for_reads_in_flight_and_later_reads_reopen(db: Database) -> None:
    # The harness and the CLI dispose of a database that threads may still be reading:
    # nothing may close a connection under a running statement (SQLite would crash the
    # process), and a read after the dispose opens a new connection.
    rows = call_rows(db.dialect, db.driver)
    stop, reading = threading.Event(), threading.Barrier(5)
    failures: list[BaseException] = []

    def read_once() -> None:
        with db.turn() as statements:
            call = rows.read(statements, SID)
        assert call is not None and call.turn == 1

    def keep_reading() -> None:
        try:
            read_once()
            reading.wait()
            while not stop.is_set():
                read_once()
        except BaseException as exc:  # handed to the test's thread
            failures.append(exc)
            reading.abort()

    readers = [threading.Thread(target=keep_reading) for _ in range(4)]
    for reader in readers:
        reader.start()
    try:
        reading.wait()
        for _ in range(100):
            db.dispose()
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert failures == []
    read_once()


def test_turns_of_threads_that_come_and_go_share_pooled_connections(
    database_url: str, sqlite_path: Path
) -> None:
    db = Database(database_url)
    rows = call_rows(db.dialect, db.driver)
    try:
        for _ in range(20):
            thread = threading.Thread(target=_read_a_turn, args=(db, rows))
            thread.start()
            thread.join()
        assert _open_handles(sqlite_path) == 1
    finally:
        db.dispose()
    assert _open_handles(sqlite_path) == 0


def _read_a_turn(db: Database, rows: CallRows) -> None:
    with db.turn() as statements:
        assert rows.read(statements, SID) is None  # a fresh database


def _open_handles(path: Path) -> int:
    """Open file descriptors of this process on the database file."""
    target = str(path.resolve())
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            count += os.readlink(fd) == target
        except OSError:
            continue
    return count


def test_a_locked_read_holds_the_call_until_the_transaction_ends(
    db: Database, database_url: str
) -> None:
    # On PostgreSQL the read's FOR UPDATE locks the row; SQLite's write transaction
    # (BEGIN IMMEDIATE) already holds the whole database.
    with db.transaction() as session:
        call_rows(db.dialect, db.driver).lock(TurnStatements.of(session), SID)
        assert not call_row_is_free(database_url, SID)
    assert call_row_is_free(database_url, SID)


def test_a_turn_that_fails_before_storing_leaves_the_call_as_it_was(db: Database) -> None:
    rows = call_rows(db.dialect, db.driver)
    with pytest.raises(RuntimeError), db.turn() as statements:
        rows.read(statements, SID)
        raise RuntimeError("the engine broke")
    with db.turn() as statements:
        call = rows.read(statements, SID)
        assert call is not None and call.turn == 1
        assert save(db, statements, call, "<Response />")


@pytest.mark.parametrize(("dialect", "driver"), [("mysql", "mysqldb"), ("mssql", "pyodbc")])
def test_other_databases_are_refused_by_name(dialect: str, driver: str) -> None:
    with pytest.raises(ValueError, match=f"not {dialect}\\+{driver}"):
        call_rows(dialect, driver)
