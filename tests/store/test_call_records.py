"""The two statements of every turn, on each database: lock and read a call, save a turn."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ivr.store.call_records import CallRecord, call_rows
from ivr.store.db import Database
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


def test_a_turn_reads_the_call_and_saves_the_next(db: Database) -> None:
    rows = call_rows(db.dialect)
    with db.turn() as connection:
        call = rows.lock(connection, SID)
        assert call == CallRecord(
            SID, "+79161234567", "+78005553535", "v1", 1, {"node": "main_menu"},
            "<Response />", [],
        )  # fmt: skip
        rows.save(
            connection,
            SID,
            turn=2,
            state={"node": "tech_menu", "vars": {"caller": "+79161234567"}},
            path=["greeting", "main_menu", "tech_menu"],
            inputs=[{"node": "main_menu", "kind": "digits", "value": "1"}],
            twiml="<Response><Hangup /></Response>",
        )
    with db.sessions() as session:
        stored = session.get(Call, SID)
        assert stored is not None
        assert (stored.turn, stored.state, stored.path, stored.inputs, stored.last_twiml) == (
            2,
            {"node": "tech_menu", "vars": {"caller": "+79161234567"}},
            ["greeting", "main_menu", "tech_menu"],
            [{"node": "main_menu", "kind": "digits", "value": "1"}],
            "<Response><Hangup /></Response>",
        )


def test_an_unknown_call_reads_as_none(db: Database) -> None:
    with db.turn() as connection:
        assert call_rows(db.dialect).lock(connection, "CA" + "0" * 32) is None


def test_a_turn_holds_the_call_until_it_ends(db: Database, database_url: str) -> None:
    assert call_row_is_free(database_url, SID)
    with db.turn() as connection:
        call_rows(db.dialect).lock(connection, SID)
        assert not call_row_is_free(database_url, SID)
    assert call_row_is_free(database_url, SID)


def test_a_turn_that_fails_leaves_the_call_as_it_was_and_the_next_turn_works(
    db: Database, database_url: str
) -> None:
    rows = call_rows(db.dialect)

    def save(connection: object, turn: int) -> None:
        rows.save(connection, SID, turn=turn, state={}, path=[], inputs=[], twiml="<x/>")

    with pytest.raises(RuntimeError), db.turn() as connection:
        save(connection, 9)
        raise RuntimeError("the engine broke")
    assert call_row_is_free(database_url, SID)
    with db.turn() as connection:
        call = rows.lock(connection, SID)
        assert call is not None and call.turn == 1
        save(connection, 2)
    with db.turn() as connection:
        call = rows.lock(connection, SID)
        assert call is not None and call.turn == 2


def test_other_databases_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="mysql"):
        call_rows("mysql")
