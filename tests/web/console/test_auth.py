"""Sign-in, sessions, roles and CSRF: every console page refuses the anonymous (a redirect to
sign in) and the under-privileged (403); every form needs its token; failed attempts are
limited per account and per address, in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from ivr.services.console import accounts
from tests.conftest import Clock, make_settings
from tests.web.console.conftest import PASSWORD, Console, add_account, signed_in

# Every console page, by the least role that may open it (GET), with an id that exists or not.
PAGES = {
    "/console/": "operator",
    "/console/voicemails/": "operator",
    "/console/voicemails/1/audio": "operator",
    "/console/callbacks/": "operator",
    "/console/requests/": "operator",
    "/console/dashboard/": "supervisor",
    "/console/calls/": "supervisor",
    "/console/calls/CA0000": "supervisor",
    "/console/audit/": "supervisor",
    "/console/flows/": "admin",
    "/console/flows/hotline": "admin",
    "/console/flows/hotline/diagram.svg": "admin",
}
# Every console action (POST), by the least role that may do it.
ACTIONS = {
    "/console/logout": "operator",
    "/console/voicemails/1/handled": "operator",
    "/console/voicemails/1/callback": "operator",
    "/console/callbacks/1/reschedule": "operator",
    "/console/callbacks/1/cancel": "operator",
    "/console/callbacks/1/done": "operator",
    "/console/requests/import": "supervisor",
}
ROLES = ("operator", "supervisor", "admin")


def test_every_console_route_is_listed_here(app: Flask) -> None:
    """A new page must join the tables above (and so their anonymous and role tests)."""
    routes = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/console") and not rule.endpoint.endswith(".static")
        for method in rule.methods or ()
        if method in ("GET", "POST")
    }
    listed = {("/console/login", "GET"), ("/console/login", "POST")}
    shapes = {
        "/console/voicemails/1/audio": "/console/voicemails/<int:voicemail_id>/audio",
        "/console/calls/CA0000": "/console/calls/<sid>",
        "/console/flows/hotline": "/console/flows/<name>",
        "/console/flows/hotline/diagram.svg": "/console/flows/<name>/diagram.svg",
        "/console/voicemails/1/handled": "/console/voicemails/<int:voicemail_id>/handled",
        "/console/voicemails/1/callback": "/console/voicemails/<int:voicemail_id>/callback",
        "/console/callbacks/1/reschedule": "/console/callbacks/<int:callback_id>/reschedule",
        "/console/callbacks/1/cancel": "/console/callbacks/<int:callback_id>/cancel",
        "/console/callbacks/1/done": "/console/callbacks/<int:callback_id>/done",
    }
    listed |= {(shapes.get(p, p), "GET") for p in PAGES}
    listed |= {(shapes.get(p, p), "POST") for p in ACTIONS}
    assert routes == listed


@pytest.mark.parametrize("path", sorted(PAGES))
def test_the_anonymous_are_sent_to_sign_in(console: Console, path: str) -> None:
    response = console.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login?next=")


@pytest.mark.parametrize("path", sorted(ACTIONS))
def test_an_anonymous_action_with_a_token_is_refused(console: Console, path: str) -> None:
    console.get("/console/login")  # a real token: the refusal is for want of an account
    response = console.post(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/login"


@pytest.mark.parametrize(("path", "needed"), sorted(PAGES.items()))
def test_a_page_refuses_the_roles_below_it(app: Flask, path: str, needed: str) -> None:
    for role in ROLES[: ROLES.index(needed)]:
        client = signed_in(app, role, f"{role}-{abs(hash(path)) % 10_000}")
        response = client.get(path)
        assert response.status_code == 403, (role, path)
        assert "Нет доступа" in response.get_data(as_text=True)


@pytest.mark.parametrize(("path", "needed"), sorted(PAGES.items()))
def test_a_page_opens_for_its_role(app: Flask, path: str, needed: str) -> None:
    client = signed_in(app, needed)
    response = client.get(path)
    # Ids that do not exist are 404 (no voicemail 1, no call CA0000); never 403 or 302.
    assert response.status_code in (200, 302, 404), response.status_code
    assert response.status_code != 302 or path == "/console/"


def test_the_import_refuses_an_operator(operator: Console) -> None:
    operator.get("/console/requests/")
    assert operator.post("/console/requests/import").status_code == 403


@pytest.mark.parametrize("path", sorted(ACTIONS))
def test_every_form_is_refused_without_its_csrf_token(operator: Console, path: str) -> None:
    response = operator.client.post(path, data={"note": "x"})
    assert response.status_code == 400
    assert "Форма устарела" in response.get_data(as_text=True)
    forged = operator.client.post(path, data={"csrf_token": "forged", "note": "x"})
    assert forged.status_code == 400


def test_sign_in_itself_needs_the_token(app: Flask, console: Console) -> None:
    add_account(app, "anna", "operator")
    response = console.client.post("/console/login", data={"login": "anna", "password": PASSWORD})
    assert response.status_code == 400
    assert console.get("/console/voicemails/").status_code == 302


def test_sign_in_and_out(app: Flask, console: Console) -> None:
    add_account(app, "anna", "operator")
    response = console.sign_in("anna")
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/voicemails/"
    assert console.get("/console/voicemails/").status_code == 200
    console.get("/console/voicemails/")
    out = console.post("/console/logout")
    assert out.headers["Location"] == "/console/login"
    assert console.get("/console/voicemails/").status_code == 302


def test_a_supervisor_lands_on_the_dashboard_and_returns_where_they_were_going(
    app: Flask, console: Console
) -> None:
    add_account(app, "olga", "supervisor")
    assert console.sign_in("olga").headers["Location"] == "/console/dashboard/"
    other = Console(app)
    other.get("/console/login?next=/console/calls/?day=2026-11-25")
    response = other.post(
        "/console/login",
        {"login": "olga", "password": PASSWORD, "next": "/console/calls/?day=2026-11-25"},
    )
    assert response.headers["Location"] == "/console/calls/?day=2026-11-25"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/console/", "/voice/incoming", "/\\evil"]
)
def test_sign_in_never_sends_anyone_off_the_console(
    app: Flask, console: Console, target: str
) -> None:
    add_account(app, "anna", "operator")
    console.get("/console/login")
    response = console.post(
        "/console/login", {"login": "anna", "password": PASSWORD, "next": target}
    )
    assert response.headers["Location"] == "/console/voicemails/"


def test_a_wrong_password_and_an_unknown_login_are_refused_alike(
    app: Flask, console: Console
) -> None:
    add_account(app, "anna", "operator")
    console.get("/console/login")
    wrong = console.post("/console/login", {"login": "anna", "password": "wrong password"})
    unknown = console.post("/console/login", {"login": "nobody", "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 401
    error = "Неверный логин или пароль (или учётная запись отключена)."
    assert error in wrong.get_data(as_text=True)
    assert error in unknown.get_data(as_text=True)


def test_a_disabled_account_cannot_sign_in_and_its_session_ends(app: Flask, clock: Clock) -> None:
    client = signed_in(app, "operator", "anna")
    assert client.get("/console/voicemails/").status_code == 200
    clock.moment += timedelta(minutes=1)
    with app.extensions["ivr"].db.transaction() as session:
        accounts.set_active(session, "anna", False, clock.moment)
    assert client.get("/console/voicemails/").status_code == 302
    again = Console(app)
    assert again.sign_in("anna").status_code == 401


def test_a_new_password_ends_the_sessions_signed_in_before_it(app: Flask, clock: Clock) -> None:
    client = signed_in(app, "operator", "anna")
    clock.moment += timedelta(minutes=1)
    with app.extensions["ivr"].db.transaction() as session:
        accounts.set_password(session, "anna", "another long password", clock.moment)
    assert client.get("/console/voicemails/").status_code == 302
    assert Console(app).sign_in("anna", "another long password").status_code == 302


def test_failed_attempts_lock_the_account_for_a_while(app: Flask, clock: Clock) -> None:
    add_account(app, "anna", "operator")
    client = Console(app)
    for _ in range(5):
        assert client.sign_in("anna", "wrong password").status_code == 401
    # Even the right password is not checked now.
    limited = client.sign_in("anna")
    assert limited.status_code == 429
    assert "Попробуйте снова через 15 мин." in limited.get_data(as_text=True)
    clock.moment += timedelta(minutes=16)
    assert client.sign_in("anna").status_code == 302


def test_a_success_clears_the_account_count(app: Flask) -> None:
    add_account(app, "anna", "operator")
    client = Console(app)
    for _ in range(4):
        client.sign_in("anna", "wrong password")
    assert client.sign_in("anna").status_code == 302
    fresh = Console(app)
    for _ in range(4):
        assert fresh.sign_in("anna", "wrong password").status_code == 401
    assert fresh.sign_in("anna").status_code == 302


def test_an_address_trying_many_logins_is_limited(app: Flask) -> None:
    add_account(app, "anna", "operator")
    client = Console(app)
    for index in range(20):
        assert client.sign_in(f"guess{index}", "wrong password").status_code == 401
    assert client.sign_in("anna").status_code == 429


def test_the_limit_is_shared_by_every_worker_through_the_database(app: Flask, clock: Clock) -> None:
    from ivr.web import create_app

    add_account(app, "anna", "operator")
    second = create_app(app.extensions["ivr"].settings, clock=clock)
    try:
        for _ in range(3):
            Console(app).sign_in("anna", "wrong password")
        for _ in range(2):
            Console(second).sign_in("anna", "wrong password")
        assert Console(app).sign_in("anna").status_code == 429
        assert Console(second).sign_in("anna").status_code == 429
    finally:
        second.extensions["ivr"].db.dispose()


def test_attempts_and_sign_ins_are_in_the_audit_log(app: Flask, clock: Clock) -> None:
    add_account(app, "anna", "operator")
    Console(app).sign_in("anna", "wrong password")
    supervisor = signed_in(app, "supervisor", "olga")
    page = supervisor.get("/console/audit/").get_data(as_text=True)
    assert "неудачный вход" in page
    assert page.count("<td>вход</td>") == 1


def test_the_session_cookie_is_http_only_and_same_site_lax(app: Flask) -> None:
    add_account(app, "anna", "operator")
    client = Console(app)
    response = client.sign_in("anna")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("ivr_console=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    # A test server is plain HTTP on 127.0.0.1: not Secure unless asked.
    assert "Secure" not in cookie


def test_secure_cookies_use_a_host_only_secure_cookie(
    database_url: str, tmp_path: object, clock: Clock
) -> None:
    from pathlib import Path

    from ivr.web import create_app

    secure = create_app(
        make_settings(database_url, Path(str(tmp_path)), secure_cookies=True), clock=clock
    )
    try:
        add_account(secure, "anna", "operator")
        client = Console(secure)
        client.client.get("/console/login", base_url="https://ivr.example.test")
        page = client.client.get("/console/login", base_url="https://ivr.example.test")
        from tests.web.console.conftest import csrf_token

        response = client.client.post(
            "/console/login",
            data={"csrf_token": csrf_token(page), "login": "anna", "password": PASSWORD},
            base_url="https://ivr.example.test",
            headers={"Referer": "https://ivr.example.test/console/login"},
        )
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("__Host-ivr_console=")
        assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
    finally:
        secure.extensions["ivr"].db.dispose()


def test_pages_carry_security_headers(operator: Console) -> None:
    response = operator.get("/console/voicemails/")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_webhooks_are_not_asked_for_a_csrf_token(app: Flask) -> None:
    from tests.conftest import TwilioWebhooks, call_params

    response = TwilioWebhooks(app.test_client()).post("/voice/incoming", call_params())
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_a_development_server_keeps_one_generated_key_for_all_its_workers(
    database_url: str, tmp_path: object, clock: Clock
) -> None:
    from pathlib import Path

    from ivr.web import create_app

    settings = make_settings(database_url, Path(str(tmp_path)), environment="development")
    first, second = create_app(settings, clock=clock), create_app(settings, clock=clock)
    try:
        assert first.secret_key == second.secret_key
        assert len(str(first.secret_key)) == 64
        key_file = Path(str(tmp_path)) / "var" / "console-secret-key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        # Signed in on one worker, the next request may reach the other.
        add_account(first, "anna", "operator")
        client = Console(first)
        client.sign_in("anna")
        cookie = client.client.get_cookie("ivr_console")
        assert cookie is not None
        other = second.test_client()
        other.set_cookie("ivr_console", cookie.value)
        assert other.get("/console/voicemails/").status_code == 200
    finally:
        first.extensions["ivr"].db.dispose()
        second.extensions["ivr"].db.dispose()


def test_production_refuses_to_start_without_a_secret_key(
    database_url: str, tmp_path: object
) -> None:
    from pathlib import Path

    from ivr.config import ConfigError
    from ivr.web import create_app

    settings = make_settings(database_url, Path(str(tmp_path)), environment="production")
    with pytest.raises(ConfigError, match="IVR_SECRET_KEY"):
        create_app(settings)
