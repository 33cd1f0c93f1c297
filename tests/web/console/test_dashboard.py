"""The live dashboard: calls and queues now, what waits for people, errors of the last hour."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from ivr.services.calls import CallService
from tests.conftest import Clock, TwilioWebhooks, call_params
from tests.web.console.conftest import Console, seed_voicemail
from tests.web.console.test_callbacks import _beat, seed_callback


def _figure(page: str, label: str) -> str:
    head = page.split(f'<div class="label">{label}', 1)[0]
    return head.rsplit('<div class="figure">', 1)[1].split("</div>", 1)[0]


def test_calls_in_progress_and_who_waits_in_which_queue(
    app: Flask, supervisor: Console, clock: Clock
) -> None:
    webhooks = TwilioWebhooks(app.test_client())
    waiting = call_params("CA" + "a" * 32)
    webhooks.post("/voice/incoming", waiting)
    webhooks.post("/voice/step?turn=1", {**waiting, "Digits": "1"})
    webhooks.post("/voice/step?turn=2", {**waiting, "Digits": "2"})  # the tech queue
    clock.moment += timedelta(minutes=2)
    in_menu = call_params("CA" + "b" * 32, From="+79035550101")
    webhooks.post("/voice/incoming", in_menu)
    ended = call_params("CA" + "c" * 32)
    webhooks.post("/voice/incoming", ended)
    webhooks.post("/voice/status", {**ended, "CallStatus": "completed", "CallDuration": "5"})
    clock.moment += timedelta(seconds=30)
    page = supervisor.get("/console/dashboard/").get_data(as_text=True)
    assert _figure(page, "звонков сейчас") == "2"
    assert _figure(page, "ждут специалиста") == "1"
    assert _figure(page, "звонков за сегодня") == "3"
    queues = page.split("<h2>Очереди</h2>", 1)[1].split("</section>", 1)[0]
    assert '<td class="mono">tech</td><td>1</td><td>2 мин 30 с</td>' in queues
    assert 'data-refresh="10"' in page


def test_what_waits_for_people(app: Flask, supervisor: Console, clock: Clock) -> None:
    from datetime import datetime

    from ivr.domain.schedule import MOSCOW

    seed_voicemail(app)
    seed_voicemail(app, status="absent")
    seed_callback(app, datetime(2026, 11, 25, 10, 30, tzinfo=MOSCOW))
    seed_callback(app, datetime(2026, 11, 25, 12, 0, tzinfo=MOSCOW), "+79035550101")
    seed_callback(app, datetime(2026, 11, 25, 9, 45, tzinfo=MOSCOW), "+79035550102")
    _beat(app, "host:1", clock.moment)
    page = supervisor.get("/console/dashboard/").get_data(as_text=True)
    assert _figure(page, "необработанных сообщений") == "1"
    assert _figure(page, "обратных звонков в ближайший час") == "1"
    assert _figure(page, "звонков ждут набора") == "1"
    assert _figure(page, "ошибок за последний час") == "0"
    assert "Последний проход" in page


def test_a_failed_webhook_is_counted_for_an_hour(
    app: Flask, supervisor: Console, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> str:
        raise RuntimeError("the engine broke")

    monkeypatch.setattr(CallService, "incoming", broken)
    sid = "CA" + "d" * 32
    response = TwilioWebhooks(app.test_client()).post("/voice/incoming", call_params(sid))
    # The caller still hears the fallback, whatever the dashboard keeps.
    assert "<Enqueue>general</Enqueue>" in response.get_data(as_text=True)
    page = supervisor.get("/console/dashboard/").get_data(as_text=True)
    assert _figure(page, "ошибок за последний час") == "1"
    errors = page.split("Последние ошибки", 1)[1]
    assert "/voice/incoming" in errors and "RuntimeError" in errors and sid[:12] in errors
    clock.moment += timedelta(minutes=61)
    later = supervisor.get("/console/dashboard/").get_data(as_text=True)
    assert _figure(later, "ошибок за последний час") == "0"


def test_a_failure_that_cannot_be_recorded_still_gets_the_fallback(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ivr.store.db import Database

    def broken(*_args: object, **_kwargs: object) -> str:
        raise RuntimeError("the engine broke")

    def no_database(*_args: object, **_kwargs: object) -> object:
        raise OSError("the database is gone")

    monkeypatch.setattr(CallService, "incoming", broken)
    monkeypatch.setattr(Database, "transaction", no_database)
    response = TwilioWebhooks(app.test_client()).post("/voice/incoming", call_params())
    assert response.status_code == 200
    assert "<Enqueue>general</Enqueue>" in response.get_data(as_text=True)
