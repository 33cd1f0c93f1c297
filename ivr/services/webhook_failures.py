"""Webhook failures, kept for the console's dashboard ("errors in the last hour").

Written when a webhook fails inside and is answered with the fallback. Writing it may fail
too (the database may be what failed): that is logged and never changes the answer.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from ivr.store.db import Database
from ivr.store.models import WebhookFailure

log = logging.getLogger(__name__)

KEEP = timedelta(days=7)


def record_failure(db: Database, route: str, call_sid: str, error: str, now: datetime) -> None:
    """Keep one failure (route, call, the exception's type); forget those older than a week."""
    moment = now.astimezone(UTC)
    try:
        with db.transaction(durable=False) as session:
            session.execute(delete(WebhookFailure).where(WebhookFailure.at < moment - KEEP))
            session.add(
                WebhookFailure(
                    at=moment, route=route[:64], call_sid=call_sid[:64], error=error[:128]
                )
            )
    except Exception as exc:  # never let the record of a failure fail the answer
        log.warning("a webhook failure could not be recorded (%s)", type(exc).__name__)


def failures_since(db: Database, since: datetime) -> tuple[int, list[WebhookFailure]]:
    """How many failures since ``since``, and the latest ten of them."""
    moment = since.astimezone(UTC)
    with db.sessions() as session:
        count = session.scalar(
            select(func.count()).select_from(WebhookFailure).where(WebhookFailure.at >= moment)
        )
        latest = list(
            session.scalars(
                select(WebhookFailure)
                .where(WebhookFailure.at >= moment)
                .order_by(WebhookFailure.at.desc())
                .limit(10)
            )
        )
    return int(count or 0), latest
