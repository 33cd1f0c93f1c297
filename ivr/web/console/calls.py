"""The call log (supervisors): filters by line, day and outcome; one call's path and inputs."""

from __future__ import annotations

from datetime import date

from flask import abort, render_template, request

from ivr.domain.phones import to_e164
from ivr.services.console import call_log
from ivr.web.console.base import console_blueprint, requires
from ivr.web.extension import services

blueprint = console_blueprint("calls", __name__, "/calls")


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@blueprint.get("/")
@requires("supervisor")
def index() -> str:
    """The newest calls matching the filters."""
    ivr = services()
    flows = ivr.registry.current()
    line = request.args.get("line", "")
    line = (to_e164(line) or "") if line else ""
    day = _day(request.args.get("day", ""))
    outcome = request.args.get("outcome", "")
    if outcome not in call_log.OUTCOMES:
        outcome = ""
    with ivr.db.sessions() as session:
        calls = call_log.list_calls(
            session, ivr.registry, ivr.clock(), line=line, day=day, outcome=outcome
        )
    return render_template(
        "console/calls.html",
        calls=calls,
        lines=sorted(flows.by_line),
        line=line,
        day=day.isoformat() if day else "",
        outcome=outcome,
        outcomes=call_log.OUTCOMES,
    )


@blueprint.get("/<sid>")
@requires("supervisor")
def show(sid: str) -> str:
    """One call: its path through the flow version it ran on, and its inputs."""
    ivr = services()
    with ivr.db.sessions() as session:
        found = call_log.find_call(session, ivr.registry, sid[:64], ivr.clock())
    if found is None:
        abort(404)
    call, steps = found
    return render_template(
        "console/call.html", call=call, steps=steps, input_kinds=call_log.INPUT_KINDS
    )
