"""What the accessible lines and the queues do beyond the first turn: the text alternative,
the callback offered while waiting, the "one click" immediate callback."""

from __future__ import annotations

import re
from datetime import UTC

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.domain.schedule import MOSCOW
from ivr.store.models import Callback
from tests.conftest import Clock
from tests.lines.conftest import (
    CALLBACK_OFFER,
    CONNECTING,
    GOODBYE,
    HEAD,
    LINES,
    NAVIGATION_PREPARE,
    NO_PASSWORDS,
    PREPARE,
    QUEUE_TIP,
    QUEUE_WAIT,
    RECORDED,
    Phone,
    PhoneFactory,
    TextStub,
    enqueue,
    gathers,
    path_of,
    pause,
    say,
    slow,
    spoken,
)

SENT = "Мы отправили вам СМС."
CHANNELS_SMS = (
    "Госуслуги, поддержка. Чат на портале gosuslugi.ru, круглосуточно. Почта: "
    "support@gosuslugi.ru. Или приложение «Госуслуги». Сотрудники поддержки никогда не "
    "спрашивают пароли и коды из СМС."
)
CONFIRM_NUMBER = (
    "Мы перезвоним на номер плюс семь, девятьсот шестнадцать, сто двадцать три, сорок пять, "
    "шестьдесят семь. Если номер верный, нажмите 1. Чтобы указать другой номер, нажмите 2."
)

# The first free callback slot offered at 10:00 on a working day (after the booking lead time).
TODAY_10_15 = "сегодня с десяти пятнадцати до десяти тридцати по московскому времени"
REPEAT = "Чтобы повторить номер обращения, нажмите звёздочку."


def bookings(app: Flask) -> list[Callback]:
    with app.extensions["ivr"].db.sessions() as session:
        return list(session.scalars(select(Callback)).all())


# -- hard of hearing: the SMS first, a few words, then the TTY operators ----------------

HEARING_SMS = (
    "Госуслуги, поддержка. Чат на gosuslugi.ru — кнопка в правом нижнем углу страницы, "
    "круглосуточно. Почта: support@gosuslugi.ru. Статус обращения — в личном кабинете, "
    "раздел «Мои обращения». Сотрудники поддержки никогда не спрашивают пароли и коды из СМС."
)
NOT_SENT = (
    "К сожалению, отправить СМС не получилось. Напишите нам в чат на портале Госуслуги "
    "или на почту: суппорт собака госуслуги точка ру."
)
# After what became of the SMS: the safety notices, then the queue (its wait announcement
# says «оставайтесь на линии» the moment the caller is in it).
HEARING_TAIL = slow(RECORDED) + pause(1) + slow(NO_PASSWORDS) + enqueue(1, "tty") + "</Response>"


# The line names itself: the one sentence said before the SMS is told.
HELLO = "Здравствуйте! Это поддержка Госуслуг."


def test_hard_of_hearing_sends_the_sms_before_a_word_then_the_tty_queue(
    app: Flask, phone: PhoneFactory, sms: TextStub
) -> None:
    call = phone(LINES["hard_of_hearing"][0])
    body = call.dial()
    assert body == HEAD + slow(HELLO) + pause(1) + slow(SENT) + HEARING_TAIL
    assert "<Gather" not in body
    # The text alternative is where the call starts: nothing is said before it.
    assert path_of(app, call) == ["text", "notices", "to_tty_operator"]
    # The chat, the e-mail, where a request's status is followed, and never tell passwords
    # or codes; short enough for one message of a few parts.
    assert sms.texts == [HEARING_SMS]
    assert len(HEARING_SMS) < 300
    assert "http" not in HEARING_SMS


def test_hard_of_hearing_on_a_landline_hears_the_chat_address_twice(
    app: Flask, phone: PhoneFactory
) -> None:
    # The real messenger: no SMS can go to a landline, so the address is said instead,
    # slowly (the line's profile) and again after a pause.
    call = phone(LINES["hard_of_hearing"][0], caller="+74951234567")
    assert call.dial() == (
        HEAD
        + pause(1).join(
            slow(text)
            for text in (
                HELLO,
                "Напишите нам в чат на сайте госуслуги точка ру.",
                "Повторяю: госуслуги точка ру.",
            )
        )
        + HEARING_TAIL
    )
    assert path_of(app, call) == ["text", "notices", "to_tty_operator"]


