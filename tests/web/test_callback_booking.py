"""Callback booking through signed webhooks: number, slot, capacity under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from ivr.store.models import Callback, CallbackSlot, Request
from ivr.web import create_app
from tests.conftest import Clock, TwilioWebhooks, call_params, make_settings


def to_offer(twilio: TwilioWebhooks, sid: str, caller: str) -> str:
    """After hours: menu → 2 (callback) → 1 (call me on this number) → the slot offer."""
    twilio.post("/voice/incoming", call_params(sid=sid, From=caller))
    confirm = twilio.post("/voice/step?turn=1", call_params(sid=sid, From=caller, Digits="2"))
    assert "Мы перезвоним на номер" in confirm.get_data(as_text=True)
    offer = twilio.post("/voice/step?turn=2", call_params(sid=sid, From=caller, Digits="1"))
    return offer.get_data(as_text=True)


def test_booking_confirms_number_offers_slot_and_tells_request(
    twilio: TwilioWebhooks, app: Flask, clock: Clock
) -> None:
    clock.set(2026, 11, 25, 22, 30)  # Wednesday evening: the line opens at 8:00
    sid = "CA" + "2" * 32
    twilio.post("/voice/incoming", call_params(sid=sid))
    confirm = twilio.post("/voice/step?turn=1", call_params(sid=sid, Digits="2"))
    assert (
        "Мы перезвоним на номер плюс семь, девятьсот шестнадцать, сто двадцать три, "
        "сорок пять, шестьдесят семь." in confirm.get_data(as_text=True)
    )
    offer = twilio.post("/voice/step?turn=2", call_params(sid=sid, Digits="1"))
    offered = (
        "Ближайшее свободное время — завтра с девяти до девяти пятнадцати по московскому времени."
    )
    assert offered in offer.get_data(as_text=True)
    booked = twilio.post("/voice/step?turn=3", call_params(sid=sid, Digits="1"))
    text = booked.get_data(as_text=True)
    assert (
        "Готово. Мы позвоним вам завтра с девяти до девяти пятнадцати по московскому времени. "
        "Номер обращения:" in text
    )
    # A short wait for ✱, which says the request number again; then goodbye.
    assert "Чтобы повторить номер обращения, нажмите звёздочку." in text
    again = twilio.post("/voice/step?turn=4", call_params(sid=sid, Digits="*"))
    assert "Готово. Мы позвоним вам завтра" in again.get_data(as_text=True)
    bye = twilio.post("/voice/step?turn=5&ev=timeout", call_params(sid=sid))
    assert bye.get_data(as_text=True).endswith("<Hangup /></Response>")
    with app.extensions["ivr"].db.sessions() as session:
        [callback] = session.scalars(select(Callback)).all()
        assert callback.phone == "+79161234567"
        assert callback.status == "booked"
        request = session.get(Request, callback.request_number)
        assert request is not None and request.source == "callback"


def test_another_number_is_validated_and_asked_again(twilio: TwilioWebhooks, clock: Clock) -> None:
    clock.set(2026, 11, 25, 22, 30)
    twilio.post("/voice/incoming", call_params())
    twilio.post("/voice/step?turn=1", call_params(Digits="2"))
    ask = twilio.post("/voice/step?turn=2", call_params(Digits="2")).get_data(as_text=True)
    assert 'finishOnKey="#"' in ask and "Введите номер" in ask
    bad = twilio.post("/voice/step?turn=3", call_params(Digits="81234#")).get_data(as_text=True)
    # What a number looks like, not «no such number».
    assert "Номер должен состоять из одиннадцати цифр и начинаться с восьмёрки." in bad
    keyed = twilio.post("/voice/step?turn=4", call_params(Digits="84951234567#"))
    # Read back in groups before it is used.
    assert (
        "Вы ввели номер плюс семь, четыреста девяносто пять, сто двадцать три, сорок пять, "
        "шестьдесят семь. Если верно, нажмите 1." in keyed.get_data(as_text=True)
    )
    good = twilio.post("/voice/step?turn=5", call_params(Digits="1"))
    assert "Ближайшее свободное время" in good.get_data(as_text=True)


def test_one_open_booking_per_number(twilio: TwilioWebhooks, clock: Clock) -> None:
    clock.set(2026, 11, 25, 22, 30)
    first = "CA" + "3" * 32
    to_offer(twilio, first, "+79160000001")
    twilio.post("/voice/step?turn=3", call_params(sid=first, From="+79160000001", Digits="1"))
    second = "CA" + "4" * 32
    again = to_offer(twilio, second, "+79160000001")
    assert (
        "У вас уже заказан обратный звонок: завтра с девяти до девяти пятнадцати "
        "по московскому времени." in again
    )


def test_fifty_simultaneous_bookings_of_a_slot_for_three_give_three(
    twilio: TwilioWebhooks, app: Flask, clock: Clock
) -> None:
    clock.set(2026, 11, 25, 22, 30)
    callers = [(f"CA{n:032d}", f"+7916{n:07d}") for n in range(50)]
    for sid, caller in callers:
        assert "завтра с девяти до девяти пятнадцати" in to_offer(twilio, sid, caller)

    def book(call: tuple[str, str]) -> str:
        sid, caller = call
        client = TwilioWebhooks(app.test_client())
        response = client.post("/voice/step?turn=3", call_params(sid=sid, From=caller, Digits="1"))
        return response.get_data(as_text=True)

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(book, callers))

    first, second = "с девяти до девяти пятнадцати", "с девяти пятнадцати до девяти тридцати"
    msk = "по московскому времени"
    booked = [a for a in answers if f"Готово. Мы позвоним вам завтра {first} {msk}." in a]
    moved_on = [a for a in answers if f"Ближайшее свободное время — завтра {second} {msk}." in a]
    assert len(booked) == 3
    assert len(moved_on) == 47
    with app.extensions["ivr"].db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Callback)) == 3
        [slot] = session.scalars(select(CallbackSlot)).all()
        assert slot.booked == 3


def test_no_callback_is_offered_on_a_public_holiday(twilio: TwilioWebhooks, clock: Clock) -> None:
    # Tuesday night before Unity Day (Wednesday 4 November): the line works short hours on
    # the holiday, but the dispatcher calls nobody then, so the offer is Thursday's.
    clock.set(2026, 11, 3, 22, 30)
    offer = to_offer(twilio, "CA" + "4" * 32, "+79161234567")
    assert (
        "Ближайшее свободное время — пятого ноября с девяти до девяти пятнадцати "
        "по московскому времени." in offer
    )


def test_calling_on_holidays_can_be_allowed(
    database_url: str, tmp_path: Path, clock: Clock
) -> None:
    settings = make_settings(database_url, tmp_path, calling_on_holidays=True)
    app = create_app(settings, clock=clock)
    clock.set(2026, 11, 3, 22, 30)
    offer = to_offer(TwilioWebhooks(app.test_client()), "CA" + "4" * 32, "+79161234567")
    assert (
        "Ближайшее свободное время — завтра с девяти до девяти пятнадцати по московскому времени."
        in offer
    )
    app.extensions["ivr"].db.dispose()
