"""Sign-in, sign-out and the console's front door (``/console/``)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from werkzeug import Response
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ivr.services.console import accounts, audit, login_limits
from ivr.web.console.base import (
    SESSION_ACCOUNT,
    SESSION_SINCE,
    client_address,
    console_blueprint,
    current_account,
    requires,
    safe_next,
)
from ivr.web.extension import services

blueprint = console_blueprint("auth", __name__, "", static=True)


class LoginForm(FlaskForm):  # type: ignore[misc]
    """The sign-in form."""

    login = StringField("Логин", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Пароль", validators=[DataRequired(), Length(max=256)])
    next = HiddenField()


def landing() -> str:
    """Where an account goes after signing in: the dashboard, or an operator's voicemails."""
    account = g.get("account")
    if account is not None and account.may("supervisor"):
        return url_for("console_dashboard.index")
    return url_for("console_voicemails.index")


@blueprint.get("/")
@requires("operator")
def index() -> Response:
    """The console's front door."""
    return redirect(landing())


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """Sign in with a login and a password, within the attempt limits."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if g.get("account") is not None:
            return redirect(safe_next(form.next.data) or landing())
        return render_template("console/login.html", form=form)
    if not form.validate():
        return render_template(
            "console/login.html", form=form, error="Введите логин и пароль."
        ), 400
    ivr = services()
    now = ivr.clock()
    name = str(form.login.data).strip().lower()[:64]
    address = client_address()
    with ivr.db.sessions() as db_session:
        limit = login_limits.check(db_session, ivr.settings, name, address, now)
    if not limit.allowed:
        with ivr.db.transaction() as db_session:
            login_limits.record(db_session, name, address, False, now)
            audit.record(db_session, name, "login_limited", now, address=address)
        error = (
            "Слишком много неудачных попыток входа. "
            f"Попробуйте снова через {limit.retry_minutes} мин."
        )
        return render_template("console/login.html", form=form, error=error), 429
    with ivr.db.sessions() as db_session:
        account = accounts.verify(db_session, name, str(form.password.data))
    with ivr.db.transaction() as db_session:
        login_limits.record(db_session, name, address, account is not None, now)
        audit.record(db_session, name, "login" if account else "login_failed", now, address=address)
        if account is not None:
            accounts.signed_in(db_session, account.id, now)
    if account is None:
        error = "Неверный логин или пароль (или учётная запись отключена)."
        return render_template("console/login.html", form=form, error=error), 401
    # A fresh session: nothing from before the sign-in is carried into it.
    session.clear()
    session.permanent = True
    session[SESSION_ACCOUNT] = account.id
    session[SESSION_SINCE] = now.isoformat()
    g.account = account
    return redirect(safe_next(form.next.data) or landing())


@blueprint.post("/logout")
@requires("operator")
def logout() -> Response:
    """Sign out."""
    account = current_account()
    ivr = services()
    with ivr.db.transaction() as db_session:
        audit.record(db_session, account.login, "logout", ivr.clock(), address=client_address())
    session.clear()
    flash("Вы вышли из консоли.")
    return redirect(url_for("console_auth.login"))
