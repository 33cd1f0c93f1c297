"""The console in Flask's test client: accounts of each role, signed in through the real
sign-in form (CSRF token and all)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ivr.services.console import accounts

PASSWORD = "correct horse battery"
_TOKEN = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token(page: TestResponse | str) -> str:
    """The CSRF token a page's forms carry."""
    text = page if isinstance(page, str) else page.get_data(as_text=True)
    found = _TOKEN.search(text)
    assert found is not None, "the page has no CSRF token"
    return found.group(1) or found.group(2)


def add_account(app: Flask, login: str, role: str, password: str = PASSWORD) -> None:
    """Create an account in the app's database."""
    with app.extensions["ivr"].db.transaction() as session:
        accounts.create(session, login, password, role, datetime(2026, 11, 1, tzinfo=UTC))


class Console:
    """A browser-like client of the console: its cookies, and the token of the last page."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.token = ""

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        """GET a page and keep its CSRF token for the next form."""
        response = self.client.get(path, **kwargs)
        if response.mimetype == "text/html":
            text = response.get_data(as_text=True)
            if "csrf_token" in text:
                self.token = csrf_token(text)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        """POST a form with the token of the page last fetched."""
        form = {"csrf_token": self.token, **(data or {})}
        return self.client.post(path, data=form, **kwargs)

    def sign_in(self, login: str, password: str = PASSWORD) -> TestResponse:
        """Sign in through the form."""
        self.get("/console/login")
        return self.post("/console/login", {"login": login, "password": password})


@pytest.fixture
def console(app: Flask) -> Console:
    """An anonymous console client."""
    return Console(app)


def signed_in(app: Flask, role: str, login: str | None = None) -> Console:
    """A console client signed in with a new account of ``role``."""
    name = login or role
    add_account(app, name, role)
    client = Console(app)
    response = client.sign_in(name)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def operator(app: Flask) -> Console:
    """Signed in as an operator."""
    return signed_in(app, "operator")


@pytest.fixture
def supervisor(app: Flask) -> Console:
    """Signed in as a supervisor."""
    return signed_in(app, "supervisor")


@pytest.fixture
def admin(app: Flask) -> Console:
    """Signed in as an admin."""
    return signed_in(app, "admin")


def seed_voicemail(
    app: Flask,
    *,
    caller: str = "+79161234567",
    line: str = "+78005553535",
    status: str = "stored",
    seconds: int = 3,
    at: datetime | None = None,
    sid: str | None = None,
) -> tuple[int, str]:
    """A voicemail as a call leaves it (its request too), its audio on disk when stored;
    (voicemail id, request number)."""
    from ivr.services.voicemails import ensure_voicemail
    from ivr.store.call_records import CallRecord
    from ivr.store.models import Voicemail
    from tests.support.recording_host import wav_bytes

    ivr = app.extensions["ivr"]
    moment = at or ivr.clock()
    recording = sid or "RE" + uuid.uuid4().hex
    call = CallRecord("CA" + uuid.uuid4().hex, caller, line, "", 1, {}, [])
    with ivr.db.transaction() as session:
        row, _ = ensure_voicemail(session, recording, call, seconds, moment)
        row = session.get(Voicemail, row.id)
        assert row is not None
        row.status = status
        if status == "stored":
            directory = ivr.settings.recordings_dir
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"{recording}.wav"
            path.write_bytes(wav_bytes(seconds))
            row.file_path = str(path)
        return row.id, row.request_number
