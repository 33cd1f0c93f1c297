"""Voicemails: the list (newest first), the audio behind sign-in, marking a message handled
and calling its caller back."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_wtf import FlaskForm
from werkzeug import Response
from wtforms import DateTimeLocalField, TextAreaField
from wtforms.validators import Length, Optional

from ivr.domain.schedule import MOSCOW
from ivr.services.console import audit, voicemail_desk
from ivr.web.console.base import client_address, console_blueprint, current_account, requires
from ivr.web.console.display import msk
from ivr.web.extension import services

blueprint = console_blueprint("voicemails", __name__, "/voicemails")

# How often (seconds) the open list looks for new messages by itself.
REFRESH_SECONDS = 10


class HandledForm(FlaskForm):  # type: ignore[misc]
    """Mark a message handled, saying what was done."""

    note = TextAreaField("Что сделано", validators=[Length(max=2000)])


class CallBackForm(FlaskForm):  # type: ignore[misc]
    """Book a callback to the caller: the first free slot, or from a chosen moment."""

    after = DateTimeLocalField("Не раньше", format="%Y-%m-%dT%H:%M", validators=[Optional()])


@blueprint.get("/")
@requires("operator")
def index() -> str:
    """The messages: not handled yet by default; handled ones and all on their tabs."""
    shown = request.args.get("show", "open")
    if shown not in voicemail_desk.SHOWN:
        shown = "open"
    with services().db.sessions() as session:
        messages = voicemail_desk.list_voicemails(session, shown)
    return render_template(
        "console/voicemails.html",
        messages=messages,
        shown=shown,
        handled_form=HandledForm(),
        callback_form=CallBackForm(),
        refresh=REFRESH_SECONDS,
    )


@blueprint.get("/<int:voicemail_id>/audio")
@requires("operator")
def audio(voicemail_id: int) -> Response:
    """A message's audio, for the page's player: by id only, never by a path."""
    ivr = services()
    with ivr.db.sessions() as session:
        path = voicemail_desk.audio_file(session, ivr.settings, voicemail_id)
    if path is None:
        abort(404)
    if request.headers.get("Range", "bytes=0-").startswith("bytes=0-"):
        # The first request of a playback (the player asks for the rest by range after it).
        with ivr.db.transaction() as session:
            audit.record(
                session,
                current_account().login,
                "voicemail_played",
                ivr.clock(),
                target=f"сообщение {voicemail_id}",
                address=client_address(),
            )
    response = send_file(path, mimetype="audio/wav", conditional=True, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/<int:voicemail_id>/handled")
@requires("operator")
def handled(voicemail_id: int) -> Response:
    """Mark a message handled."""
    form = HandledForm()
    if not form.validate():
        flash("Заметка слишком длинная (не больше 2000 знаков).", "error")
        return redirect(url_for(".index"))
    ivr = services()
    with ivr.db.transaction() as session:
        found = voicemail_desk.mark_handled(
            session,
            voicemail_id,
            current_account().login,
            str(form.note.data or ""),
            ivr.clock(),
            client_address(),
        )
    if not found:
        abort(404)
    flash("Сообщение отмечено как обработанное.", "ok")
    return redirect(url_for(".index", show=request.args.get("show", "open")))


@blueprint.post("/<int:voicemail_id>/callback")
@requires("operator")
def callback(voicemail_id: int) -> Response:
    """Book a callback to the caller of a message."""
    form = CallBackForm()
    if not form.validate():
        flash("Время указано неверно.", "error")
        return redirect(url_for(".index"))
    ivr = services()
    after: datetime | None = form.after.data
    if after is not None:
        after = after.replace(tzinfo=MOSCOW)
    with ivr.db.transaction() as session:
        result = voicemail_desk.call_back(
            session,
            ivr.settings,
            ivr.registry.current(),
            voicemail_id,
            current_account().login,
            ivr.clock(),
            after=after,
            address=client_address(),
        )
    if result.booked:
        flash(f"Обратный звонок записан на {msk(result.slot_start)}.", "ok")
    elif result.slot_start is not None:
        flash(f"{result.problem} Он записан на {msk(result.slot_start)}.", "error")
    else:
        flash(result.problem, "error")
    return redirect(url_for(".index", show=request.args.get("show", "open")))
