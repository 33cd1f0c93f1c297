"""The database tables, as typed SQLAlchemy 2 models.

Changing a model means adding an Alembic migration in ``ivr/store/migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The declarative base of every table."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


class Call(Base):
    """One phone call: its line, times, state between turns and the call log."""

    __tablename__ = "calls"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_sid: Mapped[str] = mapped_column(String(64), default="")
    line: Mapped[str] = mapped_column(String(32), index=True)
    caller: Mapped[str] = mapped_column(String(32), default="")
    direction: Mapped[str] = mapped_column(String(32), default="inbound")
    flow: Mapped[str] = mapped_column(String(64), default="")
    flow_version: Mapped[str] = mapped_column(String(32), default="")
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The number of webhooks answered; a request for an older turn is a retry.
    turn: Mapped[int] = mapped_column(Integer, default=0)
    last_twiml: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32), default="in-progress")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    duration: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The call log: nodes passed and caller inputs, personal digits masked.
    path: Mapped[list[Any]] = mapped_column(default=list)
    inputs: Mapped[list[Any]] = mapped_column(default=list)


class FlowVersion(Base):
    """A snapshot of a flow as a call started on it, so any worker can finish the call."""

    __tablename__ = "flow_versions"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