def test_hard_of_hearing_mobile_caller_without_an_sms_sender_hears_it_did_not_go(
    phone: PhoneFactory,
) -> None:
    # Not configured in tests: a mobile number is told the SMS did not go, not the landline's
    # address.
    body = phone(LINES["hard_of_hearing"][0], caller="+79161234567").dial()
    assert body == HEAD + slow(HELLO) + pause(1) + slow(NOT_SENT) + HEARING_TAIL


def test_hard_of_hearing_waiting_hears_little(phone: PhoneFactory) -> None:
    call = phone(LINES["hard_of_hearing"][0])
    call.dial()
    assert call.queue_wait(45) == (
        HEAD + slow("Пожалуйста, оставайтесь на линии.") + '<Pause length="30" /></Response>'
    )


def test_hard_of_hearing_who_leaves_the_queue_gets_the_channels(phone: PhoneFactory) -> None:
    call = phone(LINES["hard_of_hearing"][0])
    call.dial()
    body = call.left_queue("queue-full")
    assert "суппорт собака госуслуги точка ру" in spoken(body)[0]
    assert body.endswith(slow(GOODBYE) + "<Hangup /></Response>")


# -- the general accessible line: status, callback, text alternative, a person -----------


def accessible(phone: PhoneFactory, caller: str = "+79161234567") -> Phone:
    call = phone(LINES["accessible"][0], caller=caller)
    call.dial()
    return call


def test_accessible_text_alternative_on_request_is_sent_at_once(
    phone: PhoneFactory, sms: TextStub
) -> None:
    call = accessible(phone)
    body = call.press("3")
    assert spoken(body)[0] == SENT
    # Back at the menu.
    assert spoken(body)[1].startswith("Чтобы поговорить со специалистом")
    assert sms.texts == [CHANNELS_SMS]


def test_accessible_text_alternative_by_voice(phone: PhoneFactory, sms: TextStub) -> None:
    assert spoken(accessible(phone).speak("пришлите эсэмэс"))[0] == SENT
    assert len(sms.texts) == 1


def test_accessible_text_alternative_to_a_landline_is_not_sent(phone: PhoneFactory) -> None:
    # The real messenger: no SMS to a landline (nor without a sender configured).
    body = accessible(phone, caller="+74951112233").press("3")
    assert spoken(body)[0] == (
        "К сожалению, отправить СМС не получилось. Напишите нам в чат на портале Госуслуги "
        "или на почту: суппорт собака госуслуги точка ру."
    )
    assert "<Gather" in body


def test_accessible_callback_then_the_request_number_by_sms(
    app: Flask, phone: PhoneFactory, sms: TextStub
) -> None:
    call = accessible(phone)
    assert spoken(call.press("2")) == [CONFIRM_NUMBER]
    assert gathers(call.last)[0]["timeout"] == "12"
    assert spoken(call.press("1")) == [
        "Ближайшее свободное время — сегодня с десяти пятнадцати до десяти тридцати "
        "по московскому времени. "
        "Чтобы записаться, нажмите 1. "
        "Чтобы выбрать более позднее время, нажмите 2."
    ]
    booked = spoken(call.press("1"))
    assert booked[0].startswith(f"Готово. Мы позвоним вам {TODAY_10_15}. Номер")
    # ✱ would say the number again; silent, the caller is offered it by SMS.
    assert booked[1:] == [REPEAT]
    assert spoken(call.silence()) == [
        "Чтобы получить номер обращения и ссылку на чат в СМС, нажмите 1."
    ]
    assert call.press("1") == HEAD + slow(SENT) + slow(GOODBYE) + "<Hangup /></Response>"
    (booking,) = bookings(app)
    assert sms.texts == [
        f"Госуслуги, поддержка. Номер обращения: {booking.request_number}. Чат на портале "
        "gosuslugi.ru, круглосуточно. Почта: support@gosuslugi.ru. Сотрудники поддержки "
        "никогда не спрашивают пароли и коды из СМС."
    ]


def test_accessible_callback_without_the_sms(phone: PhoneFactory, sms: TextStub) -> None:
    call = accessible(phone)
    call.press("2")
    call.press("1")
    call.press("1")
    call.silence()
    assert call.silence() == HEAD + slow(GOODBYE) + "<Hangup /></Response>"
    assert sms.texts == []


