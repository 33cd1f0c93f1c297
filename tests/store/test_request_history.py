"""Requests and their status history: a new request starts its history; an import that
changes a status adds a step."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from ivr.services import requests_import
from ivr.store.db import Database
from ivr.store.models import RequestHistory
from ivr.store.requests import create_request

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def _history(db: Database, number: str) -> list[tuple[str, str, str]]:
    with db.sessions() as session:
        return [
            (h.status, h.source, h.actor)
            for h in session.scalars(
                select(RequestHistory)
                .where(RequestHistory.number == number)
                .order_by(RequestHistory.id)
            )
        ]


def test_a_request_starts_its_history_and_imports_add_to_it(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    try:
        with db.transaction() as session:
            number = create_request(session, source="voicemail", now=NOW).number
        assert _history(db, number) == [("registered", "voicemail", "")]
        csv = tmp_path / "s.csv"
        csv.write_text(
            "number,category,status,created_at,due_at\n"
            f"{number},voicemail,В работе,2026-11-25,\n"
            "7654321,documents,Закрыто,2026-11-20,\n",
            encoding="utf-8",
        )
        for _ in range(2):  # the same file twice: the second import changes nothing
            with db.transaction() as session:
                requests_import.apply(session, requests_import.read_csv(csv), NOW, actor="olga")
        assert _history(db, number) == [
            ("registered", "voicemail", ""),
            ("in_work", "import", "olga"),
        ]
        assert _history(db, "7654321") == [("closed", "import", "olga")]
    finally:
        db.dispose()
