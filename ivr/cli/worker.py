"""``ivr worker``: the callback dispatcher as a long-running command."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from ivr.cli.common import load_settings
from ivr.logs import configure_logging
from ivr.services.dispatcher import CallingHoursError, Dispatcher, PassReport
from ivr.store.db import Database


@click.command()
@click.option("--once", is_flag=True, help="Run a single pass and exit.")
def worker(once: bool) -> None:
    """Dial due callbacks (within IVR_CALLING_HOURS, not on public holidays unless
    IVR_CALLING_ON_HOLIDAYS) and retry voicemail downloads.

    A pass runs every IVR_WORKER_INTERVAL seconds and prints one line of counts; SIGTERM or
    Ctrl-C stops the worker after the pass in progress.
    """
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    db = Database.from_settings(settings)
    try:
        try:
            dispatcher = Dispatcher(settings, db)
        except CallingHoursError as exc:
            raise click.ClickException(f"configuration: IVR_CALLING_HOURS: {exc}") from exc

        def report(result: PassReport) -> None:
            click.echo(result.summary())

        if once:
            report(dispatcher.run_once())
            return
        stop = threading.Event()

        def _stop(signum: int, _frame: FrameType | None) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        click.echo(
            f"Worker started: calling hours {dispatcher.hours} MSK, a pass every "
            f"{settings.worker_interval:g} s; SIGTERM or Ctrl-C stops it."
        )
        try:
            dispatcher.run_forever(stop, report)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        click.echo("Worker stopped.")
    finally:
        db.dispose()
