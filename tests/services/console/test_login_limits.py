"""The sign-in limit, counted in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from ivr.services.console import login_limits
from ivr.store.db import Database
from ivr.store.models import LoginAttempt
from tests.conftest import make_settings

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_the_limit_lifts_when_the_oldest_failure_leaves_the_window(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, login_max_failures=3)
    db = Database(database_url)
    try:
        for minute in (0, 4, 8):
            with db.transaction() as session:
                login_limits.record(
                    session, "anna", "10.0.0.1", False, NOW + timedelta(minutes=minute)
                )
        with db.sessions() as session:
            at_ten = login_limits.check(
                session, settings, "anna", "10.0.0.2", NOW + timedelta(minutes=10)
            )
            other = login_limits.check(
                session, settings, "olga", "10.0.0.2", NOW + timedelta(minutes=10)
            )
            later = login_limits.check(
                session, settings, "anna", "10.0.0.2", NOW + timedelta(minutes=15)
            )
        assert at_ten == login_limits.Limit(False, 5)
        assert other.allowed
        assert later.allowed
    finally:
        db.dispose()


def test_attempts_older_than_a_day_are_forgotten(database_url: str) -> None:
    db = Database(database_url)
    try:
        with db.transaction() as session:
            login_limits.record(session, "anna", "10.0.0.1", False, NOW)
        with db.transaction() as session:
            login_limits.record(
                session, "anna", "10.0.0.1", True, NOW + timedelta(days=1, seconds=1)
            )
        with db.sessions() as session:
            assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 1
    finally:
        db.dispose()
