"""``INSERT … ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ivr.store.models import Base


def insert_ignore(session: Session, model: type[Base], values: dict[str, Any]) -> bool:
    """Insert a row unless one with the same key exists; True when it was inserted."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**values).on_conflict_do_nothing()
    result = session.execute(statement)
    return bool(getattr(result, "rowcount", 0))
