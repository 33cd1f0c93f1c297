"""The line for callers abroad: a language choice, then everything in the chosen language.

English is checked by placing calls: a caller who chooses English walks every menu and every
node of the flow, and no Russian is ever spoken to them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.store.models import Call, Callback, Request
from tests.lines.conftest import (
    EN,
    HEAD,
    LINES,
    MAIN_MENU,
    NO_PASSWORDS,
    RECORDED,
    Phone,
    PhoneFactory,
    gather,
    gathers,
    path_of,
    say,
    spoken,
)
from tests.support.hints import MAIN_HINTS

ABROAD = LINES["abroad"][0]
FOREIGN = "+447700900123"
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
# An English caller is heard in English: the English keywords, then the operator words.
EN_HINTS = (
    "technical, not working, does not work, error, broken, website, blocked, account, access, "
    "service, document, status, request, application, application status, pay, payment, "
    "refund, money, fee, something else, other, password, sign in, log in, login, sms, "
    "text message, code, 500, 502, error 500, error 502, file, upload, complaint, complain, "
    "suggestion, overdue, chat, email, e mail, app, contact, operator, agent, person, human, "
    "specialist, representative, one, two, three, four, five, six, zero"
)
EN_MAIN_MENU = (
    "To speak to a specialist, press 0. Or choose a topic. For technical problems, "
    "press 1. For signing in or account access, press 2. For services and documents, "
    "press 3. For the status of a request, press 4. For payments and refunds, press 5. "
    "For complaints, suggestions or other ways to reach us, press 6. To repeat these "
    "options, press star."
)


def english(phone: PhoneFactory, caller: str = FOREIGN) -> Phone:
    call = phone(ABROAD, caller=caller)
    call.dial()
    call.press("2")
    return call


def imported_request(app: Flask, number: str, due_at: datetime, next_step: str = "") -> None:
    """A request in work, loaded from the back office on 2 November."""
    with app.extensions["ivr"].db.transaction() as session:
        session.add(
            Request(
                number=number,
                category="services",
                status="in_work",
                source="import",
                created_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
                due_at=due_at,
                next_step=next_step,
                caller="",
                line="",
                call_sid="",
            )
        )


def book_a_callback_in_english(phone: PhoneFactory) -> Phone:
    """An English caller asks for a person, leaves the queue and books the first slot."""
    booking = english(phone, caller="+79161234567")
    booking.press("0")
    booking.left_queue()
    booking.press("1")
    booking.press("1")
    return booking


def test_english_greeting_and_main_menu(phone: PhoneFactory) -> None:
    call = english(phone)
    assert call.last == (
        HEAD
        + say("This call is recorded to help us improve our service.", EN)
        + say(
            "Please remember: our staff will never ask for your password or for codes from "
            "text messages. Do not share them with anyone.",
            EN,
        )
        + gather(2, say(EN_MAIN_MENU, EN), hints=EN_HINTS, language="en-US")
        + "</Response>"
    )


def test_english_by_voice(phone: PhoneFactory) -> None:
    call = phone(ABROAD, caller=FOREIGN)
    call.dial()
    assert spoken(call.speak("English please"))[-1] == EN_MAIN_MENU


def test_russian_choice_gives_the_main_menu_in_russian(phone: PhoneFactory) -> None:
    call = phone(ABROAD, caller=FOREIGN)
    call.dial()
    assert call.press("1") == (
        HEAD
        + say(RECORDED)
        + say(NO_PASSWORDS)
        + gather(2, say(MAIN_MENU), hints=MAIN_HINTS)
        + "</Response>"
    )


def test_zero_at_the_language_choice_reaches_a_person(phone: PhoneFactory) -> None:
    call = phone(ABROAD, caller=FOREIGN)
    call.dial()
    assert call.press("0").endswith(">general</Enqueue></Response>")


# Each walk: the keys after choosing English, and what the waiting caller does.
WALKS: dict[str, list[tuple[str, str]]] = {
    "tech, sign in, wait, callback to a number keyed in": [
        ("press", "1"),
        ("press", "1"),
        ("wait", "0"),
        ("wait", "65"),
        ("queue_key", "1"),
        ("left", "leave"),
        ("press", "89161234567#"),
        ("press", "1"),
        ("press", "2"),
        ("press", "1"),
        # Silent while the request number is told (star would repeat it).
        ("silence", ""),
    ],
    "tech, errors": [("press", "1"), ("press", "2")],
    "tech, sms": [("press", "1"), ("press", "3")],
    "tech, upload": [("press", "1"), ("press", "4")],
    "tech, back, account": [("press", "1"), ("press", "9"), ("press", "2")],
    "services": [("press", "3")],
    "status: a wrong number, an unknown one, then a person": [
        ("press", "4"),
        ("press", "123#"),
        ("press", "12345678#"),
        ("press", "2"),
        ("press", "12345678#"),
        ("press", "1"),
    ],
    "payments": [("press", "5")],
    "more, complaints": [("press", "6"), ("press", "1")],
    "more, channels, wrong key, repeat, a person": [
        ("press", "6"),
        ("press", "2"),
        ("press", "7"),
        ("press", "*"),
        ("press", "0"),
    ],
    "silent all the way": [("silence", "")] * 4,
    "left a queue, cannot give a number": [
        ("press", "0"),
        ("left", "queue-full"),
        ("press", "123#"),
        ("silence", ""),
        ("silence", ""),
    ],
}


def walk(call: Phone, steps: list[tuple[str, str]]) -> list[str]:
    bodies = [call.last]
    for what, value in steps:
        if what == "press":
            bodies.append(call.press(value))
        elif what == "silence":
            bodies.append(call.silence())
        elif what == "wait":
            bodies.append(call.queue_wait(int(value)))
        elif what == "queue_key":
            bodies.append(call.queue_key(value, 70))
        else:
            bodies.append(call.left_queue(value))
    return bodies


@pytest.mark.parametrize("name", list(WALKS))
def test_no_russian_is_spoken_to_a_caller_who_chose_english(phone: PhoneFactory, name: str) -> None:
    call = english(phone)
    for body in walk(call, WALKS[name]):
        for text in spoken(body):
            assert not CYRILLIC.search(text), text
        assert 'language="ru-RU"' not in body
        for attrs in gathers(body):
            assert attrs["language"] == "en-US"


def test_english_walks_reach_every_node_of_the_abroad_flow(app: Flask, phone: PhoneFactory) -> None:
    sids = []
    for steps in WALKS.values():
        call = english(phone)
        walk(call, steps)
        sids.append(call.params["CallSid"])
    flow = app.extensions["ivr"].registry.current().flows["abroad"]
    with app.extensions["ivr"].db.sessions() as session:
        reached = {node for sid in sids for node in session.get(Call, sid).path}
    # The notices before a person are for a caller who chooses no language, or asks for a
    # person in English words before choosing (tests/scenarios/abroad.yaml and below): an
    # English walk, which begins with 2, never passes them.
    assert reached == set(flow.nodes) - {"notices_then_operator", "english_operator"}


def test_callback_times_are_given_in_moscow_time(phone: PhoneFactory) -> None:
    call = english(phone, caller="+79161234567")
    call.press("0")
    call.left_queue()
    assert spoken(call.last) == [
        "We will call you back on plus seven, nine one six, one two three, four five, six "
        "seven. If this number is correct, press 1. To give another number, press 2."
    ]
    assert spoken(call.press("1")) == [
        "The earliest free time is today between ten fifteen a.m. and ten thirty a.m. Moscow time. "
        "To book it, press 1. For a later time, press 2."
    ]


def test_status_of_an_existing_request_is_all_in_english(app: Flask, phone: PhoneFactory) -> None:
    book_a_callback_in_english(phone)
    with app.extensions["ivr"].db.sessions() as session:
        number = session.scalars(select(Request.number)).one()
    call = english(phone)
    call.press("4")
    call.press(f"{number}#")
    texts = spoken(call.press("1"))
    assert texts[0].startswith("Request ")
    assert "Please wait for a call from our specialist at the time you chose." in texts
    for text in texts:
        assert not CYRILLIC.search(text), text


@pytest.mark.parametrize(
    ("next_step", "heard"),
    [
        (
            "Дождитесь ответа специалиста в личном кабинете.",
            "The details of the next step are in your account on the portal, in Russian. "
            "To speak to a specialist, press 0 at the main menu.",
        ),
        ("Please upload a scan of your passport.", "Please upload a scan of your passport."),
    ],
    ids=["russian-text", "english-text"],
)
def test_a_back_office_next_step_is_said_only_in_the_callers_language(
    app: Flask, phone: PhoneFactory, next_step: str, heard: str
) -> None:
    imported_request(app, "5551234", datetime(2026, 11, 30, 15, 0, tzinfo=UTC), next_step)
    call = english(phone)
    call.press("4")
    call.press("5551234#")
    texts = spoken(call.press("1"))
    assert texts[:3] == [
        "Request five five five, one two, three four. Status: in progress.",
        "The answer is due by November thirtieth.",
        heard,
    ]


def test_an_english_caller_is_heard_in_english_and_waits_for_english_speaking_staff(
    app: Flask, phone: PhoneFactory
) -> None:
    call = english(phone)
    assert call.speak("I have a question about a refund").endswith(">english</Enqueue></Response>")
    assert path_of(app, call)[-1] == "to_payments"
    call = english(phone)
    assert spoken(call.speak("the site is not working"))[0].startswith("Technical problems.")
    call = english(phone)
    assert call.speak("my account is blocked").endswith(">english</Enqueue></Response>")
    assert path_of(app, call)[-2:] == ["tip_account", "to_account"]


@pytest.mark.parametrize(
    "words", ["operator", "Agent, please", "I want to talk to a person", "representative"]
)
def test_an_english_word_for_a_person_at_the_language_choice_is_all_in_english(
    app: Flask, phone: PhoneFactory, words: str
) -> None:
    call = phone(ABROAD, caller=FOREIGN)
    call.dial()
    answer = call.speak(words)
    assert answer.endswith(">english</Enqueue></Response>")
    texts = spoken(answer)
    assert texts[0].startswith("This call is recorded")
    assert "never ask for your password" in texts[1]
    for text in texts:
        assert not CYRILLIC.search(text), text
    assert path_of(app, call) == ["choose_language", "english_operator", "operator"]


def test_operator_in_russian_at_the_language_choice_stays_russian(
    app: Flask, phone: PhoneFactory
) -> None:
    call = phone(ABROAD, caller=FOREIGN)
    call.dial()
    assert call.speak("оператор").endswith(">general</Enqueue></Response>")
    assert path_of(app, call) == ["choose_language", "notices_then_operator", "operator"]


def test_a_russian_caller_on_the_same_line_is_not_heard_in_english(phone: PhoneFactory) -> None:
    call = phone(ABROAD, caller=FOREIGN)
    call.dial()
    call.press("1")
    answer = call.speak("refund")
    assert "</Enqueue>" not in answer
    assert spoken(answer)[0].startswith("Извините")
    # A Russian caller waits in the topic's own queue.
    assert call.speak("возврат денег").endswith(">payments</Enqueue></Response>")


def test_a_callback_booked_in_english_remembers_the_language(
    app: Flask, phone: PhoneFactory
) -> None:
    book_a_callback_in_english(phone)
    with app.extensions["ivr"].db.sessions() as session:
        assert session.scalars(select(Callback.lang)).all() == ["en"]


def test_an_overdue_request_hears_its_deadline_in_the_past_tense(
    app: Flask, phone: PhoneFactory
) -> None:
    # Due on 20 November; the call is on the 25th.
    imported_request(app, "5557777", datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    call = english(phone)
    call.press("4")
    call.press("5557777#")
    assert spoken(call.press("1")) == [
        "Request five five five, seven seven, seven seven. Status: in progress.",
        "The answer was due by November twentieth.",
        "We are sorry for the delay. If you would like a senior specialist to follow up on "
        "your request and call you back, press 1. To continue, press 2.",
    ]
