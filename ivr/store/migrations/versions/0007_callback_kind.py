"""The kind of a callback booking (slot or immediate), one open booking of each kind per
phone number: an escalation's booked time no longer blocks a callback right now.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('booked', 'dialing', 'retry')")


def upgrade() -> None:
    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="slot"))
    # Existing rows cannot tell an immediate booking from an escalation's (both are priority
    # bookings without a place in a slot): they all count as slot bookings, as they did.
    op.drop_index("uq_callbacks_open_phone", table_name="callbacks")
    op.create_index(
        "uq_callbacks_open_phone_kind",
        "callbacks",
        ["phone", "kind"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("uq_callbacks_open_phone_kind", table_name="callbacks")
    # Back to one open booking per number: a number's open immediate booking gives way to its
    # open slot booking.
    op.execute(
        "UPDATE callbacks SET status = 'canceled' WHERE status IN ('booked', 'dialing', 'retry') "
        "AND kind = 'immediate' AND phone IN (SELECT phone FROM callbacks c2 WHERE "
        "c2.kind = 'slot' AND c2.status IN ('booked', 'dialing', 'retry'))"
    )
    op.create_index(
        "uq_callbacks_open_phone",
        "callbacks",
        ["phone"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_column("kind")