def test_accessible_status_self_service(phone: PhoneFactory) -> None:
    call = accessible(phone)
    body = call.press("1")
    assert spoken(body) == ["Введите, пожалуйста, номер обращения на клавиатуре и нажмите решётку."]
    assert gathers(body)[0]["timeout"] == "12"
    assert spoken(call.press("12345678#"))[0].startswith(
        "Номер сто двадцать три, четыреста пятьдесят шесть, семьдесят восемь."
    )


def test_accessible_zero_is_a_person_who_may_offer_a_callback(phone: PhoneFactory) -> None:
    call = accessible(phone)
    assert call.press("0") == HEAD + slow(CONNECTING) + enqueue(2, "accessible") + "</Response>"
    assert "<Gather" not in call.queue_wait(59)
    offer = call.queue_wait(60)
    assert spoken(offer)[-1] == CALLBACK_OFFER
    assert call.queue_key("1", 65) == HEAD + "<Leave /></Response>"
    assert spoken(call.left_queue()) == [CONFIRM_NUMBER]


# -- site navigation: straight to the specialists, a callback offered after two minutes --


def test_site_help_offers_a_callback_only_after_two_minutes(phone: PhoneFactory) -> None:
    call = phone(LINES["site_help"][0])
    call.dial()
    # Not «заняты» before the caller has waited at all.
    assert call.queue_wait(0) == (
        HEAD + say(NAVIGATION_PREPARE) + '<Pause length="20" /></Response>'
    )
    assert spoken(call.queue_wait(20)) == [QUEUE_WAIT]
    assert "<Gather" not in call.queue_wait(119)
    assert call.queue_wait(120) == (
        HEAD + '<Gather action="https://ivr.example.test/voice/queue/key?waited=120" input="dtmf" '
        'language="ru-RU" method="POST" '
        'numDigits="1" timeout="20">'
        + say(NAVIGATION_PREPARE)
        + say(CALLBACK_OFFER)
        + "</Gather></Response>"
    )
    # Another key keeps the caller waiting; 1 leaves the queue.
    assert "<Leave" not in call.queue_key("5", 125)
    assert call.queue_key("1", 125) == HEAD + "<Leave /></Response>"


def test_site_help_callback_is_booked_after_leaving_the_queue(
    app: Flask, phone: PhoneFactory
) -> None:
    call = phone(LINES["site_help"][0])
    call.dial()
    assert spoken(call.left_queue()) == [CONFIRM_NUMBER]
    call.press("1")
    done = call.press("1")
    assert spoken(done)[0].startswith(f"Готово. Мы позвоним вам {TODAY_10_15}.")
    assert spoken(done)[1:] == [REPEAT]
    assert call.silence().endswith(say(GOODBYE) + "<Hangup /></Response>")
    assert path_of(app, call) == ["greeting", "to_navigation", "callback", "bye"]
    (booking,) = bookings(app)
    assert booking.phone == "+79161234567"
    # The specialist who calls back is put through by the callback flow.
    assert booking.flow == "callback"


def test_site_help_caller_who_cannot_be_called_back_hears_the_channels(
    phone: PhoneFactory,
) -> None:
    call = phone(LINES["site_help"][0], caller="+447700900123")
    call.dial()
    call.left_queue()
    for _ in range(2):
        assert "<Gather" in call.press("123#")
    body = call.press("123#")
    assert "суппорт собака госуслуги точка ру" in body
    assert body.endswith(say(GOODBYE) + "<Hangup /></Response>")


# -- limited mobility: a person now, or an immediate callback when the wait is long ------


def test_one_click_holds_while_the_usual_wait_is_short(phone: PhoneFactory) -> None:
    call = phone(LINES["one_click"][0])
    call.dial()
    assert call.queue_wait(0, average=120) == (
        HEAD + say(PREPARE) + '<Pause length="20" /></Response>'
    )
    # No key to press, no offer to listen to.
    assert "<Gather" not in call.queue_wait(300, average=90)


