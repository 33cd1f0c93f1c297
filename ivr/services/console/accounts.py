"""Console accounts: roles, passwords hashed by werkzeug.security, enabling and disabling.

Roles are ordered: an operator handles voicemails and callbacks; a supervisor also sees the
call log, the dashboard and the audit log, and imports requests; an admin also sees the flows.
A password is stored only as werkzeug's salted scrypt hash. Changing a password or disabling an
account moves ``password_changed_at``, which ends every session signed before it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ivr.errors import IvrError
from ivr.store.models import ConsoleUser, stored_utc

ROLES = ("operator", "supervisor", "admin")
ROLE_NAMES = {"operator": "оператор", "supervisor": "супервизор", "admin": "администратор"}
MIN_PASSWORD_LENGTH = 10
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class AccountError(IvrError):
    """An account cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class Account:
    """An account as the console and the command line show it (never the hash)."""

    id: int
    login: str
    name: str
    role: str
    active: bool
    created_at: datetime
    password_changed_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, row: ConsoleUser) -> Account:
        """The account of a row."""
        return cls(
            row.id,
            row.login,
            row.name,
            row.role,
            row.active,
            stored_utc(row.created_at),
            stored_utc(row.password_changed_at),
            stored_utc(row.last_login_at) if row.last_login_at else None,
        )

    def may(self, role: str) -> bool:
        """True when this account's role is ``role`` or above it."""
        return role_rank(self.role) >= role_rank(role)


def role_rank(role: str) -> int:
    """0 for an operator, 1 for a supervisor, 2 for an admin; an unknown role ranks below all."""
    return ROLES.index(role) if role in ROLES else -1


def check_login(login: str) -> str:
    """A login as stored (lower case), or ``AccountError``."""
    login = login.strip().lower()
    if not _LOGIN.match(login):
        raise AccountError(
            "a login is 2 to 64 characters: Latin letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return login


def check_password(password: str) -> None:
    """``AccountError`` for a password too short to be kept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"unknown role '{role}' (use one of: {', '.join(ROLES)})")
    return role


def find(session: Session, login: str) -> ConsoleUser | None:
    """The account with this login (any case), or None."""
    return session.scalar(select(ConsoleUser).where(ConsoleUser.login == login.strip().lower()))


def _existing(session: Session, login: str) -> ConsoleUser:
    row = find(session, login)
    if row is None:
        raise AccountError(f"there is no account '{login}'")
    return row


def create(
    session: Session, login: str, password: str, role: str, now: datetime, name: str = ""
) -> Account:
    """A new active account; ``AccountError`` when the login is taken or a value is bad."""
    login = check_login(login)
    _check_role(role)
    check_password(password)
    if find(session, login) is not None:
        raise AccountError(f"the login '{login}' is taken")
    moment = now.astimezone(UTC)
    row = ConsoleUser(
        login=login,
        name=name.strip(),
        role=role,
        password_hash=generate_password_hash(password),
        active=True,
        created_at=moment,
        password_changed_at=moment,
    )
    session.add(row)
    session.flush()
    return Account.of(row)


def set_password(session: Session, login: str, password: str, now: datetime) -> Account:
    """A new password; the account's earlier sessions end."""
    check_password(password)
    row = _existing(session, login)
    row.password_hash = generate_password_hash(password)
    row.password_changed_at = now.astimezone(UTC)
    return Account.of(row)


def set_active(session: Session, login: str, active: bool, now: datetime) -> Account:
    """Enable or disable an account; disabling ends its sessions at once."""
    row = _existing(session, login)
    row.active = active
    row.password_changed_at = now.astimezone(UTC)
    return Account.of(row)


def set_role(session: Session, login: str, role: str) -> Account:
    """Give an account another role (its sessions carry on with the new one)."""
    row = _existing(session, login)
    row.role = _check_role(role)
    return Account.of(row)


def all_accounts(session: Session) -> list[Account]:
    """Every account, by login."""
    return [Account.of(r) for r in session.scalars(select(ConsoleUser).order_by(ConsoleUser.login))]


def by_id(session: Session, account_id: int) -> Account | None:
    """The account with this id, or None."""
    row = session.get(ConsoleUser, account_id)
    return Account.of(row) if row is not None else None


@cache
def _unknown_hash() -> str:
    # Checked when the login is unknown, so that an unknown login takes as long to refuse as
    # a wrong password does (nobody learns which logins exist by timing the answer).
    return generate_password_hash(secrets.token_hex(16))


def verify(session: Session, login: str, password: str) -> Account | None:
    """The active account whose password this is, or None."""
    row = find(session, login)
    if row is None:
        check_password_hash(_unknown_hash(), password)
        return None
    if not check_password_hash(row.password_hash, password) or not row.active:
        return None
    return Account.of(row)


def signed_in(session: Session, account_id: int, now: datetime) -> None:
    """Note a successful sign-in."""
    row = session.get(ConsoleUser, account_id)
    if row is not None:
        row.last_login_at = now.astimezone(UTC)
