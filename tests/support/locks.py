"""Asks the database, from a connection of its own, whether a call's row could be written now.

Used to check that a turn holds its lock while it runs, and that slow work (fetching and
recognising a recording) runs with no lock held.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError


def call_row_is_free(database_url: str, sid: str) -> bool:
    """True when another connection could lock the call's row for writing at once.

    SQLite locks the whole database for a writer (``BEGIN IMMEDIATE`` without waiting);
    PostgreSQL the row (``SELECT … FOR UPDATE NOWAIT``).
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database or "", timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            return False
        else:
            connection.execute("ROLLBACK")
            return True
        finally:
            connection.close()
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection, connection.begin():
            connection.execute(
                text("SELECT sid FROM calls WHERE sid = :sid FOR UPDATE NOWAIT"), {"sid": sid}
            )
        return True
    except OperationalError as exc:
        if "could not obtain lock" not in str(exc):
            raise
        return False
    finally:
        engine.dispose()
