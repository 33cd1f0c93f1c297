"""Flows (admins): each flow's diagram, whether the files are sound, its versions in the
database, and a "what happens at" preview of a chosen moment."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import Response, abort, render_template, request

from ivr.domain.schedule import MOSCOW
from ivr.flows.model import Flow
from ivr.services.console import flow_desk
from ivr.services.console.flow_desk import NoDiagram
from ivr.services.console.preview import what_happens_at
from ivr.web.console.base import console_blueprint, requires
from ivr.web.extension import services

blueprint = console_blueprint("flows", __name__, "/flows")


def _flow(name: str) -> Flow:
    flow = services().registry.current().flows.get(name)
    if flow is None:
        abort(404)
    return flow


@blueprint.get("/")
@requires("admin")
def index() -> str:
    """Every loaded flow, with its lines and version, and the state of the files."""
    registry = services().registry
    flow_set = registry.current()
    return render_template(
        "console/flows.html",
        flows=sorted(flow_set.flows.values(), key=lambda f: f.name),
        problems=[str(p) for p in registry.last_problems],
        loaded_at=datetime.fromtimestamp(flow_set.loaded_at, MOSCOW)
        if flow_set.loaded_at
        else None,
    )


def _moment() -> tuple[datetime, str, str]:
    """The moment the preview form asks about (default: now), and the form's values."""
    now = services().clock().astimezone(MOSCOW)
    day_text = request.args.get("day", "")
    time_text = request.args.get("time", "")
    try:
        day = date.fromisoformat(day_text) if day_text else now.date()
        clock = time.fromisoformat(time_text) if time_text else now.time().replace(second=0)
    except ValueError:
        day, clock = now.date(), now.time().replace(second=0, microsecond=0)
    clock = clock.replace(second=0, microsecond=0, tzinfo=None)
    return datetime.combine(day, clock, MOSCOW), day.isoformat(), clock.strftime("%H:%M")


@blueprint.get("/<name>")
@requires("admin")
def show(name: str) -> str:
    """One flow: diagram, versions, and the preview."""
    flow = _flow(name)
    ivr = services()
    moment, day_text, time_text = _moment()
    lang = request.args.get("lang", flow.languages[0])
    with ivr.db.sessions() as session:
        versions = flow_desk.versions(session, flow)
    return render_template(
        "console/flow.html",
        flow=flow,
        versions=versions,
        preview=what_happens_at(flow, moment, lang),
        day=day_text,
        time=time_text,
        problems=[str(p) for p in ivr.registry.last_problems],
    )


@blueprint.get("/<name>/diagram.svg")
@requires("admin")
def diagram(name: str) -> Response:
    """The flow's diagram (``ivr graph``'s SVG)."""
    flow = _flow(name)
    try:
        svg = flow_desk.diagram_svg(flow)
    except NoDiagram as exc:
        return Response(str(exc), status=503, mimetype="text/plain")
    response = Response(svg, mimetype="image/svg+xml")
    # An SVG opened on its own is a document: it may run nothing and load nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
