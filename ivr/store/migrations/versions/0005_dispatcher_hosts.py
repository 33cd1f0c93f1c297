"""Dispatcher heartbeats: one row per ``ivr worker`` process, written after every pass.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dispatcher_hosts",
        sa.Column("worker", sa.String(128), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_pass_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_pass_seconds", sa.Float, nullable=False),
        sa.Column("passes", sa.Integer, nullable=False),
        sa.Column("last_claimed", sa.Integer, nullable=False),
        sa.Column("last_placed", sa.Integer, nullable=False),
        sa.Column("last_failed", sa.Integer, nullable=False),
        sa.Column("last_waiting", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dispatcher_hosts")
