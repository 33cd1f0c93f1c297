"""What every ``ivr`` command shares: its settings, from the process environment over
``./.env``. Imports no other command module, so that none imports another."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

import click

from ivr.config import ConfigError, Settings

ENV_FILE = Path(".env")


def load_settings(**overrides: Any) -> Settings:
    """Settings for this command (the environment over ``./.env``), or a clear error."""
    try:
        return Settings.from_environ(os.environ, env_file=ENV_FILE, **overrides)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


def explain_missing_dirs(settings: Settings) -> None:
    """Say where the flows and prompts are looked for when they are not there: a command run
    outside the project directory otherwise only hears that ``flows`` does not exist."""
    for variable, folder in (
        ("IVR_FLOWS_DIR", settings.flows_dir),
        ("IVR_PROMPTS_DIR", settings.prompts_dir),
    ):
        if not folder.is_dir():
            click.echo(
                f"{variable} is {folder} (here: {folder.absolute()}), which is not a directory: "
                "run the command in the project directory or set the variable.",
                err=True,
            )


def cli_actor() -> str:
    """Who a change made on the command line is recorded as: ``cli:<system user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in a container: still say it was the command line
        return "cli"
