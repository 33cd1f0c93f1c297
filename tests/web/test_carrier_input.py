"""Malformed carrier fields through signed webhooks: no input, never a 500 or the apology.

Whatever Twilio (or anyone with a valid signature) puts in a duration, a RecordingSid, a
confidence or a query id, the webhook answers as it would to no input at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from ivr.store.models import Call, Callback
from ivr.web import create_app
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Clock,
    TwilioWebhooks,
    call_params,
    make_settings,
    voicemails,
)
from tests.support.recording_host import RecordingHost, serve, wav_bytes

SID = "RE" + "cd" * 16
HUGE = "99999999999999999999"  # beyond an SQL BIGINT
HEAD = '<?xml version="1.0" encoding="UTF-8"?><Response>'
VOICE = 'language="ru-RU" voice="Polly.Tatyana"'
APOLOGY = "Извините, у нас техническая неполадка."
TRY_AGAIN = "Сообщение не записалось. Попробуйте, пожалуйста, ещё раз после сигнала."
# Another call, asked the same question at the same moment: what "no input" is answered with.
OTHER = "CA" + "7" * 32


def say(text: str) -> str:
    return f"<Say {VOICE}>{text}</Say>"


def record(turn: int) -> str:
    """The voicemail node's <Record> of turn ``turn`` and its silence redirect."""
    return (
        f'<Record action="https://ivr.example.test/voice/step?turn={turn}" finishOnKey="#" '
        'maxLength="180" method="POST" playBeep="true" '
        'recordingStatusCallback="https://ivr.example.test/voice/recording'
        '?purpose=voicemail&amp;min=2" '
        'recordingStatusCallbackEvent="completed absent" '
        'recordingStatusCallbackMethod="POST" timeout="5" />'
        '<Redirect method="POST">'
        f"https://ivr.example.test/voice/step?turn={turn}&amp;ev=timeout</Redirect>"
    )


@pytest.fixture
def host() -> Iterator[RecordingHost]:
    with serve(RecordingHost(ACCOUNT_SID, AUTH_TOKEN, {SID: wav_bytes()})) as running:
        yield running


@pytest.fixture
def night_app(
    database_url: str, tmp_path: Path, clock: Clock, host: RecordingHost
) -> Iterator[Flask]:
    """The shipped flows at 22:30 on a weekday (the hotline is closed: voicemail is offered),
    downloading recordings from the local stand-in for Twilio."""
    clock.set(2026, 11, 25, 22, 30)
    settings = make_settings(
        database_url,
        tmp_path,
        twilio_api_base=host.base_url,
        recordings_dir=tmp_path / "recordings",
    )
    application = create_app(settings, clock=clock)
    yield application
    application.extensions["ivr"].db.dispose()


@pytest.fixture
def phone(night_app: Flask) -> TwilioWebhooks:
    return TwilioWebhooks(night_app.test_client())


def to_the_record_node(phone: TwilioWebhooks, sid: str = call_params()["CallSid"]) -> None:
    """A call after hours that chose to leave a message: turn 2 is the <Record>."""
    phone.post("/voice/incoming", call_params(sid))
    body = phone.post("/voice/step?turn=1", call_params(sid, Digits="1")).get_data(as_text=True)
    assert "<Record " in body and "<Enqueue" not in body


# -- (a) the recording status callback ---------------------------------------------------


@pytest.mark.parametrize("duration", ["abc", "1.5", "NaN", HUGE, "-3", " "])
def test_a_status_callback_with_a_malformed_duration_keeps_the_voicemail(
    phone: TwilioWebhooks, night_app: Flask, caplog: pytest.LogCaptureFixture, duration: str
) -> None:
    phone.post("/voice/incoming", call_params())
    params = call_params(RecordingSid=SID, RecordingStatus="completed", RecordingDuration=duration)
    # Delivered twice, as Twilio does when it is unsure the first one arrived.
    first = phone.post("/voice/recording?purpose=voicemail&min=2", params)
    again = phone.post("/voice/recording?purpose=voicemail&min=2", params)
    assert (first.status_code, again.status_code) == (204, 204)
    [voicemail] = voicemails(night_app)
    assert voicemail.recording_sid == SID
    assert voicemail.call_sid == call_params()["CallSid"]
    assert voicemail.caller == "+79161234567"
    assert voicemail.duration == 0  # of unknown length: kept, never judged too short
    assert voicemail.status == "stored"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("duration", ["abc", "1.5", "NaN", HUGE])
def test_a_malformed_duration_after_the_action_keeps_the_length_the_action_told(
    phone: TwilioWebhooks, night_app: Flask, duration: str
) -> None:
    to_the_record_node(phone)
    saved = phone.post(
        "/voice/step?turn=2", call_params(RecordingSid=SID, RecordingDuration="12")
    ).get_data(as_text=True)
    assert "Спасибо, ваше сообщение сохранено. Номер обращения:" in saved
    params = call_params(RecordingSid=SID, RecordingStatus="completed", RecordingDuration=duration)
    assert phone.post("/voice/recording?purpose=voicemail&min=2", params).status_code == 204
    [voicemail] = voicemails(night_app)
    assert (voicemail.duration, voicemail.status) == (12, "stored")


# -- (b) ids in the query string -----------------------------------------------------------


