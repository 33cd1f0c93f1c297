"""``ivr requests import FILE.csv``: load request statuses from the portal's back office.

Columns: ``number,category,status,created_at,due_at`` (``next_step`` optional). A re-import
updates rows in place, so loading the same file twice changes nothing. Every bad row is
reported with its line, in Russian (the people who import are the hotline's staff, and the
console shows the same lines); by default nothing is written when any row is bad.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TextIO

from sqlalchemy.orm import Session

from ivr.domain.schedule import MOSCOW
from ivr.store.models import Request, stored_utc
from ivr.store.requests import record_status

REQUIRED = ("number", "category", "status", "created_at", "due_at")
STATUSES = ("registered", "processing", "in_work", "waiting_for_caller", "answered", "closed")
# The statuses as the back office may write them (DOMAIN.md), mapped to ours.
RUSSIAN_STATUSES = {
    "зарегистрировано": "registered",
    "в обработке": "processing",
    "в работе": "in_work",
    "ожидает ответа": "waiting_for_caller",
    "ответ получен": "answered",
    "закрыто": "closed",
}


@dataclass(frozen=True)
class ImportRow:
    """One valid row of the file."""

    line: int
    number: str
    category: str
    status: str
    created_at: datetime
    due_at: datetime | None
    next_step: str


@dataclass
class ImportReport:
    """What an import found and did."""

    rows: list[ImportRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _moment(text: str, end_of_day: bool) -> datetime:
    """ISO date or date-time; Moscow time unless it says otherwise."""
    text = text.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime.combine(day, time(23, 59, 59) if end_of_day else time(0, 0), MOSCOW)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=MOSCOW)


def read_csv(path: Path) -> ImportReport:
    """Parse and check every row of a file; nothing touches the database here."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return read_rows(handle, str(path))


def read_upload(data: bytes, name: str) -> ImportReport:
    """The same for a file sent from the browser: its bytes, and the name problems show."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report = ImportReport()
        report.problems.append(
            f"{name}:{line}: файл не в кодировке UTF-8; сохраните его как CSV UTF-8"
        )
        return report
    return read_rows(io.StringIO(text, newline=""), name)


def read_rows(handle: TextIO, shown: str) -> ImportReport:
    """Parse and check every row read from ``handle``; problems say ``shown:line: …``."""
    report = ImportReport()
    reader = csv.DictReader(handle)
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        report.problems.append(f"{shown}:1: в заголовке нет столбцов: {', '.join(missing)}")
        return report
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        row = {k.strip(): (v or "").strip() for k, v in record.items() if k}
        problem = _check(row, line, seen)
        if problem:
            report.problems.append(f"{shown}:{line}: {problem}")
            continue
        status = RUSSIAN_STATUSES.get(row["status"].lower(), row["status"].lower())
        due = _moment(row["due_at"], end_of_day=True) if row["due_at"] else None
        report.rows.append(
            ImportRow(
                line,
                row["number"],
                row["category"] or "general",
                status,
                _moment(row["created_at"], end_of_day=False),
                due,
                row.get("next_step", ""),
            )
        )
        seen[row["number"]] = line
    return report


def _check(row: dict[str, str], line: int, seen: dict[str, int]) -> str:
    number = row["number"]
    if not (number.isdigit() and 6 <= len(number) <= 10):
        return f"номер обращения «{number}» должен состоять из 6–10 цифр"
    if number in seen:
        return f"обращение {number} уже есть в строке {seen[number]}"
    status = RUSSIAN_STATUSES.get(row["status"].lower(), row["status"].lower())
    if status not in STATUSES:
        return (
            f"неизвестный статус «{row['status']}»; допустимы: {', '.join(RUSSIAN_STATUSES)} "
            f"или {', '.join(STATUSES)}"
        )
    for column in ("created_at", "due_at"):
        if column == "due_at" and not row[column]:
            continue
        try:
            _moment(row[column], end_of_day=False)
        except ValueError:
            return f"{column} «{row[column]}» — не дата; нужно 2026-11-25 или 2026-11-25T10:00"
    return ""


def apply(session: Session, report: ImportReport, now: datetime, actor: str = "") -> None:
    """Insert new requests and update changed ones (idempotent); a new request or a changed
    status is a step of the request's history, dated ``now`` (the import)."""
    moment = now.astimezone(UTC)
    for row in report.rows:
        existing = session.get(Request, row.number)
        values = {
            "category": row.category,
            "status": row.status,
            "created_at": row.created_at.astimezone(UTC),
            "due_at": row.due_at.astimezone(UTC) if row.due_at else None,
            "next_step": row.next_step,
        }
        if existing is None:
            session.add(
                Request(
                    number=row.number, source="import", caller="", line="", call_sid="", **values
                )
            )
            record_status(session, row.number, row.status, source="import", at=moment, actor=actor)
            report.created += 1
            continue
        current = {
            "category": existing.category,
            "status": existing.status,
            "created_at": stored_utc(existing.created_at),
            "due_at": stored_utc(existing.due_at) if existing.due_at else None,
            "next_step": existing.next_step,
        }
        if current == values:
            report.unchanged += 1
            continue
        if existing.status != row.status:
            record_status(session, row.number, row.status, source="import", at=moment, actor=actor)
        for key, value in values.items():
            setattr(existing, key, value)
        report.updated += 1
