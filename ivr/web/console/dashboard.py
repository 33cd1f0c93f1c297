"""The live dashboard (supervisors): calls and queues now, what waits for people, errors."""

from __future__ import annotations

from flask import render_template

from ivr.services.console.live import live
from ivr.web.console.base import console_blueprint, requires
from ivr.web.extension import services

blueprint = console_blueprint("dashboard", __name__, "/dashboard")

REFRESH_SECONDS = 10


@blueprint.get("/")
@requires("supervisor")
def index() -> str:
    """The figures; the page fetches itself again every few seconds."""
    ivr = services()
    figures = live(ivr.db, ivr.registry, ivr.settings, ivr.clock())
    return render_template("console/dashboard.html", live=figures, refresh=REFRESH_SECONDS)
