"""``GET /metrics`` behind a bearer token, and the timing of every voice webhook.

Without ``IVR_METRICS_TOKEN`` the route does not exist (404, like any unknown path): nothing
about the server is told to whoever finds it. With it, a request must carry
``Authorization: Bearer <token>``; anything else gets 401. The token is compared in constant
time (``hmac.compare_digest``), so its characters cannot be guessed one by one from timings.

Each voice webhook is timed from the moment its route is matched to the moment its answer is
ready, and counted by route and outcome (``ivr.web.metrics.outcome``); a webhook answered by
the fallback says so with ``note_apology``.
"""

from __future__ import annotations

import hmac
import time

from flask import Blueprint, Flask, Response, abort, current_app, request

from ivr.web.extension import services
from ivr.web.metrics import CONTENT_TYPE, Metrics, outcome

__all__ = ["bearer_matches", "blueprint", "install", "note_apology"]

blueprint = Blueprint("metrics", __name__)

EXTENSION = "ivr.metrics"
# Where a request keeps its start and whether the fallback answered it (its WSGI environ:
# one lookup of the request, then plain dict work, on every webhook).
_STARTED = "ivr.webhook_started"
_APOLOGISED = "ivr.webhook_apologised"
# The blueprint of the webhooks that are timed.
TIMED_BLUEPRINT = "voice"


def install(app: Flask, metrics: Metrics) -> None:
    """Serve ``/metrics`` from ``app`` and time its voice webhooks into ``metrics``."""
    app.extensions[EXTENSION] = metrics
    app.register_blueprint(blueprint)
    observe = metrics.webhook
    clock = time.perf_counter

    def started() -> None:
        if request.blueprint == TIMED_BLUEPRINT:
            request.environ[_STARTED] = clock()

    def finished(response: Response) -> Response:
        environ = request.environ
        began: float | None = environ.get(_STARTED)
        if began is not None:
            rule = request.url_rule
            if rule is not None:
                result = outcome(response.status_code, _APOLOGISED in environ)
                observe(rule.rule, result, clock() - began)
        return response

    app.before_request(started)
    app.after_request(finished)


def note_apology() -> None:
    """The webhook being answered got the fallback's answer (counted as ``apology``)."""
    request.environ[_APOLOGISED] = True


def bearer_matches(header: str, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>`` (constant time)."""
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


@blueprint.get("/metrics")
def metrics() -> Response:
    """Prometheus' text format; 404 without a token configured, 401 without the token."""
    token = services().settings.metrics_token
    if not token:
        abort(404)
    if not bearer_matches(request.headers.get("Authorization", ""), token):
        return Response(
            "Unauthorized: send Authorization: Bearer <IVR_METRICS_TOKEN>\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    found: Metrics = current_app.extensions[EXTENSION]
    return Response(found.exposition(), content_type=CONTENT_TYPE)
