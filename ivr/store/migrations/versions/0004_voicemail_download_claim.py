"""Who is downloading a voicemail, until when: one download at a time per recording.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voicemails") as batch:
        batch.add_column(
            sa.Column("download_claimed_until", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("voicemails") as batch:
        batch.drop_column("download_claimed_until")
