"""The voice webhooks Twilio calls: incoming, step, status and the queue's wait music."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Response, request

from ivr.domain.schedule import MOSCOW
from ivr.services.dispatcher import apply_call_result
from ivr.services.voicemails import MIN_SECONDS
from ivr.services.webhook_failures import record_failure
from ivr.telephony.carrier_fields import row_id, whole_seconds
from ivr.web.extension import services
from ivr.web.metrics_route import note_apology
from ivr.web.security import twilio_signed

log = logging.getLogger(__name__)

blueprint = Blueprint("voice", __name__, url_prefix="/voice")

# In development and test the harness may place a call at any moment (``ivr call --at``).
CLOCK_HEADER = "X-IVR-Clock"


def _twiml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def _form() -> dict[str, str]:
    """Twilio's form fields (werkzeug's parse), the first value of each."""
    return request.form.to_dict()


def _call_sid() -> str:
    """The CallSid for a log line about a failure, which may be the form itself."""
    try:
        return request.form.get("CallSid", "?")
    except Exception:
        return "?"


def call_time() -> datetime:
    """Now, or the moment a development harness asked for; production ignores the header."""
    ivr = services()
    asked = request.headers.get(CLOCK_HEADER)
    if asked and not ivr.settings.is_production:
        moment = datetime.fromisoformat(asked)
        return moment if moment.tzinfo else moment.replace(tzinfo=MOSCOW)
    return ivr.clock()


def _safe_time() -> datetime:
    """``call_time``, or the real clock when even the header cannot be read."""
    try:
        return call_time()
    except ValueError:
        return services().clock()


def _in_call_failure() -> str:
    return services().fallback.in_call(_form_or_nothing(), _safe_time())


def _in_queue_failure() -> str:
    return services().fallback.in_queue()


def _form_or_nothing() -> dict[str, str]:
    try:
        return _form()
    except Exception:
        return {}


def _answer(work: Callable[[], str], failure: Callable[[], str] = _in_call_failure) -> Response:
    """Run a webhook; any failure becomes the route's own failure answer (``Fallback``),
    never an HTML error."""
    try:
        return _twiml(work())
    except Exception as exc:
        log.exception(
            "call %s: webhook %s failed; answering with the fallback", _call_sid(), request.path
        )
        note_apology()
        _note_failure(exc)
        return _twiml(failure())


def _note_failure(exc: Exception) -> None:
    """Keep the failure for the console's dashboard; never in the way of the answer."""
    try:
        ivr = services()
        record_failure(ivr.db, request.path, _call_sid(), type(exc).__name__, ivr.clock())
    except Exception:
        log.warning("webhook %s: the failure was not recorded for the console", request.path)


def _row_id(name: str) -> int | None:
    """A database id from the query string; a malformed or oversized one is None."""
    value = request.args.get(name)
    found = row_id(value)
    if value is not None and found is None:
        log.warning("webhook %s: malformed %s= in the query; ignored", request.path, name)
    return found


@blueprint.post("/incoming")
@twilio_signed
def incoming() -> Response:
    """A call arrives: Twilio's voice URL for every line."""
    flow = request.args.get("flow")
    callback = _row_id("callback")
    return _answer(lambda: services().calls.incoming(_form(), call_time(), flow, callback))


@blueprint.post("/step")
@twilio_signed
def step() -> Response:
    """The caller answered a ``<Gather>``/``<Record>``, or the call left a queue or a dial."""
    turn = request.args.get("turn", type=int, default=-1)
    ev = request.args.get("ev")
    return _answer(lambda: services().calls.step(_form(), turn, ev, call_time()))


@blueprint.post("/queue/wait")
@twilio_signed
def queue_wait() -> Response:
    """Twilio's ``waitUrl``: announcements for a caller waiting in a queue."""
    return _answer(lambda: services().calls.queue_wait(_form(), call_time()), _in_queue_failure)


@blueprint.post("/queue/key")
@twilio_signed
def queue_key() -> Response:
    """A key pressed during the wait announcements (e.g. 1 for a callback instead)."""
    offered_at = whole_seconds(request.args.get("waited"))
    return _answer(
        lambda: services().calls.queue_key(_form(), call_time(), offered_at), _in_queue_failure
    )


@blueprint.post("/fallback/recorded")
@twilio_signed
def fallback_recorded() -> Response:
    """The action of a voice message recorded after a failure (``Fallback.in_call``)."""
    return _answer(lambda: services().fallback.recorded(_form(), _safe_time()))


@blueprint.post("/recording")
@twilio_signed
def recording() -> Response:
    """Twilio's recording status callback: a recording is ready, absent or failed.

    Answers 2xx only after the voicemail row is committed; on an error Twilio retries.
    """
    if request.args.get("purpose", "voicemail") != "voicemail":
        return Response("", status=204)
    try:
        minimum = request.args.get("min", default=MIN_SECONDS, type=int)
        services().voicemails.on_recording_status(_form(), call_time(), minimum)
    except Exception as exc:
        log.exception("call %s: recording callback failed", _call_sid())
        _note_failure(exc)
        return Response("", status=500)
    return Response("", status=204)


@blueprint.post("/callback-status")
@twilio_signed
def callback_status() -> Response:
    """Status callback of an outbound call the dispatcher placed for a booked callback."""
    callback = _row_id("callback")
    if callback is None:
        return Response("", status=204)
    ivr = services()
    form = _form()
    status = form.get("CallStatus", "")
    if status == "completed" and not ivr.calls.reached_a_person(form.get("CallSid", "")):
        # Answered, but nobody spoke with a specialist (a machine, or a hang-up in the
        # queue): the booking is not done, it is tried again.
        status = "not-connected"
    try:
        apply_call_result(
            ivr.db,
            callback,
            status,
            call_time(),
            ivr.settings,
            call_sid=form.get("CallSid", ""),
        )
    except Exception as exc:
        log.exception("callback %s: status callback failed", callback)
        _note_failure(exc)
        return Response("", status=500)
    return Response("", status=204)


@blueprint.post("/status")
@twilio_signed
def status() -> Response:
    """Twilio's status callback: the call ended."""
    try:
        services().calls.status(_form(), call_time())
    except Exception as exc:
        log.exception("call %s: status callback failed", _call_sid())
        _note_failure(exc)
        return Response("", status=500)
    return Response("", status=204)
