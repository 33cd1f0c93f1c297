"""Callbacks: today's and later bookings by status, the dispatcher's state, and moving,
cancelling or closing a booking by hand."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug import Response
from wtforms import DateTimeLocalField
from wtforms.validators import DataRequired

from ivr.domain.schedule import MOSCOW
from ivr.services.console import callback_desk
from ivr.services.console.callback_desk import CallbackView, DeskError
from ivr.web.console.base import client_address, console_blueprint, current_account, requires
from ivr.web.console.display import msk
from ivr.web.extension import services

blueprint = console_blueprint("callbacks", __name__, "/callbacks")

REFRESH_SECONDS = 15


class RescheduleForm(FlaskForm):  # type: ignore[misc]
    """A new time for a booking (Moscow time)."""

    start = DateTimeLocalField("Новое время", format="%Y-%m-%dT%H:%M", validators=[DataRequired()])


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button with nothing to fill in (cancel, done): only its CSRF token."""


@blueprint.get("/")
@requires("operator")
def index() -> str:
    """The desk, and the dispatcher's state above it."""
    ivr = services()
    status = request.args.get("status", "")
    if status not in callback_desk.STATUSES:
        status = ""
    now = ivr.clock()
    with ivr.db.sessions() as session:
        desk = callback_desk.desk(session, now, status)
    dispatcher = callback_desk.dispatcher_state(ivr.db, ivr.settings, now)
    return render_template(
        "console/callbacks.html",
        desk=desk,
        status=status,
        dispatcher=dispatcher,
        now=now,
        reschedule_form=RescheduleForm(),
        action_form=ActionForm(),
        refresh=REFRESH_SECONDS,
    )


def _change(work: Callable[[Session], CallbackView], done: str) -> Response:
    ivr = services()
    try:
        with ivr.db.transaction() as session:
            view = work(session)
    except DeskError as exc:
        flash(str(exc), "error")
    else:
        flash(done.format(slot=msk(view.slot_start), request=view.request_number), "ok")
    return redirect(url_for(".index", status=request.args.get("status", "")))


@blueprint.post("/<int:callback_id>/reschedule")
@requires("operator")
def reschedule(callback_id: int) -> Response:
    """Move a booking to a new time."""
    form = RescheduleForm()
    if not form.validate():
        flash("Укажите новую дату и время.", "error")
        return redirect(url_for(".index"))
    ivr = services()
    start = form.start.data.replace(tzinfo=MOSCOW)
    now = ivr.clock()
    return _change(
        lambda session: callback_desk.reschedule(
            session,
            ivr.settings,
            callback_id,
            start,
            current_account().login,
            now,
            client_address(),
        ),
        "Звонок по обращению {request} перенесён на {slot}.",
    )


@blueprint.post("/<int:callback_id>/cancel")
@requires("operator")
def cancel(callback_id: int) -> Response:
    """Cancel a booking."""
    ivr = services()
    now = ivr.clock()
    return _change(
        lambda session: callback_desk.cancel(
            session, callback_id, current_account().login, now, client_address()
        ),
        "Звонок по обращению {request} отменён.",
    )


@blueprint.post("/<int:callback_id>/done")
@requires("operator")
def done(callback_id: int) -> Response:
    """Mark a booking done by hand."""
    ivr = services()
    now = ivr.clock()
    return _change(
        lambda session: callback_desk.mark_done(
            session, callback_id, current_account().login, now, client_address()
        ),
        "Звонок по обращению {request} отмечен выполненным.",
    )
