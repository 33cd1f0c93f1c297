"""Console accounts: roles in order, passwords only as hashes, verification."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ivr.services.console import accounts
from ivr.services.console.accounts import AccountError
from ivr.store.db import Database

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_roles_are_ordered() -> None:
    assert accounts.role_rank("operator") < accounts.role_rank("supervisor")
    assert accounts.role_rank("supervisor") < accounts.role_rank("admin")
    assert accounts.role_rank("root") == -1


def test_create_and_verify(database_url: str) -> None:
    db = Database(database_url)
    try:
        with db.transaction() as session:
            made = accounts.create(session, " Anna.K ", "long password 1", "supervisor", NOW)
        assert made.login == "anna.k" and made.may("operator") and not made.may("admin")
        with db.sessions() as session:
            assert accounts.verify(session, "ANNA.K", "long password 1") == made
            assert accounts.verify(session, "anna.k", "long password 2") is None
            assert accounts.verify(session, "nobody", "long password 1") is None
        with db.transaction() as session:
            accounts.set_active(session, "anna.k", False, NOW)
        with db.sessions() as session:
            assert accounts.verify(session, "anna.k", "long password 1") is None
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("login", "password", "role", "message"),
    [
        ("a", "long password 1", "operator", "a login is"),
        ("анна", "long password 1", "operator", "a login is"),
        ("anna", "short", "operator", "at least 10"),
        ("anna", "long password 1", "root", "unknown role"),
    ],
)
def test_refusals(database_url: str, login: str, password: str, role: str, message: str) -> None:
    db = Database(database_url)
    try:
        with pytest.raises(AccountError, match=message), db.transaction() as session:
            accounts.create(session, login, password, role, NOW)
    finally:
        db.dispose()
