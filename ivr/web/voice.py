"""The voice webhooks Twilio calls: incoming, step, status and the queue's wait music."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Response, request

from ivr.dispatcher import apply_call_result
from ivr.schedule import MOSCOW
from ivr.voicemails import MIN_SECONDS
from ivr.web.extension import services
from ivr.web.form import posted_form
from ivr.web.security import twilio_signed

log = logging.getLogger(__name__)

blueprint = Blueprint("voice", __name__, url_prefix="/voice")

# In development and test the harness may place a call at any moment (``ivr call --at``).
CLOCK_HEADER = "X-IVR-Clock"


def _twiml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def _form() -> dict[str, str]:
    """Twilio's form fields, the first value of each."""
    return posted_form().first


def _call_sid() -> str:
    """The CallSid for a log line about a failure, which may be the form itself."""
    try:
        return posted_form().get("CallSid", "?")
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


def _answer(work: Callable[[], str]) -> Response:
    """Run a webhook; any failure becomes an apology and a person, never an HTML error."""
    try:
        return _twiml(work())
    except Exception:
        log.exception(
            "call %s: webhook %s failed; apologising and transferring",
            _call_sid(),
            request.path,
        )
        return _twiml(services().calls.apology())


@blueprint.post("/incoming")
@twilio_signed
def incoming() -> Response:
    """A call arrives: Twilio's voice URL for every line."""
    flow = request.args.get("flow")
    callback = request.args.get("callback", type=int)
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
    return _answer(lambda: services().calls.queue_wait(_form(), call_time()))


@blueprint.post("/queue/key")
@twilio_signed
def queue_key() -> Response:
    """A key pressed during the wait announcements (e.g. 1 for a callback instead)."""
    return _answer(lambda: services().calls.queue_key(_form(), call_time()))


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
    except Exception:
        log.exception("call %s: recording callback failed", _call_sid())
        return Response("", status=500)
    return Response("", status=204)


@blueprint.post("/callback-status")
@twilio_signed
def callback_status() -> Response:
    """Status callback of an outbound call the dispatcher placed for a booked callback."""
    callback = request.args.get("callback", type=int)
    if callback is None:
        return Response("", status=204)
    ivr = services()
    form = posted_form()
    status = form.get("CallStatus")
    if status == "completed" and not ivr.calls.reached_a_person(form.get("CallSid")):
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
            call_sid=form.first.get("CallSid"),
        )
    except Exception:
        log.exception("callback %s: status callback failed", callback)
        return Response("", status=500)
    return Response("", status=204)


@blueprint.post("/status")
@twilio_signed
def status() -> Response:
    """Twilio's status callback: the call ended."""
    try:
        services().calls.status(_form(), call_time())
    except Exception:
        log.exception("call %s: status callback failed", _call_sid())
        return Response("", status=500)
    return Response("", status=204)
