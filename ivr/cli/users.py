"""``ivr users add/passwd/disable/enable/role/list``: the console's accounts.

Passwords are asked for twice without echo, or read from standard input with
``--password-stdin`` (for scripts; one line). Every change is written to the audit log as
done by ``cli:<system user>``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from ivr.cli.common import cli_actor, load_settings
from ivr.domain.schedule import MOSCOW
from ivr.services.console import accounts, audit
from ivr.services.console.accounts import ROLE_NAMES, ROLES, AccountError
from ivr.store.db import Database


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _change(
    action: str, work: Callable[[Session, datetime], accounts.Account], detail: str = ""
) -> accounts.Account:
    """Run ``work(session, now)`` in a transaction with its audit line; errors are usage errors."""
    settings = load_settings()
    db = Database.from_settings(settings)
    now = datetime.now(MOSCOW)
    try:
        with db.transaction() as session:
            account = work(session, now)
            audit.record(
                session,
                cli_actor(),
                action,
                now,
                target=f"пользователь {account.login}",
                detail=detail,
            )
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    return account


@click.group()
def users() -> None:
    """Console accounts: operators, supervisors and admins."""


@users.command("add")
@click.argument("login")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the person may do.")
@click.option("--name", default="", help="The person's name, as the console shows it.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_add(login: str, role: str, name: str, password_stdin: bool) -> None:
    """Create an account (the first admin, too)."""
    password = _password(password_stdin)
    account = _change(
        "user_added",
        lambda session, now: accounts.create(session, login, password, role, now, name),
        detail=f"роль {ROLE_NAMES[role]}",
    )
    click.echo(f"Account '{account.login}' created: {account.role}.")


@users.command("passwd")
@click.argument("login")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_passwd(login: str, password_stdin: bool) -> None:
    """Set a new password; the account's open sessions end."""
    password = _password(password_stdin)
    account = _change(
        "user_password",
        lambda session, now: accounts.set_password(session, login, password, now),
    )
    click.echo(f"Password of '{account.login}' changed; its sessions are signed out.")


@users.command("disable")
@click.argument("login")
def users_disable(login: str) -> None:
    """Disable an account: it can no longer sign in, and its sessions end."""
    account = _change(
        "user_disabled", lambda session, now: accounts.set_active(session, login, False, now)
    )
    click.echo(f"Account '{account.login}' disabled.")


@users.command("enable")
@click.argument("login")
def users_enable(login: str) -> None:
    """Enable a disabled account again."""
    account = _change(
        "user_enabled", lambda session, now: accounts.set_active(session, login, True, now)
    )
    click.echo(f"Account '{account.login}' enabled.")


@users.command("role")
@click.argument("login")
@click.argument("role", type=click.Choice(ROLES))
def users_role(login: str, role: str) -> None:
    """Give an account another role."""
    account = _change(
        "user_role",
        lambda session, _now: accounts.set_role(session, login, role),
        detail=f"роль {ROLE_NAMES[role]}",
    )
    click.echo(f"Account '{account.login}' is now {account.role}.")


def _local(moment: datetime | None) -> str:
    return moment.astimezone(MOSCOW).strftime("%Y-%m-%d %H:%M") if moment else ""


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def users_list(as_json: bool) -> None:
    """List the accounts."""
    db = Database.from_settings(load_settings())
    try:
        with db.sessions() as session:
            found = accounts.all_accounts(session)
    finally:
        db.dispose()
    rows = [
        {
            "login": a.login,
            "name": a.name,
            "role": a.role,
            "active": a.active,
            "created": _local(a.created_at),
            "last_login": _local(a.last_login_at),
        }
        for a in found
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("No accounts. Create the first admin: ivr users add LOGIN --role admin")
        return
    table = Table(title="Console accounts")
    for column in ("login", "name", "role", "active", "created", "last_login"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            *(("yes" if v else "no") if isinstance(v, bool) else str(v) for v in row.values())
        )
    Console().print(table)
