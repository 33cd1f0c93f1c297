"""How SQLite commits are synced, and that the server never touches the database's files."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from ivr.store.db import Database
from ivr.store.models import Request
from ivr.store.requests import create_request

FULL, NORMAL = 2, 1  # what PRAGMA synchronous reads back


def synchronous_in(db: Database, durable: bool) -> int:
    with db.transaction(durable) as session:
        level: int = session.execute(text("PRAGMA synchronous")).scalar_one()
        return level


def test_a_durable_transaction_syncs_its_commit_and_navigation_does_not(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        # The same pooled connection serves all four: the level follows each transaction.
        assert synchronous_in(db, durable=True) == FULL
        assert synchronous_in(db, durable=False) == NORMAL
        assert synchronous_in(db, durable=True) == FULL
        assert synchronous_in(db, durable=False) == NORMAL
        with db.turn() as turn:
            assert turn.fetchone(text("PRAGMA synchronous"), {}) == (NORMAL,)
    finally:
        db.dispose()


def test_every_commit_can_wait_for_the_disk(sqlite_url: str) -> None:
    db = Database(sqlite_url, navigation_sync="FULL")
    try:
        assert synchronous_in(db, durable=False) == FULL
        with db.turn() as turn:
            assert turn.fetchone(text("PRAGMA synchronous"), {}) == (FULL,)
    finally:
        db.dispose()


def test_an_unknown_level_is_refused(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="navigation_sync"):
        Database(sqlite_url, navigation_sync="OFF")


# Another process opens the database, reads and closes, as `ivr callbacks list` does. If it
# believed itself alone, its close would checkpoint and delete the WAL.
OTHER_PROCESS = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("SELECT count(*) FROM requests").fetchone()
connection.close()
"""


def test_a_durable_commit_keeps_the_lock_other_processes_see(sqlite_url: str) -> None:
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    db = Database(sqlite_url)
    try:
        with db.turn() as turn:  # a turn's connection stays open, as a server's does
            turn.fetchone(text("SELECT 1"), {})
        with db.transaction() as session:
            number = create_request(session, source="voicemail", now=datetime.now(UTC)).number
        subprocess.run([sys.executable, "-c", OTHER_PROCESS, str(path)], check=True)
        assert Path(f"{path}-wal").exists(), "another process deleted the WAL under us"
        with db.sessions() as session:
            assert session.get(Request, number) is not None
    finally:
        db.dispose()
