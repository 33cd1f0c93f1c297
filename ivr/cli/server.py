"""``ivr serve`` and ``ivr db``: the webhook server (gunicorn) and its database schema."""

from __future__ import annotations

import click

from ivr.cli.common import explain_missing_dirs, load_settings
from ivr.config import ConfigError
from ivr.flows.registry import display, load_flow_set
from ivr.speech.lemmas import dictionary_words

__all__ = ["db", "serve"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the webhooks with gunicorn; SIGHUP reloads the flows."""
    from ivr.web.server import serve as run_server

    settings = load_settings()
    flow_set, problems = load_flow_set(
        [settings.flows_dir], settings.prompts_dir, dictionary_words()
    )
    if flow_set is None:
        explain_missing_dirs(settings)
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


@click.group()
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
