"""Requests: look one up by its number (with its status history), and import statuses from
the back office's CSV, checked by the same importer as ``ivr requests import``."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug import Response
from werkzeug.utils import secure_filename
from wtforms import BooleanField

from ivr.services import requests_import
from ivr.services.console import audit, request_desk
from ivr.web.console import MAX_IMPORT_BYTES
from ivr.web.console.base import (
    accepts_upload,
    client_address,
    console_blueprint,
    current_account,
    requires,
)
from ivr.web.extension import services

blueprint = console_blueprint("requests", __name__, "/requests")


class ImportForm(FlaskForm):  # type: ignore[misc]
    """A CSV file of request statuses."""

    file = FileField("Файл CSV", validators=[FileRequired("Выберите файл.")])
    skip_bad = BooleanField("Загрузить хорошие строки, даже если есть ошибки")


def _page(**values: object) -> str:
    values.setdefault("form", ImportForm())
    values.setdefault("number", "")
    values.setdefault("found", None)
    values.setdefault("report", None)
    values.setdefault("imported", False)
    return render_template("console/requests.html", columns=requests_import.REQUIRED, **values)


@blueprint.get("/")
@requires("operator")
def index() -> str | tuple[str, int]:
    """Look a request up by its number."""
    number = request_desk.clean_number(request.args.get("number", ""))
    if not number:
        return _page()
    with services().db.sessions() as session:
        found = request_desk.find(session, number)
    if found is None:
        return _page(number=number, missing=True), 404
    return _page(number=number, found=found)


@blueprint.post("/import")
@accepts_upload(MAX_IMPORT_BYTES)
@requires("supervisor")
def import_csv() -> Response | str | tuple[str, int]:
    """Import a CSV: every bad row is reported as ``file:line: problem``; nothing is written
    when a row is bad unless the good rows are asked for."""
    form = ImportForm()
    if not form.validate():
        flash("Выберите файл CSV.", "error")
        return redirect(url_for(".index"))
    upload = form.file.data
    name = secure_filename(upload.filename or "") or "import.csv"
    report = requests_import.read_upload(upload.read(), name)
    if report.problems and not form.skip_bad.data:
        return _page(form=form, report=report), 422
    ivr = services()
    now = ivr.clock()
    actor = current_account().login
    with ivr.db.transaction() as session:
        requests_import.apply(session, report, now, actor=actor)
        audit.record(
            session,
            actor,
            "requests_imported",
            now,
            target=name,
            detail=(
                f"строк {len(report.rows)}: новых {report.created}, изменено {report.updated}, "
                f"без изменений {report.unchanged}, пропущено с ошибками {len(report.problems)}"
            ),
            address=client_address(),
        )
    return _page(form=ImportForm(formdata=None), report=report, imported=True)
