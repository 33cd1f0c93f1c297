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


def cli_actor() -> str:
    """Who a change made on the command line is recorded as: ``cli:<system user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in a container: still say it was the command line
        return "cli"
