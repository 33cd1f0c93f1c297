"""Webhook tests: signed requests through the whole app, whole TwiML documents compared."""

from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import select

from ivr.config import Settings
from ivr.store.models import Call, FlowVersion
from ivr.web import create_app
from tests.conftest import Clock, TwilioWebhooks, call_params

VOICE = 'language="ru-RU" voice="Polly.Tatyana"'


def say(text: str) -> str:
    return f"<Say {VOICE}>{text}</Say>"


GREETING = (
    say("Здравствуйте! Вы позвонили в службу поддержки портала Госуслуги.")
    + say("Разговор записывается, чтобы мы могли улучшать качество помощи.")
    + say(
        "Помните: наши сотрудники никогда не спрашивают пароли и коды из СМС. "
        "Никому их не сообщайте."
    )
)
HEAD = '<?xml version="1.0" encoding="UTF-8"?><Response>'


def test_after_hours_call_hears_next_opening_and_the_options(
    twilio: TwilioWebhooks, clock: Clock
) -> None:
    clock.set(2026, 11, 25, 22, 30)
    response = twilio.post("/voice/incoming", call_params())
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True) == (
        HEAD
        + GREETING
        + say("Сейчас линия закрыта. Мы откроемся завтра в восемь часов по московскому времени.")
        + '<Gather action="https://ivr.example.test/voice/step?turn=1" hints="сообщение, '
        "голосовое сообщение, оставить сообщение, записать, перезвонить, обратный звонок, "
        "звонок, статус, обращение, заявка, чат, почта, приложение, связь, способ связи, "
        "оператор, специалист, сотрудник, консультант, человек, один, два, три, четыре, "
        'ноль" input="dtmf speech" language="ru-RU" method="POST" '
        'numDigits="1" speechTimeout="auto" timeout="6">'
        + say(
            "Оставить голосовое сообщение — нажмите 1. Заказать обратный звонок в рабочее "
            "время — 2. Узнать статус обращения — 3. Другие способы связи — 4. "
            "Повторить — звёздочка."
        )
        + "</Gather><Redirect "
        'method="POST">https://ivr.example.test/voice/step?turn=1&amp;ev=timeout</Redirect>'
        "</Response>"
    )


def test_after_hours_silence_ends_with_channels_and_goodbye(
    twilio: TwilioWebhooks, clock: Clock
) -> None:
    clock.set(2026, 11, 25, 22, 30)
    twilio.post("/voice/incoming", call_params())
    body = twilio.post("/voice/step?turn=1&ev=timeout", call_params())
    assert "<Gather" in body.get_data(as_text=True)
    last = twilio.post("/voice/step?turn=2&ev=timeout", call_params()).get_data(as_text=True)
    # The first silence switched the call to the slow profile: the goodbye is slower too.
    assert last.endswith(
        f'<Say {VOICE}><prosody rate="80%">Спасибо за звонок. До свидания!</prosody></Say>'
        "<Hangup /></Response>"
    )
    assert "суппорт собака госуслуги точка ру" in last


def test_forged_or_missing_signature_is_refused_and_nothing_runs(
    twilio: TwilioWebhooks, app: Flask
) -> None:
    forged = twilio.post("/voice/incoming", call_params(), signature="bm90IGEgc2lnbmF0dXJl")
    missing = twilio.client.post("/voice/incoming", data=call_params())
    assert forged.status_code == 403
    assert missing.status_code == 403
    with app.extensions["ivr"].db.sessions() as session:
        assert session.scalars(select(Call)).all() == []


def test_signature_over_other_params_is_refused(twilio: TwilioWebhooks) -> None:
    genuine = twilio.validator.compute_signature(
        "https://ivr.example.test/voice/incoming", call_params(From="+79990000000")
    )
    assert twilio.post("/voice/incoming", call_params(), signature=genuine).status_code == 403


def test_menu_turns_and_retry_of_a_turn_is_not_advanced_twice(
    twilio: TwilioWebhooks, app: Flask
) -> None:
    first = twilio.post("/voice/incoming", call_params())
    assert 'action="https://ivr.example.test/voice/step?turn=1"' in first.get_data(as_text=True)
    tech = twilio.post("/voice/step?turn=1", call_params(Digits="1"))
    again = twilio.post("/voice/step?turn=1", call_params(Digits="1"))
    assert tech.get_data(as_text=True) == again.get_data(as_text=True)
    assert 'action="https://ivr.example.test/voice/step?turn=2"' in tech.get_data(as_text=True)
    queued = twilio.post("/voice/step?turn=2", call_params(Digits="3"))
    body = queued.get_data(as_text=True)
    assert body.endswith(
        say("Пожалуйста, оставайтесь на линии.")
        + '<Enqueue action="https://ivr.example.test/voice/step?turn=3" method="POST" '
        'waitUrl="https://ivr.example.test/voice/queue/wait" '
        'waitUrlMethod="POST">tech</Enqueue></Response>'
    )
    with app.extensions["ivr"].db.sessions() as session:
        call = session.get(Call, call_params()["CallSid"])
        assert call is not None
        assert call.turn == 3
        assert call.path == ["greeting", "hours", "main_menu", "tech_menu", "tip_sms", "to_tech"]
        assert [i["value"] for i in call.inputs] == ["1", "3"]
        assert session.scalars(select(FlowVersion.name)).all() == ["hotline"]


