"""Requests, voicemails, callbacks and callback slots.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('booked', 'dialing', 'retry')")


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("number", sa.String(10), primary_key=True),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_step", sa.Text(), nullable=False),
        sa.Column("caller", sa.String(32), nullable=False),
        sa.Column("line", sa.String(32), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("parent_number", sa.String(10), nullable=True),
    )
    op.create_table(
        "voicemails",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("recording_sid", sa.String(34), nullable=False, unique=True),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(32), nullable=False),
        sa.Column("line", sa.String(32), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("request_number", sa.String(10), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("file_path", sa.Text(), nullable=False),
        sa.Column("download_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_voicemails_call_sid", "voicemails", ["call_sid"])
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("line", sa.String(32), nullable=False),
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("request_number", sa.String(10), nullable=False),
        sa.Column("slot_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slot_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_result", sa.String(32), nullable=False),
        sa.Column("outbound_call_sid", sa.String(64), nullable=False),
        sa.Column("booked_call_sid", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_callbacks_slot_start", "callbacks", ["slot_start"])
    op.create_index("ix_callbacks_next_attempt_at", "callbacks", ["next_attempt_at"])
    op.create_index(
        "uq_callbacks_open_phone",
        "callbacks",
        ["phone"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_table(
        "callback_slots",
        sa.Column("line", sa.String(32), primary_key=True),
        sa.Column("slot_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("booked", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("callback_slots")
    op.drop_index("uq_callbacks_open_phone", table_name="callbacks")
    op.drop_index("ix_callbacks_next_attempt_at", table_name="callbacks")
    op.drop_index("ix_callbacks_slot_start", table_name="callbacks")
    op.drop_table("callbacks")
    op.drop_index("ix_voicemails_call_sid", table_name="voicemails")
    op.drop_table("voicemails")
    op.drop_table("requests")
