"""A new call stores its flow's snapshot once per version and process, not on every call."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import delete, select

from ivr.config import Settings
from ivr.services import calls
from ivr.store.models import FlowVersion
from ivr.web import create_app
from tests.conftest import Clock, TwilioWebhooks, call_params


def stored_versions(app: Flask) -> list[str]:
    """The flow names whose snapshots the database holds."""
    with app.extensions["ivr"].db.sessions() as session:
        return list(session.scalars(select(FlowVersion.name)).all())


def forget_snapshots(app: Flask) -> None:
    """Empty the snapshot table, as a restore of an older backup could."""
    with app.extensions["ivr"].db.transaction() as session:
        session.execute(delete(FlowVersion))


def test_a_process_stores_a_version_once_and_again_after_a_while(
    twilio: TwilioWebhooks, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert twilio.post("/voice/incoming", call_params("CA" + "1" * 32)).status_code == 200
    assert stored_versions(app) == ["hotline"]
    forget_snapshots(app)

    # The process remembers it stored this version: the next call does not insert it again.
    assert twilio.post("/voice/incoming", call_params("CA" + "2" * 32)).status_code == 200
    assert stored_versions(app) == []

    # Once the memo is older than the refresh time the version is stored again.
    monkeypatch.setattr(calls, "SNAPSHOT_REFRESH_SECONDS", -1.0)
    assert twilio.post("/voice/incoming", call_params("CA" + "3" * 32)).status_code == 200
    assert stored_versions(app) == ["hotline"]


def test_another_process_stores_the_same_version_without_a_conflict(
    twilio: TwilioWebhooks, app: Flask, settings: Settings, clock: Clock
) -> None:
    assert twilio.post("/voice/incoming", call_params("CA" + "1" * 32)).status_code == 200
    other = create_app(settings, clock=clock)
    try:
        second = TwilioWebhooks(other.test_client())
        assert second.post("/voice/incoming", call_params("CA" + "2" * 32)).status_code == 200
    finally:
        other.extensions["ivr"].db.dispose()
    assert stored_versions(app) == ["hotline"]
