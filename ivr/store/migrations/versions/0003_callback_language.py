"""The language a callback was booked in, so the call back speaks it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("lang", sa.String(8), nullable=False, server_default="ru"))


def downgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_column("lang")
