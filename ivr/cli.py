"""The ``ivr`` command: serve, validate, reload, db … (click).

Settings come from the process environment, with a ``.env`` file in the working directory
filling in what the environment does not set.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from dotenv import dotenv_values

from ivr import admin_cli
from ivr.config import ConfigError, Settings
from ivr.flows.registry import FlowRegistry, display, load_flow_set


def environ() -> dict[str, str]:
    """The process environment over the values of ``./.env``."""
    values = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    values.update(os.environ)
    return values


def load_settings(**overrides: Any) -> Settings:
    """Settings for this command, or a clear error and exit code 2."""
    try:
        return Settings.from_environ(environ(), **overrides)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


@click.group()
@click.version_option(package_name="ivr")
def main() -> None:
    """Voice IVR call-flow server for Twilio: flows in YAML, offline speech recognition."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check flow files (default: the flows directory); one line per problem."""
    settings = load_settings()
    targets = list(paths) or [settings.flows_dir]
    flow_set, problems = load_flow_set(targets, settings.prompts_dir)
    if flow_set is None:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"{len(problems)} problem(s) found.", err=True)
        sys.exit(1)
    for name, flow in sorted(flow_set.flows.items()):
        lines = ", ".join(flow.lines) or "no lines"
        click.echo(f"ok  {name} ({flow.source}): {len(flow.nodes)} nodes, {lines}")


@main.command()
def reload() -> None:
    """Ask running servers to load the flow files again (after checking them)."""
    settings = load_settings()
    flow_set, problems = load_flow_set([settings.flows_dir], settings.prompts_dir)
    if flow_set is None:
        for problem in problems:
            click.echo(str(problem))
        click.echo("Not reloaded: the running servers keep their current flows.", err=True)
        sys.exit(1)
    registry = FlowRegistry(settings.flows_dir, settings.prompts_dir, marker_dir=settings.var_dir)
    registry.request_reload()
    click.echo(
        f"Reload requested ({len(flow_set.flows)} flows); servers pick it up within "
        f"{settings.reload_interval:g} s."
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the webhooks with gunicorn; SIGHUP reloads the flows."""
    from ivr.server import serve as run_server

    settings = load_settings()
    flow_set, problems = load_flow_set([settings.flows_dir], settings.prompts_dir)
    if flow_set is None:
        for problem in problems:
            click.echo(str(problem), err=True)
        raise click.ClickException("refusing to start: the flows above are broken")
    if settings.is_production:
        try:
            settings.check_can_serve()
        except ConfigError as exc:
            raise click.ClickException(
                f"{exc}. Set it, or set IVR_ENVIRONMENT=development for local work."
            ) from exc
    click.echo(
        f"Serving {len(flow_set.flows)} flows from {display(settings.flows_dir)} "
        f"on http://{host}:{port}"
    )
    run_server(settings, host=host, port=port, workers=workers, threads=threads)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the database to the newest schema."""
    from ivr.store.migrate import upgrade

    settings = load_settings()
    upgrade(settings.database_url, revision)
    click.echo(f"Database is at revision {revision}.")


def _register() -> None:
    """Attach the command groups that live beside the code they drive."""
    from ivr.dispatcher_cli import worker
    from ivr.graph_cli import graph_command
    from ivr.harness.cli import call_command, test_calls_command
    from ivr.speech.cli import asr_group, model_group

    for command in (
        admin_cli.calls,
        admin_cli.voicemails,
        admin_cli.callbacks,
        admin_cli.requests,
        call_command,
        test_calls_command,
        model_group,
        asr_group,
        worker,
        graph_command,
    ):
        main.add_command(command)


_register()


if __name__ == "__main__":
    main()
