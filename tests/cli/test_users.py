"""``ivr users``: accounts created, changed, disabled and listed from the command line, each
change in the audit log."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from werkzeug.security import check_password_hash

from ivr.cli import main
from ivr.store.db import Database
from ivr.store.models import AuditEntry, ConsoleUser


@pytest.fixture
def env(sqlite_url: str) -> dict[str, str]:
    return {"IVR_ENVIRONMENT": "test", "IVR_DATABASE_URL": sqlite_url}


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["users", *args], env=env, input=stdin)


def _rows(url: str) -> list[ConsoleUser]:
    db = Database(url)
    try:
        with db.sessions() as session:
            return list(session.scalars(select(ConsoleUser)))
    finally:
        db.dispose()


def _audit(url: str) -> list[tuple[str, str, str]]:
    db = Database(url)
    try:
        with db.sessions() as session:
            return [
                (a.action, a.target, a.detail)
                for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            ]
    finally:
        db.dispose()


def test_the_first_admin_with_a_password_asked_twice(env: dict[str, str], sqlite_url: str) -> None:
    result = run(
        env,
        "add",
        "Admin",
        "--role",
        "admin",
        "--name",
        "Ирина",
        stdin="long password 1\nlong password 1\n",
    )
    assert result.exit_code == 0, result.output
    assert "Account 'admin' created: admin." in result.output
    (row,) = _rows(sqlite_url)
    assert (row.login, row.name, row.role, row.active) == ("admin", "Ирина", "admin", True)
    assert row.password_hash.startswith("scrypt:")
    assert check_password_hash(row.password_hash, "long password 1")
    assert "long password 1" not in row.password_hash
    assert _audit(sqlite_url)[0][:2] == ("user_added", "пользователь admin")


def test_a_password_from_standard_input(env: dict[str, str], sqlite_url: str) -> None:
    assert (
        run(
            env, "add", "anna", "--role", "operator", "--password-stdin", stdin="long password 2\n"
        ).exit_code
        == 0
    )
    assert check_password_hash(_rows(sqlite_url)[0].password_hash, "long password 2")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["add", "anna", "--role", "operator", "--password-stdin"],
            "short\n",
            "at least 10 characters",
        ),
        (
            ["add", "a b", "--role", "operator", "--password-stdin"],
            "long password 3\n",
            "a login is",
        ),
        (
            ["add", "anna", "--role", "boss", "--password-stdin"],
            "long password 3\n",
            "Invalid value",
        ),
        (
            ["passwd", "nobody", "--password-stdin"],
            "long password 3\n",
            "there is no account 'nobody'",
        ),
        (["disable", "nobody"], None, "there is no account 'nobody'"),
    ],
)
def test_refusals_say_why(
    env: dict[str, str], args: list[str], stdin: str | None, message: str
) -> None:
    result = run(env, *args, stdin=stdin)
    assert result.exit_code != 0
    assert message in result.output


def test_a_taken_login(env: dict[str, str]) -> None:
    run(env, "add", "anna", "--role", "operator", "--password-stdin", stdin="long password 2\n")
    result = run(
        env, "add", "ANNA", "--role", "admin", "--password-stdin", stdin="long password 2\n"
    )
    assert result.exit_code == 1
    assert "the login 'anna' is taken" in result.output


def test_passwd_disable_enable_role_and_list(env: dict[str, str], sqlite_url: str) -> None:
    run(env, "add", "anna", "--role", "operator", "--password-stdin", stdin="long password 2\n")
    before = _rows(sqlite_url)[0].password_changed_at
    assert run(env, "passwd", "anna", "--password-stdin", stdin="another password\n").exit_code == 0
    row = _rows(sqlite_url)[0]
    assert check_password_hash(row.password_hash, "another password")
    assert row.password_changed_at >= before
    assert run(env, "disable", "anna").exit_code == 0
    assert _rows(sqlite_url)[0].active is False
    assert run(env, "role", "anna", "supervisor").exit_code == 0
    listed = json.loads(run(env, "list", "--json").output)
    assert listed == [
        {
            "login": "anna",
            "name": "",
            "role": "supervisor",
            "active": False,
            "created": listed[0]["created"],
            "last_login": "",
        }
    ]
    assert run(env, "enable", "anna").exit_code == 0
    assert "anna" in run(env, "list").output
    assert [a[0] for a in _audit(sqlite_url)] == [
        "user_added",
        "user_password",
        "user_disabled",
        "user_role",
        "user_enabled",
    ]


def test_an_empty_list_says_how_to_begin(env: dict[str, str]) -> None:
    result = run(env, "list")
    assert (
        result.output.strip()
        == "No accounts. Create the first admin: ivr users add LOGIN --role admin"
    )