def test_incoming_delivered_twice_creates_one_call(twilio: TwilioWebhooks, app: Flask) -> None:
    one = twilio.post("/voice/incoming", call_params())
    two = twilio.post("/voice/incoming", call_params())
    assert one.get_data() == two.get_data()
    with app.extensions["ivr"].db.sessions() as session:
        assert len(session.scalars(select(Call)).all()) == 1


def test_unknown_number_is_told_politely_and_hung_up(twilio: TwilioWebhooks) -> None:
    response = twilio.post("/voice/incoming", call_params(To="+74950000000"))
    assert response.get_data(as_text=True) == (
        HEAD
        + say(
            "Здравствуйте! К сожалению, этот номер не обслуживается. "
            "Позвоните, пожалуйста, по номеру 8 800 555 35 35. До свидания!"
        )
        + "<Hangup /></Response>"
    )


def test_number_in_national_form_reaches_its_flow(twilio: TwilioWebhooks) -> None:
    response = twilio.post("/voice/incoming", call_params(To="88005553535"))
    assert "Госуслуги" in response.get_data(as_text=True)


def test_step_for_unknown_call_apologises_with_twiml(twilio: TwilioWebhooks) -> None:
    response = twilio.post("/voice/step?turn=1", call_params(sid="CA" + "9" * 32, Digits="1"))
    assert response.status_code == 200
    assert response.get_data(as_text=True) == (
        HEAD
        + say(
            "Извините, у нас техническая неполадка. Соединяю вас со специалистом, "
            "пожалуйста, оставайтесь на линии."
        )
        + "<Enqueue>general</Enqueue></Response>"
    )


def test_the_second_silence_in_a_row_reaches_a_person(twilio: TwilioWebhooks) -> None:
    twilio.post("/voice/incoming", call_params())
    bodies = [
        twilio.post(f"/voice/step?turn={turn}&ev=timeout", call_params()).get_data(as_text=True)
        for turn in (1, 2)
    ]
    assert bodies[0].count("Извините, я вас не слышу.") == 1
    assert "<Gather" in bodies[0]
    assert ">general</Enqueue>" in bodies[1]


def test_queue_wait_rotates_announcements(twilio: TwilioWebhooks) -> None:
    twilio.post("/voice/incoming", call_params())
    twilio.post("/voice/step?turn=1", call_params(Digits="0"))
    first = twilio.post("/voice/queue/wait", call_params(QueueTime="0", QueuePosition="2"))
    later = twilio.post("/voice/queue/wait", call_params(QueueTime="21", QueuePosition="1"))
    # The caller has not waited yet: a tip first, «заняты» only once they have.
    assert first.get_data(as_text=True) == (
        HEAD
        + say(
            "Пока вы ждёте: многие вопросы можно решить в чате на портале Госуслуги. "
            "Чат работает круглосуточно."
        )
        + '<Pause length="20" /></Response>'
    )
    assert "Все специалисты сейчас заняты" in later.get_data(as_text=True)


def test_status_callback_records_the_end(twilio: TwilioWebhooks, app: Flask) -> None:
    twilio.post("/voice/incoming", call_params())
    response = twilio.post("/voice/status", call_params(CallStatus="completed", CallDuration="73"))
    assert response.status_code == 204
    with app.extensions["ivr"].db.sessions() as session:
        call = session.get(Call, call_params()["CallSid"])
        assert call is not None
        assert (call.status, call.duration) == ("completed", 73)
        assert call.ended_at is not None


def test_healthz(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True
    assert body["database"] == "ok"
    assert set(body["flows"]) == {
        "hotline",
        "callback",
        "abroad",
        "accessible",
        "hard_of_hearing",
        "site_help",
        "one_click",
        "regional",
    }
    assert body["lines"] == 8


def test_another_worker_finishes_a_call_from_the_stored_flow_snapshot(
    settings: Settings, clock: Clock
) -> None:
    """A worker that never loaded the call's flow version reads it from the database, even
    while its own turn holds the write lock (SQLite), and answers at once."""
    first, second = create_app(settings, clock=clock), create_app(settings, clock=clock)
    TwilioWebhooks(first.test_client()).post("/voice/incoming", call_params())
    second.extensions["ivr"].registry._versions.clear()
    started = time.monotonic()
    body = TwilioWebhooks(second.test_client()).post("/voice/step?turn=1", call_params(Digits="1"))
    assert time.monotonic() - started < 5
    assert "Технические проблемы." in body.get_data(as_text=True)
    for app in (first, second):
        app.extensions["ivr"].db.dispose()
