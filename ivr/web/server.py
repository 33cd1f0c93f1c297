"""``ivr serve``: gunicorn running the app factory, with SIGHUP meaning "reload the flows".

Gunicorn's own SIGHUP restarts every worker, and a worker that met a broken flow would not
boot. Here SIGHUP only asks the workers to read the flows again; they keep the working set if
the new files are broken.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from ivr.config import Settings
from ivr.flows.registry import FlowRegistry
from ivr.logs import gunicorn_logconfig
from ivr.web.gunicorn_conf import (
    child_exit,
    on_starting,
    post_fork,
    post_worker_init,
    pre_fork,
)


class _Arbiter(Arbiter):  # type: ignore[misc]
    def handle_hup(self) -> None:
        settings: Settings = self.app.settings
        FlowRegistry(
            settings.flows_dir, settings.prompts_dir, marker_dir=settings.var_dir
        ).request_reload()
        self.log.info("SIGHUP: flows will be reloaded by every worker")


class IvrServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn application that builds the Flask app in each worker."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from ivr.web import create_app

        return create_app(self.settings)

    def run(self) -> None:
        _Arbiter(self).run()


def gunicorn_options(
    settings: Settings, *, host: str, port: int, workers: int, threads: int
) -> dict[str, Any]:
    """Gunicorn's settings for ``ivr serve``: the Procfile's hooks, and the command's own."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "pidfile": str(settings.var_dir / "ivr.pid"),
        "accesslog": "-",
        "timeout": 30,
        "on_starting": on_starting,
        "child_exit": child_exit,
        "pre_fork": pre_fork,
        "post_fork": post_fork,
        "post_worker_init": post_worker_init,
        "logconfig_dict": gunicorn_logconfig(settings.log_format),
    }


def serve(settings: Settings, *, host: str, port: int, workers: int, threads: int) -> None:
    """Run gunicorn in the foreground until stopped."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    options = gunicorn_options(settings, host=host, port=port, workers=workers, threads=threads)
    IvrServer(settings, options).run()
