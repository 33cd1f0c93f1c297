"""Shared fixtures: settings, databases (SQLite always, PostgreSQL when configured), the app,
and a client that signs webhooks exactly as Twilio does."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from ivr.config import Settings
from ivr.domain.schedule import MOSCOW
from ivr.store.migrate import upgrade
from ivr.store.models import Voicemail
from ivr.web import create_app

ROOT = Path(__file__).resolve().parents[1]
AUTH_TOKEN = "test-auth-token"
ACCOUNT_SID = "AC" + "0" * 32
PUBLIC_URL = "https://ivr.example.test"
POSTGRES_URL = os.environ.get("IVR_TEST_DATABASE_URL", "")

# Variables for the test run itself, not settings of the app: kept.
TEST_VARIABLES = ("IVR_TEST_DATABASE_URL", "IVR_SCREENSHOT_DIR")

BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(autouse=True)
def _no_outside_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests build their settings themselves: nothing leaks in from the shell or CI."""
    for name in list(os.environ):
        if name.startswith(("IVR_", "TWILIO_")) and name not in TEST_VARIABLES:
            monkeypatch.delenv(name)
    # Set first, so that whatever a test sets it to (the gunicorn hooks do) is undone.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")


def _postgres_schema_url(schema: str) -> str:
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database: an SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/ivr.db"
        upgrade(url)
        yield url
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _postgres_schema_url(schema)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh, migrated SQLite database only (for tests that need just one backend)."""
    url = f"sqlite:///{tmp_path}/ivr.db"
    upgrade(url)
    return url


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    """Test settings over the shipped flows and prompts."""
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "public_url": PUBLIC_URL,
        "flows_dir": ROOT / "flows",
        "prompts_dir": ROOT / "prompts",
        "var_dir": tmp_path / "var",
        "recordings_dir": tmp_path / "recordings",
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "reload_interval": 0,
    }
    values.update(overrides)
    return Settings.model_validate(values)


class Clock:
    """A clock the test sets; Moscow time."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set(self, *args: int) -> None:
        """``clock.set(2026, 11, 25, 10, 0)``."""
        self.moment = datetime(*args, tzinfo=MOSCOW)  # type: ignore[misc]


@pytest.fixture
def clock() -> Clock:
    """Wednesday 25 November 2026, 10:00 Moscow time: the main line is open."""
    return Clock(datetime(2026, 11, 25, 10, 0, tzinfo=MOSCOW))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for the shipped flows on the fresh database."""
    return make_settings(database_url, tmp_path)


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Iterator[Flask]:
    """The webhook app over the shipped flows."""
    application = create_app(settings, clock=clock)
    yield application
    application.extensions["ivr"].db.dispose()


class TwilioWebhooks:
    """Posts webhooks to the app signed with ``X-Twilio-Signature`` as Twilio signs them."""

    def __init__(self, client: FlaskClient, token: str = AUTH_TOKEN) -> None:
        self.client = client
        self.validator = RequestValidator(token)

    def post(
        self, path: str, params: Mapping[str, str], signature: str | None = None
    ) -> TestResponse:
        """POST form ``params`` to ``path`` (with its query string), signed."""
        url = PUBLIC_URL + path
        sig = (
            signature
            if signature is not None
            else self.validator.compute_signature(url, dict(params))
        )
        return self.client.post(path, data=dict(params), headers={"X-Twilio-Signature": sig})


def call_params(sid: str = "CA" + "1" * 32, **fields: str) -> dict[str, str]:
    """The form fields Twilio sends for a call to the main line."""
    params = {
        "CallSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": "+79161234567",
        "To": "+78005553535",
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    params.update(fields)
    return params


@pytest.fixture
def twilio(app: Flask) -> TwilioWebhooks:
    """A signing webhook client for the app."""
    return TwilioWebhooks(app.test_client())


def voicemails(app: Flask) -> list[Voicemail]:
    """Every voicemail row the app's database holds."""
    with app.extensions["ivr"].db.sessions() as session:
        return list(session.scalars(select(Voicemail)).all())
