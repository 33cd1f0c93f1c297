"""The supervisor console: server-rendered pages for the people who work the hotline.

``init_console(app, settings)`` signs the app's sessions (``IVR_SECRET_KEY``; development and
test generate a key of their own under ``IVR_VAR_DIR``, shared by the server's workers), sets
the session cookie's flags, turns on CSRF checks for the console's forms (the webhooks, signed
by Twilio, carry no cookie and no token) and registers one blueprint per group of pages.
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr.config import ConfigError, Settings
from ivr.web.console import display
from ivr.web.console.base import csrf

SESSION_HOURS = 12
DEVELOPMENT_KEY_FILE = "console-secret-key"
# A CSV of request statuses from the back office may be larger than any webhook.
MAX_IMPORT_BYTES = 10 * 1024 * 1024


def secret_key(settings: Settings) -> str:
    """``IVR_SECRET_KEY``; outside production, when unset, a random key kept in
    ``IVR_VAR_DIR`` so that every worker of the server signs with the same one."""
    if settings.secret_key:
        return settings.secret_key
    if settings.is_production:
        raise ConfigError("IVR_SECRET_KEY is not set: the console cannot sign its sessions")
    path = settings.var_dir / DEVELOPMENT_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    key = secrets.token_hex(32)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def _read_key(path: Path) -> str:
    # Another worker may have created the file a moment ago and not yet written it.
    for _ in range(50):
        key = path.read_text(encoding="ascii").strip()
        if key:
            return key
        time.sleep(0.02)
    raise ConfigError(f"{path} is empty: delete it and start the server again")


def init_console(app: Flask, settings: Settings) -> None:
    """Add the console to the app."""
    app.secret_key = secret_key(settings)
    secure = settings.cookies_secure
    app.config.update(
        # A __Host- cookie is only ever sent over HTTPS, to this host, for the whole site.
        SESSION_COOKIE_NAME="__Host-ivr_console" if secure else "ivr_console",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        # Checked by the console's blueprints, not on every route: webhooks carry no token.
        WTF_CSRF_CHECK_DEFAULT=False,
        # A token lives as long as the session: a dashboard left open all shift still works.
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf.init_app(app)
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
    display.register(app)

    from ivr.web.console import (
        audit,
        auth,
        callbacks,
        calls,
        dashboard,
        flows,
        requests,
        voicemails,
    )

    for module in (auth, dashboard, voicemails, callbacks, requests, calls, flows, audit):
        app.register_blueprint(module.blueprint)
