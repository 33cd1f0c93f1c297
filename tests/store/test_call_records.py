"""The statements of every turn, on each database: read a call, store its next turn once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ivr.store.call_records import CallRecord, call_rows
from ivr.store.db import Database, DriverStatements, Statements
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
            SID, "+79161234567", "+78005553535", "v1", 1, {"node": "main_menu"},
            "<Response />", [],
        )  # fmt: skip
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
        winner = rows.read(statements, SID)
        assert winner is not None
        assert winner.last_twiml == "<Response><Say>first</Say></Response>"
    with db.turn() as statements:
        now = rows.read(statements, SID)
        assert now is not None and now.turn == 2


def test_an_unknown_call_reads_as_none(db: Database) -> None:
    rows = call_rows(db.dialect, db.driver)
    with db.turn() as statements:
        assert rows.read(statements, "CA" + "0" * 32) is None


def test_a_plain_turn_holds_no_lock_while_it_is_worked_out(db: Database, database_url: str) -> None:
    with db.turn() as statements:
        call_rows(db.dialect, db.driver).read(statements, SID)
        assert call_row_is_free(database_url, SID)


def test_a_locked_read_holds_the_call_until_the_transaction_ends(
    db: Database, database_url: str
) -> None:
    # On PostgreSQL the read's FOR UPDATE locks the row; SQLite's write transaction
    # (BEGIN IMMEDIATE) already holds the whole database.
    with db.transaction() as session:
        call_rows(db.dialect, db.driver).lock(DriverStatements.of(session), SID)
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


@pytest.mark.parametrize(("dialect", "driver"), [("mysql", "mysqldb"), ("postgresql", "psycopg2")])
def test_other_databases_and_drivers_are_refused_by_name(dialect: str, driver: str) -> None:
    with pytest.raises(ValueError, match=f"not {dialect}\\+{driver}"):
        call_rows(dialect, driver)
