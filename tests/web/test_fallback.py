"""Failure answers by route: whatever fails inside a webhook, the caller hears TwiML that is
valid where it is used and never a queue nobody staffs.

A failure is forced by making the ``CallService`` method behind the route raise: it stands
for anything inside failing (the database, the flow, a bug)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.domain.spoken import digits_in_groups
from ivr.store.models import Request
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

SID = "RE" + "0123456789abcdef" * 2
HEAD = '<?xml version="1.0" encoding="UTF-8"?><Response>'
VOICE = 'language="ru-RU" voice="Polly.Tatyana"'


def say(text: str) -> str:
    return f"<Say {VOICE}>{text}</Say>"


APOLOGY = say(
    "Извините, у нас техническая неполадка. Соединяю вас со специалистом, "
    "пожалуйста, оставайтесь на линии."
)
OPEN_ANSWER = HEAD + APOLOGY + "<Enqueue>general</Enqueue></Response>"
CHANNELS = say(
    "Написать нам можно в чате на портале Госуслуги или в мобильном приложении, "
    "чат работает круглосуточно. Спасибо за звонок. До свидания!"
)
NOT_RECORDED = say("Сообщение не записалось.")
CLOSED_ANSWER = (
    HEAD
    + say(
        "Извините, у нас техническая неполадка, а специалисты сейчас не работают. "
        "Вы можете оставить голосовое сообщение: расскажите о вашем вопросе после сигнала "
        "и нажмите решётку. Мы перезвоним в рабочее время."
    )
    + '<Record action="https://ivr.example.test/voice/fallback/recorded" finishOnKey="#" '
    'maxLength="180" method="POST" playBeep="true" '
    'recordingStatusCallback="https://ivr.example.test/voice/recording'
    '?purpose=voicemail&amp;min=1" '
    'recordingStatusCallbackEvent="completed absent" '
    'recordingStatusCallbackMethod="POST" timeout="5" />'
    + NOT_RECORDED
    + CHANNELS
    + "<Hangup /></Response>"
)
QUEUE_ANSWER = (
    HEAD
    + say("Пожалуйста, оставайтесь на линии: вам обязательно ответят.")
    + '<Pause length="20" /></Response>'
)
OUTBOUND = {"From": "+78005553535", "To": "+79161234567", "Direction": "outbound-api"}


@pytest.fixture
def host() -> Iterator[RecordingHost]:
    with serve(RecordingHost(ACCOUNT_SID, AUTH_TOKEN, {SID: wav_bytes()})) as running:
        yield running


@pytest.fixture
def broken_app(
    database_url: str, tmp_path: Path, clock: Clock, host: RecordingHost
) -> Iterator[Flask]:
    """The shipped flows, recordings downloaded from the local stand-in for Twilio."""
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
def phone(broken_app: Flask) -> TwilioWebhooks:
    return TwilioWebhooks(broken_app.test_client())


def break_calls(app: Flask, monkeypatch: pytest.MonkeyPatch, *methods: str) -> None:
    """Make these methods of the app's ``CallService`` fail."""

    def fail(*args: object, **kwargs: object) -> str:
        raise RuntimeError("something inside failed")

    for method in methods:
        monkeypatch.setattr(app.extensions["ivr"].calls, method, fail)


def night(clock: Clock) -> None:
    """22:30 on a Wednesday: the hotline (08:00-20:00 on weekdays) is closed."""
    clock.set(2026, 11, 25, 22, 30)


def body(phone: TwilioWebhooks, path: str, params: dict[str, str]) -> str:
    response = phone.post(path, params)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    return response.get_data(as_text=True)


# -- inside a queue's wait URL: no <Enqueue> ---------------------------------------------


@pytest.mark.parametrize("at_night", [False, True])
def test_a_failure_in_the_wait_music_keeps_the_caller_in_the_queue(
    phone: TwilioWebhooks,
    broken_app: Flask,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    at_night: bool,
) -> None:
    phone.post("/voice/incoming", call_params())
    phone.post("/voice/step?turn=1", call_params(Digits="0"))  # to a person: in a queue now
    if at_night:
        night(clock)
    break_calls(broken_app, monkeypatch, "queue_wait", "queue_key")
    wait = body(phone, "/voice/queue/wait", call_params(QueueTime="30", QueuePosition="2"))
    key = body(phone, "/voice/queue/key?waited=45", call_params(Digits="1", QueueTime="50"))
    assert "<Enqueue" not in wait and "<Enqueue" not in key
    assert "<Record" not in wait and "<Record" not in key
    assert wait == QUEUE_ANSWER
    assert key == QUEUE_ANSWER


