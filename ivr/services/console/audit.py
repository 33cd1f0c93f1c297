"""The audit log: who did what, from where, written in the same transaction as the deed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.domain.privacy import mask_text
from ivr.store.models import AuditEntry, stored_utc

# What each action is called in the console's audit page.
ACTION_NAMES = {
    "login": "вход",
    "login_failed": "неудачный вход",
    "login_limited": "вход заблокирован лимитом",
    "logout": "выход",
    "user_added": "учётная запись создана",
    "user_password": "пароль изменён",
    "user_disabled": "учётная запись отключена",
    "user_enabled": "учётная запись включена",
    "user_role": "роль изменена",
    "voicemail_played": "сообщение прослушано",
    "voicemail_handled": "сообщение обработано",
    "voicemail_callback": "обратный звонок по сообщению",
    "callback_rescheduled": "звонок перенесён",
    "callback_canceled": "звонок отменён",
    "callback_done": "звонок отмечен выполненным",
    "requests_imported": "импорт обращений",
}


@dataclass(frozen=True)
class Entry:
    """One line of the audit log."""

    at: datetime
    actor: str
    action: str
    target: str
    detail: str
    address: str

    @property
    def action_name(self) -> str:
        """The action in Russian, as the audit page shows it."""
        return ACTION_NAMES.get(self.action, self.action)


def record(
    session: Session,
    actor: str,
    action: str,
    now: datetime,
    *,
    target: str = "",
    detail: str = "",
    address: str = "",
) -> None:
    """Add a line to the audit log; digits a person typed (a phone number in a note) are
    masked, as in the logs."""
    session.add(
        AuditEntry(
            at=now.astimezone(UTC),
            actor=actor[:64],
            action=action[:64],
            target=target[:128],
            detail=mask_text(detail),
            address=address[:64],
        )
    )


def recent(session: Session, *, limit: int = 200, actor: str = "", action: str = "") -> list[Entry]:
    """The newest lines first, optionally of one actor or one action."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    return [
        Entry(stored_utc(r.at), r.actor, r.action, r.target, r.detail, r.address)
        for r in session.scalars(query)
    ]
