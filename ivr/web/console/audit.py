"""The audit log page: who did what, newest first (supervisors and admins)."""

from __future__ import annotations

from flask import render_template, request

from ivr.services.console import audit
from ivr.services.console.audit import ACTION_NAMES
from ivr.web.console.base import console_blueprint, requires
from ivr.web.extension import services

blueprint = console_blueprint("audit", __name__, "/audit")


@blueprint.get("/")
@requires("supervisor")
def index() -> str:
    """The newest 300 lines, optionally of one person or one action."""
    actor = request.args.get("actor", "").strip()[:64]
    action = request.args.get("action", "")
    if action not in ACTION_NAMES:
        action = ""
    with services().db.sessions() as session:
        entries = audit.recent(session, limit=300, actor=actor, action=action)
    return render_template(
        "console/audit.html", entries=entries, actor=actor, action=action, actions=ACTION_NAMES
    )
