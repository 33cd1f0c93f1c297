"""The database tables, as typed SQLAlchemy 2 models.

Changing a model means adding an Alembic migration in ``ivr/store/migrations/versions``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def stored_utc(moment: datetime) -> datetime:
    """A datetime read from the database as aware UTC: everything is stored in UTC, and
    SQLite hands it back naive."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


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


class Request(Base):
    """A registered contact («обращение»): voicemails, callbacks, escalations and imports.

    Numbers are shared by every kind and are what the caller is told and later asks about.
    """

    __tablename__ = "requests"

    number: Mapped[str] = mapped_column(String(10), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), default="general")
    # registered, processing, in_work, waiting_for_caller, answered, closed
    status: Mapped[str] = mapped_column(String(32), default="registered")
    source: Mapped[str] = mapped_column(String(32), default="import")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    next_step: Mapped[str] = mapped_column(Text, default="")
    caller: Mapped[str] = mapped_column(String(32), default="")
    line: Mapped[str] = mapped_column(String(32), default="")
    call_sid: Mapped[str] = mapped_column(String(64), default="")
    # The request an escalation is about.
    parent_number: Mapped[str | None] = mapped_column(String(10), nullable=True)


class Voicemail(Base):
    """A voice message: stored once per RecordingSid, downloaded (and retried) by number."""

    __tablename__ = "voicemails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recording_sid: Mapped[str] = mapped_column(String(34), unique=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    caller: Mapped[str] = mapped_column(String(32), default="")
    line: Mapped[str] = mapped_column(String(32), default="")
    duration: Mapped[int] = mapped_column(Integer, default=0)
    request_number: Mapped[str] = mapped_column(String(10))
    # pending (not yet downloaded), stored, absent (too short or silent), failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    file_path: Mapped[str] = mapped_column(Text, default="")
    download_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    downloaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # A download under way (by a web worker or ``ivr worker``) until then; see
    # ``VoicemailStore.download``. Past it, the claim lapses and another may try.
    download_claimed_until: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    # Handled by a person in the console: when, by whom (their login), and their note.
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    handled_by: Mapped[str] = mapped_column(String(64), default="", server_default="")
    handled_note: Mapped[str] = mapped_column(Text, default="", server_default="")


# Every status a voicemail can be in (``Voicemail.status``).
VOICEMAIL_STATUSES = ("pending", "stored", "absent", "failed")
OPEN_CALLBACK_STATUSES = ("booked", "dialing", "retry")
# Every status a booking can be in (``Callback.status``): the open ones, then the final ones.
CALLBACK_STATUSES = (*OPEN_CALLBACK_STATUSES, "completed", "failed", "expired", "canceled")


class Callback(Base):
    """A booked callback: who to call, in which slot, and how the dialling went."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(32))
    line: Mapped[str] = mapped_column(String(32), default="")
    flow: Mapped[str] = mapped_column(String(64), default="")
    # The language the caller booked in: the call back greets and queues in it.
    lang: Mapped[str] = mapped_column(String(8), default="ru", server_default="ru")
    request_number: Mapped[str] = mapped_column(String(10))
    slot_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    slot_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # booked, dialing, retry, completed, failed, expired (not reached in time), canceled
    status: Mapped[str] = mapped_column(String(16), default="booked")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # slot (a time chosen or given: a booking, an escalation, a person's) or immediate (the
    # caller asked to be called right away, instead of waiting in a queue).
    kind: Mapped[str] = mapped_column(String(16), default="slot", server_default="slot")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_result: Mapped[str] = mapped_column(String(32), default="")
    outbound_call_sid: Mapped[str] = mapped_column(String(64), default="")
    booked_call_sid: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # One open booking of each kind per phone number, enforced by the database itself:
        # an earlier booking for a time (an escalation's, say) does not stand in the way of
        # a call back right now instead of waiting in a queue.
        Index(
            "uq_callbacks_open_phone_kind",
            "phone",
            "kind",
            unique=True,
            sqlite_where=text("status IN ('booked', 'dialing', 'retry')"),
            postgresql_where=text("status IN ('booked', 'dialing', 'retry')"),
        ),
    )


class CallbackSlot(Base):
    """How many callbacks a slot of a line holds; its row is the lock that keeps capacity."""

    __tablename__ = "callback_slots"

    line: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class DispatcherHost(Base):
    """One ``ivr worker`` process's heartbeat: when it last finished a pass, and what it did.

    Each worker writes only its own row (keyed by host and process), so heartbeats never
    contend; the console and ``/metrics`` read them to tell whether callbacks are being dialled.
    """

    __tablename__ = "dispatcher_hosts"

    worker: Mapped[str] = mapped_column(String(128), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_pass_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_pass_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    passes: Mapped[int] = mapped_column(Integer, default=0)
    last_claimed: Mapped[int] = mapped_column(Integer, default=0)
    last_placed: Mapped[int] = mapped_column(Integer, default=0)
    last_failed: Mapped[int] = mapped_column(Integer, default=0)
    last_waiting: Mapped[int] = mapped_column(Integer, default=0)


class RequestHistory(Base):
    """One status a request took, when, and who or what set it (a call, an import, a person)."""

    __tablename__ = "request_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(10), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(32))
    # call, voicemail, callback, escalation, import, console
    source: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class ConsoleUser(Base):
    """A person who signs in to the console, with one role: operator, supervisor or admin."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str] = mapped_column(String(16))
    # werkzeug.security's "method$salt$hash"; never the password itself.
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Sessions signed before this moment are no longer honoured (a new password, a disable).
    password_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginAttempt(Base):
    """A sign-in attempt, kept a day: the rate limit every web worker shares."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    login: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)


class AuditEntry(Base):
    """Who did what in the console or with ``ivr users``: the audit log."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # The login of the person, or "cli:<system user>" for the command line.
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    # What it was done to: "voicemail 12", "callback 7", "request 12345678", "user anna".
    target: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(64), default="")


class WebhookFailure(Base):
    """A webhook that failed inside and was answered with the fallback: the dashboard's
    "errors in the last hour" (the log has the traceback)."""

    __tablename__ = "webhook_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    route: Mapped[str] = mapped_column(String(64))
    call_sid: Mapped[str] = mapped_column(String(64), default="")
    error: Mapped[str] = mapped_column(String(128), default="")
