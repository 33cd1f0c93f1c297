"""``GET /healthz``: is the database reachable and are flows loaded? Touches no Twilio."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ivr.web.extension import services

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the server can take calls, 503 otherwise; details in JSON."""
    ivr = services()
    database_ok = ivr.db.ping()
    flow_set = ivr.registry.current()
    body = {
        "ok": database_ok and bool(flow_set.flows),
        "database": "ok" if database_ok else "unreachable",
        "flows": {name: flow.version for name, flow in sorted(flow_set.flows.items())},
        "lines": len(flow_set.by_line),
        "flow_problems": [str(p) for p in ivr.registry.last_problems],
    }
    return jsonify(body), 200 if body["ok"] else 503
