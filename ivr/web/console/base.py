"""What every console page shares: its blueprint's guard (CSRF on every form, the signed-in
account, roles), security headers, and error pages.

A page says which role it needs with ``@requires(role)``: the anonymous are sent to the
sign-in page, the under-privileged get 403. Every POST is checked for its CSRF token
(Flask-WTF) before the view runs, sign-in included.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from ivr.services.console.accounts import Account, by_id
from ivr.web.extension import services

F = TypeVar("F", bound=Callable[..., Any])

csrf = CSRFProtect()

# The session's keys: the account's id, and when the session was signed in (a password
# changed or an account disabled after that ends it).
SESSION_ACCOUNT = "account"
SESSION_SINCE = "since"

# Only this server's own pages, styles, scripts, pictures and audio; no frames, no plugins.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


def console_blueprint(
    name: str, import_name: str, url_prefix: str = "", *, static: bool = False
) -> Blueprint:
    """A console blueprint under ``/console``, guarded like every other; ``static`` serves
    the console's styles and scripts under ``/console/static`` (they hold nothing private)."""
    blueprint = Blueprint(
        f"console_{name}",
        import_name,
        url_prefix="/console" + url_prefix,
        template_folder="templates",
        static_folder="static" if static else None,
        static_url_path="/static" if static else None,
    )
    blueprint.before_request(_before)
    blueprint.after_request(_headers)
    blueprint.register_error_handler(CSRFError, _csrf_refused)
    for code in (403, 404, 405, 413, 429):
        blueprint.register_error_handler(code, _error_page)
    return blueprint


def _before() -> None:
    if (request.endpoint or "").endswith(".static"):
        return  # styles and scripts: no account, no form
    view = current_app.view_functions.get(request.endpoint or "")
    upload_limit = getattr(view, UPLOAD_LIMIT, None)
    if upload_limit is not None:
        # Before the form is read (the CSRF check reads it): a file may be larger than the
        # webhooks' limit.
        request.max_content_length = upload_limit
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    g.account = _signed_in_account()


def _signed_in_account() -> Account | None:
    account_id = session.get(SESSION_ACCOUNT)
    since_text = session.get(SESSION_SINCE)
    if not isinstance(account_id, int) or not isinstance(since_text, str):
        return None
    try:
        since = datetime.fromisoformat(since_text)
    except ValueError:
        return None
    with services().db.sessions() as db_session:
        account = by_id(db_session, account_id)
    if account is None or not account.active or account.password_changed_at > since:
        session.clear()
        return None
    return account


UPLOAD_LIMIT = "console_upload_limit"


def accepts_upload(limit: int) -> Callable[[F], F]:
    """The view takes a file of up to ``limit`` bytes (the app's limit is a webhook's)."""

    def decorate(view: F) -> F:
        setattr(view, UPLOAD_LIMIT, limit)
        return view

    return decorate


def current_account() -> Account:
    """The signed-in account of a page that ``requires`` one."""
    account: Account = g.account
    return account


def requires(role: str) -> Callable[[F], F]:
    """Only an account of ``role`` or above sees the page: the anonymous are sent to sign in
    (and brought back after), others get 403."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            account: Account | None = g.get("account")
            if account is None:
                back = request.full_path if request.method == "GET" else None
                return redirect(url_for("console_auth.login", next=back))
            if not account.may(role):
                return _error_page_for(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def safe_next(target: str | None) -> str | None:
    """A place to return to after sign-in, only if it is a console page of this server."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/"):
        return None
    if "\\" in target or target.startswith("//"):
        return None
    return target


def client_address() -> str:
    """The address the request came from (through ``IVR_PROXY_HOPS`` trusted proxies)."""
    return (request.remote_addr or "")[:64]


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not (request.endpoint or "").endswith(".static"):
        # Pages hold personal data: no copy in a shared browser cache or a proxy.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


ERROR_TEXTS = {
    400: ("Форма устарела", "Обновите страницу и отправьте форму ещё раз."),
    403: ("Нет доступа", "Эта страница недоступна для вашей роли. Обратитесь к администратору."),
    404: ("Страница не найдена", "Проверьте адрес или вернитесь на главную страницу консоли."),
    405: ("Так нельзя", "Это действие выполняется кнопкой на странице."),
    413: ("Файл слишком большой", "Разделите файл на части поменьше."),
    429: ("Слишком много попыток", "Подождите немного и попробуйте снова."),
}


def _error_page_for(code: int, detail: str = "") -> tuple[str, int]:
    title, text = ERROR_TEXTS.get(code, ("Ошибка", "Что-то пошло не так."))
    page = render_template("console/error.html", code=code, title=title, text=detail or text)
    return page, code


def _error_page(error: Exception) -> tuple[str, int]:
    code = error.code if isinstance(error, HTTPException) and error.code else 500
    return _error_page_for(code)


def _csrf_refused(_error: CSRFError) -> tuple[str, int]:
    return _error_page_for(400)
