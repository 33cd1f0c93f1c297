"""The sign-in rate limit, kept in the database so that every web worker (on every machine)
counts the same attempts.

An account is refused for a while after ``login_max_failures`` failed attempts within
``login_window_minutes`` since its last successful sign-in; an address after
``login_address_max_failures`` failures within the window, whatever logins it tried. A refused
attempt is not even checked (nothing is learnt from it) and counts as a failure of the address.
Attempts are kept a day and then deleted.

Two attempts at the very same moment on two workers may both be let through before either is
recorded (the password check is slow and holds no lock): the limit is exact to within the
number of attempts running at once, which a person at a keyboard never reaches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from ivr.config import Settings
from ivr.store.models import LoginAttempt, stored_utc

KEEP = timedelta(days=1)


@dataclass(frozen=True)
class Limit:
    """Whether an attempt may be checked now, and if not, in how many minutes."""

    allowed: bool
    retry_minutes: int = 0


def check(session: Session, settings: Settings, login: str, address: str, now: datetime) -> Limit:
    """May an attempt on ``login`` from ``address`` be checked now?"""
    window = timedelta(minutes=settings.login_window_minutes)
    since = now.astimezone(UTC) - window
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.login == login, LoginAttempt.succeeded.is_(True)
        )
    )
    for_login: ColumnElement[bool] = LoginAttempt.login == login
    if last_success is not None:
        # Only the failures after the account's last sign-in count against it.
        for_login = for_login & (LoginAttempt.at > stored_utc(last_success))
    failures = _failures(session, for_login, since)
    by_address = _failures(session, LoginAttempt.address == address, since)
    if failures < settings.login_max_failures and by_address < settings.login_address_max_failures:
        return Limit(True)
    # The limit lifts when the oldest failure that counts leaves the window.
    oldest = session.scalar(
        select(func.min(LoginAttempt.at)).where(
            (LoginAttempt.login == login) | (LoginAttempt.address == address),
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > since,
        )
    )
    lifts = (stored_utc(oldest) if oldest else since) + window
    minutes = max(1, math.ceil((lifts - now.astimezone(UTC)).total_seconds() / 60))
    return Limit(False, minutes)


def _failures(session: Session, which: ColumnElement[bool], since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(which, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
        )
        or 0
    )


def record(session: Session, login: str, address: str, succeeded: bool, now: datetime) -> None:
    """Keep an attempt, and forget those older than a day."""
    moment = now.astimezone(UTC)
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < moment - KEEP))
    session.add(
        LoginAttempt(at=moment, login=login[:64], address=address[:64], succeeded=succeeded)
    )