def test_one_click_long_wait_books_an_immediate_callback_without_a_key(
    app: Flask, phone: PhoneFactory, clock: Clock
) -> None:
    call = phone(LINES["one_click"][0], caller="+79031112233")
    call.dial()
    assert call.queue_wait(0, average=121) == HEAD + "<Leave /></Response>"
    body = call.left_queue()
    (booking,) = bookings(app)
    number = booking.request_number
    assert spoken(body) == [
        "Все специалисты сейчас заняты, поэтому мы сами вам перезвоним.",
        f"Специалист позвонит вам в ближайшие 15 минут. Номер обращения: {_words(number)}.",
        REPEAT,
    ]
    # Nothing to press: ✱ only says the number again, silence says goodbye.
    assert call.silence() == HEAD + say(GOODBYE) + "<Hangup /></Response>"
    assert booking.phone == "+79031112233"
    assert booking.priority == 1
    start = booking.slot_start.replace(tzinfo=booking.slot_start.tzinfo or UTC)
    assert start.astimezone(MOSCOW) == clock.moment


def _words(number: str) -> str:
    from ivr.domain.spoken import digits_in_groups

    return digits_in_groups(number, "ru")


def test_one_click_caller_without_a_callable_number_waits_for_a_person_after_all(
    app: Flask, phone: PhoneFactory
) -> None:
    call = phone(LINES["one_click"][0], caller="+447700900123")
    call.dial()
    call.left_queue()
    assert spoken(call.last)[1].startswith("Введите номер мобильного или городского телефона")
    call.silence()
    call.silence()
    assert call.silence() == (
        HEAD + say("Обратный звонок не заказан.") + enqueue(5, "mobility") + "</Response>"
    )
    # This time without a limit on the wait.
    assert "<Leave" not in call.queue_wait(0, average=900)
    assert path_of(app, call)[-2:] == ["callback", "hold"]


# -- the main line and the regional centres: a callback instead of holding ---------------


@pytest.mark.parametrize("line", ["main", "moscow", "spb", "abroad"])
def test_topic_queues_offer_a_callback_after_a_minute(phone: PhoneFactory, line: str) -> None:
    call = phone(LINES[line][0])
    call.dial()
    if line == "abroad":
        call.press("1")
    call.press("3")
    assert "<Gather" not in call.queue_wait(21)
    assert "<Gather" not in call.queue_wait(59)
    offer = call.queue_wait(60)
    if line != "abroad":
        assert offer == (
            HEAD + '<Gather action="https://ivr.example.test/voice/queue/key?waited=60" '
            'input="dtmf" '
            'language="ru-RU" method="POST" '
            'numDigits="1" timeout="20">'
            + say(QUEUE_TIP)
            + say(CALLBACK_OFFER)
            + "</Gather></Response>"
        )
    assert call.queue_key("1", 65) == HEAD + "<Leave /></Response>"


def test_main_line_queue_callback_books_the_next_slot(app: Flask, phone: PhoneFactory) -> None:
    call = phone(LINES["main"][0])
    call.dial()
    call.press("5")
    call.queue_key("1", 70)
    assert spoken(call.left_queue()) == [CONFIRM_NUMBER]
    assert spoken(call.press("1")) == [
        "Ближайшее свободное время — сегодня с десяти пятнадцати до десяти тридцати "
        "по московскому времени. "
        "Чтобы записаться, нажмите 1. "
        "Чтобы выбрать более позднее время, нажмите 2."
    ]
    done = call.press("1")
    assert re.match(
        rf"Готово\. Мы позвоним вам {TODAY_10_15}\. Номер обращения: [а-я ,]+\.$",
        spoken(done)[0],
    )
    assert spoken(done)[1:] == [REPEAT]
    assert call.silence().endswith(say(GOODBYE) + "<Hangup /></Response>")
    assert path_of(app, call) == [
        "greeting",
        "hours",
        "main_menu",
        "to_payments",
        "queue_callback",
        "callback_bye",
    ]


def test_main_line_queue_callback_near_closing_is_booked_for_the_next_morning(
    phone: PhoneFactory, clock: Clock
) -> None:
    clock.set(2026, 11, 25, 19, 50)
    call = phone(LINES["main"][0])
    call.dial()
    call.press("0")
    call.left_queue()
    assert spoken(call.press("1"))[0].startswith(
        "Ближайшее свободное время — завтра с девяти до девяти пятнадцати по московскому времени."
    )