# -- a call's own turn while the line is open: a person ------------------------------------


def test_a_failed_first_turn_while_open_goes_to_a_person(
    phone: TwilioWebhooks, broken_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_calls(broken_app, monkeypatch, "incoming")
    assert body(phone, "/voice/incoming", call_params()) == OPEN_ANSWER


def test_a_failed_turn_while_open_goes_to_a_person(
    phone: TwilioWebhooks, broken_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone.post("/voice/incoming", call_params())
    break_calls(broken_app, monkeypatch, "step")
    assert body(phone, "/voice/step?turn=1", call_params(Digits="1")) == OPEN_ANSWER
    assert body(phone, "/voice/step?turn=1&ev=timeout", call_params()) == OPEN_ANSWER


@pytest.mark.parametrize("at_night", [False, True])
def test_a_failed_outbound_call_goes_to_a_person_at_any_hour(
    phone: TwilioWebhooks,
    broken_app: Flask,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    at_night: bool,
) -> None:
    """The dispatcher dials only while specialists work, whatever the clock says now."""
    if at_night:
        night(clock)
    break_calls(broken_app, monkeypatch, "incoming", "step")
    outbound = call_params(**OUTBOUND)
    assert body(phone, "/voice/incoming?flow=callback&callback=1", outbound) == OPEN_ANSWER
    assert body(phone, "/voice/step?turn=1", outbound) == OPEN_ANSWER


# -- the same after hours: a voice message and the channels, no queue ---------------------


def test_a_failed_first_turn_after_hours_offers_a_voice_message(
    phone: TwilioWebhooks, broken_app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    night(clock)
    break_calls(broken_app, monkeypatch, "incoming")
    answer = body(phone, "/voice/incoming", call_params())
    assert "<Enqueue" not in answer
    assert answer == CLOSED_ANSWER


def test_a_failed_turn_after_hours_offers_a_voice_message(
    phone: TwilioWebhooks, broken_app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    night(clock)
    phone.post("/voice/incoming", call_params())
    break_calls(broken_app, monkeypatch, "step")
    answer = body(phone, "/voice/step?turn=1", call_params(Digits="2"))
    assert "<Enqueue" not in answer
    assert answer == CLOSED_ANSWER


def test_a_holiday_is_after_hours_too(
    phone: TwilioWebhooks, broken_app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1 January 2027 at 15:00: a Friday, but a public holiday (open 08:00-14:00)."""
    clock.set(2027, 1, 1, 15, 0)
    break_calls(broken_app, monkeypatch, "incoming")
    assert body(phone, "/voice/incoming", call_params()) == CLOSED_ANSWER


def test_when_the_hours_cannot_be_told_the_answer_is_the_after_hours_one(
    phone: TwilioWebhooks, broken_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 10:00 the line is open, but the flows themselves fail: nobody can promise that a
    person answers, so no queue either."""
    break_calls(broken_app, monkeypatch, "incoming")

    def no_flows() -> object:
        raise RuntimeError("the flows cannot be read")

    monkeypatch.setattr(broken_app.extensions["ivr"].registry, "current", no_flows)
    assert body(phone, "/voice/incoming", call_params()) == CLOSED_ANSWER


def test_a_failure_on_an_unknown_line_is_the_after_hours_answer(
    phone: TwilioWebhooks, broken_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_calls(broken_app, monkeypatch, "incoming")
    assert body(phone, "/voice/incoming", call_params(To="+74950000000")) == CLOSED_ANSWER


# -- the voice message recorded after a failure ------------------------------------------


def saved_answer(number: str) -> str:
    return (
        HEAD
        + say(f"Спасибо, ваше сообщение сохранено. Номер обращения: {digits_in_groups(number)}.")
        + CHANNELS
        + "<Hangup /></Response>"
    )


def test_the_message_is_saved_once_and_its_number_told(
    phone: TwilioWebhooks, broken_app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    night(clock)
    phone.post("/voice/incoming", call_params())
    break_calls(broken_app, monkeypatch, "step")
    assert body(phone, "/voice/step?turn=1", call_params(Digits="2")) == CLOSED_ANSWER
    fields = call_params(
        RecordingSid=SID,
        RecordingUrl="https://api.twilio.com/x",
        RecordingDuration="7",
        Digits="#",
    )
    first = body(phone, "/voice/fallback/recorded", fields)
    again = body(phone, "/voice/fallback/recorded", fields)  # Twilio delivered it twice
    [voicemail] = voicemails(broken_app)
    assert first == again == saved_answer(voicemail.request_number)
    assert voicemail.request_number not in first  # read in groups, not as one number
    assert (voicemail.recording_sid, voicemail.duration, voicemail.status) == (SID, 7, "pending")
    assert (voicemail.call_sid, voicemail.caller, voicemail.line) == (
        call_params()["CallSid"],
        "+79161234567",
        "+78005553535",
    )
    with broken_app.extensions["ivr"].db.sessions() as session:
        [request] = session.scalars(select(Request)).all()
        assert (request.number, request.source) == (voicemail.request_number, "voicemail")
    # Its recording status callback (the URL of the fallback's <Record>) keeps that row.
    status = call_params(RecordingSid=SID, RecordingStatus="completed", RecordingDuration="7")
    assert phone.post("/voice/recording?purpose=voicemail&min=1", status).status_code == 204
    assert phone.post("/voice/recording?purpose=voicemail&min=1", status).status_code == 204
    [stored] = voicemails(broken_app)
    assert (stored.id, stored.request_number) == (voicemail.id, voicemail.request_number)
    assert stored.status == "stored"


def test_a_message_after_a_failed_first_turn_keeps_the_callers_number(
    phone: TwilioWebhooks, broken_app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first turn failed, so no call was stored; the message still says whom to call
    back, as the apology promised."""
    night(clock)
    break_calls(broken_app, monkeypatch, "incoming")
    assert body(phone, "/voice/incoming", call_params()) == CLOSED_ANSWER
    answer = body(
        phone, "/voice/fallback/recorded", call_params(RecordingSid=SID, RecordingDuration="9")
    )
    [voicemail] = voicemails(broken_app)
    assert answer == saved_answer(voicemail.request_number)
    assert (voicemail.call_sid, voicemail.caller, voicemail.line) == (
        call_params()["CallSid"],
        "+79161234567",
        "+78005553535",
    )
    with broken_app.extensions["ivr"].db.sessions() as session:
        request = session.get(Request, voicemail.request_number)
        assert request is not None
        assert (request.caller, request.line) == ("+79161234567", "+78005553535")


def test_the_status_callback_first_then_the_action_is_one_message(
    phone: TwilioWebhooks, broken_app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    night(clock)
    phone.post("/voice/incoming", call_params())
    status = call_params(RecordingSid=SID, RecordingStatus="completed", RecordingDuration="4")
    assert phone.post("/voice/recording?purpose=voicemail&min=1", status).status_code == 204
    [voicemail] = voicemails(broken_app)
    answer = body(
        phone, "/voice/fallback/recorded", call_params(RecordingSid=SID, RecordingDuration="4")
    )
    assert answer == saved_answer(voicemail.request_number)
    [same] = voicemails(broken_app)
    assert (same.id, same.status) == (voicemail.id, "stored")


@pytest.mark.parametrize(
    "fields",
    [
        {"RecordingSid": "RE12", "RecordingDuration": "7"},
        {"RecordingSid": "RE" + "G" * 32, "RecordingDuration": "7"},
        {"RecordingSid": "RE../../../etc/passwd", "RecordingDuration": "7"},
        {"RecordingUrl": "https://api.twilio.com/x", "RecordingDuration": "7"},
        {"RecordingSid": SID, "RecordingDuration": "0"},
        {"RecordingSid": SID, "RecordingDuration": "abc"},
        {"RecordingSid": SID, "RecordingDuration": "99999999999999999999"},
        {"RecordingSid": SID},
    ],
)
def test_a_message_that_did_not_record_saves_nothing(
    phone: TwilioWebhooks, broken_app: Flask, clock: Clock, fields: dict[str, str]
) -> None:
    night(clock)
    phone.post("/voice/incoming", call_params())
    answer = body(phone, "/voice/fallback/recorded", call_params(**fields))
    assert answer == HEAD + NOT_RECORDED + CHANNELS + "<Hangup /></Response>"
    assert voicemails(broken_app) == []
    with broken_app.extensions["ivr"].db.sessions() as session:
        assert session.scalars(select(Request)).all() == []


def test_the_message_action_needs_a_signature(broken_app: Flask) -> None:
    client = broken_app.test_client()
    fields = call_params(RecordingSid=SID, RecordingDuration="7")
    assert client.post("/voice/fallback/recorded", data=fields).status_code == 403
    assert voicemails(broken_app) == []
