"""Admin commands: voicemails, callbacks and requests, as tables or ``--json`` for scripts.

These show full phone numbers: they are for the hotline's supervisors on the server, not logs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from ivr.cli.common import cli_actor, load_settings
from ivr.domain.schedule import MOSCOW
from ivr.services import requests_import
from ivr.store.db import Database
from ivr.store.models import Call, Callback, Request, Voicemail, stored_utc


def _db() -> Database:
    return Database.from_settings(load_settings())


def _local(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return stored_utc(moment).astimezone(MOSCOW).strftime("%Y-%m-%d %H:%M")


def _emit(rows: list[dict[str, Any]], columns: Sequence[str], title: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(f"No {title.lower()}.")
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c]) for c in columns))
    Console().print(table)


@click.group()
def voicemails() -> None:
    """Voice messages left after hours."""


@voicemails.command("list")
@click.option("--status", multiple=True, help="pending, stored, absent, failed (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def voicemails_list(status: tuple[str, ...], as_json: bool) -> None:
    """List voicemails, newest first."""
    db = _db()
    with db.sessions() as session:
        query = select(Voicemail).order_by(Voicemail.created_at.desc())
        if status:
            query = query.where(Voicemail.status.in_(status))
        rows = [
            {
                "id": v.id,
                "created": _local(v.created_at),
                "caller": v.caller,
                "line": v.line,
                "seconds": v.duration,
                "request": v.request_number,
                "status": v.status,
                "file": v.file_path,
                "error": v.last_error,
            }
            for v in session.scalars(query)
        ]
    db.dispose()
    _emit(
        rows,
        ["id", "created", "caller", "seconds", "request", "status", "file"],
        "Voicemails",
        as_json,
    )


@click.group()
def callbacks() -> None:
    """Booked callbacks and how their dialling went."""


@callbacks.command("list")
@click.option(
    "--status",
    multiple=True,
    help="booked, dialing, retry, completed, failed, expired, canceled (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def callbacks_list(status: tuple[str, ...], as_json: bool) -> None:
    """List callbacks by slot."""
    db = _db()
    with db.sessions() as session:
        query = select(Callback).order_by(Callback.slot_start, Callback.id)
        if status:
            query = query.where(Callback.status.in_(status))
        rows = [
            {
                "id": c.id,
                "slot": f"{_local(c.slot_start)}–{_local(c.slot_end)[-5:]}",
                "phone": c.phone,
                "request": c.request_number,
                "status": c.status,
                "priority": c.priority,
                "attempts": c.attempts,
                "next_attempt": _local(c.next_attempt_at),
                "last_result": c.last_result,
            }
            for c in session.scalars(query)
        ]
    db.dispose()
    _emit(
        rows,
        ["id", "slot", "phone", "request", "status", "attempts", "last_result"],
        "Callbacks",
        as_json,
    )


@click.group()
def calls() -> None:
    """The call log: lines, times, the path through the flow and the caller's inputs."""


@calls.command("list")
@click.option("--limit", default=50, show_default=True, help="How many of the newest calls.")
@click.option("--line", help="Only calls to this number (any common form).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def calls_list(limit: int, line: str | None, as_json: bool) -> None:
    """List the newest calls; inputs are masked as they were stored."""
    from ivr.domain.phones import to_e164

    db = _db()
    with db.sessions() as session:
        query = select(Call).order_by(Call.started_at.desc()).limit(limit)
        if line:
            query = query.where(Call.line == (to_e164(line) or line))
        rows = [
            {
                "sid": c.sid,
                "started": _local(c.started_at),
                "ended": _local(c.ended_at),
                "line": c.line,
                "flow": c.flow,
                "status": c.status,
                "seconds": c.duration if c.duration is not None else "",
                "path": " → ".join(c.path),
                "inputs": ", ".join(str(i.get("value", i.get("kind", ""))) for i in c.inputs),
            }
            for c in session.scalars(query)
        ]
    db.dispose()
    _emit(
        rows, ["started", "line", "flow", "status", "seconds", "path", "inputs"], "Calls", as_json
    )


@click.group()
def requests() -> None:
    """Requests («обращения»): look one up, or import statuses from the back office."""


@requests.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def requests_show(number: str, as_json: bool) -> None:
    """Show one request with its voicemails and callbacks."""
    db = _db()
    with db.sessions() as session:
        request = session.get(Request, number)
        if request is None:
            db.dispose()
            click.echo(f"No request {number}.", err=True)
            sys.exit(1)
        data: dict[str, Any] = {
            "number": request.number,
            "category": request.category,
            "status": request.status,
            "source": request.source,
            "created": _local(request.created_at),
            "due": _local(request.due_at),
            "next_step": request.next_step,
            "caller": request.caller,
            "line": request.line,
            "escalates": request.parent_number or "",
            "voicemails": [
                {"id": v.id, "status": v.status, "seconds": v.duration, "file": v.file_path}
                for v in session.scalars(
                    select(Voicemail).where(Voicemail.request_number == number)
                )
            ],
            "callbacks": [
                {
                    "id": c.id,
                    "slot": _local(c.slot_start),
                    "status": c.status,
                    "attempts": c.attempts,
                }
                for c in session.scalars(select(Callback).where(Callback.request_number == number))
            ],
        }
    db.dispose()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Request {number}", show_header=False)
    for key, value in data.items():
        if isinstance(value, list):
            value = "; ".join(", ".join(f"{k} {v}" for k, v in item.items()) for item in value)
        table.add_row(key, str(value))
    Console().print(table)


@requests.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Import the good rows even if some are bad.")
def requests_import_command(path: Path, skip_bad: bool) -> None:
    """Import request statuses from CSV: number,category,status,created_at,due_at[,next_step]."""
    report = requests_import.read_csv(path)
    for problem in report.problems:
        click.echo(problem, err=True)
    if report.problems and not skip_bad:
        click.echo(
            f"Ничего не загружено: строк с ошибками {len(report.problems)}. Исправьте их "
            "или запустите с --skip-bad, чтобы загрузить остальные.",
            err=True,
        )
        sys.exit(1)
    db = _db()
    with db.transaction() as session:
        requests_import.apply(session, report, datetime.now(MOSCOW), actor=cli_actor())
    db.dispose()
    click.echo(
        f"Загружено строк: {len(report.rows)} — новых {report.created}, изменено "
        f"{report.updated}, без изменений {report.unchanged}"
        + (f"; пропущено строк с ошибками: {len(report.problems)}" if report.problems else "")
        + "."
    )
    if report.problems:
        sys.exit(1)