def book(app: Flask) -> int:
    """A callback the dispatcher is dialling now."""
    now = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    with app.extensions["ivr"].db.transaction() as session:
        callback = Callback(
            phone="+79161234567",
            line="+78005553535",
            flow="callback",
            lang="ru",
            request_number="12345678",
            slot_start=now,
            slot_end=now,
            status="dialing",
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


def booking(app: Flask, callback_id: int) -> tuple[str, int, str]:
    with app.extensions["ivr"].db.sessions() as session:
        callback = session.get(Callback, callback_id)
        assert callback is not None
        return callback.status, callback.attempts, callback.last_result


@pytest.mark.parametrize("callback", [HUGE, "abc", "-1", "0", "1.5", ""])
@pytest.mark.parametrize("status", ["no-answer", "completed", "busy"])
def test_callback_status_with_a_malformed_id_is_answered_and_changes_nothing(
    twilio: TwilioWebhooks,
    app: Flask,
    caplog: pytest.LogCaptureFixture,
    callback: str,
    status: str,
) -> None:
    booked = book(app)
    before = booking(app, booked)
    params = call_params(sid="CA" + "5" * 32, CallStatus=status, Direction="outbound-api")
    response = twilio.post(f"/voice/callback-status?callback={callback}", params)
    assert response.status_code == 204
    assert response.get_data(as_text=True) == ""
    assert booking(app, booked) == before
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("callback", [HUGE, "abc", "-1", "0"])
def test_an_outbound_call_with_a_malformed_callback_id_is_a_normal_call(
    twilio: TwilioWebhooks, app: Flask, callback: str
) -> None:
    outbound = {"To": "+79161234567", "From": "+78005553535", "Direction": "outbound-api"}
    plain = twilio.post("/voice/incoming?flow=callback", call_params(OTHER, **outbound))
    response = twilio.post(
        f"/voice/incoming?flow=callback&callback={callback}", call_params(**outbound)
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert APOLOGY not in body
    assert body == plain.get_data(as_text=True)
    assert body == (
        HEAD
        + say(
            "Здравствуйте! Вам звонит служба поддержки Госуслуг. Вы заказывали обратный звонок, "
            "номер обращения ."
        )
        + say("Разговор записывается, чтобы мы могли улучшать качество помощи.")
        + say(
            "Помните: наши сотрудники никогда не спрашивают пароли и коды из СМС. "
            "Никому их не сообщайте."
        )
        + say("Соединяю вас со специалистом. Пожалуйста, оставайтесь на линии.")
        + '<Enqueue action="https://ivr.example.test/voice/step?turn=1" method="POST" '
        'waitUrl="https://ivr.example.test/voice/queue/wait" '
        'waitUrlMethod="POST">callbacks</Enqueue></Response>'
    )
    with app.extensions["ivr"].db.sessions() as session:
        call = session.get(Call, call_params()["CallSid"])
        assert call is not None and call.flow == "callback"


# -- (c) a <Record> action with malformed fields ------------------------------------------


@pytest.mark.parametrize(
    ("recording_sid", "duration"),
    [
        ("RE12", "12"),
        ("RE" + "G" * 32, "12"),
        ("RE../../../etc/passwd", "12"),
        ("http://evil.example/x", "12"),
        ("", "12"),  # a RecordingUrl and no RecordingSid
        (SID, HUGE),
        (SID, "abc"),
        (SID, "1.5"),
        (SID, "NaN"),
        (SID, "-3"),
    ],
)
def test_a_record_action_with_malformed_fields_is_no_input(
    phone: TwilioWebhooks, night_app: Flask, recording_sid: str, duration: str
) -> None:
    to_the_record_node(phone)
    to_the_record_node(phone, OTHER)
    silence = phone.post("/voice/step?turn=2&ev=timeout", call_params(OTHER))
    fields = call_params(
        RecordingSid=recording_sid,
        RecordingUrl="https://api.twilio.com/x",
        RecordingDuration=duration,
        Digits="#",
    )
    response = phone.post("/voice/step?turn=2", fields)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert APOLOGY not in body and "<Enqueue" not in body
    # Asked again, exactly as after silence at the beep.
    assert body == silence.get_data(as_text=True)
    assert voicemails(night_app) == []
    assert body == HEAD + say(TRY_AGAIN) + record(3) + "</Response>"
    # The call goes on: the next recording is saved.
    saved = phone.post(
        "/voice/step?turn=3", call_params(RecordingSid=SID, RecordingDuration="12")
    ).get_data(as_text=True)
    assert "Спасибо, ваше сообщение сохранено. Номер обращения:" in saved
    assert [v.recording_sid for v in voicemails(night_app)] == [SID]


# -- (d) speech of a confidence that is not a number --------------------------------------


@pytest.mark.parametrize("confidence", ["junk", "NaN", "0,93", "inf", "-1", "1.5", ""])
def test_speech_with_a_malformed_confidence_is_heard_as_speech(
    twilio: TwilioWebhooks, app: Flask, confidence: str
) -> None:
    twilio.post("/voice/incoming", call_params())
    twilio.post("/voice/incoming", call_params(OTHER))
    speech = {"SpeechResult": "У меня техническая проблема"}
    sure = twilio.post("/voice/step?turn=1", call_params(OTHER, Confidence="0.93", **speech))
    response = twilio.post("/voice/step?turn=1", call_params(Confidence=confidence, **speech))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert APOLOGY not in body and "<Enqueue" not in body
    assert "Технические проблемы. Не получается войти на портал — нажмите 1." in body
    assert body == sure.get_data(as_text=True)
    with app.extensions["ivr"].db.sessions() as session:
        call = session.get(Call, call_params()["CallSid"])
        assert call is not None
        assert call.path[-1] == "tech_menu"
        assert [i["kind"] for i in call.inputs] == ["speech"]
