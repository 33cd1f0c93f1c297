"""Outbound callbacks and text messages, with the real twilio client against a local stub."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.store.models import Callback
from ivr.web import create_app
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    ROOT,
    Clock,
    TwilioWebhooks,
    call_params,
    make_settings,
)
from tests.support.twilio_stub import TwilioStub

SMS_FLOW = """
name: texts
lines: ["+74950000003"]
start: offer
defaults: {operator: desk}
nodes:
  offer: {kind: text_alternative, ask: true, next: desk}
  desk: {kind: queue, queue: desk}
"""


@pytest.fixture
def stub() -> Iterator[TwilioStub]:
    with TwilioStub(ACCOUNT_SID, AUTH_TOKEN) as running:
        yield running


@pytest.fixture
def sms_app(database_url: str, tmp_path: Path, clock: Clock, stub: TwilioStub) -> Iterator[Flask]:
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    (flows / "texts.yaml").write_text(SMS_FLOW, encoding="utf-8")
    settings = make_settings(
        database_url,
        tmp_path,
        flows_dir=flows,
        twilio_api_base=stub.base_url,
        sms_from="+78005553535",
    )
    app = create_app(settings, clock=clock)
    yield app
    app.extensions["ivr"].db.dispose()


@pytest.fixture
def phone(sms_app: Flask) -> TwilioWebhooks:
    return TwilioWebhooks(sms_app.test_client())


# What Twilio posts when the call the dispatcher placed is answered.
OUTBOUND = call_params(
    sid="CA" + "5" * 32, From="+78005553535", To="+79161234567", Direction="outbound-api"
)


def book(app: Flask, status: str = "booked", lang: str = "ru") -> int:
    now = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    with app.extensions["ivr"].db.transaction() as session:
        callback = Callback(
            phone="+79161234567",
            line="+78005553535",
            flow="callback",
            lang=lang,
            request_number="12345678",
            slot_start=now,
            slot_end=now,
            status=status,
            priority=0,
            attempts=1,
            next_attempt_at=now,
            last_result="",
            outbound_call_sid="CA" + "5" * 32,
            booked_call_sid="CA1",
            created_at=now,
            updated_at=now,
        )
        session.add(callback)
        session.flush()
        return callback.id


def test_the_outbound_callback_greets_with_the_request_number(
    phone: TwilioWebhooks, sms_app: Flask
) -> None:
    callback = book(sms_app, "dialing")
    body = phone.post(f"/voice/incoming?flow=callback&callback={callback}", OUTBOUND)
    text = body.get_data(as_text=True)
    assert (
        "Вы заказывали обратный звонок, номер обращения сто двадцать три, "
        "четыреста пятьдесят шесть, семьдесят восемь." in text
    )
    assert text.endswith(">callbacks</Enqueue></Response>")


def test_a_callback_booked_in_english_is_made_in_english(
    phone: TwilioWebhooks, sms_app: Flask
) -> None:
    callback = book(sms_app, "dialing", lang="en")
    body = phone.post(f"/voice/incoming?flow=callback&callback={callback}", OUTBOUND)
    text = body.get_data(as_text=True)
    assert (
        '<Say language="en-US" voice="Polly.Joanna">Hello! This is the Gosuslugi support line '
        "calling you back about your request one two three, four five six, seven eight."
    ) in text
    assert text.endswith(">english</Enqueue></Response>")


def test_outbound_status_callback_schedules_a_retry(phone: TwilioWebhooks, sms_app: Flask) -> None:
    callback = book(sms_app, "dialing")
    params = call_params(sid="CA" + "5" * 32, CallStatus="no-answer")
    assert phone.post(f"/voice/callback-status?callback={callback}", params).status_code == 204
    with sms_app.extensions["ivr"].db.sessions() as session:
        row = session.get(Callback, callback)
        assert row is not None and (row.status, row.last_result) == ("retry", "no-answer")


def test_an_answered_callback_counts_only_when_a_person_took_it(
    phone: TwilioWebhooks, sms_app: Flask
) -> None:
    sid = "CA" + "5" * 32
    params = call_params(sid=sid, From="+78005553535", To="+79161234567")
    unanswered = book(sms_app, "dialing")
    phone.post(f"/voice/incoming?flow=callback&callback={unanswered}", params)
    done = call_params(sid=sid, CallStatus="completed")
    assert phone.post(f"/voice/callback-status?callback={unanswered}", done).status_code == 204
    with sms_app.extensions["ivr"].db.sessions() as session:
        row = session.get(Callback, unanswered)
        assert row is not None and (row.status, row.last_result) == ("retry", "not-connected")


def test_a_callback_put_through_to_a_specialist_is_completed(
    phone: TwilioWebhooks, sms_app: Flask
) -> None:
    sid = "CA" + "5" * 32
    params = call_params(sid=sid, From="+78005553535", To="+79161234567")
    callback = book(sms_app, "dialing")
    phone.post(f"/voice/incoming?flow=callback&callback={callback}", params)
    phone.post("/voice/step?turn=1", {**params, "QueueResult": "bridged"})
    done = call_params(sid=sid, CallStatus="completed")
    phone.post(f"/voice/callback-status?callback={callback}", done)
    with sms_app.extensions["ivr"].db.sessions() as session:
        row = session.get(Callback, callback)
        assert row is not None and row.status == "completed"


def test_text_alternative_goes_to_a_mobile_number(phone: TwilioWebhooks, stub: TwilioStub) -> None:
    offer = phone.post("/voice/incoming", call_params(To="+74950000003"))
    assert "Чтобы получить СМС" in offer.get_data(as_text=True)
    sent = phone.post("/voice/step?turn=1", call_params(To="+74950000003", Digits="1"))
    assert "Мы отправили вам СМС." in sent.get_data(as_text=True)
    [message] = stub.messages
    assert message.field("To") == "+79161234567"
    assert message.field("From") == "+78005553535"
    assert "support@gosuslugi.ru" in message.field("Body")


def test_no_text_message_to_a_landline(phone: TwilioWebhooks, stub: TwilioStub) -> None:
    landline = "+74951234567"
    phone.post("/voice/incoming", call_params(To="+74950000003", From=landline))
    answer = phone.post(
        "/voice/step?turn=1", call_params(To="+74950000003", From=landline, Digits="1")
    )
    assert "отправить СМС не получилось" in answer.get_data(as_text=True)
    assert stub.messages == []


def test_a_voicemail_texts_its_request_number(
    phone: TwilioWebhooks, stub: TwilioStub, clock: Clock
) -> None:
    clock.set(2026, 11, 25, 22, 30)
    phone.post("/voice/incoming", call_params())
    phone.post("/voice/step?turn=1", call_params(Digits="1"))
    phone.post(
        "/voice/step?turn=2", call_params(RecordingSid="RE" + "c" * 32, RecordingDuration="9")
    )
    [message] = stub.messages
    assert message.field("To") == "+79161234567"
    body = message.field("Body")
    assert "номер обращения" in body
    assert any(len(word.strip(".")) == 8 and word.strip(".").isdigit() for word in body.split())


def test_a_voicemail_says_its_request_number_is_coming_by_sms(
    phone: TwilioWebhooks, stub: TwilioStub, clock: Clock
) -> None:
    clock.set(2026, 11, 25, 22, 30)
    phone.post("/voice/incoming", call_params())
    phone.post("/voice/step?turn=1", call_params(Digits="1"))
    saved = phone.post(
        "/voice/step?turn=2", call_params(RecordingSid="RE" + "d" * 32, RecordingDuration="9")
    )
    assert "Номер обращения придёт вам в СМС." in saved.get_data(as_text=True)


def test_a_callback_texts_its_request_number_and_says_so(
    phone: TwilioWebhooks, sms_app: Flask, stub: TwilioStub, clock: Clock
) -> None:
    clock.set(2026, 11, 25, 22, 30)  # the main line after hours: 2 books a callback
    phone.post("/voice/incoming", call_params())
    phone.post("/voice/step?turn=1", call_params(Digits="2"))
    phone.post("/voice/step?turn=2", call_params(Digits="1"))
    booked = phone.post("/voice/step?turn=3", call_params(Digits="1")).get_data(as_text=True)
    assert "Номер обращения придёт вам в СМС." in booked
    with sms_app.extensions["ivr"].db.sessions() as session:
        [callback] = session.scalars(select(Callback)).all()
    [message] = stub.messages
    assert message.field("To") == "+79161234567"
    assert message.field("Body") == (
        f"Госуслуги: обратный звонок заказан, номер обращения {callback.request_number}."
    )


def test_a_callback_to_a_landline_sends_no_text_and_promises_none(
    phone: TwilioWebhooks, stub: TwilioStub, clock: Clock
) -> None:
    clock.set(2026, 11, 25, 22, 30)
    landline = "+74951234567"
    phone.post("/voice/incoming", call_params(From=landline))
    phone.post("/voice/step?turn=1", call_params(From=landline, Digits="2"))
    phone.post("/voice/step?turn=2", call_params(From=landline, Digits="1"))
    booked = phone.post("/voice/step?turn=3", call_params(From=landline, Digits="1"))
    text = booked.get_data(as_text=True)
    assert "Готово. Мы позвоним вам" in text and "СМС" not in text
    assert stub.messages == []
